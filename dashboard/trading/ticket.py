"""The order ticket: raw form fields in, a validated ``TradeTicket`` or per-field messages out.

Pure: no I/O. The caller supplies the option chain, the options buying power, the time
and the quantity cap, so the same rules run in the form (inline messages) and right before
submission (an invalid ticket can never reach the broker).

Tick rules are the Penny Interval Program's, from a list shipped as data with its
effective date and source (``data/penny_program.json``, read lazily on first use):
SPY, QQQ and IWM quote in $0.01 at every premium; the program's other classes in $0.01
below $3.00 and $0.05 from $3.00; classes outside the program in $0.05 below $3.00 and
$0.10 from $3.00. ``DASHBOARD_PENNY_FILE`` replaces the list and ``DASHBOARD_PENNY_SYMBOLS``
adds classes to it (``tick_table_for``). A limit on its class's grid is never refused.

Hostile input: every number is parsed with bounds *before* any conversion
(``parse_bounded``): at most ``MAX_NUMBER_CHARS`` characters, plain digits with at most
``MAX_SIGNIFICANT_DIGITS`` of them, an exponent within ``MAX_EXPONENT``, finite values only.
So ``1e2500000`` contracts, a 5,000-digit limit or a ``1e309`` stop get a message
instead of a minute of big-integer arithmetic or an infinite level. Levels further than a
factor of ``LEVEL_RANGE`` from the underlying's price are refused as absurd.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
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
from dashboard.trading.records import JournalTrade

__all__ = [
    "FIELDS",
    "EntryLimits",
    "PriceCheck",
    "RiskSize",
    "TickTable",
    "TicketValidation",
    "TradeTicket",
    "active_for_signal",
    "check_against_price",
    "option_tick",
    "parse_bounded",
    "parse_tick_table",
    "risk_budget",
    "round_to_tick",
    "shipped_tick_table",
    "size_by_risk",
    "tick_table_for",
    "validate_ticket",
]

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
# Bounds applied before any number is converted (see the module docstring).
MAX_NUMBER_CHARS = 32
MAX_SIGNIFICANT_DIGITS = 20
MAX_EXPONENT = 12  # |adjusted exponent|: values from 1e-12 up to below 1e13
MAX_PRICE = Decimal(1_000_000)  # no underlying or premium is a million dollars a share
LEVEL_RANGE = 2.0  # entry, target and stop within [price / 2, price x 2] of the underlying
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,12})?")
PENNY_FILE = "data/penny_program.json"  # inside this package
_CENT = Decimal("0.01")
_NICKEL = Decimal("0.05")
_DIME = Decimal("0.10")
_THREE = Decimal(3)


@dataclass(frozen=True, slots=True)
class TradeTicket:
    """A fully validated single-leg long option order plus the STRAT plan behind it.

    ``direction`` is the view on the underlying: long buys a call, short buys a put.
    ``entry``, ``target``, ``target2`` and ``stop`` are underlying prices; ``limit`` is the
    option premium per share.
    """

    symbol: str  # underlying
    direction: Direction
    contract: str  # OCC compact symbol
    contracts: int
    expiry: date
    strike: Decimal
    right: Right
    limit: Decimal
    entry: float
    target: float
    stop: float
    target2: float | None = None
    pattern: str | None = None
    timeframe: str | None = None
    signal_id: str | None = None
    tfc: str | None = None  # e.g. "3/4 ↑", as shown on the signal board
    rules: str | None = None  # the level rules, e.g. "entry: setup-bar high + 1 tick; ..."
    dte_floor: int | None = None  # managed exit when DTE falls to this
    max_loss_pct: float | None = None  # managed exit when the premium has lost this %
    live: bool = False

    @property
    def cost(self) -> Decimal:
        """Premium paid for the whole order in dollars (fees are taken as zero)."""
        return self.limit * CONTRACT_MULTIPLIER * self.contracts

    @property
    def display(self) -> str:
        """The exact order, as the confirmation step shows it."""
        return (
            f"BUY TO OPEN {self.contracts} × {display_occ(self.contract)} "
            f"({self.contract}) LIMIT ${self.limit:.2f} DAY — ${self.cost:,.2f}"
        )


@dataclass(frozen=True, slots=True)
class TicketValidation:
    """Per-field messages (``field -> message``), and the ticket when there are none."""

    errors: Mapping[str, str]
    ticket: TradeTicket | None
    cost: Decimal | None = None
    quote: OptionQuote | None = None  # the chain row of the contract, when found
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors and self.ticket is not None


@dataclass(frozen=True, slots=True)
class TickTable:
    """The Penny Interval Program's classes as of ``effective``, and where the list came
    from (shown on the ticket, so a trader can see which list priced a limit)."""

    penny_all_prices: frozenset[str]  # $0.01 at every premium (SPY, QQQ, IWM)
    program: frozenset[str]  # $0.01 below $3.00, $0.05 from $3.00
    effective: date
    source: str
    added: frozenset[str] = frozenset()  # classes a setting added to the shipped list

    def band(self, underlying: str) -> str:
        """Which of the three grids ``underlying`` is priced on, in words."""
        name = underlying.strip().upper()
        if name in self.penny_all_prices:
            return "penny program, $0.01 at every price"
        if name in self.program:
            return "penny program, $0.01 below $3.00 and $0.05 from $3.00"
        return "outside the penny program, $0.05 below $3.00 and $0.10 from $3.00"

    @property
    def caption(self) -> str:
        extra = f" + {len(self.added)} added by DASHBOARD_PENNY_SYMBOLS" if self.added else ""
        return f"Penny Interval Program list effective {self.effective:%Y-%m-%d}{extra}"


def _symbols(raw: Any, what: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"{what} must be a list of ticker symbols")
    out = {x.strip().upper() for x in raw}
    bad = sorted(x for x in out if not x.replace(".", "").isalnum() or len(x) > 10)
    if bad:
        raise ValueError(f"{what}: {', '.join(bad[:3])} is not a ticker symbol")
    return frozenset(out)


def parse_tick_table(data: Mapping[str, Any]) -> TickTable:
    """A ``TickTable`` from the JSON's fields (ValueError, naming the field, when bad)."""
    if not isinstance(data, Mapping):
        raise ValueError("the penny program list must be a JSON object")
    try:
        effective = date.fromisoformat(str(data.get("effective", "")))
    except ValueError:
        raise ValueError("'effective' must be a date like 2026-07-01") from None
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("'source' must say where the list comes from")
    return TickTable(
        penny_all_prices=_symbols(data.get("penny_all_prices"), "'penny_all_prices'"),
        program=_symbols(data.get("program_classes"), "'program_classes'"),
        effective=effective,
        source=source.strip(),
    )


def _read_table(path: Path | None) -> TickTable:
    if path is None:
        text = resources.files(__package__ or "dashboard.trading").joinpath(PENNY_FILE)
        return parse_tick_table(json.loads(text.read_text(encoding="utf-8")))
    try:
        return parse_tick_table(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None


@functools.cache
def shipped_tick_table() -> TickTable:
    """The list shipped with the package (read once, on first use)."""
    return _read_table(None)


@functools.cache
def tick_table_for(path: Path | None = None, added: Iterable[str] = ()) -> TickTable:
    """The shipped list, or the one at ``path`` (``DASHBOARD_PENNY_FILE``), plus the
    ``added`` classes (``DASHBOARD_PENNY_SYMBOLS``). ``added`` must be hashable (a tuple)."""
    table = shipped_tick_table() if path is None else _read_table(path)
    extra = frozenset(s.strip().upper() for s in added if s.strip()) - table.program
    if not extra:
        return table
    return TickTable(
        table.penny_all_prices,
        table.program | extra,
        table.effective,
        table.source,
        added=extra - table.penny_all_prices,
    )


def option_tick(underlying: str, price: Decimal, table: TickTable | None = None) -> Decimal:
    """Minimum premium increment for ``underlying`` at ``price`` (see the module docstring)."""
    t = table or shipped_tick_table()
    name = underlying.strip().upper()
    if name in t.penny_all_prices:
        return _CENT
    if name in t.program:
        return _CENT if price < _THREE else _NICKEL
    return _NICKEL if price < _THREE else _DIME


def round_to_tick(
    underlying: str, price: Decimal, *, down: bool, table: TickTable | None = None
) -> Decimal:
    """Round a premium onto its tick grid, down (sell limits) or up (buy limits). A price
    already on the grid is returned unchanged."""
    tick = option_tick(underlying, price, table)
    steps = price / tick
    whole = math.floor(steps) if down else math.ceil(steps)
    out = Decimal(whole) * tick
    # Crossing $3 on the way up/down can change the tick; one re-check is enough.
    tick2 = option_tick(underlying, out, table)
    if tick2 != tick:
        steps = out / tick2
        out = Decimal(math.floor(steps) if down else math.ceil(steps)) * tick2
    return out.quantize(_CENT)


# ---- field parsers: each returns (value, None) or (None, message) ---------------------------


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _shown(raw: Any) -> str:
    """A value quoted back in a message: short, whatever was sent."""
    text = repr(raw) if isinstance(raw, float) else _text(raw)[:40]
    return repr(text if len(text) <= 20 else text[:17] + "...")


def parse_bounded(raw: Any, what: str) -> tuple[Decimal | None, str | None]:
    """(value, None) or (None, message): a finite Decimal within the bounds, checked on
    the text (or the number's size) before anything is converted. Blank is (None, None).
    """
    if raw is None or isinstance(raw, bool):
        return None, None if raw is None else f"The {what} must be a number."
    if isinstance(raw, int):
        if abs(raw) >= 10**MAX_EXPONENT * 10:  # compared as an int: no conversion yet
            return None, f"The {what} is far too large."
        return Decimal(raw), None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return None, f"The {what} must be a finite number."
        text = repr(raw)
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            return None, f"The {what} must be a finite number."
        text = format(raw, "f") if abs(raw.adjusted()) <= MAX_EXPONENT else "overflow"
        if text == "overflow":
            return None, f"The {what} is out of range."
    elif isinstance(raw, str):
        text = raw.strip().removeprefix("$").strip().replace(",", "")
    else:
        return None, f"The {what} must be a number."
    if text == "":
        return None, None
    if len(text) > MAX_NUMBER_CHARS:
        return None, f"The {what} is too long ({len(text)} characters); enter e.g. 585.20."
    if not _NUMBER.fullmatch(text):
        return None, f"The {what} must be a number, got {_shown(raw)}."
    mantissa = text.split("e")[0].split("E")[0].lstrip("+-").replace(".", "").lstrip("0")
    if len(mantissa) > MAX_SIGNIFICANT_DIGITS:
        return None, f"The {what} has too many digits; enter e.g. 585.20."
    try:
        dec = Decimal(text)  # cheap: short text; the exponent is only stored, never expanded
    except InvalidOperation:
        return None, f"The {what} must be a number, got {_shown(raw)}."
    if not dec.is_finite() or (dec != 0 and abs(dec.adjusted()) > MAX_EXPONENT):
        return None, f"The {what} is out of range."
    return dec, None


def _decimal(raw: Any) -> Decimal | None:
    return parse_bounded(raw, "value")[0]


def _price(raw: Any, what: str) -> tuple[float | None, str | None]:
    if _text(raw) == "":
        return None, f"Enter the {what}."
    dec, msg = parse_bounded(raw, what)
    if msg or dec is None:
        return None, msg or f"Enter the {what}."
    if dec <= 0:
        return None, f"The {what} must be above zero."
    if dec > MAX_PRICE:
        return None, f"The {what} must be below {_money(MAX_PRICE)}."
    return float(dec), None


def _optional_price(raw: Any, what: str) -> tuple[float | None, str | None]:
    if _text(raw) == "":
        return None, None
    return _price(raw, what)


def _contracts(raw: Any, cap: int) -> tuple[int | None, str | None]:
    if _text(raw) == "":
        return None, "Enter the number of contracts."
    dec, msg = parse_bounded(raw, "number of contracts")
    if dec is None:
        if msg and ("number, got" in msg or msg.endswith("must be a number.")):
            return None, f"Contracts must be a whole number, got {_shown(raw)}."
        if msg and ("range" in msg or "large" in msg or "too long" in msg):
            return None, f"At most {cap} contracts per order (DASHBOARD_MAX_CONTRACTS)."
        return None, msg or "Enter the number of contracts."
    if dec != dec.to_integral_value():
        return None, f"Contracts must be a whole number; {dec.normalize():f} is not."
    if dec > cap:  # before int(): dec is bounded, but compare first anyway
        return None, f"At most {cap} contracts per order (DASHBOARD_MAX_CONTRACTS); got {dec:f}."
    n = int(dec)
    if n <= 0:
        return None, "Contracts must be at least 1."
    if n > cap:
        return None, f"At most {cap} contracts per order (DASHBOARD_MAX_CONTRACTS); got {n}."
    return n, None


def _expiry(raw: Any) -> tuple[date | None, str | None]:
    if isinstance(raw, datetime):
        return raw.date(), None
    if isinstance(raw, date):
        return raw, None
    if raw is not None and not isinstance(raw, str):
        return None, "Expiry must be a date like 2025-12-19, not a number."
    text = _text(raw)
    if not text:
        return None, "Choose an expiry date."
    if len(text) > MAX_NUMBER_CHARS or not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", text):
        return None, f"Expiry must be a date like 2025-12-19, got {_shown(raw)}."
    try:
        return date.fromisoformat(text[:10]), None
    except ValueError:
        return None, f"Expiry must be a date like 2025-12-19, got {_shown(raw)}."


def _optional_int(raw: Any) -> int | None:
    dec = _decimal(raw) if _text(raw) else None
    ok = dec is not None and dec == dec.to_integral_value() and 0 <= dec <= 3650
    return int(dec) if ok and dec is not None else None


def _optional_pct(raw: Any) -> float | None:
    dec = _decimal(raw) if _text(raw) else None
    return float(dec) if dec is not None and 0 < dec <= 100 else None


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


def _money(x: Decimal) -> str:
    return f"${x:,.2f}"


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

    symbol = _text(f.get("symbol")).upper()
    known = {s.upper() for s in known_symbols}
    if not symbol:
        errors["symbol"] = "Enter the underlying symbol, e.g. SPY."
    elif symbol not in known:
        errors["symbol"] = f"{symbol} is not a known symbol (not in the watchlist or market data)."

    direction_text = _text(f.get("direction")).lower()
    direction: Direction | None = None
    if direction_text in ("long", "short"):
        direction = direction_text  # type: ignore[assignment]
    else:
        errors["direction"] = "Choose long (buy a call) or short (buy a put)."

    qty, msg = _contracts(f.get("contracts"), max_contracts)
    if msg:
        errors["contracts"] = msg

    expiry, msg = _expiry(f.get("expiry"))
    if msg:
        errors["expiry"] = msg
    elif expiry is not None and is_expired(expiry, now):
        today = now.astimezone(NEW_YORK).date()
        when = "today's close has passed" if expiry == today else "that date is in the past"
        errors["expiry"] = f"Expiry {expiry:%Y-%m-%d} is not in the future ({when})."

    strike_dec, strike_msg = parse_bounded(f.get("strike"), "strike")
    if _text(f.get("strike")) == "":
        errors["strike"] = "Choose a strike."
        strike_dec = None
    elif strike_msg:
        errors["strike"] = strike_msg
    elif strike_dec is None or strike_dec <= 0:
        errors["strike"] = f"The strike must be a positive number, got {_shown(f.get('strike'))}."
        strike_dec = None
    elif strike_dec > MAX_PRICE or strike_dec != strike_dec.quantize(Decimal("0.001")):
        errors["strike"] = "The strike must be a price like 200 or 612.5."
        strike_dec = None

    right_text = _text(f.get("right")).upper()[:1]
    right: Right | None
    if right_text in ("C", "P"):
        right = right_text  # type: ignore[assignment]
    elif direction is not None:
        right = right_for_direction(direction)
    else:
        right = None

    limit, limit_msg = parse_bounded(f.get("limit"), "limit price")
    if _text(f.get("limit")) == "":
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
        errors["limit"] = f"A premium of {_money(limit)} a share is not plausible here."
        limit = None
    elif symbol:
        table = tick_table or shipped_tick_table()
        tick = option_tick(symbol, limit, table)
        if limit % tick != 0:
            lo = (limit // tick) * tick
            errors["limit"] = (
                f"${limit.normalize():f} is not on the ${tick:.2f} tick for {symbol} "
                f"({table.band(symbol)}); try {_money(lo)} or {_money(lo + tick)}."
            )
            limit = None

    entry, msg = _price(f.get("entry"), "entry level")
    if msg:
        errors["entry"] = msg
    target, msg = _price(f.get("target"), "target level")
    if msg:
        errors["target"] = msg
    target2, msg = _optional_price(f.get("target2"), "second target")
    if msg and "target" not in errors:
        errors["target"] = msg
    stop, msg = _price(f.get("stop"), "stop level")
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
    contract_text = _text(f.get("contract")).upper()
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
                f"Cost {_money(cost)} ({qty} × 100 × {_money(limit)}) exceeds options "
                f"buying power {_money(buying_power)}."
            )

    warnings: list[str] = []
    if quote is not None and limit is not None:
        if quote.ask is not None and quote.ask > 0 and float(limit) > quote.ask * 1.2:
            warnings.append(
                f"Limit {_money(limit)} is more than 20% above the ask {quote.ask:.2f}."
            )
        if quote.bid is not None and quote.bid > 0 and float(limit) < quote.bid:
            warnings.append(
                f"Limit {_money(limit)} is below the bid {quote.bid:.2f}; it may not fill."
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
        limit=limit.quantize(_CENT),
        entry=entry,
        target=target,
        stop=stop,
        target2=target2,
        pattern=_text(f.get("pattern")) or None,
        timeframe=_text(f.get("timeframe")) or None,
        signal_id=_text(f.get("signal_id")) or None,
        tfc=_text(f.get("tfc")) or None,
        rules=_text(f.get("rules")) or None,
        dte_floor=_optional_int(f.get("dte_floor")),
        max_loss_pct=_optional_pct(f.get("max_loss_pct")),
        live=bool(f.get("live", False)),
    )
    return TicketValidation(
        MappingProxyType({}), ticket, cost=cost, quote=quote, warnings=tuple(warnings)
    )


# ---- the ticket against the current price, sizing by risk and the duplicate guard -------------


@dataclass(frozen=True, slots=True)
class EntryLimits:
    """When a ticket warns (settings; the page states them)."""

    late_share: float = 0.5  # price more than this share of the way from entry to stop
    min_remaining_rr: float = 1.0  # reward:risk left from the current price, T1 vs stop


@dataclass(frozen=True, slots=True)
class PriceCheck:
    """Where the underlying is now against the signal's trigger, T1 and stop.

    Shares are fractions of the setup's own distances: ``to_stop`` is how far price has
    gone from the entry toward the stop (0 at or beyond the entry on the trade's side,
    1 at the stop), ``to_target`` how far from the entry toward T1 (negative while price
    is on the stop's side of the entry). ``remaining_rr`` is (T1 − price) / (price − stop)
    for a long, mirrored for a short: the reward:risk of entering at the current price.
    """

    direction: Direction
    price: float
    entry: float
    stop: float
    target: float
    triggered: bool
    to_stop: float
    to_target: float
    setup_rr: float | None
    remaining_rr: float | None
    refusal: str | None
    warnings: tuple[str, ...]

    @property
    def pending(self) -> bool:
        return not self.triggered


def check_against_price(
    direction: Direction,
    *,
    price: float,
    entry: float,
    stop: float,
    target: float,
    scan_triggered: bool,
    limits: EntryLimits = EntryLimits(),
) -> PriceCheck:
    """Refuse a ticket whose stop has traded or whose T1 has been reached at ``price``;
    warn on a late entry or a poor reward:risk from here.

    ``scan_triggered`` is the signal board's status; price beyond the trigger now also
    counts as triggered (the trigger traded since the scan). Levels must already be on
    the right sides of the entry (``validate_ticket`` checks that).
    """
    sign = 1.0 if direction == "long" else -1.0
    risk = sign * (entry - stop)  # > 0
    reward = sign * (target - entry)  # > 0
    triggered = scan_triggered or sign * (price - entry) >= 0
    to_stop = max(sign * (entry - price), 0.0) / risk if risk > 0 else 0.0
    to_target = sign * (price - entry) / reward if reward > 0 else 0.0
    setup_rr = reward / risk if risk > 0 and reward > 0 else None
    left_reward, left_risk = sign * (target - price), sign * (price - stop)
    remaining = left_reward / left_risk if left_risk > 0 and left_reward > 0 else None
    refusal = None
    warnings: list[str] = []
    if left_risk <= 0:
        side = "below" if direction == "long" else "above"
        refusal = (
            f"Refused: price {price:,.2f} is at or {side} the stop {stop:,.2f}, so the stop "
            "has already traded and the setup is invalidated."
        )
    elif left_reward <= 0:
        refusal = (
            f"Refused: price {price:,.2f} has already reached T1 {target:,.2f}; the move "
            "this trade plans is spent."
        )
    else:
        if triggered and to_stop > limits.late_share:
            warnings.append(
                f"Late entry: price {price:,.2f} is {to_stop:.0%} of the way from the entry "
                f"{entry:,.2f} to the stop {stop:,.2f} (warns above {limits.late_share:.0%})."
            )
        if remaining is not None and remaining < limits.min_remaining_rr:
            warnings.append(
                f"Reward:risk from the current price {price:,.2f} is {remaining:.2f} "
                f"(T1 {target:,.2f}, stop {stop:,.2f}), below the {limits.min_remaining_rr:.2f} "
                "floor."
            )
    return PriceCheck(
        direction,
        price,
        entry,
        stop,
        target,
        triggered,
        to_stop,
        to_target,
        setup_rr,
        remaining,
        refusal,
        tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class RiskSize:
    """The default quantity: the contracts whose projected loss at the stop fits the
    budget, capped by the max-contracts setting; 0 when not even one fits or the loss is
    unknown (the user then sizes by hand, and the text says why)."""

    contracts: int
    budget: float | None
    loss_per_contract: float | None
    capped: bool
    text: str


def risk_budget(
    equity: float | None, *, pct: float, dollars: float | None
) -> tuple[float | None, str]:
    """Dollars a trade may lose at its stop: the fixed amount when set, else ``pct`` % of
    equity; None (with why) when equity is unknown."""
    if dollars is not None:
        return dollars, f"${dollars:,.0f} per trade (DASHBOARD_RISK_PER_TRADE_DOLLARS)"
    if equity is None or not math.isfinite(equity) or equity <= 0:
        return None, "equity unavailable"
    budget = equity * pct / 100.0
    return (
        budget,
        f"{pct:g}% of equity ${equity:,.0f} = ${budget:,.0f} (DASHBOARD_RISK_PER_TRADE_PCT)",
    )


def size_by_risk(
    loss_per_contract: float | None,
    *,
    budget: float | None,
    max_contracts: int,
    budget_text: str = "",
) -> RiskSize:
    """floor(budget / loss per contract), capped at ``max_contracts``."""
    why = f" ({budget_text})" if budget_text else ""
    if budget is None:
        return RiskSize(
            0, None, loss_per_contract, False, f"Not sized: {budget_text or 'no budget'}."
        )
    if loss_per_contract is None or not math.isfinite(loss_per_contract) or loss_per_contract <= 0:
        return RiskSize(
            0,
            budget,
            None,
            False,
            "Not sized: the projection has no loss at the stop; size by hand.",
        )
    fit = math.floor(budget / loss_per_contract + 1e-9)
    n = min(fit, max_contracts)
    if n < 1:
        return RiskSize(
            0,
            budget,
            loss_per_contract,
            False,
            f"Not sized: one contract loses ${loss_per_contract:,.0f} at the stop, more than "
            f"the ${budget:,.0f} budget{why}.",
        )
    capped = fit > max_contracts
    tail = f", capped at {max_contracts} (DASHBOARD_MAX_CONTRACTS)" if capped else ""
    return RiskSize(
        n,
        budget,
        loss_per_contract,
        capped,
        f"Sized by risk: {n} × ${loss_per_contract:,.0f} loss at the stop = "
        f"${n * loss_per_contract:,.0f} of ${budget:,.0f}{why}{tail}.",
    )


def active_for_signal(trades: Iterable[JournalTrade], signal_id: str | None) -> list[JournalTrade]:
    """The journal's working, armed or open trades from this signal (the duplicate guard)."""
    if not signal_id:
        return []
    return [t for t in trades if t.signal_id == signal_id and t.is_active]
