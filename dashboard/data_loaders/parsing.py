"""Alpaca JSON → ``models.py`` records (pure; no I/O).

Alpaca sends money and quantities as strings; they become ``Decimal`` so fractional
shares and cents survive. A missing or mistyped field raises ``BadResponse`` so the data
service can keep the last good value instead of showing half a record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from dashboard.data_loaders.errors import BadResponse
from dashboard.models import (
    Account,
    Clock,
    Fill,
    OptionContract,
    OptionQuote,
    Order,
    PortfolioHistory,
    Position,
    Quote,
    Trade,
)
from dashboard.options.occ import parse_occ

__all__ = [
    "parse_account",
    "parse_clock",
    "parse_contract",
    "parse_fill",
    "parse_option_snapshot",
    "parse_order",
    "parse_portfolio_history",
    "parse_position",
    "parse_quote",
    "parse_trade",
    "parsed",
    "to_datetime",
]

T = TypeVar("T")


def parsed(fn: Callable[..., T], *args: Any, source: str = "") -> T:
    """Call a parser, turning shape errors into ``BadResponse``."""
    try:
        return fn(*args)
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
        raise BadResponse(
            f"unexpected response shape ({type(exc).__name__}: {exc})", source=source
        ) from None


def dec(value: Any) -> Decimal:
    if value is None or value == "":
        raise ValueError("missing number")
    return Decimal(str(value))


def dec_or(value: Any, default: Decimal | None = None) -> Decimal | None:
    return default if value is None or value == "" else Decimal(str(value))


def flt_or(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def to_datetime(value: Any) -> datetime:
    """RFC 3339 with up to nanoseconds, ``Z`` or an offset → aware UTC datetime."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        n = 0
        while n < len(rest) and rest[n].isdigit():
            n += 1
        text = f"{head}.{rest[:n][:6]}{rest[n:]}"  # fromisoformat takes ≤ 6 digits
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def dt_or(value: Any) -> datetime | None:
    return None if value in (None, "") else to_datetime(value)


def parse_account(d: Mapping[str, Any]) -> Account:
    level = d.get("options_trading_level", d.get("options_approved_level"))
    return Account(
        account_number=str(d["account_number"]),
        status=str(d["status"]),
        currency=str(d.get("currency") or "USD"),
        cash=dec(d["cash"]),
        equity=dec(d["equity"]),
        last_equity=dec(d["last_equity"]),
        portfolio_value=dec(d.get("portfolio_value", d["equity"])),
        buying_power=dec(d["buying_power"]),
        options_buying_power=dec(d.get("options_buying_power", d["buying_power"])),
        long_market_value=dec_or(d.get("long_market_value"), Decimal(0)) or Decimal(0),
        short_market_value=dec_or(d.get("short_market_value"), Decimal(0)) or Decimal(0),
        trading_blocked=bool(d.get("trading_blocked", False)),
        pattern_day_trader=bool(d.get("pattern_day_trader", False)),
        options_trading_level=None if level is None else int(level),
    )


def parse_position(d: Mapping[str, Any]) -> Position:
    side = str(d["side"])
    if side not in ("long", "short"):
        raise ValueError(f"position side {side!r}")
    asset_class = str(d.get("asset_class") or "us_equity")
    if asset_class not in ("us_equity", "us_option"):
        raise ValueError(f"asset class {asset_class!r}")
    zero = Decimal(0)
    return Position(
        symbol=str(d["symbol"]),
        asset_class=asset_class,  # type: ignore[arg-type]
        qty=dec(d["qty"]),
        side=side,  # type: ignore[arg-type]
        avg_entry_price=dec(d["avg_entry_price"]),
        current_price=dec_or(d.get("current_price"), zero) or zero,
        lastday_price=dec_or(d.get("lastday_price"), zero) or zero,
        market_value=dec_or(d.get("market_value"), zero) or zero,
        cost_basis=dec(d["cost_basis"]),
        unrealized_pl=dec_or(d.get("unrealized_pl"), zero) or zero,
        unrealized_plpc=dec_or(d.get("unrealized_plpc"), zero) or zero,
        unrealized_intraday_pl=dec_or(d.get("unrealized_intraday_pl"), zero) or zero,
        change_today=dec_or(d.get("change_today"), zero) or zero,
    )


def parse_order(d: Mapping[str, Any]) -> Order:
    side = str(d["side"])
    if side not in ("buy", "sell"):
        raise ValueError(f"order side {side!r}")
    return Order(
        id=str(d["id"]),
        client_order_id=str(d.get("client_order_id") or ""),
        symbol=str(d["symbol"]),
        asset_class=str(d.get("asset_class") or "us_equity"),
        side=side,  # type: ignore[arg-type]
        type=str(d.get("type") or d.get("order_type")),
        time_in_force=str(d["time_in_force"]),
        status=str(d["status"]),
        qty=dec_or(d.get("qty")),
        filled_qty=dec_or(d.get("filled_qty"), Decimal(0)) or Decimal(0),
        limit_price=dec_or(d.get("limit_price")),
        filled_avg_price=dec_or(d.get("filled_avg_price")),
        created_at=to_datetime(d["created_at"]),
        submitted_at=dt_or(d.get("submitted_at")),
        filled_at=dt_or(d.get("filled_at")),
        canceled_at=dt_or(d.get("canceled_at")),
        position_intent=d.get("position_intent"),
    )


def parse_fill(d: Mapping[str, Any]) -> Fill:
    side = str(d["side"])
    if side not in ("buy", "sell"):
        raise ValueError(f"fill side {side!r}")
    return Fill(
        id=str(d["id"]),
        order_id=str(d["order_id"]),
        symbol=str(d["symbol"]),
        side=side,  # type: ignore[arg-type]
        qty=dec(d["qty"]),
        price=dec(d["price"]),
        transaction_time=to_datetime(d["transaction_time"]),
        type=str(d.get("type") or "fill"),
        leaves_qty=dec_or(d.get("leaves_qty"), Decimal(0)) or Decimal(0),
        cum_qty=dec_or(d.get("cum_qty"), Decimal(0)) or Decimal(0),
    )


def parse_clock(d: Mapping[str, Any]) -> Clock:
    is_open = d["is_open"]
    if not isinstance(is_open, bool):
        raise TypeError("is_open is not a boolean")
    return Clock(
        timestamp=to_datetime(d["timestamp"]),
        is_open=is_open,
        next_open=to_datetime(d["next_open"]),
        next_close=to_datetime(d["next_close"]),
    )


def parse_portfolio_history(d: Mapping[str, Any]) -> PortfolioHistory:
    ts = tuple(datetime.fromtimestamp(int(t), UTC) for t in d["timestamp"])

    def floats(name: str) -> tuple[float, ...]:
        vals = d.get(name) or []
        if len(vals) != len(ts):
            raise ValueError(f"{name} has {len(vals)} values for {len(ts)} timestamps")
        return tuple(float("nan") if v is None else float(v) for v in vals)

    return PortfolioHistory(
        timestamps=ts,
        equity=floats("equity"),
        profit_loss=floats("profit_loss"),
        profit_loss_pct=floats("profit_loss_pct"),
        base_value=float(d.get("base_value") or 0.0),
        timeframe=str(d.get("timeframe") or ""),
    )


def parse_quote(symbol: str, d: Mapping[str, Any]) -> Quote:
    return Quote(
        symbol=symbol,
        bid=float(d["bp"]),
        ask=float(d["ap"]),
        bid_size=float(d.get("bs") or 0),
        ask_size=float(d.get("as") or 0),
        timestamp=to_datetime(d["t"]),
    )


def parse_trade(symbol: str, d: Mapping[str, Any]) -> Trade:
    return Trade(
        symbol=symbol,
        price=float(d["p"]),
        size=float(d.get("s") or 0),
        timestamp=to_datetime(d["t"]),
    )


def parse_contract(d: Mapping[str, Any]) -> OptionContract:
    right = {"call": "C", "put": "P"}[str(d["type"]).lower()]
    oi = d.get("open_interest")
    return OptionContract(
        symbol=str(d["symbol"]),
        underlying=str(d.get("underlying_symbol") or d.get("root_symbol")),
        expiry=date.fromisoformat(str(d["expiration_date"])[:10]),
        right=right,  # type: ignore[arg-type]
        strike=dec(d["strike_price"]),
        open_interest=None if oi in (None, "") else int(Decimal(str(oi))),
        close_price=flt_or(d.get("close_price")),
        tradable=bool(d.get("tradable", True)),
    )


def parse_option_snapshot(symbol: str, d: Mapping[str, Any]) -> OptionQuote:
    """One v1beta1 snapshot (``latestQuote``, ``latestTrade``, ``greeks``, IV)."""
    occ = parse_occ(symbol)
    contract = OptionContract(
        symbol=symbol, underlying=occ.root, expiry=occ.expiry, right=occ.right, strike=occ.strike
    )
    q = d.get("latestQuote") or {}
    t = d.get("latestTrade") or {}
    g = d.get("greeks") or {}
    day = d.get("dailyBar") or {}
    stamp = q.get("t") or t.get("t")
    vol = day.get("v")
    return OptionQuote(
        contract=contract,
        bid=flt_or(q.get("bp")),
        ask=flt_or(q.get("ap")),
        last=flt_or(t.get("p")),
        volume=None if vol is None else int(vol),
        open_interest=None,
        iv=flt_or(d.get("impliedVolatility")),
        delta=flt_or(g.get("delta")),
        gamma=flt_or(g.get("gamma")),
        theta=flt_or(g.get("theta")),
        vega=flt_or(g.get("vega")),
        as_of=None if stamp is None else to_datetime(stamp),
        rho=flt_or(g.get("rho")),
    )
