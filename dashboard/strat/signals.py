"""Records for STRAT patterns and setups, shared by the engine, charts, tabs and journal.

Every price level carries the name of the rule that produced it, because open-source
STRAT implementations disagree on stops and targets; the chart and the ticket show it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from dashboard.strat.settlement import Settlement

Direction = Literal["long", "short"]


class SetupStatus(enum.StrEnum):
    PENDING = "pending"  # setup closed, trigger not yet traded through
    TRIGGERED = "triggered"  # price traded through the trigger (intrabar)
    TARGET_HIT = "target_hit"
    STOPPED = "stopped"
    EXPIRED = "expired"  # untriggered after N bars


@dataclass(frozen=True, slots=True)
class Level:
    price: float
    rule: str  # e.g. "setup-bar high + 1 tick", "C2 high", "entry + 1.5R fallback"


@dataclass(frozen=True, slots=True)
class Pattern:
    """A detected pattern on closed bars, waiting for (or past) its trigger.

    ``bar_indices`` are the closed bars that form the pattern, oldest first; the last of
    them is the setup bar whose extreme is the trigger. Indices refer to the bar arrays
    the pattern was detected on.
    """

    name: str  # "2-1-2", "3-1-2", "2-2", "3-2", "3-2-2", "1-2-2 RevStrat", "Hammer", "Shooter"
    label: str  # the bar sequence with the expected break, e.g. "2D-1-2U"
    kind: Literal["reversal", "continuation", "actionable"]
    direction: Direction
    bar_indices: tuple[int, ...]
    entry: Level
    stop: Level
    targets: tuple[Level, ...]
    timeframe: str | None = None
    symbol: str | None = None
    # Actionable signals (Hammer, Shooter) that coincide with this trade: same setup bar,
    # direction, entry, stop and T1 (``strat.ideas.merge_coinciding``).
    tags: tuple[str, ...] = ()

    @property
    def setup_index(self) -> int:
        return self.bar_indices[-1]

    @property
    def risk(self) -> float:
        """Distance from entry to stop in underlying dollars (always positive when valid)."""
        return abs(self.entry.price - self.stop.price)

    @property
    def reward_risk(self) -> float | None:
        """Reward to T1 over risk; None when there is no target or no risk."""
        if not self.targets or self.risk <= 0:
            return None
        return abs(self.targets[0].price - self.entry.price) / self.risk


@dataclass(frozen=True, slots=True)
class Setup:
    """A pattern's lifecycle after its setup bar closed."""

    pattern: Pattern
    status: SetupStatus
    end_index: int  # bar where it triggered, resolved or expired; last bar if still pending
    triggered_index: int | None = None
    triggered_at: datetime | None = None
    in_force_close_index: int | None = None  # first bar that closed beyond the trigger
    resolved_index: int | None = None  # bar that hit the target or the stop
    exit_price: float | None = None
    magnitude_pct: float | None = None  # |T1 - entry| / entry, for low-magnitude rejects
    notes: tuple[str, ...] = field(default=())
    setup_time: datetime | None = None  # when the setup bar opened (stable id across refreshes)
    fill_price: float | None = None  # entry fill: the entry level, or a gapped open
    # How the intrabar order of its trigger and exit bars was known (strat.settlement).
    settlement: Settlement = Settlement.EXACT
    trigger_settlement: Settlement = Settlement.EXACT  # the trigger bar's alone
    # A pending setup whose stop traded after the setup bar, before any trigger: the
    # first bar that reached the stop. Such a setup is invalid (strat.md §1.3: the stop
    # is where the idea is wrong; it was wrong before it started), so the board and
    # ``active_setups`` leave it out. The status stays PENDING, so the backtest's
    # lifecycle is unchanged.
    invalidated_index: int | None = None

    @property
    def invalidated(self) -> bool:
        return self.status is SetupStatus.PENDING and self.invalidated_index is not None
