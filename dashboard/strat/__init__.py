"""The STRAT engine: bar types, patterns and levels, setup lifecycle, continuity, scanner.

Pure domain code: numpy/pandas in, frozen records out; no I/O.
"""

from dashboard.strat.bars import (
    DOWN,
    INSIDE,
    OUTSIDE,
    UNCLASSIFIED,
    UP,
    bar_label,
    bar_labels,
    classify_bars,
    codes_from_ticks,
    from_ticks,
    to_ticks,
)
from dashboard.strat.continuity import (
    ContinuityResult,
    TimeframeState,
    average_true_range,
    continuity_history,
    period_keys,
    timeframe_continuity,
)
from dashboard.strat.ideas import TradeIdea, group_ideas, merge_coinciding
from dashboard.strat.patterns import (
    LevelConfig,
    detect_patterns,
    live_patterns,
    patterns_from_ticks,
    setup_mask,
)
from dashboard.strat.scanner import DEFAULT_TIMEFRAMES, ScanRow, scan
from dashboard.strat.settlement import DEFAULT_INTRABAR_RULE, IntrabarRule, Settlement
from dashboard.strat.setups import active_setups, evaluate_setups, setups_from_ticks
from dashboard.strat.signals import Direction, Level, Pattern, Setup, SetupStatus

__all__ = [
    "DEFAULT_INTRABAR_RULE",
    "DEFAULT_TIMEFRAMES",
    "DOWN",
    "INSIDE",
    "OUTSIDE",
    "UNCLASSIFIED",
    "UP",
    "ContinuityResult",
    "Direction",
    "IntrabarRule",
    "Level",
    "LevelConfig",
    "Pattern",
    "ScanRow",
    "Settlement",
    "Setup",
    "SetupStatus",
    "TimeframeState",
    "TradeIdea",
    "active_setups",
    "average_true_range",
    "bar_label",
    "bar_labels",
    "classify_bars",
    "codes_from_ticks",
    "continuity_history",
    "detect_patterns",
    "evaluate_setups",
    "from_ticks",
    "group_ideas",
    "live_patterns",
    "merge_coinciding",
    "patterns_from_ticks",
    "period_keys",
    "scan",
    "setup_mask",
    "setups_from_ticks",
    "timeframe_continuity",
    "to_ticks",
]
