"""Typed records that cross from the data layer into the core and the UI.

Callbacks never see raw JSON: clients parse Alpaca and ThetaData replies into these.
Money fields use ``Decimal`` where Alpaca sends exact strings (account, qty, prices on
orders and positions), so fractional quantities and cents survive the round trip.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from dashboard.conventions import Right

T = TypeVar("T")

# Alpaca's asset classes the app models (alpaca-py ``AssetClass``); a position in any
# other class is kept aside with a note instead of breaking the positions read.
AssetClass = Literal["us_equity", "us_option", "crypto", "crypto_perp"]
ASSET_CLASSES: tuple[AssetClass, ...] = ("us_equity", "us_option", "crypto", "crypto_perp")
Side = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class Skipped:
    """Records of one kind a read left out for one reason (``reason`` is safe to show)."""

    kind: str  # "position", "order", "fill", "option contract", "chain row"
    reason: str  # e.g. "unknown asset class 'x'", "missing field 'qty'"
    count: int = 1


@dataclass(frozen=True, slots=True)
class ParseReport:
    """What a list read received and which records it could not use, grouped by reason.

    One unusable record never breaks a list: it is counted here instead, so a status
    line can say "2 records not shown: unknown asset class 'x'".
    """

    received: int = 0
    skipped: tuple[Skipped, ...] = ()

    @property
    def skipped_count(self) -> int:
        return sum(s.count for s in self.skipped)

    @property
    def clean(self) -> bool:
        return not self.skipped

    def __add__(self, other: ParseReport) -> ParseReport:
        counts: dict[tuple[str, str], int] = {}
        for s in (*self.skipped, *other.skipped):
            counts[(s.kind, s.reason)] = counts.get((s.kind, s.reason), 0) + s.count
        return ParseReport(
            received=self.received + other.received,
            skipped=tuple(Skipped(k, r, n) for (k, r), n in counts.items()),
        )


NO_SKIPS = ParseReport()


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """The records a list read could use plus the report of those it could not.

    Iterable and sized like the tuple it wraps, so callers that only walk the records
    need not change.
    """

    items: tuple[T, ...]
    report: ParseReport = NO_SKIPS

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


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
    report: ParseReport = NO_SKIPS  # records of a list read that are not shown, and why

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
    asset_class: AssetClass
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
class OrderLeg:
    """One leg of a multi-leg (``mleg``) order: Alpaca puts the contract and side here."""

    id: str
    symbol: str
    asset_class: str
    side: Side
    ratio_qty: Decimal  # contracts of this leg per unit of the order's qty
    status: str
    position_intent: str | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """An order. A multi-leg order (``order_class == "mleg"``) has no top-level
    ``symbol``, ``side`` or ``asset_class`` (Alpaca sends them empty): its ``legs`` carry
    them, and ``qty``/``limit_price`` are for the whole spread (net price per unit)."""

    id: str
    client_order_id: str
    symbol: str | None  # None for mleg orders
    asset_class: str | None  # None for mleg orders
    side: Side | None  # None for mleg orders
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
    order_class: str = "simple"  # simple | bracket | oco | oto | mleg
    legs: tuple[OrderLeg, ...] = ()
    stop_price: Decimal | None = None

    @property
    def is_multileg(self) -> bool:
        return self.order_class == "mleg"


@dataclass(frozen=True, slots=True)
class Fill:
    id: str
    order_id: str
    symbol: str
    side: Side  # a short sale ("sell_short") is a sell with ``short_sale`` set
    qty: Decimal
    price: Decimal
    transaction_time: datetime
    type: str = "fill"  # fill | partial_fill
    leaves_qty: Decimal = Decimal(0)
    cum_qty: Decimal = Decimal(0)
    short_sale: bool = False


@dataclass(frozen=True, slots=True)
class Asset:
    """A security the broker lists (``GET /v2/assets/{symbol}``; alpaca-py ``Asset``)."""

    symbol: str
    name: str | None
    asset_class: str  # "us_equity", "us_option", "crypto", … (kept as sent)
    exchange: str
    status: str  # "active" | "inactive"
    tradable: bool
    attributes: tuple[str, ...] | None  # e.g. "has_options"; None when not sent

    @property
    def has_options(self) -> bool | None:
        """Whether the broker lists options on it; None when the record does not say."""
        return None if self.attributes is None else "has_options" in self.attributes


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
    rho: float | None = None  # per 1 percentage point of rate, per share

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


GreekName = Literal["iv", "delta", "gamma", "theta", "vega", "rho"]
GREEK_NAMES: tuple[GreekName, ...] = ("iv", "delta", "gamma", "theta", "vega", "rho")


@dataclass(frozen=True, slots=True)
class GreeksCoverage:
    """Which greeks a chain source served, and why any are missing.

    ThetaData sells greeks by subscription: Value has none, Standard has IV and the
    first-order greeks (no gamma), Pro has all. ``tier`` is what the client found out
    (None while unknown); ``missing`` lists the greeks the chain lacks for that reason.
    """

    source: str  # "thetadata:v3"
    tier: str | None  # "pro" | "standard" | "value" | None (not known yet)
    endpoint: str | None  # the greeks endpoint that answered, e.g. "greeks/first_order"
    missing: tuple[GreekName, ...] = ()
    reason: str = ""  # safe to show, e.g. "gamma needs a ThetaData Pro subscription"


@dataclass(frozen=True, slots=True)
class OptionChain:
    underlying: str
    underlying_price: float | None
    quotes: tuple[OptionQuote, ...]
    source: str  # e.g. "alpaca:indicative", "alpaca:opra", "thetadata:v3", "simulator"
    as_of: datetime | None
    expiries: tuple[date, ...] = field(default=())
    report: ParseReport = NO_SKIPS  # chain rows left out, and why
    greeks: GreeksCoverage | None = None  # None: the source always sends every greek


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """What one refresh of the Live Portfolio tab needs, fetched concurrently."""

    account: DataResult[Account]
    positions: DataResult[tuple[Position, ...]]
    open_orders: DataResult[tuple[Order, ...]]
    clock: DataResult[Clock]
    quotes: DataResult[dict[str, Quote]]
