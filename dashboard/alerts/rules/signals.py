"""Signal events: the signal board's rows in, "pending" and "in force" events out.

Keyed by the board's stable signal id and the state (``signal:<id>:triggered``), so a
setup alerts once per state however often the board is scanned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from dashboard.alerts.kinds import AlertKind, Severity
from dashboard.alerts.records import AlertEvent, SignalSubscriptions, SignalWatch
from dashboard.alerts.rules.config import AlertConfig
from dashboard.strat.board import SignalRow
from dashboard.views.formatting import format_et, format_number

__all__ = ["signal_events"]


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
