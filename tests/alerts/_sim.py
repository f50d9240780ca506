"""Order tickets against the simulator's current price, for the alert tests that trade."""

from __future__ import annotations

from decimal import Decimal

from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.trading.ticket import TradeTicket, round_to_tick, validate_ticket

UNDERLYING = "SPY"


def spot(data: AsyncDataService, symbol: str = UNDERLYING) -> float:
    q = run_async(data.fetch_quotes([symbol]))
    assert q.value is not None
    return q.value[symbol].mid


def sim_ticket(
    data: AsyncDataService,
    direction: str,
    *,
    entry: float,
    target: float,
    stop: float,
    signal_id: str = "sim-signal",
) -> TradeTicket:
    """One ATM contract (call long, put short) ~2 weeks out, limit at the ask, with levels
    at these offsets from the current price in the trade's favour (negative: against)."""
    clock = run_async(data.fetch_clock()).value
    first = run_async(data.fetch_option_chain(UNDERLYING)).value
    assert clock is not None and first is not None
    listed = first.expiries or tuple(sorted({q.contract.expiry for q in first.quotes}))
    expiry = min(e for e in listed if (e - clock.timestamp.date()).days >= 7)
    chain = run_async(data.fetch_option_chain(UNDERLYING, expiry)).value
    assert chain is not None
    p = spot(data)
    right = "C" if direction == "long" else "P"
    sign = 1 if direction == "long" else -1
    quotes = [
        q
        for q in chain.quotes
        if q.contract.right == right and q.contract.expiry == expiry and q.ask and q.bid
    ]
    best = min(quotes, key=lambda q: abs(float(q.contract.strike) - p))
    acct = run_async(data.fetch_account()).value
    assert acct is not None
    v = validate_ticket(
        {
            "symbol": UNDERLYING,
            "direction": direction,
            "contracts": 1,
            "expiry": best.contract.expiry,
            "strike": best.contract.strike,
            "limit": round_to_tick(UNDERLYING, Decimal(str(best.ask)), down=False),
            "entry": round(p + sign * entry, 2),
            "target": round(p + sign * target, 2),
            "stop": round(p + sign * stop, 2),
            "pattern": "2-1-2",
            "timeframe": "1Day",
            "signal_id": signal_id,
        },
        chain=chain,
        buying_power=acct.options_buying_power,
        now=clock.timestamp,
        max_contracts=10,
        known_symbols=[UNDERLYING],
    )
    assert v.ok and v.ticket is not None, v.errors
    return v.ticket
