"""Hand-built chains, tickets and orders for the trading tests (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dashboard.models import OptionChain, OptionContract, OptionQuote, Order
from dashboard.options.occ import build_occ
from dashboard.trading.ticket import TradeTicket

NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)  # Monday 10:00 New York
EXPIRY = date(2025, 12, 19)


def quote(
    root: str, right: str, strike: str, bid: float, ask: float, *, tradable: bool = True
) -> OptionQuote:
    c = OptionContract(
        symbol=build_occ(root, EXPIRY, right, Decimal(strike)),
        underlying=root,
        expiry=EXPIRY,
        right=right,  # type: ignore[arg-type]
        strike=Decimal(strike),
        tradable=tradable,
    )
    return OptionQuote(c, bid, ask, None, 10, 1000, 0.2, 0.5, 0.01, -0.05, 0.1, NOW)


def chain(root: str = "AAPL") -> OptionChain:
    rows = (
        quote(root, "C", "200", 2.40, 2.50),
        quote(root, "P", "200", 1.90, 2.00),
        quote(root, "C", "205", 0.95, 1.05, tradable=False),
    )
    return OptionChain(root, 201.0, rows, "test", NOW, (EXPIRY,))


def fields(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "symbol": "AAPL",
        "direction": "long",
        "contracts": "2",
        "expiry": "2025-12-19",
        "strike": "200",
        "limit": "2.50",
        "entry": "201.00",
        "target": "205.00",
        "stop": "198.50",
        "pattern": "2-1-2",
        "timeframe": "1Day",
        "signal_id": "sig-1",
    }
    base.update(over)
    return base


def ticket(**over: Any) -> TradeTicket:
    base: dict[str, Any] = {
        "symbol": "AAPL",
        "direction": "long",
        "contract": "AAPL251219C00200000",
        "contracts": 2,
        "expiry": EXPIRY,
        "strike": Decimal(200),
        "right": "C",
        "limit": Decimal("2.50"),
        "entry": 201.0,
        "target": 205.0,
        "stop": 198.5,
        "pattern": "2-1-2",
        "timeframe": "1Day",
        "signal_id": "sig-1",
    }
    base.update(over)
    return TradeTicket(**base)


def order(
    client_order_id: str,
    *,
    status: str = "new",
    filled_qty: str = "0",
    price: str | None = None,
    side: str = "buy",
    symbol: str = "AAPL251219C00200000",
    qty: str = "2",
) -> Order:
    return Order(
        id=f"oid-{client_order_id}",
        client_order_id=client_order_id,
        symbol=symbol,
        asset_class="us_option",
        side=side,  # type: ignore[arg-type]
        type="limit",
        time_in_force="day",
        status=status,
        qty=Decimal(qty),
        filled_qty=Decimal(filled_qty),
        limit_price=Decimal("2.50"),
        filled_avg_price=Decimal(price) if price is not None else None,
        created_at=NOW,
        filled_at=NOW if price is not None else None,
    )
