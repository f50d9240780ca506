"""Strategy Performance tab: STRAT edge analytics from the pattern backtest, and the
realised results of the user's own trades from the journal. What it shows is
``views.strategy`` and ``views.strategy_equity``'s; this package lays it out and wires
reads and renders."""

from typing import Any

from dashboard.components.strategy.callbacks import register
from dashboard.components.strategy.layout import TAB_ID, equity_layout, lower_layout
from dashboard.components.strategy.layout import layout as build_layout
from dashboard.settings import Settings

__all__ = ["TAB_ID", "build_layout", "lazy_layouts", "register"]


def lazy_layouts(settings: Settings) -> list[Any]:
    """What the tab's lazy blocks mount (``ui.lazy_block``), for the validation layout."""
    return [equity_layout(settings), lower_layout(settings)]
