"""Benchmark input: a book of N option positions, each opened through the app's own order
path (journal intent, idempotent limit order, fill), so the Live Portfolio tab shows N
positions and the Options tab N active journal trades.

Contracts are spread over every optionable underlying of the simulator and its nearest
expiries (none expiring within three days), nearest the money first.

The orders are sent while the simulated market is closed and fill together at the next
open: the simulator's broker marks every held position on each submission, so sending
500 orders into an open market costs minutes of simulator time, not of the app's. Each
limit is half as much again as the ask, so it is marketable at the open; the broker fills
a marketable limit at the ask. The journal then records each fill, as the exit monitor
would.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.models import OptionQuote
from dashboard.trading.journal import Journal
from dashboard.trading.orders import place_entry
from dashboard.trading.ticket import TradeTicket

UNMETERED = 100_000  # ALPACA_RATE_LIMIT_PER_MINUTE for set-up and in-process measurements
UNDERLYINGS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN")
EXPIRIES_PER_UNDERLYING = 4


async def _candidates(data: AsyncDataService, n: int) -> list[tuple[OptionQuote, float]]:
    """(quote, spot) for ``n`` quoted contracts, round-robin over underlyings."""
    clock = (await data.fetch_clock()).value
    if clock is None:
        raise RuntimeError("the simulator clock is unavailable")
    earliest = clock.timestamp.date() + timedelta(days=3)
    per_under: list[list[tuple[OptionQuote, float]]] = []
    for under in UNDERLYINGS:
        first = await data.fetch_option_chain(under)
        if first.value is None:
            continue
        picks: list[tuple[OptionQuote, float]] = []
        later = [e for e in first.value.expiries if e >= earliest]
        for expiry in later[:EXPIRIES_PER_UNDERLYING]:
            chain = (await data.fetch_option_chain(under, expiry)).value
            if chain is None or chain.underlying_price is None:
                continue
            spot = chain.underlying_price
            quoted = [q for q in chain.quotes if q.ask and q.bid and q.ask > 0.05]
            quoted.sort(key=lambda q: abs(float(q.contract.strike) - spot))
            picks += [(q, spot) for q in quoted]
        per_under.append(picks)
    out: list[tuple[OptionQuote, float]] = []
    i = 0
    while len(out) < n and any(i < len(p) for p in per_under):
        out += [p[i] for p in per_under if i < len(p)]
        i += 1
    if len(out) < n:
        raise RuntimeError(f"the simulator lists only {len(out)} quoted contracts, need {n}")
    return out[:n]


def _ticket(q: OptionQuote, spot: float, expiry: date) -> TradeTicket:
    call = q.contract.right == "C"
    limit = Decimal(math.ceil(float(q.ask or 0) * 150) / 100).quantize(Decimal("0.01"))
    return TradeTicket(
        symbol=q.contract.underlying,
        direction="long" if call else "short",
        contract=q.contract.symbol,
        contracts=1,
        expiry=expiry,
        strike=q.contract.strike,
        right=q.contract.right,
        limit=limit,
        entry=round(spot, 2),
        target=round(spot * (1.03 if call else 0.97), 2),
        stop=round(spot * (0.98 if call else 1.02), 2),
        pattern="2-1-2U" if call else "2-1-2D",
        timeframe="1Day",
    )


def open_book(
    data: AsyncDataService,
    journal: Journal,
    n: int,
    advance: Callable[..., object],
    concurrency: int = 1,
) -> int:
    """Open ``n`` one-lot option positions through ``place_entry``; returns how many filled.

    ``advance(minutes=...)`` / ``advance(to_open=True)`` move the simulator's clock (the
    handle's methods in-process, ``POST /_sim/advance`` for a separate process).
    """
    advance(to_open=True)
    advance(minutes=395.0)  # after the close: orders wait for the next open
    data.invalidate()

    async def submit() -> list[int]:
        cands = await _candidates(data, n)
        sem = asyncio.Semaphore(concurrency)

        async def one(q: OptionQuote, spot: float) -> int | None:
            async with sem:
                res = await place_entry(data, journal, _ticket(q, spot, q.contract.expiry))
                return res.trade.id if res.ok and res.trade is not None else None

        ids = await asyncio.gather(*(one(q, s) for q, s in cands))
        return [i for i in ids if i is not None]

    trade_ids = run_async(submit(), timeout=600)
    advance(to_open=True)
    advance(minutes=30.0)

    async def reconcile() -> int:
        # One lookup per order; journal writes one at a time (SQLite has one writer).
        filled = 0
        for trade_id in trade_ids:
            coid = journal.entry_client_order_id(trade_id)
            order = await data.alpaca.get_order_by_client_id(coid)
            if order is None:
                continue
            await asyncio.to_thread(journal.record_entry_order, trade_id, order)
            filled += order.status == "filled"
        return filled

    filled = run_async(reconcile(), timeout=600)
    data.invalidate()
    return filled


def sim_advance(handle: object) -> Callable[..., object]:
    """``advance`` for an in-process simulator handle."""

    def advance(*, minutes: float = 0.0, to_open: bool = False) -> object:
        if to_open:
            return handle.advance_to_open()  # type: ignore[attr-defined]
        return handle.advance(minutes)  # type: ignore[attr-defined]

    return advance
