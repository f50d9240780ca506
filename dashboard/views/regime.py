"""Regime Detection view: the shown window of a regime fit (labels, prices, features and
thresholds, per-regime statistics), the fit's one-line summary, and the watchlist's
regime × timeframe-continuity cells.

Pure: takes the fit the regime service finished and the bars one refresh read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.analytics.regime import regime_statistics
from dashboard.analytics.regime_fits import RegimeFit, RegimeSnapshot
from dashboard.models import DataResult, DataState
from dashboard.strat.bars import bar_label, classify_bars
from dashboard.strat.continuity import timeframe_continuity
from dashboard.views.formatting import grid_number as _num
from dashboard.visualizations.inputs import RegimeCell

RANGE_PRESETS: tuple[tuple[str, int | None], ...] = (
    ("1Y", 1),
    ("3Y", 3),
    ("5Y", 5),
    ("10Y", 10),
    ("All", None),
)
DEFAULT_PRESET = "5Y"
# Coarse to fine: a cell's continuity uses its own timeframe and every coarser one.
HEATMAP_TIMEFRAMES: tuple[str, ...] = ("1Month", "1Week", "1Day", "1Hour")


def display_window(
    first: pd.Timestamp,
    last: pd.Timestamp,
    preset: str | None,
    start: str | None = None,
    end: str | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The shown date range: explicit dates when both are picked, else the preset's
    trailing years ending at the last label, clipped to the history."""
    tz = first.tz
    if start and end:
        lo = pd.Timestamp(start).tz_localize(tz) if tz else pd.Timestamp(start)
        hi = pd.Timestamp(end).tz_localize(tz) if tz else pd.Timestamp(end)
        hi = hi + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # whole end day
        if lo > hi:
            lo, hi = hi, lo
        return max(lo, first), min(hi, last)
    years = dict(RANGE_PRESETS).get(preset or DEFAULT_PRESET)
    if years is None:
        return first, last
    return max(first, last - pd.DateOffset(years=years)), last


def window_labels(fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.Series:
    """The fit's labels (as strings) inside [lo, hi]."""
    s = fit.result.series()
    return s[(s.index >= lo) & (s.index <= hi)]


def timeline_series(
    fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[pd.Series, pd.Series]:
    """The labels and the closes (named by symbol) inside [lo, hi], for the timeline."""
    labels = window_labels(fit, lo, hi)
    price = fit.close[(fit.close.index >= lo) & (fit.close.index <= hi)]
    return labels, price.rename(fit.symbol)


def feature_panels(
    fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """The features the regime mapping thresholds act on, as z-scores (data ≤ t only),
    with the mapping's own thresholds; plus the slow Sortino the jump model also sees."""
    p = fit.result.params
    dd, s1, s2 = p.feature_names
    f = fit.result.features
    f = f[(f.index >= lo) & (f.index <= hi)]
    cols = {
        f"{dd} (z)": f[f"{dd}_z"],
        f"{s1} (z)": f[f"{s1}_z"],
        f"{s2} (z)": f[f"{s2}_z"],
    }
    frame = pd.DataFrame(cols).dropna(how="all")
    th = fit.result.thresholds
    thresholds = {
        f"{dd} (z)": [th["crash_dd_z"]],
        f"{s1} (z)": [th["crash_sortino_z"], th["bull_sortino_z"]],
    }
    return frame, thresholds


def stats_rows(fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict[str, Any]]:
    """``regime_statistics`` over the shown window as grid rows (percent units)."""
    labels = window_labels(fit, lo, hi)
    close = fit.close[(fit.close.index >= lo) & (fit.close.index <= hi)]
    table = regime_statistics(close, labels)
    return [
        {
            "regime": r["regime"],
            "days": int(r["days"]),
            "share_pct": _num(r["share_pct"], 1.0, 1),
            "mean_return_pct": _num(r["mean_daily_return"], 100.0, 3),
            "ann_vol_pct": _num(r["ann_vol"], 100.0, 1),
            "max_drawdown_pct": _num(r["max_drawdown"], 100.0, 1),
            "sharpe": _num(r["sharpe"]),
        }
        for r in table.to_dict("records")
    ]


def heatmap_cells(
    bars: Mapping[tuple[str, str], pd.DataFrame],
    symbols: Sequence[str],
    timeframes: Sequence[str],
    regimes: Mapping[str, str | None],
) -> list[RegimeCell]:
    """One cell per symbol × timeframe: the symbol's daily regime, the timeframe's current
    STRAT bar type, and continuity of the latest price against this timeframe's open and
    every coarser one (``timeframes`` is ordered coarse → fine)."""
    cells: list[RegimeCell] = []
    for sym in symbols:
        frames: dict[str, pd.DataFrame] = {}
        for tf in timeframes:
            df = bars.get((sym, tf))
            if df is not None and not df.empty:
                frames[tf] = df
        present = [tf for tf in timeframes if tf in frames]
        price = None
        if present:
            newest = max(present, key=lambda tf: (frames[tf].index[-1], timeframes.index(tf)))
            price = float(frames[newest]["close"].iloc[-1])
        for k, tf in enumerate(timeframes):
            df = frames.get(tf)
            if df is None or price is None:
                cells.append(RegimeCell(sym, tf, regimes.get(sym)))
                continue
            codes = classify_bars(df["high"].to_numpy(float), df["low"].to_numpy(float))
            up_to = [t for t in timeframes[: k + 1] if t in present]
            opens = {t: float(frames[t]["open"].iloc[-1]) for t in up_to}
            tfc = timeframe_continuity(price, opens)
            cells.append(RegimeCell(sym, tf, regimes.get(sym), tfc.label, bar_label(codes[-1])))
    return cells


def fit_summary(snap: RegimeSnapshot) -> str:
    """One line for the header of the tab: the current regime, or what is happening."""
    fit = snap.fit
    if fit is None:
        if snap.status == "error":
            return f"Regime model failed: {snap.error}"
        return "Fitting the regime model on the full daily history…"
    r = fit.result
    as_of = r.as_of.strftime("%Y-%m-%d") if r.as_of is not None else "—"
    text = (
        f"Current regime {r.current.label if r.current else '—'} as of {as_of} · "
        f"{len(r.labels):,} labelled days of {fit.symbol} · last refit {r.fitted_at:%Y-%m-%d}"
    )
    if snap.running:
        text += " · refreshing…"
    return text + "".join(f" · {n}" for n in fit.notes)


@dataclass(frozen=True, slots=True)
class HeatmapView:
    """The cells, the bars' status, and the symbols whose regime is still fitting or
    failed (each said under the heatmap)."""

    cells: list[RegimeCell]
    status: DataResult[object]
    pending: list[str]
    failed: list[str]


def heatmap_view(
    results: Mapping[tuple[str, str], DataResult[pd.DataFrame]],
    symbols: Sequence[str],
    fits: Mapping[str, RegimeFit | str | None],
    read_at: datetime,
) -> HeatmapView:
    """Heatmap cells and status from fetched bars and per-symbol fits."""
    bars = {k: r.value for k, r in results.items() if r.value is not None}
    regimes: dict[str, str | None] = {}
    pending: list[str] = []
    failed: list[str] = []
    for s in symbols:
        f = fits.get(s)
        if isinstance(f, RegimeFit) and f.result.current is not None:
            regimes[s] = str(f.result.current)
        else:
            regimes[s] = None
            (failed if isinstance(f, str) else pending).append(s)
    cells = heatmap_cells(bars, symbols, HEATMAP_TIMEFRAMES, regimes)
    errors = [r for r in results.values() if r.state is DataState.ERROR]
    worst = errors[0] if errors else next(iter(results.values()), None)
    as_of = max((r.as_of for r in results.values() if r.as_of), default=None)
    source = worst.source if worst is not None else "data service"
    if errors:
        result: DataResult[object] = DataResult(
            None, source, as_of, DataState.ERROR, f"{len(errors)} bar requests failed"
        )
    elif not bars:
        result = DataResult(None, source, as_of, DataState.EMPTY)
    else:
        result = DataResult(bars, source, as_of or read_at, DataState.FRESH)
    return HeatmapView(cells, result, pending, failed)
