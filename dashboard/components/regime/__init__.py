"""Regime Detection tab: the jump-model regimes, their features and statistics, and the
watchlist's regime × timeframe-continuity heatmap. What it shows is ``views.regime``'s;
this package lays it out and wires reads and renders."""

from typing import Any

from dashboard.components.regime.callbacks import register
from dashboard.components.regime.layout import TAB_ID, lower_layout
from dashboard.components.regime.layout import layout as build_layout
from dashboard.settings import Settings

__all__ = ["TAB_ID", "build_layout", "lazy_layouts", "register"]


def lazy_layouts(settings: Settings) -> list[Any]:
    """What the tab's lazy blocks mount (``ui.lazy_block``), for the validation layout."""
    return [lower_layout(settings)]
