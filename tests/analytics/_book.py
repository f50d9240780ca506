"""Hand-made positions on a SPY call with a known time to expiry, shared by the risk and
VaR tests (an independent New York zone: the tests do not borrow the app's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dashboard.models import Position

NY = ZoneInfo("America/New_York")
EXPIRY_CLOSE = datetime(2025, 12, 19, 16, 0, tzinfo=NY)
OPT = "SPY251219C00100000"  # SPY 100 call expiring 2025-12-19


def now_for(years: float) -> datetime:
    """A 'now' that leaves exactly ``years`` (365-day count) to the 16:00 ET expiry."""
    return EXPIRY_CLOSE.astimezone(UTC) - timedelta(days=years * 365)


def pos(symbol: str, qty: float, price: float, asset_class: str = "us_equity") -> Position:
    mult = 100 if asset_class == "us_option" else 1
    mv = Decimal(str(qty * price * mult))
    return Position(
        symbol=symbol,
        asset_class=asset_class,  # type: ignore[arg-type]
        qty=Decimal(str(qty)),
        side="long" if qty > 0 else "short",
        avg_entry_price=Decimal(str(price)),
        current_price=Decimal(str(price)),
        lastday_price=Decimal(str(price)),
        market_value=mv,
        cost_basis=mv,
        unrealized_pl=Decimal(0),
        unrealized_plpc=Decimal(0),
        unrealized_intraday_pl=Decimal(0),
    )
