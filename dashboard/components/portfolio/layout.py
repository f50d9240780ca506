"""The Live Portfolio tab's layout: ids are ``portfolio-<thing>``."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.status import loading_line
from dashboard.components.ui import (
    card,
    data_grid,
    graph,
    lazy_block,
    money_col,
    num_col,
    zoom_memory,
)
from dashboard.settings import Settings
from dashboard.views.portfolio import (
    BENCHMARK,
    FILLS_DAYS,
    FILLS_SHOWN,
    PERIOD_LABELS,
    PERIODS,
    Metric,
    portfolio_metrics,
)

TAB_ID = "portfolio"
# The open orders and fills, below the first screen: they mount when scrolled near.
LOWER = "portfolio-lower"

POSITION_COLUMNS: list[dict[str, Any]] = [
    {"field": "contract", "headerName": "Symbol / contract", "pinned": "left", "minWidth": 150},
    {"field": "asset_class", "headerName": "Class", "width": 80},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 90},
    {"field": "side", "headerName": "Side", "width": 75},
    money_col("avg_entry", "Avg entry", width=105),
    money_col("current", "Current", width=100),
    money_col("market_value", "Mkt value", width=115),
    money_col("unrealized_pl", "Unrl. P&L", coloured=True, width=110),
    num_col("unrealized_pct", "Unrl. %", "+.2f", coloured=True, width=90),
    money_col("day_pl", "Today", coloured=True, width=100),
    {
        "field": "trend",
        "headerName": "Underlying today",
        "sortable": False,
        "filter": False,
        "cellClass": "font-monospace",
        "minWidth": 150,
    },
    {"field": "pattern", "headerName": "Pattern", "width": 110},
    num_col(
        "progress",
        "To T1 %",
        "+.0f",
        coloured=True,
        width=95,
        headerTooltip="Journal trade progress on the underlying: 0 entry, 100 T1, -100 stop",
    ),
]

ORDER_COLUMNS: list[dict[str, Any]] = [
    {"field": "created", "headerName": "Created (ET)", "width": 130, "sort": "desc"},
    {"field": "contract", "headerName": "Symbol / contract", "minWidth": 150},
    {"field": "side", "headerName": "Side", "width": 70},
    {"field": "type", "headerName": "Type", "width": 80},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 80},
    {"field": "filled_qty", "headerName": "Filled", "type": "rightAligned", "width": 80},
    money_col("limit_price", "Limit", width=95),
    {"field": "tif", "headerName": "TIF", "width": 70},
    {"field": "status", "headerName": "Status", "width": 110},
]

FILL_COLUMNS: list[dict[str, Any]] = [
    {"field": "time", "headerName": "Time (ET)", "width": 130, "sort": "desc"},
    {"field": "contract", "headerName": "Symbol / contract", "minWidth": 150},
    {"field": "side", "headerName": "Side", "width": 70},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 80},
    money_col("price", "Price", width=100),
    money_col("notional", "Notional", width=115),
    {"field": "type", "headerName": "Type", "width": 100},
]

_TONE_CLASS = {"bull": "text-bull", "bear": "text-bear", "muted": "text-muted", "": ""}


def metric_card(m: Metric) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(m.label, className="metric-label"),
                    html.Div(
                        m.value,
                        className=f"metric-value {_TONE_CLASS[m.tone]}",
                        id=f"portfolio-card-{m.key}",
                    ),
                    html.Div(m.sub, className="small text-muted", id=f"portfolio-card-{m.key}-sub"),
                ],
                className="py-2",
            ),
            className="h-100",
        ),
        xs=6,
        md=4,
        xl=True,
        className="mb-2",
    )


def _cancel_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Cancel order")),
            dbc.ModalBody(
                [
                    html.Div(id="portfolio-cancel-body"),
                    html.Div(
                        [
                            dbc.Label("Live account: type the order's symbol", className="small"),
                            dbc.Input(id="portfolio-cancel-live-confirm", type="text", size="sm"),
                        ],
                        id="portfolio-cancel-live-wrap",
                        style={"display": "none"},
                        className="mt-2",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        "Keep order", id="portfolio-cancel-dismiss", color="secondary", size="sm"
                    ),
                    dbc.Button(
                        "Cancel order", id="portfolio-cancel-confirm", color="danger", size="sm"
                    ),
                ]
            ),
        ],
        id="portfolio-cancel-modal",
        is_open=False,
    )


def lower_layout() -> dbc.Row:
    """The open orders (with the cancel button) and the recent fills."""
    orders = html.Div(
        [
            data_grid(
                "portfolio-orders-grid",
                ORDER_COLUMNS,
                "240px",
                getRowId="params.data.id",
                grid_options={"rowSelection": {"mode": "singleRow"}},
            ),
            dbc.Button(
                "Cancel selected order…",
                id="portfolio-cancel-open",
                color="danger",
                outline=True,
                size="sm",
                className="mt-2",
            ),
            html.Div(id="portfolio-cancel-result", className="mt-2"),
        ]
    )
    return dbc.Row(
        [
            dbc.Col(
                card("Open orders", orders, status_id="portfolio-orders-status"),
                xs=12,
                lg=6,
            ),
            dbc.Col(
                card(
                    f"Recent fills (latest {FILLS_SHOWN}, {FILLS_DAYS} days)",
                    data_grid(
                        "portfolio-fills-grid",
                        FILL_COLUMNS,
                        "280px",
                        getRowId="params.data.id",
                    ),
                    status_id="portfolio-fills-status",
                ),
                xs=12,
                lg=6,
            ),
        ]
    )


def layout(settings: Settings) -> html.Div:
    periods = dbc.RadioItems(
        id="portfolio-period",
        options=[{"label": PERIOD_LABELS[p], "value": p} for p in PERIODS],
        value="1M",
        inline=True,
        className="btn-group btn-group-sm",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-info btn-sm",
        labelCheckedClassName="active",
    )
    return html.Div(
        [
            dbc.Row(
                [metric_card(m) for m in portfolio_metrics(None, None, None)],
                id="portfolio-cards",
                className="g-2 mt-2",
            ),
            html.Div(loading_line(), id="portfolio-cards-status", className="mb-2"),
            card(
                "Positions",
                data_grid(
                    "portfolio-positions-grid",
                    POSITION_COLUMNS,
                    "320px",
                    getRowId="params.data.symbol",
                ),
                status_id="portfolio-positions-status",
                extra=html.Span(id="portfolio-journal-note", className="small text-muted"),
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Equity curve vs " + BENCHMARK,
                            [
                                graph("portfolio-equity-chart", "380px"),
                                zoom_memory("portfolio-equity-chart"),
                            ],
                            status_id="portfolio-equity-status",
                            extra=periods,
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        card(
                            "Today's P&L by position",
                            graph("portfolio-waterfall", "380px"),
                            status_id="portfolio-waterfall-status",
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            lazy_block(LOWER, "Open orders and recent fills load as you scroll here."),
            _cancel_modal(),
            dcc.Store(id="portfolio-cancel-target"),
            dcc.Store(id="portfolio-cancel-done"),
        ],
        id=f"{TAB_ID}-root",
    )
