"""STRAT pattern backtest and edge analytics (issue 10, Strategy Performance tab).

The backtest reuses the live engine rather than a second implementation: patterns come
from ``strat.detect_patterns`` (closed bars up to the setup bar only) and their fate from
``strat.evaluate_setups`` (intrabar trigger on a bar *after* the setup bar, T1 or stop,
both in one bar → stop). So a backtest trade is exactly what the live scanner and exit
monitor would have done. On top of that it prices fills:

- entry at the trigger level, or at the open when the trigger bar gaps through it;
- exit at T1 or the stop, or at the open when a later bar gaps through the level;
- optionally a time exit at the close ``max_hold_bars`` after the trigger bar.

R is the trade's P&L over its initial risk (fill to stop), so a gap entry shows as a
worse R instead of disappearing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from dashboard.analytics.performance import grouped_trade_stats
from dashboard.strat.patterns import LevelConfig, detect_patterns
from dashboard.strat.setups import evaluate_setups
from dashboard.strat.signals import Direction, Setup, SetupStatus

__all__ = [
    "BacktestResult",
    "BacktestTrade",
    "backtest_patterns",
    "edge_table",
    "r_equity_curve",
    "trades_frame",
]

Outcome = Literal["target", "stop", "time", "open"]


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    """One triggered setup and how it ended. ``r_multiple`` is None while still open."""

    symbol: str | None
    timeframe: str | None
    pattern: str  # "2-1-2", "3-1-2", ...
    label: str  # "2D-1-2U", ...
    kind: str  # reversal | continuation | actionable
    direction: Direction
    setup_index: int
    entry_index: int
    exit_index: int | None
    setup_time: datetime | None
    entry_time: datetime | None
    exit_time: datetime | None
    entry_price: float  # the fill
    stop_price: float
    target_price: float | None
    exit_price: float | None
    outcome: Outcome
    r_multiple: float | None
    bars_held: int | None  # exit bar − entry bar (0 = same bar)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Trades plus the funnel behind them (patterns found → triggered → closed)."""

    trades: tuple[BacktestTrade, ...]
    patterns_found: int
    triggered: int
    expired: int
    pending: int

    @property
    def closed(self) -> tuple[BacktestTrade, ...]:
        return tuple(t for t in self.trades if t.r_multiple is not None)


def _ts(times: np.ndarray | None, i: int | None) -> datetime | None:
    if i is None or times is None:
        return None
    return times[i]


def _trade(
    s: Setup,
    o: np.ndarray,
    c: np.ndarray,
    times: np.ndarray | None,
    *,
    last_closed: int,
    max_hold_bars: int | None,
    gap_fills: bool,
) -> BacktestTrade:
    p = s.pattern
    trig = s.triggered_index
    assert trig is not None
    sgn = 1.0 if p.direction == "long" else -1.0
    entry, stop = p.entry.price, p.stop.price
    t1 = p.targets[0].price if p.targets else None
    notes = list(s.notes)

    fill = entry
    if gap_fills and sgn * (o[trig] - entry) > 0:
        fill = float(o[trig])
        notes.append("trigger bar opened through the entry; filled at the open")

    outcome: Outcome = "open"
    exit_i: int | None = None
    exit_px: float | None = None
    res = s.resolved_index
    time_limit = None if max_hold_bars is None else trig + max_hold_bars
    if time_limit is not None and (res is None or res > time_limit) and time_limit <= last_closed:
        outcome, exit_i, exit_px = "time", time_limit, float(c[time_limit])
    elif res is not None and s.status is SetupStatus.STOPPED:
        outcome, exit_i, exit_px = "stop", res, stop
        if gap_fills and res > trig and sgn * (o[res] - stop) < 0:
            exit_px = float(o[res])
            notes.append("opened through the stop; exited at the open")
    elif res is not None and s.status is SetupStatus.TARGET_HIT and t1 is not None:
        outcome, exit_i, exit_px = "target", res, t1
        if res == trig and sgn * (fill - t1) >= 0:
            exit_px = fill
            notes.append("filled beyond T1; exited at the fill")
        elif gap_fills and res > trig and sgn * (o[res] - t1) > 0:
            exit_px = float(o[res])
            notes.append("opened through T1; exited at the open")

    risk = sgn * (fill - stop)
    r = None if exit_px is None else sgn * (exit_px - fill) / risk
    return BacktestTrade(
        symbol=p.symbol,
        timeframe=p.timeframe,
        pattern=p.name,
        label=p.label,
        kind=p.kind,
        direction=p.direction,
        setup_index=p.setup_index,
        entry_index=trig,
        exit_index=exit_i,
        setup_time=_ts(times, p.setup_index),
        entry_time=_ts(times, trig),
        exit_time=_ts(times, exit_i),
        entry_price=fill,
        stop_price=stop,
        target_price=t1,
        exit_price=exit_px,
        outcome=outcome,
        r_multiple=None if r is None else float(r),
        bars_held=None if exit_i is None else exit_i - trig,
        notes=tuple(notes),
    )


def backtest_patterns(
    bars: pd.DataFrame,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    config: LevelConfig = LevelConfig(),
    expire_after: int | None = 3,
    max_hold_bars: int | None = None,
    patterns: Sequence[str] | None = None,
    gap_fills: bool = True,
    tick: float = 0.01,
    last_bar_closed: bool = True,
) -> BacktestResult:
    """Bar-by-bar STRAT backtest over OHLC ``bars`` (columns open/high/low/close).

    ``patterns`` keeps only those pattern names (e.g. ``["2-1-2", "3-1-2"]``).
    ``expire_after``: an untriggered setup expires after that many bars (live rule).
    ``max_hold_bars``: close a trade at the close of that bar after the trigger bar if
    neither T1 nor the stop was hit (None = hold until one is; still-open trades are
    reported with outcome "open" and no R).
    """
    o = bars["open"].to_numpy(dtype=float)
    h = bars["high"].to_numpy(dtype=float)
    lo = bars["low"].to_numpy(dtype=float)
    c = bars["close"].to_numpy(dtype=float)
    n = h.size
    if n < 3:
        return BacktestResult((), 0, 0, 0, 0)
    found = detect_patterns(
        h, lo, o, c, config=config, tick=tick, symbol=symbol, timeframe=timeframe
    )
    if patterns is not None:
        keep = set(patterns)
        found = [p for p in found if p.name in keep]
    setups = evaluate_setups(
        found, h, lo, c, None, expire_after, tick=tick, last_bar_closed=last_bar_closed
    )  # timestamps are attached per trade below, only for triggered setups
    last_closed = n - 1 if last_bar_closed else n - 2
    idx = bars.index
    times = idx.to_pydatetime() if isinstance(idx, pd.DatetimeIndex) else None
    trades = tuple(
        _trade(
            s,
            o,
            c,
            times,
            last_closed=last_closed,
            max_hold_bars=max_hold_bars,
            gap_fills=gap_fills,
        )
        for s in setups
        if s.triggered_index is not None
    )
    expired = sum(1 for s in setups if s.status is SetupStatus.EXPIRED)
    pending = sum(1 for s in setups if s.status is SetupStatus.PENDING)
    return BacktestResult(trades, len(found), len(trades), expired, pending)


def trades_frame(trades: Iterable[BacktestTrade]) -> pd.DataFrame:
    """Trades as a DataFrame (one row each, notes joined), for tables and CSV export."""
    cols = list(BacktestTrade.__dataclass_fields__)
    rows = [[getattr(t, f) for f in cols] for t in trades]
    df = pd.DataFrame(rows, columns=cols)
    df["notes"] = ["; ".join(n) for n in df["notes"]]
    return df


def edge_table(
    trades: Iterable[BacktestTrade] | pd.DataFrame,
    by: str | Sequence[str] = ("pattern", "timeframe"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Win rate (Wilson interval), expectancy in R (t interval), profit factor and sample
    size per group, over closed trades only (open trades have no R yet)."""
    df = trades if isinstance(trades, pd.DataFrame) else trades_frame(trades)
    closed = df[df["r_multiple"].notna()] if not df.empty else df
    keys = [by] if isinstance(by, str) else list(by)
    return grouped_trade_stats(closed, keys, "r_multiple", confidence)


def r_equity_curve(trades: Iterable[BacktestTrade]) -> pd.Series:
    """Cumulative R of closed trades in exit order (exit time, then entry order)."""
    closed = [t for t in trades if t.r_multiple is not None and t.exit_index is not None]
    timed = all(t.exit_time is not None for t in closed)
    if timed:
        closed.sort(key=lambda t: (t.exit_time, t.exit_index, t.entry_index))
    else:
        closed.sort(key=lambda t: (t.exit_index, t.entry_index))
    idx = [t.exit_time for t in closed] if timed else None
    return pd.Series(
        np.cumsum([t.r_multiple for t in closed]), index=idx, name="cumulative_r", dtype=float
    )
