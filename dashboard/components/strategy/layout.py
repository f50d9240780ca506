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
from dashboard.components.ui import card, data_grid, graph, lazy_block
from dashboard.settings import Settings
from dashboard.views.strategy import DEFAULT_TIMEFRAMES, TIMEFRAMES
from dashboard.views.strategy_equity import ROLLING_WINDOW

TAB_ID = "strategy"
BACKTESTS_RUNNING = "Running the backtests…"
# The charts' height from the start (plotly's default), so the page does not jump as
# they draw, and what is below the fold stays there until it is scrolled to.
CHART_HEIGHT = "450px"

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


def grid_card(
    title: str,
    prefix: str,
    columns: list[dict[str, Any]],
    *notes: Any,
    height: str = "220px",
    row_id: str = "params.data.id",
) -> Any:
    """A card holding one table (``<prefix>-grid``), its status line (``<prefix>-status``,
    filled by the callbacks) and any fixed notes under them."""
    return card(
        title,
        [
            data_grid(f"{prefix}-grid", columns, height=height, getRowId=row_id),
            html.Div(id=f"{prefix}-status"),
            *notes,
        ],
    )


def _selector(
    id_: str, options: list[dict[str, str]], value: Any, *, width: int, **kw: Any
) -> dbc.Col:
    """One of the tab's choices: a dropdown remembered for the browser session."""
    dropdown = dcc.Dropdown(
        id=id_, options=options, value=value, persistence=True, persistence_type="session", **kw
    )
    return dbc.Col(dropdown, xs=12, md=width)


def _backtest_chart(title: str, graph_id: str, status_id: str, *, width: int) -> dbc.Col:
    """A backtest chart's card and status line, loading until the backtests have run."""
    body = [
        graph(graph_id, height=CHART_HEIGHT, loading_text=BACKTESTS_RUNNING),
        loading_line(id=status_id),
    ]
    return dbc.Col(card(title, body), xs=12, lg=width)


def _half(child: Any) -> dbc.Col:
    """Half the row on a wide screen, the whole row on a narrow one."""
    return dbc.Col(child, xs=12, lg=6)


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
    symbols = [s.upper() for s in settings.watchlist]
    session: dict[str, Any] = {"persistence": True, "persistence_type": "session"}
    controls = dbc.Row(
        [
            _selector(
                "strategy-strategy",
                [{"label": s.label, "value": s.id} for s in STRATEGIES],
                DEFAULT_STRATEGY,
                width=4,
                clearable=False,
            ),
            _selector(
                "strategy-timeframes",
                [{"label": tf, "value": tf} for tf in TIMEFRAMES],
                list(DEFAULT_TIMEFRAMES),
                width=3,
                multi=True,
                clearable=False,
            ),
            _selector(
                "strategy-symbols",
                [{"label": s, "value": s} for s in symbols],
                symbols,
                width=5,
                multi=True,
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
    return html.Div(
        [
            *synthetic_banner(settings),
            controls,
            range_row,
            html.Div(loading_line("waiting for backtests…"), id="strategy-progress"),
            # Off until a render reports backtests still running: a tick that lands before
            # the first render would render it again and hold back the equity callbacks.
            dcc.Interval(id="strategy-poll", interval=1000, n_intervals=0, disabled=True),
            dbc.Row(
                [
                    _backtest_chart(
                        "Edge by pattern (backtest, R multiples)",
                        "strategy-pattern-chart",
                        "strategy-pattern-status",
                        width=7,
                    ),
                    _backtest_chart(
                        "R-multiple distribution",
                        "strategy-r-histogram",
                        "strategy-r-status",
                        width=5,
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
            lazy_block(
                EQUITY_BLOCK,
                "The method, the equity curve and the rolling ratios load as you scroll.",
            ),
            lazy_block(LOWER, "The edge tables by TFC, regime and DTE load as you scroll."),
        ],
        id=f"{TAB_ID}-root",
        className="strategy-tab",
    )


EQUITY_BLOCK = "strategy-equity-block"


def equity_layout(settings: Settings) -> html.Div:
    """Below the fold (mounted when scrolled near, ``ui.lazy_block``): the method, the
    equity curve against buy and hold with its stats, and the rolling ratios."""
    sizing = SizingRule.from_heat_limit(settings.heat_limit_pct)
    return html.Div(
        [
            card(
                "Method and assumptions",
                html.Div(loading_line("waiting for the backtests…"), id="strategy-method"),
            ),
            card(
                f"Equity risking {sizing.risk_per_trade:.0%} per trade (compounded, at most "
                f"{sizing.max_open_risk:.0%} open) vs equal-weight buy & hold, with drawdown",
                [
                    graph(
                        "strategy-equity-chart", height=CHART_HEIGHT, loading_text=BACKTESTS_RUNNING
                    ),
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
                [graph("strategy-rolling-chart", height="320px", loading_text=BACKTESTS_RUNNING)],
            ),
            # The equity callback polls on its own until its runs are in.
            dcc.Interval(id="strategy-equity-poll", interval=1000, disabled=True),
        ]
    )


LOWER = "strategy-lower"
LAZY_POLLS = ("regime", "tables")


def lower_layout(_settings: Settings) -> html.Div:
    """Below the fold (mounted when scrolled near, ``ui.lazy_block``): the edge tables by
    TFC, regime and DTE, and the journal's."""
    return html.Div(
        [
            # So do the callbacks of these tables.
            *[
                dcc.Interval(id=f"strategy-{name}-poll", interval=1000, disabled=True)
                for name in LAZY_POLLS
            ],
            dbc.Row(
                [
                    _half(
                        grid_card(
                            "Edge by timeframe continuity at entry",
                            "strategy-tfc",
                            TFC_COLUMNS,
                            height="190px",
                        )
                    ),
                    _half(
                        grid_card(
                            "Edge by market regime at entry",
                            "strategy-regime",
                            REGIME_COLUMNS,
                            html.Div(REGIME_AT_ENTRY_NOTE, className="small text-muted"),
                            height="190px",
                        )
                    ),
                ]
            ),
            dbc.Row(
                [
                    _half(
                        grid_card(
                            "Edge by DTE and delta at entry (modelled option backtest)",
                            "strategy-option",
                            OPTION_COLUMNS,
                        )
                    ),
                    _half(
                        grid_card(
                            "Your closed option trades by DTE at entry (journal)",
                            "strategy-journal-dte",
                            JOURNAL_DTE_COLUMNS,
                        )
                    ),
                ]
            ),
            grid_card(
                "Your closed trades (journal)",
                "strategy-journal",
                JOURNAL_COLUMNS,
                row_id="params.data.group",
            ),
        ]
    )
