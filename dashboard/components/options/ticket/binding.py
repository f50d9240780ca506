"""Binding the ticket to its signal: load, leave, reset.

A loaded signal binds the form to its levels and plan; changing the underlying or the
direction unbinds it and clears what was the signal's, so no order carries another
signal's levels; "Reset to signal" restores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Output, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.options.ticket.assessment import sized_contracts
from dashboard.views.options.ticket import (
    bind,
    chain_expiries,
    expiry_options,
    is_bound,
    signal_name,
    unbind,
    unbound_text,
)

if TYPE_CHECKING:
    from dashboard.services import Services


BIND_OUTPUTS = {
    "binding": Output("options-ticket-binding", "data"),
    "binding_text": Output("options-ticket-binding-text", "children"),
    "reset_disabled": Output("options-ticket-reset", "disabled"),
    "symbol": Output("options-symbol", "value", allow_duplicate=True),
    "direction": Output("options-direction", "value", allow_duplicate=True),
    "contracts": Output("options-contracts", "value", allow_duplicate=True),
    "entry": Output("options-entry", "value", allow_duplicate=True),
    "target": Output("options-target", "value", allow_duplicate=True),
    "stop": Output("options-stop", "value", allow_duplicate=True),
    "limit": Output("options-limit", "value", allow_duplicate=True),
    "expiry_options": Output("options-expiry", "options", allow_duplicate=True),
    "expiry": Output("options-expiry", "value", allow_duplicate=True),
    "strike_options": Output("options-strike", "options", allow_duplicate=True),
    "strike": Output("options-strike", "value", allow_duplicate=True),
    "why": Output("options-contract-why", "children", allow_duplicate=True),
    "signal_text": Output("options-ticket-signal", "children", allow_duplicate=True),
}
BIND_STATE_FIELDS = ("entry", "target", "stop", "limit", "expiry", "strike")


def _unchanged() -> dict[str, Any]:
    return dict.fromkeys(BIND_OUTPUTS, no_update)


def bound_text(binding: Mapping[str, Any]) -> html.Span:
    status = binding.get("status") or "status unknown"
    return html.Span(
        [
            dbc.Badge("bound", color="success", className="me-1"),
            f"Bound to {signal_name(binding)} ({status}): the order carries its levels and plan.",
        ],
        id="options-ticket-bound",
    )


def on_binding_input(
    services: Services,
    reads: Reads,
    trigger: set[str],
    values: Mapping[str, Any],
    extra: Mapping[str, Any],
    selected_rows: list[dict[str, Any]] | None,
    binding: dict[str, Any] | None,
) -> dict[str, Any]:
    """Keep the ticket bound to the loaded signal, unbind it when the underlying or the
    direction leaves the signal, and restore it on "Reset to signal".

    ``trigger`` holds the ids that fired: ``options-selected-signal`` (a signal loaded:
    the form already shows its levels), ``options-ticket-reset``, ``options-symbol``,
    ``options-direction``. ``extra`` has the form's expiry/strike options, the reason
    and the signal line.
    """
    out = _unchanged()
    signal = extra.get("signal")
    if "options-selected-signal" in trigger and signal:
        row = next((r for r in selected_rows or [] if r.get("id") == signal.get("id")), None)
        new = bind(signal, row, {**values, **extra})
        new["signal_text"] = extra.get("signal_text")
        n = sized_contracts(services, reads, values, new)
        new["contracts"] = n
        return {
            **out,
            "binding": new,
            "binding_text": bound_text(new),
            "reset_disabled": False,
            "contracts": n,
        }
    if "options-ticket-reset" in trigger:
        if not binding or not binding.get("symbol"):
            raise PreventUpdate
        restored = {**binding, "state": "bound"}
        restored.pop("left_to", None)
        form = {k: binding.get(k) for k in ("symbol", "direction", *BIND_STATE_FIELDS)}
        n = sized_contracts(services, reads, form, restored)
        return {
            **out,
            "binding": restored,
            "binding_text": bound_text(restored),
            "reset_disabled": False,
            **form,
            "contracts": n,
            "expiry_options": binding.get("expiry_options") or [],
            "strike_options": binding.get("strike_options") or [],
            "why": binding.get("why"),
            "signal_text": binding.get("signal_text"),
        }
    symbol_changed = "options-symbol" in trigger
    was_bound = bool(binding and binding.get("state") == "bound")
    if was_bound and is_bound(binding, values):
        raise PreventUpdate  # still the signal's underlying and direction
    if was_bound and binding is not None:
        # The form left the signal: clear everything that was the signal's.
        out.update(
            binding=unbind(binding, values),
            binding_text=html.Span(
                [
                    dbc.Badge("unbound", color="warning", className="me-1"),
                    unbound_text(binding, values),
                ],
                id="options-ticket-unbound",
            ),
            contracts=None,
            entry=None,
            target=None,
            stop=None,
            limit=None,
            strike=None,
            why="",
            signal_text="",
        )
    elif not symbol_changed:
        raise PreventUpdate
    if symbol_changed:
        # The contract list, contract and limit belong to the underlying: reload them.
        symbol = str(values.get("symbol") or "").strip().upper()
        options: list[dict[str, str]] = []
        if symbol:
            chain, now = reads.with_now(reads.chain(symbol))
            if chain.value is not None:
                options = expiry_options(chain_expiries(chain.value, now), now)
        out.update(
            expiry_options=options,
            expiry=None,
            strike_options=[],
            strike=None,
            limit=None,
        )
        if out["why"] is no_update:
            out["why"] = ""
    return out
