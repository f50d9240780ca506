"""OCC/OSI option symbols: parse, build and display.

Alpaca uses the compact form ``SPY251219C00600000`` (root, YYMMDD, C/P, strike x 1000 as
eight digits); the standard OSI form pads the root to six characters with spaces. Both
parse to the same ``OccSymbol``; strikes are ``Decimal`` so 612.5 never becomes 612.4999.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from dashboard.conventions import Right

__all__ = [
    "OccSymbol",
    "build_occ",
    "contract_label",
    "display_occ",
    "format_strike",
    "parse_occ",
    "underlying_of",
]

_ROOT_RE = re.compile(r"^[A-Z0-9]{1,6}$")
_TAIL_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_TAIL_LEN = 15  # YYMMDD + C/P + 8 strike digits
_OSI_LEN = 6 + _TAIL_LEN
_MAX_STRIKE_UNITS = 10**8  # eight digits of thousandths


@dataclass(frozen=True, slots=True)
class OccSymbol:
    root: str
    expiry: date
    right: Right
    strike: Decimal

    @property
    def compact(self) -> str:
        """Alpaca form, e.g. ``SPY251219C00600000``."""
        return build_occ(self.root, self.expiry, self.right, self.strike)

    @property
    def osi(self) -> str:
        """Standard OSI form with the root padded to six characters."""
        return build_occ(self.root, self.expiry, self.right, self.strike, padded=True)

    @property
    def display(self) -> str:
        return display_occ(self)


def _check_root(root: str) -> str:
    if not isinstance(root, str) or not _ROOT_RE.match(root):
        raise ValueError(
            f"invalid OCC root {root!r}: expected 1-6 letters/digits, e.g. 'SPY' or 'AAPL1'"
        )
    return root


def _check_right(right: str) -> Right:
    text = str(right).strip().upper()
    if text in ("C", "CALL"):
        return "C"
    if text in ("P", "PUT"):
        return "P"
    raise ValueError(f"invalid option right {right!r}: expected 'C' or 'P'")


def _strike_units(strike: Decimal | float | int | str) -> int:
    """Strike in thousandths of a dollar; rejects values the 8 OCC digits cannot hold."""
    try:
        # str() first so a float like 612.5 converts by its shortest repr, not its binary value.
        dec = strike if isinstance(strike, Decimal) else Decimal(str(strike))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"invalid strike {strike!r}: not a number") from exc
    if not dec.is_finite() or dec <= 0:
        raise ValueError(f"invalid strike {strike!r}: must be a positive finite number")
    if dec.adjusted() >= 5:  # checked on the exponent: int() of 1e500000 takes minutes
        raise ValueError(f"strike {strike!r} exceeds the OCC maximum of 99999.999")
    units = dec * 1000
    if units != units.to_integral_value():
        raise ValueError(f"strike {strike!r} is not a multiple of $0.001 and has no OCC form")
    n = int(units)
    if n >= _MAX_STRIKE_UNITS:
        raise ValueError(f"strike {strike!r} exceeds the OCC maximum of 99999.999")
    return n


@functools.lru_cache(maxsize=16384)
def parse_occ(symbol: str) -> OccSymbol:
    """Parse a compact (Alpaca) or space-padded (OSI) option symbol (cached: the result
    is immutable and every refresh parses the same held contracts again).

    The last 15 characters are fixed-width, so a root that ends in digits (``AAPL1``) is
    unambiguous: the root is whatever precedes them.
    """
    if not isinstance(symbol, str):
        raise ValueError(f"OCC symbol must be a string, got {type(symbol).__name__}")
    text = symbol.strip().upper()
    if len(text) < _TAIL_LEN + 1:
        raise ValueError(
            f"invalid OCC symbol {symbol!r}: too short (need ROOT+YYMMDD+C/P+8 digits)"
        )
    head, tail = text[:-_TAIL_LEN], text[-_TAIL_LEN:]
    root = head.rstrip(" ")
    if root != head and len(text) != _OSI_LEN:
        raise ValueError(
            f"invalid OCC symbol {symbol!r}: a space-padded root must pad to 6 characters"
        )
    if not _ROOT_RE.match(root):
        raise ValueError(f"invalid OCC symbol {symbol!r}: root {root!r} must be 1-6 letters/digits")
    match = _TAIL_RE.match(tail)
    if match is None:
        raise ValueError(
            f"invalid OCC symbol {symbol!r}: expected YYMMDD, C or P, then 8 strike digits after the root"
        )
    yy, mm, dd, right, strike_digits = match.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError as exc:
        raise ValueError(
            f"invalid OCC symbol {symbol!r}: bad expiry date {yy}{mm}{dd} ({exc})"
        ) from exc
    units = int(strike_digits)
    if units == 0:
        raise ValueError(f"invalid OCC symbol {symbol!r}: strike is zero")
    strike = Decimal(units) / Decimal(1000)
    return OccSymbol(root=root, expiry=expiry, right=right, strike=strike)  # type: ignore[arg-type]


def build_occ(
    root: str,
    expiry: date,
    right: str,
    strike: Decimal | float | int | str,
    *,
    padded: bool = False,
) -> str:
    """Build the compact (default) or OSI-padded symbol; raises ValueError on bad parts."""
    root = _check_root(root.strip().upper() if isinstance(root, str) else root)
    if not isinstance(expiry, date):
        raise ValueError(f"expiry must be a date, got {type(expiry).__name__}")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"expiry year {expiry.year} cannot be written as YY")
    units = _strike_units(strike)
    head = root.ljust(6) if padded else root
    return f"{head}{expiry:%y%m%d}{_check_right(right)}{units:08d}"


def format_strike(strike: Decimal | float | int) -> str:
    """Shortest exact strike text with thousands separators: 600, 612.5, 1,250."""
    dec = strike if isinstance(strike, Decimal) else Decimal(str(strike))
    dec = dec.normalize()
    if dec == dec.to_integral_value():
        dec = dec.quantize(Decimal(1))
    return f"{dec:,f}"


@functools.lru_cache(maxsize=16384)
def display_occ(symbol: str | OccSymbol) -> str:
    """Human form, e.g. ``SPY Dec 19 '25 $600 C``. Cached: grids re-label the same
    contracts on every refresh."""
    occ = parse_occ(symbol) if isinstance(symbol, str) else symbol
    exp = occ.expiry
    return f"{occ.root} {exp:%b} {exp.day} '{exp:%y} ${format_strike(occ.strike)} {occ.right}"


def underlying_of(symbol: str, asset_class: str | None = None) -> str:
    """The underlying ticker: the OCC root of an option, else the symbol itself.

    ``asset_class`` (Alpaca's ``us_option`` / ``us_equity`` / ``crypto`` …) decides when
    known; without it the symbol's shape does. A symbol that does not parse as OCC stays
    as it is, so one odd record never breaks a list that only wants to group by it.
    """
    if asset_class is not None and asset_class != "us_option":
        return symbol
    try:
        return parse_occ(symbol).root
    except ValueError:
        return symbol


def contract_label(symbol: str, asset_class: str | None = None) -> str:
    """How a held symbol reads on screen: ``SPY Dec 19 '25 $600 C`` for an option, else the
    ticker (the same shape rule as ``underlying_of``)."""
    if asset_class is not None and asset_class != "us_option":
        return symbol
    try:
        return display_occ(symbol)
    except ValueError:
        return symbol
