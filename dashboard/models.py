"""Typed records that cross from the data layer into the core and the UI.

Callbacks never see raw JSON: clients parse Alpaca and ThetaData replies into these.
Money fields use ``Decimal`` where Alpaca sends exact strings (account, qty, prices on
orders and positions), so fractional quantities and cents survive the round trip.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from dashboard.conventions import Right

T = TypeVar("T")


class DataState(enum.StrEnum):
    """How trustworthy a value on screen is."""

    FRESH = "fresh"
    STALE = "stale"  # last good value kept after a failure
    ERROR = "error"  # no good value at all
    EMPTY = "empty"  # the source answered, and there is nothing


@dataclass(frozen=True, slots=True)
class DataResult(Generic[T]):
    """A value plus where it came from, when, and whether it can be trusted.

    Widgets render ``state`` so that "no data" and "broken" never look alike.
    """

    value: T | None
    source: str
    as_of: datetime | None
    state: DataState
    error: str | None = None
    stale_since: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state in (DataState.FRESH, DataState.STALE, DataState.EMPTY)


@dataclass(frozen=True, slots=True)
class Account:
    account_number: str
    status: str
    currency: str
    cash: Decimal
    equity: Decimal
    last_equity: Decimal
    portfolio_value: Decimal
    buying_power: Decimal
    options_buying_power: Decimal
    long_market_value: Decimal = Decimal(0)
    short_market_value: Decimal = Decimal(0)
    trading_blocked: bool = False
    pattern_day_trader: bool = False
    options_trading_level: int | None = None

    @property
    def day_pnl(self) -> Decimal:
        """Today's P&L: equity − last_equity (Alpaca's equity at the previous close). It
        holds everything that moved the account today: open positions, positions closed
        today, fees and cash movements."""
        return self.equity - self.last_equity

    @property
    def day_pnl_pct(self) -> float:
        """Today's P&L in % of last_equity; NaN for a new account (last_equity 0)."""
        last = float(self.last_equity)
        return float(self.day_pnl) / last * 100.0 if last > 0 else math.nan


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    asset_class: Literal["us_equity", "us_option"]
    qty: Decimal  # signed: negative for short
    side: Literal["long", "short"]
    avg_entry_price: Decimal
    current_price: Decimal
    lastday_price: Decimal
    market_value: Decimal
    cost_basis: Decimal
    unrealized_pl: Decimal
    unrealized_plpc: Decimal
    unrealized_intraday_pl: Decimal
    change_today: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    client_order_id: str
    symbol: str
    asset_class: str
    side: Literal["buy", "sell"]
    type: str
    time_in_force: str
    status: str
    qty: Decimal | None  # None for notional orders
    filled_qty: Decimal
    limit_price: Decimal | None
    filled_avg_price: Decimal | None
    created_at: datetime
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    position_intent: str | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    id: str
    order_id: str
    symbol: str
    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal
    transaction_time: datetime
    type: str = "fill"  # fill | partial_fill
    leaves_qty: Decimal = Decimal(0)
    cum_qty: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Clock:
    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    timestamps: tuple[datetime, ...]
    equity: tuple[float, ...]
    profit_loss: tuple[float, ...]
    profit_loss_pct: tuple[float, ...]
    base_value: float
    timeframe: str


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    timestamp: datetime

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: float
    size: float
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class OptionContract:
    """A listed contract (Alpaca ``/v2/options/contracts`` or ThetaData list endpoints)."""

    symbol: str  # OCC compact form, e.g. SPY251219C00600000
    underlying: str
    expiry: date
    right: Right
    strike: Decimal
    open_interest: int | None = None
    close_price: float | None = None
    tradable: bool = True


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """A contract's market and model state at one moment (snapshot row)."""

    contract: OptionContract
    bid: float | None
    ask: float | None
    last: float | None
    volume: int | None
    open_interest: int | None
    iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None  # per calendar day, per share
    vega: float | None  # per vol point, per share
    as_of: datetime | None
    rho: float | None = None

    @property
    def mid(self) -> float | None:
        if self.bid is None or self.ask is None or self.ask <= 0:
            return None
        return (self.bid + self.ask) / 2.0

    @property
    def spread(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return self.ask - self.bid


@dataclass(frozen=True, slots=True)
class OptionChain:
    underlying: str
    underlying_price: float | None
    quotes: tuple[OptionQuote, ...]
    source: str  # e.g. "alpaca:indicative", "alpaca:opra", "thetadata:v3", "simulator"
    as_of: datetime | None
    expiries: tuple[date, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """What one refresh of the Live Portfolio tab needs, fetched concurrently."""

    account: DataResult[Account]
    positions: DataResult[tuple[Position, ...]]
    open_orders: DataResult[tuple[Order, ...]]
    clock: DataResult[Clock]
    quotes: DataResult[dict[str, Quote]]
