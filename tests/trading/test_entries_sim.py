"""Armed entries in the trade monitor against the simulator over real HTTP: nothing is sent
until the underlying trades through the trigger, then exactly one order; the stop first
disarms; kills at every step and two monitors at once still make one order.

The simulator's price path is seeded, so each test reads the coming minute bars from the
in-process market first and places the trigger and stop where the path will cross them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.models import OptionQuote
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.simulator.market import parse_timeframe
from dashboard.trading.arming import ArmedEntry, ArmingStatus, DisarmReason
from dashboard.trading.entries import evaluate_armed_entries
from dashboard.trading.exit_monitor import ExitMonitor, MonitorPass, TradeMonitor
from dashboard.trading.journal import Journal, TradeStatus
from dashboard.trading.orders import entry_request

pytestmark = pytest.mark.slow
SYMBOL = "SPY"


@pytest.fixture
def env(
    fresh_sim: SimulatorHandle, fresh_settings: Settings, journal_url: str
) -> Iterator[tuple[SimulatorHandle, AsyncDataService, Journal]]:
    fresh_sim.advance_to_open()
    fresh_sim.advance(30)
    # Simulated minutes pass in no wall time: the request budget is not under test here.
    fresh_sim.sim.faults.rate.limit = 100_000
    settings = fresh_settings.with_overrides(
        cache_ttl_seconds=0.0, alpaca_rate_limit_per_minute=100_000
    )
    data = AsyncDataService.from_settings(settings)
    journal = Journal(journal_url)
    yield fresh_sim, data, journal
    journal.close()
    data.close_sync()


@dataclass(frozen=True)
class Path_:
    """The next minute bars (bar i starts at now + i minutes) and the price now."""

    now: datetime
    price: float
    highs: list[float]
    lows: list[float]


def coming(sim: SimulatorHandle, minutes: int = 330) -> Path_:
    now = sim.now()
    later = now + timedelta(minutes=minutes)
    bars = sim.sim.market.bars(SYMBOL, parse_timeframe("1Min"), now, later, later)
    price = sim.sim.market.price_at(SYMBOL, now)
    return Path_(now, price, [float(x) for x in bars.h], [float(x) for x in bars.low])


def steps_to(k: int, most: int = 6) -> list[int]:
    """Up to ``most`` passes between the arming and minute ``k`` (the last at ``k``)."""
    return sorted({max(1, round(k * i / most)) for i in range(1, most + 1)} | {k}) if k else []


def cents(x: float) -> float:
    return round(x + 1e-9, 2)


def rising_trigger(path: Path_, at_least: int = 2) -> tuple[int, float, float]:
    """(k, trigger, stop): the first bar k >= ``at_least`` whose high makes a new high by a
    cent or more; the trigger sits a cent above everything before it, the stop well below."""
    for k in range(at_least, len(path.highs)):
        before = max([path.price, *path.highs[:k]])
        trigger = cents(before + 0.01)
        if path.highs[k] >= trigger:
            stop = cents(min([path.price, *path.lows[: k + 1]]) - 0.50)
            return k, trigger, stop
    raise AssertionError("no new high in the coming bars")


def falling_stop(path: Path_, at_least: int = 1) -> tuple[int, float]:
    """(k, stop): the first bar k >= ``at_least`` making a new low by a cent or more."""
    for k in range(at_least, len(path.lows)):
        before = min([path.price, *path.lows[:k]])
        stop = cents(before - 0.01)
        if path.lows[k] <= stop:
            return k, stop
    raise AssertionError("no new low in the coming bars")


def atm_call(data: AsyncDataService) -> OptionQuote:
    clock = run_async(data.fetch_clock()).value
    assert clock is not None
    first = run_async(data.fetch_option_chain(SYMBOL))
    assert first.value is not None, first.error
    listed = first.value.expiries or tuple(sorted({q.contract.expiry for q in first.value.quotes}))
    expiry = min(e for e in listed if (e - clock.timestamp.date()).days >= 7)
    chain = run_async(data.fetch_option_chain(SYMBOL, expiry)).value
    assert chain is not None
    spot = chain.underlying_price or 0.0
    calls = [q for q in chain.quotes if q.contract.right == "C" and q.ask and q.bid]
    return min(calls, key=lambda q: abs(float(q.contract.strike) - spot))


def arm(
    journal: Journal,
    data: AsyncDataService,
    path: Path_,
    *,
    trigger: float,
    stop: float,
    expires: timedelta = timedelta(hours=5),
    key: str = "arm-1",
    **over: Any,
) -> ArmedEntry:
    q = atm_call(data)
    c = q.contract
    values: dict[str, Any] = {
        "id": 0,
        "created_at": path.now,
        "updated_at": path.now,
        "status": ArmingStatus.ARMED,
        "signal_id": "SPY-15Min-2-1-2-long",
        "symbol": SYMBOL,
        "timeframe": "15Min",
        "pattern": "2-1-2",
        "direction": "long",
        "trigger": trigger,
        "stop": stop,
        "target1": cents(trigger + 3.0),
        "target2": None,
        "opposite": None,
        "contract": c.symbol,
        "expiry": c.expiry,
        "strike": c.strike,
        "right": "C",
        "contract_rule": "fixed",
        "quantity": 1,
        "max_premium": None,
        "max_slippage": None,
        "projected_premium": None,
        "armed_at": path.now,
        "expires_at": path.now + expires,
    }
    values.update(over)
    entry, created = journal.arm_entry(ArmedEntry(**values), request_key=key, now=path.now)
    assert created
    return entry


def option_orders(data: AsyncDataService) -> list[Any]:
    orders = run_async(data.alpaca.get_orders(status="all", limit=500))
    return [o for o in orders if o.asset_class == "us_option"]


def test_nothing_is_sent_until_the_trigger_trades_then_exactly_one_order(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    monitor = TradeMonitor(data, journal, holder="A", interval=5)
    seen: list[MonitorPass] = []
    monitor.add_pass_hook(seen.append)
    done = 0
    passes = 0
    for minute in steps_to(k):  # bars 0..k-1 complete: all below the trigger
        sim.advance(minute - done)
        done = minute
        out = run_async(monitor.run_once())
        passes += 1
        assert out.leader and out.entry_results == (), (minute, out)
        assert option_orders(data) == []
        assert journal.armed_entry(entry.id).status is ArmingStatus.ARMED
    sim.advance(k + 1 - done)  # bar k completes: its high trades through the trigger
    out = run_async(monitor.run_once())
    assert [d.action for d in out.entry_decisions] == ["trigger"]
    assert out.entry_decisions[0].price == trigger
    fired = journal.armed_entry(entry.id)
    assert fired is not None and fired.status is ArmingStatus.SENT
    assert fired.trigger_price == trigger and fired.trade_id is not None
    (order,) = option_orders(data)
    trade = journal.get(fired.trade_id)
    assert trade is not None and order.client_order_id == trade.entry_client_order_id
    assert trade.request_key == entry.request_key and trade.entry_level == trigger
    assert order.symbol == entry.contract and order.side == "buy"
    # Later passes send nothing more, and the hook saw every pass.
    sim.advance(1)
    run_async(monitor.run_once())
    assert len(option_orders(data)) == 1
    assert len(seen) == passes + 2
    # The fill's context is journaled once the trade is open.
    after = journal.get(fired.trade_id)
    assert after is not None and after.status is TradeStatus.OPEN
    assert after.fill_underlying_price is not None and after.fill_underlying_price > 0


def test_stop_first_disarms_with_its_reason_and_sends_nothing(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, stop = falling_stop(path)
    entry = arm(journal, data, path, trigger=cents(path.price + 50.0), stop=stop)
    monitor = ExitMonitor(data, journal, holder="A", interval=5)
    done = 0
    for minute in steps_to(k):
        sim.advance(minute - done)
        done = minute
        run_async(monitor.run_once())
        assert journal.armed_entry(entry.id).status is ArmingStatus.ARMED
    sim.advance(k + 1 - done)
    out = run_async(monitor.run_once())
    assert [d.reason for d in out.entry_decisions] == [DisarmReason.STOP_FIRST]
    gone = journal.armed_entry(entry.id)
    assert gone is not None and gone.status is ArmingStatus.DISARMED
    assert gone.reason is DisarmReason.STOP_FIRST and f"{stop:,.2f}" in (gone.detail or "")
    assert option_orders(data) == []


def test_window_end_disarms_even_with_the_market_shut(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    entry = arm(
        journal,
        data,
        path,
        trigger=cents(path.price + 50),
        stop=cents(path.price - 50),
        expires=timedelta(minutes=3),
    )
    monitor = ExitMonitor(data, journal, holder="A", interval=5)
    sim.advance(2)
    run_async(monitor.run_once())
    assert journal.armed_entry(entry.id).status is ArmingStatus.ARMED
    sim.advance(60 * 8)  # past the close
    out = run_async(monitor.run_once())
    assert out.market_open is False
    gone = journal.armed_entry(entry.id)
    assert gone is not None and gone.reason is DisarmReason.WINDOW_ENDED
    assert option_orders(data) == []


def test_premium_above_the_cap_disarms_at_the_trigger(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop, max_premium=Decimal("0.01"))
    monitor = ExitMonitor(data, journal, holder="A", interval=5)
    sim.advance(k + 1)
    run_async(monitor.run_once())
    gone = journal.armed_entry(entry.id)
    assert gone is not None and gone.reason is DisarmReason.OUTSIDE_LIMITS
    assert "above the cap 0.01" in (gone.detail or "")
    assert option_orders(data) == []


# ---- kills and two monitors -------------------------------------------------------------------


def test_killed_after_triggering_resumes_with_one_order(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    sim.advance(k + 1)
    # The first process won armed → triggered and died before the intent.
    journal.move_armed(entry.id, ArmingStatus.ARMED, ArmingStatus.TRIGGERED, trigger_price=trigger)
    journal.close()
    restarted = Journal(journal.url)
    run_async(ExitMonitor(data, restarted, holder="B", interval=5).run_once())
    run_async(ExitMonitor(data, restarted, holder="B", interval=5).run_once())
    assert len(option_orders(data)) == 1
    assert restarted.armed_entry(entry.id).status is ArmingStatus.SENT
    restarted.close()


def test_killed_after_sending_before_recording_makes_no_second_order(env: tuple) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    sim.advance(k + 1)
    triggered = journal.move_armed(entry.id, ArmingStatus.ARMED, ArmingStatus.TRIGGERED)
    assert triggered is not None
    q = atm_call(data)
    from dashboard.trading.entries import _ticket

    ticket = _ticket(triggered, entry.contract, entry.strike, Decimal(str(q.ask)))
    trade, _ = journal.create_intent(ticket, request_key=entry.request_key)
    run_async(data.submit_order(entry_request(trade)))  # reached the broker; then the kill
    journal.close()
    restarted = Journal(journal.url)
    run_async(ExitMonitor(data, restarted, holder="B", interval=5).run_once())
    (order,) = option_orders(data)
    assert order.client_order_id == trade.entry_client_order_id
    done = restarted.armed_entry(entry.id)
    assert done is not None and done.status is ArmingStatus.SENT and done.trade_id == trade.id
    restarted.close()


def test_two_monitors_racing_past_the_lease_make_one_order(env: tuple) -> None:
    """Without the lease (both evaluate at once), the journal's compare-and-set and the
    deterministic client order id still allow one order."""
    import threading

    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    sim.advance(k + 1)
    other = Journal(journal.url)
    clock = run_async(data.fetch_clock()).value
    assert clock is not None
    barrier = threading.Barrier(2)

    def race(j: Journal) -> None:
        armed = j.active_armed()
        barrier.wait()
        run_async(evaluate_armed_entries(data, j, armed, clock.timestamp, market_open=True))

    threads = [threading.Thread(target=race, args=(j,)) for j in (journal, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(option_orders(data)) == 1
    assert journal.armed_entry(entry.id).status is ArmingStatus.SENT
    other.close()


def _worker_env(sim: SimulatorHandle, url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APCA_", "ALPACA_", "DASHBOARD_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DASHBOARD_MODE="demo",
        DASHBOARD_SIMULATOR_URL=sim.url,
        DATABASE_URL=url,
        DASHBOARD_DATA_DIR=str(tmp_path / "worker"),
        DASHBOARD_REFRESH_SECONDS="1",
        DASHBOARD_CACHE_TTL_SECONDS="0",
        DASHBOARD_READ_DEADLINE_SECONDS="30",
        ALPACA_RATE_LIMIT_PER_MINUTE="100000",
    )
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.trading.exit_worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_worker_killed_while_an_entry_is_due_then_restarted_sends_one(
    env: tuple, tmp_path: Path
) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    sim.advance(k + 1)  # the entry is due
    wenv = _worker_env(sim, journal.url, tmp_path)
    worker = _start_worker(wenv)
    # Kill it as soon as it has started acting on the entry (or after it finished).
    _wait_for(lambda: journal.armed_entry(entry.id).status is not ArmingStatus.ARMED, 90)
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)
    # The dead worker's lease must run out before another process may lead.
    restarted = _start_worker(wenv)
    try:
        assert _wait_for(lambda: journal.armed_entry(entry.id).status is ArmingStatus.SENT, 120), (
            journal.armed_entry(entry.id)
        )
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(60)
    assert len(option_orders(data)) == 1


def test_in_process_monitor_and_worker_at_once_send_one(env: tuple, tmp_path: Path) -> None:
    sim, data, journal = env
    path = coming(sim)
    k, trigger, stop = rising_trigger(path)
    entry = arm(journal, data, path, trigger=trigger, stop=stop)
    worker = _start_worker(_worker_env(sim, journal.url, tmp_path))
    monitor = ExitMonitor(data, journal, holder="in-process", interval=1, lease_seconds=3)
    monitor.start()
    try:
        time.sleep(2)
        assert option_orders(data) == []
        sim.advance(k + 1)
        assert _wait_for(lambda: journal.armed_entry(entry.id).status is ArmingStatus.SENT, 120)
        time.sleep(3)  # a few more passes of both
    finally:
        monitor.stop()
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    assert len(option_orders(data)) == 1
