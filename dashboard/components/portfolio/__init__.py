"""Live Portfolio tab: account cards, positions, orders (with cancel), fills, equity curve
and today's P&L waterfall. What it shows is ``views.portfolio``'s; this package lays it
out (``layout``) and wires the reads and renders (``callbacks``)."""

from dashboard.components.portfolio.callbacks import first_state, register
from dashboard.components.portfolio.layout import TAB_ID
from dashboard.components.portfolio.layout import layout as build_layout

__all__ = ["TAB_ID", "build_layout", "first_state", "register"]
