"""Alpaca JSON → ``models.py`` records (pure; no I/O).

Alpaca sends money and quantities as strings; they become ``Decimal`` so fractional
shares and cents survive. A single record with a missing or mistyped field raises, so
no half record is ever shown; a *list* is parsed record by record (``parse_records``),
so one record the app cannot use (an unknown asset class, a malformed row) is counted
in a ``ParseReport`` and never breaks the rest of the list. A reply that is not a list
at all still raises ``BadResponse``, so the data service keeps the last good value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from dashboard.data_loaders.errors import BadResponse
from dashboard.models import (
    ASSET_CLASSES,
    Account,
    Asset,
    Clock,
    Fill,
    OptionContract,
    OptionQuote,
    Order,
    OrderLeg,
    Parsed,
    ParseReport,
    PortfolioHistory,
    Position,
    Quote,
    Side,
    Skipped,
    Trade,
)
from dashboard.options.occ import parse_occ

__all__ = [
    "ReportLog",
    "Unusable",
    "epoch_to_datetime",
    "parse_account",
    "parse_clock",
    "parse_contract",
    "parse_each",
    "parse_fill",
    "parse_option_snapshot",
    "parse_order",
    "parse_portfolio_history",
    "parse_position",
    "parse_quote",
    "parse_records",
    "parse_trade",
    "parsed",
    "skip_reason",
    "to_datetime",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
SHAPE_ERRORS = (KeyError, TypeError, ValueError, InvalidOperation, AttributeError)
# Epoch values above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
EPOCH_MS_THRESHOLD = 1e11
_SHOWN_VALUE_CHARS = 40  # an unknown value is quoted in notes and logs, cut to this


class Unusable(ValueError):
    """A well-formed record the app knows it cannot use; the message is safe to show."""


def _shown(value: Any) -> str:
    """A vendor value quoted for a note or a log line, never long."""
    text = str(value)
    if len(text) > _SHOWN_VALUE_CHARS:
        text = text[: _SHOWN_VALUE_CHARS - 1] + "…"
    return repr(text)


def skip_reason(exc: BaseException) -> str:
    """Why a record was left out, in words safe to show (no record contents but the
    offending field's name or an unknown enumeration value)."""
    if isinstance(exc, Unusable):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {_shown(exc.args[0] if exc.args else '?')}"
    if isinstance(exc, InvalidOperation):
        return "malformed number"
    if isinstance(exc, TypeError):
        return "malformed record (a field has the wrong type)"
    return f"malformed record ({str(exc)[:60]})"


def parse_records(
    rows: Any, fn: Callable[[Any], T], kind: str, *, received: int | None = None
) -> Parsed[T]:
    """Parse each element of a JSON list on its own; the ones ``fn`` rejects are counted.

    ``rows`` that is not a list raises ``TypeError`` (the caller's ``parsed`` turns that
    into ``BadResponse``): a reply of the wrong shape is an error, a bad record is not.
    """
    if not isinstance(rows, list):
        raise TypeError(f"expected a JSON list of {kind} records, got {type(rows).__name__}")

    def one(row: Any) -> T:
        if not isinstance(row, Mapping):
            raise Unusable("not a JSON object")
        return fn(row)

    return parse_each(rows, one, kind, received=received)


def parse_each(
    rows: Iterable[Any], fn: Callable[[Any], T], kind: str, *, received: int | None = None
) -> Parsed[T]:
    """``fn`` over ``rows``, each on its own; rejected rows are counted by reason."""
    items: list[T] = []
    counts: dict[str, int] = {}
    n = 0
    for row in rows:
        n += 1
        try:
            items.append(fn(row))
        except SHAPE_ERRORS as exc:
            reason = skip_reason(exc)
            counts[reason] = counts.get(reason, 0) + 1
    report = ParseReport(
        received=n if received is None else received,
        skipped=tuple(Skipped(kind, r, c) for r, c in counts.items()),
    )
    return Parsed(tuple(items), report)


class ReportLog:
    """Logs each (kind, reason) of skipped records once per client, so an account that
    holds one unusable record does not write a warning on every refresh."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._seen: set[tuple[str, str]] = set()

    def note(self, report: ParseReport) -> None:
        for s in report.skipped:
            key = (s.kind, s.reason)
            if key in self._seen:
                continue
            self._seen.add(key)
            log.warning(
                "%s: %d × %s not shown: %s (logged once)",
                self.source,
                s.count,
                s.kind,
                s.reason,
            )


def parsed(fn: Callable[..., T], *args: Any, source: str = "") -> T:
    """Call a parser, turning shape errors into ``BadResponse``."""
    try:
        return fn(*args)
    except SHAPE_ERRORS as exc:
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


def epoch_to_datetime(value: Any) -> datetime:
    """Unix epoch seconds *or* milliseconds, told apart by magnitude → aware UTC.

    Alpaca's portfolio history says seconds, and real replies send seconds, but its own
    docs sample sends 13-digit milliseconds; both read the same here.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("epoch timestamp is not a number")
    number = float(value)
    if number != number or abs(number) == float("inf"):
        raise ValueError("epoch timestamp is not finite")
    if abs(number) >= EPOCH_MS_THRESHOLD:
        number /= 1000.0
    return datetime.fromtimestamp(number, UTC)


def to_datetime(value: Any) -> datetime:
    """RFC 3339 with up to nanoseconds, ``Z`` or an offset → aware UTC datetime."""
    if isinstance(value, (int, float)):
        return epoch_to_datetime(value)
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
        raise Unusable(f"unknown position side {_shown(side)}")
    asset_class = str(d.get("asset_class") or "us_equity")
    if asset_class not in ASSET_CLASSES:
        raise Unusable(f"unknown asset class {_shown(asset_class)}")
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


# Alpaca's sides beyond buy/sell (alpaca-py ``OrderSide``): a short sale is a sell.
_SIDES: dict[str, Side] = {
    "buy": "buy",
    "sell": "sell",
    "sell_short": "sell",
    "sell_short_exempt": "sell",
}
_SHORT_SIDES = frozenset({"sell_short", "sell_short_exempt"})


def _side(value: Any, what: str) -> Side:
    side = _SIDES.get(str(value).lower())
    if side is None:
        raise Unusable(f"unknown {what} side {_shown(value)}")
    return side


def _blank(value: Any) -> bool:
    return value is None or value == ""


def parse_order_leg(d: Mapping[str, Any], *, multileg: bool = True) -> OrderLeg:
    """A leg under ``legs``: of an ``mleg`` order (legs omit ``type``; ``ratio_qty``
    sizes the leg, per unit of the order's qty), or a bracket/OCO/OTO child order when
    Alpaca nests one (its own ``qty``)."""
    ratio = d.get("ratio_qty") if multileg else None
    if _blank(ratio):
        ratio = d.get("qty")
    if _blank(ratio) and not multileg:
        ratio = 0  # a child order without its own qty (a notional parent)
    return OrderLeg(
        id=str(d["id"]),
        symbol=str(d["symbol"]),
        asset_class=str(d.get("asset_class") or ("us_option" if multileg else "us_equity")),
        side=_side(d["side"], "leg"),
        ratio_qty=dec(ratio),
        status=str(d.get("status") or ""),
        position_intent=d.get("position_intent") or None,
        filled_qty=dec_or(d.get("filled_qty"), Decimal(0)) or Decimal(0),
        filled_avg_price=dec_or(d.get("filled_avg_price")),
    )


def parse_order(d: Mapping[str, Any]) -> Order:
    """A simple, bracket/OCO/OTO or multi-leg order.

    An ``mleg`` order has empty ``symbol``, ``side`` and ``asset_class`` at the top level
    (alpaca-py's ``Order`` docstring; Alpaca's docs example sends ``""``): they are None
    here and the legs carry them. Any other order must have all three (a leg listed on
    its own is read like a simple order; ``get_orders`` drops it beside its parent).
    """
    order_class = str(d.get("order_class") or "simple")
    multileg = order_class == "mleg"
    raw_legs = d.get("legs") or []
    if not isinstance(raw_legs, list):
        raise TypeError("legs is not a list")
    legs = tuple(parse_order_leg(x, multileg=multileg) for x in raw_legs)
    if multileg and not legs and _blank(d.get("symbol")):
        raise Unusable("multi-leg order without legs")
    if multileg and legs:
        symbol = None if _blank(d.get("symbol")) else str(d["symbol"])
        side = None if _blank(d.get("side")) else _side(d["side"], "order")
        asset_class = None if _blank(d.get("asset_class")) else str(d["asset_class"])
    else:
        symbol = str(d["symbol"])
        side = _side(d["side"], "order")
        asset_class = str(d.get("asset_class") or "us_equity")
    otype = d.get("type") or d.get("order_type")
    return Order(
        id=str(d["id"]),
        client_order_id=str(d.get("client_order_id") or ""),
        symbol=symbol,
        asset_class=asset_class,
        side=side,
        type=str(otype) if not _blank(otype) else "",
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
        position_intent=d.get("position_intent") or None,
        order_class=order_class,
        legs=legs,
        stop_price=dec_or(d.get("stop_price")),
    )


def parse_fill(d: Mapping[str, Any]) -> Fill:
    """A FILL activity; ``sell_short`` (reported by users of Alpaca's API) is a sell."""
    kind = d.get("activity_type")
    if kind is not None and str(kind).upper() != "FILL":
        raise Unusable(f"not a fill (activity type {_shown(kind)})")
    raw_side = str(d["side"])
    return Fill(
        id=str(d["id"]),
        order_id=str(d["order_id"]),
        symbol=str(d["symbol"]),
        side=_side(raw_side, "fill"),
        qty=dec(d["qty"]),
        price=dec(d["price"]),
        transaction_time=to_datetime(d["transaction_time"]),
        type=str(d.get("type") or "fill"),
        leaves_qty=dec_or(d.get("leaves_qty"), Decimal(0)) or Decimal(0),
        cum_qty=dec_or(d.get("cum_qty"), Decimal(0)) or Decimal(0),
        short_sale=raw_side.lower() in _SHORT_SIDES,
    )


def parse_asset(d: Mapping[str, Any]) -> Asset:
    """An asset record; ``class``, ``symbol``, ``status`` and ``tradable`` are required."""
    tradable = d["tradable"]
    if not isinstance(tradable, bool):
        raise TypeError("tradable is not a boolean")
    symbol = d["symbol"]
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError("symbol is missing")
    attributes = d.get("attributes")
    if attributes is not None and not isinstance(attributes, list):
        raise TypeError("attributes is not a list")
    name = d.get("name")
    return Asset(
        symbol=symbol.strip().upper(),
        name=str(name) if name else None,
        asset_class=str(d["class"]),
        exchange=str(d.get("exchange") or ""),
        status=str(d["status"]),
        tradable=tradable,
        attributes=None if attributes is None else tuple(str(a) for a in attributes),
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
    """Arrays by timestamp; epoch seconds or milliseconds (see ``epoch_to_datetime``)."""
    ts = tuple(epoch_to_datetime(t) for t in d["timestamp"])

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
    right = {"call": "C", "put": "P"}.get(str(d["type"]).lower())
    if right is None:
        raise Unusable(f"unknown option type {_shown(d['type'])}")
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
    """One v1beta1 snapshot (``latestQuote``, ``latestTrade``, ``greeks``, IV).

    Alpaca's greeks are already in the model's units (theta per calendar day, vega per
    vol point, rho per 1% of rate), so they pass through unscaled.
    """
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
