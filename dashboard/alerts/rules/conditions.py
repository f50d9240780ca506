"""Condition events: states that hold for a while (heat over its limit, the daily loss
limit, the trade monitor silent, an upstream down) rather than steps that happen once.

A condition raises once per episode and clears once: its key is its name and the
episode number (``heat#3``, ``heat#3:cleared``), counted from the alerts already stored
(``ConditionState``), so one that clears and returns alerts again. The daily loss limit
is keyed by the New York trading date instead (once a day).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from dashboard.alerts.kinds import AlertKind, Severity
from dashboard.alerts.records import AlertEvent, ConditionState, Heartbeat, SourceHealth, Value
from dashboard.alerts.rules.config import AlertConfig
from dashboard.conventions import NEW_YORK
from dashboard.views.formatting import format_money

__all__ = ["daily_loss_events", "heartbeat_events", "heat_events", "stale_events"]


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
