"""The regime service against the real simulator: background fit, per-day disk cache."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from dashboard import regime_service as rs
from dashboard.analytics.regime import Regime
from dashboard.regime_service import (
    DailyJobCache,
    RegimeService,
    completed_sessions,
    install_regime_service,
)
from dashboard.services import Services, build_services
from dashboard.simulator.testing import SimulatorHandle
from tests._procs import children, cmdline, wait_for, wait_until_gone
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def services(sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = build_services(settings_for(sim, tmp_path_factory.mktemp("regime")))
    yield svc
    svc.close()


def test_fit_covers_history_and_feeds_the_badge(services: Services) -> None:
    regime = install_regime_service(services)
    assert services.extras["regime_provider"] == regime.current_regime
    snap = regime.wait(timeout=180)
    assert snap.status == "ready" and snap.error is None
    fit = snap.fit
    assert fit is not None and fit.symbol == "SPY"
    r = fit.result
    # at least 10 years of closes, labels from the end of warm-up + training to the last close
    assert (fit.close.index[-1] - fit.close.index[0]).days >= 3650
    assert r.dates[-1] == fit.close.index[-1]
    assert len(r.labels) == len(r.dates) > 2500
    assert set(r.dates) <= set(fit.close.index)
    assert r.dates.is_monotonic_increasing
    assert set(r.labels) <= set(Regime)
    assert fit.vix is not None and len(fit.vix) == len(fit.close)  # VIX override is on
    label, as_of = services.current_regime() or ("", None)
    assert label == str(r.labels[-1]) and label in {str(x) for x in Regime}
    assert as_of == r.dates[-1].to_pydatetime()
    assert install_regime_service(services) is regime  # idempotent


def test_second_service_reads_the_day_cache(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = install_regime_service(services).wait(timeout=180).fit
    assert first is not None

    def no_fit(*_a: object, **_k: object) -> None:
        raise AssertionError("fit_regimes must not run on a cache hit")

    monkeypatch.setattr(rs, "fit_off_process", no_fit)
    other = RegimeService(services.data, services.settings.data_dir)
    try:
        snap = other.wait(timeout=60)
        assert snap.status == "ready", snap.error
        assert snap.fit is not None
        assert snap.fit.day == first.day
        assert snap.fit.result.labels == first.result.labels
        assert snap.fit.fitted_at == first.fitted_at  # the stored fit, not a new one
    finally:
        other.close()


def test_fit_pickles_round_trip(services: Services) -> None:
    fit = install_regime_service(services).wait(timeout=180).fit
    assert fit is not None
    back = pickle.loads(pickle.dumps(fit))
    assert back.result.labels == fit.result.labels
    assert dict(back.result.thresholds) == dict(fit.result.thresholds)
    pd.testing.assert_series_equal(back.close, fit.close)


def test_completed_sessions_drops_the_running_day() -> None:
    idx = pd.DatetimeIndex(
        ["2024-03-04 05:00", "2024-03-05 05:00", "2024-03-06 05:00"], tz="UTC", name="timestamp"
    )
    bars = pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=idx)
    during = datetime(2024, 3, 6, 15, 0, tzinfo=UTC)  # 10:00 New York, market open
    assert list(completed_sessions(bars, during, True)["close"]) == [1.0, 2.0]
    after = datetime(2024, 3, 6, 22, 0, tzinfo=UTC)  # 17:00 New York, closed
    assert list(completed_sessions(bars, after, False)["close"]) == [1.0, 2.0, 3.0]


def test_daily_job_cache_computes_once_and_shares_on_disk(tmp_path: Path) -> None:
    calls: list[int] = []

    def work() -> dict[str, int]:
        calls.append(1)
        return {"answer": 42}

    jobs = DailyJobCache(tmp_path)
    assert jobs.get("k:2024-01-02", work).status in ("pending", "ready")
    done = jobs.wait("k:2024-01-02", timeout=10)
    assert done is not None and done.status == "ready" and done.value == {"answer": 42}
    assert jobs.get("k:2024-01-02", work).value == {"answer": 42}
    jobs.close()

    def boom() -> dict[str, int]:
        raise AssertionError("must come from disk")

    again = DailyJobCache(tmp_path)
    again.get("k:2024-01-02", boom)
    hit = again.wait("k:2024-01-02", timeout=10)
    assert hit is not None and hit.value == {"answer": 42}
    assert calls == [1]

    def fails() -> int:
        raise ValueError("no bars")

    again.get("bad", fails)
    err = again.wait("bad", timeout=10)
    assert err is not None and err.status == "error" and "no bars" in (err.error or "")
    assert again.get("bad", fails).status == "error"  # not retried at once
    again.close()


# ---- the compute process never outlives its parent -------------------------------------------

_PARENT = """
import sys, threading
from dashboard.regime_service import compute_off_process
from tests._procs import touch_then_sleep
threading.Thread(
    target=compute_off_process, args=(touch_then_sleep, sys.argv[1], 600), daemon=True
).start()
threading.Event().wait()
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_compute_process_and_resource_tracker_exit_with_their_parent(
    tmp_path: Path, sig: signal.Signals
) -> None:
    marker = tmp_path / "task-running"
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(marker)], cwd=Path(__file__).resolve().parents[1]
    )
    started: list[int] = []
    try:
        assert wait_for(marker.exists, 180), "the compute task never started"
        started = children(parent.pid)
        kinds = " ".join(cmdline(p) for p in started)
        assert "spawn_main" in kinds and "resource_tracker" in kinds, kinds
        os.kill(parent.pid, sig)  # mid-task, no chance to shut the pool down
        parent.wait(30)
        assert wait_until_gone(started, 30) == [], [cmdline(p) for p in started]
    finally:
        for pid in [parent.pid, *started]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a failed run leaves no orphans either
        parent.wait(10)
