"""The alert engine in the trade monitor's passes, against the simulator over real HTTP,
with the journal on SQLite and a real Postgres and a webhook receiver on loopback.

A scripted path, long and short: the entry fills with the price already inside 25% of
the entry-to-stop distance (near the stop) and within the expiry window; the trader then
tightens the stop through the price, and the monitor stops the trade out. Each event is
recorded and delivered exactly once, through a restart of the monitor mid-path and with
a second process's monitor, engine and webhook delivery running at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

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
from dashboard.trading.exit_monitor import ExitMonitor
from dashboard.trading.journal import Journal, TradeStatus
from dashboard.trading.orders import place_entry
from tests.alerts._receiver import Receiver, webhook_receiver
from tests.alerts._sim import UNDERLYING, sim_ticket, spot

pytestmark = pytest.mark.slow


@pytest.fixture
def env(
    fresh_sim: SimulatorHandle, fresh_settings: Settings, journal_url: str
) -> Iterator[tuple[SimulatorHandle, Settings, AsyncDataService, str]]:
    fresh_sim.advance_to_open()
    fresh_sim.advance(30)
    settings = fresh_settings.with_overrides(
        cache_ttl_seconds=0.0,
        watchlist=(UNDERLYING,),
        alert_expiry_days=60,  # the path's ~2-week contract is "near expiry"
        alert_rules_off=parse_rules_off(["risk"]),  # the sim account's day P&L is its own
    )
    data = AsyncDataService.from_settings(settings)
    yield fresh_sim, settings, data, journal_url
    data.close_sync()


class Process:
    """One process's share: its journal connection, engine, monitor and webhook."""

    def __init__(
        self, name: str, settings: Settings, data: AsyncDataService, url: str, hook: Receiver
    ) -> None:
        self.journal = Journal(url)
        self.store = AlertStore.of(self.journal)
        self.delivery = WebhookDelivery(
            self.store, SecretStr(hook.url), "json", mode="paper", per_minute=100, holder=name
        )
        self.engine = AlertEngine(
            data, self.journal, settings, store=self.store, delivery=self.delivery
        )
        self.monitor = ExitMonitor(
            data, self.journal, holder=name, interval=5, pass_hooks=[self.engine.on_pass]
        )

    def close(self) -> None:
        self.delivery.stop()
        self.journal.close()


@pytest.mark.parametrize("direction", ["long", "short"])
def test_a_stop_out_path_alerts_each_event_once_through_a_restart_and_two_processes(
    env: tuple[SimulatorHandle, Settings, AsyncDataService, str], direction: str
) -> None:
    sim, settings, data, url = env
    with webhook_receiver() as hook:
        a = Process("A", settings, data, url, hook)
        b = Process("B", settings, data, url, hook)
        # Entry 2.00 beyond the price, stop 0.40 behind it: 0.4 / 2.4 = 17% of the distance left.
        t = sim_ticket(data, direction, entry=2.0, target=4.0, stop=-0.4, signal_id=direction)
        res = run_async(place_entry(data, a.journal, t, request_key=f"alerts-{direction}"))
        assert res.ok and res.trade is not None and res.trade.status is TradeStatus.OPEN
        tid = res.trade.id

        # Pass 1 by A (leader); B's monitor at the same time is not, so its hook stays idle.
        pa = run_async(a.monitor.run_once(), timeout=120)
        pb = run_async(b.monitor.run_once(), timeout=120)
        assert pa.leader and not pb.leader and pa.decisions == ()
        assert a.engine.last_pass is not None and b.engine.last_pass is None
        first = sorted(x.key for x in a.engine.last_pass.recorded if x.key.startswith("trade:"))
        assert first == sorted(
            [f"trade:{tid}:entry_filled", f"trade:{tid}:near_stop", f"trade:{tid}:near_expiry"]
        )
        # Both processes deliver at once: each alert is claimed and posted by one of them.
        a.delivery.run_once()
        b.delivery.run_once()
        near = a.store.by_key(f"trade:{tid}:near_stop")
        assert near is not None and near.at == a.engine.last_pass.broker_at
        assert 0 < float(near.values["left_pct"]) <= 25  # type: ignore[arg-type]

        # A restarts: its process dies mid-path (nothing released) and comes back as A2,
        # which takes the lease once A's lapses. B evaluates the same pass too.
        a.close()
        a2 = Process("A2", settings, data, url, hook)
        assert a2.engine.last_pass is None
        lapse = pa.at + timedelta(seconds=a.monitor.lease_seconds + 1)
        again = run_async(a2.monitor.run_once(lapse), timeout=120)
        assert again.leader and again.decisions == ()
        assert a2.engine.last_pass is not None and a2.engine.last_pass.recorded == ()
        assert run_async(b.engine.on_pass(again), timeout=120).recorded == ()

        # The trader tightens the stop through the price: the next pass stops it out.
        p = spot(data)
        sign = 1 if direction == "long" else -1
        a2.journal.update_levels(tid, stop=round(p + sign * 0.5, 2))
        sim.advance(1)
        out = run_async(a2.monitor.run_once(lapse + timedelta(seconds=5)), timeout=120)
        assert [d.reason for d in out.decisions] == ["stop"]
        b.delivery.run_once()
        closing = run_async(a2.monitor.run_once(lapse + timedelta(seconds=10)), timeout=120)
        assert closing.leader
        run_async(b.engine.on_pass(closing), timeout=120)  # the second evaluator again
        trade = a2.journal.get(tid)
        assert trade is not None and trade.status is TradeStatus.CLOSED
        a2.delivery.run_once()
        b.delivery.run_once()

        rows = {x.key: x for x in a2.store.history(limit=100)}
        trade_keys = sorted(k for k in rows if k.startswith("trade:"))
        assert trade_keys == sorted(
            f"trade:{tid}:{step}"
            for step in ("entry_filled", "near_stop", "near_expiry", "exit:1:sent", "exit_filled")
        )
        filled = rows[f"trade:{tid}:exit_filled"]
        assert filled.values["reason"] == "stop" and "stop hit" in filled.message
        assert filled.values["pnl"] == pytest.approx(float(trade.realized_pnl))
        assert filled.symbol == UNDERLYING and filled.trade_id == tid
        # Exactly one delivery per alert, whichever process made it.
        assert sorted(hook.keys()) == sorted(rows)
        assert all(x.delivery_status == "sent" for x in a2.store.history(limit=100))
        a2.close()
        b.close()


def test_signal_alerts_come_from_the_watchlist_scan_once_per_setup(
    env: tuple[SimulatorHandle, Settings, AsyncDataService, str],
) -> None:
    """The engine scans the watchlist (every scan interval) and records the board's
    pending and in-force setups per timeframe once, however many passes see them."""
    _sim, settings, data, url = env
    settings = settings.with_overrides(alert_signal_timeframes_setting=("1Day", "1Week"))
    journal = Journal(url)
    store = AlertStore.of(journal)
    clock = [0.0]
    engine = AlertEngine(data, journal, settings, store=store, monotonic=lambda: clock[0])
    monitor = ExitMonitor(data, journal, holder="A", interval=5, pass_hooks=[engine.on_pass])
    first = run_async(monitor.run_once(), timeout=180)
    assert first.leader and engine.last_pass is not None
    assert "signals" not in engine.last_pass.evaluated  # the first scan waits an interval
    clock[0] += settings.alert_scan_seconds
    first = run_async(monitor.run_once(first.at + timedelta(seconds=5)), timeout=180)
    assert engine.last_pass is not None
    assert "signals" in engine.last_pass.evaluated, engine.last_pass.skipped
    signals = [a for a in store.history(limit=200) if a.kind.group == "signal"]
    assert signals, "the simulator's SPY shows at least one setup"
    assert {a.timeframe for a in signals} <= {"1Day", "1Week"}
    for a in signals:
        assert a.key == f"signal:{a.signal_id}:{a.kind.value.split('.')[1]}"
        assert a.symbol == UNDERLYING and "TFC" in a.message
    clock[0] += settings.alert_scan_seconds  # the next scan is due
    run_async(monitor.run_once(first.at + timedelta(seconds=10)), timeout=180)
    assert engine.last_pass is not None and "signals" in engine.last_pass.evaluated
    again = [a for a in store.history(limit=200) if a.kind.group == "signal"]
    assert sorted(a.key for a in again) == sorted(a.key for a in signals)
    journal.close()


def test_the_monitor_stopped_alert_from_its_heartbeat(
    env: tuple[SimulatorHandle, Settings, AsyncDataService, str],
) -> None:
    """A web process's watcher judges the heartbeat the monitor's passes write: silent for
    more than N intervals → "heartbeat lost" once; passing again → "running again" once.
    Time is injected (machine clock and monotonic), never slept."""
    _sim, settings, data, url = env
    settings = settings.with_overrides(alert_rules_off=parse_rules_off(["signal", "risk"]))
    journal = Journal(url)
    store = AlertStore.of(journal)
    monitor_engine = AlertEngine(data, journal, settings, store=store, monitor_interval=5)
    monitor = ExitMonitor(
        data, journal, holder="W", interval=5, pass_hooks=[monitor_engine.on_pass]
    )
    first = run_async(monitor.run_once(), timeout=120)
    beat = store.heartbeat()
    assert beat is not None and beat.beat_at == first.at and beat.interval_seconds == 5

    now = [first.at]
    mono = [0.0]
    watcher = AlertEngine(
        data,
        Journal(url),
        settings,
        machine_clock=lambda: now[0],
        monotonic=lambda: mono[0],
        monitor_interval=5,
    )
    assert watcher.check_heartbeat() == []  # fresh
    allowed = settings.alert_heartbeat_intervals * 5
    now[0] = first.at + timedelta(seconds=allowed + 1)
    assert watcher.check_heartbeat() == []  # this watcher has not watched that long yet
    mono[0] = allowed + 1
    (lost,) = watcher.check_heartbeat()
    assert lost.key == "heartbeat#1" and lost.kind.value == "system.heartbeat_lost"
    assert lost.severity == "critical" and "No trade monitor pass for 31 s" in lost.message
    clock = run_async(data.fetch_clock()).value
    assert clock is not None and lost.at == clock.timestamp  # the broker's time
    now[0] += timedelta(seconds=60)
    mono[0] += 60
    assert watcher.check_heartbeat() == []  # still lost: one alert per outage
    # A second watcher (another web process) agrees and records nothing new.
    twin = AlertEngine(
        data,
        Journal(url),
        settings,
        machine_clock=lambda: now[0],
        monotonic=lambda: mono[0],
        monitor_interval=5,
    )
    assert twin.check_heartbeat() == []
    # The monitor passes again.
    run_async(monitor.run_once(now[0]), timeout=120)
    (back,) = watcher.check_heartbeat()
    assert back.key == "heartbeat#1:cleared" and back.kind.value == "system.recovered"
    assert twin.check_heartbeat() == []
    assert [a.key for a in store.history() if a.condition == "heartbeat"] == [
        "heartbeat#1:cleared",
        "heartbeat#1",
    ]
    watcher.journal.close()
    twin.journal.close()
    journal.close()
