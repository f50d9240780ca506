"""Live Portfolio tab: account cards, positions, orders (with cancel), fills, equity curve
and today's P&L waterfall. What it shows is ``views.portfolio``'s; this package lays it
out (``layout``) and wires the reads and renders (``callbacks``)."""

from typing import Any

from dashboard.components.portfolio.callbacks import first_state, register
from dashboard.components.portfolio.layout import TAB_ID, lower_layout
from dashboard.components.portfolio.layout import layout as build_layout
from dashboard.settings import Settings

__all__ = ["TAB_ID", "build_layout", "first_state", "lazy_layouts", "register"]


def lazy_layouts(_settings: Settings) -> list[Any]:
    """What the tab's lazy block mounts (``ui.lazy_block``), for the validation layout."""
    return [lower_layout()]
