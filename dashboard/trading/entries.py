"""Armed entries in the trade monitor (imperative shell around ``trading.arming``).

Each pass: read the underlying's minute bars and latest trade since each arming, let the
pure rules decide (trigger, disarm, wait), and send the one entry order of a triggered
arming. The order of writes makes it fire once, however many monitors run and wherever
one is killed:

1. armed → triggered, a compare-and-set in the journal (only one process wins);
2. the trade intent under the request key ``armed-<id>`` (a repeat finds the same trade,
   with the same ``client_order_id``), then the order (``orders.place_entry``);
3. triggered → sent, with the trade's id.

A process killed between any two steps leaves an arming in ``triggered``; the next pass
(of whichever monitor leads) resumes at step 2, and the broker refuses a second order
with the same ``client_order_id``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dashboard.models import DataState, OptionQuote
from dashboard.trading.arming import (
    ArmedEntry,
    ArmingDecision,
    ArmingStatus,
    DisarmReason,
    PriceObservation,
    choose_contract,
    evaluate_arming,
)
from dashboard.trading.journal import Journal, JournalTrade
from dashboard.trading.orders import PlaceResult, place_entry
from dashboard.trading.ticket import TickTable, TradeTicket

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

__all__ = ["EntryPass", "evaluate_armed_entries", "send_triggered"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EntryPass:
    decisions: tuple[ArmingDecision, ...] = ()
    results: tuple[PlaceResult, ...] = ()
    errors: tuple[str, ...] = field(default=())


# How far back a pass reads minute bars: an arming older than this is judged on the last
# day's prices only (a monitor down for longer resumes from there), which bounds a pass
# at one session of bars per symbol however long ago a weekly setup was armed.
BARS_LOOKBACK = timedelta(days=1)


async def _observations(
    data: AsyncDataService, armed: Sequence[ArmedEntry], market_now: datetime
) -> tuple[dict[str, list[PriceObservation]], str | None]:
    """Minute bars since the earliest arming (at most ``BARS_LOOKBACK``), and each
    symbol's latest trade."""
    symbols = sorted({e.symbol for e in armed})
    start = max(min(e.armed_at for e in armed), market_now - BARS_LOOKBACK)
    out: dict[str, list[PriceObservation]] = {s: [] for s in symbols}
    try:
        frames, trades = await asyncio.gather(
            data.alpaca.get_bars(symbols, "1Min", start), data.alpaca.get_latest_trades(symbols)
        )
    except Exception as exc:  # the broker is away: decide nothing from prices this pass
        return out, f"underlying prices unavailable ({exc})"
    for sym in symbols:
        frame = frames.get(sym)
        if frame is not None and not frame.empty:
            for ts, high, low in zip(frame.index, frame["high"], frame["low"], strict=True):
                at = ts.to_pydatetime()
                out[sym].append(PriceObservation(at, float(high), float(low)))
        trade = trades.get(sym)
        if trade is not None:
            out[sym].append(PriceObservation.trade(trade.timestamp, trade.price))
    return out, None


async def _j(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Journal calls are blocking SQL: keep them off the shared event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def _quotes_for(data: AsyncDataService, entry: ArmedEntry) -> dict[str, OptionQuote]:
    """Fresh quotes: the armed contract, and (rule ``nearest_strike``) its expiry's chain."""
    out: dict[str, OptionQuote] = {}
    got = await data.alpaca.get_option_snapshots([entry.contract])
    out.update(got)
    own = out.get(entry.contract)
    if entry.contract_rule == "nearest_strike" and (own is None or not own.ask):
        chain = await data.fetch_option_chain(entry.symbol, entry.expiry)
        if chain.value is not None and chain.state is not DataState.ERROR:
            out.update({q.contract.symbol: q for q in chain.value.quotes})
    return out


def _ticket(entry: ArmedEntry, contract: str, strike: Decimal, limit: Decimal) -> TradeTicket:
    return TradeTicket(
        symbol=entry.symbol,
        direction=entry.direction,
        contract=contract,
        contracts=entry.quantity,
        expiry=entry.expiry,
        strike=strike,
        right=entry.right,
        limit=limit,
        entry=entry.trigger,
        target=entry.target1,
        stop=entry.stop,
        target2=entry.target2,
        pattern=entry.pattern,
        timeframe=entry.timeframe,
        signal_id=entry.signal_id,
        tfc=entry.tfc,
        rules=entry.rules,
        live=entry.live,
    )


async def send_triggered(
    data: AsyncDataService,
    journal: Journal,
    entry: ArmedEntry,
    now: datetime | None = None,
    ticks: TickTable | None = None,
) -> PlaceResult | None:
    """Steps 2 and 3 for an arming in ``triggered``: pick and price the contract (once:
    a trade already made for it is re-sent as it was), send, and record the outcome."""
    trade = await _j(journal.by_request_key, entry.request_key)
    if isinstance(trade, JournalTrade):
        ticket = _ticket(entry, trade.contract_symbol, trade.strike, trade.planned_limit)
    else:
        try:
            quotes = await _quotes_for(data, entry)
        except Exception as exc:  # no quote now: stay triggered, the next pass retries
            log.warning("armed entry %s: option quote failed: %s", entry.id, exc)
            return PlaceResult(False, f"Armed entry #{entry.id}: no option quote ({exc})", None)
        choice = choose_contract(entry, quotes, ticks)
        if (
            choice.refusal is not None
            or choice.contract is None
            or choice.limit is None
            or choice.strike is None
        ):
            reason = choice.refusal or DisarmReason.NO_QUOTE
            await _j(
                journal.move_armed,
                entry.id,
                ArmingStatus.TRIGGERED,
                ArmingStatus.DISARMED,
                reason=reason,
                detail=choice.detail,
                now=now,
            )
            return PlaceResult(
                False, f"Armed entry #{entry.id} disarmed: {reason.label} ({choice.detail})", None
            )
        ticket = _ticket(entry, choice.contract, choice.strike, choice.limit)
    # A live arming was confirmed for its contract when armed; a re-selected one was not.
    confirmation = entry.contract if entry.live else None
    result = await place_entry(
        data, journal, ticket, request_key=entry.request_key, confirmation=confirmation, now=now
    )
    if result.trade is not None:
        await _j(journal.link_armed_trade, entry.id, result.trade.id, now)
    if result.trade is not None and result.trade.entry_order_id is not None:
        await _j(
            journal.move_armed,
            entry.id,
            ArmingStatus.TRIGGERED,
            ArmingStatus.SENT,
            detail=result.message,
            trade_id=result.trade.id,
            now=now,
        )
    elif result.trade is None or not result.trade.is_active:
        await _j(
            journal.move_armed,
            entry.id,
            ArmingStatus.TRIGGERED,
            ArmingStatus.DISARMED,
            reason=DisarmReason.ORDER_REFUSED,
            detail=result.message,
            trade_id=result.trade.id if result.trade is not None else None,
            now=now,
        )
    # Otherwise the broker has not confirmed it yet: stay triggered, retry next pass.
    return result


async def evaluate_armed_entries(
    data: AsyncDataService,
    journal: Journal,
    armed: Sequence[ArmedEntry],
    market_now: datetime,
    *,
    market_open: bool,
    now: datetime | None = None,
    ticks: TickTable | None = None,
) -> EntryPass:
    """One pass over the active armed entries (see the module docstring)."""
    if not armed:
        return EntryPass()
    errors: list[str] = []
    decisions: list[ArmingDecision] = []
    results: list[PlaceResult] = []
    waiting = [e for e in armed if e.status is ArmingStatus.ARMED]
    prices: dict[str, list[PriceObservation]] = {}
    if market_open and waiting:
        prices, problem = await _observations(data, waiting, market_now)
        if problem is not None:
            errors.append(problem)
    for entry in armed:
        if entry.status is ArmingStatus.TRIGGERED:
            res = await send_triggered(data, journal, entry, now, ticks)
            if res is not None:
                results.append(res)
                if not res.ok:
                    errors.append(res.message)
            continue
        decision = evaluate_arming(entry, prices.get(entry.symbol, ()), market_now)
        if decision.action == "wait":
            continue
        decisions.append(decision)
        log.info("armed entry %s: %s %s", entry.id, decision.action, decision.detail)
        if decision.action == "disarm":
            await _j(
                journal.move_armed,
                entry.id,
                ArmingStatus.ARMED,
                ArmingStatus.DISARMED,
                reason=decision.reason,
                detail=decision.detail,
                now=now,
            )
            continue
        moved = await _j(
            journal.move_armed,
            entry.id,
            ArmingStatus.ARMED,
            ArmingStatus.TRIGGERED,
            detail=decision.detail,
            trigger_price=decision.price,
            triggered_at=decision.at,
            now=now,
        )
        if not isinstance(moved, ArmedEntry):
            continue  # another monitor triggered it first; it sends the order
        res = await send_triggered(data, journal, moved, now, ticks)
        if res is not None:
            results.append(res)
            if not res.ok:
                errors.append(res.message)
    return EntryPass(tuple(decisions), tuple(results), tuple(errors))
