"""The alert records as plain data: an event a rule raises, an alert as stored, and the
small state records the rules read (a condition's history, the monitor's heartbeat, a
source's health, a watch on one signal, the signal subscriptions).

Pure (no SQL, no I/O): the rules, the views and the store all speak these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from dashboard.alerts.kinds import AlertKind, Severity

__all__ = [
    "AlertEvent",
    "ConditionState",
    "DeliveryStatus",
    "Heartbeat",
    "SignalSubscriptions",
    "SignalWatch",
    "SourceHealth",
    "StoredAlert",
    "Value",
]

Value = float | int | str | bool | None
DeliveryStatus = Literal["off", "pending", "sending", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One thing a trader must not miss. ``key`` is deterministic (built from what the
    event is about, never from when it was seen), so the same event raised again by a
    restart, a second process or a retry is the same row."""

    key: str
    kind: AlertKind
    severity: Severity
    at: datetime  # the broker's clock (aware); when it happened, or when it was seen
    title: str
    message: str
    symbol: str | None = None
    trade_id: int | None = None
    signal_id: str | None = None
    timeframe: str | None = None
    condition: str | None = None  # a raise/clear pair's condition ("heat", "stale:alpaca-data")
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as the journal database holds it, with its acknowledgement and delivery."""

    id: int
    key: str
    kind: AlertKind
    severity: Severity
    at: datetime
    created_at: datetime
    title: str
    message: str
    symbol: str | None
    trade_id: int | None
    signal_id: str | None
    timeframe: str | None
    condition: str | None
    values: Mapping[str, Value]
    acknowledged_at: datetime | None
    delivery_status: DeliveryStatus
    delivery_attempts: int
    delivery_error: str | None
    delivered_at: datetime | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True, slots=True)
class ConditionState:
    """How many times a condition was raised and cleared (counted in the alerts table).
    Active while raised > cleared; the next raise is number ``raised + 1``."""

    raised: int = 0
    cleared: int = 0

    @property
    def active(self) -> bool:
        return self.raised > self.cleared


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The trade monitor's last pass, as it wrote it (machine clock, for age only)."""

    holder: str
    beat_at: datetime
    interval_seconds: float


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One upstream's health now and how long it has been down without a break."""

    state: str  # connected | degraded | down | unknown (data_loaders.health)
    down_for: float | None = None  # seconds, None when not down


@dataclass(frozen=True, slots=True)
class SignalWatch:
    """ "Alert when this pending setup triggers": one signal row, watched by id."""

    signal_id: str
    symbol: str
    timeframe: str
    label: str
    direction: str
    entry: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignalSubscriptions:
    """Which (symbol, timeframe) pairs of the watchlist raise signal alerts: every pair on
    a default timeframe, unless the trader switched that pair off (or another pair on)."""

    timeframes: frozenset[str]
    overrides: Mapping[tuple[str, str], bool] = field(default_factory=dict)

    def is_on(self, symbol: str, timeframe: str) -> bool:
        return self.overrides.get((symbol, timeframe), timeframe in self.timeframes)
