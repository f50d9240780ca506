"""Options Trading charts: options flow, the payoff at expiry and after the hold, and the
trade progress bullets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from dashboard.models import OptionQuote
from dashboard.options.projection import PayoffCurve
from dashboard.visualizations import theme
from dashboard.visualizations.figures import (
    base_layout,
    empty_figure,
    fmt_money,
    fmt_price,
    make_figure,
)
from dashboard.visualizations.inputs import TradeProgress
from dashboard.visualizations.labels import stack_rows, text_width

_NEAR_STOP_R = -0.75  # progress at or below this shows a near-stop warning


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
                "label": {"text": f"spot {fmt_price(spot)}", "textposition": "end"},
            }
        )
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        barmode="relative",
        xaxis={"anchor": "y2", "title": {"text": "Strike"}},
        yaxis={"domain": [0.38, 1.0], "type": "category", "title": {"text": "Expiry"}},
        yaxis2={"domain": [0.0, 0.3], "title": {"text": "Premium"}, "tickprefix": "$"},
    )
    return make_figure(data, layout)


# The payoff chart's geometry: a fixed-height graph (its card's slot), level tags stacked
# in rows above the plot, the legend at the bottom of the figure.
PAYOFF_HEIGHT = 420
PAYOFF_MIN_PLOT_WIDTH = 250.0  # the plot's width on a 390 px phone, a little under
TAG_FONT = 10
TAG_ROW = 17  # pixels per row of tags: one line at TAG_FONT, 1 px padding, a border
_BAND_FILL = "rgba(122,162,247,0.30)"  # theme.ACCENT at 30%: visible on the dark card


@dataclass(frozen=True, slots=True)
class _VTag:
    x: float
    text: str
    colour: str
    dash: str


def _level_tags(
    tags: Sequence[_VTag], x_lo: float, x_hi: float, *, top: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Vertical lines for the levels inside ``[x_lo, x_hi]`` and their tags above the plot
    in rows that never overlap at the narrowest plot (``PAYOFF_MIN_PLOT_WIDTH``, so at
    any wider one too); a level outside the range gets a tag with an arrow at that edge.
    Returns (shapes, annotations, rows used)."""
    scale = PAYOFF_MIN_PLOT_WIDTH / (x_hi - x_lo)
    shapes: list[dict[str, Any]] = []
    placed: list[tuple[_VTag, float, str, str]] = []  # tag, x, text, anchor
    for t in tags:
        if x_lo <= t.x <= x_hi:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "y domain",
                    "x0": t.x,
                    "x1": t.x,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": t.colour, "width": 1.2, "dash": t.dash},
                    "name": t.text,
                }
            )
            placed.append((t, t.x, t.text, "center"))
        elif t.x < x_lo:
            placed.append((t, x_lo, f"← {t.text}", "left"))
        else:
            placed.append((t, x_hi, f"{t.text} →", "right"))
    widths = [text_width(text, TAG_FONT, pad=3) for _, _, text, _ in placed]
    # Pixel centres at the narrowest width; an edge tag reaches inward from its edge.
    centres = []
    for (_, x, _, anchor), w in zip(placed, widths, strict=True):
        px = (x - x_lo) * scale
        centres.append(px + w / 2 if anchor == "left" else px - w / 2 if anchor == "right" else px)
    rows = stack_rows(centres, widths, gap=4.0)
    notes = [
        {
            "text": text,
            "name": f"tag {t.text}",
            "xref": "x",
            "x": x,
            "xanchor": anchor,
            "yref": "paper",
            "y": 1.0,
            "yanchor": "bottom",
            "yshift": top + row * TAG_ROW,
            "showarrow": False,
            "bgcolor": theme.CARD,
            "bordercolor": t.colour,
            "borderwidth": 1,
            "borderpad": 1,
            "font": {"color": t.colour, "size": TAG_FONT},
        }
        for (t, x, text, anchor), row in zip(placed, rows, strict=True)
    ]
    return shapes, notes, (max(rows) + 1) if rows else 0


def create_payoff_chart(
    curve: PayoffCurve,
    *,
    spot: float | None = None,
    entry: float | None = None,
    target: float | None = None,
    target2: float | None = None,
    stop: float | None = None,
    iv_band: tuple[PayoffCurve, PayoffCurve] | None = None,
    today: PayoffCurve | None = None,
    title: str | None = None,
    uirevision: Any = "payoff",
    height: int = PAYOFF_HEIGHT,
) -> go.Figure:
    """Payoff of an option position at expiry, today (``today.pnl_at_time``, if given) and
    at the projected date, with the IV±5 band, breakevens and the trade's
    entry/target/stop on the underlying as verticals.

    ``curve`` comes from ``options.projection.payoff_curve``; ``iv_band`` is two more
    curves on the same price grid at IV − 5 and IV + 5 vol points (their at-time P&L
    bounds the band). Breakevens are the curve's own (expiry and at-time).

    The x axis spans the curve's price grid, which the caller frames on the trade (stop to
    T2, ``views.options.ticket.payoff_frame``). Each level's tag sits above the plot, in
    rows laid out so that no two overlap (``labels.stack_rows``); a level outside the grid
    is named at that edge with an arrow. The legend sits at the bottom of the figure.
    """
    if curve is None or np.asarray(curve.prices).size == 0:
        return empty_figure("No payoff to draw", title=title, uirevision=uirevision)
    x = np.asarray(curve.prices, dtype=np.float64)
    data: list[Any] = []
    if iv_band is not None and all(c.pnl_at_time is not None for c in iv_band):
        a = np.asarray(iv_band[0].pnl_at_time, dtype=np.float64)
        b = np.asarray(iv_band[1].pnl_at_time, dtype=np.float64)
        edge = {"color": theme.ACCENT, "width": 0.8, "dash": "dot"}
        data.append(
            go.Scatter(
                x=x,
                y=np.minimum(a, b),
                mode="lines",
                line=edge,
                showlegend=False,
                legendgroup="iv-band",
                hoverinfo="skip",
                name="IV band low",
            )
        )
        data.append(
            go.Scatter(
                x=x,
                y=np.maximum(a, b),
                mode="lines",
                line=edge,
                fill="tonexty",
                fillcolor=_BAND_FILL,
                legendgroup="iv-band",
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
    tags: list[_VTag] = []
    for value, name, colour, dash in (
        (spot, "spot", theme.TEXT, "dot"),
        (entry, "entry", theme.LEVEL_COLORS["entry"], "solid"),
        (target, "T1" if target2 is not None else "target", theme.LEVEL_COLORS["target"], "dash"),
        (target2, "T2", theme.LEVEL_COLORS["target"], "dot"),
        (stop, "stop", theme.LEVEL_COLORS["stop"], "dash"),
    ):
        if value is not None and math.isfinite(value):
            tags.append(_VTag(float(value), f"{name} {fmt_price(value)}", colour, dash))
    breakevens = [curve.breakeven_at_expiry, *curve.breakevens_at_time]
    for k, be in enumerate(breakevens):
        tag = "BE expiry" if k == 0 else "BE"
        tags.append(_VTag(float(be), f"{tag} {fmt_price(be)}", theme.WARN, "dot"))
    x_lo, x_hi = float(x.min()), float(x.max())
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    head = 26 if title else 4  # room for the title above the tags
    level_shapes, notes, rows = _level_tags(tags, x_lo, x_hi, top=2.0)
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
        },
        *level_shapes,
    ]
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        annotations=notes,
        height=height,
        margin={"t": head + rows * TAG_ROW + 4, "b": 92, "l": 56, "r": 16},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0.0,
            "yanchor": "bottom",
            "x": 0.0,
            "xanchor": "left",
        },
        xaxis={
            "title": {"text": "Underlying", "standoff": 4},
            "range": [x_lo, x_hi],
            "automargin": False,
        },
        yaxis={"title": {"text": "P&L"}, "tickprefix": "$", "automargin": "left+right"},
        meta={"breakevens": [float(b) for b in breakevens], "tag_rows": rows},
    )
    if title:
        layout["title"] = {
            "text": title,
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 6},
        }
    return make_figure(data, layout)


PROGRESS_FONT = 11


def create_trade_progress_chart(
    trades: Sequence[TradeProgress],
    *,
    near_stop_r: float = _NEAR_STOP_R,
    title: str | None = None,
    uirevision: Any = "trade-progress",
) -> go.Figure:
    """One row per open trade on its own normalised scale: stop −1, entry 0, T1 +1.

    Each row is a bar from 0 to the trade's position (green toward the target, red
    toward the stop). A trade at or past ``near_stop_r`` gets a ⚠ in its label; a hit
    target (≥ 1) or stop (≤ −1) says so. Bars are clipped to [−1.2, 1.6] so a runaway
    trade does not squash the others; the hover has the value.

    Three columns that cannot overprint: the trade labels on the left (the category
    axis), the bars in the plot, and each trade's option P&L in the right margin at its
    row. The stop, entry and T1 lines are named by the x axis' ticks. Two trades with the
    same label get "(2)", "(3)" so each keeps its own row.
    """
    if not trades:
        return empty_figure("No open trades", title=title, uirevision=uirevision)
    r = np.array([t.progress_r for t in trades], dtype=np.float64)
    shown = np.clip(np.nan_to_num(r, nan=0.0), -1.2, 1.6)
    labels: list[str] = []
    texts: list[str] = []
    colours: list[str] = []
    seen: dict[str, int] = {}
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
        label = f"{t.label} {'▲' if t.direction == 'long' else '▼'}{tag}"
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
        pnl = ""
        if t.option_pnl is not None:
            pnl = fmt_money(t.option_pnl)
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
        customdata=custom,
        hovertemplate=(
            "%{y}<br>%{customdata[0]:+.2f} (stop −1, T1 +1)<br>now %{customdata[1]:,.2f}"
            " · entry %{customdata[2]:,.2f}<br>T1 %{customdata[3]:,.2f}"
            " · stop %{customdata[4]:,.2f}<extra></extra>"
        ),
        name="progress",
    )
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "y domain",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"color": colour, "width": 1, "dash": dash},
            "name": name,
        }
        for x, name, colour, dash in (
            (-1.0, "stop", theme.LEVEL_COLORS["stop"], "dash"),
            (0.0, "entry", theme.LEVEL_COLORS["entry"], "solid"),
            (1.0, "T1", theme.LEVEL_COLORS["target"], "dash"),
        )
    ]
    notes: list[dict[str, Any]] = [
        {
            "text": text,
            "name": f"pnl {label}",
            "xref": "paper",
            "x": 1.0,
            "xanchor": "left",
            "xshift": 6,
            "yref": "y",
            "y": label,
            "showarrow": False,
            "font": {"size": PROGRESS_FONT, "color": theme.pnl_color(t.option_pnl or 0.0)},
        }
        for t, label, text in zip(trades, labels, texts, strict=True)
        if text
    ]
    widest = max((text_width(str(n["text"]), PROGRESS_FONT) for n in notes), default=0.0)
    layout = base_layout(
        title,
        uirevision,
        shapes=shapes,
        annotations=notes,
        showlegend=False,
        height=max(160, 48 * len(trades) + 80),
        margin={"r": math.ceil(widest) + 12},
        xaxis={
            "range": [-1.3, 1.7],
            "tickvals": np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]),
            "ticktext": ["stop", "−0.5", "entry", "0.5", "T1", "1.5"],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        meta={"progress_r": [None if math.isnan(v) else float(v) for v in r]},
    )
    return make_figure([bar], layout)
