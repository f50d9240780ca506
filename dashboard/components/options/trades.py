"""Active trades with progress to target, armed entries waiting for their trigger, the
progress chart, the P&L cards, the journal, and managing a trade (new levels, close now,
a broker-held stop): their layout and callbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.status import loading_line, status_line
from dashboard.components.ui import data_grid, form_field, number_input
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import DataResult, DataState
from dashboard.options.occ import display_occ
from dashboard.options.projection import project_quote
from dashboard.trading.arming import ArmingStatus
from dashboard.trading.orders import place_broker_stop, place_exit
from dashboard.trading.records import JournalError, TradeStatus
from dashboard.trading.ticket import round_to_tick
from dashboard.views.formatting import format_money
from dashboard.views.options.ticket import parse_float
from dashboard.views.options.trades import (
    MARK_NOTE,
    ArmedView,
    TradeView,
    armed_line,
    armed_view,
    attribution_line,
    cards_to_show,
    disarmed_line,
    journal_rows,
    pnl_summary,
    progress_inputs,
    r_line,
    trade_line,
    trade_view,
)
from dashboard.visualizations.options_charts import create_trade_progress_chart

if TYPE_CHECKING:
    from dashboard.services import Services

DISARMED_SHOWN = 5  # the latest disarmed entries, with their reasons

JOURNAL_COLUMNS = [
    {"field": "opened", "headerName": "Filled / opened (ET)", "width": 160},
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
                    html.Hr(),
                    html.Div(
                        "Broker-held stop (optional safety net): a sell-to-close stop order "
                        "on the option, held by the broker, at the option value the "
                        "projection gives for the underlying stop. The software exit stays "
                        "primary and cancels it before it sells; if the broker stop fills "
                        "first, the trade closes with that fill.",
                        className="small text-muted mb-1",
                    ),
                    html.Div(id="options-broker-stop-why", className="small mb-1"),
                    dbc.Row(
                        [
                            form_field(
                                "Option stop $",
                                number_input("options-broker-stop-price", 0.01, 0),
                                "options-broker-stop-price-error",
                            ),
                            form_field(
                                "Stop-limit $ (blank: stop)",
                                number_input("options-broker-stop-limit", 0.01, 0),
                                "options-broker-stop-limit-error",
                            ),
                        ]
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Save levels", id="options-modify-save", color="primary", size="sm"),
                    dbc.Button(
                        "Place broker stop",
                        id="options-broker-stop-place",
                        color="warning",
                        size="sm",
                    ),
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
                    html.Div(MARK_NOTE, className="small text-muted mb-2", id="options-mark-note"),
                    html.Div(id="options-armed-entries"),
                    html.Div(id="options-active-trades"),
                    html.Div(id="options-disarmed-entries", className="small text-muted"),
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
    "armed": Output("options-armed-entries", "children"),
    "disarmed": Output("options-disarmed-entries", "children"),
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


def _row_card(
    contract: str,
    status: Any,
    badge: str,
    action: dbc.Button,
    body: list[Any],
    *,
    kind: str,
    id_: str,
    detail: Any = None,
) -> dbc.Card:
    """One row of the active-trades card (an open trade or an armed entry): the contract,
    its status badge, an optional detail and the row's action button on one line, then
    the row's lines."""
    head = [
        html.Strong(display_occ(contract)),
        dbc.Badge(str(status), color=badge, className="ms-2"),
    ]
    if detail is not None:
        head.append(detail)
    return dbc.Card(
        dbc.CardBody([html.Div([*head, action], className="mb-1"), *body], className="py-2"),
        className=f"mb-2 {kind}",
        id=id_,
    )


def _row_action(label: str, colour: str, *, id: dict[str, Any], **extra: Any) -> dbc.Button:
    """A row's button; its pattern-matching id (``{"type": ..., "index": <row id>}``) tells
    the callback which trade or armed entry was clicked."""
    return dbc.Button(
        label,
        id=id,
        size="sm",
        color=colour,
        outline=True,
        className="float-end",
        **extra,
    )


def active_trade_card(view: TradeView) -> dbc.Card:
    t = view.trade
    return _row_card(
        t.contract_symbol,
        t.status,
        "info",
        _row_action("Manage", "secondary", id={"type": "options-manage", "index": t.id}),
        [
            _progress_bar(view),
            html.Div(trade_line(view), className="small"),
            html.Div(r_line(view), className="small", id=f"options-trade-r-{t.id}"),
            html.Div(
                attribution_line(view),
                className="small text-muted",
                id=f"options-trade-attribution-{t.id}",
            ),
            html.Div(_broker_stop_text(t), className="small"),
            html.Div(t.status_message or "", className="small text-warning"),
        ],
        kind="active-trade",
        id_=f"options-trade-{t.id}",
        detail=html.Span(
            f" {t.pattern or ''} {t.timeframe or ''} · {t.open_qty or t.qty}×",
            className="small text-muted",
        ),
    )


def _broker_stop_text(t: Any) -> str:
    if t.broker_stop_client_order_id is None:
        return ""
    kind = "stop-limit" if t.broker_stop_limit is not None else "stop"
    limit = f" limit ${t.broker_stop_limit:.2f}" if t.broker_stop_limit is not None else ""
    return (
        f"Broker-held {kind} at ${t.broker_stop_price:.2f}{limit}: "
        f"{t.broker_stop_status or 'sending'}"
    )


def armed_card(view: ArmedView) -> dbc.Card:
    e = view.entry
    cancel = _row_action(
        "Cancel",
        "danger",
        id={"type": "options-disarm", "index": e.id},
        disabled=e.status is not ArmingStatus.ARMED,
    )
    return _row_card(
        e.contract,
        e.status,
        "warning",
        cancel,
        [html.Div(armed_line(view), className="small")],
        kind="armed-entry",
        id_=f"options-armed-{e.id}",
    )


def refresh_trades(services: Services) -> dict[str, Any]:
    data = services.data
    journal = services.journal
    trades = journal.list_trades(limit=500)
    active = [t for t in trades if t.is_active]
    armed = journal.active_armed()
    disarmed = journal.armed_entries([ArmingStatus.DISARMED], limit=DISARMED_SHOWN)
    underlyings = sorted({t.underlying for t in active} | {e.symbol for e in armed})
    contracts = sorted({t.contract_symbol for t in active})
    quotes, options, clock = run_all(
        data.fetch_quotes(underlyings) if underlyings else None,
        data.fetch_option_quotes(contracts) if contracts else None,
        data.fetch_clock(),
    )
    # The broker's clock dates everything shown; the machine's never appears.
    as_of = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
    now = clock.value.timestamp if clock.value is not None else None
    prices = {s: q.mid for s, q in ((quotes.value or {}) if quotes is not None else {}).items()}
    views = []
    for t in active:
        o = (options.value or {}).get(t.contract_symbol) if options is not None else None
        views.append(
            trade_view(t, prices.get(t.underlying), o.mid if o else None, quote=o, now=now)
        )
    armed_cards = [armed_card(armed_view(e, prices.get(e.symbol))) for e in armed]
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
        "armed": armed_cards,
        "disarmed": [html.Div("Recently disarmed:")]
        + [html.Div(disarmed_line(e), id=f"options-disarmed-{e.id}") for e in disarmed]
        if disarmed
        else [],
        "cards": cards
        or (
            []
            if armed
            else html.Div("No active trades. Load a signal and send an order.", className="small")
        ),
        "count": str(len(active) + len(armed)),
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


def broker_stop_default(services: Services, trade: Any) -> tuple[float | None, str]:
    """The option value the projection gives for the underlying stop (full Black-Scholes
    repricing at the stop after the timeframe's expected hold, at the quote's IV), rounded
    down to the tick; or why there is none."""
    if trade.status is not TradeStatus.OPEN:
        return None, f"The trade is {trade.status}; a broker stop needs an open trade."
    quotes, options, clock = run_all(
        services.data.fetch_quotes([trade.underlying]),
        services.data.fetch_option_quotes([trade.contract_symbol]),
        services.data.fetch_clock(),
    )
    q = (quotes.value or {}).get(trade.underlying)
    o = (options.value or {}).get(trade.contract_symbol)
    if q is None or o is None or clock.value is None:
        return None, "No current quote for the projection; enter the option stop yourself."
    try:
        proj = project_quote(
            o,
            spot=q.mid,
            now=clock.value.timestamp,
            stop=trade.stop_level,
            t1=trade.target_level,
            timeframe=trade.timeframe or "1Day",
            entry_price=float(trade.entry_fill_price or o.mid or 0),
        )
    except ValueError as exc:
        return None, f"No projection ({exc}); enter the option stop yourself."
    value = proj.levels["stop"].value
    ticks = services.settings.tick_table()
    price = round_to_tick(trade.underlying, Decimal(str(max(value, 0.01))), down=True, table=ticks)
    if price <= 0:
        return None, "The projected value at the stop is below one tick."
    return float(price), (
        f"Projection: the option is worth about ${value:.2f} with {trade.underlying} at the "
        f"stop {trade.stop_level:,.2f} after {proj.hold_days:g} days at IV {proj.iv:.0%}."
    )


def open_manage(services: Services, trade_id: int | None, cancelled: bool) -> tuple[Any, ...]:
    """(modal open, body, trade id, target, stop, broker stop price, its why) for a
    trade's Manage button."""
    if cancelled:
        return False, no_update, None, no_update, no_update, no_update, no_update
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
    stop_px, why = broker_stop_default(services, trade)
    return True, body, trade.id, trade.target_level, trade.stop_level, stop_px, why


def place_stop(services: Services, trade_id: Any, price: Any, limit: Any) -> tuple[Any, ...]:
    """Place the broker-held stop. Returns (toast open, header, message, icon, modal open,
    trades version, price error, limit error); bad input changes nothing."""
    if trade_id is None:
        raise PreventUpdate

    def money(raw: Any) -> Decimal | None:
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            return None
        return value if value.is_finite() and value > 0 else None

    stop_px = money(price)
    limit_px = money(limit) if limit not in (None, "") else None
    if stop_px is None or (limit not in (None, "") and limit_px is None):
        return (no_update,) * 6 + (
            "" if stop_px is not None else "Enter a price above zero.",
            "" if limit in (None, "") or limit_px is not None else "Enter a price above zero.",
        )
    result = run_async(
        place_broker_stop(services.data, services.journal, int(trade_id), stop_px, limit_px)
    )
    head = "Broker stop placed" if result.ok else "Broker stop not placed"
    icon = "success" if result.ok else "danger"
    return True, head, result.message, icon, not result.ok, uuid.uuid4().hex, "", ""


def disarm(services: Services, entry_id: Any) -> tuple[Any, ...]:
    """The armed card's Cancel: (toast open, header, message, icon, trades version)."""
    if entry_id is None:
        raise PreventUpdate
    gone = services.journal.cancel_armed(int(entry_id))
    if gone is None:
        current = services.journal.armed_entry(int(entry_id))
        status = current.status if current is not None else "unknown"
        return True, "Not cancelled", f"Armed entry #{entry_id} is {status}.", "danger", no_update
    msg = f"Armed entry #{gone.id} ({gone.symbol} trigger {gone.trigger:,.2f}) disarmed."
    return True, "Disarmed", msg, "success", uuid.uuid4().hex


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


# The toast a manage, broker-stop or disarm action answers with, and the trades version
# that makes the list refresh; the two modal actions also close the manage modal.
TOAST_OUTPUTS = tuple(
    Output("options-toast", prop, allow_duplicate=True)
    for prop in ("is_open", "header", "children", "icon")
)
MODAL_OPEN = Output("options-manage-modal", "is_open", allow_duplicate=True)
TRADES_VERSION = Output("options-trades-version", "data", allow_duplicate=True)


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
        Output("options-broker-stop-price", "value"),
        Output("options-broker-stop-why", "children"),
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
        *TOAST_OUTPUTS,
        MODAL_OPEN,
        TRADES_VERSION,
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

    @app.callback(
        *TOAST_OUTPUTS,
        MODAL_OPEN,
        TRADES_VERSION,
        Output("options-broker-stop-price-error", "children"),
        Output("options-broker-stop-limit-error", "children"),
        Input("options-broker-stop-place", "n_clicks"),
        State("options-manage-trade", "data"),
        State("options-broker-stop-price", "value"),
        State("options-broker-stop-limit", "value"),
        prevent_initial_call=True,
    )
    def _broker_stop(_n: int | None, trade_id: Any, price: Any, limit: Any) -> Any:
        return place_stop(services, trade_id, price, limit)

    @app.callback(
        *TOAST_OUTPUTS,
        TRADES_VERSION,
        Input({"type": "options-disarm", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _disarm(clicks: list[int | None]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        return disarm(services, ctx.triggered_id.get("index"))
