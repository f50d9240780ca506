"""The ticket's Dash callbacks: 2-line closures that hand the form by field name, the
binding, the override and what fired to the named functions of the other modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dash import Dash, Input, Output, State, ctx

from dashboard.components.options.reads import Reads
from dashboard.components.options.ticket.binding import (
    BIND_OUTPUTS,
    BIND_STATE_FIELDS,
    on_binding_input,
)
from dashboard.components.options.ticket.check import CHECK_OUTPUTS, check_ticket
from dashboard.components.options.ticket.send import SUBMIT_OUTPUTS, review, submit
from dashboard.views.options.ticket import FORM_FIELDS

if TYPE_CHECKING:
    from dashboard.services import Services


def _form(args: tuple[Any, ...]) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The form's values by field, and the arguments after them."""
    n = len(FORM_FIELDS)
    return dict(zip(FORM_FIELDS, args[:n], strict=True)), args[n:]


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        output=BIND_OUTPUTS,
        inputs=[
            Input("options-selected-signal", "data"),
            Input("options-ticket-reset", "n_clicks"),
            Input("options-symbol", "value"),
            Input("options-direction", "value"),
        ],
        state=[
            *[State(f"options-{f}", "value") for f in BIND_STATE_FIELDS],
            State("options-expiry", "options"),
            State("options-strike", "options"),
            State("options-contract-why", "children"),
            State("options-ticket-signal", "children"),
            State("options-signals-grid", "selectedRows"),
            State("options-ticket-binding", "data"),
        ],
        prevent_initial_call=True,
    )
    def _bind(signal: Any, _r: Any, symbol: Any, direction: Any, *state: Any) -> Any:
        *levels, exp_opts, strike_opts, why, signal_text, rows, binding = state
        values = {
            "symbol": symbol,
            "direction": direction,
            **dict(zip(BIND_STATE_FIELDS, levels, strict=True)),
        }
        extra = {
            "signal": signal,
            "expiry_options": exp_opts,
            "strike_options": strike_opts,
            "why": why,
            "signal_text": signal_text,
        }
        trigger = {str(t).split(".")[0] for t in ctx.triggered_prop_ids}
        return on_binding_input(services, reads, trigger, values, extra, rows, binding)

    @app.callback(
        output=CHECK_OUTPUTS,
        inputs=[
            *[Input(f"options-{f}", "value") for f in FORM_FIELDS],
            Input("options-dup-override", "value"),
            Input("options-interval", "n_intervals"),  # the live quote and price
        ],
        state=[State("options-ticket-binding", "data")],
        prevent_initial_call=True,  # a load's empty form is the layout's (START_TEXT)
    )
    def _check(*args: Any) -> dict[str, Any]:
        values, (override, _n, binding) = _form(args)
        return check_ticket(services, reads, values, binding, bool(override))

    @app.callback(
        Output("options-confirm-modal", "is_open"),
        Output("options-confirm-body", "children"),
        Output("options-live-confirm-wrap", "style"),
        Output("options-ticket-nonce", "data"),
        Input("options-review", "n_clicks"),
        Input("options-confirm-cancel", "n_clicks"),
        *[State(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-ticket-binding", "data"),
        State("options-dup-override", "value"),
        prevent_initial_call=True,
    )
    def _review(_r: int | None, _c: int | None, *args: Any) -> tuple[Any, ...]:
        values, (binding, override) = _form(args)
        cancelled = ctx.triggered_id == "options-confirm-cancel"
        return review(services, reads, values, binding, cancelled, bool(override))

    @app.callback(
        *SUBMIT_OUTPUTS.values(),
        Input("options-submit", "n_clicks"),
        *[State(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-ticket-binding", "data"),
        State("options-dup-override", "value"),
        State("options-ticket-nonce", "data"),
        State("options-live-confirm", "value"),
        prevent_initial_call=True,
    )
    def _submit(_n: int | None, *args: Any) -> tuple[Any, ...]:
        values, (binding, override, nonce, confirmation) = _form(args)
        return submit(services, reads, values, binding, nonce, confirmation, bool(override))
