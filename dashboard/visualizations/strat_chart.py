"""The STRAT candlestick chart: bars coloured by STRAT type, patterns with their entry, stop
and target levels, and regime bands.

It plots against **bar index** (0..n-1) rather than time, with tick labels taken from the
timestamps. That removes every non-trading gap (nights, weekends, holidays, half days)
without a holiday calendar, makes level lines exactly "N bars" long on any timeframe, and
avoids plotly.js rangebreaks, which get slow with many bars. The hover text of each
candle carries its timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import ArrayLike, NDArray

from dashboard.strat.bars import classify_bars
from dashboard.strat.signals import Level, Pattern, Setup
from dashboard.visualizations import theme
from dashboard.visualizations.figures import (
    bar_ticks,
    base_layout,
    display_index,
    empty_figure,
    fmt_price,
    index_dtype,
    make_figure,
    regime_labels,
    regime_shapes,
    time_format,
)
from dashboard.visualizations.labels import frame_bars, padded_range, spread_labels, text_width

_STRAT_TYPES: tuple[tuple[int, str, str], ...] = (
    (1, "1", "1 inside"),
    (2, "2U", "2U up"),
    (-2, "2D", "2D down"),
    (3, "3", "3 outside"),
    (0, "", "unclassified"),
)


def _compact_prices(
    arrays: Sequence[NDArray[np.float64]], tick: float
) -> tuple[list[NDArray[np.floating]], str]:
    """The OHLC arrays as float32 when that loses nothing at tick precision, and the
    hover format that restores the exact price.

    float32 halves the typed-array payload; below ~131,072 its spacing is under half a
    cent, so rounding the float32 value to the tick's decimals gives back the original
    price. The round trip is checked on the data rather than assumed.
    """
    decimals = max(0, round(-math.log10(tick))) if tick > 0 else 2
    fmt = f",.{decimals}f"
    if decimals > 2:
        return list(arrays), fmt
    out: list[NDArray[np.floating]] = []
    for arr in arrays:
        f32 = arr.astype(np.float32)
        back = np.round(f32.astype(np.float64) / tick)
        same = (back == np.round(arr / tick)) | np.isnan(arr)
        if not bool(same.all()):
            return list(arrays), fmt
        out.append(f32)
    return out, fmt


def _setup_extent(item: Pattern | Setup, n: int) -> tuple[Pattern, int, int, int]:
    """(pattern, setup bar, entry-line end, stop/target-line end) in bar index.

    The entry line runs to the trigger bar (or the expiry bar, or the last bar while
    pending); stop and targets run on to the bar that resolved the trade. A setup on the
    last bar gets lines one bar long, into the forming bar, so they are visible.
    """
    if isinstance(item, Setup):
        p = item.pattern
        s = p.setup_index
        trig = item.triggered_index
        entry_end = trig if trig is not None else item.end_index
        level_end = item.end_index
    else:
        p = item
        s = p.setup_index
        entry_end = level_end = n - 1
    entry_end = max(entry_end, s + 1)
    level_end = max(level_end, entry_end)
    return p, s, entry_end, level_end


def _level_trace(
    name: str,
    segments: list[tuple[int, int, Level, str]],
    colour: str,
    dash: str,
    *,
    width: float = 1.4,
    opacity: float = 1.0,
) -> dict[str, Any]:
    """Horizontal segments (x0, x1, level, tag) as one trace with NaN breaks.

    Lines only: the hover names the level and its rule ("T1 11.00 · C2 high"), and the
    selected setup's levels get price tags in the right margin (``_price_tags``), which
    never pile up on the plot the way labels at the lines' ends did. One trace per level
    kind keeps thousands of levels cheap (layout annotations are not).
    """
    k = len(segments)
    x = np.full(3 * k, np.nan, dtype=np.float32)  # bar indices are exact in float32
    y = np.full(3 * k, np.nan)
    text = np.full(3 * k, "", dtype=object)
    for i, (x0, x1, lvl, tag) in enumerate(segments):
        x[3 * i], x[3 * i + 1] = x0, x1
        y[3 * i] = y[3 * i + 1] = lvl.price
        label = f"{tag} {fmt_price(lvl.price)} · {lvl.rule}".strip()
        text[3 * i] = text[3 * i + 1] = label
    return dict(
        type="scatter",
        x=x,
        y=y,
        mode="lines",
        name=name,
        legendgroup=f"levels-{name}",
        line={"color": colour, "width": width, "dash": dash},
        opacity=opacity,
        hovertext=text,
        hovertemplate="%{hovertext}<extra>" + name + "</extra>",
        connectgaps=False,
        xaxis="x",
        yaxis="y",
    )


# Geometry of the chart in pixels, so the price tags can be laid out before plotly draws
# them: a fixed-height graph, fixed vertical margins and no vertical automargin.
PRICE_DOMAIN = (0.26, 1.0)
VOLUME_DOMAIN = (0.0, 0.2)
MARGIN_TOP = 8
MARGIN_BOTTOM = 28
TAG_FONT = 10
TAG_HEIGHT = 18.0  # one line at TAG_FONT with 2 px padding and a 1 px border
TAG_OFFSET = 6  # pixels from the plot's right edge to a tag
ALIAS_MAX_BARS = 5000  # beyond this, fixed tick positions (an alias per bar gets heavy)


@dataclass(frozen=True, slots=True)
class PriceTag:
    """A label on the price scale: ``text`` at ``price``, drawn in ``colour``."""

    text: str
    price: float
    colour: str


def _price_tags(
    tags: Sequence[PriceTag], y_range: tuple[float, float], height: int
) -> tuple[list[dict[str, Any]], int]:
    """Annotations for ``tags`` in the right margin, spread apart where their prices are
    closer than a tag is tall, each with a short leader to its price; and the right margin
    they need.

    Positions are worked out in pixels from the figure's fixed ``height`` and the price
    panel's domain, so tags never overprint at any width (the width does not move them).
    """
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    p0 = MARGIN_BOTTOM + PRICE_DOMAIN[0] * plot_h  # pixels up from the figure's bottom
    p1 = MARGIN_BOTTOM + PRICE_DOMAIN[1] * plot_h
    lo, hi = y_range
    wanted = [p0 + (t.price - lo) / (hi - lo) * (p1 - p0) for t in tags]
    placed = spread_labels(wanted, TAG_HEIGHT, lo=MARGIN_BOTTOM, hi=height - 1.0, gap=1.0)
    notes = []
    for tag, want, got in zip(tags, wanted, placed, strict=True):
        notes.append(
            {
                "text": tag.text,
                "name": f"tag {tag.text}",
                "xref": "paper",
                "x": 1.0,
                "yref": "y",
                "y": tag.price,
                "showarrow": True,
                "axref": "pixel",
                "ayref": "pixel",
                "ax": TAG_OFFSET,
                "ay": round(want - got, 2),  # pixels down from the price to the tag
                "xanchor": "left",
                "yanchor": "middle",
                "arrowhead": 0,
                "arrowwidth": 1,
                "arrowcolor": tag.colour,
                "standoff": 0,
                "bgcolor": tag.colour,
                "bordercolor": tag.colour,
                "borderwidth": 1,
                "borderpad": 2,
                "font": {"color": theme.BACKGROUND, "size": TAG_FONT},
            }
        )
    widest = max((text_width(t.text, TAG_FONT, pad=3) for t in tags), default=0.0)
    return notes, math.ceil(widest) + TAG_OFFSET + 6


def _setup_tags(p: Pattern) -> list[PriceTag]:
    tags = [
        PriceTag(f"Entry {fmt_price(p.entry.price)}", p.entry.price, theme.LEVEL_COLORS["entry"]),
        PriceTag(f"Stop {fmt_price(p.stop.price)}", p.stop.price, theme.LEVEL_COLORS["stop"]),
    ]
    for k, t in enumerate(p.targets, start=1):
        tags.append(PriceTag(f"T{k} {fmt_price(t.price)}", t.price, theme.LEVEL_COLORS["target"]))
    return tags


def _level_segments(
    items: Sequence[Pattern | Setup], n: int
) -> tuple[list[tuple[int, int, Level, str]], ...]:
    entries: list[tuple[int, int, Level, str]] = []
    stops: list[tuple[int, int, Level, str]] = []
    targets: list[tuple[int, int, Level, str]] = []
    for item in items:
        p, s, e_end, l_end = _setup_extent(item, n)
        entries.append((s, e_end, p.entry, "Entry"))
        stops.append((s, l_end, p.stop, "Stop"))
        for k, t in enumerate(p.targets, start=1):
            targets.append((s, l_end, t, f"T{k}"))
    return entries, stops, targets


def create_strat_candlestick_chart(
    ohlc: pd.DataFrame,
    bar_types: ArrayLike | None = None,
    patterns: Sequence[Pattern | Setup] | None = None,
    regimes: ArrayLike | pd.Series | None = None,
    levels: Sequence[Level] | None = None,
    *,
    selected: Pattern | Setup | None = None,
    show_labels: bool = True,
    title: str | None = None,
    uirevision: Any = "strat-chart",
    tick: float = 0.01,
    height: int = 420,
) -> go.Figure:
    """Candles coloured by STRAT type, type labels, setup levels, regimes and volume.

    - ``ohlc``: DataFrame with a DatetimeIndex (UTC) and open/high/low/close/volume.
    - ``bar_types``: engine codes (1, 2, -2, 3, 0) per bar; computed with
      ``classify_bars(nan_policy="mask")`` when None.
    - ``selected``: the setup the trader is looking at. The chart opens on the bars
      around it (``labels.frame_bars``: the last 40, reaching back to the setup, at most
      80), its price range covers those bars and every level of the setup, and its entry,
      stop and targets get price tags in the right margin, spread apart so they never
      overprint. Without it the chart shows every bar.
    - ``patterns``: other setups, drawn as faint lines (hover for the level and its
      rule); ``Pattern`` runs to the last bar, ``Setup`` to its trigger/expiry/resolution
      bar, with a trigger marker. With no ``selected`` they are drawn in full colour.
    - ``regimes``: per-bar regime names, or a time-indexed Series (forward-filled).
    - ``levels``: extra horizontal levels across the whole chart, tagged with their price.
    - ``height``: the graph's pixel height, which the tag layout is computed for.

    One candlestick trace per type carries only that type's bars (x = bar index), so the
    colour really marks the type and the payload stays one copy of the OHLC. Increasing
    candles are hollow and decreasing filled, so the candle's own colour is still visible.
    Bars with a NaN price are left out of every trace. Volume is a second panel on the same
    x axis; labels sit under each bar's low. There is no legend (the card around the chart
    holds its switches), so the plot keeps the whole height on a phone too; the latest
    close has its own tag.
    """
    if ohlc is None or len(ohlc) == 0:
        return empty_figure("No bars to chart", title=title, uirevision=uirevision)
    n = len(ohlc)
    o = ohlc["open"].to_numpy(dtype=np.float64)
    h = ohlc["high"].to_numpy(dtype=np.float64)
    lo = ohlc["low"].to_numpy(dtype=np.float64)
    c = ohlc["close"].to_numpy(dtype=np.float64)
    vol = (
        ohlc["volume"].to_numpy(dtype=np.float32)
        if "volume" in ohlc
        else np.zeros(n, dtype=np.float32)
    )
    codes = (
        classify_bars(h, lo, tick, nan_policy="mask")
        if bar_types is None
        else np.asarray(bar_types, dtype=np.int8)
    )
    if codes.size != n:
        raise ValueError(f"bar_types has {codes.size} codes for {n} bars")
    valid = ~(np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c))
    idx = display_index(ohlc.index)
    fmt = time_format(idx)
    times = np.asarray(idx.strftime(fmt), dtype=object)
    xdt = index_dtype(n)
    xs = np.arange(n, dtype=xdt)
    (o_s, h_s, l_s, c_s), price_fmt = _compact_prices((o, h, lo, c), tick)

    traces: list[Any] = []
    label_traces: list[Any] = []
    volume_traces: list[Any] = []
    for code, label, name in _STRAT_TYPES:
        colour = theme.strat_color(label)
        m = (codes == code) & valid
        group = f"type-{label or 'none'}"
        traces.append(
            dict(
                type="candlestick",
                x=xs[m],
                open=o_s[m],
                high=h_s[m],
                low=l_s[m],
                close=c_s[m],
                yhoverformat=price_fmt,
                name=name,
                legendgroup=group,
                hovertext=times[m],
                increasing={"line": {"color": colour, "width": 1}, "fillcolor": theme.BACKGROUND},
                decreasing={"line": {"color": colour, "width": 1}, "fillcolor": colour},
                whiskerwidth=0,
                xaxis="x",
                yaxis="y",
            )
        )
        vm = codes == code
        volume_traces.append(
            dict(
                type="bar",
                x=xs[vm],
                y=vol[vm],
                name=f"{name} volume",
                legendgroup=group,
                showlegend=False,
                marker={"color": colour, "line": {"width": 0}},
                opacity=0.6,
                xaxis="x",
                yaxis="y2",
                hovertemplate="vol %{y:,.0f}<extra></extra>",
            )
        )
        if label:
            label_traces.append(
                dict(
                    type="scatter",
                    x=xs[m],
                    y=l_s[m].astype(np.float32),
                    mode="text",
                    text=label,
                    textposition="bottom center",
                    textfont={"color": colour, "size": 9},
                    name="type labels",
                    legendgroup="type-labels",
                    showlegend=False,
                    visible=True if show_labels else "legendonly",
                    hoverinfo="skip",
                    xaxis="x",
                    yaxis="y",
                )
            )

    x_max = n - 1
    level_traces: list[Any] = []
    markers: list[Any] = []
    others = [item for item in (patterns or ()) if item is not selected]
    drawn: list[tuple[Sequence[Pattern | Setup], str, float, float]] = []
    if others:
        faint = selected is not None
        drawn.append(
            (others, "Other " if faint else "", 1.0 if faint else 1.4, 0.45 if faint else 1.0)
        )
    if selected is not None:
        drawn.append(([selected], "", 1.6, 1.0))
    trig: dict[str, tuple[list[int], list[float], list[str]]] = {
        "long": ([], [], []),
        "short": ([], [], []),
    }
    for items, prefix, width, opacity in drawn:
        entries, stops, targets = _level_segments(items, n)
        x_max = max([x_max, *(seg[1] for seg in entries + stops)])
        kinds = (
            ("entry", "Entry" if not prefix else "Other entries", entries, "solid"),
            ("stop", "Stop" if not prefix else "Other stops", stops, "dash"),
            ("target", "Targets" if not prefix else "Other targets", targets, "dot"),
        )
        for kind, name, segs, dash in kinds:
            if segs:
                level_traces.append(
                    _level_trace(
                        name, segs, theme.LEVEL_COLORS[kind], dash, width=width, opacity=opacity
                    )
                )
        for item in items:
            if isinstance(item, Setup) and item.triggered_index is not None:
                p = item.pattern
                xs_, ys_, hs_ = trig[p.direction]
                xs_.append(item.triggered_index)
                ys_.append(p.entry.price)
                hs_.append(f"{p.name} {p.label} {p.direction} · {item.status.value}")
    for direction, (tx, ty, th) in trig.items():
        if not tx:
            continue
        up = direction == "long"
        markers.append(
            dict(
                type="scatter",
                x=np.asarray(tx, dtype=xdt),
                y=np.asarray(ty, dtype=np.float64),
                mode="markers",
                name=f"{direction} triggers",
                marker={
                    "symbol": "triangle-up" if up else "triangle-down",
                    "size": 11,
                    "color": theme.BULL if up else theme.BEAR,
                    "line": {"color": theme.TEXT, "width": 1},
                },
                hovertext=np.asarray(th, dtype=object),
                hoverinfo="text",
                xaxis="x",
                yaxis="y",
            )
        )
    tags: list[PriceTag] = []
    if levels:
        level_traces.append(
            _level_trace("Levels", [(0, x_max, lvl, "") for lvl in levels], theme.WARN, "longdash")
        )
        tags += [PriceTag(fmt_price(lvl.price), lvl.price, theme.WARN) for lvl in levels]

    # The window the chart opens on, and the prices it spans.
    first, last = 0, x_max
    if selected is not None:
        p_sel, _s, _e, l_sel = _setup_extent(selected, n)
        first, last = frame_bars(n, p_sel.bar_indices[0], min(l_sel, n - 1))
        last = max(last, l_sel)
        tags += _setup_tags(p_sel)
    window = slice(first, min(last, n - 1) + 1)
    in_view = valid[window]
    closes = c[valid]
    if closes.size:
        tags.append(PriceTag(f"Last {fmt_price(float(closes[-1]))}", float(closes[-1]), theme.TEXT))
    span = [*lo[window][in_view], *h[window][in_view], *(t.price for t in tags)]
    y_lo, y_hi = padded_range(span, 0.05) if span else (0.0, 1.0)
    vol_top = float(np.nanmax(vol[window])) if vol[window].size else 0.0
    notes, right = _price_tags(tags, (y_lo, y_hi), height)

    shapes: list[dict[str, Any]] = []
    if regimes is not None:
        shapes = regime_shapes(regime_labels(regimes, ohlc.index), yref="y")

    if n <= ALIAS_MAX_BARS:
        # Plotly spaces the ticks for the axis' width and zoom (integer bar positions),
        # and each shows its bar's time: no overlap on a phone, labels wherever one pans.
        ticks: dict[str, Any] = {
            "tickmode": "auto",
            "tick0": 0,
            "tickformat": "d",
            "labelalias": {str(i): t for i, t in enumerate(times)},
        }
    else:
        tickvals, ticktext = bar_ticks(idx, fmt)
        ticks = {"tickmode": "array", "tickvals": tickvals, "ticktext": ticktext}
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        annotations=notes,
        showlegend=False,
        hovermode="closest",
        height=height,
        margin={"t": MARGIN_TOP + (24 if title else 0), "b": MARGIN_BOTTOM, "l": 52, "r": right},
        xaxis={
            "anchor": "y2",
            "range": [first - 0.5, last + 0.5],
            "rangeslider": {"visible": False},
            **ticks,
            "tickfont": {"size": 10},
            "showspikes": True,
            "spikemode": "across",
            "spikethickness": 1,
            "spikecolor": theme.MUTED,
            "automargin": False,
        },
        yaxis={
            "domain": list(PRICE_DOMAIN),
            "range": [y_lo, y_hi],
            "title": {"text": "Price"},
            "hoverformat": price_fmt,
            "automargin": "left+right",
        },
        yaxis2={
            "domain": list(VOLUME_DOMAIN),
            "range": [0.0, vol_top * 1.1 if vol_top > 0 else 1.0],
            "title": {"text": "Volume"},
            "automargin": "left+right",
        },
        bargap=0.15,
        meta={"x_axis": "bar_index", "bars": n, "frame": [first, last]},
    )
    data = traces + label_traces + level_traces + markers + volume_traces
    return make_figure(data, layout)
