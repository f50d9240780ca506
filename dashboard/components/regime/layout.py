"""The Regime Detection tab's layout: ids are ``regime-<thing>``."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.analytics.regime import REGIME_STATS_NOTE
from dashboard.components.status import loading_line
from dashboard.components.ui import card, data_grid, lazy_block
from dashboard.settings import Settings
from dashboard.views.regime import DEFAULT_PRESET, RANGE_PRESETS
from dashboard.visualizations.figures import empty_figure

TAB_ID = "regime"

STATS_COLUMNS: list[dict[str, Any]] = [
    {"field": "regime", "headerName": "Regime", "width": 135, "pinned": "left"},
    {"field": "days", "headerName": "Days", "width": 75, "type": "numericColumn"},
    {"field": "share_pct", "headerName": "Share %", "width": 85, "type": "numericColumn"},
    {"field": "mean_return_pct", "headerName": "Mean/day %", "width": 100, "type": "numericColumn"},
    {"field": "ann_vol_pct", "headerName": "Vol %", "width": 75, "type": "numericColumn"},
    {"field": "max_drawdown_pct", "headerName": "Max DD %", "width": 90, "type": "numericColumn"},
    {"field": "sharpe", "headerName": "Sharpe", "width": 80, "type": "numericColumn"},
]


def layout(settings: Settings) -> html.Div:
    waiting = "Fitting the regime model…"
    controls = dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="regime-range-preset",
                    options=[{"label": k, "value": k} for k, _ in RANGE_PRESETS],
                    value=DEFAULT_PRESET,
                    inline=True,
                    persistence=True,
                    persistence_type="session",
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(
                dcc.DatePickerRange(
                    id="regime-date-range",
                    clearable=True,
                    display_format="YYYY-MM-DD",
                    start_date_placeholder_text="from",
                    end_date_placeholder_text="to",
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(
                html.Div(waiting, id="regime-fit-state", className="small text-muted"),
                xs=12,
                md=True,
            ),
        ],
        className="g-2 align-items-center mb-2",
    )
    return html.Div(
        [
            controls,
            dcc.Interval(id="regime-poll", interval=1000, n_intervals=0, disabled=False),
            dcc.Store(id="regime-rendered"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Regime timeline",
                            [
                                dcc.Graph(
                                    id="regime-timeline",
                                    figure=empty_figure(waiting, kind="loading"),
                                    config={"displaylogo": False},
                                    style={"height": "420px"},
                                ),
                                loading_line("fitting…", id="regime-timeline-status"),
                            ],
                        ),
                        xs=12,
                    )
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Feature evolution (z-scores, model thresholds dashed)",
                            [
                                dcc.Graph(
                                    id="regime-features",
                                    figure=empty_figure(waiting, kind="loading"),
                                    config={"displaylogo": False},
                                ),
                                loading_line("fitting…", id="regime-features-status"),
                            ],
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        card(
                            "Regime statistics (shown range)",
                            [
                                data_grid(
                                    "regime-stats-grid",
                                    STATS_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.regime",
                                ),
                                loading_line("fitting…", id="regime-stats-status"),
                                html.Div(REGIME_STATS_NOTE, className="small text-muted"),
                            ],
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            lazy_block(LOWER, "The watchlist's regime × continuity heatmap loads as you scroll."),
        ],
        id=f"{TAB_ID}-root",
        className="regime-tab",
    )


LOWER = "regime-lower"


def lower_layout(_settings: Settings) -> html.Div:
    """Below the fold (mounted when scrolled near, ``ui.lazy_block``): the watchlist's
    regime × timeframe-continuity heatmap."""
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Watchlist: daily regime × timeframe continuity",
                            [
                                dcc.Graph(
                                    id="regime-heatmap",
                                    figure=empty_figure("Loading the watchlist…", kind="loading"),
                                    config={"displaylogo": False},
                                ),
                                loading_line(id="regime-heatmap-status"),
                            ],
                        ),
                        xs=12,
                    )
                ]
            ),
        ]
    )
