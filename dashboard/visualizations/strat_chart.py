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
    name: str, segments: list[tuple[int, int, Level, str]], colour: str, dash: str
) -> dict[str, Any]:
    """Horizontal segments (x0, x1, level, tag) as one trace with NaN breaks.

    The label "tag price · rule" sits at the right end of each segment; one trace per
    level kind keeps thousands of levels cheap (layout annotations are not).
    """
    k = len(segments)
    x = np.full(3 * k, np.nan, dtype=np.float32)  # bar indices are exact in float32
    y = np.full(3 * k, np.nan)
    text = np.full(3 * k, "", dtype=object)
    for i, (x0, x1, lvl, tag) in enumerate(segments):
        x[3 * i], x[3 * i + 1] = x0, x1
        y[3 * i] = y[3 * i + 1] = lvl.price
        label = f"{tag} {fmt_price(lvl.price)} · {lvl.rule}"
        text[3 * i + 1] = label
    return dict(
        type="scatter",
        x=x,
        y=y,
        mode="lines+text",
        name=name,
        legendgroup=f"levels-{name}",
        line={"color": colour, "width": 1.2, "dash": dash},
        text=text,
        textposition="top left",
        textfont={"color": colour, "size": 10},
        hovertemplate="%{y:,.2f}<extra>" + name + "</extra>",
        connectgaps=False,
        xaxis="x",
        yaxis="y",
    )


def create_strat_candlestick_chart(
    ohlc: pd.DataFrame,
    bar_types: ArrayLike | None = None,
    patterns: Sequence[Pattern | Setup] | None = None,
    regimes: ArrayLike | pd.Series | None = None,
    levels: Sequence[Level] | None = None,
    *,
    show_labels: bool = True,
    title: str | None = None,
    uirevision: Any = "strat-chart",
    tick: float = 0.01,
) -> go.Figure:
    """Candles coloured by STRAT type, type labels, setup levels, regimes and volume.

    - ``ohlc``: DataFrame with a DatetimeIndex (UTC) and open/high/low/close/volume.
    - ``bar_types``: engine codes (1, 2, -2, 3, 0) per bar; computed with
      ``classify_bars(nan_policy="mask")`` when None.
    - ``patterns``: ``Pattern`` (drawn as pending to the last bar) or ``Setup`` (drawn to
      its trigger/expiry/resolution bar, with a trigger marker).
    - ``regimes``: per-bar regime names, or a time-indexed Series (forward-filled).
    - ``levels``: extra horizontal levels across the whole chart, labelled with their rule.

    One candlestick trace per type carries only that type's bars (x = bar index), so the
    colour really marks the type and the payload stays one copy of the OHLC. Increasing
    candles are hollow and decreasing filled, so the candle's own colour is still visible.
    Bars with a NaN price are left out of every trace. Volume is a second panel on the same
    x axis; labels sit under each bar's low, one text trace per type with a shared legend
    entry "type labels" that toggles them.
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
                    showlegend=not label_traces,
                    visible=True if show_labels else "legendonly",
                    hoverinfo="skip",
                    xaxis="x",
                    yaxis="y",
                )
            )

    x_max = n - 1
    level_traces: list[Any] = []
    markers: list[Any] = []
    if patterns:
        entries: list[tuple[int, int, Level, str]] = []
        stops: list[tuple[int, int, Level, str]] = []
        targets: list[tuple[int, int, Level, str]] = []
        trig: dict[str, tuple[list[int], list[float], list[str]]] = {
            "long": ([], [], []),
            "short": ([], [], []),
        }
        for item in patterns:
            p, s, e_end, l_end = _setup_extent(item, n)
            x_max = max(x_max, l_end)
            entries.append((s, e_end, p.entry, "Entry"))
            stops.append((s, l_end, p.stop, "Stop"))
            for k, t in enumerate(p.targets, start=1):
                targets.append((s, l_end, t, f"T{k}"))
            if isinstance(item, Setup) and item.triggered_index is not None:
                xs_, ys_, hs_ = trig[p.direction]
                xs_.append(item.triggered_index)
                ys_.append(p.entry.price)
                hs_.append(f"{p.name} {p.label} {p.direction} · {item.status.value}")
        level_traces.append(_level_trace("Entry", entries, theme.LEVEL_COLORS["entry"], "solid"))
        level_traces.append(_level_trace("Stop", stops, theme.LEVEL_COLORS["stop"], "dash"))
        if targets:
            level_traces.append(
                _level_trace("Targets", targets, theme.LEVEL_COLORS["target"], "dot")
            )
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
    if levels:
        level_traces.append(
            _level_trace("Levels", [(0, x_max, lvl, "") for lvl in levels], theme.WARN, "longdash")
        )

    shapes: list[dict[str, Any]] = []
    if regimes is not None:
        shapes = regime_shapes(regime_labels(regimes, ohlc.index), yref="y")

    tickvals, ticktext = bar_ticks(idx, fmt)
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        showlegend=True,
        hovermode="closest",
        xaxis={
            "anchor": "y2",
            "range": [-0.5, x_max + 0.5],
            "rangeslider": {"visible": False},
            "tickmode": "array",
            "tickvals": tickvals,
            "ticktext": ticktext,
            "showspikes": True,
            "spikemode": "across",
            "spikethickness": 1,
            "spikecolor": theme.MUTED,
        },
        yaxis={"domain": [0.26, 1.0], "title": {"text": "Price"}, "hoverformat": price_fmt},
        yaxis2={"domain": [0.0, 0.2], "title": {"text": "Volume"}, "rangemode": "tozero"},
        bargap=0.15,
        meta={"x_axis": "bar_index", "bars": n},
    )
    data = traces + label_traces + level_traces + markers + volume_traces
    return make_figure(data, layout)
