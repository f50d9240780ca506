"""The Strategy Performance tab's layout: ids are ``strategy-<thing>``."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.analytics.performance import SizingRule
from dashboard.analytics.strategy import (
    DEFAULT_STRATEGY,
    REGIME_AT_ENTRY_NOTE,
    STRATEGIES,
    SYNTHETIC_MARKET_NOTE,
    strategy_by_id,
)
from dashboard.components.status import loading_line
from dashboard.components.ui import card, data_grid, graph
from dashboard.settings import Settings
from dashboard.views.strategy import DEFAULT_TIMEFRAMES, TIMEFRAMES
from dashboard.views.strategy_equity import ROLLING_WINDOW

TAB_ID = "strategy"

EDGE_COLUMNS: list[dict[str, Any]] = [
    {"field": "pattern", "headerName": "Pattern", "pinned": "left", "minWidth": 120},
    {"field": "timeframe", "headerName": "TF", "maxWidth": 90},
    {"field": "trades", "headerName": "Trades", "type": "numericColumn"},
    {"field": "win_rate_pct", "headerName": "Win %", "type": "numericColumn"},
    {"field": "win_rate_ci", "headerName": "Win % 95% CI"},
    {"field": "expectancy_r", "headerName": "Exp. R", "type": "numericColumn"},
    {"field": "expectancy_ci", "headerName": "Exp. R 95% CI"},
    {"field": "profit_factor", "headerName": "PF", "type": "numericColumn"},
    {"field": "avg_win_r", "headerName": "Avg win R", "type": "numericColumn"},
    {"field": "avg_loss_r", "headerName": "Avg loss R", "type": "numericColumn"},
    {"field": "total_r", "headerName": "Total R", "type": "numericColumn"},
]
JOURNAL_COLUMNS: list[dict[str, Any]] = [
    {"field": "group", "headerName": "Pattern · TF", "minWidth": 140},
    {"field": "trades", "headerName": "Closed", "type": "numericColumn"},
    {"field": "wins", "headerName": "Wins", "type": "numericColumn"},
    {"field": "win_rate_pct", "headerName": "Win %", "type": "numericColumn"},
    {"field": "realized_pnl", "headerName": "Realised $", "type": "numericColumn"},
]


STAT_COLUMNS: list[dict[str, Any]] = [
    {"field": "trades", "headerName": "Trades", "width": 90, "type": "rightAligned"},
    {"field": "win_rate", "headerName": "Win %", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_r", "headerName": "Exp. R", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_ci", "headerName": "Exp. R 95% CI", "width": 150},
    {"field": "profit_factor", "headerName": "PF", "width": 80, "type": "rightAligned"},
]
REGIME_COLUMNS: list[dict[str, Any]] = [
    {"field": "regime", "headerName": "Regime at entry (SPY)", "width": 190},
    *STAT_COLUMNS,
]
TFC_COLUMNS: list[dict[str, Any]] = [
    {"field": "tfc", "headerName": "TFC at entry", "width": 240},
    *STAT_COLUMNS,
]
OPTION_COLUMNS: list[dict[str, Any]] = [
    {"field": "bucket", "headerName": "Bucket at entry", "width": 150},
    *STAT_COLUMNS,
]
JOURNAL_DTE_COLUMNS: list[dict[str, Any]] = [
    {"field": "bucket", "headerName": "DTE at entry", "width": 130},
    {"field": "trades", "headerName": "Closed", "width": 90, "type": "rightAligned"},
    {"field": "win_rate", "headerName": "Win %", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_r", "headerName": "Avg R (on premium)", "width": 160},
    {"field": "realized_pnl", "headerName": "Realised $", "width": 120, "type": "rightAligned"},
]
BENCHMARK_COLUMNS: list[dict[str, Any]] = [
    {"field": "curve", "headerName": "", "width": 200},
    {"field": "total_return_pct", "headerName": "Total return %", "type": "rightAligned"},
    {"field": "cagr_pct", "headerName": "CAGR %", "type": "rightAligned"},
    {"field": "max_drawdown_pct", "headerName": "Max DD %", "type": "rightAligned"},
    {"field": "sharpe", "headerName": "Sharpe", "type": "rightAligned"},
    {"field": "sortino", "headerName": "Sortino", "type": "rightAligned"},
    {"field": "days", "headerName": "Days", "type": "rightAligned"},
]


def synthetic_banner(settings: Settings) -> list[html.Div]:
    """In demo mode, a line that the prices are the simulator's, not an exchange's."""
    if settings.mode != "demo":
        return []
    return [
        html.Div(
            SYNTHETIC_MARKET_NOTE,
            id="strategy-synthetic",
            className="alert alert-warning py-1 px-2 small mt-2 mb-2",
        )
    ]


def layout(settings: Settings) -> html.Div:
    sizing = SizingRule.from_heat_limit(settings.heat_limit_pct)
    symbols = [s.upper() for s in settings.watchlist]
    session: dict[str, Any] = {"persistence": True, "persistence_type": "session"}
    controls = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-strategy",
                    options=[{"label": s.label, "value": s.id} for s in STRATEGIES],
                    value=DEFAULT_STRATEGY,
                    clearable=False,
                    **session,
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-timeframes",
                    options=[{"label": tf, "value": tf} for tf in TIMEFRAMES],
                    value=list(DEFAULT_TIMEFRAMES),
                    multi=True,
                    clearable=False,
                    **session,
                ),
                xs=12,
                md=3,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-symbols",
                    options=[{"label": s, "value": s} for s in symbols],
                    value=symbols,
                    multi=True,
                    **session,
                ),
                xs=12,
                md=5,
            ),
        ],
        className="g-2 mb-2",
    )
    range_row = dbc.Row(
        [
            dbc.Col(
                dcc.DatePickerRange(
                    id="strategy-dates",
                    clearable=True,
                    display_format="YYYY-MM-DD",
                    start_date_placeholder_text="all data from",
                    end_date_placeholder_text="to latest",
                    **session,
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(html.Div(id="strategy-dates-status"), xs=12, md="auto"),
            dbc.Col(
                html.Div(strategy_by_id(None).description, id="strategy-note"),
                xs=12,
                md=True,
                className="small text-muted",
            ),
        ],
        className="g-2 align-items-center mb-2",
    )
    waiting = "Running the backtests…"
    return html.Div(
        [
            *synthetic_banner(settings),
            controls,
            range_row,
            html.Div(loading_line("waiting for backtests…"), id="strategy-progress"),
            dcc.Interval(id="strategy-poll", interval=1000, n_intervals=0, disabled=False),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Edge by pattern (backtest, R multiples)",
                            [
                                graph("strategy-pattern-chart", height=None, loading_text=waiting),
                                loading_line(id="strategy-pattern-status"),
                            ],
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        card(
                            "R-multiple distribution",
                            [
                                graph("strategy-r-histogram", height=None, loading_text=waiting),
                                loading_line(id="strategy-r-status"),
                            ],
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            card(
                "Pattern statistics with 95% confidence intervals",
                [
                    data_grid(
                        "strategy-edge-grid",
                        EDGE_COLUMNS,
                        height="340px",
                        getRowId="params.data.id",
                    ),
                    loading_line(id="strategy-edge-status"),
                ],
            ),
            card(
                "Method and assumptions",
                html.Div(loading_line("waiting for the backtests…"), id="strategy-method"),
            ),
            card(
                f"Equity risking {sizing.risk_per_trade:.0%} per trade (compounded, at most "
                f"{sizing.max_open_risk:.0%} open) vs equal-weight buy & hold, with drawdown",
                [
                    graph("strategy-equity-chart", height=None, loading_text=waiting),
                    data_grid(
                        "strategy-benchmark-grid",
                        BENCHMARK_COLUMNS,
                        height="130px",
                        getRowId="params.data.id",
                    ),
                    html.Div(id="strategy-equity-status"),
                    html.Div(
                        [
                            dbc.Button(
                                "Download trades (CSV)",
                                id="strategy-export",
                                size="sm",
                                color="secondary",
                                outline=True,
                            ),
                            dcc.Download(id="strategy-download"),
                        ],
                        className="mt-1",
                    ),
                ],
            ),
            card(
                f"Rolling {ROLLING_WINDOW}-day Sharpe and Sortino of daily returns",
                [graph("strategy-rolling-chart", height="320px", loading_text=waiting)],
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Edge by timeframe continuity at entry",
                            [
                                data_grid(
                                    "strategy-tfc-grid",
                                    TFC_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-tfc-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            "Edge by market regime at entry",
                            [
                                data_grid(
                                    "strategy-regime-grid",
                                    REGIME_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-regime-status"),
                                html.Div(REGIME_AT_ENTRY_NOTE, className="small text-muted"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Edge by DTE and delta at entry (modelled option backtest)",
                            [
                                data_grid(
                                    "strategy-option-grid",
                                    OPTION_COLUMNS,
                                    height="220px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-option-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            "Your closed option trades by DTE at entry (journal)",
                            [
                                data_grid(
                                    "strategy-journal-dte-grid",
                                    JOURNAL_DTE_COLUMNS,
                                    height="220px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-journal-dte-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
            ),
            card(
                "Your closed trades (journal)",
                [
                    data_grid(
                        "strategy-journal-grid",
                        JOURNAL_COLUMNS,
                        height="220px",
                        getRowId="params.data.group",
                    ),
                    html.Div(id="strategy-journal-status"),
                ],
            ),
        ],
        id=f"{TAB_ID}-root",
        className="strategy-tab",
    )
