"""Risk Management tab: heat to stops, VaR/CVaR, greeks exposure, concentration, limits.
What it shows is ``views.risk``'s; this package lays it out and wires reads and renders."""

from typing import Any

from dashboard.components.risk.callbacks import first_state, register
from dashboard.components.risk.layout import TAB_ID, lower_layout
from dashboard.components.risk.layout import layout as build_layout
from dashboard.settings import Settings

__all__ = ["TAB_ID", "build_layout", "first_state", "lazy_layouts", "register"]


def lazy_layouts(settings: Settings) -> list[Any]:
    """What the tab's lazy blocks mount (``ui.lazy_block``), for the validation layout."""
    return [lower_layout(settings)]
