"""Idempotent option order submission, tied to the journal (imperative shell).

Every order follows the same order of writes: journal intent (with a deterministic
``client_order_id``) → submit → journal result. When the outcome is unknown (time-out,
reset, 5xx) the broker is asked by that ``client_order_id`` before anything is decided,
and resending always reuses the id, so the broker itself refuses a second order. A double
click reuses the ``request_key`` and gets the first trade back.

Paper is the default. A live order needs ``ALPACA_LIVE_TRADING=1`` (with
``ALPACA_PAPER=false``) *and* the contract symbol typed as confirmation. Closing orders
only reduce risk, so the exit monitor sends them without a typed confirmation.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from dashboard.data_loaders.alpaca import OrderRequest
from dashboard.data_loaders.errors import NetworkError, OrderRejected
from dashboard.models import OptionQuote, Order
from dashboard.trading.journal import ExitReason, Journal, JournalTrade, TradeStatus
from dashboard.trading.ticket import TradeTicket

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.settings import Settings

__all__ = [
    "ORPHAN_GRACE",
    "PlaceResult",
    "broker_stop_request",
    "cancel_broker_stop",
    "cancel_entry",
    "entry_request",
    "exit_request",
    "live_order_refusal",
    "place_broker_stop",
    "place_entry",
    "place_exit",
    "reconcile",
    "record_fill_context",
    "sync_broker_stop",
    "sync_trade",
]

log = logging.getLogger(__name__)

# How long an intent (or exit) may stay unknown to the broker before it is called failed.
ORPHAN_GRACE = timedelta(seconds=60)
_DUPLICATE_ID = "client_order_id must be unique"
_WORKING = frozenset(
    {"new", "accepted", "pending_new", "partially_filled", "held", "pending_cancel"}
)


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """What happened to one order action, phrased for a toast."""

    ok: bool
    message: str
    trade: JournalTrade | None
    order: Order | None = None
    duplicate: bool = False  # the request had been made before; nothing new was sent


def live_order_refusal(
    settings: Settings, *, live: bool, contract: str, confirmation: str | None
) -> str | None:
    """Why a (possibly) live opening order may not be sent, or None when it may."""
    connected_live = settings.is_live
    if not live and not connected_live:
        return None
    if live and not connected_live:
        return (
            "This ticket is marked live, but the dashboard is connected to a paper account; "
            "no order was sent."
        )
    if not settings.alpaca_live_trading or settings.alpaca_paper:
        return "Live trading is off (set ALPACA_LIVE_TRADING=1 and ALPACA_PAPER=false)."
    if confirmation is None or confirmation.strip().upper() != contract.strip().upper():
        return f"Live order not sent: type the contract symbol {contract} to confirm it."
    return None


def entry_request(trade: JournalTrade) -> OrderRequest:
    """Buy to open at the planned limit, day order, with the trade's entry id."""
    return OrderRequest(
        symbol=trade.contract_symbol,
        qty=Decimal(trade.qty),
        side="buy",
        type="limit",
        time_in_force="day",
        limit_price=trade.planned_limit,
        client_order_id=trade.entry_client_order_id,
        position_intent="buy_to_open",
    )


def exit_request(trade: JournalTrade, limit: Decimal | None) -> OrderRequest:
    """Sell to close what is held, at ``limit`` or at market, with the current exit id."""
    if trade.exit_client_order_id is None:
        raise ValueError(f"trade {trade.id} has no exit id; call journal.begin_exit first")
    return OrderRequest(
        symbol=trade.contract_symbol,
        qty=Decimal(trade.open_qty),
        side="sell",
        type="limit" if limit is not None else "market",
        time_in_force="day",
        limit_price=limit,
        client_order_id=trade.exit_client_order_id,
        position_intent="sell_to_close",
    )


async def _j(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Journal calls are blocking SQL: keep them off the shared event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


Outcome = tuple[Literal["order", "rejected", "unknown"], Order | None, str]


async def _lookup(data: AsyncDataService, client_order_id: str) -> Order | None:
    return await data.alpaca.get_order_by_client_id(client_order_id)


async def _submit(data: AsyncDataService, req: OrderRequest) -> Outcome:
    """Send once; turn every ending into order / rejected(message) / unknown(message)."""
    try:
        return "order", await data.submit_order(req), ""
    except OrderRejected as exc:
        if _DUPLICATE_ID in exc.message.lower():
            # The broker already has this id: an earlier attempt got through.
            try:
                found = await _lookup(data, req.client_order_id)
            except Exception as lookup_exc:
                return "unknown", None, f"{exc.message}; lookup failed: {lookup_exc}"
            if found is not None:
                return "order", found, ""
        return "rejected", None, exc.message
    except Exception as exc:  # time-out, network, 5xx: the order may exist
        if isinstance(exc, NetworkError) and not exc.maybe_sent:
            return "rejected", None, f"not sent: {exc.message}"
        try:
            found = await _lookup(data, req.client_order_id)
        except Exception as lookup_exc:
            return "unknown", None, f"{exc}; lookup failed: {lookup_exc}"
        if found is not None:
            return "order", found, ""
        return "unknown", None, str(exc)


def _order_text(order: Order) -> str:
    px = f" at ${order.filled_avg_price:.2f}" if order.filled_avg_price is not None else ""
    return f"{order.side} {order.qty} {order.symbol}: {order.status}{px}"


async def place_entry(
    data: AsyncDataService,
    journal: Journal,
    ticket: TradeTicket,
    *,
    request_key: str | None = None,
    confirmation: str | None = None,
    now: datetime | None = None,
) -> PlaceResult:
    """Journal the intent, then send the buy-to-open limit order for a validated ticket.

    ``request_key`` names one user action (the UI makes one per confirmation dialog);
    repeating it never sends a second order. Without it every call is a new trade.
    """
    refusal = live_order_refusal(
        data.settings, live=ticket.live, contract=ticket.contract, confirmation=confirmation
    )
    if refusal is not None:
        return PlaceResult(False, refusal, None)
    if data.settings.is_live and not ticket.live:
        ticket = replace(ticket, live=True)
    key = request_key or f"auto-{uuid.uuid4().hex}"
    trade, created = await _j(journal.create_intent, ticket, request_key=key, now=now)
    if not created and (trade.entry_order_id is not None or not trade.is_active):
        return PlaceResult(
            trade.status not in (TradeStatus.REJECTED, TradeStatus.CANCELED),
            f"Already submitted: trade #{trade.id} is {trade.status}.",
            trade,
            duplicate=True,
        )
    # New, or a repeat whose first attempt has no known order yet: (re)send with the same id.
    kind, order, text = await _submit(data, entry_request(trade))
    if kind == "order":
        assert order is not None
        trade = await _j(journal.record_entry_order, trade.id, order)
        ok = trade.status not in (TradeStatus.REJECTED, TradeStatus.CANCELED)
        return PlaceResult(ok, _order_text(order), trade, order, duplicate=not created)
    if kind == "rejected":
        trade = await _j(journal.mark_rejected, trade.id, text)
        return PlaceResult(False, f"Rejected: {text}", trade, duplicate=not created)
    trade = await _j(journal.set_message, trade.id, f"not confirmed: {text}")
    return PlaceResult(
        False,
        f"Not confirmed by the broker ({text}). The order was not found by its id; "
        "it will be checked again before being marked failed.",
        trade,
        duplicate=not created,
    )


async def place_exit(
    data: AsyncDataService,
    journal: Journal,
    trade_id: int,
    reason: ExitReason | str = ExitReason.MANUAL,
    *,
    limit: Decimal | None = None,
    underlying_price: float | None = None,
    now: datetime | None = None,
) -> PlaceResult:
    """Sell to close an open trade: marked ``exiting`` first, so it can fire only once.

    A working broker-held stop is canceled first (it holds the contracts, and two exits
    must never both fill); if it filled meanwhile, the trade closed with that fill and
    no software exit is sent."""
    current = await _j(journal.get, trade_id)
    if current is not None and _stop_working(current):
        stopped = await cancel_broker_stop(data, journal, current)
        if stopped.status is TradeStatus.CLOSED:
            return PlaceResult(
                False,
                f"Trade #{trade_id} was closed by its broker-held stop; no exit sent.",
                stopped,
                duplicate=True,
            )
        if _stop_working(stopped):
            return PlaceResult(
                False,
                f"Trade #{trade_id}: the broker-held stop could not be canceled "
                f"({stopped.broker_stop_status}); no exit sent.",
                stopped,
            )
    trade = await _j(
        journal.begin_exit, trade_id, reason, underlying_price=underlying_price, now=now
    )
    if trade is None:
        current = await _j(journal.get, trade_id)
        status = current.status if current is not None else "unknown"
        return PlaceResult(
            False,
            f"Trade #{trade_id} is {status}; no exit sent.",
            current,
            duplicate=status == TradeStatus.EXITING,
        )
    kind, order, text = await _submit(data, exit_request(trade, limit))
    if kind == "order":
        assert order is not None
        trade = await _j(journal.record_exit_order, trade.id, order)
        return PlaceResult(True, f"Exit ({reason}): {_order_text(order)}", trade, order)
    if kind == "rejected":
        trade = await _j(journal.exit_failed, trade.id, f"exit rejected: {text}")
        return PlaceResult(False, f"Exit rejected: {text}", trade)
    trade = await _j(journal.set_message, trade.id, f"exit not confirmed: {text}")
    return PlaceResult(False, f"Exit not confirmed by the broker ({text}).", trade)


async def cancel_entry(data: AsyncDataService, journal: Journal, trade_id: int) -> PlaceResult:
    """Cancel a working entry order; a partly filled one becomes an open trade."""
    trade = await _j(journal.get, trade_id)
    if trade is None or trade.status is not TradeStatus.PENDING_ENTRY:
        status = trade.status if trade is not None else "unknown"
        return PlaceResult(False, f"Trade #{trade_id} is {status}; nothing to cancel.", trade)
    order = await _lookup(data, trade.entry_client_order_id)
    if order is None:
        trade = await _j(journal.mark_canceled, trade_id, "canceled before reaching the broker")
        return PlaceResult(True, "Canceled (the order never reached the broker).", trade)
    message = "Cancel requested."
    try:
        await data.cancel_order(order.id)
    except OrderRejected as exc:
        message = f"Could not cancel: {exc.message}"
    refreshed = await _lookup(data, trade.entry_client_order_id) or order
    trade = await _j(journal.record_entry_order, trade_id, refreshed)
    ok = trade.status is TradeStatus.CANCELED
    if ok:
        message = "Entry order canceled."
    return PlaceResult(ok, message, trade, refreshed)


async def sync_trade(
    data: AsyncDataService,
    journal: Journal,
    trade: JournalTrade,
    *,
    now: datetime | None = None,
    grace: timedelta = ORPHAN_GRACE,
) -> JournalTrade:
    """Bring one trade up to the broker's view of its current order (fills, expiries).

    An intent the broker has never heard of after ``grace`` is marked canceled (entry) or
    returned to open (exit); a lookup that fails leaves the trade as it is.
    """
    now = now or datetime.now(UTC)
    try:
        if trade.status is TradeStatus.PENDING_ENTRY:
            order = await _lookup(data, trade.entry_client_order_id)
            if order is not None:
                return await _j(journal.record_entry_order, trade.id, order)
            if now - trade.created_at >= grace:
                return await _j(
                    journal.mark_canceled, trade.id, "the order never reached the broker"
                )
        elif trade.status is TradeStatus.EXITING and trade.exit_client_order_id:
            order = await _lookup(data, trade.exit_client_order_id)
            if order is not None:
                return await _j(journal.record_exit_order, trade.id, order)
            started = trade.exit_requested_at or trade.updated_at
            if now - started >= grace:
                return await _j(
                    journal.exit_failed, trade.id, "the exit order never reached the broker"
                )
    except Exception as exc:  # the broker is unreachable: try again next time
        log.warning("could not sync trade %s: %s", trade.id, exc)
    return trade


async def reconcile(
    data: AsyncDataService, journal: Journal, *, now: datetime | None = None
) -> list[JournalTrade]:
    """On start: settle every unfinished trade against the broker (crash recovery)."""
    out = []
    for trade in await _j(journal.active_trades):
        out.append(await sync_trade(data, journal, trade, now=now))
    return out


# ---- fill context ----------------------------------------------------------------------------


async def record_fill_context(
    journal: Journal,
    trade: JournalTrade,
    underlying_price: float | None,
    quote: OptionQuote | None,
) -> JournalTrade:
    """Keep the underlying's price and the contract's IV and delta at the entry fill, as
    first seen by the monitor after the fill (within one pass of it)."""
    if underlying_price is None:
        return trade
    return await _j(
        journal.record_fill_context,
        trade.id,
        underlying_price=underlying_price,
        iv=quote.iv if quote is not None else None,
        delta=quote.delta if quote is not None else None,
    )


# ---- the broker-held protective stop ---------------------------------------------------------


def _stop_working(trade: JournalTrade) -> bool:
    return trade.broker_stop_client_order_id is not None and (
        trade.broker_stop_status is None or trade.broker_stop_status in _WORKING
    )


def broker_stop_request(trade: JournalTrade) -> OrderRequest:
    """Sell to close what is held if the option trades at or below the stop (a stop, or a
    stop-limit when a limit was set); good till canceled, like the trade it protects."""
    if trade.broker_stop_client_order_id is None or trade.broker_stop_price is None:
        raise ValueError(f"trade {trade.id} has no broker stop; call begin_broker_stop first")
    return OrderRequest(
        symbol=trade.contract_symbol,
        qty=Decimal(trade.open_qty),
        side="sell",
        type="stop_limit" if trade.broker_stop_limit is not None else "stop",
        time_in_force="gtc",
        limit_price=trade.broker_stop_limit,
        stop_price=trade.broker_stop_price,
        client_order_id=trade.broker_stop_client_order_id,
        position_intent="sell_to_close",
    )


async def place_broker_stop(
    data: AsyncDataService,
    journal: Journal,
    trade_id: int,
    stop_price: Decimal,
    limit_price: Decimal | None = None,
    *,
    now: datetime | None = None,
) -> PlaceResult:
    """Place the optional protective stop on an open trade's option (journal first)."""
    if stop_price <= 0 or (limit_price is not None and limit_price <= 0):
        return PlaceResult(False, "The stop and its limit must be above zero.", None)
    trade = await _j(
        journal.begin_broker_stop, trade_id, stop_price=stop_price, limit_price=limit_price, now=now
    )
    if trade is None:
        current = await _j(journal.get, trade_id)
        return PlaceResult(
            False,
            f"Trade #{trade_id} is not open or already has a working broker stop.",
            current,
        )
    kind, order, text = await _submit(data, broker_stop_request(trade))
    if kind == "order":
        assert order is not None
        trade = await _j(journal.record_broker_stop, trade.id, order)
        return PlaceResult(
            True, f"Broker stop: {_order_text(order)} (stop {stop_price})", trade, order
        )
    if kind == "rejected":
        trade = await _j(journal.record_broker_stop, trade.id, None, status="rejected")
        return PlaceResult(False, f"Broker stop rejected: {text}", trade)
    return PlaceResult(False, f"Broker stop not confirmed by the broker ({text}).", trade)


async def sync_broker_stop(
    data: AsyncDataService,
    journal: Journal,
    trade: JournalTrade,
    *,
    now: datetime | None = None,
) -> JournalTrade:
    """The broker's view of a working protective stop; a fill closes the trade with it."""
    if not _stop_working(trade) or trade.broker_stop_client_order_id is None:
        return trade
    try:
        order = await _lookup(data, trade.broker_stop_client_order_id)
    except Exception as exc:
        log.warning("could not sync the broker stop of trade %s: %s", trade.id, exc)
        return trade
    if order is None:
        if now is not None and trade.updated_at and now - trade.updated_at >= ORPHAN_GRACE:
            return await _j(journal.record_broker_stop, trade.id, None, status="rejected")
        return trade
    return await _j(journal.record_broker_stop, trade.id, order, now=now)


async def cancel_broker_stop(
    data: AsyncDataService, journal: Journal, trade: JournalTrade
) -> JournalTrade:
    """Cancel the working protective stop and record how it ended (canceled, or filled
    first, in which case the trade is closed with that fill)."""
    if trade.broker_stop_client_order_id is None:
        return trade
    order = await _lookup(data, trade.broker_stop_client_order_id)
    if order is None:
        return await _j(journal.record_broker_stop, trade.id, None, status="canceled")
    if order.status in _WORKING:
        try:
            await data.cancel_order(order.id)
        except OrderRejected as exc:  # filled meanwhile, most likely
            log.info("trade %s: broker stop cancel refused: %s", trade.id, exc.message)
        order = await _lookup(data, trade.broker_stop_client_order_id) or order
    return await _j(journal.record_broker_stop, trade.id, order)
