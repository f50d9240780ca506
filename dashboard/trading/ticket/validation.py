"""The order form's rules: raw form fields in, a ``TicketValidation`` out.

Pure: no I/O. The caller supplies the option chain, the options buying power, the time
and the quantity cap, so the same rules run in the form (inline messages) and right before
submission (an invalid ticket can never reach the broker). Every message is returned at
once, under the field it belongs to (``FIELDS``, in display order).

Numbers are parsed with bounds before any conversion (``fields``); a limit must sit on
its class's tick grid (``ticks``). Levels further than a factor of ``LEVEL_RANGE`` from
the underlying's price are refused as absurd.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from dashboard.conventions import (
    CONTRACT_MULTIPLIER,
    NEW_YORK,
    Direction,
    Right,
    right_for_direction,
)
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.expiry import is_expired
from dashboard.options.occ import build_occ, display_occ, format_strike, parse_occ
from dashboard.trading.ticket.fields import (
    MAX_PRICE,
    money,
    optional_int,
    optional_pct,
    parse_bounded,
    parse_contracts,
    parse_expiry,
    parse_optional_price,
    parse_price,
    shown,
    text_of,
)
from dashboard.trading.ticket.records import TicketValidation, TradeTicket
from dashboard.trading.ticket.ticks import CENT, TickTable, option_tick, shipped_tick_table

__all__ = ["FIELDS", "LEVEL_RANGE", "validate_ticket"]

# Field names the form shows messages under, in display order.
FIELDS = (
    "symbol",
    "direction",
    "contracts",
    "expiry",
    "strike",
    "limit",
    "entry",
    "target",
    "stop",
    "contract",
    "cost",
)
LEVEL_RANGE = 2.0  # entry, target and stop within [price / 2, price x 2] of the underlying


def _absurd_levels(
    spot: float | None, levels: Mapping[str, float | None], errors: dict[str, str]
) -> None:
    """Levels more than a factor of ``LEVEL_RANGE`` from the underlying's price."""
    if spot is None or not math.isfinite(spot) or spot <= 0:
        return
    lo, hi = spot / LEVEL_RANGE, spot * LEVEL_RANGE
    for name, value in levels.items():
        if value is None or name in errors:
            continue
        if not lo <= value <= hi:
            errors[name] = (
                f"The {name} level {value:,.2f} is not plausible for an underlying at "
                f"{spot:,.2f} (allowed {lo:,.2f} to {hi:,.2f})."
            )


def _side_checks(
    direction: Direction,
    entry: float,
    target: float | None,
    target2: float | None,
    stop: float | None,
    errors: dict[str, str],
) -> None:
    """Targets beyond the entry in the trade's direction; the stop on the other side."""
    up = direction == "long"
    if target is not None and not (target > entry if up else target < entry):
        where = "above" if up else "below"
        errors["target"] = (
            f"For a {direction} trade the target must be {where} the entry "
            f"({target:,.2f} vs entry {entry:,.2f})."
        )
    elif (
        target is not None
        and target2 is not None
        and not (target2 > target if up else target2 < target)
    ):
        where = "above" if up else "below"
        errors["target"] = f"Target 2 ({target2:,.2f}) must be {where} target 1 ({target:,.2f})."
    if stop is not None and not (stop < entry if up else stop > entry):
        where = "below" if up else "above"
        errors["stop"] = (
            f"For a {direction} trade the stop must be {where} the entry "
            f"({stop:,.2f} vs entry {entry:,.2f})."
        )


def _find_quote(chain: OptionChain, symbol: str) -> OptionQuote | None:
    for q in chain.quotes:
        if q.contract.symbol == symbol:
            return q
    return None


def validate_ticket(
    ticket_fields: Mapping[str, Any],
    *,
    chain: OptionChain | None,
    buying_power: Decimal | None,
    now: datetime,
    max_contracts: int,
    known_symbols: Collection[str],
    tick_table: TickTable | None = None,
) -> TicketValidation:
    """Check every rule of the order form and return all messages at once.

    ``ticket_fields`` holds what the form has: ``symbol``, ``direction``, ``contracts``,
    ``expiry``, ``strike``, ``limit``, ``entry``, ``target``, ``stop`` and optionally
    ``right`` (default: call for long, put for short), ``contract`` (an OCC symbol that must
    agree with the other fields), ``target2``, ``pattern``, ``timeframe``, ``signal_id``,
    ``tfc``, ``rules``, ``dte_floor``, ``max_loss_pct`` and ``live``. ``buying_power`` is
    the account's *options* buying power; None means it could not be read, which blocks
    the order rather than guessing. ``now`` must be timezone-aware. ``tick_table`` is the
    penny program list the limit is checked against (default: the shipped one).
    """
    errors: dict[str, str] = {}
    f = ticket_fields
    if now.tzinfo is None:
        raise ValueError("'now' must be timezone-aware")

    symbol = text_of(f.get("symbol")).upper()
    known = {s.upper() for s in known_symbols}
    if not symbol:
        errors["symbol"] = "Enter the underlying symbol, e.g. SPY."
    elif symbol not in known:
        errors["symbol"] = f"{symbol} is not a known symbol (not in the watchlist or market data)."

    direction_text = text_of(f.get("direction")).lower()
    direction: Direction | None = None
    if direction_text in ("long", "short"):
        direction = direction_text  # type: ignore[assignment]
    else:
        errors["direction"] = "Choose long (buy a call) or short (buy a put)."

    qty, msg = parse_contracts(f.get("contracts"), max_contracts)
    if msg:
        errors["contracts"] = msg

    expiry, msg = parse_expiry(f.get("expiry"))
    if msg:
        errors["expiry"] = msg
    elif expiry is not None and is_expired(expiry, now):
        today = now.astimezone(NEW_YORK).date()
        when = "today's close has passed" if expiry == today else "that date is in the past"
        errors["expiry"] = f"Expiry {expiry:%Y-%m-%d} is not in the future ({when})."

    strike_dec, strike_msg = parse_bounded(f.get("strike"), "strike")
    if text_of(f.get("strike")) == "":
        errors["strike"] = "Choose a strike."
        strike_dec = None
    elif strike_msg:
        errors["strike"] = strike_msg
    elif strike_dec is None or strike_dec <= 0:
        errors["strike"] = f"The strike must be a positive number, got {shown(f.get('strike'))}."
        strike_dec = None
    elif strike_dec > MAX_PRICE or strike_dec != strike_dec.quantize(Decimal("0.001")):
        errors["strike"] = "The strike must be a price like 200 or 612.5."
        strike_dec = None

    right_text = text_of(f.get("right")).upper()[:1]
    right: Right | None
    if right_text in ("C", "P"):
        right = right_text  # type: ignore[assignment]
    elif direction is not None:
        right = right_for_direction(direction)
    else:
        right = None

    limit, limit_msg = parse_bounded(f.get("limit"), "limit price")
    if text_of(f.get("limit")) == "":
        errors["limit"] = "Enter a limit price."
        limit = None
    elif limit_msg or limit is None:
        errors["limit"] = limit_msg or "Enter a limit price."
        limit = None
    elif limit <= 0:
        errors["limit"] = "The limit price must be above zero."
        limit = None
    elif limit > MAX_PRICE or (
        chain is not None
        and chain.underlying_price is not None
        and math.isfinite(chain.underlying_price)
        and float(limit) > max(chain.underlying_price, float(strike_dec or 0))
    ):
        # A long call is worth at most the underlying's price, a long put at most its
        # strike: a limit above both is a typo, not a price.
        errors["limit"] = f"A premium of {money(limit)} a share is not plausible here."
        limit = None
    elif symbol:
        table = tick_table or shipped_tick_table()
        tick = option_tick(symbol, limit, table)
        if limit % tick != 0:
            lo = (limit // tick) * tick
            errors["limit"] = (
                f"${limit.normalize():f} is not on the ${tick:.2f} tick for {symbol} "
                f"({table.band(symbol)}); try {money(lo)} or {money(lo + tick)}."
            )
            limit = None

    entry, msg = parse_price(f.get("entry"), "entry level")
    if msg:
        errors["entry"] = msg
    target, msg = parse_price(f.get("target"), "target level")
    if msg:
        errors["target"] = msg
    target2, msg = parse_optional_price(f.get("target2"), "second target")
    if msg and "target" not in errors:
        errors["target"] = msg
    stop, msg = parse_price(f.get("stop"), "stop level")
    if msg:
        errors["stop"] = msg
    _absurd_levels(
        chain.underlying_price if chain is not None else None,
        {"entry": entry, "target": target, "stop": stop},
        errors,
    )
    if target2 is not None and "target" not in errors and chain is not None:
        _absurd_levels(chain.underlying_price, {"target": target2}, errors)
    if direction is not None and entry is not None and "entry" not in errors:
        _side_checks(
            direction,
            entry,
            target if "target" not in errors else None,
            target2,
            stop if "stop" not in errors else None,
            errors,
        )

    # The contract: built from the parts (or given), it must agree and be listed.
    contract_text = text_of(f.get("contract")).upper()
    contract: str | None = None
    quote: OptionQuote | None = None
    parts_ok = (
        symbol
        and expiry is not None
        and "expiry" not in errors
        and strike_dec is not None
        and "strike" not in errors
        and right is not None
    )
    if parts_ok:
        try:
            contract = build_occ(symbol, expiry, right, strike_dec)  # type: ignore[arg-type]
        except ValueError as exc:
            errors["contract"] = f"These fields do not make a valid option symbol: {exc}."
    if contract_text:
        try:
            given = parse_occ(contract_text)
        except ValueError as exc:
            errors["contract"] = str(exc)
        else:
            if contract is not None and given.compact != contract:
                errors["contract"] = (
                    f"Contract {given.compact} does not match the fields "
                    f"({symbol} {expiry} {format_strike(strike_dec)} {right}); "  # type: ignore[arg-type]
                    "re-select the contract."
                )
            elif contract is None and not errors.get("contract"):
                contract = given.compact
    if contract is not None and "contract" not in errors:
        occ = parse_occ(contract)
        if direction is not None and occ.right != right_for_direction(direction):
            want = "call" if direction == "long" else "put"
            got = "call" if occ.right == "C" else "put"
            errors["contract"] = (
                f"A {direction} trade buys a {want}; {display_occ(occ)} is a {got}."
            )
        elif chain is None:
            errors["contract"] = (
                "The option chain could not be loaded, so the contract cannot be checked; "
                "try again when the chain is available."
            )
        elif chain.underlying.upper() != occ.root:
            errors["contract"] = (
                f"The loaded chain is for {chain.underlying}, not {occ.root}; reload the chain."
            )
        else:
            quote = _find_quote(chain, contract)
            if quote is None:
                errors["contract"] = (
                    f"{display_occ(occ)} is not listed in the {chain.underlying} chain "
                    f"({chain.source}); pick a listed strike and expiry."
                )
            elif not quote.contract.tradable:
                errors["contract"] = f"{display_occ(occ)} is listed but not tradable."

    cost: Decimal | None = None
    if limit is not None and qty is not None:
        cost = limit * CONTRACT_MULTIPLIER * qty
        if buying_power is None:
            errors["cost"] = "Options buying power is unavailable, so the cost cannot be checked."
        elif cost > buying_power:
            errors["cost"] = (
                f"Cost {money(cost)} ({qty} × 100 × {money(limit)}) exceeds options "
                f"buying power {money(buying_power)}."
            )

    warnings: list[str] = []
    if quote is not None and limit is not None:
        if quote.ask is not None and quote.ask > 0 and float(limit) > quote.ask * 1.2:
            warnings.append(f"Limit {money(limit)} is more than 20% above the ask {quote.ask:.2f}.")
        if quote.bid is not None and quote.bid > 0 and float(limit) < quote.bid:
            warnings.append(
                f"Limit {money(limit)} is below the bid {quote.bid:.2f}; it may not fill."
            )

    ordered = {k: errors[k] for k in FIELDS if k in errors}
    if ordered or contract is None:
        if not ordered:  # defensive: every missing piece above leaves a message
            ordered = {"contract": "The contract could not be determined."}
        return TicketValidation(
            MappingProxyType(ordered), None, cost=cost, quote=quote, warnings=tuple(warnings)
        )
    assert direction is not None and qty is not None and expiry is not None and right is not None
    assert strike_dec is not None and limit is not None
    assert entry is not None and target is not None and stop is not None
    ticket = TradeTicket(
        symbol=symbol,
        direction=direction,
        contract=contract,
        contracts=qty,
        expiry=expiry,
        strike=parse_occ(contract).strike,
        right=right,
        limit=limit.quantize(CENT),
        entry=entry,
        target=target,
        stop=stop,
        target2=target2,
        pattern=text_of(f.get("pattern")) or None,
        timeframe=text_of(f.get("timeframe")) or None,
        signal_id=text_of(f.get("signal_id")) or None,
        tfc=text_of(f.get("tfc")) or None,
        rules=text_of(f.get("rules")) or None,
        dte_floor=optional_int(f.get("dte_floor")),
        max_loss_pct=optional_pct(f.get("max_loss_pct")),
        live=bool(f.get("live", False)),
    )
    return TicketValidation(
        MappingProxyType({}), ticket, cost=cost, quote=quote, warnings=tuple(warnings)
    )
