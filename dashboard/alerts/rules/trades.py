"""The alert rules: hand-made inputs in, typed ``AlertEvent`` records out.

Pure (no I/O, no clock reads): the engine (``alerts.engine``) gathers the journal's trades,
quotes, the signal board, the account and the data service's health, and hands them here
with the broker's time. Every event has a deterministic key built from what it is about,
so evaluating the same facts again, after a restart or in a second process, gives the same
keys and the store keeps one row per key:

- a trade event is keyed by the trade id and the step (``trade:7:entry_filled``,
  ``trade:7:exit:2:sent``): each step happens once per trade (or per exit attempt);
- a signal event by the board's stable signal id and the state (``signal:<id>:triggered``);
- a condition (heat over its limit, an upstream down, the monitor silent) by its name and
  the episode number (``heat#3``, ``heat#3:cleared``), counted from the alerts already
  stored, so a condition that clears and returns alerts again, once per episode;
- the daily loss limit by the New York trading date (once a day).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dashboard.alerts.kinds import AlertKind, Severity
from dashboard.alerts.records import (
    AlertEvent,
    ConditionState,
    Heartbeat,
    SignalSubscriptions,
    SignalWatch,
    SourceHealth,
    Value,
)
from dashboard.conventions import NEW_YORK
from dashboard.options.expiry import days_to_expiry
from dashboard.options.occ import display_occ
from dashboard.strat.board import SignalRow
from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES
from dashboard.trading.records import ExitReason, JournalTrade, TradeStatus
from dashboard.views.formatting import format_et, format_money, format_number

__all__ = [
    "AlertConfig",
    "armed_entry_sent_event",
    "daily_loss_events",
    "heartbeat_events",
    "heat_events",
    "near_stop_fraction",
    "signal_events",
    "stale_events",
    "trade_events",
]

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


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Every rule's threshold and switch (``Settings``' ``DASHBOARD_ALERT_*`` block)."""

    off: frozenset[AlertKind] = frozenset()
    near_stop_pct: float = 25.0  # of the entry-to-stop distance, measured from the stop
    expiry_days: int = 2  # calendar days to expiry, New York date
    heat_limit_pct: float = 8.0
    heat_clear_ratio: float = 0.9  # heat must fall below 90% of the limit to re-arm
    daily_loss_limit_pct: float = 3.0
    heartbeat_intervals: int = 6  # no pass for this many monitor intervals
    stale_seconds: float = 120.0
    signal_timeframes: tuple[str, ...] = SIGNAL_TIMEFRAMES

    def on(self, kind: AlertKind) -> bool:
        return kind not in self.off


def _event(
    kind: AlertKind,
    severity: Severity,
    key: str,
    at: datetime,
    title: str,
    message: str,
    *,
    values: Mapping[str, Value],
    condition: str | None = None,
) -> AlertEvent:
    return AlertEvent(
        key=key,
        kind=kind,
        severity=severity,
        at=at,
        title=title,
        message=message,
        condition=condition,
        values=dict(values),
    )


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


# ---- trades -----------------------------------------------------------------------------


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


# ---- signals ----------------------------------------------------------------------------


def _tfc_text(row: SignalRow) -> str:
    """The scanner's continuity relative to the trade: "TFC aligned 3/3 with the long"."""
    if row.tfc.label is None:
        return "TFC unknown"
    return f"TFC {row.tfc.label} with the {row.direction}"


def signal_events(
    rows: Sequence[SignalRow],
    subscriptions: SignalSubscriptions,
    watches: Mapping[str, SignalWatch],
    now: datetime,
    config: AlertConfig,
) -> list[AlertEvent]:
    """A setup forming (pending) and a setup triggering (in force), per timeframe, for the
    (symbol, timeframe) pairs subscribed; a watched signal alerts on its trigger even when
    its pair or the rule is off. Low-magnitude setups alert only when watched.

    The first time a setup is seen it may already be in force: then only the trigger is
    raised, never a late "formed".
    """
    out: list[AlertEvent] = []
    for row in rows:
        watched = row.id in watches
        subscribed = subscriptions.is_on(row.symbol, row.timeframe)
        if row.category == "low_magnitude" and not watched:
            continue
        t1 = f", T1 {format_number(row.target1)}" if row.target1 is not None else ""
        rr = f" (R {row.reward_risk:.1f})" if row.reward_risk is not None else ""
        levels = f"stop {format_number(row.stop)}{t1}{rr}"
        name = f"{row.symbol} {row.timeframe} {row.label}"
        if row.status == "triggered":
            if not (watched or (subscribed and config.on(AlertKind.SIGNAL_TRIGGERED))):
                continue
            when = f" at {format_et(row.triggered_at, '%a %H:%M')}" if row.triggered_at else ""
            out.append(
                _signal_event(
                    row,
                    AlertKind.SIGNAL_TRIGGERED,
                    "warning" if watched else "info",
                    now,
                    f"{name} in force",
                    f"{name} ({row.direction}) traded through the trigger "
                    f"{format_number(row.entry)}{when}; {levels}. {_tfc_text(row)}."
                    + (" You asked to be told when it triggers." if watched else ""),
                    watched,
                )
            )
        elif row.status == "pending" and subscribed and config.on(AlertKind.SIGNAL_PENDING):
            out.append(
                _signal_event(
                    row,
                    AlertKind.SIGNAL_PENDING,
                    "info",
                    now,
                    f"{name} pending",
                    f"{name} ({row.direction}) formed: trigger {format_number(row.entry)}, "
                    f"{levels}; price {format_number(row.price)}. {_tfc_text(row)}.",
                    watched,
                )
            )
    return out


def _signal_event(
    row: SignalRow,
    kind: AlertKind,
    severity: Severity,
    now: datetime,
    title: str,
    message: str,
    watched: bool,
) -> AlertEvent:
    state = "triggered" if kind is AlertKind.SIGNAL_TRIGGERED else "pending"
    return AlertEvent(
        key=f"signal:{row.id}:{state}",
        kind=kind,
        severity=severity,
        at=now,
        title=title,
        message=message,
        symbol=row.symbol,
        signal_id=row.id,
        timeframe=row.timeframe,
        values={
            "pattern": row.label,
            "direction": row.direction,
            "entry": row.entry,
            "stop": row.stop,
            "target": row.target1,
            "reward_risk": row.reward_risk,
            "price": row.price,
            "tfc": row.tfc.label,
            "tfc_agree": row.tfc.agree,
            "tfc_n": row.tfc.n,
            "tfc_agrees": row.tfc.stance == "aligned",
            "watched": watched,
            "triggered_at": row.triggered_at.isoformat() if row.triggered_at else None,
        },
    )


# ---- conditions (raise once per episode, clear once) --------------------------------------


def _raise_key(condition: str, state: ConditionState) -> str:
    return f"{condition}#{state.raised + 1}"


def _clear_key(condition: str, state: ConditionState) -> str:
    return f"{condition}#{state.raised}:cleared"


def heat_events(
    heat_pct: float | None,
    *,
    total_risk: float,
    equity: float,
    state: ConditionState,
    at: datetime,
    config: AlertConfig,
    note: str = "",
) -> list[AlertEvent]:
    """Portfolio heat (risk to every stop, % of equity) over its limit: raised once, and
    cleared once it is back under ``heat_clear_ratio`` of the limit (no flapping at it)."""
    if not config.on(AlertKind.HEAT_OVER) or heat_pct is None or not math.isfinite(heat_pct):
        return []
    limit = config.heat_limit_pct
    values: dict[str, Value] = {
        "heat_pct": round(heat_pct, 3),
        "limit_pct": limit,
        "risk": round(total_risk, 2),
        "equity": round(equity, 2),
    }
    tail = f" {note}" if note else ""
    if heat_pct > limit and not state.active:
        return [
            _event(
                AlertKind.HEAT_OVER,
                "critical",
                _raise_key("heat", state),
                at,
                f"Portfolio heat {heat_pct:.2f}% over its {limit:g}% limit",
                f"Risk to every stop is {format_money(total_risk)}, {heat_pct:.2f}% of equity "
                f"{format_money(equity)}; the limit is {limit:g}%.{tail}",
                condition="heat",
                values=values,
            )
        ]
    if state.active and heat_pct <= limit * config.heat_clear_ratio:
        return [
            _event(
                AlertKind.HEAT_OK,
                "info",
                _clear_key("heat", state),
                at,
                f"Portfolio heat back to {heat_pct:.2f}%",
                f"Risk to every stop is {format_money(total_risk)}, {heat_pct:.2f}% of equity, "
                f"under the {limit:g}% limit again.{tail}",
                condition="heat",
                values=values,
            )
        ]
    return []


def daily_loss_events(
    day_pnl_pct: float | None,
    day_pnl: float,
    equity: float,
    *,
    at: datetime,
    config: AlertConfig,
) -> list[AlertEvent]:
    """Today's loss (equity vs yesterday's close) at or past the daily limit: once a day."""
    if not config.on(AlertKind.DAILY_LOSS) or day_pnl_pct is None or not math.isfinite(day_pnl_pct):
        return []
    limit = config.daily_loss_limit_pct
    if day_pnl_pct > -limit:
        return []
    day = at.astimezone(NEW_YORK).date()
    return [
        _event(
            AlertKind.DAILY_LOSS,
            "critical",
            f"daily_loss:{day.isoformat()}",
            at,
            f"Daily loss limit reached: {day_pnl_pct:+.2f}%",
            f"The account is {format_money(day_pnl, signed=True)} ({day_pnl_pct:+.2f}%) since "
            f"yesterday's close (equity {format_money(equity)}); the daily loss limit is "
            f"{limit:g}%.",
            values={
                "day_pnl": round(day_pnl, 2),
                "day_pnl_pct": round(day_pnl_pct, 3),
                "limit_pct": limit,
                "equity": round(equity, 2),
                "date": day.isoformat(),
            },
        )
    ]


def heartbeat_events(
    beat: Heartbeat | None,
    *,
    machine_now: datetime,
    watching_for: float,
    state: ConditionState,
    at: datetime,
    config: AlertConfig,
) -> list[AlertEvent]:
    """The trade monitor has made no pass for more than ``heartbeat_intervals`` of its own
    interval: raised once (after this watcher has itself watched that long, so a process
    that just started does not judge a monitor that is starting too), recovered once.

    Ages are measured on one machine clock (the beat's and ``machine_now``); ``at`` is the
    broker's time the event carries.
    """
    if beat is None or not config.on(AlertKind.HEARTBEAT_LOST):
        return []
    allowed = config.heartbeat_intervals * beat.interval_seconds
    silent = (machine_now - beat.beat_at).total_seconds()
    values: dict[str, Value] = {
        "silent_seconds": round(silent, 1),
        "interval_seconds": beat.interval_seconds,
        "intervals": config.heartbeat_intervals,
        "holder": beat.holder,
    }
    if silent > allowed and watching_for >= allowed and not state.active:
        return [
            _event(
                AlertKind.HEARTBEAT_LOST,
                "critical",
                _raise_key("heartbeat", state),
                at,
                "Trade monitor heartbeat lost",
                f"No trade monitor pass for {silent:.0f} s (over {config.heartbeat_intervals} "
                f"intervals of {beat.interval_seconds:g} s). Stops, targets and alerts are not "
                "being watched until a monitor runs again.",
                condition="heartbeat",
                values=values,
            )
        ]
    if state.active and silent <= allowed:
        return [
            _event(
                AlertKind.RECOVERED,
                "info",
                _clear_key("heartbeat", state),
                at,
                "Trade monitor running again",
                f"The trade monitor passes again (last pass {silent:.0f} s ago, every "
                f"{beat.interval_seconds:g} s).",
                condition="heartbeat",
                values=values,
            )
        ]
    return []


def stale_events(
    sources: Mapping[str, SourceHealth],
    states: Mapping[str, ConditionState],
    *,
    at: datetime,
    config: AlertConfig,
) -> list[AlertEvent]:
    """An upstream down (every call failing) for ``stale_seconds`` or more: raised once per
    outage, recovered once when it answers again. ``states`` is keyed by condition name
    (``stale:<source>``)."""
    if not config.on(AlertKind.UPSTREAM_STALE):
        return []
    out: list[AlertEvent] = []
    for source, health in sorted(sources.items()):
        condition = f"stale:{source}"
        state = states.get(condition, ConditionState())
        values: dict[str, Value] = {
            "source": source,
            "state": health.state,
            "down_seconds": health.down_for,
            "threshold_seconds": config.stale_seconds,
        }
        if (
            health.down_for is not None
            and health.down_for >= config.stale_seconds
            and not state.active
        ):
            out.append(
                _event(
                    AlertKind.UPSTREAM_STALE,
                    "critical",
                    _raise_key(condition, state),
                    at,
                    f"{source} down for {health.down_for:.0f} s",
                    f"Every call to {source} has failed for {health.down_for:.0f} s; prices "
                    "and orders from it are stale, and exits wait for fresh prices.",
                    condition=condition,
                    values=values,
                )
            )
        elif state.active and health.state == "connected":
            out.append(
                _event(
                    AlertKind.RECOVERED,
                    "info",
                    _clear_key(condition, state),
                    at,
                    f"{source} recovered",
                    f"{source} answers again; prices are fresh.",
                    condition=condition,
                    values=values,
                )
            )
    return out
