"""The STRAT candlestick chart: per-type traces, labels, levels in bar units, regimes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashboard.strat import detect_patterns, evaluate_setups
from dashboard.strat.signals import Level, Pattern, Setup, SetupStatus
from dashboard.visualizations import enhanced_charts as ec
from dashboard.visualizations import figures, strat_chart, theme
from dashboard.visualizations.enhanced_charts import create_strat_candlestick_chart
from dashboard.visualizations.labels import frame_bars

# Bars (oldest first): ref, 2U, 1, 2D, 3. Highs/lows chosen by hand against the rules.
HIGH = [10.0, 11.0, 10.5, 10.4, 11.5]
LOW = [9.0, 9.5, 9.6, 9.2, 9.0]
OPEN = [9.5, 9.6, 10.0, 10.3, 9.4]
CLOSE = [9.8, 10.8, 9.9, 9.3, 11.2]


def frame(high=HIGH, low=LOW, open_=OPEN, close=CLOSE, start="2024-01-05 14:30", freq="1D"):
    idx = pd.date_range(start, periods=len(high), freq=freq, tz="UTC")
    return pd.DataFrame(
        {
            "open": np.asarray(open_, float),
            "high": np.asarray(high, float),
            "low": np.asarray(low, float),
            "close": np.asarray(close, float),
            "volume": np.arange(1, len(high) + 1, dtype=float) * 100,
        },
        index=idx,
    )


def by_name(fig, name):
    return [t for t in fig.data if t.name == name]


def candles(fig):
    return {t.name: t for t in fig.data if t.type == "candlestick"}


def test_one_candlestick_trace_per_type_with_its_colour_and_only_its_bars():
    fig = create_strat_candlestick_chart(frame())
    c = candles(fig)
    assert list(c) == ["1 inside", "2U up", "2D down", "3 outside", "unclassified"]
    expected = {
        "1 inside": [2],
        "2U up": [1],
        "2D down": [3],
        "3 outside": [4],
        "unclassified": [0],
    }
    for name, bars in expected.items():
        assert list(c[name].x) == bars, name
        assert list(c[name].open) == pytest.approx([OPEN[i] for i in bars])
        assert list(c[name].close) == pytest.approx([CLOSE[i] for i in bars])
    assert c["1 inside"].increasing.line.color == "#9e9e9e" == theme.STRAT_COLORS["1"]
    assert c["2U up"].increasing.line.color == theme.BULL
    assert c["2U up"].decreasing.line.color == theme.BULL
    assert c["2D down"].decreasing.fillcolor == theme.BEAR
    assert c["3 outside"].increasing.line.color == "#ffd54f"
    # every bar appears in exactly one candle trace
    assert sorted(np.concatenate([t.x for t in c.values()]).tolist()) == [0, 1, 2, 3, 4]


def test_type_labels_text_position_and_toggle():
    fig = create_strat_candlestick_chart(frame())
    labels = by_name(fig, "type labels")
    assert [t.text for t in labels] == ["1", "2U", "2D", "3"]
    assert [list(t.x) for t in labels] == [[2], [1], [3], [4]]
    assert [float(t.y[0]) for t in labels] == pytest.approx([LOW[2], LOW[1], LOW[3], LOW[4]])
    assert {t.legendgroup for t in labels} == {"type-labels"}
    assert fig.layout.showlegend is False  # the card's switches replace the legend
    assert all(t.visible is True for t in labels)
    hidden = create_strat_candlestick_chart(frame(), show_labels=False)
    assert all(t.visible == "legendonly" for t in by_name(hidden, "type labels"))


def test_nan_bar_is_masked_and_unclassified():
    high = list(HIGH)
    high[2] = np.nan
    fig = create_strat_candlestick_chart(frame(high=high))
    c = candles(fig)
    shown = np.concatenate([t.x for t in c.values()]).tolist()
    assert 2 not in shown  # the NaN bar is drawn nowhere
    assert list(c["unclassified"].x) == [0, 3]  # bar after the NaN has no reference
    assert list(c["2U up"].x) == [1]


def test_given_bar_types_are_used():
    fig = create_strat_candlestick_chart(frame(), bar_types=[0, 3, 3, 3, 3])
    assert list(candles(fig)["3 outside"].x) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="5 bars"):
        create_strat_candlestick_chart(frame(), bar_types=[0, 1])


def test_volume_panel_and_bar_index_axis():
    fig = create_strat_candlestick_chart(frame(), uirevision="SPY-1Day")
    vols = [t for t in fig.data if t.type == "bar"]
    assert {t.yaxis for t in vols} == {"y2"}
    assert sum(len(t.x) for t in vols) == 5
    assert float(by_name(fig, "2U up volume")[0].y[0]) == 200.0
    assert fig.layout.uirevision == "SPY-1Day"
    assert fig.layout.xaxis.anchor == "y2"
    assert fig.layout.xaxis.rangeslider.visible is False
    assert tuple(fig.layout.xaxis.range) == (-0.5, 4.5)
    # tick labels come from the timestamps, in New York time, daily → date only: plotly
    # places integer bar ticks for the width, and each bar's position reads as its date
    assert fig.layout.xaxis.tickformat == "d"
    assert fig.layout.xaxis.labelalias["0"] == "2024-01-05"
    assert fig.layout.xaxis.labelalias["4"] == "2024-01-09"
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # price above volume


def test_intraday_ticks_and_hover_show_time():
    fig = create_strat_candlestick_chart(frame(freq="15min"))
    assert fig.layout.xaxis.labelalias["0"] == "01-05 09:30"
    assert list(candles(fig)["2U up"].hovertext) == ["01-05 09:45"]


def _pattern(direction="long") -> Pattern:
    return Pattern(
        name="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction=direction,
        bar_indices=(1, 2),
        entry=Level(10.51, "setup-bar high + 1 tick"),
        stop=Level(9.6, "setup-bar low"),
        targets=(Level(11.0, "C2 high"), Level(12.0, "ladder high")),
    )


def _level_segments(trace):
    x = np.asarray(trace.x, dtype=float)
    y = np.asarray(trace.y, dtype=float)
    return [(x[i], x[i + 1], y[i]) for i in range(0, len(x), 3)]


def test_setup_lines_run_in_bars_from_setup_to_trigger_and_resolution():
    p = _pattern()
    setup = Setup(
        pattern=p,
        status=SetupStatus.TARGET_HIT,
        end_index=4,
        triggered_index=3,
        resolved_index=4,
    )
    fig = create_strat_candlestick_chart(frame(), patterns=[setup])
    (entry,) = by_name(fig, "Entry")
    (stop,) = by_name(fig, "Stop")
    (targets,) = by_name(fig, "Targets")
    assert _level_segments(entry) == [(2.0, 3.0, 10.51)]  # setup bar 2 → trigger bar 3
    assert _level_segments(stop) == [(2.0, 4.0, 9.6)]  # → resolution bar 4
    assert _level_segments(targets) == [(2.0, 4.0, 11.0), (2.0, 4.0, 12.0)]
    # each level's hover names it and its rule; no text is drawn on the plot
    assert entry.mode == stop.mode == targets.mode == "lines"
    assert list(entry.hovertext)[:2] == ["Entry 10.51 · setup-bar high + 1 tick"] * 2
    assert list(stop.hovertext)[1] == "Stop 9.60 · setup-bar low"
    assert [t for t in targets.hovertext if t][::2] == [
        "T1 11.00 · C2 high",
        "T2 12.00 · ladder high",
    ]
    (trig,) = by_name(fig, "long triggers")
    assert list(trig.x) == [3] and list(trig.y) == [10.51]
    assert trig.marker.symbol == "triangle-up"
    assert "target_hit" in trig.hovertext[0]


def test_pending_pattern_on_last_bar_extends_one_bar_into_the_forming_bar():
    p = Pattern(
        name="2-2",
        label="2U-2D",
        kind="reversal",
        direction="short",
        bar_indices=(4,),
        entry=Level(8.99, "setup-bar low - 1 tick"),
        stop=Level(11.5, "setup-bar high"),
        targets=(),
    )
    fig = create_strat_candlestick_chart(frame(), patterns=[p])
    assert _level_segments(by_name(fig, "Entry")[0]) == [(4.0, 5.0, 8.99)]
    assert not by_name(fig, "Targets")
    assert fig.layout.xaxis.range[1] == 5.5


def test_expired_setup_entry_line_ends_at_expiry_bar():
    setup = Setup(pattern=_pattern(), status=SetupStatus.EXPIRED, end_index=4)
    fig = create_strat_candlestick_chart(frame(), patterns=[setup])
    assert _level_segments(by_name(fig, "Entry")[0]) == [(2.0, 4.0, 10.51)]
    assert not [t for t in fig.data if "triggers" in (t.name or "")]


def test_engine_setups_draw_from_real_detection():
    # 2D, 1, then a bar breaking the inside high: a 2-1-2 long that triggers on bar 3.
    df = frame(
        high=[10.0, 9.8, 9.7, 10.2, 10.3],
        low=[9.0, 8.5, 8.8, 9.5, 9.9],
        open_=[9.5, 9.6, 9.0, 9.6, 10.0],
        close=[9.6, 8.7, 9.5, 10.1, 10.2],
    )
    pats = [p for p in detect_patterns(df.high, df.low, df.open, df.close) if p.name == "2-1-2"]
    assert pats
    setups = evaluate_setups(pats, df.high, df.low, df.close, df.index)
    fig = create_strat_candlestick_chart(df, patterns=setups)
    s = setups[0]
    seg = _level_segments(by_name(fig, "Entry")[0])[0]
    assert seg[0] == s.pattern.setup_index == 2
    assert seg[1] == s.triggered_index == 3
    assert seg[2] == s.pattern.entry.price


def test_regime_shading_is_on_the_price_panel_in_bar_units():
    regimes = ["TREND_BULL", "TREND_BULL", "CRASH", "CRASH", "TREND_BULL"]
    fig = create_strat_candlestick_chart(frame(), regimes=regimes)
    shapes = fig.layout.shapes
    assert len(shapes) == 3
    assert {(s.xref, s.yref) for s in shapes} == {("x", "y domain")}
    assert [(s.x0, s.x1) for s in shapes] == [(-0.5, 1.5), (1.5, 3.5), (3.5, 4.5)]
    assert [(s.y0, s.y1) for s in shapes] == [(0, 1)] * 3
    assert shapes[0].fillcolor == theme.REGIME_COLORS["TREND_BULL"]
    assert shapes[1].fillcolor == theme.REGIME_COLORS["CRASH"]
    assert {s.layer for s in shapes} == {"below"}
    assert [s.showlegend for s in shapes] == [True, True, False]


def test_regime_series_is_aligned_by_time():
    df = frame()
    reg = pd.Series(["TREND_BEAR", "TREND_NEUTRAL"], index=df.index[[0, 3]])
    fig = create_strat_candlestick_chart(df, regimes=reg)
    assert [(s.x0, s.x1, s.name) for s in fig.layout.shapes] == [
        (-0.5, 2.5, "Bear trend"),
        (2.5, 4.5, "Neutral"),
    ]


def test_extra_levels_span_the_whole_chart_with_their_rule():
    fig = create_strat_candlestick_chart(frame(), levels=[Level(10.25, "prior day high")])
    (lv,) = by_name(fig, "Levels")
    assert _level_segments(lv) == [(0.0, 4.0, 10.25)]
    assert "10.25 · prior day high" in lv.hovertext[1]
    assert "10.25" in {a.text for a in fig.layout.annotations}  # tagged on the price scale


def test_empty_one_bar_and_all_nan():
    empty = create_strat_candlestick_chart(frame().iloc[:0], uirevision="u")
    assert empty.layout.meta["empty_kind"] == "empty"
    assert "No bars" in empty.layout.annotations[0].text
    assert empty.layout.uirevision == "u"
    assert not empty.data

    one = create_strat_candlestick_chart(frame().iloc[:1])
    c = candles(one)
    assert list(c["unclassified"].x) == [0]
    assert sum(len(t.x) for t in c.values()) == 1
    assert tuple(one.layout.xaxis.range) == (-0.5, 0.5)

    nan = frame()
    nan[["open", "high", "low", "close"]] = np.nan
    fig = create_strat_candlestick_chart(nan)
    assert sum(len(t.x) for t in candles(fig).values()) == 0


def test_prices_travel_as_typed_arrays_and_fall_back_to_float64_when_needed():
    fig = create_strat_candlestick_chart(frame())
    payload = json.loads(fig.to_json())
    c = next(t for t in payload["data"] if t["name"] == "2U up")
    assert c["open"]["dtype"] == "f4" and c["x"]["dtype"] == "u2"
    # exact cents survive float32 at this size...
    assert float(np.float32(candles(fig)["2U up"].open[0])) == pytest.approx(9.6, abs=1e-6)
    assert candles(fig)["2U up"].yhoverformat == ",.2f"
    # ...but not above ~131k, so those prices stay float64
    big = frame(*(np.asarray(a) + 200_000.01 for a in (HIGH, LOW, OPEN, CLOSE)))
    c2 = next(t for t in json.loads(big.pipe(create_strat_candlestick_chart).to_json())["data"])
    assert c2["open"]["dtype"] == "f8"


def test_fifty_thousand_bars_build_with_right_lengths():
    n = 50_000
    rng = np.random.default_rng(3)
    close = np.round(100 + np.cumsum(rng.normal(0, 0.3, n)), 2)
    high = close + np.round(rng.exponential(0.2, n), 2)
    low = close - np.round(rng.exponential(0.2, n), 2)
    df = frame(high, low, close, close, start="2024-01-02 14:30", freq="5min")
    regimes = np.where((np.arange(n) // 1000) % 2 == 0, "TREND_BULL", "TREND_BEAR")
    fig = create_strat_candlestick_chart(df, regimes=regimes)
    c = candles(fig)
    assert sum(len(t.x) for t in c.values()) == n
    assert sum(len(t.x) for t in fig.data if t.type == "bar") == n
    assert c["2U up"].x.dtype == np.uint16
    assert len(fig.layout.shapes) == 50
    assert fig.layout.meta["bars"] == n


def test_unvalidated_figures_serialise_exactly_like_validated_ones(monkeypatch) -> None:
    """Production skips plotly's validation; the browser must get the same JSON."""
    import plotly.graph_objects as go

    from dashboard.strat.setups import evaluate_setups
    from dashboard.visualizations.inputs import TradeProgress

    df = frame()
    h, lo, c = (df[k].to_numpy() for k in ("high", "low", "close"))
    setups = evaluate_setups([_pattern()], h, lo, c, df.index, 3)
    progress = [TradeProgress("SPY C", "long", 100, 104, 110, 95, 150.0, 25.0)]

    def build() -> list[go.Figure]:
        return [
            ec.create_strat_candlestick_chart(
                df, patterns=setups, regimes=["TREND_BULL"] * len(df)
            ),
            ec.create_trade_progress_chart(progress),
            ec.create_pnl_waterfall({"SPY": 12.5, "QQQ": -3.0}, expected_total=1.0),
            ec.create_equity_curve(df["close"]),
            ec.empty_figure("nothing", kind="error"),
        ]

    validated = [json.loads(f.to_json()) for f in build()]
    monkeypatch.setattr(figures, "VALIDATE_FIGURES", False)
    assert [json.loads(f.to_json()) for f in build()] == validated  # key order may differ


# ----------------------------------------------------------------------------- framing


def _walk(n: int = 120, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1.2, n))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0.1, 1.5, n)
    low = np.minimum(open_, close) - rng.uniform(0.1, 1.5, n)
    return frame(high=high, low=low, open_=open_, close=close)


def _tag_pixels(fig, height: int) -> dict[str, float]:
    """Each price tag's centre in pixels up from the figure's bottom, from its price and
    its leader's offset (``ay`` is pixels down from the price to the tag)."""
    plot_h = height - fig.layout.margin.t - fig.layout.margin.b
    d0, d1 = fig.layout.yaxis.domain
    lo, hi = fig.layout.yaxis.range
    out = {}
    for a in fig.layout.annotations:
        want = fig.layout.margin.b + (d0 + (a.y - lo) / (hi - lo) * (d1 - d0)) * plot_h
        out[a.text] = want - a.ay
    return out


def test_the_selected_setup_is_framed_and_tagged_and_others_are_faint():
    df = _walk()
    h, lo, o, c = (df[k].to_numpy() for k in ("high", "low", "open", "close"))
    pats = detect_patterns(h, lo, o, c, since=80)
    setups = evaluate_setups(pats, h, lo, c, df.index, 3, open=o)
    assert len(setups) >= 2
    chosen = setups[-1]
    fig = create_strat_candlestick_chart(df, patterns=setups, selected=chosen, height=420)
    first, last = fig.layout.meta["frame"]
    p = chosen.pattern
    f0, f1 = frame_bars(len(df), p.bar_indices[0], min(chosen.end_index, 119))
    # a setup on the last closed bar runs its lines one bar on, into the forming bar
    assert (first, last) == (f0, max(f1, chosen.end_index, p.setup_index + 1))
    assert 40 <= last - first + 1 <= 81
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    assert (x0, x1) == (first - 0.5, last + 0.5)
    for name in ("Entry", "Stop", "Targets"):
        (trace,) = by_name(fig, name)
        xs, ys = np.asarray(trace.x, float), np.asarray(trace.y, float)
        xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
        assert xs.min() >= x0 and xs.max() <= x1, name
        assert ys.min() >= y0 and ys.max() <= y1, name
    window = df.iloc[first : last + 1]
    assert y0 <= window["low"].min() and window["high"].max() <= y1
    # the others are there, faint, and not tagged
    assert by_name(fig, "Other entries")[0].opacity == 0.45
    tags = {a.text for a in fig.layout.annotations}
    expected = {f"Entry {p.entry.price:,.2f}", f"Stop {p.stop.price:,.2f}"}
    expected |= {f"T{k} {t.price:,.2f}" for k, t in enumerate(p.targets, start=1)}
    expected.add(f"Last {c[-1]:,.2f}")
    assert tags == expected
    assert all(
        a.xref == "paper" and a.x == 1.0 and a.xanchor == "left" for a in fig.layout.annotations
    )
    assert fig.layout.margin.r >= 80  # room for "Entry 100.00" in the margin


def test_tags_of_close_levels_are_spread_a_tag_height_apart_inside_the_figure():
    df = _walk()
    p = Pattern(
        name="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction="long",
        bar_indices=(116, 117),
        entry=Level(100.00, "setup-bar high + 1 tick"),
        stop=Level(99.98, "setup-bar low"),
        targets=(Level(100.02, "C2 high"), Level(100.03, "ladder high")),
    )
    last = float(df["close"].iloc[-1])
    df.loc[df.index[-1], ["open", "close"]] = 100.01  # the price sits among the levels too
    fig = create_strat_candlestick_chart(df, selected=p, height=420)
    pixels = sorted(_tag_pixels(fig, 420).values())
    assert len(pixels) == 5
    gaps = np.diff(pixels)
    assert gaps.min() >= strat_chart.TAG_HEIGHT  # no two tags overprint
    assert pixels[0] - strat_chart.TAG_HEIGHT / 2 >= strat_chart.MARGIN_BOTTOM - 1e-6
    assert pixels[-1] + strat_chart.TAG_HEIGHT / 2 <= 420
    assert last != 100.01


def test_without_a_selection_the_whole_history_shows_and_only_the_price_is_tagged():
    df = _walk()
    fig = create_strat_candlestick_chart(df)
    assert tuple(fig.layout.xaxis.range) == (-0.5, 119.5)
    assert [a.text for a in fig.layout.annotations] == [f"Last {df['close'].iloc[-1]:,.2f}"]
