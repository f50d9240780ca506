"""The order ticket: inline validation with the projection, then review, confirm, send.

``validate`` is the one path every step takes (the form may change between review and
send, so the send validates again). Nothing is sent on an invalid ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.ui import form_field, number_input
from dashboard.data_loaders.loop import run_async
from dashboard.models import OptionChain
from dashboard.settings import Settings
from dashboard.trading.orders import place_entry
from dashboard.trading.ticket import TicketValidation, validate_ticket
from dashboard.views.formatting import format_number
from dashboard.views.options.ticket import (
    FORM_FIELDS,
    ProjectionView,
    projection_view,
    ticket_fields,
)
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services


def validate(
    services: Services, reads: Reads, values: Mapping[str, Any], signal: dict[str, Any] | None
) -> tuple[TicketValidation, datetime, OptionChain | None]:
    """The ticket validated against the chain, the options buying power and the broker's
    time, read in one round."""
    symbol = str(values.get("symbol") or "").strip().upper()
    chain_read = reads.chain(symbol, values.get("expiry")) if symbol else None
    chain_result, account, now = reads.with_now(chain_read, services.data.fetch_account())
    chain = chain_result.value if chain_result is not None else None
    bp = account.value.options_buying_power if account.value is not None else None
    known = set(watchlist_symbols(services))
    if symbol and symbol not in known and chain is not None and chain.quotes:
        known.add(symbol)  # listed options prove the underlying exists
    result = validate_ticket(
        ticket_fields(values, signal),
        chain=chain,
        buying_power=bp,
        now=now,
        max_contracts=services.settings.max_contracts,
        known_symbols=known,
    )
    return result, now, chain


def projection_table(view: ProjectionView) -> html.Div:
    """Projected option value at T1/T2/stop after the expected hold, and the max loss."""
    if view.projection is None:
        return html.Div(view.missing, className="small")
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(format_number(lv.underlying)),
                html.Td(format_number(lv.value)),
                html.Td(
                    f"{lv.pnl:+,.0f}", className="text-success" if lv.pnl >= 0 else "text-danger"
                ),
            ]
        )
        for name, lv in view.projection.levels.items()
    ]
    head = html.Thead(
        html.Tr([html.Th("Level"), html.Th("Underlying"), html.Th("Option"), html.Th("P&L $")])
    )
    return html.Div(
        [
            dbc.Table(
                [head, html.Tbody(rows)],
                size="sm",
                className="mb-1 small",
                id="options-projection-table",
            ),
            html.Div(view.summary, className="small text-muted", id="options-max-loss"),
        ]
    )


def ticket_card(settings: Settings) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Order ticket"),
            dbc.CardBody(
                [
                    html.Div(id="options-ticket-signal", className="small mb-2"),
                    dbc.Row(
                        [
                            form_field(
                                "Underlying",
                                dbc.Input(
                                    id="options-symbol", type="text", size="sm", debounce=True
                                ),
                                "options-symbol-error",
                                4,
                            ),
                            form_field(
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
                            form_field(
                                f"Contracts (max {settings.max_contracts})",
                                number_input("options-contracts", 1, 1, value=1),
                                "options-contracts-error",
                                4,
                            ),
                            form_field(
                                "Expiry",
                                dbc.Select(id="options-expiry", options=[], size="sm"),
                                "options-expiry-error",
                                4,
                            ),
                            form_field(
                                "Strike",
                                dbc.Select(id="options-strike", options=[], size="sm"),
                                "options-strike-error",
                                4,
                            ),
                            form_field(
                                "Limit $",
                                number_input("options-limit", 0.01, 0),
                                "options-limit-error",
                                4,
                            ),
                            form_field(
                                "Underlying entry",
                                number_input("options-entry"),
                                "options-entry-error",
                                4,
                            ),
                            form_field(
                                "Target (T1)",
                                number_input("options-target"),
                                "options-target-error",
                                4,
                            ),
                            form_field(
                                "Stop", number_input("options-stop"), "options-stop-error", 4
                            ),
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


CHECK_OUTPUTS = {
    **{f"{f}_error": Output(f"options-{f}-error", "children") for f in FORM_FIELDS},
    "projection": Output("options-projection", "children"),
    "form_error": Output("options-form-error", "children"),
    "review_disabled": Output("options-review", "disabled"),
    "state": Output("options-ticket-state", "children"),
}


def check_ticket(
    services: Services, reads: Reads, values: Mapping[str, Any], signal: dict[str, Any] | None
) -> dict[str, Any]:
    blank = {f"{f}_error": "" for f in FORM_FIELDS}
    if not values.get("symbol"):
        return {
            **blank,
            "projection": None,
            "form_error": "",
            "review_disabled": True,
            "state": "Pick a signal, or type an underlying to start.",
        }
    result, now, chain = validate(services, reads, values, signal)
    errors = {f"{f}_error": result.errors.get(f, "") for f in FORM_FIELDS}
    extra = [msg for f, msg in result.errors.items() if f not in FORM_FIELDS]
    if not result.ok or result.ticket is None or result.quote is None:
        return {
            **errors,
            "projection": None,
            "form_error": " ".join(extra),
            "review_disabled": True,
            "state": f"{len(result.errors)} issue(s) to fix",
        }
    t = result.ticket
    view = projection_view(
        result.quote,
        spot=(chain.underlying_price if chain else None) or t.entry,
        now=now,
        stop=t.stop,
        target=t.target,
        target2=t.target2,
        timeframe=t.timeframe,
        limit=float(t.limit),
        contracts=t.contracts,
    )
    return {
        **errors,
        "projection": projection_table(view),
        "form_error": " ".join(result.warnings),
        "review_disabled": False,
        "state": f"Ready: {t.display}",
    }


def review(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    signal: dict[str, Any] | None,
    cancelled: bool,
) -> tuple[Any, ...]:
    """(modal open, body, live-confirm style, nonce): the exact order and its plan. The
    nonce keys the send, so a double click or a retry never sends twice."""
    if cancelled:
        return False, no_update, no_update, None
    result, _now, _chain = validate(services, reads, values, signal)
    if not result.ok or result.ticket is None:
        raise PreventUpdate
    t = result.ticket
    settings = services.settings
    body = html.Div(
        [
            html.Div(t.display, className="fw-bold mb-2", id="options-confirm-order"),
            html.Div(
                f"Plan: {t.direction} {t.symbol} · entry {t.entry:.2f} · target "
                f"{t.target:.2f} · stop {t.stop:.2f}"
                + (f" · {t.pattern} {t.timeframe}" if t.pattern else ""),
                className="small",
            ),
            html.Div(
                f"Account: {settings.mode_label}. Exits at target or stop are sent by the "
                "dashboard's exit monitor (Alpaca has no brackets for options).",
                className="small text-muted mt-2",
            ),
        ]
    )
    live_style = {"display": "block"} if settings.is_live else {"display": "none"}
    return True, body, live_style, uuid.uuid4().hex


def submit(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    signal: dict[str, Any] | None,
    nonce: str | None,
    confirmation: str | None,
) -> tuple[Any, ...]:
    """(toast open, header, message, icon, modal open, trades version)."""
    result, _now, _chain = validate(services, reads, values, signal)
    if not result.ok or result.ticket is None:
        msg = "; ".join(result.errors.values())
        return True, "Order not sent", f"The ticket is invalid: {msg}", "danger", False, no_update
    placed = run_async(
        place_entry(
            services.data,
            services.journal,
            result.ticket,
            request_key=nonce,
            confirmation=confirmation,
        )
    )
    header = "Order sent" if placed.ok else "Order not sent"
    icon = "success" if placed.ok else "danger"
    return True, header, placed.message, icon, False, uuid.uuid4().hex


def _form(args: tuple[Any, ...]) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The form's values by field, and the arguments after them."""
    n = len(FORM_FIELDS)
    return dict(zip(FORM_FIELDS, args[:n], strict=True)), args[n:]


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        output=CHECK_OUTPUTS,
        inputs=[Input(f"options-{f}", "value") for f in FORM_FIELDS],
        state=[State("options-selected-signal", "data")],
    )
    def _check(*args: Any) -> dict[str, Any]:
        values, (signal,) = _form(args)
        return check_ticket(services, reads, values, signal)

    @app.callback(
        Output("options-confirm-modal", "is_open"),
        Output("options-confirm-body", "children"),
        Output("options-live-confirm-wrap", "style"),
        Output("options-ticket-nonce", "data"),
        Input("options-review", "n_clicks"),
        Input("options-confirm-cancel", "n_clicks"),
        *[State(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-selected-signal", "data"),
        prevent_initial_call=True,
    )
    def _review(_r: int | None, _c: int | None, *args: Any) -> tuple[Any, ...]:
        values, (signal,) = _form(args)
        cancelled = ctx.triggered_id == "options-confirm-cancel"
        return review(services, reads, values, signal, cancelled)

    @app.callback(
        Output("options-toast", "is_open"),
        Output("options-toast", "header"),
        Output("options-toast", "children"),
        Output("options-toast", "icon"),
        Output("options-confirm-modal", "is_open", allow_duplicate=True),
        Output("options-trades-version", "data"),
        Input("options-submit", "n_clicks"),
        *[State(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-selected-signal", "data"),
        State("options-ticket-nonce", "data"),
        State("options-live-confirm", "value"),
        prevent_initial_call=True,
    )
    def _submit(_n: int | None, *args: Any) -> tuple[Any, ...]:
        values, (signal, nonce, confirmation) = _form(args)
        return submit(services, reads, values, signal, nonce, confirmation)
