"""Trade events: the journal's trade records and fresh underlying prices in, events out.

Each step of a trade happens once per trade (or per exit attempt), so its key is the
trade id and the step (``trade:7:entry_filled``, ``trade:7:exit:2:sent``). An armed entry's
order is keyed by the arming (``armed:<id>:sent``). Price rules (near the stop, T1) judge
the underlying against the trade's own journaled levels, as the exit monitor does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from dashboard.alerts.kinds import AlertKind, Severity
from dashboard.alerts.records import AlertEvent, Value
from dashboard.alerts.rules.config import AlertConfig
from dashboard.options.expiry import days_to_expiry
from dashboard.options.occ import display_occ
from dashboard.trading.records import ExitReason, JournalTrade, TradeStatus
from dashboard.views.formatting import format_money, format_number

__all__ = ["armed_entry_sent_event", "near_stop_fraction", "trade_events"]

# Broker order states after which an unfilled order never fills.
_EXPIRED_ORDER = frozenset({"expired", "done_for_day", "canceled", "stopped"})
_EXIT_REASON_TEXT = {
    ExitReason.TARGET.value: "target hit",
    ExitReason.STOP.value: "stop hit",
    ExitReason.MANUAL.value: "closed by hand",
    ExitReason.EXPIRY.value: "expired",
    ExitReason.DTE_FLOOR.value: "DTE floor reached",
    ExitReason.MAX_LOSS.value: "max loss on premium",
}


def _trade_event(
    t: JournalTrade,
    kind: AlertKind,
    severity: Severity,
    step: str,
    at: datetime,
    title: str,
    message: str,
    values: Mapping[str, Value],
) -> AlertEvent:
    """A trade's event, keyed ``trade:<id>:<step>``, with the trade's levels in its values."""
    return AlertEvent(
        key=f"trade:{t.id}:{step}",
        kind=kind,
        severity=severity,
        at=at,
        title=title,
        message=message,
        symbol=t.underlying,
        trade_id=t.id,
        signal_id=t.signal_id,
        timeframe=t.timeframe,
        values={
            "direction": t.direction,
            "contract": t.contract_symbol,
            "entry": t.entry_level,
            "stop": t.stop_level,
            "target": t.target_level,
            **values,
        },
    )


def _num(x: float | Decimal | None) -> float | None:
    return None if x is None else float(x)


def near_stop_fraction(direction: str, entry: float, stop: float, price: float) -> float | None:
    """How much of the entry-to-stop distance is left, from the stop: 1 at the entry, 0 at
    the stop, negative through it; the same for longs and shorts. None without a distance."""
    risk = entry - stop
    if risk == 0 or not all(math.isfinite(v) for v in (entry, stop, price)):
        return None
    if (direction == "long") != (risk > 0):
        return None  # a stop on the wrong side of the entry: no meaningful distance
    return (price - stop) / risk


def _t1_reached(direction: str, target: float, price: float) -> bool:
    return price >= target if direction == "long" else price <= target


def _contract(trade: JournalTrade) -> str:
    try:
        return display_occ(trade.contract_symbol)
    except ValueError:
        return trade.contract_symbol


def trade_events(
    trades: Iterable[JournalTrade],
    prices: Mapping[str, float],
    now: datetime,
    config: AlertConfig,
) -> list[AlertEvent]:
    """Every trade event the journal's records and the underlyings' fresh prices show.

    ``prices`` holds only fresh mids (the shell drops stale quotes); ``now`` is the broker's
    time. Price rules (near the stop, T1) judge the underlying, as the exit monitor does,
    against the trade's own levels: the near-stop distance is measured from the journaled
    entry level to the stop.
    """
    out: list[AlertEvent] = []
    for t in trades:
        out.extend(_entry_events(t, now))
        out.extend(_exit_events(t, now))
        out.extend(_price_events(t, prices.get(t.underlying), now, config))
    return [e for e in out if config.on(e.kind)]


def _entry_events(t: JournalTrade, now: datetime) -> list[AlertEvent]:
    out: list[AlertEvent] = []
    name = _contract(t)
    filled = t.entry_filled_qty
    px = t.entry_fill_price
    setup = " ".join(x for x in (t.pattern, t.timeframe) if x) or "no signal"
    if filled >= t.qty and filled > 0 and px is not None:
        out.append(
            _trade_event(
                t,
                AlertKind.ENTRY_FILLED,
                "info",
                "entry_filled",
                t.entry_filled_at or now,
                f"Entry filled: {name}",
                f"Bought {filled} {name} at {format_money(px)} ({t.direction}, {setup}); "
                f"stop {format_number(t.stop_level)}, target {format_number(t.target_level)}.",
                {"qty": filled, "fill_price": _num(px)},
            )
        )
    elif 0 < filled < t.qty and px is not None:
        out.append(
            _trade_event(
                t,
                AlertKind.PARTIAL_FILL,
                "info",
                f"entry_partial:{filled}",
                t.entry_filled_at or now,
                f"Partial fill: {name}",
                f"Entry order for {name}: {filled} of {t.qty} filled at {format_money(px)}.",
                {"qty": t.qty, "filled_qty": filled, "fill_price": _num(px), "order": "entry"},
            )
        )
    why = t.status_message or t.entry_order_status or "no reason given"
    if t.status is TradeStatus.REJECTED:
        out.append(
            _trade_event(
                t,
                AlertKind.ORDER_REJECTED,
                "warning",
                "entry_rejected",
                now,
                f"Entry rejected: {name}",
                f"The entry order for {t.qty} {name} was refused: {why}.",
                {"qty": t.qty, "order": "entry"},
            )
        )
    elif t.status is TradeStatus.CANCELED or (
        t.entry_order_status in _EXPIRED_ORDER and 0 < filled < t.qty
    ):
        state = t.entry_order_status or "canceled"
        rest = f"; {filled} of {t.qty} had filled and stay open" if filled else ""
        out.append(
            _trade_event(
                t,
                AlertKind.ORDER_EXPIRED,
                "warning",
                "entry_ended",
                now,
                f"Entry {state}: {name}",
                f"The entry order for {t.qty} {name} ended ({why}){rest}.",
                {"qty": t.qty, "filled_qty": filled, "order": "entry", "order_status": state},
            )
        )
    return out


def _exit_events(t: JournalTrade, now: datetime) -> list[AlertEvent]:
    out: list[AlertEvent] = []
    n = t.exit_attempts
    if n < 1:
        return out
    name = _contract(t)
    reason = t.exit_reason or ""
    reason_text = _EXIT_REASON_TEXT.get(reason, reason or "exit")
    under = t.exit_underlying_price
    at_price = f", {t.underlying} at {format_number(under)}" if under is not None else ""
    common: dict[str, Value] = {"reason": reason, "attempt": n, "underlying_price": under}
    if t.exit_order_id is not None:
        out.append(
            _trade_event(
                t,
                AlertKind.EXIT_SENT,
                "info",
                f"exit:{n}:sent",
                now,
                f"Exit sent ({reason_text}): {name}",
                f"Sell order for {name} sent ({reason_text}{at_price}; attempt {n}).",
                common,
            )
        )
    status = t.exit_order_status or ""
    if status == "rejected":
        out.append(
            _trade_event(
                t,
                AlertKind.ORDER_REJECTED,
                "critical",
                f"exit:{n}:rejected",
                now,
                f"Exit rejected: {name}",
                f"The exit ({reason_text}) for {name} was not accepted: "
                f"{t.status_message or 'rejected'}. The position is still open; the monitor "
                "tries again.",
                {**common, "order": "exit"},
            )
        )
    elif status in ("expired", "done_for_day"):
        out.append(
            _trade_event(
                t,
                AlertKind.ORDER_EXPIRED,
                "warning",
                f"exit:{n}:ended",
                now,
                f"Exit {status}: {name}",
                f"The exit order ({reason_text}) for {name} {status} unfilled; the position is "
                "still open and the monitor tries again.",
                {**common, "order": "exit", "order_status": status},
            )
        )
    if t.status is TradeStatus.CLOSED and t.exit_price is not None:
        pnl = t.realized_pnl
        cost = t.entry_cost
        pct = float(pnl) / float(cost) * 100.0 if cost else None
        pct_text = f" ({pct:+.1f}% on premium)" if pct is not None else ""
        out.append(
            _trade_event(
                t,
                AlertKind.EXIT_FILLED,
                "info",
                "exit_filled",
                t.exit_filled_at or now,
                f"Exit filled ({reason_text}): {name} {format_money(pnl, signed=True)}",
                f"Sold {t.closed_qty} {name} at {format_money(t.exit_price)} "
                f"({reason_text}{at_price}). Realised P&L "
                f"{format_money(pnl, signed=True)}{pct_text}.",
                {
                    **common,
                    "qty": t.closed_qty,
                    "exit_price": _num(t.exit_price),
                    "entry_price": _num(t.entry_fill_price),
                    "pnl": float(pnl),
                    "pnl_pct": pct,
                },
            )
        )
    elif 0 < t.closed_qty < t.entry_filled_qty:
        out.append(
            _trade_event(
                t,
                AlertKind.PARTIAL_FILL,
                "info",
                f"exit_partial:{t.closed_qty}",
                t.exit_filled_at or now,
                f"Partial exit: {name}",
                f"Sold {t.closed_qty} of {t.entry_filled_qty} {name} at "
                f"{format_money(t.exit_price)} ({reason_text}); {t.open_qty} still open.",
                {
                    **common,
                    "closed_qty": t.closed_qty,
                    "exit_price": _num(t.exit_price),
                    "order": "exit",
                },
            )
        )
    return out


def _price_events(
    t: JournalTrade, price: float | None, now: datetime, config: AlertConfig
) -> list[AlertEvent]:
    out: list[AlertEvent] = []
    name = _contract(t)
    held = t.status is TradeStatus.OPEN and t.open_qty > 0
    live = t.status in (TradeStatus.OPEN, TradeStatus.EXITING) and t.open_qty > 0
    if held and price is not None:
        left = near_stop_fraction(t.direction, t.entry_level, t.stop_level, price)
        if left is not None and left <= config.near_stop_pct / 100.0:
            where = (
                "through its stop" if left <= 0 else f"{left * 100:.0f}% of the way from its stop"
            )
            out.append(
                _trade_event(
                    t,
                    AlertKind.NEAR_STOP,
                    "warning",
                    "near_stop",
                    now,
                    f"Near the stop: {t.underlying} {format_number(price)}",
                    f"{t.underlying} at {format_number(price)} is {where} "
                    f"(stop {format_number(t.stop_level)}, entry {format_number(t.entry_level)}; "
                    f"alert within {config.near_stop_pct:g}% of the entry-to-stop distance). "
                    f"Held: {t.open_qty} {name}.",
                    {
                        "price": price,
                        "left_pct": round(left * 100, 2),
                        "threshold_pct": config.near_stop_pct,
                    },
                )
            )
    hit_by_price = live and price is not None and _t1_reached(t.direction, t.target_level, price)
    hit_by_exit = t.exit_reason == ExitReason.TARGET.value and t.exit_attempts > 0
    if hit_by_price or hit_by_exit:
        seen = price if hit_by_price else t.exit_underlying_price
        out.append(
            _trade_event(
                t,
                AlertKind.T1_REACHED,
                "info",
                "t1",
                now,
                f"T1 reached: {t.underlying} {format_number(seen)}",
                f"{t.underlying} reached T1 {format_number(t.target_level)} ({t.direction}; "
                f"at {format_number(seen)}). Held: {name}.",
                {"price": seen},
            )
        )
    if held:
        days = days_to_expiry(t.expiry, now)
        if days <= config.expiry_days:
            when = "today" if days == 0 else ("has expired" if days < 0 else f"in {days} day(s)")
            out.append(
                _trade_event(
                    t,
                    AlertKind.NEAR_EXPIRY,
                    "warning",
                    "near_expiry",
                    now,
                    f"Expiry {when}: {name}",
                    f"{name} expires {when} ({t.expiry:%a %b %d}); {t.open_qty} held. "
                    f"Alert at {config.expiry_days} day(s) or less.",
                    {"days_to_expiry": days, "expiry": t.expiry.isoformat()},
                )
            )
    return out


def armed_entry_sent_event(
    *,
    armed_id: int | str,
    symbol: str,
    contract_symbol: str,
    direction: str,
    trigger: float,
    underlying_price: float,
    qty: int,
    limit: float | Decimal,
    at: datetime,
    trade_id: int | None = None,
    signal_id: str | None = None,
    timeframe: str | None = None,
) -> AlertEvent:
    """The event for an armed entry whose trigger traded and whose order went out (for
    the trade monitor's armed entries: ``alerts.record(journal, armed_entry_sent_event(…))``
    right after the order is sent). Keyed by the arming, so it is recorded once."""
    try:
        name = display_occ(contract_symbol)
    except ValueError:
        name = contract_symbol
    return AlertEvent(
        key=f"armed:{armed_id}:sent",
        kind=AlertKind.ARMED_ENTRY_SENT,
        severity="warning",
        at=at,
        title=f"Armed entry sent: {name}",
        message=(
            f"{symbol} traded through the trigger {format_number(trigger)} (at "
            f"{format_number(underlying_price)}): buy {qty} {name} limit {format_money(limit)} "
            f"sent ({direction})."
        ),
        symbol=symbol,
        trade_id=trade_id,
        signal_id=signal_id,
        timeframe=timeframe,
        values={
            "armed_id": str(armed_id),
            "direction": direction,
            "trigger": trigger,
            "price": underlying_price,
            "qty": qty,
            "limit": float(limit),
            "contract": contract_symbol,
        },
    )
