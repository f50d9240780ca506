"""Options Trading tab: STRAT signals → order ticket → journal → monitored exit.

One module per feature, each with ``register(app, services, …)``: the signal board
(``signals``) and its watchlist editor (``watchlist``), the ticket (``ticket``, a package)
and arming a pending signal at its trigger (``arming``), the signal chart and payoff
(``chart``), the chain and flow (``chain``), the active trades (``trades``) and managing
one (``manage``). What they show is ``views.options``'s; ``layout`` holds the ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dash import Dash
from dash.development.base_component import Component

from dashboard.components.first_state import FirstState, combine
from dashboard.components.options import (
    arming,
    chain,
    chart,
    manage,
    signals,
    ticket,
    trades,
    watchlist,
)
from dashboard.components.options.layout import TAB_ID
from dashboard.components.options.layout import layout as build_layout
from dashboard.components.options.reads import Reads

if TYPE_CHECKING:
    from dashboard.services import Services
    from dashboard.settings import Settings

__all__ = [
    "BARS_PACED_OUTPUTS",
    "TAB_ID",
    "build_layout",
    "first_state",
    "lazy_layouts",
    "register",
]

# Outputs that show only bars and chains, which the data service caches for its bars TTL:
# their shared refresh responses (refresh_memo) live that long too, since re-rendering
# them sooner would draw the same data.
BARS_PACED_OUTPUTS = (
    "options-signals-grid",
    "options-signal-chart",
    "options-chain-grid",
    "options-flow-chart",
)


def lazy_layouts(_settings: Settings) -> list[Any]:
    """What the tab's lazy and shown blocks mount (``ui.lazy_block``, ``ui.shown_block``),
    for the validation layout."""
    return [
        chain.chain_body(),
        chain.flow_body(),
        trades.book_body(),
        chart.signal_chart_card(),
        chart.payoff_card(),
    ]


def first_state(services: Services, layout: Component) -> FirstState:
    """The board, the watchlist's chips and the active trades a page starts with."""
    return combine(
        lambda: signals.first_state(services, layout),
        lambda: watchlist.first_state(services, layout),
        lambda: trades.first_state(services, layout),
    )


def register(app: Dash, services: Services) -> None:
    reads = Reads(services.data)
    signals.register(app, services, reads)
    watchlist.register(app, services)
    ticket.register(app, services, reads)
    arming.register(app, services, reads)
    chart.register(app, services, reads)
    chain.register(app, services, reads)
    trades.register(app, services)
    manage.register(app, services)
