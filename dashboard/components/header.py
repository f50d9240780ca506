"""The header: app name, live badges (mode, connection, market clock, regime) and refresh
controls. The badges' text and colours are ``views.header``'s.

Every badge is computed: mode from settings, connection from the data service's recent
results, the clock from the broker's ``/v2/clock``, the regime from the regime model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html
from dash.development.base_component import Component

from dashboard.components import alerts
from dashboard.components.first_state import FirstState, combine, of_outputs
from dashboard.data_loaders.loop import run_async
from dashboard.settings import Settings
from dashboard.views.header import (
    MODE_COLOURS,
    REFRESH_CHOICES,
    clock_badge,
    connection_badge,
    regime_badge,
)

if TYPE_CHECKING:
    from dashboard.services import Services


def layout(settings: Settings) -> html.Header:
    interval_ms = int(settings.refresh_seconds * 1000)
    choices = sorted({*REFRESH_CHOICES, int(settings.refresh_seconds)})
    return html.Header(
        dbc.Container(
            [
                html.Div(
                    [
                        html.Span("STRAT Options Dashboard", className="app-title me-3"),
                        alerts.bell(),
                        dbc.Badge(
                            settings.mode_label,
                            id="header-mode-badge",
                            color=MODE_COLOURS[settings.mode_label],
                            className="me-2",
                            title="Trading environment",
                        ),
                        dbc.Badge(
                            "CONNECTING…",
                            id="header-connection-badge",
                            color="secondary",
                            className="me-2",
                        ),
                        dbc.Badge(
                            "CLOCK …", id="header-clock-badge", color="secondary", className="me-2"
                        ),
                        dbc.Badge(
                            "REGIME —",
                            id="header-regime-badge",
                            color="secondary",
                            className="me-2",
                        ),
                        *(
                            [
                                dbc.Badge(
                                    "KEYS MISMATCH",
                                    id="header-keys-badge",
                                    color="danger",
                                    className="me-2",
                                    title=settings.key_mismatch,
                                )
                            ]
                            if settings.key_mismatch
                            else []
                        ),
                    ],
                    className="d-flex flex-wrap align-items-center gap-1",
                ),
                html.Div(
                    [
                        dbc.Switch(
                            id="header-autorefresh",
                            label="Auto-refresh",
                            value=True,
                            className="me-2 mb-0",
                            persistence=True,
                            persistence_type="session",
                        ),
                        dbc.Select(
                            id="header-refresh-seconds",
                            options=[{"label": f"{c}s", "value": str(c)} for c in choices],
                            value=str(int(settings.refresh_seconds)),
                            size="sm",
                            style={"width": "5.5rem"},
                            persistence=True,
                            persistence_type="session",
                        ),
                        dcc.Interval(id="global-interval", interval=interval_ms, n_intervals=0),
                    ],
                    className="d-flex align-items-center",
                ),
                alerts.pieces(settings),
            ],
            fluid=True,
            className="d-flex flex-wrap justify-content-between align-items-center gap-2 py-2",
        ),
        className="app-header",
    )


def update_badges(services: Services) -> tuple[str, str, str, str, str]:
    clock_result = run_async(services.data.fetch_clock(), timeout=10)
    conn_text, conn_color = connection_badge(services.data.health())
    return (conn_text, conn_color, *clock_badge(clock_result))


BADGE_OUTPUTS = [
    Output("header-connection-badge", "children"),
    Output("header-connection-badge", "color"),
    Output("header-clock-badge", "children"),
    Output("header-clock-badge", "color"),
    Output("header-clock-badge", "title"),
    Output("header-regime-badge", "children"),
    Output("header-regime-badge", "color"),
    Output("header-regime-badge", "title"),
]


def badges(services: Services) -> tuple[str, ...]:
    return (*update_badges(services), *regime_badge(services.current_regime()))


def first_state(services: Services, layout: Component) -> FirstState:
    """The badges and the bell as their callbacks would first answer, for the layout."""
    return combine(
        lambda: of_outputs(BADGE_OUTPUTS, badges(services)),
        lambda: alerts.first_state(services, layout),
    )


def register(app: Dash, services: Services) -> None:
    alerts.register(app, services)

    # One callback for the header's badges, and not on a load: the layout is served with
    # them (``first_state``). Each callback a page load runs costs the browser a round of
    # store updates across every mounted component.
    @app.callback(
        *BADGE_OUTPUTS, Input("global-interval", "n_intervals"), prevent_initial_call=True
    )
    def _badges(_n: int) -> tuple[str, ...]:
        return badges(services)
