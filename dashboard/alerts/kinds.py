"""The alert kinds, their groups and severities: names only, no dependencies.

Settings import this to validate ``DASHBOARD_ALERT_OFF``, so it imports nothing from the
package. A kind is what a trader filters by; a *rule* is what can be turned off. Most
rules raise one kind; a condition rule also records when its condition clears
(``CLEAR_OF``: heat back under its limit, an upstream or the monitor recovered), and
turning the rule off silences both.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Literal

__all__ = [
    "CLEAR_OF",
    "GROUPS",
    "KIND_LABELS",
    "RULES",
    "AlertKind",
    "Severity",
    "parse_rules_off",
]

Severity = Literal["info", "warning", "critical"]


class AlertKind(enum.StrEnum):
    # Watchlist signals, per timeframe.
    SIGNAL_PENDING = "signal.pending"
    SIGNAL_TRIGGERED = "signal.triggered"
    # Trades.
    ARMED_ENTRY_SENT = "trade.armed_entry_sent"
    ENTRY_FILLED = "trade.entry_filled"
    PARTIAL_FILL = "trade.partial_fill"
    ORDER_REJECTED = "trade.order_rejected"
    ORDER_EXPIRED = "trade.order_expired"
    NEAR_STOP = "trade.near_stop"
    T1_REACHED = "trade.t1_reached"
    EXIT_SENT = "trade.exit_sent"
    EXIT_FILLED = "trade.exit_filled"
    NEAR_EXPIRY = "trade.near_expiry"
    # Risk.
    HEAT_OVER = "risk.heat_over"
    HEAT_OK = "risk.heat_ok"
    DAILY_LOSS = "risk.daily_loss"
    # System.
    HEARTBEAT_LOST = "system.heartbeat_lost"
    UPSTREAM_STALE = "system.upstream_stale"
    RECOVERED = "system.recovered"

    @property
    def group(self) -> str:
        return self.value.split(".", 1)[0]


GROUPS: tuple[str, ...] = ("signal", "trade", "risk", "system")

# A clearing kind → the rule it belongs to (system.recovered clears both system rules).
CLEAR_OF: dict[AlertKind, tuple[AlertKind, ...]] = {
    AlertKind.HEAT_OK: (AlertKind.HEAT_OVER,),
    AlertKind.RECOVERED: (AlertKind.HEARTBEAT_LOST, AlertKind.UPSTREAM_STALE),
}
RULES: tuple[AlertKind, ...] = tuple(k for k in AlertKind if k not in CLEAR_OF)

KIND_LABELS: dict[AlertKind, str] = {
    AlertKind.SIGNAL_PENDING: "Setup formed (pending)",
    AlertKind.SIGNAL_TRIGGERED: "Setup triggered (in force)",
    AlertKind.ARMED_ENTRY_SENT: "Armed entry sent",
    AlertKind.ENTRY_FILLED: "Entry filled",
    AlertKind.PARTIAL_FILL: "Partial fill",
    AlertKind.ORDER_REJECTED: "Order rejected",
    AlertKind.ORDER_EXPIRED: "Order expired or canceled",
    AlertKind.NEAR_STOP: "Price near the stop",
    AlertKind.T1_REACHED: "T1 reached",
    AlertKind.EXIT_SENT: "Exit sent",
    AlertKind.EXIT_FILLED: "Exit filled",
    AlertKind.NEAR_EXPIRY: "Option near expiry",
    AlertKind.HEAT_OVER: "Portfolio heat over its limit",
    AlertKind.HEAT_OK: "Portfolio heat back under its limit",
    AlertKind.DAILY_LOSS: "Daily loss limit reached",
    AlertKind.HEARTBEAT_LOST: "Monitor heartbeat lost",
    AlertKind.UPSTREAM_STALE: "Upstream stale",
    AlertKind.RECOVERED: "Recovered",
}


def parse_rules_off(items: Iterable[str]) -> frozenset[AlertKind]:
    """Rule kinds (``trade.near_stop``) or whole groups (``signal``) → the kinds turned off,
    clearing kinds included; ValueError naming the first unknown item."""
    off: set[AlertKind] = set()
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        if item in GROUPS:
            off.update(k for k in AlertKind if k.group == item)
            continue
        try:
            kind = AlertKind(item)
        except ValueError:
            raise ValueError(
                f"{item!r} is not an alert rule; use a group ({', '.join(GROUPS)}) "
                "or a rule such as trade.near_stop"
            ) from None
        if kind in CLEAR_OF:
            raise ValueError(f"{item!r} is part of a rule; turn off {CLEAR_OF[kind][0]} instead")
        off.add(kind)
    for clear, owners in CLEAR_OF.items():
        if all(o in off for o in owners):
            off.add(clear)
    return frozenset(off)
