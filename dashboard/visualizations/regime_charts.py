"""Regime Detection charts: the watchlist × timeframe heatmap, the regime timeline over
price, and the feature panels with their thresholds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.visualizations import theme
from dashboard.visualizations.figures import (
    base_layout,
    display_index,
    empty_figure,
    make_figure,
    regime_shapes,
)
from dashboard.visualizations.inputs import RegimeCell


def create_regime_heatmap(
    cells: Sequence[RegimeCell],
    *,
    title: str | None = None,
    uirevision: Any = "regime-heatmap",
) -> go.Figure:
    """Symbols × timeframes coloured by regime, with the TFC label printed in each cell.

    Hover gives the regime's name ("Bull trend"), never its code; unknown cells are grey.
    Rows and columns keep the order in which symbols and timeframes first appear.
    """
    if not cells:
        return empty_figure("No regime data", title=title, uirevision=uirevision)
    symbols = list(dict.fromkeys(c.symbol for c in cells))
    tfs = list(dict.fromkeys(c.timeframe for c in cells))
    order = {name: k for k, name in enumerate(theme.REGIME_ORDER)}
    z = np.full((len(symbols), len(tfs)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    names = np.full(z.shape, "no data", dtype=object)
    tfc = np.full(z.shape, "—", dtype=object)
    for cell in cells:
        i, j = symbols.index(cell.symbol), tfs.index(cell.timeframe)
        if cell.regime in order:
            z[i, j] = order[cell.regime]
        names[i, j] = theme.REGIME_NAMES.get(cell.regime or "", cell.regime or "unknown")
        tfc[i, j] = cell.tfc_label or "—"
        bits = [b for b in (cell.bar_type, cell.tfc_label) if b]
        text[i, j] = "<br>".join(bits)
    k = len(theme.REGIME_ORDER)
    scale: list[list[Any]] = []
    for idx, name in enumerate(theme.REGIME_ORDER):
        colour = theme.REGIME_COLORS[name]
        scale += [[idx / k, colour], [(idx + 1) / k, colour]]
    heat = go.Heatmap(
        z=z,
        x=tfs,
        y=symbols,
        zmin=-0.5,
        zmax=k - 0.5,
        colorscale=scale,
        showscale=False,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 11, "color": theme.TEXT},
        customdata=np.dstack([names, tfc]),
        hovertemplate="%{y} · %{x}<br>%{customdata[0]}<br>TFC %{customdata[1]}<extra></extra>",
        xgap=2,
        ygap=2,
    )
    layout = base_layout(
        title,
        uirevision,
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category", "side": "top"},
    )
    return make_figure([heat], layout)


def create_regime_timeline(
    regimes: pd.Series,
    price: pd.Series | None = None,
    *,
    title: str | None = None,
    uirevision: Any = "regime-timeline",
) -> go.Figure:
    """Price with regime shading (top) and a one-row regime state strip (bottom).

    ``regimes`` is a time-indexed Series of regime names; ``price`` (optional) is matched
    to it by time. Shading is drawn on the price panel (``yref="y domain"``).
    """
    if regimes is None or len(regimes) == 0:
        return empty_figure("No regime history", title=title, uirevision=uirevision)
    labels = regimes.to_numpy(dtype=object)
    x = pd.DatetimeIndex(regimes.index)
    order = {name: k for k, name in enumerate(theme.REGIME_ORDER)}
    codes = np.array([order.get(str(v), np.nan) for v in labels], dtype=np.float64)
    k = len(theme.REGIME_ORDER)
    scale: list[list[Any]] = []
    for i, name in enumerate(theme.REGIME_ORDER):
        scale += [[i / k, theme.REGIME_COLORS[name]], [(i + 1) / k, theme.REGIME_COLORS[name]]]
    names = np.array([theme.REGIME_NAMES.get(str(v), str(v)) for v in labels], dtype=str)
    # Plain dicts of numpy arrays, the dates as New York day strings: building go.Scatter
    # objects validated every one of 25 years of timestamps, one by one (seconds a render).
    days = display_index(x).strftime("%Y-%m-%d").to_numpy(dtype=str)
    data: list[Any] = []
    if price is not None and len(price):
        p = price.reindex(x, method="ffill").to_numpy(dtype=np.float64)
        data.append(
            {
                "type": "scatter",
                "x": days,
                "y": p,
                "mode": "lines",
                "name": "price",
                "line": {"color": theme.TEXT, "width": 1.2},
            }
        )
    data.append(
        {
            "type": "heatmap",
            "x": days,
            "z": codes.reshape(1, -1),
            "y": ["regime"],
            "zmin": -0.5,
            "zmax": k - 0.5,
            "colorscale": scale,
            "showscale": False,
            "customdata": names.reshape(1, -1),
            "hovertemplate": "%{x}<br>%{customdata}<extra></extra>",
            "yaxis": "y2",
            "name": "regime strip",
        }
    )
    shapes = regime_shapes(labels, yref="y", x=days) if price is not None and len(price) else []
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        xaxis={"anchor": "y2", "type": "date"},
        yaxis={"domain": [0.2, 1.0], "title": {"text": "Price"}},
        yaxis2={"domain": [0.0, 0.12], "showticklabels": False},
    )
    return make_figure(data, layout)


def create_feature_evolution(
    features: pd.DataFrame,
    thresholds: Mapping[str, float | Sequence[float]] | None = None,
    *,
    title: str | None = None,
    uirevision: Any = "feature-evolution",
) -> go.Figure:
    """One stacked panel per feature column over time, with its threshold lines dashed.

    Panels share the x axis; a threshold line spans the panel (``xref="x domain"``) on
    that feature's own y axis and is labelled with its value.
    """
    if features is None or features.empty:
        return empty_figure("No regime features", title=title, uirevision=uirevision)
    cols = list(features.columns)
    k = len(cols)
    gap = 0.04
    height = (1.0 - gap * (k - 1)) / k
    layout = base_layout(title, uirevision, showlegend=False, height=max(220, 140 * k))
    data: list[Any] = []
    shapes: list[dict[str, Any]] = []
    days = display_index(pd.DatetimeIndex(features.index)).strftime("%Y-%m-%d").to_numpy(dtype=str)
    for i, col in enumerate(cols):
        ax = "" if i == 0 else str(i + 1)
        top = 1.0 - i * (height + gap)
        layout[f"yaxis{ax}"] = {
            "domain": [max(top - height, 0.0), top],
            "title": {"text": str(col), "font": {"size": 10}},
        }
        data.append(
            {
                "type": "scatter",
                "x": days,
                "y": features[col].to_numpy(dtype=np.float64),
                "mode": "lines",
                "name": str(col),
                "yaxis": f"y{ax}",
                "line": {"width": 1.3, "color": theme.COLORWAY[i % len(theme.COLORWAY)]},
            }
        )
        th = (thresholds or {}).get(col)
        if th is None:
            continue
        for v in np.atleast_1d(np.asarray(th, dtype=np.float64)):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": f"y{ax}",
                    "y0": float(v),
                    "y1": float(v),
                    "line": {"color": theme.WARN, "width": 1, "dash": "dash"},
                    "label": {
                        "text": f"{col} = {float(v):g}",
                        "textposition": "end",
                        "font": {"size": 9, "color": theme.WARN},
                    },
                }
            )
    layout["xaxis"] = {"anchor": f"y{'' if k == 1 else k}", "type": "date"}
    layout["shapes"] = shapes
    return make_figure(data, layout)
