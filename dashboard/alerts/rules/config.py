"""The alert rules' thresholds and switches, shared by every rule family."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.alerts.kinds import AlertKind
from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES

__all__ = ["AlertConfig"]


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
