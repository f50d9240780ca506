"""Active trades with progress to target, armed entries waiting for their trigger, the
progress chart, the P&L cards and the journal: their layout and callbacks. Managing a
trade (new levels, close now, a broker-held stop) is ``manage``'s."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, ctx, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from dashboard.components.first_state import FirstState, of_outputs
from dashboard.components.status import loading_line, status_line
from dashboard.components.ui import data_grid, lazy_block, register_lazy
from dashboard.data_loaders.loop import run_all
from dashboard.models import DataResult, DataState
from dashboard.options.occ import display_occ
from dashboard.trading.arming import ArmingStatus
from dashboard.views.formatting import format_money
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


BOOK_BODY = "options-book-body"


def book_body() -> html.Div:
    """The progress chart, the P&L cards and the journal, mounted when scrolled near."""
    return html.Div([progress_and_pnl_row(), journal_card()])


def book_block() -> html.Div:
    # Below the fold: a chart, a grid and their callback wait until the trader scrolls
    # near them; the active trades above keep refreshing from the first load.
    return lazy_block(BOOK_BODY, "The progress chart, P&L and journal load as you scroll here.")


ACTIVE_OUTPUTS = {
    "armed": Output("options-armed-entries", "children"),
    "disarmed": Output("options-disarmed-entries", "children"),
    "cards": Output("options-active-trades", "children"),
    "count": Output("options-active-count", "children"),
    "active_status": Output("options-active-status", "children"),
}
BOOK_OUTPUTS = {
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
TRADES_OUTPUTS = {**ACTIVE_OUTPUTS, **BOOK_OUTPUTS}


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


JOURNAL_ROWS = 500  # the book's journal grid and P&L cards: the latest trades


@dataclass(frozen=True)
class TradesRead:
    """One read of the journal and the quotes its open trades and armed entries need.
    ``trades`` is the latest ``JOURNAL_ROWS`` for the book, or only ``active``."""

    trades: list[Any]
    active: list[Any]
    armed: list[Any]
    disarmed: list[Any]
    views: list[TradeView]
    prices: dict[str, float | None]
    quotes: DataResult[Any] | None
    options: DataResult[Any] | None
    as_of: datetime


def read_trades(services: Services, *, with_journal: bool = True) -> TradesRead:
    """Every active trade and armed entry with their quotes; with ``with_journal`` (the
    book) the latest journal rows too. The active-trades card reads without them."""
    data = services.data
    journal = services.journal
    active = journal.active_trades()
    trades = journal.list_trades(limit=JOURNAL_ROWS) if with_journal else active
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
    return TradesRead(trades, active, armed, disarmed, views, prices, quotes, options, as_of)


def _nothing(as_of: datetime) -> DataResult[Any]:
    return DataResult(None, "journal", as_of, DataState.EMPTY)


def active_outputs(read: TradesRead) -> dict[str, Any]:
    """The active-trades card: armed entries, open trades nearest an exit, disarmed."""
    armed_cards = [armed_card(armed_view(e, read.prices.get(e.symbol))) for e in read.armed]
    shown = cards_to_show(read.views)
    cards: list[Any] = [active_trade_card(v) for v in shown]
    if len(shown) < len(read.views):
        cards.append(
            html.Div(
                f"Showing the {len(shown)} of {len(read.views)} active trades nearest an "
                "exit; every trade is on the progress chart and in the journal below.",
                className="small text-muted",
                id="options-active-more",
            )
        )
    disarmed = read.disarmed
    return {
        "armed": armed_cards,
        "disarmed": [html.Div("Recently disarmed:")]
        + [html.Div(disarmed_line(e), id=f"options-disarmed-{e.id}") for e in disarmed]
        if disarmed
        else [],
        "cards": cards
        or (
            []
            if read.armed
            else html.Div("No active trades. Load a signal and send an order.", className="small")
        ),
        "count": str(len(read.active) + len(read.armed)),
        "active_status": status_line(
            read.quotes if read.quotes is not None else _nothing(read.as_of),
            empty_text="no active trades",
        ),
    }


def book_outputs(read: TradesRead) -> dict[str, Any]:
    """The progress chart, the P&L cards and the journal grid."""
    summary = pnl_summary(read.trades, read.views)
    journal_state = DataResult(
        read.trades or None,
        "journal",
        read.as_of,
        DataState.FRESH if read.trades else DataState.EMPTY,
    )
    return {
        "progress": create_trade_progress_chart(
            progress_inputs(read.views), uirevision="options-progress"
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
            read.options if read.options is not None else _nothing(read.as_of),
            empty_text="no open option positions",
        ),
        "journal": journal_rows(read.trades),
        "journal_status": status_line(journal_state, empty_text="no trades yet"),
    }


def refresh_trades(services: Services) -> dict[str, Any]:
    """Everything both trade callbacks show, from one read."""
    read = read_trades(services)
    return {**active_outputs(read), **book_outputs(read)}


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


# The toast a manage, broker-stop or disarm action answers with, and the trades version
# that makes the list refresh (``manage``'s actions use them too).
TOAST_OUTPUTS = tuple(
    Output("options-toast", prop, allow_duplicate=True)
    for prop in ("is_open", "header", "children", "icon")
)
TRADES_VERSION = Output("options-trades-version", "data", allow_duplicate=True)


def first_state(services: Services, _layout: Component) -> FirstState:
    """The active-trades card a page starts with."""
    return of_outputs(ACTIVE_OUTPUTS, active_outputs(read_trades(services, with_journal=False)))


def register(app: Dash, services: Services) -> None:
    refreshed = [Input("options-interval", "n_intervals"), Input("options-trades-version", "data")]

    # Not on a load: the layout is served with the card (``first_state``).
    @app.callback(output=ACTIVE_OUTPUTS, inputs=refreshed, prevent_initial_call=True)
    def _refresh(_n: int | None, _v: str | None) -> dict[str, Any]:
        return active_outputs(read_trades(services, with_journal=False))

    register_lazy(app, BOOK_BODY, book_body)

    @app.callback(output=BOOK_OUTPUTS, inputs=refreshed)
    def _book(_n: int | None, _v: str | None) -> dict[str, Any]:
        return book_outputs(read_trades(services))

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
