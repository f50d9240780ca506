"""Risk Management tab: heat to stops, VaR/CVaR, greeks exposure, concentration, limits.
What it shows is ``views.risk``'s; this package lays it out and wires reads and renders."""

from dashboard.components.risk.callbacks import first_state, register
from dashboard.components.risk.layout import TAB_ID
from dashboard.components.risk.layout import layout as build_layout

__all__ = ["TAB_ID", "build_layout", "first_state", "register"]
