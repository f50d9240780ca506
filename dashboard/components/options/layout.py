"""Layout of the Options Trading tab: signals, order ticket, charts, chain and flow,
active trades, progress and journal. Ids are ``options-<thing>``; the callbacks live in
one module per feature next to this one."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.status import loading_line
from dashboard.components.ui import data_grid, slow_loading
from dashboard.settings import Settings

TAB_ID = "options"

SIGNAL_COLUMNS = [
    {"field": "symbol", "headerName": "Symbol", "width": 90, "pinned": "left"},
    {"field": "timeframe", "headerName": "TF", "width": 85},
    {"field": "label", "headerName": "Pattern", "width": 120},
    {"field": "direction", "headerName": "Dir", "width": 75},
    {"field": "status", "headerName": "Status", "width": 100},
    {"field": "entry", "headerName": "Entry", "width": 95, "type": "rightAligned"},
    {"field": "stop", "headerName": "Stop", "width": 95, "type": "rightAligned"},
    {"field": "target1", "headerName": "T1", "width": 95, "type": "rightAligned"},
    {"field": "rr", "headerName": "R:R", "width": 75, "type": "rightAligned"},
    {"field": "tfc", "headerName": "TFC", "width": 80},
    {"field": "magnitude", "headerName": "Move %", "width": 90, "type": "rightAligned"},
    {"field": "triggered", "headerName": "Triggered (ET)", "width": 150},
]

JOURNAL_COLUMNS = [
    {"field": "opened", "headerName": "Opened (ET)", "width": 150},
    {"field": "contract", "headerName": "Contract", "width": 190},
    {"field": "signal", "headerName": "Signal", "width": 170},
    {"field": "qty", "headerName": "Qty", "width": 70, "type": "rightAligned"},
    {"field": "entry", "headerName": "Entry $", "width": 90, "type": "rightAligned"},
    {"field": "exit", "headerName": "Exit $", "width": 90, "type": "rightAligned"},
    {"field": "status", "headerName": "Status", "width": 100},
    {"field": "exit_reason", "headerName": "Exit reason", "width": 120},
    {"field": "pnl", "headerName": "P&L $", "width": 100, "type": "rightAligned"},
    {"field": "client_order_id", "headerName": "Client order id", "width": 220},
]


def _grid(id_: str, columns: list[dict], height: str = "300px", **kw) -> dag.AgGrid:
    options = kw.pop("dashGridOptions", None)
    return data_grid(id_, columns, height, grid_options=options, **kw)


def _field(label: str, control, feedback_id: str, width: int = 6) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, className="small mb-0"),
            control,
            html.Div(id=feedback_id, className="invalid-feedback d-block small"),
        ],
        xs=12,
        sm=width,
        className="mb-2",
    )


def _num(
    id_: str, step: float | str = "any", min_: float | None = None, value: float | None = None
) -> dbc.Input:
    return dbc.Input(
        id=id_, type="number", step=step, min=min_, size="sm", debounce=True, value=value
    )


def ticket(settings: Settings) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Order ticket"),
            dbc.CardBody(
                [
                    html.Div(id="options-ticket-signal", className="small mb-2"),
                    dbc.Row(
                        [
                            _field(
                                "Underlying",
                                dbc.Input(
                                    id="options-symbol", type="text", size="sm", debounce=True
                                ),
                                "options-symbol-error",
                                4,
                            ),
                            _field(
                                "Direction",
                                dbc.Select(
                                    id="options-direction",
                                    options=[
                                        {"label": "Long (buy call)", "value": "long"},
                                        {"label": "Short (buy put)", "value": "short"},
                                    ],
                                    value="long",
                                    size="sm",
                                ),
                                "options-direction-error",
                                4,
                            ),
                            _field(
                                f"Contracts (max {settings.max_contracts})",
                                _num("options-contracts", 1, 1, value=1),
                                "options-contracts-error",
                                4,
                            ),
                            _field(
                                "Expiry",
                                dbc.Select(id="options-expiry", options=[], size="sm"),
                                "options-expiry-error",
                                4,
                            ),
                            _field(
                                "Strike",
                                dbc.Select(id="options-strike", options=[], size="sm"),
                                "options-strike-error",
                                4,
                            ),
                            _field(
                                "Limit $", _num("options-limit", 0.01, 0), "options-limit-error", 4
                            ),
                            _field(
                                "Underlying entry", _num("options-entry"), "options-entry-error", 4
                            ),
                            _field(
                                "Target (T1)", _num("options-target"), "options-target-error", 4
                            ),
                            _field("Stop", _num("options-stop"), "options-stop-error", 4),
                        ],
                        className="g-2",
                    ),
                    html.Div(id="options-contract-why", className="small text-muted mb-2"),
                    html.Div(id="options-projection", className="mb-2"),
                    html.Div(id="options-form-error", className="text-danger small mb-2"),
                    dbc.Button(
                        "Review order",
                        id="options-review",
                        color="primary",
                        size="sm",
                        disabled=True,
                        className="me-2",
                    ),
                    html.Span(id="options-ticket-state", className="small text-muted"),
                ]
            ),
        ],
        className="h-100",
    )


def confirm_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Confirm order")),
            dbc.ModalBody(
                [
                    html.Div(id="options-confirm-body"),
                    html.Div(
                        [
                            dbc.Label(
                                "LIVE account: type the contract symbol to confirm",
                                className="small text-warning",
                            ),
                            dbc.Input(id="options-live-confirm", type="text", size="sm"),
                        ],
                        id="options-live-confirm-wrap",
                        style={"display": "none"},
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="options-confirm-cancel", color="secondary", size="sm"),
                    dbc.Button("Send order", id="options-submit", color="success", size="sm"),
                ]
            ),
        ],
        id="options-confirm-modal",
        is_open=False,
    )


def close_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Close or modify trade")),
            dbc.ModalBody(
                [
                    html.Div(id="options-manage-body", className="mb-2"),
                    dbc.Row(
                        [
                            _field(
                                "New target",
                                _num("options-modify-target"),
                                "options-modify-target-error",
                            ),
                            _field(
                                "New stop", _num("options-modify-stop"), "options-modify-stop-error"
                            ),
                        ]
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Save levels", id="options-modify-save", color="primary", size="sm"),
                    dbc.Button(
                        "Close position now", id="options-close-confirm", color="danger", size="sm"
                    ),
                    dbc.Button("Cancel", id="options-manage-cancel", color="secondary", size="sm"),
                ]
            ),
        ],
        id="options-manage-modal",
        is_open=False,
    )


def pnl_cards() -> html.Div:
    cards = [
        ("Total P&L", "options-pnl-total"),
        ("Realised", "options-pnl-realised"),
        ("Unrealised", "options-pnl-unrealised"),
        ("Wins / losses", "options-pnl-winloss"),
        ("Largest win", "options-pnl-best"),
        ("Largest loss", "options-pnl-worst"),
    ]
    return dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [
                        html.Div(label, className="metric-label"),
                        html.Div("—", id=id_, className="metric-value"),
                    ]
                ),
                xs=6,
                className="mb-2",
            )
            for label, id_ in cards
        ],
        className="g-2",
    )


CHAIN_COLUMNS = [
    {"field": "c_delta", "headerName": "Δ", "width": 70, "type": "rightAligned"},
    {"field": "c_iv", "headerName": "IV %", "width": 75, "type": "rightAligned"},
    {"field": "c_oi", "headerName": "OI", "width": 80, "type": "rightAligned"},
    {"field": "c_volume", "headerName": "Vol", "width": 75, "type": "rightAligned"},
    {"field": "c_last", "headerName": "Last", "width": 75, "type": "rightAligned"},
    {"field": "c_bid", "headerName": "Bid", "width": 75, "type": "rightAligned"},
    {"field": "c_ask", "headerName": "Ask", "width": 75, "type": "rightAligned"},
    {"field": "c_mid", "headerName": "Mid", "width": 75, "type": "rightAligned"},
    {"field": "strike", "headerName": "Strike", "width": 90, "pinned": "left"},
    {"field": "p_mid", "headerName": "Mid", "width": 75, "type": "rightAligned"},
    {"field": "p_bid", "headerName": "Bid", "width": 75, "type": "rightAligned"},
    {"field": "p_ask", "headerName": "Ask", "width": 75, "type": "rightAligned"},
    {"field": "p_last", "headerName": "Last", "width": 75, "type": "rightAligned"},
    {"field": "p_volume", "headerName": "Vol", "width": 75, "type": "rightAligned"},
    {"field": "p_oi", "headerName": "OI", "width": 80, "type": "rightAligned"},
    {"field": "p_iv", "headerName": "IV %", "width": 75, "type": "rightAligned"},
    {"field": "p_delta", "headerName": "Δ", "width": 70, "type": "rightAligned"},
    {"field": "c_gamma", "headerName": "Γ call", "width": 80, "type": "rightAligned"},
    {"field": "c_theta", "headerName": "Θ call", "width": 80, "type": "rightAligned"},
    {"field": "c_vega", "headerName": "Vega call", "width": 85, "type": "rightAligned"},
    {"field": "p_gamma", "headerName": "Γ put", "width": 80, "type": "rightAligned"},
    {"field": "p_theta", "headerName": "Θ put", "width": 80, "type": "rightAligned"},
    {"field": "p_vega", "headerName": "Vega put", "width": 85, "type": "rightAligned"},
]

FLOW_COLUMNS = [
    {"field": "contract", "headerName": "Contract", "width": 190},
    {"field": "right", "headerName": "C/P", "width": 65},
    {"field": "volume", "headerName": "Volume", "width": 90, "type": "rightAligned"},
    {"field": "open_interest", "headerName": "OI", "width": 90, "type": "rightAligned"},
    {"field": "vol_oi", "headerName": "Vol/OI", "width": 85, "type": "rightAligned"},
    {"field": "premium", "headerName": "Premium $", "width": 110, "type": "rightAligned"},
    {"field": "side", "headerName": "Side", "width": 80},
]


def _graph(id_: str, height: int = 360) -> dcc.Graph:
    return dcc.Graph(
        id=id_,
        config={"displaylogo": False, "responsive": True},
        style={"height": f"{height}px"},
    )


def signal_chart_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Signal chart ", id="options-signal-chart-title"),
                    dbc.Checklist(
                        id="options-chart-labels",
                        options=[{"label": "bar types", "value": "labels"}],
                        value=["labels"],
                        inline=True,
                        switch=True,
                        className="d-inline-block ms-2 small",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    slow_loading(_graph("options-signal-chart", 420)),
                    html.Div(id="options-signal-chart-status"),
                ]
            ),
        ],
        className="h-100",
    )


def payoff_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Payoff and projection for the ticket's contract"),
            dbc.CardBody(
                [
                    slow_loading(_graph("options-payoff-chart", 420)),
                    html.Div(id="options-payoff-status"),
                ]
            ),
        ],
        className="h-100",
    )


def chain_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Option chain ", id="options-chain-title"),
                    html.Span(
                        [
                            dbc.Label("Expiry", className="small ms-2 me-1"),
                            dbc.Select(
                                id="options-chain-expiry",
                                options=[],
                                size="sm",
                                className="d-inline-block w-auto",
                            ),
                            dbc.Label("Moneyness ±%", className="small ms-2 me-1"),
                            dbc.Select(
                                id="options-chain-moneyness",
                                options=[
                                    {"label": str(v), "value": str(v)} for v in (2, 5, 10, 20)
                                ],
                                value="5",
                                size="sm",
                                className="d-inline-block w-auto",
                            ),
                        ],
                        className="d-inline-flex align-items-center flex-wrap",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    slow_loading(
                        _grid(
                            "options-chain-grid",
                            CHAIN_COLUMNS,
                            "360px",
                            getRowId="params.data.strike_key",
                            dashGridOptions={
                                "rowSelection": {
                                    "mode": "singleRow",
                                    "enableClickSelection": True,
                                    "checkboxes": False,
                                },
                            },
                            rowClassRules={"chain-atm": "params.data.atm === true"},
                        ),
                    ),
                    html.Div(
                        "Click a call or put price to load that contract into the ticket.",
                        className="small text-muted",
                    ),
                    html.Div(id="options-chain-status"),
                ]
            ),
        ],
        className="mb-3",
    )


def flow_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Options flow (volume by strike and expiry; calls vs puts)"),
            dbc.CardBody(
                dbc.Row(
                    [
                        dbc.Col(slow_loading(_graph("options-flow-chart", 380)), lg=7),
                        dbc.Col(_grid("options-flow-grid", FLOW_COLUMNS, "380px"), lg=5),
                    ]
                )
            ),
            dbc.CardFooter(html.Div(id="options-flow-status")),
        ],
        className="mb-3",
    )


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(
                                    [
                                        "STRAT signals ",
                                        dbc.RadioItems(
                                            id="options-signal-category",
                                            options=[
                                                {"label": "Pending", "value": "pending"},
                                                {"label": "Triggered", "value": "triggered"},
                                                {
                                                    "label": "Low magnitude",
                                                    "value": "low_magnitude",
                                                },
                                                {"label": "All", "value": "all"},
                                            ],
                                            value="all",
                                            inline=True,
                                            className="d-inline-block ms-2 small",
                                        ),
                                    ]
                                ),
                                dbc.CardBody(
                                    [
                                        slow_loading(
                                            _grid(
                                                "options-signals-grid",
                                                SIGNAL_COLUMNS,
                                                "320px",
                                                getRowId="params.data.id",
                                                dashGridOptions={
                                                    "rowSelection": {
                                                        "mode": "singleRow",
                                                        "enableClickSelection": True,
                                                        "checkboxes": False,
                                                    }
                                                },
                                            ),
                                        ),
                                        html.Div(loading_line(), id="options-signals-status"),
                                    ]
                                ),
                            ],
                            className="h-100",
                        ),
                        lg=7,
                        className="mb-3",
                    ),
                    dbc.Col(ticket(settings), lg=5, className="mb-3"),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(signal_chart_card(), lg=7, className="mb-3"),
                    dbc.Col(payoff_card(), lg=5, className="mb-3"),
                ]
            ),
            chain_card(),
            flow_card(),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            "Active trades ",
                            dbc.Badge("0", id="options-active-count", color="secondary"),
                        ]
                    ),
                    dbc.CardBody(
                        [
                            html.Div(id="options-active-trades"),
                            html.Div(loading_line(), id="options-active-status"),
                        ]
                    ),
                ],
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(
                                    "Progress to target (each trade on its own R scale)"
                                ),
                                dbc.CardBody(
                                    dcc.Graph(
                                        id="options-progress-chart", config={"displaylogo": False}
                                    )
                                ),
                            ]
                        ),
                        lg=8,
                        className="mb-3",
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Options P&L (journal and positions)"),
                                dbc.CardBody([pnl_cards(), html.Div(id="options-pnl-status")]),
                            ]
                        ),
                        lg=4,
                        className="mb-3",
                    ),
                ]
            ),
            dbc.Card(
                [
                    dbc.CardHeader("Trade journal"),
                    dbc.CardBody(
                        [
                            _grid("options-journal-grid", JOURNAL_COLUMNS, "280px"),
                            html.Div(id="options-journal-status"),
                        ]
                    ),
                ],
                className="mb-3",
            ),
            confirm_modal(),
            close_modal(),
            dbc.Toast(
                id="options-toast",
                header="Order",
                is_open=False,
                dismissable=True,
                duration=8000,
                style={
                    "position": "fixed",
                    "top": 70,
                    "right": 10,
                    "zIndex": 2000,
                    "minWidth": "18rem",
                },
            ),
            dcc.Store(id="options-selected-signal", storage_type="session"),
            dcc.Store(id="options-ticket-nonce", storage_type="memory"),
            dcc.Store(id="options-trades-version", storage_type="memory"),
            dcc.Store(id="options-manage-trade", storage_type="memory"),
        ],
        id=f"{TAB_ID}-root",
    )
