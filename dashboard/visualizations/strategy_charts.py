"""Strategy Performance charts: pattern edge, the R distribution and rolling ratios."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from dashboard.visualizations import theme
from dashboard.visualizations.figures import base_layout, empty_figure, make_figure, vline, wall_ms
from dashboard.visualizations.inputs import PatternStats


def create_pattern_performance_chart(
    stats: Sequence[PatternStats],
    *,
    title: str | None = None,
    uirevision: Any = "strategy-patterns",
) -> go.Figure:
    """Win rate (left) and expectancy in R (right) per pattern, with the trade count.

    Expectancy is the headline (strat.md: win rate alone misleads), so its bars are
    coloured by sign; patterns are sorted by expectancy.
    """
    rows = sorted((s for s in stats if s.trades > 0), key=lambda s: -s.expectancy_r)
    if not rows:
        return empty_figure("No closed trades yet", title=title, uirevision=uirevision)
    names = np.array([s.pattern for s in rows], dtype=object)
    n_trades = np.array([s.trades for s in rows], dtype=np.int64)
    win = np.array([s.win_rate for s in rows], dtype=np.float64)
    exp_r = np.array([s.expectancy_r for s in rows], dtype=np.float64)
    data = [
        go.Bar(
            x=win,
            y=names,
            orientation="h",
            name="win rate",
            marker={"color": theme.ACCENT},
            customdata=n_trades,
            text=np.array([f"{v:.0f}%" for v in win], dtype=object),
            textposition="inside",
            hovertemplate="%{y}: %{x:.1f}% of %{customdata} trades<extra></extra>",
            xaxis="x",
            yaxis="y",
        ),
        go.Bar(
            x=exp_r,
            y=names,
            orientation="h",
            name="expectancy R",
            marker={"color": np.array([theme.pnl_color(v) for v in exp_r], dtype=object)},
            customdata=n_trades,
            text=np.array([f"{v:+.2f}R" for v in exp_r], dtype=object),
            textposition="outside",
            cliponaxis=False,  # the longest bar's label may run into the gap between panels
            hovertemplate="%{y}: %{x:+.2f}R over %{customdata} trades<extra></extra>",
            xaxis="x2",
            yaxis="y2",
        ),
    ]
    layout = base_layout(
        title,
        uirevision,
        showlegend=False,
        xaxis={"domain": [0.0, 0.45], "range": [0, 100], "ticksuffix": "%", "anchor": "y"},
        xaxis2={"domain": [0.55, 1.0], "ticksuffix": "R", "anchor": "y2", "zeroline": True},
        yaxis={"type": "category", "autorange": "reversed", "anchor": "x"},
        yaxis2={
            "type": "category",
            "autorange": "reversed",
            "anchor": "x2",
            "showticklabels": False,
        },
    )
    return make_figure(data, layout)


def create_r_multiple_histogram(
    r_multiples: ArrayLike,
    *,
    bin_size: float = 0.25,
    title: str | None = None,
    uirevision: Any = "strategy-r",
) -> go.Figure:
    """Distribution of closed trades' R multiples, bins aligned on 0, with the mean (the
    expectancy) and the zero line marked. Losses red, wins green."""
    r = np.asarray(r_multiples, dtype=np.float64).ravel()
    r = r[np.isfinite(r)]
    if r.size == 0:
        return empty_figure("No closed trades yet", title=title, uirevision=uirevision)
    lo = math.floor(r.min() / bin_size) * bin_size
    hi = math.ceil(r.max() / bin_size) * bin_size + bin_size
    data = []
    for name, part, colour in (("losses", r[r < 0], theme.LOSS), ("wins", r[r >= 0], theme.PROFIT)):
        data.append(
            go.Histogram(
                x=part,
                xbins={"start": lo, "end": hi, "size": bin_size},
                name=name,
                marker={"color": colour, "line": {"width": 0}},
                hovertemplate="%{x}R: %{y}<extra></extra>",
            )
        )
    mean = float(r.mean())
    layout = base_layout(
        title,
        uirevision,
        barmode="overlay",
        bargap=0.05,
        shapes=[
            vline(0.0, "0R", theme.MUTED, "solid", "start"),
            vline(mean, f"expectancy {mean:+.2f}R", theme.WARN, "dash"),
        ],
        xaxis={"title": {"text": "R multiple"}, "ticksuffix": "R"},
        yaxis={"title": {"text": "trades"}},
        # Top right: the expectancy's label stands near 0R at the top of the plot.
        legend={"x": 1.0, "xanchor": "right"},
        meta={"expectancy_r": mean, "trades": int(r.size)},
    )
    return make_figure(data, layout)


def create_rolling_ratio_chart(
    sharpe: Mapping[str, pd.Series],
    sortino: Mapping[str, pd.Series],
    *,
    window: int,
    title: str | None = None,
    uirevision: Any = "strategy-rolling",
) -> go.Figure:
    """Rolling annualised Sharpe (solid) and Sortino (dotted) per curve, e.g. the
    strategy against buy-and-hold, with a zero line.

    Keys name the curves ("Strategy", "Buy & hold"); the first takes the accent colour,
    the second the benchmark colour. NaN (the window still filling) is left out, and a
    curve with no finite value draws nothing; with none at all the figure says why.
    """
    colours = (theme.ACCENT, theme.BENCHMARK, theme.WARN, theme.BULL)
    data: list[Any] = []
    finite = 0
    for i, name in enumerate(dict.fromkeys([*sharpe, *sortino])):
        colour = colours[i % len(colours)]
        for kind, series, dash in (
            ("Sharpe", sharpe.get(name), "solid"),
            ("Sortino", sortino.get(name), "dot"),
        ):
            if series is None:
                continue
            s = series.replace([np.inf, -np.inf], np.nan).dropna()
            if s.empty:
                continue
            finite += len(s)
            data.append(
                go.Scatter(
                    x=wall_ms(pd.DatetimeIndex(s.index)),
                    y=s.to_numpy(dtype=np.float64),
                    mode="lines",
                    name=f"{name} {kind}",
                    line={"color": colour, "width": 1.4, "dash": dash},
                    hovertemplate=f"{name} {kind} %{{y:.2f}}<extra></extra>",
                )
            )
    if not finite:
        return empty_figure(
            f"Not enough daily history for a {window}-day window",
            title=title,
            uirevision=uirevision,
        )
    layout = base_layout(
        title,
        uirevision,
        xaxis={"type": "date"},
        yaxis={"title": {"text": f"{window}-day ratio (annualised)"}, "zeroline": True},
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": 0,
                "line": {"color": theme.MUTED, "width": 1},
            }
        ],
        legend={"orientation": "h", "y": 1.08},
        meta={"window": window},
    )
    return make_figure(data, layout)
