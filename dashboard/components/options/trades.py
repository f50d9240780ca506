"""Active trades with progress to target, the progress chart, the P&L cards, the journal,
and managing a trade (new levels, or close now): their layout and callbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.status import loading_line, status_line
from dashboard.components.ui import data_grid, form_field, number_input
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import DataResult, DataState
from dashboard.options.occ import display_occ
from dashboard.trading.orders import place_exit
from dashboard.trading.records import JournalError
from dashboard.views.formatting import format_money
from dashboard.views.options.ticket import parse_float
from dashboard.views.options.trades import (
    TradeView,
    cards_to_show,
    journal_rows,
    pnl_summary,
    progress_inputs,
    trade_line,
    trade_view,
)
from dashboard.visualizations.options_charts import create_trade_progress_chart

if TYPE_CHECKING:
    from dashboard.services import Services

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


def close_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Close or modify trade")),
            dbc.ModalBody(
                [
                    html.Div(id="options-manage-body", className="mb-2"),
                    dbc.Row(
                        [
                            form_field(
                                "New target",
                                number_input("options-modify-target"),
                                "options-modify-target-error",
                            ),
                            form_field(
                                "New stop",
                                number_input("options-modify-stop"),
                                "options-modify-stop-error",
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


def active_trades_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                ["Active trades ", dbc.Badge("0", id="options-active-count", color="secondary")]
            ),
            dbc.CardBody(
                [
                    html.Div(id="options-active-trades"),
                    html.Div(loading_line(), id="options-active-status"),
                ]
            ),
        ],
        className="mb-3",
    )


def progress_and_pnl_row() -> dbc.Row:
    progress = dbc.Card(
        [
            dbc.CardHeader("Progress to target (each trade on its own R scale)"),
            dbc.CardBody(dcc.Graph(id="options-progress-chart", config={"displaylogo": False})),
        ]
    )
    pnl = dbc.Card(
        [
            dbc.CardHeader("Options P&L (journal and positions)"),
            dbc.CardBody([pnl_cards(), html.Div(id="options-pnl-status")]),
        ]
    )
    return dbc.Row(
        [dbc.Col(progress, lg=8, className="mb-3"), dbc.Col(pnl, lg=4, className="mb-3")]
    )


def journal_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Trade journal"),
            dbc.CardBody(
                [
                    data_grid("options-journal-grid", JOURNAL_COLUMNS, "280px"),
                    html.Div(id="options-journal-status"),
                ]
            ),
        ],
        className="mb-3",
    )


TRADES_OUTPUTS = {
    "cards": Output("options-active-trades", "children"),
    "count": Output("options-active-count", "children"),
    "active_status": Output("options-active-status", "children"),
    "progress": Output("options-progress-chart", "figure"),
    "total": Output("options-pnl-total", "children"),
    "total_class": Output("options-pnl-total", "className"),
    "realised": Output("options-pnl-realised", "children"),
    "realised_class": Output("options-pnl-realised", "className"),
    "unrealised": Output("options-pnl-unrealised", "children"),
    "unrealised_class": Output("options-pnl-unrealised", "className"),
    "winloss": Output("options-pnl-winloss", "children"),
    "best": Output("options-pnl-best", "children"),
    "worst": Output("options-pnl-worst", "children"),
    "pnl_status": Output("options-pnl-status", "children"),
    "journal": Output("options-journal-grid", "rowData"),
    "journal_status": Output("options-journal-status", "children"),
}


def _pnl_class(x: float | None) -> str:
    if x is None or x == 0:
        return "metric-value"
    return "metric-value text-success" if x > 0 else "metric-value text-danger"


def _progress_bar(view: TradeView) -> dbc.Progress:
    if view.progress is None:
        return dbc.Progress(value=0, label="no price", color="secondary", className="mb-1")
    to_target = view.progress >= 0
    share = min(abs(view.progress), 1.0) * 100
    return dbc.Progress(
        value=share,
        label=f"{abs(view.progress) * 100:.0f}% to {'T1' if to_target else 'stop'}",
        color="success" if to_target else "danger",
        className="mb-1",
        style={"height": "18px"},
    )


def active_trade_card(view: TradeView) -> dbc.Card:
    t = view.trade
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Strong(display_occ(t.contract_symbol)),
                        dbc.Badge(str(t.status), color="info", className="ms-2"),
                        html.Span(
                            f" {t.pattern or ''} {t.timeframe or ''} · {t.open_qty or t.qty}×",
                            className="small text-muted",
                        ),
                        dbc.Button(
                            "Manage",
                            id={"type": "options-manage", "index": t.id},
                            size="sm",
                            color="secondary",
                            outline=True,
                            className="float-end",
                        ),
                    ],
                    className="mb-1",
                ),
                _progress_bar(view),
                html.Div(trade_line(view), className="small"),
                html.Div(t.status_message or "", className="small text-warning"),
            ],
            className="py-2",
        ),
        className="mb-2 active-trade",
        id=f"options-trade-{t.id}",
    )


def refresh_trades(services: Services) -> dict[str, Any]:
    data = services.data
    trades = services.journal.list_trades(limit=500)
    active = [t for t in trades if t.is_active]
    as_of = datetime.now(UTC)
    underlyings = sorted({t.underlying for t in active})
    contracts = sorted({t.contract_symbol for t in active})
    quotes, options = run_all(
        data.fetch_quotes(underlyings) if underlyings else None,
        data.fetch_option_quotes(contracts) if contracts else None,
    )
    views = []
    for t in active:
        q = (quotes.value or {}).get(t.underlying) if quotes is not None else None
        o = (options.value or {}).get(t.contract_symbol) if options is not None else None
        views.append(trade_view(t, q.mid if q else None, o.mid if o else None))
    summary = pnl_summary(trades, views)
    nothing: DataResult[Any] = DataResult(None, "journal", as_of, DataState.EMPTY)
    journal_state = DataResult(
        trades or None, "journal", as_of, DataState.FRESH if trades else DataState.EMPTY
    )
    shown = cards_to_show(views)
    cards: list[Any] = [active_trade_card(v) for v in shown]
    if len(shown) < len(views):
        cards.append(
            html.Div(
                f"Showing the {len(shown)} of {len(views)} active trades nearest an exit; "
                "every trade is on the progress chart and in the journal below.",
                className="small text-muted",
                id="options-active-more",
            )
        )
    return {
        "cards": cards
        or html.Div("No active trades. Load a signal and send an order.", className="small"),
        "count": str(len(active)),
        "active_status": status_line(
            quotes if quotes is not None else nothing, empty_text="no active trades"
        ),
        "progress": create_trade_progress_chart(
            progress_inputs(views), uirevision="options-progress"
        ),
        "total": format_money(summary.total, signed=True),
        "total_class": _pnl_class(summary.total),
        "realised": format_money(summary.realised, signed=True),
        "realised_class": _pnl_class(summary.realised),
        "unrealised": format_money(summary.unrealised, signed=True),
        "unrealised_class": _pnl_class(summary.unrealised),
        "winloss": f"{summary.wins} / {summary.losses}",
        "best": format_money(summary.best, signed=True),
        "worst": format_money(summary.worst, signed=True),
        "pnl_status": status_line(
            options if options is not None else nothing, empty_text="no open option positions"
        ),
        "journal": journal_rows(trades),
        "journal_status": status_line(journal_state, empty_text="no trades yet"),
    }


def open_manage(services: Services, trade_id: int | None, cancelled: bool) -> tuple[Any, ...]:
    """(modal open, body, trade id, target, stop) for a trade's Manage button."""
    if cancelled:
        return False, no_update, None, no_update, no_update
    trade = services.journal.get(int(trade_id)) if trade_id is not None else None
    if trade is None:
        raise PreventUpdate
    body = html.Div(
        [
            html.Div(display_occ(trade.contract_symbol), className="fw-bold"),
            html.Div(
                f"{trade.direction} {trade.underlying} · entry {trade.entry_level:.2f} · "
                f"target {trade.target_level:.2f} · stop {trade.stop_level:.2f} · "
                f"status {trade.status}",
                className="small",
            ),
        ]
    )
    return True, body, trade.id, trade.target_level, trade.stop_level


def manage(
    services: Services, trade_id: int | None, close_now: bool, target: Any, stop: Any
) -> tuple[Any, ...]:
    """Close now (a managed exit at the bid), or save new levels for the exit monitor.

    Returns (toast open, header, message, icon, modal open, trades version, target error,
    stop error)."""
    if trade_id is None:
        raise PreventUpdate
    if close_now:
        result = run_async(place_exit(services.data, services.journal, int(trade_id), "manual"))
        head = "Close sent" if result.ok else "Close not sent"
        icon = "success" if result.ok else "danger"
        return True, head, result.message, icon, False, uuid.uuid4().hex, "", ""
    new_target, new_stop = parse_float(target), parse_float(stop)
    if new_target is None or new_stop is None:
        return (no_update,) * 6 + (
            "" if new_target is not None else "Enter a number.",
            "" if new_stop is not None else "Enter a number.",
        )
    try:
        services.journal.update_levels(int(trade_id), target=new_target, stop=new_stop)
    except JournalError as exc:  # the trade moved on (closed, exiting)
        return True, "Levels not saved", str(exc), "danger", False, no_update, "", ""
    except ValueError as exc:
        return (no_update,) * 6 + (str(exc), "")
    msg = f"Target {new_target:.2f}, stop {new_stop:.2f} saved; the exit monitor uses them."
    return True, "Levels saved", msg, "success", False, uuid.uuid4().hex, "", ""


def register(app: Dash, services: Services) -> None:
    @app.callback(
        output=TRADES_OUTPUTS,
        inputs=[Input("options-interval", "n_intervals"), Input("options-trades-version", "data")],
    )
    def _refresh(_n: int | None, _v: str | None) -> dict[str, Any]:
        return refresh_trades(services)

    @app.callback(
        Output("options-manage-modal", "is_open"),
        Output("options-manage-body", "children"),
        Output("options-manage-trade", "data"),
        Output("options-modify-target", "value"),
        Output("options-modify-stop", "value"),
        Input({"type": "options-manage", "index": ALL}, "n_clicks"),
        Input("options-manage-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def _open(clicks: list[int | None], _cancel: int | None) -> tuple[Any, ...]:
        if ctx.triggered_id == "options-manage-cancel":
            return open_manage(services, None, cancelled=True)
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        return open_manage(services, ctx.triggered_id.get("index"), cancelled=False)

    @app.callback(
        Output("options-toast", "is_open", allow_duplicate=True),
        Output("options-toast", "header", allow_duplicate=True),
        Output("options-toast", "children", allow_duplicate=True),
        Output("options-toast", "icon", allow_duplicate=True),
        Output("options-manage-modal", "is_open", allow_duplicate=True),
        Output("options-trades-version", "data", allow_duplicate=True),
        Output("options-modify-target-error", "children"),
        Output("options-modify-stop-error", "children"),
        Input("options-modify-save", "n_clicks"),
        Input("options-close-confirm", "n_clicks"),
        State("options-manage-trade", "data"),
        State("options-modify-target", "value"),
        State("options-modify-stop", "value"),
        prevent_initial_call=True,
    )
    def _manage(_s: int | None, _c: int | None, trade_id: Any, target: Any, stop: Any) -> Any:
        close_now = ctx.triggered_id == "options-close-confirm"
        return manage(services, trade_id, close_now, target, stop)
