"""Orders, reconciliation and the exit monitor against the simulator over real HTTP, with
the journal (and the monitors' lease) on SQLite and on a real Postgres.

INTEGRATION: these use ``AsyncDataService.from_settings`` and ``run_async`` (the data
service contract) with a private simulator per test (``fresh_sim``, manual clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.budget import Priority, budget_priority
from dashboard.data_loaders.loop import run_async
from dashboard.settings import Settings, load_settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.exit_monitor import ExitMonitor
from dashboard.trading.journal import Journal, TradeStatus
from dashboard.trading.orders import (
    entry_request,
    live_order_refusal,
    place_entry,
    place_exit,
    reconcile,
)
from dashboard.trading.ticket import TradeTicket, round_to_tick, validate_ticket

pytestmark = pytest.mark.slow
UNDERLYING = "SPY"


@pytest.fixture
def env(fresh_sim: SimulatorHandle, fresh_settings: Settings, journal_url: str) -> Iterator[tuple]:
    """A private simulator at the open, a data service, and a journal on SQLite or Postgres."""
    fresh_sim.advance_to_open()
    fresh_sim.advance(30)
    settings = fresh_settings.with_overrides(cache_ttl_seconds=0.0)
    data = AsyncDataService.from_settings(settings)
    journal = Journal(journal_url)
    yield fresh_sim, data, journal
    journal.close()
    data.close_sync()


def spot(data: AsyncDataService) -> float:
    q = run_async(data.fetch_quotes([UNDERLYING]))
    assert q.value is not None
    return q.value[UNDERLYING].mid


def make_ticket(data: AsyncDataService, *, contracts: int = 1, offset: float = 0.0) -> TradeTicket:
    """A validated long-call ticket for an ATM SPY contract ~2 weeks out, limit at the ask.

    Levels are placed around the *current* price plus ``offset`` so a test can make the
    target already hit (offset < 0) or out of reach (offset = 0).
    """
    clock = run_async(data.fetch_clock()).value
    assert clock is not None
    first = run_async(data.fetch_option_chain(UNDERLYING))
    assert first.value is not None, first.error
    listed = first.value.expiries or tuple(sorted({q.contract.expiry for q in first.value.quotes}))
    expiry = min(e for e in listed if (e - clock.timestamp.date()).days >= 7)
    chain_res = run_async(data.fetch_option_chain(UNDERLYING, expiry))
    chain = chain_res.value
    assert chain is not None, chain_res.error
    p = spot(data)
    calls = [
        q
        for q in chain.quotes
        if q.contract.right == "C" and q.contract.expiry == expiry and q.ask and q.bid
    ]
    best = min(calls, key=lambda q: abs(float(q.contract.strike) - p))
    acct = run_async(data.fetch_account()).value
    assert acct is not None
    limit = round_to_tick(UNDERLYING, Decimal(str(best.ask)), down=False)
    base = p + offset
    v = validate_ticket(
        {
            "symbol": UNDERLYING,
            "direction": "long",
            "contracts": contracts,
            "expiry": best.contract.expiry,
            "strike": best.contract.strike,
            "limit": limit,
            "entry": round(base, 2),
            "target": round(base + 2.0, 2),
            "stop": round(base - 2.0, 2),
            "pattern": "2-1-2",
            "timeframe": "1Day",
            "signal_id": "sim-signal",
        },
        chain=chain,
        buying_power=acct.options_buying_power,
        now=clock.timestamp,
        max_contracts=10,
        known_symbols=[UNDERLYING],
    )
    assert v.ok, v.errors
    assert v.ticket is not None
    return v.ticket


def broker_orders(data: AsyncDataService, symbol: str) -> list:
    """The broker's orders for ``symbol``: a lookup of the order class, as the monitor's
    own reads are, so a test that polls it is never refused by the refresh budget."""

    async def read() -> list:
        with budget_priority(Priority.ORDER):
            return await data.alpaca.get_orders(status="all", limit=500)

    return [o for o in run_async(read()) if o.symbol == symbol]


def test_entry_fills_and_double_submit_makes_one_order(env: tuple) -> None:
    _sim, data, journal = env
    t = make_ticket(data, contracts=2)
    first = run_async(place_entry(data, journal, t, request_key="dialog-1"))
    assert first.ok, first.message
    assert first.trade is not None and first.trade.status is TradeStatus.OPEN
    assert first.trade.entry_fill_price is not None and first.trade.entry_fill_price <= t.limit
    second = run_async(place_entry(data, journal, t, request_key="dialog-1"))
    assert second.duplicate and second.trade is not None and second.trade.id == first.trade.id
    orders = broker_orders(data, t.contract)
    assert len(orders) == 1 and orders[0].client_order_id == first.trade.entry_client_order_id
    assert len(journal.list_trades()) == 1


def test_broker_rejection_is_journaled_with_its_message(env: tuple) -> None:
    _sim, data, journal = env
    t = make_ticket(data)
    acct = run_async(data.fetch_account()).value
    too_many = math.ceil(float(acct.options_buying_power) / float(t.limit * 100)) + 1
    from dataclasses import replace

    res = run_async(place_entry(data, journal, replace(t, contracts=too_many)))
    assert not res.ok and "insufficient buying power" in res.message
    assert res.trade is not None and res.trade.status is TradeStatus.REJECTED
    assert res.trade.status_message == "insufficient buying power"
    assert broker_orders(data, t.contract) == []


def test_kill_between_submit_and_journal_write_is_reconciled(env: tuple, tmp_path: Path) -> None:
    _sim, data, journal = env
    t = make_ticket(data)
    trade, _ = journal.create_intent(t, request_key="crash")
    # The order reaches the broker, then the process dies before recording the result.
    run_async(data.submit_order(entry_request(trade)))
    journal.close()
    restarted = Journal(journal.url)
    (after,) = run_async(reconcile(data, restarted))
    assert after.id == trade.id and after.status is TradeStatus.OPEN
    assert after.entry_order_id is not None and after.entry_fill_price is not None
    # A retry of the same request after the restart sends nothing new.
    again = run_async(place_entry(data, restarted, t, request_key="crash"))
    assert again.duplicate and len(broker_orders(data, t.contract)) == 1
    restarted.close()


def test_intent_never_sent_is_canceled_after_grace(env: tuple) -> None:
    _sim, data, journal = env
    t = make_ticket(data)
    trade, _ = journal.create_intent(t, request_key="lost")
    (still,) = run_async(reconcile(data, journal))
    assert still.status is TradeStatus.PENDING_ENTRY  # within the grace period
    (gone,) = run_async(reconcile(data, journal, now=trade.created_at + timedelta(minutes=5)))
    assert gone.status is TradeStatus.CANCELED and "never reached" in (gone.status_message or "")


def test_exit_monitor_fires_once_at_target(env: tuple, tmp_path: Path) -> None:
    sim, data, journal = env
    # Levels below the current price: the target (base + 2) is already reached.
    t = make_ticket(data, offset=-2.5)
    res = run_async(place_entry(data, journal, t, request_key="mon"))
    assert res.ok and res.trade is not None and res.trade.status is TradeStatus.OPEN
    sim.advance(1)
    other = Journal(journal.url)  # a second process on the same database
    a = ExitMonitor(data, journal, holder="A", interval=5)
    b = ExitMonitor(data, other, holder="B", interval=5)
    pa = run_async(a.run_once())
    pb = run_async(b.run_once())
    assert pa.leader and not pb.leader
    assert [d.reason for d in pa.decisions] == ["target"]
    again = run_async(a.run_once())  # syncs the exit fill; nothing new to fire
    assert again.decisions == ()
    trade = journal.get(res.trade.id)
    assert (
        trade is not None and trade.status is TradeStatus.CLOSED and trade.exit_reason == "target"
    )
    sells = [o for o in broker_orders(data, t.contract) if o.side == "sell"]
    assert len(sells) == 1 and sells[0].status == "filled"
    entry_px, exit_px = trade.entry_fill_price, sells[0].filled_avg_price
    assert trade.realized_pnl == (exit_px - entry_px) * 100 * trade.qty
    # A manual close of a closed trade is refused without an order.
    late = run_async(place_exit(data, journal, trade.id))
    assert not late.ok and len(broker_orders(data, t.contract)) == 2
    other.close()


def test_monitor_holds_between_levels(env: tuple) -> None:
    _sim, data, journal = env
    t = make_ticket(data)
    res = run_async(place_entry(data, journal, t, request_key="hold"))
    assert res.ok
    p = ExitMonitor(data, journal, holder="A", interval=5)
    out = run_async(p.run_once())
    assert out.leader and out.market_open and out.decisions == ()
    assert journal.get(res.trade.id).status is TradeStatus.OPEN


def test_live_guard() -> None:
    paper = load_settings(env={}, env_file=None)
    live = load_settings(
        env={
            "APCA_API_KEY_ID": "k",
            "APCA_API_SECRET_KEY": "s",
            "ALPACA_PAPER": "false",
            "ALPACA_LIVE_TRADING": "1",
        },
        env_file=None,
    )
    c = "SPY251219C00600000"
    assert live_order_refusal(paper, live=False, contract=c, confirmation=None) is None
    assert "paper account" in live_order_refusal(paper, live=True, contract=c, confirmation=c)
    assert "type the contract symbol" in live_order_refusal(
        live, live=False, contract=c, confirmation=None
    )
    assert "type the contract symbol" in live_order_refusal(
        live, live=True, contract=c, confirmation="SPY"
    )
    assert (
        live_order_refusal(live, live=True, contract=c, confirmation=" spy251219c00600000 ") is None
    )
    # Connected to the live host without the switch (a copy, which skips validation):
    # refused before anything is journaled or sent.
    off = live.with_overrides(
        alpaca_trading_url_setting="https://api.alpaca.markets", alpaca_live_trading=False
    )
    assert off.is_live
    assert "Live trading is off" in live_order_refusal(off, live=True, contract=c, confirmation=c)
    # Without the switch the default URL is paper's, so nothing is live at all.
    paper_again = live.with_overrides(alpaca_live_trading=False)
    assert not paper_again.is_live
    assert "paper account" in live_order_refusal(paper_again, live=True, contract=c, confirmation=c)
