"""Pure options maths: pricing and IV, OCC symbols, contract selection, projections, P&L.

No I/O here: callers pass chains, quotes and fills in, and get typed records back.
"""

from dashboard.options.attribution import Attribution, OptionState, attribute_pnl
from dashboard.options.expiry import days_to_expiry, expiry_close, is_expired, years_to_expiry
from dashboard.options.occ import OccSymbol, build_occ, display_occ, format_strike, parse_occ
from dashboard.options.pnl import (
    ClosedLot,
    FifoResult,
    OpenLot,
    fifo_pnl,
    pnl_percent,
    unrealized_pnl,
)
from dashboard.options.pricing import Greeks, bs_greeks, bs_price, implied_vol
from dashboard.options.projection import (
    LevelProjection,
    PayoffCurve,
    ScenarioGrid,
    TradeProjection,
    expected_hold_days,
    payoff_curve,
    project_quote,
    project_trade,
)
from dashboard.options.selection import (
    ContractChoice,
    NoContract,
    SelectionConfig,
    normalize_timeframe,
    select_contract,
    select_for_pattern,
)

__all__ = [
    "Attribution",
    "ClosedLot",
    "ContractChoice",
    "FifoResult",
    "Greeks",
    "LevelProjection",
    "NoContract",
    "OccSymbol",
    "OpenLot",
    "OptionState",
    "PayoffCurve",
    "ScenarioGrid",
    "SelectionConfig",
    "TradeProjection",
    "attribute_pnl",
    "bs_greeks",
    "bs_price",
    "build_occ",
    "days_to_expiry",
    "display_occ",
    "expected_hold_days",
    "expiry_close",
    "fifo_pnl",
    "format_strike",
    "implied_vol",
    "is_expired",
    "normalize_timeframe",
    "parse_occ",
    "payoff_curve",
    "pnl_percent",
    "project_quote",
    "project_trade",
    "select_contract",
    "select_for_pattern",
    "unrealized_pnl",
    "years_to_expiry",
]
