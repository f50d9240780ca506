"""The regime service against the real simulator: background fit, per-day disk cache."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard import regime_service as rs
from dashboard.analytics.regime import Regime
from dashboard.regime_service import RegimeService, completed_sessions
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def services(sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = build_services(settings_for(sim, tmp_path_factory.mktemp("regime")))
    yield svc
    svc.close()


def test_fit_covers_history_and_feeds_the_badge(services: Services) -> None:
    regime = services.regime
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


def test_second_service_reads_the_day_cache(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = services.regime.wait(timeout=180).fit
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
    fit = services.regime.wait(timeout=180).fit
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
