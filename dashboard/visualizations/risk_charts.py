"""Risk Management charts: heat to stops against the limit, the VaR histogram and greeks
exposure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from dashboard.visualizations import theme
from dashboard.visualizations.figures import (
    base_layout,
    empty_figure,
    fmt_money,
    make_figure,
    vline,
)
from dashboard.visualizations.inputs import GreeksExposure, PositionRisk


def create_heat_chart(
    positions: Sequence[PositionRisk],
    *,
    equity: float,
    limit_pct: float,
    title: str | None = None,
    uirevision: Any = "risk-heat",
) -> go.Figure:
    """Heat to stop per position in % of equity, the total, and the heat limit line."""
    if not positions:
        return empty_figure("No open risk", title=title, uirevision=uirevision)
    if not equity or equity <= 0:
        return empty_figure("Equity unknown; heat cannot be computed", kind="error")
    risk = np.array([max(p.risk_to_stop, 0.0) for p in positions], dtype=np.float64)
    pct = risk / equity * 100.0
    total = float(pct.sum())
    names = np.array([p.label for p in positions] + ["Total"], dtype=object)
    values = np.append(pct, total)
    colours = np.array(
        [theme.ACCENT] * len(positions) + [theme.BEAR if total > limit_pct else theme.WARN],
        dtype=object,
    )
    dollars = np.append(risk, float(risk.sum()))
    bar = go.Bar(
        x=values,
        y=names,
        orientation="h",
        marker={"color": colours},
        customdata=dollars,
        text=np.array([f"{v:.2f}%" for v in values], dtype=object),
        textposition="outside",
        hovertemplate="%{y}: %{x:.2f}% ($%{customdata:,.0f} to stop)<extra></extra>",
        name="heat",
    )
    layout = base_layout(
        title,
        uirevision,
        shapes=[vline(limit_pct, f"limit {limit_pct:g}%", theme.BEAR, "dash")],
        showlegend=False,
        xaxis={"ticksuffix": "%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "type": "category"},
        meta={"total_heat_pct": total},
    )
    return make_figure([bar], layout)


def create_var_histogram(
    pnl: ArrayLike,
    *,
    var: float,
    cvar: float | None = None,
    confidence: float = 0.95,
    title: str | None = None,
    uirevision: Any = "risk-var",
) -> go.Figure:
    """Distribution of simulated or historical P&L with VaR (and CVaR) marked.

    ``var`` and ``cvar`` are positive loss amounts; they are drawn at −var and −cvar.
    """
    x = np.asarray(pnl, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return empty_figure("No P&L distribution", title=title, uirevision=uirevision)
    hist = go.Histogram(
        x=x,
        nbinsx=min(80, max(10, int(np.sqrt(x.size)))),
        marker={"color": theme.ACCENT, "line": {"width": 0}},
        opacity=0.8,
        name="P&L",
        hovertemplate="%{x}: %{y}<extra></extra>",
    )
    shapes = [vline(-var, f"VaR {confidence:.0%} {fmt_money(-var)}", theme.BEAR)]
    if cvar is not None:
        shapes.append(vline(-cvar, f"CVaR {fmt_money(-cvar)}", theme.WARN, "dot"))
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        showlegend=False,
        bargap=0.02,
        xaxis={"title": {"text": "P&L"}, "tickprefix": "$"},
        yaxis={"title": {"text": "count"}},
    )
    return make_figure([hist], layout)


def create_greeks_exposure_chart(
    exposures: Sequence[GreeksExposure],
    *,
    title: str | None = None,
    uirevision: Any = "risk-greeks",
) -> go.Figure:
    """Greeks per underlying, one panel per greek (their units differ, so they never share
    an axis): $ delta, gamma in shares of delta per $1 of that underlying, theta $/day,
    vega $/vol point. The dollar panels end with the book total; gamma has none, since a
    $1 move means something different for each underlying."""
    if not exposures:
        return empty_figure("No greeks exposure", title=title, uirevision=uirevision)
    panels = (
        ("delta", "$ delta", True, "%{y}: %{x:$,.2f}"),
        ("gamma", "Γ shares per $1", False, "%{y}: %{x:,.2f} shares per $1"),
        ("theta", "Θ $/day", True, "%{y}: %{x:$,.2f} per day"),
        ("vega", "vega $/vol pt", True, "%{y}: %{x:$,.2f} per vol point"),
    )
    labels = [e.label for e in exposures]
    layout = base_layout(title, uirevision, showlegend=False, bargap=0.25)
    data: list[Any] = []
    w = 1.0 / len(panels)
    for i, (g, axis_title, with_total, hover) in enumerate(panels):
        vals = np.array([getattr(e, g) for e in exposures], dtype=np.float64)
        names = np.array([*labels, *(["Total"] if with_total else [])], dtype=object)
        if with_total:
            vals = np.append(vals, math.fsum(vals))
        ax = "" if i == 0 else str(i + 1)
        layout[f"xaxis{ax}"] = {
            "domain": [i * w + 0.03, (i + 1) * w - 0.03],
            "anchor": f"y{ax}",
            "title": {"text": axis_title},
            "zeroline": True,
        }
        layout[f"yaxis{ax}"] = {
            "anchor": f"x{ax}",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [*labels, "Total"],
            "autorange": "reversed",
            "showticklabels": i == 0,
        }
        data.append(
            {
                "type": "bar",
                "x": vals,
                "y": names,
                "orientation": "h",
                "name": g,
                "xaxis": f"x{ax}",
                "yaxis": f"y{ax}",
                "marker": {"color": np.array([theme.pnl_color(v) for v in vals], dtype=object)},
                "hovertemplate": hover + "<extra>" + g + "</extra>",
            }
        )
    return make_figure(data, layout)
