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


def create_equity_curve(
    equity: pd.Series,
    benchmark: pd.Series | None = None,
    *,
    title: str | None = None,
    uirevision: Any = "equity-curve",
) -> go.Figure:
    """Equity (top) against a benchmark rebased to the same starting equity, and the
    drawdown from the running peak in percent (bottom).

    The benchmark is matched to the equity's timestamps (forward fill) and rebased at the
    first time both exist, so the two lines start together.
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
    data: list[Any] = [
        go.Scatter(
            x=x,
            y=e,
            mode="markers" if one else "lines",
            name="equity",
            line={"color": theme.ACCENT, "width": 1.6},
        )
    ]
    if benchmark is not None and len(benchmark.dropna()):
        b = benchmark.dropna().reindex(x, method="ffill").to_numpy(dtype=np.float64)
        first = np.flatnonzero(np.isfinite(b))
        if first.size:
            i0 = int(first[0])
            rebased = b / b[i0] * e[i0]
            data.append(
                go.Scatter(
                    x=x,
                    y=rebased,
                    mode="lines",
                    name=f"{benchmark.name or 'benchmark'} (rebased)",
                    line={"color": theme.BENCHMARK, "width": 1.2, "dash": "dot"},
                )
            )
    data.append(
        go.Scatter(
            x=x,
            y=dd,
            mode="lines",
            name="drawdown %",
            fill="tozeroy",
            line={"color": theme.LOSS, "width": 1},
            yaxis="y2",
            hovertemplate="%{y:.2f}%<extra>drawdown</extra>",
        )
    )
    layout = base_layout(
        title,
        uirevision,
        xaxis={"anchor": "y2", "type": "date"},
        yaxis={"domain": [0.32, 1.0], "title": {"text": "Equity"}, "tickprefix": "$"},
        yaxis2={"domain": [0.0, 0.26], "title": {"text": "DD %"}, "ticksuffix": "%"},
        meta={"max_drawdown_pct": float(dd.min()), "points": len(e)},
    )
    if one:  # a lone point draws no line: show it as a marker and say why
        layout["annotations"] = [
            {
                "text": "One equity point so far: the curve starts with the next one",
                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.98,
                "showarrow": False, "font": {"size": 12, "color": theme.MUTED},
            }
        ]  # fmt: skip
    return make_figure(data, layout)
