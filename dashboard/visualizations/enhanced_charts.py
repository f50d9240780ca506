"""The dashboard's figure library: pure functions from data to ``go.Figure``.

Rules every function follows:
- the "strat_dark" template from ``theme.py`` (colours and fonts are defined there only);
- ``uirevision`` is set, so zoom and legend state survive interval refreshes;
- empty input returns ``empty_figure`` with an explicit message instead of raising, and
  ``empty_figure(kind="error")`` looks different from "no data";
- data go in as numpy arrays, which plotly ≥ 6 serialises as base64 typed arrays.

The STRAT chart plots against **bar index** (0..n-1) rather than time, with tick labels
taken from the timestamps. That removes every non-trading gap (nights, weekends,
holidays, half days) without a holiday calendar, makes level lines exactly "N bars"
long on any timeframe, and avoids plotly.js rangebreaks, which get slow with many bars.
The hover text of each candle carries its timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from _plotly_utils.basevalidators import ColorValidator
from numpy.typing import ArrayLike, NDArray

from dashboard.models import Account, Clock, OptionQuote, Position
from dashboard.options.attribution import Attribution
from dashboard.options.projection import PayoffCurve
from dashboard.strat.bars import classify_bars
from dashboard.strat.signals import Level, Pattern, Setup
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    GreeksExposure,
    PatternStats,
    PositionRisk,
    RegimeCell,
    TradeProgress,
)

__all__ = [
    "DISPLAY_TZ",
    "create_equity_curve",
    "create_feature_evolution",
    "create_greeks_exposure_chart",
    "create_heat_chart",
    "create_options_flow_chart",
    "create_pattern_performance_chart",
    "create_payoff_chart",
    "create_pnl_waterfall",
    "create_portfolio_metrics_cards",
    "create_r_multiple_histogram",
    "create_regime_heatmap",
    "create_regime_timeline",
    "create_rolling_ratio_chart",
    "create_sparkline",
    "create_strat_candlestick_chart",
    "create_trade_progress_chart",
    "create_var_histogram",
    "empty_figure",
]

DISPLAY_TZ = "America/New_York"
EmptyKind = Literal["empty", "error", "loading"]

_EMPTY_STYLE: dict[str, tuple[str, str]] = {
    "empty": ("○", theme.MUTED),
    "error": ("⚠", theme.BEAR),
    "loading": ("…", theme.ACCENT),
}
_STRAT_TYPES: tuple[tuple[int, str, str], ...] = (
    (1, "1", "1 inside"),
    (2, "2U", "2U up"),
    (-2, "2D", "2D down"),
    (3, "3", "3 outside"),
    (0, "", "unclassified"),
)
_NEAR_STOP_R = -0.75  # progress at or below this shows a near-stop warning


# ---------------------------------------------------------------------------- helpers


# Off in production: plotly re-checks every element of every array of every trace for
# each figure, which was most of a refresh callback's server time (issue 13). The charts
# here build known-good dicts; tests/conftest.py turns validation on, so every figure a
# test builds is checked, and a test compares both paths' JSON.
VALIDATE_FIGURES = False


def _figure(data: Sequence[Any], layout: Mapping[str, Any]) -> go.Figure:
    return go.Figure(data=list(data), layout=dict(layout), _validate=VALIDATE_FIGURES)


def _base_layout(title: str | None, uirevision: Any, **extra: Any) -> dict[str, Any]:
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
    fig = _figure(
        [],
        _base_layout(
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


def _index_dtype(n: int) -> type[np.unsignedinteger]:
    """Smallest unsigned dtype for bar indices: halves or quarters the typed-array size."""
    if n <= np.iinfo(np.uint16).max:
        return np.uint16
    return np.uint32


def _runs(labels: NDArray[np.object_]) -> list[tuple[int, int, Any]]:
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


def _time_format(index: pd.DatetimeIndex) -> str:
    """Intraday bars show date and time; daily and longer show the date only."""
    if len(index) > 1:
        head = index[: min(len(index), 1000)]
        step = pd.Series(head[1:] - head[:-1]).median().total_seconds()
        if step < 0.9 * 86_400:  # anything shorter than a day is intraday
            return "%m-%d %H:%M"
    return "%Y-%m-%d"


def _display_index(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.tz_convert(DISPLAY_TZ)


def _bar_ticks(idx: pd.DatetimeIndex, fmt: str, count: int = 8) -> tuple[NDArray, list[str]]:
    n = len(idx)
    pos = np.unique(np.linspace(0, n - 1, num=min(count, n)).round().astype(np.int64))
    return pos.astype(_index_dtype(n)), [idx[i].strftime(fmt) for i in pos]


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


def _regime_labels(regimes: ArrayLike | pd.Series, index: pd.Index) -> NDArray[np.object_]:
    """Per-bar regime names aligned to ``index``; a Series is matched by time (ffill)."""
    if isinstance(regimes, pd.Series) and isinstance(regimes.index, pd.DatetimeIndex):
        aligned = regimes.reindex(index, method="ffill")
        return aligned.to_numpy(dtype=object)
    arr = np.asarray(regimes, dtype=object)
    if arr.size != len(index):
        raise ValueError(f"regimes has {arr.size} labels for {len(index)} bars")
    return arr


def _regime_shapes(
    labels: NDArray[np.object_], yref: str, xref: str = "x", x: ArrayLike | None = None
) -> list[dict[str, Any]]:
    """Background rectangles, one per regime run, on the panel given by ``yref``.

    With ``x`` None the runs are in bar units (±0.5 around each bar); otherwise ``x``
    gives each bar's coordinate (e.g. timestamps) and a run ends where the next starts.
    """
    shapes: list[dict[str, Any]] = []
    seen: set[str] = set()
    xs = None if x is None else np.asarray(x)
    for a, b, lab in _runs(labels):
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


def _fmt_price(x: float) -> str:
    return f"{x:,.2f}"


def _fmt_money(x: float) -> str:
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.2f}"


# --------------------------------------------------------------------- STRAT chart


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
        label = f"{tag} {_fmt_price(lvl.price)} · {lvl.rule}"
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
    idx = _display_index(ohlc.index)
    fmt = _time_format(idx)
    times = np.asarray(idx.strftime(fmt), dtype=object)
    xdt = _index_dtype(n)
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
        shapes = _regime_shapes(_regime_labels(regimes, ohlc.index), yref="y")

    tickvals, ticktext = _bar_ticks(idx, fmt)
    layout = _base_layout(
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
    return _figure(data, layout)


# ----------------------------------------------------------------- portfolio cards


def create_portfolio_metrics_cards(
    account: Account | None,
    positions: Sequence[Position],
    clock: Clock | None,
    *,
    heat_pct: float | None,
    heat_limit_pct: float,
    uirevision: Any = "portfolio-metrics",
) -> go.Figure:
    """Six indicators: equity, today's P&L ($ and %), open positions, buying power,
    portfolio heat against its limit, and market status from the broker's clock.

    Today's P&L is ``equity − last_equity`` (Alpaca's previous close equity); the % is
    of ``last_equity``. Market status counts hours to the next open or close from the
    clock's own timestamp, so the figure is a pure function of its inputs.
    """
    if account is None:
        return empty_figure("No account data", uirevision=uirevision)
    equity = float(account.equity)
    last = float(account.last_equity)
    pnl = equity - last
    pnl_pct = pnl / last * 100.0 if last else math.nan
    colour = theme.pnl_color(pnl)
    cells = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]

    def dom(k: int) -> dict[str, list[float]]:
        r, col = cells[k]
        return {
            "x": [col / 3 + 0.01, (col + 1) / 3 - 0.01],
            "y": [0.52 if r == 0 else 0.0, 1.0 if r == 0 else 0.46],
        }

    number_font = {"family": theme.MONO_FAMILY, "size": 26}
    title_font = {"size": 13, "color": theme.MUTED}
    pct_text = "—" if math.isnan(pnl_pct) else f"{pnl_pct:+.2f}%"
    data: list[go.Indicator] = [
        go.Indicator(
            mode="number",
            value=equity,
            number={"prefix": "$", "valueformat": ",.2f", "font": number_font},
            title={"text": "Equity", "font": title_font},
            domain=dom(0),
            name="equity",
        ),
        go.Indicator(
            mode="number",
            value=pnl,
            number={
                "valueformat": "+$,.2f",
                "font": {**number_font, "color": colour},
            },
            title={
                "text": f"Today's P&L<br><span style='font-size:12px'>{pct_text}</span>",
                "font": title_font,
            },
            domain=dom(1),
            name="today_pnl",
        ),
        go.Indicator(
            mode="number",
            value=len(positions),
            number={"valueformat": "d", "font": number_font},
            title={"text": "Open positions", "font": title_font},
            domain=dom(2),
            name="open_positions",
        ),
        go.Indicator(
            mode="number",
            value=float(account.buying_power),
            number={"prefix": "$", "valueformat": ",.0f", "font": number_font},
            title={"text": "Buying power", "font": title_font},
            domain=dom(3),
        ),
    ]
    heat = math.nan if heat_pct is None else float(heat_pct)
    over = not math.isnan(heat) and heat > heat_limit_pct
    data.append(
        go.Indicator(
            mode="gauge+number",
            value=None if math.isnan(heat) else heat,
            number={"suffix": "%", "valueformat": ".1f", "font": {**number_font, "size": 20}},
            title={"text": f"Heat (limit {heat_limit_pct:g}%)", "font": title_font},
            gauge={
                "axis": {"range": [0, max(heat_limit_pct * 1.5, 0 if math.isnan(heat) else heat)]},
                "bar": {"color": theme.BEAR if over else theme.ACCENT},
                "threshold": {
                    "line": {"color": theme.WARN, "width": 3},
                    "value": heat_limit_pct,
                    "thickness": 0.9,
                },
                "bgcolor": theme.CARD,
            },
            domain=dom(4),
            name="heat",
        )
    )
    if clock is None:
        status, hours, verb = "Market ?", None, "no clock"
    else:
        nxt = clock.next_close if clock.is_open else clock.next_open
        hours = max((nxt - clock.timestamp).total_seconds() / 3600.0, 0.0)
        status = "Market OPEN" if clock.is_open else "Market CLOSED"
        verb = "closes in" if clock.is_open else "opens in"
    data.append(
        go.Indicator(
            mode="number",
            value=hours,
            number={
                "suffix": " h",
                "valueformat": ".1f",
                "font": {
                    **number_font,
                    "color": theme.BULL if clock and clock.is_open else theme.MUTED,
                },
            },
            title={
                "text": f"{status}<br><span style='font-size:12px'>{verb}</span>",
                "font": title_font,
            },
            domain=dom(5),
            name="market",
        )
    )
    return _figure(data, _base_layout(None, uirevision, height=320))


# ------------------------------------------------------------------ regime charts


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
    layout = _base_layout(
        title,
        uirevision,
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category", "side": "top"},
    )
    return _figure([heat], layout)


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
    names = np.array([theme.REGIME_NAMES.get(str(v), str(v)) for v in labels], dtype=object)
    data: list[Any] = []
    if price is not None and len(price):
        p = price.reindex(x, method="ffill").to_numpy(dtype=np.float64)
        data.append(
            go.Scatter(
                x=x, y=p, mode="lines", name="price", line={"color": theme.TEXT, "width": 1.2}
            )
        )
    data.append(
        go.Heatmap(
            x=x,
            z=codes.reshape(1, -1),
            y=["regime"],
            zmin=-0.5,
            zmax=k - 0.5,
            colorscale=scale,
            showscale=False,
            customdata=names.reshape(1, -1),
            hovertemplate="%{x}<br>%{customdata}<extra></extra>",
            yaxis="y2",
            name="regime strip",
        )
    )
    shapes = _regime_shapes(labels, yref="y", x=x) if data[0].type == "scatter" else []
    layout = _base_layout(
        title,
        uirevision,
        shapes=shapes,
        xaxis={"anchor": "y2", "type": "date"},
        yaxis={"domain": [0.2, 1.0], "title": {"text": "Price"}},
        yaxis2={"domain": [0.0, 0.12], "showticklabels": False},
    )
    return _figure(data, layout)


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
    layout = _base_layout(title, uirevision, showlegend=False, height=max(220, 140 * k))
    data: list[Any] = []
    shapes: list[dict[str, Any]] = []
    x = pd.DatetimeIndex(features.index)
    for i, col in enumerate(cols):
        ax = "" if i == 0 else str(i + 1)
        top = 1.0 - i * (height + gap)
        layout[f"yaxis{ax}"] = {
            "domain": [max(top - height, 0.0), top],
            "title": {"text": str(col), "font": {"size": 10}},
        }
        data.append(
            go.Scatter(
                x=x,
                y=features[col].to_numpy(dtype=np.float64),
                mode="lines",
                name=str(col),
                yaxis=f"y{ax}",
                line={"width": 1.3, "color": theme.COLORWAY[i % len(theme.COLORWAY)]},
            )
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
    return _figure(data, layout)


# --------------------------------------------------------------- P&L and equity


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
    fig = _figure(
        [
            dict(
                type="waterfall",
                x=names,
                y=values,
                measure=measure,
                text=np.array([_fmt_money(v) for v in values], dtype=object),
                textposition="outside",
                increasing={"marker": {"color": theme.PROFIT}},
                decreasing={"marker": {"color": theme.LOSS}},
                totals={"marker": {"color": theme.ACCENT}},
                connector={"line": {"color": theme.BORDER}},
                hovertemplate="%{x}: %{y:$,.2f}<extra></extra>",
                name="P&L",
            )
        ],
        _base_layout(
            title,
            uirevision,
            showlegend=False,
            yaxis={"tickprefix": "$"},
            meta={"total": total, "expected_total": expected_total},
        ),
    )
    if expected_total is not None and abs(total - expected_total) > tolerance:
        fig.add_annotation(
            text=f"⚠ parts sum to {_fmt_money(total)}, expected {_fmt_money(expected_total)}",
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
    layout = _base_layout(
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
    return _figure(data, layout)


def create_sparkline(
    values: ArrayLike,
    *,
    color: str = theme.ACCENT,
    height: int = 48,
    uirevision: Any = "sparkline",
) -> go.Figure:
    """A tiny line with a soft fill, no axes. ``color`` may be any CSS colour format.

    The colour is validated by plotly (hex, rgb/rgba, hsl/hsla, hsv, named). The fill is a
    separate trace drawn with trace opacity, so no colour parsing is needed to make a
    translucent version of an arbitrary format.
    """
    try:
        ColorValidator("color", "sparkline").validate_coerce(color)
    except ValueError:
        raise ValueError(f"not a colour: {color!r}") from None
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.size == 0 or not np.isfinite(y).any():
        return empty_figure("No data", uirevision=uirevision)
    x = np.arange(y.size, dtype=_index_dtype(y.size))
    floor = float(np.nanmin(y))
    data = [
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            fill="tozeroy",
            fillcolor=color,
            line={"width": 0},
            opacity=0.18,
            hoverinfo="skip",
            name="fill",
        ),
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line={"color": color, "width": 1.5},
            hovertemplate="%{y:,.2f}<extra></extra>",
            name="value",
        ),
    ]
    span = float(np.nanmax(y)) - floor
    pad = span * 0.1 if span > 0 else max(abs(floor) * 0.01, 1.0)
    layout = _base_layout(
        None,
        uirevision,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False, "range": [floor - pad, float(np.nanmax(y)) + pad]},
    )
    return _figure(data, layout)


# ------------------------------------------------------------------- options


def _mid(q: OptionQuote) -> float:
    if q.bid is not None and q.ask is not None and q.ask > 0:
        return (q.bid + q.ask) / 2.0
    return q.last if q.last is not None else math.nan


def create_options_flow_chart(
    quotes: Sequence[OptionQuote],
    *,
    spot: float | None = None,
    title: str | None = None,
    uirevision: Any = "options-flow",
) -> go.Figure:
    """Options activity: strike × expiry bubbles sized by volume, calls vs puts, and the
    premium traded per strike (calls up, puts down) in a lower panel.

    Bubble area is proportional to volume with a minimum size, so a 1-lot print is still
    visible next to a 10,000-lot one. Premium = volume × mid × 100. Contracts with no
    volume are left out.
    """
    rows = [q for q in quotes if q.volume]
    if not rows:
        return empty_figure("No option volume", title=title, uirevision=uirevision)
    vmax = max(float(q.volume or 0) for q in rows)
    sizeref = 2.0 * vmax / (40.0**2)
    data: list[Any] = []
    prem_by: dict[str, dict[float, float]] = {"call": {}, "put": {}}
    for right, colour, name in (("call", theme.BULL, "Calls"), ("put", theme.BEAR, "Puts")):
        side = [q for q in rows if str(q.contract.right).lower().startswith(right[0])]
        strikes = np.array([float(q.contract.strike) for q in side], dtype=np.float64)
        expiries = np.array([q.contract.expiry.isoformat() for q in side], dtype=object)
        vols = np.array([float(q.volume or 0) for q in side], dtype=np.float64)
        mids = np.array([_mid(q) for q in side], dtype=np.float64)
        prem = vols * np.nan_to_num(mids) * 100.0
        for k, p in zip(strikes, prem, strict=True):
            prem_by[right][float(k)] = prem_by[right].get(float(k), 0.0) + float(p)
        data.append(
            go.Scatter(
                x=strikes,
                y=expiries,
                mode="markers",
                name=name,
                legendgroup=right,
                marker={
                    "size": vols,
                    "sizemode": "area",
                    "sizeref": sizeref,
                    "sizemin": 5,
                    "color": colour,
                    "opacity": 0.7,
                    "line": {"color": theme.TEXT, "width": 0.5},
                },
                customdata=np.column_stack([vols, prem]) if side else None,
                hovertemplate=(
                    f"{name[:-1]} %{{x}} %{{y}}<br>vol %{{customdata[0]:,.0f}}"
                    "<br>premium $%{customdata[1]:,.0f}<extra></extra>"
                ),
                xaxis="x",
                yaxis="y",
            )
        )
    for right, colour, sign in (("call", theme.BULL, 1.0), ("put", theme.BEAR, -1.0)):
        ks = np.array(sorted(prem_by[right]), dtype=np.float64)
        ps = np.array([prem_by[right][k] for k in ks], dtype=np.float64) * sign
        data.append(
            go.Bar(
                x=ks,
                y=ps,
                name=f"{right} premium",
                legendgroup=right,
                showlegend=False,
                marker={"color": colour},
                hovertemplate="%{x}: $%{y:,.0f}<extra>" + right + " premium</extra>",
                xaxis="x",
                yaxis="y2",
            )
        )
    shapes = []
    if spot is not None and math.isfinite(spot):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": spot,
                "x1": spot,
                "y0": 0,
                "y1": 1,
                "line": {"color": theme.WARN, "width": 1, "dash": "dot"},
                "label": {"text": f"spot {_fmt_price(spot)}", "textposition": "end"},
            }
        )
    layout = _base_layout(
        title,
        uirevision,
        shapes=shapes,
        barmode="relative",
        xaxis={"anchor": "y2", "title": {"text": "Strike"}},
        yaxis={"domain": [0.38, 1.0], "type": "category", "title": {"text": "Expiry"}},
        yaxis2={"domain": [0.0, 0.3], "title": {"text": "Premium"}, "tickprefix": "$"},
    )
    return _figure(data, layout)


def _vline(
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


def create_payoff_chart(
    curve: PayoffCurve,
    *,
    spot: float | None = None,
    entry: float | None = None,
    target: float | None = None,
    stop: float | None = None,
    iv_band: tuple[PayoffCurve, PayoffCurve] | None = None,
    today: PayoffCurve | None = None,
    title: str | None = None,
    uirevision: Any = "payoff",
) -> go.Figure:
    """Payoff of an option position at expiry, today (``today.pnl_at_time``, if given) and
    at the projected date, with the IV±5
    band, breakevens and the trade's entry/target/stop on the underlying as verticals.

    ``curve`` comes from ``options.projection.payoff_curve``; ``iv_band`` is two more
    curves on the same price grid at IV − 5 and IV + 5 vol points (their at-time P&L
    bounds the band). Breakevens are the curve's own (expiry and at-time).
    """
    if curve is None or np.asarray(curve.prices).size == 0:
        return empty_figure("No payoff to draw", title=title, uirevision=uirevision)
    x = np.asarray(curve.prices, dtype=np.float64)
    data: list[Any] = []
    if iv_band is not None and all(c.pnl_at_time is not None for c in iv_band):
        a = np.asarray(iv_band[0].pnl_at_time, dtype=np.float64)
        b = np.asarray(iv_band[1].pnl_at_time, dtype=np.float64)
        data.append(
            go.Scatter(
                x=x,
                y=np.minimum(a, b),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
                name="IV band low",
            )
        )
        data.append(
            go.Scatter(
                x=x,
                y=np.maximum(a, b),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(122,162,247,0.18)",
                name="IV ±5",
                hoverinfo="skip",
            )
        )
    data.append(
        go.Scatter(
            x=x,
            y=np.asarray(curve.pnl_at_expiry, dtype=np.float64),
            mode="lines",
            name="at expiry",
            line={"color": theme.MUTED, "width": 1.5},
            hovertemplate="S %{x:,.2f}: %{y:$,.0f}<extra>expiry</extra>",
        )
    )
    if today is not None and today.pnl_at_time is not None:
        data.append(
            go.Scatter(
                x=np.asarray(today.prices, dtype=np.float64),
                y=np.asarray(today.pnl_at_time, dtype=np.float64),
                mode="lines",
                name="today",
                line={"color": theme.TEXT, "width": 1, "dash": "dot"},
                hovertemplate="S %{x:,.2f}: %{y:$,.0f}<extra>today</extra>",
            )
        )
    if curve.pnl_at_time is not None:
        days = f"+{curve.days_forward:g}d" if curve.days_forward is not None else "projected"
        data.append(
            go.Scatter(
                x=x,
                y=np.asarray(curve.pnl_at_time, dtype=np.float64),
                mode="lines",
                name=f"at {days}",
                line={"color": theme.ACCENT, "width": 2},
                hovertemplate="S %{x:,.2f}: %{y:$,.0f}<extra>" + days + "</extra>",
            )
        )
    shapes: list[dict[str, Any]] = [
        {
            "type": "line",
            "xref": "x domain",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": 0,
            "y1": 0,
            "line": {"color": theme.BORDER, "width": 1},
        }
    ]
    for value, name, colour, dash in (
        (spot, "spot", theme.TEXT, "dot"),
        (entry, "entry", theme.LEVEL_COLORS["entry"], "solid"),
        (target, "target", theme.LEVEL_COLORS["target"], "dash"),
        (stop, "stop", theme.LEVEL_COLORS["stop"], "dash"),
    ):
        if value is not None and math.isfinite(value):
            shapes.append(_vline(float(value), f"{name} {_fmt_price(value)}", colour, dash))
    breakevens = [curve.breakeven_at_expiry, *curve.breakevens_at_time]
    for k, be in enumerate(breakevens):
        tag = "BE expiry" if k == 0 else "BE"
        shapes.append(_vline(float(be), f"{tag} {_fmt_price(be)}", theme.WARN, "dot", "start"))
    layout = _base_layout(
        title,
        uirevision,
        shapes=shapes,
        xaxis={"title": {"text": "Underlying"}},
        yaxis={"title": {"text": "P&L"}, "tickprefix": "$"},
        meta={"breakevens": [float(b) for b in breakevens]},
    )
    return _figure(data, layout)


# -------------------------------------------------------------- trade progress


def create_trade_progress_chart(
    trades: Sequence[TradeProgress],
    *,
    near_stop_r: float = _NEAR_STOP_R,
    title: str | None = None,
    uirevision: Any = "trade-progress",
) -> go.Figure:
    """One row per open trade on its own normalised scale: stop −1, entry 0, T1 +1.

    Each row is a bar from 0 to the trade's position (green toward the target, red
    toward the stop), with the option's P&L as text. A trade at or past ``near_stop_r``
    gets a ⚠ in its label; a hit target (≥ 1) or stop (≤ −1) says so. Bars are clipped to
    [−1.2, 1.6] so a runaway trade does not squash the others; the hover has the value.
    """
    if not trades:
        return empty_figure("No open trades", title=title, uirevision=uirevision)
    r = np.array([t.progress_r for t in trades], dtype=np.float64)
    shown = np.clip(np.nan_to_num(r, nan=0.0), -1.2, 1.6)
    labels: list[str] = []
    texts: list[str] = []
    colours: list[str] = []
    for t, v in zip(trades, r, strict=True):
        tag = ""
        if math.isnan(v):
            tag = " (bad levels)"
        elif v >= 1.0:
            tag = " ✓ T1"
        elif v <= -1.0:
            tag = " ✕ stop"
        elif v <= near_stop_r:
            tag = " ⚠ near stop"
        labels.append(f"{t.label} {'▲' if t.direction == 'long' else '▼'}{tag}")
        pnl = ""
        if t.option_pnl is not None:
            pnl = _fmt_money(t.option_pnl)
            if t.option_pnl_pct is not None:
                pnl += f" ({t.option_pnl_pct:+.1f}%)"
        texts.append(pnl)
        if math.isnan(v):
            colours.append(theme.NEUTRAL)
        elif -1.0 < v <= near_stop_r:
            colours.append(theme.WARN)
        else:
            colours.append(theme.pnl_color(v))
    custom = np.column_stack(
        [
            r,
            np.array([t.current for t in trades], dtype=np.float64),
            np.array([t.entry for t in trades], dtype=np.float64),
            np.array([t.target for t in trades], dtype=np.float64),
            np.array([t.stop for t in trades], dtype=np.float64),
        ]
    )
    bar = dict(
        type="bar",
        x=shown,
        y=np.array(labels, dtype=object),
        orientation="h",
        marker={"color": np.array(colours, dtype=object)},
        text=np.array(texts, dtype=object),
        textposition="outside",
        customdata=custom,
        hovertemplate=(
            "%{y}<br>%{customdata[0]:+.2f} (stop −1, T1 +1)<br>now %{customdata[1]:,.2f}"
            " · entry %{customdata[2]:,.2f}<br>T1 %{customdata[3]:,.2f}"
            " · stop %{customdata[4]:,.2f}<extra></extra>"
        ),
        name="progress",
    )
    shapes = [
        _vline(-1.0, "stop", theme.LEVEL_COLORS["stop"], "dash", "start"),
        _vline(0.0, "entry", theme.LEVEL_COLORS["entry"], "solid", "start"),
        _vline(1.0, "T1", theme.LEVEL_COLORS["target"], "dash", "start"),
    ]
    layout = _base_layout(
        title,
        uirevision,
        shapes=shapes,
        showlegend=False,
        height=max(160, 48 * len(trades) + 80),
        xaxis={
            "range": [-1.3, 1.7],
            "tickvals": np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]),
            "ticktext": ["stop", "−0.5", "entry", "0.5", "T1", "1.5"],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        meta={"progress_r": [None if math.isnan(v) else float(v) for v in r]},
    )
    return _figure([bar], layout)


# ----------------------------------------------------------------------- risk


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
    layout = _base_layout(
        title,
        uirevision,
        shapes=[_vline(limit_pct, f"limit {limit_pct:g}%", theme.BEAR, "dash")],
        showlegend=False,
        xaxis={"ticksuffix": "%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "type": "category"},
        meta={"total_heat_pct": total},
    )
    return _figure([bar], layout)


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
    shapes = [_vline(-var, f"VaR {confidence:.0%} {_fmt_money(-var)}", theme.BEAR)]
    if cvar is not None:
        shapes.append(_vline(-cvar, f"CVaR {_fmt_money(-cvar)}", theme.WARN, "dot"))
    layout = _base_layout(
        title,
        uirevision,
        shapes=shapes,
        showlegend=False,
        bargap=0.02,
        xaxis={"title": {"text": "P&L"}, "tickprefix": "$"},
        yaxis={"title": {"text": "count"}},
    )
    return _figure([hist], layout)


def create_greeks_exposure_chart(
    exposures: Sequence[GreeksExposure],
    *,
    title: str | None = None,
    uirevision: Any = "risk-greeks",
) -> go.Figure:
    """Dollar delta, gamma, theta and vega per position and in total, one panel per greek
    (their units differ, so they never share an axis)."""
    if not exposures:
        return empty_figure("No greeks exposure", title=title, uirevision=uirevision)
    names = np.array([e.label for e in exposures] + ["Total"], dtype=object)
    greeks = ("delta", "gamma", "theta", "vega")
    layout = _base_layout(title, uirevision, showlegend=False, bargap=0.25)
    data: list[Any] = []
    w = 1.0 / len(greeks)
    for i, g in enumerate(greeks):
        vals = np.array([getattr(e, g) for e in exposures], dtype=np.float64)
        vals = np.append(vals, math.fsum(vals))
        ax = "" if i == 0 else str(i + 1)
        layout[f"xaxis{ax}"] = {
            "domain": [i * w + 0.03, (i + 1) * w - 0.03],
            "anchor": f"y{ax}",
            "title": {"text": g},
            "zeroline": True,
        }
        layout[f"yaxis{ax}"] = {
            "anchor": f"x{ax}",
            "type": "category",
            "autorange": "reversed",
            "showticklabels": i == 0,
        }
        data.append(
            go.Bar(
                x=vals,
                y=names,
                orientation="h",
                name=g,
                xaxis=f"x{ax}",
                yaxis=f"y{ax}",
                marker={"color": np.array([theme.pnl_color(v) for v in vals], dtype=object)},
                hovertemplate="%{y}: %{x:$,.2f}<extra>" + g + "</extra>",
            )
        )
    return _figure(data, layout)


# --------------------------------------------------------- strategy performance


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
    layout = _base_layout(
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
    return _figure(data, layout)


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
    layout = _base_layout(
        title,
        uirevision,
        barmode="overlay",
        bargap=0.05,
        shapes=[
            _vline(0.0, "0R", theme.MUTED, "solid", "start"),
            _vline(mean, f"expectancy {mean:+.2f}R", theme.WARN, "dash"),
        ],
        xaxis={"title": {"text": "R multiple"}, "ticksuffix": "R"},
        yaxis={"title": {"text": "trades"}},
        meta={"expectancy_r": mean, "trades": int(r.size)},
    )
    return _figure(data, layout)


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
                    x=pd.DatetimeIndex(s.index),
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
    layout = _base_layout(
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
    return _figure(data, layout)
