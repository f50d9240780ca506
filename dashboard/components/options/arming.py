""" "Arm at trigger": an armed entry from the pending signal loaded in the ticket.

The ticket's own fields (``components/options/ticket/``) say which contract and how
many; the signal's levels come from the board's row for the loaded signal, so an armed
entry carries the setup's trigger, stop and targets and the arming window of its
timeframe. The trade monitor sends the order when the trigger trades (see
``trading/arming.py`` and ``trading/entries.py``); nothing is sent from here.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.ui import form_field, number_input
from dashboard.conventions import format_new_york, right_for_direction
from dashboard.options.occ import build_occ, display_occ
from dashboard.signal_scan import scan_signals
from dashboard.strat.board import SignalRow
from dashboard.trading.arming import (
    ArmedEntry,
    ArmingStatus,
    ContractRule,
    arming_refusal,
    arming_window_end,
    premium_at_trigger,
)
from dashboard.views.options.ticket import find_quote, parse_expiry

if TYPE_CHECKING:
    from dashboard.services import Services

CONTRACT_RULES = [
    {"label": "This contract only", "value": "fixed"},
    {"label": "Nearest strike if unquoted", "value": "nearest_strike"},
]

ARM_START_TEXT = "Load a pending signal to arm it."  # no signal: what the layout starts with


def arming_card() -> dbc.Card:
    """The "Arm at trigger" controls, under the ticket."""
    return dbc.Card(
        [
            dbc.CardHeader("Arm at trigger (pending setups)"),
            dbc.CardBody(
                [
                    html.Div(
                        "You are in the trade when the trigger trades. Arming sends nothing "
                        "now: the trade monitor sends this ticket's contract and quantity "
                        "the moment the underlying trades through the signal's trigger, "
                        "priced at the ask then, within your limits below; it disarms if the "
                        "stop trades first or the setup's window ends.",
                        className="small text-muted mb-2",
                    ),
                    dbc.Row(
                        [
                            form_field(
                                "Max premium $ (per share)",
                                number_input("options-arm-max-premium", 0.01, 0),
                                "options-arm-max-premium-error",
                                4,
                            ),
                            form_field(
                                "Max slippage $ over projection",
                                number_input("options-arm-max-slippage", 0.01, 0),
                                "options-arm-max-slippage-error",
                                4,
                            ),
                            form_field(
                                "Contract at the trigger",
                                dbc.Select(
                                    id="options-arm-contract-rule",
                                    options=CONTRACT_RULES,
                                    value="fixed",
                                    size="sm",
                                ),
                                "options-arm-contract-rule-error",
                                4,
                            ),
                        ],
                        className="g-2",
                    ),
                    dbc.Button(
                        "Arm at trigger",
                        id="options-arm",
                        color="warning",
                        size="sm",
                        disabled=True,
                        className="me-2",
                    ),
                    html.Span(ARM_START_TEXT, id="options-arm-state", className="small text-muted"),
                ]
            ),
        ],
        className="mt-3",
    )


def _money(raw: Any) -> tuple[Decimal | None, str]:
    """An optional positive price: (value or None, message)."""
    if raw in (None, ""):
        return None, ""
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None, "Enter a price."
    if not value.is_finite() or value <= 0 or value > 100_000:
        return None, "Enter a price above zero."
    return value.quantize(Decimal("0.01")), ""


def _quantity(raw: Any) -> int | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value != int(value) or value < 1:
        return None
    return int(value)


def _signal_row(services: Services, signal_id: str) -> SignalRow | None:
    from dashboard.data_loaders.loop import run_async

    board = run_async(scan_signals(services.data, services.settings.watchlist), timeout=60)
    return next((r for r in board.rows if r.id == signal_id), None)


def plan(
    services: Services,
    reads: Reads,
    signal: dict[str, Any] | None,
    values: dict[str, Any],
    caps: dict[str, Any],
) -> tuple[ArmedEntry | None, str, dict[str, str]]:
    """The armed entry the form describes, or why there is none; plus field messages."""
    errors: dict[str, str] = {}
    max_premium, errors["max_premium"] = _money(caps.get("max_premium"))
    max_slippage, errors["max_slippage"] = _money(caps.get("max_slippage"))
    if not signal or not signal.get("id"):
        return None, "Load a pending signal to arm it.", errors
    if services.settings.is_live:
        return None, "Arming is for paper accounts; on a live account, enter by hand.", errors
    symbol = str(values.get("symbol") or "").strip().upper()
    direction = str(values.get("direction") or "")
    if symbol != signal.get("symbol") or direction != signal.get("direction"):
        return None, "The ticket no longer matches the loaded signal; reload it to arm.", errors
    expiry = parse_expiry(values.get("expiry"))
    try:
        strike = Decimal(str(values.get("strike")))
    except (InvalidOperation, ValueError):
        strike = None
    quantity = _quantity(values.get("contracts"))
    if expiry is None or strike is None or not strike.is_finite():
        return None, "Pick an expiry and a strike.", errors
    if quantity is None:
        return None, "Enter a whole number of contracts.", errors
    if any(errors.values()):
        return None, "Fix the limits.", errors
    row = _signal_row(services, str(signal["id"]))
    if row is None:
        return None, "The signal is no longer on the board.", errors
    if row.target1 is None or row.setup_time is None:
        return None, "The signal has no T1 or setup time; it cannot be armed.", errors
    right = right_for_direction(row.direction)
    contract = build_occ(row.symbol, expiry, right, strike)
    quotes, chain, now = reads.with_now(
        services.data.fetch_quotes([row.symbol]), reads.chain(row.symbol, expiry)
    )
    quote = (quotes.value or {}).get(row.symbol)
    price = quote.mid if quote is not None and quote.bid > 0 and quote.ask > 0 else None
    expires = arming_window_end(row.timeframe, row.setup_time)
    refusal = arming_refusal(
        status=row.status,
        direction=row.direction,
        trigger=row.entry,
        stop=row.stop,
        price=price,
        now=now,
        expires_at=expires,
    )
    if refusal is not None:
        return None, refusal, errors
    option = find_quote(chain.value, contract) if chain.value is not None else None
    if option is None:
        return None, f"{display_occ(contract)} is not in the chain.", errors
    projected = premium_at_trigger(option, row.entry, now)
    if max_slippage is not None and projected is None:
        errors["max_slippage"] = "No IV on the quote, so no projection to slip from."
        return None, "Fix the limits.", errors
    rule: ContractRule = "nearest_strike" if caps.get("rule") == "nearest_strike" else "fixed"
    entry = ArmedEntry(
        id=0,
        created_at=now,
        updated_at=now,
        status=ArmingStatus.ARMED,
        signal_id=row.id,
        symbol=row.symbol,
        timeframe=row.timeframe,
        pattern=row.pattern,
        direction=row.direction,
        trigger=row.entry,
        stop=row.stop,
        target1=row.target1,
        target2=row.target2,
        opposite=None,
        contract=contract,
        expiry=expiry,
        strike=strike,
        right=right,
        contract_rule=rule,
        quantity=quantity,
        max_premium=max_premium,
        max_slippage=max_slippage,
        projected_premium=projected,
        armed_at=now,
        expires_at=expires,
        tfc=row.tfc.plan_label,
        rules=row.rules_text,
    )
    dist = abs(row.entry - (price or row.entry))
    return (
        entry,
        f"Ready to arm: {row.symbol} {row.direction} {row.pattern} {row.timeframe}, trigger "
        f"{row.entry:,.2f} (${dist:,.2f} away), stop {row.stop:,.2f}; {quantity}× "
        f"{display_occ(contract)}"
        + (f", projected ${projected:.2f} at the trigger" if projected is not None else "")
        + f"; window ends {format_new_york(expires, '%m-%d %H:%M')} ET.",
        errors,
    )


FORM_IDS = {
    "symbol": "options-symbol",
    "direction": "options-direction",
    "expiry": "options-expiry",
    "strike": "options-strike",
    "contracts": "options-contracts",
    "limit": "options-limit",
}


def check(
    services: Services,
    reads: Reads,
    signal: dict[str, Any] | None,
    values: dict[str, Any],
    caps: dict[str, Any],
) -> tuple[bool, str, str, str]:
    """(button disabled, state text, max premium error, max slippage error)."""
    if not signal or not signal.get("id"):
        return True, ARM_START_TEXT, "", ""
    entry, text, errors = plan(services, reads, signal, values, caps)
    return entry is None, text, errors.get("max_premium", ""), errors.get("max_slippage", "")


def arm(
    services: Services,
    reads: Reads,
    signal: dict[str, Any] | None,
    values: dict[str, Any],
    caps: dict[str, Any],
    now: datetime | None = None,
) -> tuple[Any, ...]:
    """Record the armed entry. Returns (toast open, header, message, icon, trades version,
    state text). A signal that already has an armed entry or an active trade is refused."""
    entry, text, _errors = plan(services, reads, signal, values, caps)
    if entry is None:
        return True, "Not armed", text, "danger", no_update, text
    trades, armed = services.journal.active_for_signal(entry.signal_id or "")
    if armed or trades:
        what = f"armed entry #{armed[0].id}" if armed else f"trade #{trades[0].id}"
        msg = f"This signal already has an active {what}; cancel it first."
        return True, "Not armed", msg, "danger", no_update, msg
    saved, _created = services.journal.arm_entry(
        entry, request_key=f"arm-{uuid.uuid4().hex}", now=now or entry.armed_at
    )
    msg = (
        f"Armed #{saved.id}: {saved.quantity}× {display_occ(saved.contract)} when "
        f"{saved.symbol} trades through {saved.trigger:,.2f}."
    )
    return True, "Armed", msg, "success", uuid.uuid4().hex, msg


def register(app: Dash, services: Services, reads: Reads) -> None:
    form = [State(v, "value") for v in FORM_IDS.values()]
    cap_states = [
        State("options-arm-max-premium", "value"),
        State("options-arm-max-slippage", "value"),
        State("options-arm-contract-rule", "value"),
    ]

    def _values(raw: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(FORM_IDS, raw, strict=True))

    def _caps(premium: Any, slippage: Any, rule: Any) -> dict[str, Any]:
        return {"max_premium": premium, "max_slippage": slippage, "rule": rule}

    @app.callback(
        Output("options-arm", "disabled"),
        Output("options-arm-state", "children"),
        Output("options-arm-max-premium-error", "children"),
        Output("options-arm-max-slippage-error", "children"),
        Input("options-selected-signal", "data"),
        *[Input(v, "value") for v in FORM_IDS.values()],
        Input("options-arm-max-premium", "value"),
        Input("options-arm-max-slippage", "value"),
        Input("options-arm-contract-rule", "value"),
        prevent_initial_call=True,  # a load's state is the layout's (ARM_START_TEXT)
    )
    def _check(signal: Any, *rest: Any) -> tuple[bool, str, str, str]:
        *form_values, premium, slippage, rule = rest
        return check(
            services, reads, signal, _values(tuple(form_values)), _caps(premium, slippage, rule)
        )

    @app.callback(
        Output("options-toast", "is_open", allow_duplicate=True),
        Output("options-toast", "header", allow_duplicate=True),
        Output("options-toast", "children", allow_duplicate=True),
        Output("options-toast", "icon", allow_duplicate=True),
        Output("options-trades-version", "data", allow_duplicate=True),
        Output("options-arm-state", "children", allow_duplicate=True),
        Input("options-arm", "n_clicks"),
        State("options-selected-signal", "data"),
        *form,
        *cap_states,
        prevent_initial_call=True,
    )
    def _arm(n: int | None, signal: Any, *rest: Any) -> tuple[Any, ...]:
        if not n:
            raise PreventUpdate
        *form_values, premium, slippage, rule = rest
        return arm(
            services, reads, signal, _values(tuple(form_values)), _caps(premium, slippage, rule)
        )
