"""Strategy Performance equity: the backtest's trades as one account would have taken them
(a fixed share of equity risked per trade, concurrent positions sharing a cap on open
risk) against an equal-weight buy-and-hold of the same symbols over the same days, their
statistics and rolling ratios.

Pure: takes finished backtest runs and their trades.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from dashboard.analytics.edge import trade_equity
from dashboard.analytics.performance import (
    PortfolioEquity,
    SizingRule,
    buy_and_hold,
    curve_stats,
    daily_equity,
    rolling_sharpe,
    rolling_sortino,
    simple_returns,
)
from dashboard.analytics.strategy import BacktestTrade, combine_methods, settlement_counts
from dashboard.conventions import NEW_YORK
from dashboard.views.formatting import grid_number as _num
from dashboard.views.strategy import BacktestRun, DateRange

START_CAPITAL = 100_000.0
ROLLING_WINDOW = 63  # trading days (a quarter) for the rolling Sharpe and Sortino
# Which run's closes stand for a symbol's daily price: the daily bars first.
_CLOSE_PREFERENCE = ("1Day", "1Hour", "15Min", "1Week", "1Month")
_DAILY_TIMEFRAMES = frozenset({"1Day", "1Hour", "15Min"})


BENCHMARK_NAME = "buy & hold (equal weight)"


def strategy_name(sizing: SizingRule) -> str:
    """The strategy curve's name: how it was sized."""
    return f"strategy ({sizing.risk_per_trade:.0%} risk/trade, ≤{sizing.max_open_risk:.0%} open)"


def benchmark_closes(runs: Sequence[BacktestRun]) -> dict[str, pd.Series]:
    """Per symbol, the daily closes of its runs, daily bars first (a finer run fills
    dates the preferred one lacks)."""
    order = {tf: i for i, tf in enumerate(_CLOSE_PREFERENCE)}
    out: dict[str, pd.Series] = {}
    for run in sorted(runs, key=lambda r: order.get(r.timeframe, len(order))):
        if run.daily_close is None or run.daily_close.empty:
            continue
        prev = out.get(run.symbol)
        out[run.symbol] = run.daily_close if prev is None else prev.combine_first(run.daily_close)
    return out


def _market_days(runs: Sequence[BacktestRun], start: pd.Timestamp, end: pd.Timestamp) -> Any:
    """Trading days to evaluate on: the dates of the daily-or-finer bars, else weekdays."""
    daily = [r.daily_close.index for r in runs if r.timeframe in _DAILY_TIMEFRAMES]
    if daily:
        days = daily[0]
        for idx in daily[1:]:
            days = days.union(idx)
        return days[(days >= start) & (days <= end)]
    return pd.bdate_range(start, end)


@dataclass(frozen=True, slots=True)
class EquityView:
    """Daily strategy equity and buy-and-hold over the same days, from the same capital,
    and the account the trades were taken in (concurrency, skipped trades)."""

    strategy: pd.Series
    benchmark: pd.Series
    account: PortfolioEquity | None = None


def equity_view(
    trades: Sequence[BacktestTrade],
    runs: Sequence[BacktestRun],
    dates: DateRange,
    sizing: SizingRule | None = None,
    start_value: float = START_CAPITAL,
) -> EquityView:
    """The trades taken as one account (``trade_equity`` under ``sizing``) sampled daily,
    and the equal-weight buy-and-hold of the runs' symbols, both starting at
    ``start_value`` on the first day both exist. The window is the date range; an open
    start begins at the first trade's entry day, an open end at the last close.
    """
    sizing = sizing or SizingRule()
    empty = pd.Series(dtype=float)
    closes = benchmark_closes(runs)
    entries = [pd.Timestamp(t.entry_time) for t in trades if t.entry_time is not None]
    last_close = max((c.index[-1] for c in closes.values() if len(c)), default=None)
    if dates.start is not None:
        start = pd.Timestamp(dates.start)
    elif entries:
        start = pd.Timestamp(min(entries).tz_convert(NEW_YORK).date())
    else:
        return EquityView(empty, empty)
    end = pd.Timestamp(dates.end) if dates.end is not None else last_close
    if end is None or start > end:
        return EquityView(empty, empty)
    days = _market_days(runs, start, end)
    # Carry the last known close onto each day (a weekly close lands on a Friday).
    bench = buy_and_hold(closes, start_value, start, end)
    bench = bench.reindex(days, method="ffill").dropna() if not bench.empty else bench
    if not bench.empty:
        days = bench.index
    account = trade_equity(trades, sizing, start_value)
    strat = daily_equity(account.equity, pd.DatetimeIndex(days), start_value)
    if not strat.empty and strat.iloc[0] != 0:
        strat = strat / strat.iloc[0] * start_value  # trades closed before day one
    return EquityView(strat.rename(strategy_name(sizing)), bench.rename(BENCHMARK_NAME), account)


def benchmark_rows(view: EquityView) -> list[dict[str, Any]]:
    """Total return, CAGR, max drawdown, Sharpe and Sortino of both daily curves."""
    rows = []
    curves = ((str(view.strategy.name), view.strategy), (BENCHMARK_NAME, view.benchmark))
    for name, curve in curves:
        if curve.empty:
            continue
        st = curve_stats(curve)
        rows.append(
            {
                "id": name,
                "curve": name,
                "total_return_pct": _num(st.total_return, 100, 2),
                "cagr_pct": _num(st.cagr, 100, 2),
                "max_drawdown_pct": _num(st.max_drawdown, 100, 2),
                "sharpe": _num(st.sharpe),
                "sortino": _num(st.sortino),
                "days": st.days,
            }
        )
    return rows


def rolling_ratios(
    view: EquityView, window: int = ROLLING_WINDOW
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Rolling Sharpe and Sortino of each curve's daily returns, keyed by curve name."""
    sharpe: dict[str, pd.Series] = {}
    sortino: dict[str, pd.Series] = {}
    for name, curve in (("Strategy", view.strategy), ("Buy & hold", view.benchmark)):
        if len(curve) < 2:
            continue
        r = simple_returns(curve)
        sharpe[name] = rolling_sharpe(r, window)
        sortino[name] = rolling_sortino(r, window)
    return sharpe, sortino


DAILY_CURVE_NOTE = "weekday curve from weekly/monthly closes carried forward"


def has_daily_runs(runs: Sequence[BacktestRun]) -> bool:
    """Whether any run has daily or finer bars (else the curve is carried forward)."""
    return any(r.timeframe in _DAILY_TIMEFRAMES for r in runs)


def method_lines(
    runs: Sequence[BacktestRun],
    trades: Sequence[BacktestTrade],
    account: PortfolioEquity | None,
    *,
    synthetic: bool,
) -> tuple[str, ...]:
    """Every assumption behind the numbers on the tab, one line each: how same-bar trades
    were settled (counted over ``trades``, the selected range), entries, exits, costs or
    the option model, sizing and concurrency, the data, and whether the market is
    synthetic."""
    method = combine_methods(
        [r.result.method for r in runs],
        equity=account,
        data_sources=sorted({r.source for r in runs}),
        synthetic=synthetic,
    )
    return replace(method, settlement_counts=settlement_counts(trades)).lines()
