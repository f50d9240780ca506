"""Regime Detection tab: the jump-model regimes, their features and statistics, and the
watchlist's regime × timeframe-continuity heatmap. What it shows is ``views.regime``'s;
this package lays it out and wires reads and renders."""

from dashboard.components.regime.callbacks import register
from dashboard.components.regime.layout import TAB_ID
from dashboard.components.regime.layout import layout as build_layout

__all__ = ["TAB_ID", "build_layout", "register"]
