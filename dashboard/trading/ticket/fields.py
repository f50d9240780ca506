"""Parsers for the ticket's raw form fields, bounded before any conversion.

Each parser returns ``(value, None)`` or ``(None, message)``. Hostile input is why they
exist apart from the rules: every number is checked on its text first
(``parse_bounded``): at most ``MAX_NUMBER_CHARS`` characters, plain digits with at most
``MAX_SIGNIFICANT_DIGITS`` of them, an exponent within ``MAX_EXPONENT``, finite values
only. So ``1e2500000`` contracts, a 5,000-digit limit or a ``1e309`` stop get a message
instead of a minute of big-integer arithmetic or an infinite level.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "MAX_EXPONENT",
    "MAX_NUMBER_CHARS",
    "MAX_PRICE",
    "MAX_SIGNIFICANT_DIGITS",
    "decimal_or_none",
    "money",
    "optional_int",
    "optional_pct",
    "parse_bounded",
    "parse_contracts",
    "parse_expiry",
    "parse_optional_price",
    "parse_price",
    "shown",
    "text_of",
]

MAX_NUMBER_CHARS = 32
MAX_SIGNIFICANT_DIGITS = 20
MAX_EXPONENT = 12  # |adjusted exponent|: values from 1e-12 up to below 1e13
MAX_PRICE = Decimal(1_000_000)  # no underlying or premium is a million dollars a share
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,12})?")


def money(x: Decimal) -> str:
    """Dollars and cents as the ticket's messages show them: ``$1,234.50``."""
    return f"${x:,.2f}"


def text_of(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def shown(raw: Any) -> str:
    """A value quoted back in a message: short, whatever was sent."""
    text = repr(raw) if isinstance(raw, float) else text_of(raw)[:40]
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
        return None, f"The {what} must be a number, got {shown(raw)}."
    mantissa = text.split("e")[0].split("E")[0].lstrip("+-").replace(".", "").lstrip("0")
    if len(mantissa) > MAX_SIGNIFICANT_DIGITS:
        return None, f"The {what} has too many digits; enter e.g. 585.20."
    try:
        dec = Decimal(text)  # cheap: short text; the exponent is only stored, never expanded
    except InvalidOperation:
        return None, f"The {what} must be a number, got {shown(raw)}."
    if not dec.is_finite() or (dec != 0 and abs(dec.adjusted()) > MAX_EXPONENT):
        return None, f"The {what} is out of range."
    return dec, None


def decimal_or_none(raw: Any) -> Decimal | None:
    return parse_bounded(raw, "value")[0]


def parse_price(raw: Any, what: str) -> tuple[float | None, str | None]:
    if text_of(raw) == "":
        return None, f"Enter the {what}."
    dec, msg = parse_bounded(raw, what)
    if msg or dec is None:
        return None, msg or f"Enter the {what}."
    if dec <= 0:
        return None, f"The {what} must be above zero."
    if dec > MAX_PRICE:
        return None, f"The {what} must be below {money(MAX_PRICE)}."
    return float(dec), None


def parse_optional_price(raw: Any, what: str) -> tuple[float | None, str | None]:
    if text_of(raw) == "":
        return None, None
    return parse_price(raw, what)


def parse_contracts(raw: Any, cap: int) -> tuple[int | None, str | None]:
    if text_of(raw) == "":
        return None, "Enter the number of contracts."
    dec, msg = parse_bounded(raw, "number of contracts")
    if dec is None:
        if msg and ("number, got" in msg or msg.endswith("must be a number.")):
            return None, f"Contracts must be a whole number, got {shown(raw)}."
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


def parse_expiry(raw: Any) -> tuple[date | None, str | None]:
    if isinstance(raw, datetime):
        return raw.date(), None
    if isinstance(raw, date):
        return raw, None
    if raw is not None and not isinstance(raw, str):
        return None, "Expiry must be a date like 2025-12-19, not a number."
    text = text_of(raw)
    if not text:
        return None, "Choose an expiry date."
    if len(text) > MAX_NUMBER_CHARS or not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", text):
        return None, f"Expiry must be a date like 2025-12-19, got {shown(raw)}."
    try:
        return date.fromisoformat(text[:10]), None
    except ValueError:
        return None, f"Expiry must be a date like 2025-12-19, got {shown(raw)}."


def optional_int(raw: Any) -> int | None:
    dec = decimal_or_none(raw) if text_of(raw) else None
    ok = dec is not None and dec == dec.to_integral_value() and 0 <= dec <= 3650
    return int(dec) if ok and dec is not None else None


def optional_pct(raw: Any) -> float | None:
    dec = decimal_or_none(raw) if text_of(raw) else None
    return float(dec) if dec is not None and 0 < dec <= 100 else None
