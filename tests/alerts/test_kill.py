"""The exit worker (a real ``python -m dashboard.trading.exit_worker`` process) and an
in-process monitor with its alert engine, at once, on one journal and one webhook; the
worker is killed (SIGKILL) mid-path and the in-process monitor finishes the trade. Every
alert is recorded once, whichever process raised it, and delivered at least once: only the
request in flight at the kill may arrive twice, under the same Idempotency-Key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from dashboard.alerts.engine import AlertEngine
from dashboard.alerts.kinds import parse_rules_off
from dashboard.alerts.store import AlertStore
from dashboard.alerts.webhooks import WebhookDelivery
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.exit_monitor import LEASE_NAME, ExitMonitor
from dashboard.trading.journal import Journal, TradeStatus
from dashboard.trading.orders import place_entry
from tests.alerts._receiver import webhook_receiver
from tests.alerts._sim import UNDERLYING, sim_ticket
from tests.conftest import settings_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def wait_for(what: str, cond: Callable[[], bool], timeout: float, log: Path) -> None:
    """Poll a condition (the processes run on their own clocks; this only bounds a hang)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen; worker log:\n{log.read_text(errors='replace')[-3000:]}")


def test_killing_the_worker_mid_path_beside_an_in_process_monitor(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    fresh_sim.advance_to_open()
    fresh_sim.advance(30)
    db = tmp_path / "journal.sqlite"
    url = f"sqlite:///{db}"
    settings: Settings = settings_for(fresh_sim, tmp_path / "web").with_overrides(
        cache_ttl_seconds=0.0,
        watchlist=(UNDERLYING,),
        # System alerts (a heartbeat lost while the lease moves) depend on the machine's
        # speed; this test is about the trade's alerts.
        alert_rules_off=parse_rules_off(["signal", "risk", "system"]),
    )
    journal = Journal(url)
    data = AsyncDataService.from_settings(settings)
    log = tmp_path / "worker.log"
    with webhook_receiver() as hook:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DASHBOARD_", "APCA_", "ALPACA_", "DATABASE_", "REDIS_"))
        }
        env.update(
            {
                "DASHBOARD_SIMULATOR_URL": fresh_sim.url,
                "DATABASE_URL": url,
                "DASHBOARD_DATA_DIR": str(tmp_path / "worker"),
                "DASHBOARD_REFRESH_SECONDS": "3",
                "DASHBOARD_WATCHLIST": UNDERLYING,
                "DASHBOARD_ALERT_OFF": "signal,risk,system",
                "DASHBOARD_ALERT_WEBHOOK_URL": hook.url,
                "DASHBOARD_READ_DEADLINE_SECONDS": "30",
            }
        )
        (tmp_path / "worker").mkdir()
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "dashboard.trading.exit_worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        store = AlertStore.of(journal)
        delivery = WebhookDelivery(
            store, SecretStr(hook.url), "json", mode="paper", per_minute=100, poll_seconds=0.5
        )
        engine = AlertEngine(data, journal, settings, store=store, delivery=delivery)
        monitor = ExitMonitor(data, journal, interval=1, pass_hooks=[engine.on_pass])
        try:
            wait_for(
                "the worker holding the lease",
                lambda: f":{worker.pid}:" in (journal.lease_holder(LEASE_NAME) or ""),
                240,
                log,
            )
            engine.start(watch=False)
            monitor.start()  # both monitors pass from now on; the worker leads
            res = run_async(
                place_entry(
                    data,
                    journal,
                    sim_ticket(data, "long", entry=-2.5, target=-0.5, stop=-4.5),
                    request_key="k",
                )
            )
            assert res.ok and res.trade is not None
            tid = res.trade.id
            first = f"trade:{tid}:exit:1:sent"

            def worker_delivered() -> bool:
                a = store.by_key(first)
                return a is not None and a.delivery_status == "sent"

            wait_for("the worker's first alerts delivered", worker_delivered, 240, log)
            worker.send_signal(signal.SIGKILL)  # no release, no goodbye
            worker.wait(30)

            def finished() -> bool:
                t = journal.get(tid)
                rows = store.history(limit=100)
                return (
                    t is not None
                    and t.status is TradeStatus.CLOSED
                    and store.by_key(f"trade:{tid}:exit_filled") is not None
                    and all(a.delivery_status == "sent" for a in rows)
                )

            wait_for("the in-process monitor finishing the trade", finished, 240, log)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(30)
            monitor.stop()
            engine.stop()
            data.close_sync()

    rows = store.history(limit=100)
    by_kind = sorted(a.kind.value for a in rows)
    assert by_kind == sorted(
        ["trade.entry_filled", "trade.t1_reached", "trade.exit_sent", "trade.exit_filled"]
    ), [a.key for a in rows]
    # At least once: the kill can land between the receiver's 200 and the worker's record of
    # it, so the one request then in flight may arrive twice, under the same Idempotency-Key.
    delivered = Counter(hook.keys())
    assert set(delivered) == {a.key for a in rows}
    assert sum(delivered.values()) - len(delivered) <= 1, delivered
    with hook.lock:
        assert all(
            r.headers["Idempotency-Key"] == r.body["alerts"][0]["key"] for r in hook.received
        )
    raised_by = {a.key: a for a in rows}
    assert raised_by[f"trade:{tid}:exit_filled"].values["reason"] == "target"
    assert "alert trade.exit_sent" in log.read_text()  # the worker raised the first ones
    journal.close()
