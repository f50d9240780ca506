"""The order ticket: bound to its signal, checked against the current price and the
journal, then review, confirm, send.

``assess`` is the one path every step takes (the form or the market may change between
review and send, so the send assesses again). Nothing is sent on an invalid ticket, on a
refused one (stop traded, T1 reached), on levels that belong to another symbol's signal,
or on a second order for a signal with a working or open trade unless the override is
ticked. Every time on the ticket is the broker's clock in New York time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.ui import form_field, number_input
from dashboard.conventions import right_for_direction
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.occ import build_occ
from dashboard.settings import Settings
from dashboard.trading.orders import place_entry
from dashboard.trading.records import JournalTrade
from dashboard.trading.ticket import (
    EntryLimits,
    PriceCheck,
    RiskSize,
    TicketValidation,
    TickTable,
    active_for_signal,
    check_against_price,
    risk_budget,
    size_by_risk,
    validate_ticket,
)
from dashboard.views.formatting import format_et, format_number
from dashboard.views.options.ticket import (
    FORM_FIELDS,
    ProjectionView,
    QuoteView,
    bind,
    chain_expiries,
    expiry_options,
    foreign_levels,
    is_bound,
    parse_float,
    pending_text,
    price_lines,
    projection_view,
    quote_view,
    signal_name,
    ticket_fields,
    unbind,
    unbound_text,
)
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services


# ---- settings the page states ------------------------------------------------------------------


def tick_table(settings: Settings) -> TickTable:
    return settings.tick_table()


def entry_limits(settings: Settings) -> EntryLimits:
    return EntryLimits(settings.late_entry_share, settings.min_remaining_rr)


def rules_text(settings: Settings) -> str:
    """The ticket's thresholds and lists, as the page states them."""
    table = tick_table(settings)
    sizing = (
        f"${settings.risk_per_trade_dollars:,.0f}"
        if settings.risk_per_trade_dollars is not None
        else f"{settings.risk_per_trade_pct:g}% of equity"
    )
    return (
        f"Refuses a ticket whose stop has traded or whose T1 has been reached at the current "
        f"price. Warns when price is over {settings.late_entry_share:.0%} of the way from "
        f"the entry to the stop (DASHBOARD_LATE_ENTRY_SHARE), when reward:risk from the "
        f"current price is below {settings.min_remaining_rr:.2f} "
        f"(DASHBOARD_MIN_REMAINING_RR), or when the spread is over "
        f"{settings.max_spread_pct:g}% of the mark (DASHBOARD_MAX_SPREAD_PCT). Quantity "
        f"defaults to the contracts whose projected loss at the stop fits {sizing}, at most "
        f"{settings.max_contracts} (DASHBOARD_MAX_CONTRACTS). Mark = mid. Ticks: "
        f"{table.caption} ({table.source})."
    )


# ---- one assessment: form + chain + account + broker clock + journal ---------------------------


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the ticket knows about one set of form values, read in one round."""

    result: TicketValidation
    now: datetime
    clock_ok: bool
    chain: OptionChain | None
    equity: float | None
    price: PriceCheck | None
    foreign: Mapping[str, str]
    duplicates: list[JournalTrade]
    override: bool
    quote: QuoteView | None
    bound: bool
    timeframe: str | None = None  # the bound signal's: the projection's expected hold
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        """Per-field messages: the validator's, then levels carried from another signal."""
        out = dict(self.result.errors)
        for name, msg in self.foreign.items():
            out.setdefault(name, msg)
        return out

    @property
    def refusal(self) -> str | None:
        return self.price.refusal if self.price is not None else None

    @property
    def blocked_by_duplicate(self) -> bool:
        return bool(self.duplicates) and not self.override

    @property
    def sendable(self) -> bool:
        return (
            self.result.ok
            and not self.foreign
            and self.refusal is None
            and not self.blocked_by_duplicate
        )

    @property
    def pending(self) -> bool:
        return self.price is not None and self.price.pending

    @property
    def as_of(self) -> str:
        return format_et(self.now) if self.clock_ok else "broker clock unavailable"


def duplicate_text(trades: list[JournalTrade]) -> str:
    ids = ", ".join(f"#{t.id} ({t.status})" for t in trades)
    return (
        f"This signal already has a working or open trade: {ids}. Tick the override to "
        "send another order for it."
    )


def assess(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: Mapping[str, Any] | None,
    override: bool = False,
) -> Assessment:
    """The ticket validated against the chain, the options buying power, the broker's
    clock, the current price and the journal."""
    settings = services.settings
    symbol = str(values.get("symbol") or "").strip().upper()
    chain_read = reads.chain(symbol, values.get("expiry")) if symbol else None
    chain_result, account, clock = run_all(
        chain_read, services.data.fetch_account(), services.data.fetch_clock()
    )
    clock_ok = clock.value is not None
    # The expiry rule needs a time even when the clock read failed; it is never shown.
    now = clock.value.timestamp if clock_ok else datetime.now(UTC)
    chain = chain_result.value if chain_result is not None else None
    acct = account.value
    bp = acct.options_buying_power if acct is not None else None
    known = set(watchlist_symbols(services))
    if symbol and symbol not in known and chain is not None and chain.quotes:
        known.add(symbol)  # listed options prove the underlying exists
    bound = is_bound(binding, values)
    fields = ticket_fields(values, binding)
    result = validate_ticket(
        fields,
        chain=chain,
        buying_power=bp,
        now=now,
        max_contracts=settings.max_contracts,
        known_symbols=known,
        tick_table=tick_table(settings),
    )
    warnings = list(result.warnings)
    price_check = None
    spot = chain.underlying_price if chain is not None else None
    levels = [parse_float(values.get(k)) for k in ("entry", "stop", "target")]
    direction = values.get("direction")
    level_errors = {"entry", "stop", "target"} & set(result.errors)
    if spot and direction in ("long", "short") and None not in levels and not level_errors:
        entry, stop, target = (float(x) for x in levels if x is not None)
        price_check = check_against_price(
            direction,
            price=spot,
            entry=entry,
            stop=stop,
            target=target,
            scan_triggered=bool(bound and binding and binding.get("status") == "triggered"),
            limits=entry_limits(settings),
        )
        warnings.extend(price_check.warnings)
    quote = result.quote
    if quote is None and chain is not None and result.ticket is None:
        quote = _form_quote(chain, values)
    qview = quote_view(quote, now, settings.max_spread_pct) if quote is not None else None
    if qview is not None and qview.warning:
        warnings.append(qview.warning)
    signal_id = fields.get("signal_id") if bound else None
    duplicates = active_for_signal(services.journal.active_trades(), signal_id)
    return Assessment(
        result=result,
        now=now,
        clock_ok=clock_ok,
        chain=chain,
        equity=float(acct.equity) if acct is not None else None,
        price=price_check,
        foreign=foreign_levels(values, binding),
        duplicates=duplicates,
        override=bool(override),
        quote=qview,
        bound=bound,
        timeframe=fields.get("timeframe") or None,
        warnings=warnings,
    )


def _form_quote(chain: OptionChain, values: Mapping[str, Any]) -> OptionQuote | None:
    """The chain row of the contract the form names, even while other fields are invalid."""
    try:
        expiry = date.fromisoformat(str(values.get("expiry")))
        strike = Decimal(str(values.get("strike")))
        symbol = build_occ(
            chain.underlying, expiry, right_for_direction(str(values.get("direction"))), strike
        )
    except (TypeError, ValueError, InvalidOperation):
        return None
    return next((q for q in chain.quotes if q.contract.symbol == symbol), None)


def size_for(settings: Settings, equity: float | None, view: ProjectionView | None) -> RiskSize:
    """Sizing by risk from a one-contract projection's loss at the stop."""
    budget, text = risk_budget(
        equity, pct=settings.risk_per_trade_pct, dollars=settings.risk_per_trade_dollars
    )
    proj = view.projection if view is not None else None
    loss = proj.risk / proj.contracts if proj is not None and proj.risk is not None else None
    return size_by_risk(loss, budget=budget, max_contracts=settings.max_contracts, budget_text=text)


def one_contract_view(a: Assessment, values: Mapping[str, Any]) -> ProjectionView | None:
    """The projection for one contract of the form's contract at its limit, for sizing."""
    q = a.result.quote
    if q is None and a.chain is not None:
        q = _form_quote(a.chain, values)
    limit = parse_float(values.get("limit"))
    stop = parse_float(values.get("stop"))
    spot = a.chain.underlying_price if a.chain is not None else None
    if q is None or limit is None or limit <= 0 or stop is None or not spot:
        return None
    return projection_view(
        q,
        spot=spot,
        now=a.now,
        stop=stop,
        target=parse_float(values.get("target")),
        target2=None,
        timeframe=a.timeframe,
        limit=limit,
        contracts=1,
    )


# ---- layout ------------------------------------------------------------------------------------


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
            html.Div(
                view.summary + (" (option reward:risk)" if view.projection.r_multiple else ""),
                className="small text-muted",
                id="options-max-loss",
            ),
        ]
    )


def ticket_card(settings: Settings) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    "Order ticket",
                    dbc.Button(
                        "Reset to signal",
                        id="options-ticket-reset",
                        color="secondary",
                        outline=True,
                        size="sm",
                        className="float-end py-0",
                        disabled=True,
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    html.Div(id="options-ticket-signal", className="small mb-1"),
                    html.Div(id="options-ticket-binding-text", className="small mb-2"),
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
                                number_input("options-contracts", 1, 1),
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
                    html.Div(id="options-ticket-quote", className="small mb-1"),
                    html.Div(id="options-ticket-price", className="small mb-2"),
                    html.Div(id="options-ticket-sizing", className="small text-muted mb-2"),
                    html.Div(id="options-projection", className="mb-2"),
                    html.Div(id="options-form-error", className="text-danger small mb-2"),
                    html.Div(id="options-ticket-warnings", className="text-warning small mb-2"),
                    html.Div(
                        [
                            html.Div(id="options-dup-text", className="small text-warning"),
                            dbc.Checkbox(
                                id="options-dup-override",
                                label="Send another order for this signal anyway",
                                value=False,
                                className="small",
                            ),
                        ],
                        id="options-dup-wrap",
                        style={"display": "none"},
                        className="mb-2",
                    ),
                    dbc.Button(
                        "Review order",
                        id="options-review",
                        color="primary",
                        size="sm",
                        disabled=True,
                        className="me-2",
                    ),
                    # "Arm at trigger" (components/options/arming.py) sits here.
                    html.Span(id="options-arming-slot", className="me-2"),
                    html.Span(id="options-ticket-state", className="small text-muted"),
                    html.Div(
                        rules_text(settings),
                        id="options-ticket-rules",
                        className="small text-muted mt-2",
                    ),
                    dcc.Store(id="options-ticket-binding", storage_type="session"),
                ]
            ),
        ],
        id="options-ticket-card",
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


# ---- binding: load, leave, reset ---------------------------------------------------------------

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


def sized_contracts(
    services: Services, reads: Reads, values: Mapping[str, Any], binding: Mapping[str, Any]
) -> int | None:
    """The default quantity for a freshly bound ticket (None when risk cannot size it;
    the sizing line says why)."""
    a = assess(services, reads, {**values, "contracts": 1}, binding)
    if a.refusal:
        return None
    return size_for(services.settings, a.equity, one_contract_view(a, values)).contracts or None


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


# ---- check, review, send -----------------------------------------------------------------------

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
            "state": "Pick a signal, or type an underlying to start.",
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
    a = assess(services, reads, values, binding, override)
    if not a.sendable or a.result.ticket is None:
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


__all__ = [
    "BIND_OUTPUTS",
    "CHECK_OUTPUTS",
    "SUBMIT_OUTPUTS",
    "assess",
    "check_ticket",
    "on_binding_input",
    "register",
    "review",
    "submit",
    "submit_outputs",
    "ticket_card",
]
