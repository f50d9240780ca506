"""Small frozen records that chart functions take where a DataFrame is not natural.

They hold display facts only (no I/O, no Dash); callbacks build them from ``models.py``
records and the analytics core. Each documents its units, because a chart that mixes
underlying dollars, option dollars and R is easy to get wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from dashboard.analytics.progress import progress_to_target

Direction = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class TradeProgress:
    """One open trade for the progress-to-target chart.

    ``direction`` is the direction of the *underlying* trade: a long call is "long", a
    long put (bought on a short setup) is "short". ``entry``, ``current``, ``target``
    (T1) and ``stop`` are underlying prices. ``option_pnl`` is the option position's
    P&L in dollars and ``option_pnl_pct`` in percent of the premium paid, when known.
    """

    label: str
    direction: Direction
    entry: float
    current: float
    target: float
    stop: float
    option_pnl: float | None = None
    option_pnl_pct: float | None = None

    @property
    def progress_r(self) -> float:
        """Position on the trade's own scale: stop = −1, entry = 0, T1 = +1.

        The two sides are scaled separately (by the stop distance below the entry and by
        the target distance above it), so every row of the chart reads the same whatever
        the trade's R:R. Direction is handled by the signs of the distances, so a short
        moving down counts as progress. NaN when the levels are degenerate.
        """
        try:
            return progress_to_target(
                self.direction,
                self.entry,
                self.current,
                self.target,
                self.stop,
                lower=-math.inf,
                upper=math.inf,
            )
        except ValueError:  # target not beyond entry, or stop not behind it
            return math.nan

    @property
    def progress_pct(self) -> float:
        """``progress_r`` as a percentage of the way to T1 (−100 = at the stop)."""
        return self.progress_r * 100.0


@dataclass(frozen=True, slots=True)
class RegimeCell:
    """One symbol × timeframe cell of the regime / continuity heatmap.

    ``regime`` is a regime name ("TREND_BULL", "TREND_NEUTRAL", "TREND_BEAR", "CRASH") or
    None when unknown. ``tfc_label`` is a continuity label such as "FTFC up" or "2/4
    down" (``ContinuityResult.label``); ``bar_type`` the current STRAT bar type.
    """

    symbol: str
    timeframe: str
    regime: str | None
    tfc_label: str | None = None
    bar_type: str | None = None


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """Dollars lost if one position is closed at its stop now (positive = at risk)."""

    label: str
    risk_to_stop: float


@dataclass(frozen=True, slots=True)
class GreeksExposure:
    """Position greeks in dollars: delta per $1, gamma per $1², theta per day, vega per vol pt."""

    label: str
    delta: float
    gamma: float
    theta: float
    vega: float


@dataclass(frozen=True, slots=True)
class PatternStats:
    """Closed-trade statistics for one pattern; ``expectancy_r`` in R per trade."""

    pattern: str
    trades: int
    wins: int
    expectancy_r: float

    @property
    def win_rate(self) -> float:
        """Wins / trades in percent; NaN with no trades."""
        return 100.0 * self.wins / self.trades if self.trades else math.nan
