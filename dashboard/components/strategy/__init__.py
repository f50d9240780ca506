"""Strategy Performance tab: STRAT edge analytics from the pattern backtest, and the
realised results of the user's own trades from the journal. What it shows is
``views.strategy`` and ``views.strategy_equity``'s; this package lays it out and wires
reads and renders."""

from dashboard.components.strategy.callbacks import register
from dashboard.components.strategy.layout import TAB_ID
from dashboard.components.strategy.layout import layout as build_layout

__all__ = ["TAB_ID", "build_layout", "register"]
