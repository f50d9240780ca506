"""Market conventions the whole package shares, defined once and imported everywhere.

A convention here is a fact of the market or a choice the app makes once: the exchange's
time zone, the equity-option contract multiplier, the risk-free rate the models assume,
and which option right expresses a trade direction. ``tests/test_conventions.py`` pins
each, and checks that no other module defines its own copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "CONTRACT_MULTIPLIER",
    "MARKET_TZ_NAME",
    "NEW_YORK",
    "OPTION_MARK",
    "RISK_FREE_RATE",
    "Direction",
    "Right",
    "direction_for_right",
    "format_new_york",
    "is_ticker",
    "right_for_direction",
    "to_new_york",
]

# US equities and their options trade and settle on New York time; daily bars are stamped
# at New York midnight, and every time on screen is shown in it.
MARKET_TZ_NAME: Final = "America/New_York"
NEW_YORK: Final = ZoneInfo(MARKET_TZ_NAME)

# Standard US equity options deliver 100 shares per contract (OCC).
CONTRACT_MULTIPLIER: Final = 100

# Open option P&L is marked at the quote's mid, (bid + ask) / 2, everywhere it is shown
# (Options tab, Live Portfolio): one instant, one number. Exits still sell at the bid.
OPTION_MARK: Final = "mid"

# Annual, continuously compounded; what the option models assume when a quote carries no
# greeks. Roughly the 3-month T-bill yield; the pages that use it say so.
RISK_FREE_RATE: Final = 0.04

# A US equity ticker as the app accepts one: letters and digits, with "." for share
# classes (BRK.B), up to 10 characters.
TICKER_MAX_LEN: Final = 10

Direction = Literal["long", "short"]
Right = Literal["C", "P"]


def right_for_direction(direction: str) -> Right:
    """The option a STRAT trade buys: a call for a long, a put for a short."""
    if direction == "long":
        return "C"
    if direction == "short":
        return "P"
    raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")


def direction_for_right(right: str) -> Direction:
    """The trade direction a bought option expresses (the inverse of the above)."""
    if right == "C":
        return "long"
    if right == "P":
        return "short"
    raise ValueError(f"right must be 'C' or 'P', not {right!r}")


def is_ticker(symbol: str) -> bool:
    """Whether ``symbol`` (already upper-cased and stripped) looks like a ticker."""
    return (
        0 < len(symbol) <= TICKER_MAX_LEN
        and symbol[0].isalpha()
        and symbol.replace(".", "").isalnum()
        and symbol.isascii()
        and symbol == symbol.upper()
    )


def to_new_york(ts: datetime) -> datetime:
    """``ts`` on New York time; a naive timestamp is taken as UTC (as Alpaca sends them)."""
    if ts.tzinfo is None:
        from datetime import UTC

        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(NEW_YORK)


def format_new_york(ts: datetime | None, fmt: str = "%H:%M:%S") -> str:
    """``ts`` formatted on New York time, or "—" when there is none."""
    if ts is None:
        return "—"
    return to_new_york(ts).strftime(fmt)
