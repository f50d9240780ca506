"""Live Portfolio view: the broker's records in, what the tab shows out.

Account cards, position/order/fill rows, today's P&L by position (the waterfall's bars)
and the equity series. Pure: ``portfolio_view`` and ``equity_view`` take the records one
refresh read and return typed view data; the tab's callbacks do the reads and render.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, Protocol

import pandas as pd

from dashboard.analytics.performance import normalise_to
from dashboard.analytics.progress import progress_to_target
from dashboard.conventions import CONTRACT_MULTIPLIER, NEW_YORK, OPTION_MARK
from dashboard.models import (
    Account,
    Clock,
    DataResult,
    Fill,
    Order,
    PortfolioHistory,
    PortfolioSnapshot,
    Position,
    Quote,
)
from dashboard.options.occ import contract_label, parse_occ, underlying_of
from dashboard.views.formatting import format_et, format_money, format_pct, worst_of
from dashboard.views.market import market_status
from dashboard.views.read_notes import (
    asset_class_label,
    order_confirm_symbol,
    order_contract_label,
    order_leg_rows,
    order_side_label,
)

PERIODS = ("1D", "1W", "1M", "3M", "1A")  # Alpaca's period codes ("1A": one year)
# What the buttons and titles say ("1Y", not Alpaca's "1A"), and the days each period asks
# for (the equity chart says when a young account's history covers less).
PERIOD_LABELS = {"1D": "1D", "1W": "1W", "1M": "1M", "3M": "3M", "1A": "1Y"}
PERIOD_DAYS = {"1D": 1, "1W": 7, "1M": 30, "3M": 91, "1A": 365}
# Alpaca portfolio-history timeframe per period, and the bar timeframe that matches it.
HISTORY_TIMEFRAME = {"1D": "5Min", "1W": "1H", "1M": "1D", "3M": "1D", "1A": "1D"}
BAR_TIMEFRAME = {"5Min": "5Min", "1H": "1Hour", "1D": "1Day"}
BENCHMARK = "SPY"
TREND_TIMEFRAME = "5Min"
TREND_LOOKBACK = 96  # more than one regular session of 5-minute bars
FILLS_DAYS = 30
BENCH_MARGIN = timedelta(days=7)  # benchmark bars from a week before the first equity point
FILLS_SHOWN = 100  # one page of Alpaca activities: one upstream round
_SPARK = "▁▂▃▄▅▆▇█"

Tone = Literal["bull", "bear", "muted", ""]


def tone_of(value: float | None) -> Tone:
    if value is None or not math.isfinite(value) or value == 0:
        return "muted"
    return "bull" if value > 0 else "bear"


def trend_text(closes: Sequence[float]) -> str:
    """A text sparkline (▁…█) of the closes, scaled to their own range.

    AG Grid's sparkline renderer is enterprise-only; eight block characters show the
    shape of the day in a plain text cell.
    """
    vals = [float(c) for c in closes if c is not None and math.isfinite(float(c))]
    if len(vals) < 2:
        return ""
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return _SPARK[3] * len(vals)
    top = len(_SPARK) - 1
    return "".join(_SPARK[round((v - lo) / (hi - lo) * top)] for v in vals)


def session_closes(bars: pd.DataFrame | None, max_points: int = 40) -> list[float]:
    """Closes of the latest New York session in ``bars``, thinned to ``max_points``."""
    if bars is None or bars.empty:
        return []
    local = pd.DatetimeIndex(bars.index).tz_convert(NEW_YORK)
    last_day = local[-1].date()
    day = bars["close"].to_numpy()[local.date == last_day]
    if len(day) > max_points:
        step = math.ceil(len(day) / max_points)
        day = day[::step]
    return [float(x) for x in day]


# ----------------------------------------------------------------------------- cards


@dataclass(frozen=True, slots=True)
class Metric:
    """One card: a label, the value as text, a second line, and a colour tone."""

    key: str
    label: str
    value: str
    sub: str = ""
    tone: Tone = ""


_ACCOUNT_CARDS = (
    ("equity", "Equity"),
    ("day-pnl", "Today's P&L"),
    ("cash", "Cash"),
    ("buying-power", "Buying power"),
    ("options-bp", "Options buying power"),
)


def portfolio_metrics(
    account: Account | None, positions: Sequence[Position] | None, clock: Clock | None
) -> list[Metric]:
    """The card values; a missing input shows "—" on its cards rather than a zero."""
    out: list[Metric] = []
    if account is None:
        out += [
            Metric(k, label, "—", "account unavailable", "muted") for k, label in _ACCOUNT_CARDS
        ]
    else:
        pnl = float(account.day_pnl)
        out += [
            Metric(
                "equity",
                "Equity",
                format_money(account.equity),
                "last close " + format_money(account.last_equity),
            ),
            Metric(
                "day-pnl",
                "Today's P&L",
                format_money(pnl, signed=True),
                format_pct(account.day_pnl_pct),
                tone_of(pnl),
            ),
            Metric("cash", "Cash", format_money(account.cash)),
            Metric("buying-power", "Buying power", format_money(account.buying_power)),
            Metric(
                "options-bp", "Options buying power", format_money(account.options_buying_power)
            ),
        ]
    if positions is None:
        out.append(Metric("positions", "Open positions", "—", "positions unavailable", "muted"))
    else:
        n_opt = sum(1 for p in positions if p.asset_class == "us_option")
        out.append(
            Metric(
                "positions",
                "Open positions",
                str(len(positions)),
                f"{len(positions) - n_opt} stock · {n_opt} option",
            )
        )
    if clock is None:
        out.append(Metric("market", "Market", "—", "clock unavailable", "muted"))
    else:
        status = market_status(clock)
        out.append(Metric("market", "Market", status.state, status.countdown_text, status.tone))
    return out


# ----------------------------------------------------------------------------- rows


class JournalTradeLike(Protocol):
    """What the tabs read from a journal trade (``trading.journal.JournalTrade``)."""

    @property
    def contract_symbol(self) -> str: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def timeframe(self) -> str | None: ...
    @property
    def direction(self) -> str: ...
    @property
    def entry_level(self) -> float: ...
    @property
    def target_level(self) -> float: ...
    @property
    def stop_level(self) -> float: ...


def trades_by_contract(trades: Sequence[JournalTradeLike]) -> dict[str, JournalTradeLike]:
    """Active journal trades by contract symbol (how positions find their trade)."""
    return {t.contract_symbol: t for t in trades}


def trade_progress_pct(trade: JournalTradeLike, underlying_price: float | None) -> float | None:
    """Progress to T1 in % (−100 at the stop, 100 at T1), on the underlying."""
    if underlying_price is None:
        return None
    try:
        frac = progress_to_target(
            trade.direction,  # type: ignore[arg-type]
            float(trade.entry_level),
            float(underlying_price),
            float(trade.target_level),
            float(trade.stop_level),
        )
    except ValueError:
        return None
    return round(frac * 100.0, 1)


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def position_rows(
    positions: Sequence[Position],
    *,
    trends: Mapping[str, str] | None = None,
    trades: Mapping[str, JournalTradeLike] | None = None,
    underlying_prices: Mapping[str, float] | None = None,
    option_marks: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Grid rows: numbers stay numbers (the grid formats and sorts them).

    ``unrealized_plpc`` is Alpaca's fraction, shown in percent. ``trends`` are text
    sparklines by underlying; ``trades`` journal trades by position symbol.
    ``option_marks``: option mids by contract; an option position with one is marked at
    it (``conventions.OPTION_MARK``), as the Options tab marks its trades, so the two
    agree at the same instant. Day P&L stays the broker's.
    """
    trends = trends or {}
    trades = trades or {}
    prices = underlying_prices or {}
    marks = option_marks or {}
    rows = []
    for p in positions:
        under = underlying_of(p.symbol, p.asset_class)
        trade = trades.get(p.symbol)
        current, value = float(p.current_price), float(p.market_value)
        upl, upl_pct = float(p.unrealized_pl), float(p.unrealized_plpc) * 100.0
        mark = marks.get(p.symbol) if p.asset_class == "us_option" else None
        if mark is not None and math.isfinite(mark):
            qty, avg = float(p.qty), float(p.avg_entry_price)
            current = mark
            value = mark * CONTRACT_MULTIPLIER * qty
            upl = (mark - avg) * CONTRACT_MULTIPLIER * qty
            upl_pct = upl / abs(avg * CONTRACT_MULTIPLIER * qty) * 100.0 if avg and qty else 0.0
        rows.append(
            {
                "symbol": p.symbol,
                "contract": contract_label(p.symbol, p.asset_class),
                "underlying": under,
                "asset_class": asset_class_label(p.asset_class),
                "qty": float(p.qty),
                "side": p.side,
                "avg_entry": float(p.avg_entry_price),
                "current": current,
                "market_value": value,
                "unrealized_pl": upl,
                "unrealized_pct": upl_pct,
                "day_pl": float(p.unrealized_intraday_pl),
                "trend": trends.get(under, ""),
                "pattern": (
                    " ".join(x for x in (trade.pattern, trade.timeframe) if x) if trade else ""
                ),
                "progress": trade_progress_pct(trade, prices.get(under)) if trade else None,
            }
        )
    return rows


def order_rows(orders: Sequence[Order]) -> list[dict[str, Any]]:
    """Open orders, newest first. A multi-leg order is one row (its legs in ``legs`` and
    in the contract text); its ``symbol`` is what a live cancel asks to type."""
    rows = []
    for o in sorted(orders, key=lambda o: o.created_at, reverse=True):
        rows.append(
            {
                "id": o.id,
                "symbol": order_confirm_symbol(o),
                "contract": order_contract_label(o),
                "side": order_side_label(o),
                "order_class": o.order_class,
                "legs": order_leg_rows(o),
                "type": o.type,
                "qty": _f(o.qty),
                "filled_qty": float(o.filled_qty),
                "limit_price": _f(o.limit_price),
                "tif": o.time_in_force,
                "status": o.status,
                "created": format_et(o.created_at, "%m-%d %H:%M:%S"),
            }
        )
    return rows


def _is_option(symbol: str) -> bool:
    try:
        parse_occ(symbol)
    except ValueError:
        return False
    return True


def fill_rows(fills: Sequence[Fill], limit: int = FILLS_SHOWN) -> list[dict[str, Any]]:
    """Recent fills, newest first; notional = qty × price (× the multiplier for an option)."""
    out = []
    for f in sorted(fills, key=lambda f: f.transaction_time, reverse=True)[:limit]:
        is_opt = _is_option(f.symbol)
        out.append(
            {
                "id": f.id,
                "time": format_et(f.transaction_time, "%m-%d %H:%M:%S"),
                "symbol": f.symbol,
                "contract": contract_label(f.symbol),
                "side": "sell short" if f.short_sale else f.side,
                "qty": float(f.qty),
                "price": float(f.price),
                "notional": float(f.qty * f.price * (CONTRACT_MULTIPLIER if is_opt else 1)),
                "type": f.type,
            }
        )
    return out


# ----------------------------------------------------------------------------- P&L


def waterfall_parts(
    positions: Sequence[Position], account: Account | None
) -> list[tuple[str, float]]:
    """Today's P&L by position (Alpaca's ``unrealized_intraday_pl``), plus the rest.

    The account's day P&L also holds realised P&L of positions closed today and cash
    movements; that remainder is one explicit bar, so the waterfall's total is the
    account's day P&L and nothing is silently dropped.
    """
    parts = [
        (contract_label(p.symbol, p.asset_class), float(p.unrealized_intraday_pl))
        for p in positions
    ]
    if account is not None:
        rest = round(float(account.day_pnl) - math.fsum(v for _, v in parts), 2)
        if abs(rest) > rounding_tolerance(len(positions)):
            parts.append(("Closed today & other", rest))
    return parts


def rounding_tolerance(n_positions: int) -> float:
    """Half a cent per broker-rounded figure: below this a difference is rounding."""
    return 0.005 * (n_positions + 1)


@dataclass(frozen=True, slots=True)
class Waterfall:
    """Today's P&L by position, or why there is none (``empty`` / ``error`` text)."""

    parts: list[tuple[str, float]]
    total: float = 0.0
    tolerance: float = 0.0
    title: str = ""
    empty: str | None = None
    error: str | None = None


def waterfall_view(account: Account | None, positions: Sequence[Position] | None) -> Waterfall:
    if account is None or positions is None:
        reason = "account" if account is None else "positions"
        return Waterfall([], error=f"{reason} unavailable")
    if not positions and account.day_pnl == 0:
        return Waterfall([], empty="No P&L today")
    return Waterfall(
        waterfall_parts(positions, account),
        total=float(account.day_pnl),
        tolerance=rounding_tolerance(len(positions)),
        title=f"Day P&L {format_pct(account.day_pnl_pct)}",
    )


# ----------------------------------------------------------------------------- the view


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """What one refresh puts on the tab's first screen (the callback renders it)."""

    metrics: list[Metric]
    cards_status: DataResult[Any]
    position_rows: list[dict[str, Any]]
    positions_status: DataResult[Any]
    journal_note: str
    waterfall: Waterfall
    waterfall_status: DataResult[Any]


@dataclass(frozen=True, slots=True)
class OrdersView:
    """The open orders and recent fills, below the first screen."""

    order_rows: list[dict[str, Any]]
    orders_status: DataResult[Any]
    fill_rows: list[dict[str, Any]]
    fills_status: DataResult[Any]


def orders_view(
    orders: DataResult[tuple[Order, ...]], fills: DataResult[tuple[Fill, ...]]
) -> OrdersView:
    return OrdersView(
        order_rows=order_rows(orders.value or ()),
        orders_status=orders,
        fill_rows=fill_rows(fills.value or ()),
        fills_status=fills,
    )


def quote_mids(quotes: DataResult[dict[str, Quote]]) -> dict[str, float]:
    """Mid prices of two-sided quotes; a one-sided or empty quote gives no price."""
    return {sym: q.mid for sym, q in (quotes.value or {}).items() if q.bid > 0 and q.ask > 0}


def held_underlyings(positions: Sequence[Position] | None) -> list[str]:
    return sorted({underlying_of(p.symbol, p.asset_class) for p in positions or ()})


def _positions_status(snap: PortfolioSnapshot) -> DataResult[Any]:
    """The positions block's status: the worse of the positions and their quotes, keeping
    the positions read's note of records it could not show."""
    if not snap.positions.value:
        return snap.positions
    worst = worst_of(snap.positions, snap.quotes)
    return worst if worst is snap.positions else replace(worst, report=snap.positions.report)


def portfolio_view(
    snap: PortfolioSnapshot,
    trend_bars: Mapping[str, pd.DataFrame | None],
    active_trades: Sequence[JournalTradeLike] | None,
    option_marks: Mapping[str, float] | None = None,
) -> PortfolioView:
    """One refresh's records → the tab. ``trend_bars`` are the held underlyings' 5-minute
    bars; ``active_trades`` the journal's open trades, None when no journal is connected."""
    positions = snap.positions.value
    account = snap.account.value
    held = set(held_underlyings(positions))
    trends = {
        sym: trend_text(session_closes(bars)) for sym, bars in trend_bars.items() if sym in held
    }
    trades = trades_by_contract(active_trades) if active_trades is not None else None
    if trades is None:
        note = "journal not connected: pattern and progress unavailable"
    else:
        linked = sum(1 for p in positions or () if p.symbol in trades)
        note = f"journal: {linked} of {len(positions or ())} positions linked to a trade"
    if option_marks:
        note += f" · options marked at the quote {OPTION_MARK}, as on the Options tab"
    rows = position_rows(
        positions or (),
        trends=trends,
        trades=trades,
        underlying_prices=quote_mids(snap.quotes),
        option_marks=option_marks,
    )
    return PortfolioView(
        metrics=portfolio_metrics(account, positions, snap.clock.value),
        cards_status=worst_of(snap.account, snap.positions, snap.clock),
        position_rows=rows,
        positions_status=_positions_status(snap),
        journal_note=note,
        waterfall=waterfall_view(account, positions),
        waterfall_status=worst_of(snap.account, snap.positions),
    )


# ----------------------------------------------------------------------------- equity


def history_series(history: PortfolioHistory) -> pd.Series:
    """Equity by time; points where equity is zero or missing (before the account was
    funded, or a closed market in Alpaca's intraday history) are dropped."""
    idx = pd.DatetimeIndex(list(history.timestamps))
    s = pd.Series(list(history.equity), index=idx, dtype=float, name="equity")
    return s[s > 0].dropna()


@dataclass(frozen=True, slots=True)
class EquityView:
    """The equity curve and the benchmark rebased to its first point, or why not."""

    equity: pd.Series
    benchmark: pd.Series | None
    title: str
    empty: str | None = None


def equity_view(
    history: PortfolioHistory, bench_bars: pd.DataFrame | None, period: str
) -> EquityView:
    """Equity for ``period`` and SPY rebased to the first equity point (the benchmark
    bars must start at or before it: the caller reads from ``BENCH_MARGIN`` earlier)."""
    equity = history_series(history)
    if equity.empty:
        label = PERIOD_LABELS.get(period, period)
        return EquityView(equity, None, "", empty=f"No equity history for {label}")
    bench = None
    if bench_bars is not None and not bench_bars.empty:
        bench = normalise_to(bench_bars["close"], equity).rename(BENCHMARK)
    return EquityView(equity, bench, f"Equity · {PERIOD_LABELS.get(period, period)}")


# ----------------------------------------------------------------------------- cancel


def cancel_refusal(is_live: bool, order_symbol: str, confirmation: str | None) -> str | None:
    """Why a cancel may not be sent yet, or None.

    A cancel only ever removes risk, but on a live account every action on real money is
    confirmed by typing: here, the order's symbol.
    """
    if not is_live:
        return None
    if (confirmation or "").strip().upper() != order_symbol.strip().upper():
        return f"Live account: type {order_symbol} to confirm the cancel."
    return None
