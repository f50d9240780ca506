"""Review, confirm, send: the send assesses again (the form or the market may have
changed since the review) and is keyed by the review's nonce, so a double click or a
retry never sends twice. After a send the ticket resets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dash import Output, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.options.ticket.assessment import assess, duplicate_text
from dashboard.data_loaders.loop import run_async
from dashboard.trading.orders import place_entry
from dashboard.trading.records import JournalTrade, TradeStatus
from dashboard.views.options.ticket import pending_text

if TYPE_CHECKING:
    from dashboard.services import Services


def review(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: dict[str, Any] | None,
    cancelled: bool,
    override: bool = False,
) -> tuple[Any, ...]:
    """(modal open, body, live-confirm style, nonce): the exact order and its plan. The
    nonce keys the send, so a double click or a retry never sends twice."""
    if cancelled:
        return False, no_update, no_update, None
    a = assess(services, reads, values, binding, override)
    if not a.sendable or a.result.ticket is None:
        raise PreventUpdate
    t = a.result.ticket
    settings = services.settings
    lines: list[Any] = []
    if a.pending and a.price is not None:
        lines.append(html.Div(pending_text(a.price), className="text-warning fw-bold mb-2"))
    lines += [html.Div(w, className="text-warning small mb-1") for w in a.warnings]
    if a.duplicates:
        lines.append(html.Div(duplicate_text(a.duplicates), className="text-warning small"))
    body = html.Div(
        [
            *lines,
            html.Div(t.display, className="fw-bold mb-2", id="options-confirm-order"),
            html.Div(
                f"Plan: {t.direction} {t.symbol} · entry {t.entry:.2f} · target "
                f"{t.target:.2f} · stop {t.stop:.2f}"
                + (f" · {t.pattern} {t.timeframe}" if t.pattern else " · no signal (typed in)"),
                className="small",
            ),
            html.Div(
                f"Account: {settings.mode_label}. Exits at target or stop are sent by the "
                f"dashboard's exit monitor (Alpaca has no brackets for options). As of {a.as_of}.",
                className="small text-muted mt-2",
            ),
        ]
    )
    live_style = {"display": "block"} if settings.is_live else {"display": "none"}
    return True, body, live_style, uuid.uuid4().hex


SUBMIT_OUTPUTS = {
    "toast_open": Output("options-toast", "is_open"),
    "toast_header": Output("options-toast", "header"),
    "toast_body": Output("options-toast", "children"),
    "toast_icon": Output("options-toast", "icon"),
    "modal_open": Output("options-confirm-modal", "is_open", allow_duplicate=True),
    "trades_version": Output("options-trades-version", "data"),
    # After a send the ticket resets: nothing (quantity included) carries to the next one.
    "binding": Output("options-ticket-binding", "data", allow_duplicate=True),
    "binding_text": Output("options-ticket-binding-text", "children", allow_duplicate=True),
    "symbol": Output("options-symbol", "value", allow_duplicate=True),
    "contracts": Output("options-contracts", "value", allow_duplicate=True),
    "entry": Output("options-entry", "value", allow_duplicate=True),
    "target": Output("options-target", "value", allow_duplicate=True),
    "stop": Output("options-stop", "value", allow_duplicate=True),
    "limit": Output("options-limit", "value", allow_duplicate=True),
    "expiry": Output("options-expiry", "value", allow_duplicate=True),
    "strike": Output("options-strike", "value", allow_duplicate=True),
    "why": Output("options-contract-why", "children", allow_duplicate=True),
    "signal_text": Output("options-ticket-signal", "children", allow_duplicate=True),
    "override": Output("options-dup-override", "value"),
}
RESET_FIELDS = (
    "symbol",
    "contracts",
    "entry",
    "target",
    "stop",
    "limit",
    "expiry",
    "strike",
)


def submit(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: dict[str, Any] | None,
    nonce: str | None,
    confirmation: str | None,
    override: bool = False,
) -> tuple[Any, ...]:
    """Assess again, send once, and reset the ticket after a send: the outputs in
    ``SUBMIT_OUTPUTS`` order (toast open, header, message, icon, modal open, trades
    version, then the ticket's reset)."""
    return tuple(
        submit_outputs(services, reads, values, binding, nonce, confirmation, override).values()
    )


def submit_outputs(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: dict[str, Any] | None,
    nonce: str | None,
    confirmation: str | None,
    override: bool = False,
) -> dict[str, Any]:
    """``submit``'s outputs by name."""
    out: dict[str, Any] = dict.fromkeys(SUBMIT_OUTPUTS, no_update)
    first = services.journal.by_request_key(nonce) if nonce else None
    if first is not None:
        return _already_submitted(out, first, binding)
    a = assess(services, reads, values, binding, override)
    if not a.sendable or a.result.ticket is None:
        # The first of a double click may have journaled its trade since the look above;
        # then that trade is what blocks this one, and the answer is the first's.
        first = services.journal.by_request_key(nonce) if nonce else None
        if first is not None:
            return _already_submitted(out, first, binding)
        reasons = list(a.errors.values())
        if a.refusal:
            reasons.append(a.refusal)
        if a.blocked_by_duplicate:
            reasons.append(duplicate_text(a.duplicates))
        msg = "; ".join(reasons) or "the ticket is incomplete"
        return {
            **out,
            "toast_open": True,
            "toast_header": "Order not sent",
            "toast_body": f"The ticket is invalid: {msg}",
            "toast_icon": "danger",
            "modal_open": False,
        }
    placed = run_async(
        place_entry(
            services.data,
            services.journal,
            a.result.ticket,
            request_key=nonce,
            confirmation=confirmation,
        )
    )
    out.update(
        toast_open=True,
        toast_header="Order sent" if placed.ok else "Order not sent",
        toast_body=placed.message,
        toast_icon="success" if placed.ok else "danger",
        modal_open=False,
        trades_version=uuid.uuid4().hex,
    )
    if placed.trade is not None and (placed.ok or placed.duplicate):
        sent = {**(binding or {}), "state": "sent"} if binding else None
        out.update(
            dict.fromkeys(RESET_FIELDS),
            binding=sent,
            binding_text=f"Sent as trade #{placed.trade.id} at {a.as_of}. Pick the next signal.",
            why="",
            signal_text="",
            override=False,
        )
    return out


def _already_submitted(
    out: dict[str, Any], first: JournalTrade, binding: dict[str, Any] | None
) -> dict[str, Any]:
    """A double click or a retry of this review: its order went with the first request
    (Dash may show only the last answer). Say so, as the first did; send nothing."""
    ok = first.status not in (TradeStatus.REJECTED, TradeStatus.CANCELED)
    out = {
        **out,
        "toast_open": True,
        "toast_header": "Order sent" if ok else "Order not sent",
        "toast_body": f"Already submitted: trade #{first.id} is {first.status}.",
        "toast_icon": "success" if ok else "danger",
        "modal_open": False,
        "trades_version": uuid.uuid4().hex,
    }
    out.update(
        dict.fromkeys(RESET_FIELDS),
        binding={**binding, "state": "sent"} if binding else None,
        binding_text=f"Sent as trade #{first.id}. Pick the next signal.",
        why="",
        signal_text="",
        override=False,
    )
    return out
