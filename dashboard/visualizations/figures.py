"""Shared figure helpers: the figure constructor, the empty/error/loading figure, bar-index
ticks, regime background bands and number formats.

Rules every chart module follows:
- the "strat_dark" template from ``theme.py`` (installed by ``create_app``; colours and
  fonts are defined there only);
- ``uirevision`` is set, so zoom and legend state survive interval refreshes;
- empty input returns ``empty_figure`` with an explicit message instead of raising, and
  ``empty_figure(kind="error")`` looks different from "no data";
- data go in as numpy arrays, which plotly ≥ 6 serialises as base64 typed arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import ArrayLike, NDArray

from dashboard.conventions import MARKET_TZ_NAME
from dashboard.views.states import BlankKind
from dashboard.visualizations import theme

EmptyKind = BlankKind  # the kinds of "nothing to draw" a view can return

_EMPTY_STYLE: dict[str, tuple[str, str]] = {
    "empty": ("○", theme.MUTED),
    "error": ("⚠", theme.BEAR),
    "loading": ("…", theme.ACCENT),
}


# Off in production: plotly re-checks every element of every array of every trace for
# each figure, which was most of a refresh callback's server time (issue 13). The charts
# here build known-good dicts; tests/conftest.py turns validation on, so every figure a
# test builds is checked, and a test compares both paths' JSON.
VALIDATE_FIGURES = False


def wall_ms(x: pd.DatetimeIndex) -> NDArray[np.float64]:
    """Times as a date axis reads numbers: milliseconds of their own wall clock (what a
    date string's digits say; plotly drops an offset), so they go as one binary array
    rather than a string per point that the browser parses: a backtest's curves have
    thousands of points, and several traces carry them."""
    wall = x.tz_localize(None) if x.tz is not None else x
    return wall.as_unit("ms").asi8.astype(np.float64)


def make_figure(data: Sequence[Any], layout: Mapping[str, Any]) -> go.Figure:
    return go.Figure(data=list(data), layout=dict(layout), _validate=VALIDATE_FIGURES)


def apply_zoom(fig: go.Figure, zoom: Mapping[str, Any] | None) -> go.Figure:
    """``fig`` with the axis ranges a trader zoomed to (``{"rev": uirevision, "ranges":
    {"xaxis": [lo, hi], ...}}``, kept by the browser's ``charts.keepZoom``), when they were
    made on a figure of the same ``uirevision``; a new period or signal starts unzoomed."""
    if not zoom or zoom.get("rev") != fig.layout.uirevision:
        return fig
    ranges = zoom.get("ranges")
    if not isinstance(ranges, Mapping):
        return fig
    for axis, pair in ranges.items():
        if (
            not isinstance(axis, str)
            or not (axis.startswith("xaxis") or axis.startswith("yaxis"))
            or not isinstance(pair, Sequence)
            or isinstance(pair, str)
            or len(pair) != 2
            or any(v is None or isinstance(v, bool) for v in pair)
        ):
            continue  # a half-known or malformed range: leave the axis to the figure
        try:
            fig.layout[axis].update(range=list(pair), autorange=False)
        except (KeyError, ValueError):
            continue  # an axis this figure does not have
    return fig


def base_layout(title: str | None, uirevision: Any, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {"uirevision": uirevision}  # theme.TEMPLATE_NAME is the default
    if title:
        layout["title"] = {"text": title}
    layout.update(extra)
    return layout


def empty_figure(
    message: str,
    *,
    kind: EmptyKind = "empty",
    title: str | None = None,
    uirevision: Any = "empty",
) -> go.Figure:
    """A blank figure with one centred message; "error" is red with ⚠, "loading" blue.

    Axes are hidden so an empty chart does not pretend to show a zero line. ``meta``
    carries the kind, so tests and callbacks can tell the three apart.
    """
    icon, colour = _EMPTY_STYLE[kind]
    fig = make_figure(
        [],
        base_layout(
            title,
            uirevision,
            xaxis={"visible": False},
            yaxis={"visible": False},
            meta={"empty_kind": kind},
            annotations=[
                {
                    "text": f"{icon} {message}",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 14, "color": colour},
                    "name": f"empty-state-{kind}",
                }
            ],
        ),
    )
    return fig


def skeleton_figure(message: str = "loading…") -> go.Figure:
    """A chart slot's first frame: the loading message on a transparent page, so the
    slot's shimmer (``.chart-skeleton`` in assets/10-dashboard.css) shows through in the
    chart's shape until the first real figure, drawn on the theme's opaque page, covers
    it. ``meta`` says "loading", like ``empty_figure``."""
    fig = empty_figure(message, kind="loading")
    fig.update_layout(
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        meta={"empty_kind": "loading", "skeleton": True},
    )
    return fig


def index_dtype(n: int) -> type[np.unsignedinteger]:
    """Smallest unsigned dtype for bar indices: halves or quarters the typed-array size."""
    if n <= np.iinfo(np.uint16).max:
        return np.uint16
    return np.uint32


def label_runs(labels: NDArray[np.object_]) -> list[tuple[int, int, Any]]:
    """Maximal runs of equal labels as (first, last, label); None/NaN labels are skipped."""
    n = labels.size
    if n == 0:
        return []
    change = np.ones(n, dtype=bool)
    change[1:] = labels[1:] != labels[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:] - 1, n - 1)
    out = []
    for a, b in zip(starts, ends, strict=True):
        lab = labels[a]
        if lab is None or (isinstance(lab, float) and math.isnan(lab)) or lab == "":
            continue
        out.append((int(a), int(b), lab))
    return out


def time_format(index: pd.DatetimeIndex) -> str:
    """Intraday bars show date and time; daily and longer show the date only."""
    if len(index) > 1:
        head = index[: min(len(index), 1000)]
        step = pd.Series(head[1:] - head[:-1]).median().total_seconds()
        if step < 0.9 * 86_400:  # anything shorter than a day is intraday
            return "%m-%d %H:%M"
    return "%Y-%m-%d"


def display_index(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.tz_convert(MARKET_TZ_NAME)  # every time on a chart is New York time


def bar_ticks(idx: pd.DatetimeIndex, fmt: str, count: int = 8) -> tuple[NDArray, list[str]]:
    n = len(idx)
    pos = np.unique(np.linspace(0, n - 1, num=min(count, n)).round().astype(np.int64))
    return pos.astype(index_dtype(n)), [idx[i].strftime(fmt) for i in pos]


def regime_labels(regimes: ArrayLike | pd.Series, index: pd.Index) -> NDArray[np.object_]:
    """Per-bar regime names aligned to ``index``; a Series is matched by time (ffill)."""
    if isinstance(regimes, pd.Series) and isinstance(regimes.index, pd.DatetimeIndex):
        aligned = regimes.reindex(index, method="ffill")
        return aligned.to_numpy(dtype=object)
    arr = np.asarray(regimes, dtype=object)
    if arr.size != len(index):
        raise ValueError(f"regimes has {arr.size} labels for {len(index)} bars")
    return arr


def regime_shapes(
    labels: NDArray[np.object_], yref: str, xref: str = "x", x: ArrayLike | None = None
) -> list[dict[str, Any]]:
    """Background rectangles, one per regime run, on the panel given by ``yref``.

    With ``x`` None the runs are in bar units (±0.5 around each bar); otherwise ``x``
    gives each bar's coordinate (e.g. timestamps) and a run ends where the next starts.
    """
    shapes: list[dict[str, Any]] = []
    seen: set[str] = set()
    xs = None if x is None else np.asarray(x)
    for a, b, lab in label_runs(labels):
        name = str(lab)
        if xs is None:
            x0: Any = a - 0.5
            x1: Any = b + 0.5
        else:
            x0 = xs[a]
            x1 = xs[b + 1] if b + 1 < xs.size else xs[b]
        shapes.append(
            {
                "type": "rect",
                "xref": xref,
                "yref": f"{yref} domain",
                "x0": x0,
                "x1": x1,
                "y0": 0,
                "y1": 1,
                "fillcolor": theme.regime_color(name),
                "opacity": 0.14,
                "line": {"width": 0},
                "layer": "below",
                "name": theme.REGIME_NAMES.get(name, name),
                "legendgroup": f"regime-{name}",
                "showlegend": name not in seen,
            }
        )
        seen.add(name)
    return shapes


def fmt_price(x: float) -> str:
    return f"{x:,.2f}"


def fmt_money(x: float) -> str:
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.2f}"


def vline(
    x: float, label: str, colour: str, dash: str = "dash", position: str = "end"
) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "y domain",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1, "dash": dash},
        "label": {
            "text": label,
            "textposition": position,
            "textangle": -90,
            "font": {"size": 10, "color": colour},
        },
        "name": label,
    }
