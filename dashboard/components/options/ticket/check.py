"""The live check of the ticket: per-field messages, the quote, the price against the
levels, the sizing line, the projection and whether "Review order" is enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dash import Output, html

from dashboard.components.options.reads import Reads
from dashboard.components.options.ticket.assessment import (
    Assessment,
    assess,
    duplicate_text,
    one_contract_view,
    size_for,
)
from dashboard.components.options.ticket.layout import START_TEXT, projection_table
from dashboard.views.options.ticket import (
    FORM_FIELDS,
    parse_float,
    pending_text,
    price_lines,
    projection_view,
)

if TYPE_CHECKING:
    from dashboard.services import Services


CHECK_OUTPUTS = {
    **{f"{f}_error": Output(f"options-{f}-error", "children") for f in FORM_FIELDS},
    "projection": Output("options-projection", "children"),
    "form_error": Output("options-form-error", "children"),
    "warnings": Output("options-ticket-warnings", "children"),
    "review_disabled": Output("options-review", "disabled"),
    "state": Output("options-ticket-state", "children"),
    "quote": Output("options-ticket-quote", "children"),
    "price": Output("options-ticket-price", "children"),
    "sizing": Output("options-ticket-sizing", "children"),
    "dup_style": Output("options-dup-wrap", "style"),
    "dup_text": Output("options-dup-text", "children"),
}
HIDDEN = {"display": "none"}


def warning_list(warnings: list[str]) -> Any:
    """Warnings do not block a send; each on its own line."""
    if not warnings:
        return None
    return [html.Div(w) for w in warnings]


def sizing_line(services: Services, a: Assessment, values: Mapping[str, Any]) -> str:
    """The risk sizing for the levels now, and the quantity the ticket has if it differs."""
    if a.refusal:
        return "Not sized: the ticket is refused."
    size = size_for(services.settings, a.equity, one_contract_view(a, values))
    have = parse_float(values.get("contracts"))
    if size.contracts and have is not None and int(have) != size.contracts:
        return f"{size.text} The ticket has {int(have)}."
    return size.text


def price_block(a: Assessment) -> Any:
    if a.price is None:
        if a.chain is None or not a.chain.underlying_price:
            return html.Div("Price now: unavailable, so the levels cannot be checked.")
        return html.Div(
            f"Price now {a.chain.underlying_price:,.2f}; enter entry, T1 and stop to check them."
        )
    lines: list[Any] = [html.Div(text) for text in price_lines(a.price)]
    src = f"{a.chain.source}, " if a.chain is not None else ""
    lines.append(html.Div(f"({src}as of {a.as_of}, broker clock)", className="text-muted"))
    if a.price.refusal:
        lines.insert(0, html.Div(a.price.refusal, className="text-danger fw-bold"))
    elif a.pending:
        lines.insert(0, html.Div(pending_text(a.price), className="text-warning fw-bold"))
    return html.Div(lines, id="options-ticket-price-lines")


def check_ticket(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: dict[str, Any] | None,
    override: bool = False,
) -> dict[str, Any]:
    blank = {f"{f}_error": "" for f in FORM_FIELDS}
    if not values.get("symbol"):
        return {
            **blank,
            "projection": None,
            "form_error": "",
            "warnings": None,
            "review_disabled": True,
            "state": START_TEXT,
            "quote": "",
            "price": "",
            "sizing": "",
            "dup_style": HIDDEN,
            "dup_text": "",
        }
    a = assess(services, reads, values, binding, override)
    errors = a.errors
    shown = {f"{f}_error": errors.get(f, "") for f in FORM_FIELDS}
    extra = [msg for f, msg in errors.items() if f not in FORM_FIELDS]
    common = {
        "quote": html.Div(
            a.quote.text if a.quote else "Quote: pick a listed contract to see its market.",
            id="options-ticket-quote-line",
        ),
        "price": price_block(a),
        "sizing": sizing_line(services, a, values),
        "dup_style": {"display": "block"} if a.duplicates else HIDDEN,
        "dup_text": duplicate_text(a.duplicates) if a.duplicates else "",
    }
    if errors or a.result.ticket is None or a.result.quote is None:
        state = f"{len(errors)} issue(s) to fix · {a.as_of}"
        return {
            **shown,
            **common,
            "projection": None,
            "form_error": " ".join(extra),
            "warnings": warning_list(a.warnings),
            "review_disabled": True,
            "state": f"Refused · {state}" if a.refusal else state,
        }
    t = a.result.ticket
    view = projection_view(
        a.result.quote,
        spot=(a.chain.underlying_price if a.chain else None) or t.entry,
        now=a.now,
        stop=t.stop,
        target=t.target,
        target2=t.target2,
        timeframe=t.timeframe,
        limit=float(t.limit),
        contracts=t.contracts,
    )
    if a.refusal:
        state = f"Refused · {a.as_of}"
    elif a.blocked_by_duplicate:
        state = f"Blocked: duplicate of an active trade · {a.as_of}"
    else:
        state = f"Ready: {t.display} · {a.as_of}"
        if a.pending:
            state += " · PENDING signal: buys before the trigger has traded"
    return {
        **shown,
        **common,
        "projection": projection_table(view),
        "form_error": "",
        "warnings": warning_list(a.warnings),
        "review_disabled": not a.sendable,
        "state": state,
    }
