"""Strategy Performance view: the pattern backtests' edge for the chosen strategy and
date range (by pattern, TFC, regime, DTE and delta), and the journal's closed trades.

Pure: takes finished backtest runs and journal trades; the tab's callbacks collect the
runs from the background jobs and render. The equity side is ``strategy_equity``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd

from dashboard.analytics.edge import (
    delta_bucket,
    dte_bucket,
    edge_by,
    edge_table,
    tfc_bucket,
    trades_between,
    trades_frame,
)
from dashboard.analytics.edge import edge_by_regime as analytics_edge_by_regime
from dashboard.analytics.performance import daily_closes, grouped_trade_stats, trade_stats
from dashboard.analytics.regimes import Regime
from dashboard.analytics.strategy import (
    DEFAULT_STRATEGY,
    MODEL_NOTE,
    BacktestResult,
    BacktestTrade,
    StrategySpec,
)
from dashboard.conventions import NEW_YORK
from dashboard.models import DataResult, DataState
from dashboard.views.formatting import grid_number as _num
from dashboard.visualizations.inputs import PatternStats

# Bars per backtest: ~10 years of days, 20 of weeks and months, what intraday data has.
LOOKBACK: Mapping[str, int] = {
    "1Month": 240,
    "1Week": 1040,
    "1Day": 2520,
    "1Hour": 2000,
    "15Min": 2000,
}
TIMEFRAMES: tuple[str, ...] = tuple(LOOKBACK)
DEFAULT_TIMEFRAMES: tuple[str, ...] = ("1Day",)
CACHE_VERSION = "v3"  # v3: intrabar settlement, tags and option costs on trades
# The timeframe a run's ambiguous bars are replayed on (the "bar magnifier"), and how many
# of its bars to read: as many as its own backtest reads, so the recent years magnify.
MAGNIFIER: Mapping[str, str] = {
    "1Month": "1Week",
    "1Week": "1Day",
    "1Day": "1Hour",
    "1Hour": "15Min",
    "15Min": "5Min",
}
MAGNIFIER_LOOKBACK = 2000


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """One strategy × symbol × timeframe backtest with where its bars came from, and the
    bars' daily closes (the buy-and-hold benchmark is built from the same bars)."""

    symbol: str
    timeframe: str
    result: BacktestResult
    source: str
    bars: int
    data_as_of: datetime | None
    strategy_id: str = DEFAULT_STRATEGY
    daily_close: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


@dataclass(frozen=True, slots=True)
class DateRange:
    """The date picker's range; ``error`` is set (and nothing else used) when invalid."""

    start: date | None = None
    end: date | None = None
    error: str | None = None


def parse_date_range(start: str | None, end: str | None) -> DateRange:
    """Dates from the picker ("YYYY-MM-DD", possibly with a time part); either may be
    empty (open end). Start after end is an error the tab shows instead of updating."""
    try:
        a = date.fromisoformat(start[:10]) if start else None
        b = date.fromisoformat(end[:10]) if end else None
    except ValueError:
        return DateRange(error=f"not a date: {start!r} – {end!r}")
    if a is not None and b is not None and a > b:
        return DateRange(a, b, f"start {a.isoformat()} is after end {b.isoformat()}")
    return DateRange(a, b)


def _interval(lo: Any, hi: Any, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    a, b = _num(lo, scale, digits), _num(hi, scale, digits)
    if a is None or b is None:
        return "—"
    return f"{a:+.{digits}f}{unit} … {b:+.{digits}f}{unit}" if unit else f"{a:g} … {b:g}"


def edge_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``edge_table`` rows for the grid: win rate in percent, R to two decimals, and each
    confidence interval as text (the sample size sits next to it)."""
    rows = []
    for r in table.to_dict("records"):
        rows.append(
            {
                "id": f"{r['pattern']}|{r['timeframe']}",
                "pattern": r["pattern"],
                "timeframe": r["timeframe"],
                "trades": int(r["trades"]),
                "win_rate_pct": _num(r["win_rate"], 100.0, 1),
                "win_rate_ci": _interval(r["win_rate_low"], r["win_rate_high"], 100.0, 1),
                "expectancy_r": _num(r["expectancy_r"]),
                "expectancy_ci": _interval(r["expectancy_low"], r["expectancy_high"], 1.0, 2, "R"),
                "profit_factor": _num(r["profit_factor"]),
                "avg_win_r": _num(r["avg_win_r"]),
                "avg_loss_r": _num(r["avg_loss_r"]),
                "total_r": _num(r["total_r"], 1.0, 1),
            }
        )
    return rows


def pattern_stats(table: pd.DataFrame, multi_timeframe: bool) -> list[PatternStats]:
    """Chart inputs from the edge table; the timeframe joins the name when several show."""
    out = []
    for r in table.to_dict("records"):
        name = f"{r['pattern']} · {r['timeframe']}" if multi_timeframe else str(r["pattern"])
        out.append(PatternStats(name, int(r["trades"]), int(r["wins"]), float(r["expectancy_r"])))
    return out


def combined_trades(
    runs: Sequence[BacktestRun], dates: DateRange | None = None
) -> list[BacktestTrade]:
    """Every run's trades, kept to those entered inside ``dates`` when given."""
    trades = [t for run in runs for t in run.result.trades]
    if dates is None or (dates.start is None and dates.end is None):
        return trades
    return trades_between(trades, dates.start, dates.end)


def journal_rows(trades: Sequence[Any]) -> list[dict[str, Any]]:
    """Closed journal trades grouped by pattern and timeframe: count, wins (realised
    P&L > 0) and realised dollars. R is not shown: the journal keeps option dollars,
    not the planned dollar risk an R needs."""
    closed = [t for t in trades if str(getattr(t, "status", "")) == "closed"]
    groups: dict[str, list[float]] = {}
    for t in closed:
        key = f"{t.pattern or '—'} · {t.timeframe or '—'}"
        groups.setdefault(key, []).append(float(t.realized_pnl))
    rows = []
    for key, pnl in sorted(groups.items()):
        s = trade_stats(pnl)  # on dollars: wins and counts only
        rows.append(
            {
                "group": key,
                "trades": s.trades,
                "wins": s.wins,
                "win_rate_pct": _num(s.win_rate, 100.0, 1),
                "realized_pnl": _num(s.total_r),
            }
        )
    return rows


def broker_day(now: datetime) -> date:
    return now.astimezone(NEW_YORK).date()


def job_key(symbol: str, timeframe: str, day: date, strategy_id: str = DEFAULT_STRATEGY) -> str:
    lower = MAGNIFIER.get(timeframe, "-")
    return (
        f"bt:{CACHE_VERSION}:{strategy_id}:{symbol}:{timeframe}:{LOOKBACK[timeframe]}:"
        f"{lower}:{day.isoformat()}"
    )


def stat_rows(table: pd.DataFrame, key: str, label: Callable[[Any], str]) -> list[dict[str, Any]]:
    """``grouped_trade_stats`` rows for a small edge grid: the group label under ``key``."""
    return [
        {
            "id": str(row["group"]),
            key: label(row["group"]),
            "trades": int(row["trades"]),
            "win_rate": _num(row["win_rate"], 100, 1),
            "expectancy_r": _num(row["expectancy_r"]),
            "expectancy_ci": _interval(row["expectancy_low"], row["expectancy_high"]),
            "profit_factor": _num(row["profit_factor"]),
        }
        for _, row in table.iterrows()
    ]


def tfc_rows(trades: Sequence[BacktestTrade]) -> list[dict[str, Any]]:
    """Closed trades by TFC at entry: aligned (every higher TF agrees) vs not."""
    table = edge_by(trades, lambda t: tfc_bucket(t.tfc_aligned))
    return stat_rows(table, "tfc", str)


def option_rows(trades: Sequence[BacktestTrade]) -> list[dict[str, Any]]:
    """Closed option trades by DTE bucket, then by |delta| bucket, at entry."""
    dte = edge_by(trades, lambda t: dte_bucket(t.dte_at_entry))
    delta = edge_by(trades, lambda t: delta_bucket(t.delta_at_entry))
    return stat_rows(dte, "bucket", str) + stat_rows(delta, "bucket", lambda g: f"|Δ| {g}")


def journal_dte_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Closed journal trades by DTE at entry: count, win rate, mean R on the premium and
    realised dollars (``journal_option_frame`` rows)."""
    rows: list[dict[str, Any]] = []
    known = frame[frame["dte_bucket"].notna()] if not frame.empty else frame
    if known.empty:
        return rows
    table = grouped_trade_stats(known, "dte_bucket")
    pnl = known.groupby("dte_bucket")["realized_pnl"].sum()
    for _, row in table.iterrows():
        rows.append(
            {
                "id": str(row["dte_bucket"]),
                "bucket": str(row["dte_bucket"]),
                "trades": int(row["trades"]),
                "win_rate": _num(row["win_rate"], 100, 1),
                "expectancy_r": _num(row["expectancy_r"]),
                "realized_pnl": _num(pnl[row["dte_bucket"]]),
            }
        )
    return rows


def period_end_closes(close: pd.Series, timeframe: str) -> pd.Series:
    """Daily closes (New York dates) of bars of ``timeframe``. A weekly or monthly bar is
    stamped at its period's start but its close is only known at the period's end, so
    every bar but the last (the current, possibly forming one) moves to its period's
    last day: the benchmark never shows a price before it was known."""
    if close.empty:
        return close.astype(float)
    daily = daily_closes(close)
    if timeframe not in ("1Week", "1Month") or len(daily) < 2:
        return daily
    idx = pd.DatetimeIndex(daily.index)
    ends = idx + (pd.Timedelta(days=4) if timeframe == "1Week" else pd.offsets.MonthEnd(0))
    moved = ends[:-1].append(idx[-1:])
    return pd.Series(daily.to_numpy(), index=moved)


def journal_in_range(trades: Sequence[Any], dates: DateRange) -> list[Any]:
    """Journal trades whose entry fill (or creation, before a fill) is inside ``dates``."""
    if dates.start is None and dates.end is None:
        return list(trades)
    out = []
    for t in trades:
        when = getattr(t, "entry_filled_at", None) or getattr(t, "created_at", None)
        if when is None:
            continue
        day = pd.Timestamp(when).tz_convert(NEW_YORK).date()
        if (dates.start is None or day >= dates.start) and (dates.end is None or day <= dates.end):
            out.append(t)
    return out


def edge_by_regime(
    trades: Sequence[BacktestTrade], regimes: pd.Series | None
) -> list[dict[str, Any]]:
    """Closed trades grouped by the market regime known before their entry (the last
    session's label: ``analytics.edge.edge_by_regime``), as grid rows."""
    table = analytics_edge_by_regime(trades, regimes)
    return stat_rows(table, "regime", _regime_label) if not table.empty else []


def _regime_label(code: Any) -> str:
    regime = Regime.parse(code)
    return regime.label if regime is not None else str(code)


def trades_csv(runs: Sequence[BacktestRun], dates: DateRange | None = None) -> str:
    """The finished runs' trades entered inside ``dates`` as CSV (every trade field,
    TFC and, for option strategies, the modelled contract)."""
    return trades_frame(combined_trades(runs, dates)).to_csv(index=False)


@dataclass(frozen=True, slots=True)
class StrategyView:
    """The edge blocks for the chosen strategy and range, from the finished runs.

    ``state`` says what the charts can show: "ready" (some runs finished), "failed"
    (only errors) or "running" (nothing finished yet).
    """

    state: Literal["ready", "failed", "running"]
    status: DataResult[object]
    pattern_stats: list[PatternStats]
    closed_r: list[float]
    edge_rows: list[dict[str, Any]]
    tfc_rows: list[dict[str, Any]]
    option_rows: list[dict[str, Any]]
    option_note: str  # why the option grid is empty, or the model's assumptions
    progress: str
    pending: list[str]


NOT_AN_OPTION_STRATEGY = (
    "pick an option strategy above: this one trades the underlying, which has no DTE or delta"
)


def strategy_view(
    runs: Sequence[BacktestRun],
    pending: Sequence[str],
    errors: Sequence[str],
    timeframes: Sequence[str],
    spec: StrategySpec,
    dates: DateRange,
    now: datetime,
) -> StrategyView:
    """Edge tables, chart inputs, status and progress from finished runs."""
    trades = combined_trades(runs, dates)
    table = edge_table(trades, by=("pattern", "timeframe"))
    closed_r = [t.r_multiple for t in trades if t.r_multiple is not None]
    source = runs[0].source if runs else "backtest"
    as_of = max((r.data_as_of for r in runs if r.data_as_of), default=None)
    if errors and not runs:
        status: DataResult[object] = DataResult(
            None, source, as_of, DataState.ERROR, "; ".join(errors)
        )
    elif errors:
        status = DataResult(trades, source, as_of, DataState.STALE, "; ".join(errors), as_of)
    elif not closed_r:
        status = DataResult(None, source, as_of or now, DataState.EMPTY)
    else:
        status = DataResult(trades, source, as_of, DataState.FRESH)
    state: Literal["ready", "failed", "running"] = (
        "ready" if runs else "failed" if errors else "running"
    )
    if not spec.is_option:
        option_note = NOT_AN_OPTION_STRATEGY
    else:
        option_note = f"modelled: {MODEL_NOTE}" if runs else ""
    found = sum(r.result.patterns_found for r in runs)
    in_range = "" if dates.start is None and dates.end is None else " in range"
    progress = (
        f"{len(runs)} backtests done · {spec.label} · {found:,} patterns (all dates) · "
        f"{len(trades):,} triggered{in_range} · {len(closed_r):,} closed"
    )
    return StrategyView(
        state=state,
        status=status,
        pattern_stats=pattern_stats(table, len(set(timeframes)) > 1),
        closed_r=closed_r,
        edge_rows=edge_rows(table),
        tfc_rows=tfc_rows(trades) if runs else [],
        option_rows=option_rows(trades) if runs and spec.is_option else [],
        option_note=option_note,
        progress=progress,
        pending=list(pending),
    )
