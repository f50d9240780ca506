"""The broker-held protective stop at the simulator over HTTP: placed after the entry
fills, it closes the trade with its own fill when the option trades through it; a software
exit cancels it first, so exactly one exit happens either way."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.exit_monitor import ExitMonitor
from dashboard.trading.journal import Journal, TradeStatus
from dashboard.trading.orders import place_broker_stop, place_entry, place_exit
from dashboard.trading.ticket import round_to_tick

from .test_orders_sim import broker_orders, make_ticket

pytestmark = pytest.mark.slow


@pytest.fixture
def env(
    fresh_sim: SimulatorHandle, fresh_settings: Settings, journal_url: str
) -> Iterator[tuple[SimulatorHandle, AsyncDataService, Journal]]:
    fresh_sim.advance_to_open()
    fresh_sim.advance(30)
    data = AsyncDataService.from_settings(fresh_settings.with_overrides(cache_ttl_seconds=0.0))
    journal = Journal(journal_url)
    yield fresh_sim, data, journal
    journal.close()
    data.close_sync()


def open_trade(data: AsyncDataService, journal: Journal, key: str) -> tuple[int, str]:
    t = make_ticket(data)
    res = run_async(place_entry(data, journal, t, request_key=key))
    assert res.ok and res.trade is not None and res.trade.status is TradeStatus.OPEN
    return res.trade.id, t.contract


def option_mid(data: AsyncDataService, contract: str) -> float:
    q = run_async(data.alpaca.get_option_snapshots([contract]))[contract]
    assert q.mid is not None
    return q.mid


def test_broker_stop_fill_closes_the_trade_with_that_fill(env: tuple) -> None:
    sim, data, journal = env
    tid, contract = open_trade(data, journal, "bs-fill")
    # A stop above the option's price now: it triggers at once and sells at the bid.
    stop = round_to_tick(
        "SPY", Decimal(str(option_mid(data, contract))) + Decimal("0.50"), down=True
    )
    placed = run_async(place_broker_stop(data, journal, tid, stop))
    assert placed.ok, placed.message
    assert placed.order is not None and placed.order.type == "stop"
    assert placed.order.stop_price == stop and placed.order.time_in_force == "gtc"
    sim.advance(1)
    out = run_async(ExitMonitor(data, journal, holder="A", interval=5).run_once())
    assert out.decisions == ()  # the monitor sent no software exit
    trade = journal.get(tid)
    assert trade is not None and trade.status is TradeStatus.CLOSED
    assert trade.exit_reason == "broker_stop" and trade.broker_stop_status == "filled"
    sells = [o for o in broker_orders(data, contract) if o.side == "sell"]
    assert len(sells) == 1 and sells[0].status == "filled"
    assert trade.exit_price == sells[0].filled_avg_price
    assert trade.realized_pnl == (sells[0].filled_avg_price - trade.entry_fill_price) * 100
    late = run_async(place_exit(data, journal, tid))
    assert not late.ok and len(broker_orders(data, contract)) == 2


def test_software_exit_cancels_the_broker_stop_first(env: tuple) -> None:
    sim, data, journal = env
    tid, contract = open_trade(data, journal, "bs-cancel")
    stop = Decimal("0.05")  # far below: it will not trigger
    placed = run_async(place_broker_stop(data, journal, tid, stop, Decimal("0.05")))
    assert placed.ok and placed.order is not None and placed.order.type == "stop_limit"
    # A second stop while one works is refused, with nothing sent.
    again = run_async(place_broker_stop(data, journal, tid, stop))
    assert not again.ok and len(broker_orders(data, contract)) == 2
    res = run_async(place_exit(data, journal, tid))
    assert res.ok, res.message
    sim.advance(1)
    run_async(ExitMonitor(data, journal, holder="A", interval=5).run_once())
    orders = broker_orders(data, contract)
    stops = [o for o in orders if o.type == "stop_limit"]
    sells = [o for o in orders if o.side == "sell" and o.status == "filled"]
    assert [o.status for o in stops] == ["canceled"]
    assert len(sells) == 1 and sells[0].type in ("limit", "market")
    trade = journal.get(tid)
    assert trade is not None and trade.status is TradeStatus.CLOSED
    assert trade.exit_reason == "manual" and trade.broker_stop_status == "canceled"


def test_a_stop_needs_an_open_trade_and_a_positive_price(env: tuple) -> None:
    _sim, data, journal = env
    tid, contract = open_trade(data, journal, "bs-bad")
    bad = run_async(place_broker_stop(data, journal, tid, Decimal("0")))
    assert not bad.ok and "above zero" in bad.message
    assert len(broker_orders(data, contract)) == 1
