"""Live Portfolio charts: today's P&L waterfall and the equity curve against the benchmark
with its drawdown."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.options.attribution import Attribution
from dashboard.visualizations import theme
from dashboard.visualizations.figures import (
    base_layout,
    empty_figure,
    fmt_money,
    make_figure,
    wall_ms,
)


def create_pnl_waterfall(
    items: Attribution | Mapping[str, float] | Sequence[tuple[str, float]],
    *,
    expected_total: float | None = None,
    tolerance: float = 0.01,
    title: str | None = None,
    uirevision: Any = "pnl-waterfall",
) -> go.Figure:
    """P&L attribution as a waterfall: one bar per part, then the computed total.

    The total is ``math.fsum`` of the parts. ``expected_total`` (for an ``Attribution``,
    its ``actual``) is checked against it; a mismatch beyond ``tolerance`` dollars is shown
    as a red warning on the chart rather than silently drawn. ``meta`` carries both.
    """
    if isinstance(items, Attribution):
        parts = list(items.parts.items())
        if expected_total is None:
            expected_total = items.actual
    elif isinstance(items, Mapping):
        parts = [(str(k), float(v)) for k, v in items.items()]
    else:
        parts = [(str(k), float(v)) for k, v in items]
    parts = [(k, v) for k, v in parts if math.isfinite(v)]
    if not parts:
        return empty_figure("No P&L to attribute", title=title, uirevision=uirevision)
    total = math.fsum(v for _, v in parts)
    names = np.array([k for k, _ in parts] + ["Total"], dtype=object)
    values = np.array([v for _, v in parts] + [total], dtype=np.float64)
    measure = np.array(["relative"] * len(parts) + ["total"], dtype=object)
    fig = make_figure(
        [
            dict(
                type="waterfall",
                x=names,
                y=values,
                measure=measure,
                text=np.array([fmt_money(v) for v in values], dtype=object),
                textposition="outside",
                increasing={"marker": {"color": theme.PROFIT}},
                decreasing={"marker": {"color": theme.LOSS}},
                totals={"marker": {"color": theme.ACCENT}},
                connector={"line": {"color": theme.BORDER}},
                hovertemplate="%{x}: %{y:$,.2f}<extra></extra>",
                name="P&L",
            )
        ],
        base_layout(
            title,
            uirevision,
            showlegend=False,
            yaxis={"tickprefix": "$"},
            meta={"total": total, "expected_total": expected_total},
        ),
    )
    if expected_total is not None and abs(total - expected_total) > tolerance:
        fig.add_annotation(
            text=f"⚠ parts sum to {fmt_money(total)}, expected {fmt_money(expected_total)}",
            xref="paper",
            yref="paper",
            x=0,
            y=1.08,
            showarrow=False,
            font={"color": theme.BEAR},
            name="total-mismatch",
        )
    return fig


# Fewer equity points than this are drawn as markers: a line between a handful of points
# (a young account) invents a path across the closed hours and weekends between them.
FEW_POINTS = 12
# A step this many times the usual one is a closed market (a night, a holiday): the line
# breaks there instead of joining across it. Weekends in daily data (3×) stay joined.
GAP_STEPS = 4.0
# The equity axis spans at least this share of the equity (and at least $1), so a flat new
# account does not get ticks a fraction of a cent apart.
MIN_Y_SPAN_SHARE = 0.001
# A time axis spans at least this; one point otherwise gets millisecond ticks.
MIN_X_SPAN = pd.Timedelta(hours=12)
# A short history's window opens this far before its first point and is anchored there
# alone, so new points do not move it.
X_LEAD = pd.Timedelta(minutes=30)


def _break_gaps(x: pd.DatetimeIndex, columns: Sequence[np.ndarray]) -> tuple[Any, list[Any]]:
    """``x`` and each column with a gap (NaN, which plotly draws as a break) inserted
    inside every gap longer than GAP_STEPS × the median step, so the lines break across
    closed hours instead of joining them. Arrays, not lists: a backtest's equity has
    tens of thousands of points, and plotly checks list items one by one."""
    if len(x) < 3:
        return x, [list(c) for c in columns]
    ns = x.as_unit("ns").asi8
    steps = np.diff(ns)
    limit = float(np.median(steps)) * GAP_STEPS
    after = np.flatnonzero(steps > limit)  # a gap between after[k] and after[k] + 1
    mids = ns[after] + (ns[after + 1] - ns[after]) // 2
    xs = pd.DatetimeIndex(np.insert(ns, after + 1, mids).astype("datetime64[ns]"))
    if x.tz is not None:
        xs = xs.tz_localize("UTC").tz_convert(x.tz)
    cols = [np.insert(np.asarray(c, dtype=np.float64), after + 1, np.nan) for c in columns]
    return xs, cols


def _axis_ranges(
    x: pd.DatetimeIndex, values: Sequence[float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Extra x- and y-axis settings for honest ticks: whole dollars (cents below $1,000),
    a y span of at least MIN_Y_SPAN_SHARE of the equity, and an x span of at least
    MIN_X_SPAN (dates, not milliseconds, for a lone point).

    The spans are values the autorange must include, not fixed ranges: plotly keeps a
    trader's zoom across refreshes on an autoranged axis, and dropped it on every refresh
    of a fixed one.
    """
    finite = [v for v in values if v is not None and math.isfinite(v)]
    lo, hi = min(finite), max(finite)
    level = max(abs(lo), abs(hi))
    yaxis: dict[str, Any] = {"tickformat": ",.0f" if level >= 1000 else ",.2f"}
    floor = max(level * MIN_Y_SPAN_SHARE, 1.0)
    if hi - lo < floor:
        mid = (hi + lo) / 2
        yaxis["autorangeoptions"] = {"include": [mid - floor / 2, mid + floor / 2]}
    xaxis: dict[str, Any] = {}
    if len(x) == 1:  # a lone point: the day before, its day and the day after
        day = pd.Timedelta(days=1)
        xaxis["autorangeoptions"] = {"include": [x[0] - day, x[0] + day]}
        xaxis.update(dtick=day / pd.Timedelta(milliseconds=1), tickformat="%b %d")
    elif x[-1] - x[0] < MIN_X_SPAN - 2 * X_LEAD:
        xaxis["autorangeoptions"] = {"include": [x[0] - X_LEAD, x[0] - X_LEAD + MIN_X_SPAN]}
    return xaxis, yaxis


def _history_note(x: pd.DatetimeIndex, period_days: float | None) -> str | None:
    """An axis title when the account is younger than the period asked for (a 1Y chart
    of a 3-week-old account), so the axis does not pass for a year."""
    if period_days is None:
        return None
    span = (x[-1] - x[0]) / pd.Timedelta(days=1)
    if span >= period_days * 0.9:
        return None
    first = x[0]
    days = max(round(span), 0)
    return (
        f"Account history starts {first:%b} {first.day} '{first:%y}: "
        f"{days} of the period's {period_days:g} days"
    )


def create_equity_curve(
    equity: pd.Series,
    benchmark: pd.Series | None = None,
    *,
    title: str | None = None,
    uirevision: Any = "equity-curve",
    period_days: float | None = None,
) -> go.Figure:
    """Equity (top) against a benchmark rebased to the same starting equity, and the
    drawdown from the running peak in percent (bottom).

    The benchmark is matched to the equity's timestamps (forward fill) and rebased at the
    first time both exist, so the two lines start together. A young account is drawn
    honestly: a handful of points as markers, lines broken across closed hours, no
    sub-cent or sub-second ticks, and with ``period_days`` (the days the period asks for)
    an axis title saying how much of the period the history covers.
    """
    eq = equity.dropna() if equity is not None else None
    if eq is None or eq.empty:
        return empty_figure("No equity history", title=title, uirevision=uirevision)
    x = pd.DatetimeIndex(eq.index)
    e = eq.to_numpy(dtype=np.float64)
    peak = np.maximum.accumulate(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (e / peak - 1.0) * 100.0, 0.0)
    one = len(e) == 1  # a new account
    mode = "markers" if len(e) < FEW_POINTS else "lines"
    rebased: np.ndarray | None = None
    bench_name = "benchmark"
    if benchmark is not None and len(benchmark.dropna()):
        bench_name = str(benchmark.name or bench_name)
        b = benchmark.dropna().reindex(x, method="ffill").to_numpy(dtype=np.float64)
        first = np.flatnonzero(np.isfinite(b))
        if first.size:
            i0 = int(first[0])
            rebased = b / b[i0] * e[i0]
    columns = [e, dd] if rebased is None else [e, dd, rebased]
    gapped, cols = _break_gaps(x, columns)
    xs = wall_ms(pd.DatetimeIndex(gapped))
    data: list[Any] = [
        go.Scatter(
            x=xs,
            y=cols[0],
            mode=mode,
            name="equity",
            line={"color": theme.ACCENT, "width": 1.6},
            marker={"color": theme.ACCENT, "size": 6},
            connectgaps=False,
        )
    ]
    if rebased is not None:
        data.append(
            go.Scatter(
                x=xs,
                y=cols[2],
                mode=mode,
                name=f"{bench_name} (rebased)",
                line={"color": theme.BENCHMARK, "width": 1.2, "dash": "dot"},
                marker={"color": theme.BENCHMARK, "size": 5, "symbol": "diamond"},
                connectgaps=False,
            )
        )
    data.append(
        go.Scatter(
            x=xs,
            y=cols[1],
            mode="lines" if mode == "lines" else "markers",
            name="drawdown %",
            fill="tozeroy" if mode == "lines" else None,
            line={"color": theme.LOSS, "width": 1},
            marker={"color": theme.LOSS, "size": 5},
            yaxis="y2",
            hovertemplate="%{y:.2f}%<extra>drawdown</extra>",
            connectgaps=False,
        )
    )
    on_axis = list(e) + ([] if rebased is None else [v for v in rebased if math.isfinite(v)])
    xaxis_extra, yaxis_extra = _axis_ranges(x, on_axis)
    note = _history_note(x, period_days)
    xaxis: dict[str, Any] = {"anchor": "y2", "type": "date", **xaxis_extra}
    if note:
        xaxis["title"] = {"text": note, "font": {"size": 11, "color": theme.MUTED}}
    layout = base_layout(
        title,
        uirevision,
        xaxis=xaxis,
        yaxis={
            "domain": [0.32, 1.0],
            "title": {"text": "Equity"},
            "tickprefix": "$",
            **yaxis_extra,
        },
        yaxis2={"domain": [0.0, 0.26], "title": {"text": "DD %"}, "ticksuffix": "%"},
        meta={
            "max_drawdown_pct": float(dd.min()),
            "points": len(e),
            "history_note": note,
        },
    )
    if one:  # a lone point draws no line: show it as a marker and say why
        layout["annotations"] = [
            {
                "text": "One equity point so far",
                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.98,
                "showarrow": False, "font": {"size": 12, "color": theme.MUTED},
            }
        ]  # fmt: skip
    return make_figure(data, layout)
