"""Edge analytics over backtest and journal trades (Strategy Performance tab).

``trade_equity`` compounds trades as one account with concurrent positions,
``regime_at_entry`` tags trades with the regime known before they entered (so a trade
is never scored by a label fitted on its own outcome), and the edge tables group trades
by regime, timeframe continuity, days to expiry and delta at entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analytics.performance import (
    PortfolioEquity,
    SizingRule,
    grouped_trade_stats,
    portfolio_equity,
)
from dashboard.analytics.regime import labels_before
from dashboard.analytics.strategy import BacktestTrade
from dashboard.conventions import MARKET_TZ_NAME

__all__ = [
    "delta_bucket",
    "dte_bucket",
    "edge_by",
    "edge_by_regime",
    "edge_table",
    "journal_option_frame",
    "r_equity_curve",
    "regime_at_entry",
    "tfc_bucket",
    "trade_equity",
    "trades_between",
    "trades_frame",
]


def trade_equity(
    trades: Iterable[BacktestTrade],
    sizing: SizingRule = SizingRule(),
    start_value: float = 1.0,
) -> PortfolioEquity:
    """``performance.portfolio_equity`` of backtest trades: concurrent positions share
    the account, each risking its fraction of the equity at entry, under the open-risk
    cap. Trades enter in time order (ties: symbol, timeframe, bar), so the result does
    not depend on the order of the runs."""

    def order(t: BacktestTrade) -> tuple[datetime, str, str, int, int, str]:
        assert t.entry_time is not None
        return (
            t.entry_time,
            t.symbol or "",
            t.timeframe or "",
            t.entry_index,
            t.setup_index,
            t.label,
        )

    ts = sorted((t for t in trades if t.entry_time is not None), key=order)
    return portfolio_equity(
        [t.entry_time for t in ts],
        [t.exit_time for t in ts],
        [t.r_multiple for t in ts],
        sizing,
        start_value,
    )


def regime_at_entry(trades: Sequence[BacktestTrade], labels: pd.Series) -> list[str | None]:
    """Each trade's regime as known before it entered: the label of the last session
    *before* the New York date its trigger bar opened (``regime.labels_before``). None
    when the regime model had no label yet (or the trade has no time)."""
    when = [t.entry_time for t in trades]
    return labels_before(when, labels)


def edge_by_regime(trades: Iterable[BacktestTrade], labels: pd.Series | None) -> pd.DataFrame:
    """``grouped_trade_stats`` of closed trades by ``regime_at_entry`` in a ``group``
    column; trades before the model's first label are grouped as "before the model"."""
    closed = [t for t in trades if t.r_multiple is not None and t.entry_time is not None]
    if labels is None or labels.empty or not closed:
        return grouped_trade_stats(pd.DataFrame(columns=["group", "r_multiple"]), "group")
    tags = regime_at_entry(closed, labels)
    frame = pd.DataFrame(
        {
            "group": [g if g is not None else "before the model" for g in tags],
            "r_multiple": [t.r_multiple for t in closed],
        }
    )
    return grouped_trade_stats(frame, "group")


# ------------------------------------------------------------------ filters and buckets


def _ny_date(ts: datetime | pd.Timestamp) -> date:
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        return stamp.date()
    return stamp.tz_convert(MARKET_TZ_NAME).date()


def trades_between(
    trades: Iterable[BacktestTrade], start: date | None, end: date | None
) -> list[BacktestTrade]:
    """Trades whose entry falls on a New York date in [start, end] (either end open)."""
    out = []
    for t in trades:
        if t.entry_time is None:
            continue
        d = _ny_date(t.entry_time)
        if (start is None or d >= start) and (end is None or d <= end):
            out.append(t)
    return out


def tfc_bucket(aligned: bool | None) -> str:
    """Row label for the TFC grid."""
    if aligned is None:
        return "Unknown (first candle of the data)"
    return "Aligned: every higher TF agrees" if aligned else "Not aligned"


# Right-open edges: [0, 7) is "0–6 DTE" and so on.
_DTE_EDGES: tuple[tuple[int, int | None], ...] = (
    (0, 7),
    (7, 14),
    (14, 30),
    (30, 60),
    (60, 120),
    (120, None),
)
_DELTA_EDGES: tuple[tuple[float, float], ...] = (
    (0.0, 0.20),
    (0.20, 0.40),
    (0.40, 0.60),
    (0.60, 0.80),
    (0.80, 1.01),
)


def dte_bucket(dte: float | None) -> str | None:
    """ "0–6", "7–13", "14–29", "30–59", "60–119" or "120+" DTE; None when unknown."""
    if dte is None or not math.isfinite(dte) or dte < 0:
        return None
    for lo, hi in _DTE_EDGES:
        if hi is None:
            return f"{lo}+ DTE"
        if lo <= dte < hi:
            return f"{lo}–{hi - 1} DTE"
    return None  # unreachable: the last bucket is open


def delta_bucket(delta: float | None) -> str | None:
    """|delta| bucket "0.40–0.60" (right-open); None when unknown."""
    if delta is None or not math.isfinite(delta):
        return None
    a = abs(delta)
    for lo, hi in _DELTA_EDGES:
        if lo <= a < hi:
            return f"{lo:.2f}–{min(hi, 1.0):.2f}"
    return None


def journal_option_frame(
    trades: Iterable[Any],
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Closed journal trades as rows with ``dte_at_entry``, ``dte_bucket`` and an R.

    DTE at entry = expiry − the New York date of the entry fill. R is the realised P&L
    over the premium paid for the contracts closed (entry fill × 100 × closed qty), the
    same definition as the modelled option strategies. Delta at entry is the one the
    journal recorded at the fill (``fill_delta``, kept since journal step 4), never
    derived afterwards; older trades have none. Trades without an entry fill are skipped;
    ``start``/``end`` filter on the entry date like the backtest trades.
    """
    rows = []
    for t in trades:
        if str(getattr(t, "status", "")) != "closed":
            continue
        filled_at = getattr(t, "entry_filled_at", None)
        price = getattr(t, "entry_fill_price", None)
        if filled_at is None or price is None:
            continue
        day = _ny_date(filled_at)
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        qty = int(getattr(t, "closed_qty", 0) or getattr(t, "entry_filled_qty", 0) or 0)
        premium = float(price) * 100.0 * qty
        dte = (t.expiry - day).days
        fill_delta = getattr(t, "fill_delta", None)
        delta = abs(float(fill_delta)) if fill_delta is not None else None
        rows.append(
            {
                "pattern": t.pattern,
                "timeframe": t.timeframe,
                "tfc": t.tfc,
                "entry_date": day,
                "dte_at_entry": dte,
                "dte_bucket": dte_bucket(dte),
                "delta_at_entry": delta,
                "delta_bucket": delta_bucket(delta),
                "realized_pnl": float(t.realized_pnl),
                "r_multiple": float(t.realized_pnl) / premium if premium > 0 else math.nan,
            }
        )
    cols = [
        "pattern",
        "timeframe",
        "tfc",
        "entry_date",
        "dte_at_entry",
        "dte_bucket",
        "delta_at_entry",
        "delta_bucket",
        "realized_pnl",
        "r_multiple",
    ]
    return pd.DataFrame(rows, columns=cols)


def edge_by(
    trades: Iterable[BacktestTrade], key: Callable[[BacktestTrade], str | None]
) -> pd.DataFrame:
    """``grouped_trade_stats`` of closed trades by ``key(trade)`` (None keys left out),
    in a ``group`` column."""
    rows = [
        {"group": k, "r_multiple": t.r_multiple}
        for t in trades
        if t.r_multiple is not None and (k := key(t)) is not None
    ]
    frame = pd.DataFrame(rows, columns=["group", "r_multiple"])
    return grouped_trade_stats(frame, "group")


def trades_frame(trades: Iterable[BacktestTrade]) -> pd.DataFrame:
    """Trades as a DataFrame (one row each, notes joined), for tables and CSV export."""
    cols = list(BacktestTrade.__dataclass_fields__)
    rows = [[getattr(t, f) for f in cols] for t in trades]
    df = pd.DataFrame(rows, columns=cols)
    df["notes"] = ["; ".join(n) for n in df["notes"]]
    df["tags"] = [", ".join(t) for t in df["tags"]]
    df["settlement"] = [str(s) for s in df["settlement"]]
    return df


def edge_table(
    trades: Iterable[BacktestTrade] | pd.DataFrame,
    by: str | Sequence[str] = ("pattern", "timeframe"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Win rate (Wilson interval), expectancy in R (t interval), profit factor and sample
    size per group, over closed trades only (open trades have no R yet)."""
    keys = [by] if isinstance(by, str) else list(by)
    if isinstance(trades, pd.DataFrame):
        df = trades
    else:  # only the columns the table needs: thousands of trades on every refresh
        cols = [*dict.fromkeys([*keys, "r_multiple"])]
        df = pd.DataFrame([[getattr(t, c) for c in cols] for t in trades], columns=cols)
    closed = df[df["r_multiple"].notna()] if not df.empty else df
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
