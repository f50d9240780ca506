"""Options Trading charts: progress, payoff and flow."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from dashboard.models import OptionContract, OptionQuote
from dashboard.options.projection import payoff_curve
from dashboard.visualizations import options_charts as charts
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    TradeProgress,
)
from dashboard.visualizations.labels import text_width


@pytest.mark.parametrize(
    ("trade", "expected"),
    [
        (TradeProgress("SPY C", "long", 100, 102, 104, 98), 0.5),  # call, halfway to T1
        (TradeProgress("SPY C", "long", 100, 99, 104, 98), -0.5),  # halfway to stop
        (TradeProgress("QQQ P", "short", 100, 97, 96, 102), 0.75),  # put: down is progress
        (TradeProgress("QQQ P", "short", 100, 101, 96, 102), -0.5),
        (TradeProgress("hit T1", "long", 100, 105, 104, 98), 1.25),
        (TradeProgress("hit stop", "long", 100, 97.5, 104, 98), -1.25),
        (TradeProgress("bad", "long", 100, 101, 99, 98), math.nan),  # T1 below a long entry
    ],
)
def test_progress_r(trade, expected):
    if math.isnan(expected):
        assert math.isnan(trade.progress_r)
    else:
        assert trade.progress_r == pytest.approx(expected)
        assert trade.progress_pct == pytest.approx(expected * 100)


def test_trade_progress_chart_rows_flags_and_pnl():
    trades = [
        TradeProgress("SPY 600C", "long", 100, 102, 104, 98, option_pnl=120.0, option_pnl_pct=30),
        TradeProgress("QQQ 500P", "short", 100, 97, 96, 102, option_pnl=-15.5),
        TradeProgress("IWM 200C", "long", 100, 105, 104, 98),
        TradeProgress("TSLA 300P", "short", 100, 102.5, 96, 102),
        TradeProgress("AAPL 220C", "long", 100, 98.4, 104, 98),
    ]
    fig = charts.create_trade_progress_chart(trades, uirevision="p")
    (bar,) = fig.data
    assert fig.layout.meta["progress_r"] == pytest.approx([0.5, 0.75, 1.25, -1.25, -0.8])
    assert list(bar.x) == pytest.approx([0.5, 0.75, 1.25, -1.2, -0.8])  # clipped at −1.2
    labels = list(bar.y)
    assert labels[0] == "SPY 600C ▲" and labels[1] == "QQQ 500P ▼"
    assert labels[2].endswith("✓ T1") and labels[3].endswith("✕ stop")
    assert labels[4].endswith("⚠ near stop")
    # the P&L is a column in the right margin at each trade's row, never on the bars
    pnl = {a.y: a.text for a in fig.layout.annotations}
    assert pnl == {labels[0]: "$120.00 (+30.0%)", labels[1]: "-$15.50"}
    assert all(a.xref == "paper" and a.x == 1.0 for a in fig.layout.annotations)
    assert fig.layout.margin.r >= 100  # "$120.00 (+30.0%)" fits beside the plot
    assert list(bar.marker.color) == [theme.BULL, theme.BULL, theme.BULL, theme.BEAR, theme.WARN]
    assert [s.x0 for s in fig.layout.shapes] == [-1.0, 0.0, 1.0]
    assert not any(s.label.text for s in fig.layout.shapes)  # the x ticks name them
    assert list(fig.layout.xaxis.ticktext)[::2] == ["stop", "entry", "T1"]
    assert fig.layout.uirevision == "p"
    assert charts.create_trade_progress_chart([]).layout.meta["empty_kind"] == "empty"


def test_trades_with_the_same_label_keep_their_own_rows():
    same = TradeProgress("SPY 600C", "long", 100, 102, 104, 98)
    (bar,) = charts.create_trade_progress_chart([same, same]).data
    assert list(bar.y) == ["SPY 600C ▲", "SPY 600C ▲ (2)"]


def test_payoff_breakevens_and_verticals_match_hand_numbers():
    curve = payoff_curve(
        right="call", strike=100, premium=2.5, spot=100, years=30 / 365, iv=0.25, days_forward=10
    )
    lo = payoff_curve(
        right="call",
        strike=100,
        premium=2.5,
        prices=curve.prices,
        years=30 / 365,
        iv=0.20,
        days_forward=10,
    )
    hi = payoff_curve(
        right="call",
        strike=100,
        premium=2.5,
        prices=curve.prices,
        years=30 / 365,
        iv=0.30,
        days_forward=10,
    )
    fig = charts.create_payoff_chart(
        curve, spot=100, entry=101.01, target=104, stop=98.5, iv_band=(lo, hi)
    )
    be = fig.layout.meta["breakevens"]
    assert be[0] == pytest.approx(102.5)  # strike + premium
    assert len(be) == 2 and 100 < be[1] < 102.5  # time value lowers the at-time breakeven
    names = {s.name: s for s in fig.layout.shapes if s.name}
    assert names["BE expiry 102.50"].x0 == pytest.approx(102.5)
    assert names["target 104.00"].x0 == 104 and names["stop 98.50"].x0 == 98.5
    assert names["entry 101.01"].yref == "y domain"
    expiry = next(t for t in fig.data if t.name == "at expiry")
    i = int(np.argmin(abs(np.asarray(expiry.x) - 110)))
    assert expiry.y[i] == pytest.approx((expiry.x[i] - 100 - 2.5) * 100)
    band = [t for t in fig.data if t.name in ("IV band low", "IV ±5")]
    assert len(band) == 2 and band[1].fill == "tonexty"
    assert np.all(np.asarray(band[1].y) >= np.asarray(band[0].y))

    put = payoff_curve(right="put", strike=50, premium=1.2)
    assert charts.create_payoff_chart(put).layout.meta["breakevens"] == pytest.approx([48.8])


def _quote(right, strike, expiry, volume, bid, ask):
    c = OptionContract(
        symbol=f"SPY{expiry:%y%m%d}{right[0].upper()}{int(strike * 1000):08d}",
        underlying="SPY",
        expiry=expiry,
        right=right,
        strike=Decimal(str(strike)),
    )
    return OptionQuote(
        contract=c,
        bid=bid,
        ask=ask,
        last=None,
        volume=volume,
        open_interest=None,
        iv=None,
        delta=None,
        gamma=None,
        theta=None,
        vega=None,
        as_of=None,
    )


def test_options_flow_bubbles_and_premium():
    e1, e2 = date(2026, 12, 18), date(2027, 1, 15)
    quotes = [
        _quote("call", 600, e1, 1000, 2.0, 2.2),
        _quote("call", 600, e2, 1, 5.0, 5.2),
        _quote("put", 590, e1, 200, 1.0, 1.1),
        _quote("put", 580, e1, 0, 0.5, 0.6),  # no volume: left out
    ]
    fig = charts.create_options_flow_chart(quotes, spot=598.0)
    calls, puts, call_prem, put_prem = fig.data
    assert list(calls.x) == [600, 600] and list(calls.y) == ["2026-12-18", "2027-01-15"]
    assert list(calls.marker.size) == [1000, 1]
    assert calls.marker.sizemin >= 5  # a 1-lot stays visible
    assert calls.marker.color == theme.BULL and puts.marker.color == theme.BEAR
    assert list(puts.x) == [590]
    assert list(call_prem.y) == pytest.approx([1000 * 2.1 * 100 + 1 * 5.1 * 100])
    assert list(put_prem.y) == pytest.approx([-200 * 1.05 * 100])
    assert {call_prem.yaxis, put_prem.yaxis} == {"y2"}
    assert fig.layout.shapes[0].x0 == 598.0
    assert charts.create_options_flow_chart(quotes[3:]).layout.meta["empty_kind"] == "empty"


def test_payoff_today_curve_is_black_scholes_now_minus_premium():
    from dashboard.options.pricing import bs_price

    kw = dict(right="call", strike=100, premium=2.5, spot=100, years=30 / 365, iv=0.25)
    curve = payoff_curve(days_forward=10, **kw)
    today = payoff_curve(prices=curve.prices, days_forward=0.0, **kw)
    fig = charts.create_payoff_chart(curve, today=today, spot=100)
    line = next(t for t in fig.data if t.name == "today")
    i = int(np.argmin(abs(np.asarray(line.x) - 103)))
    s = float(line.x[i])
    expected = (float(bs_price(s, 100, 30 / 365, 0.04, 0.25, "C")) - 2.5) * 100
    assert line.y[i] == pytest.approx(expected, rel=1e-6)


def _tag_boxes(fig) -> list[tuple[int, float, float, str]]:
    """(row, left px, right px, text) of each level tag at the narrowest plot width."""
    lo, hi = fig.layout.xaxis.range
    scale = charts.PAYOFF_MIN_PLOT_WIDTH / (hi - lo)
    out = []
    for a in fig.layout.annotations:
        row = round((a.yshift - 2.0) / charts.TAG_ROW)
        w = text_width(a.text, charts.TAG_FONT, pad=3)
        px = (a.x - lo) * scale
        left = {"center": px - w / 2, "left": px, "right": px - w}[a.xanchor]
        out.append((row, left, left + w, a.text))
    return out


def test_payoff_tags_stack_so_none_overlap_and_the_frame_is_the_grid():
    # Levels a few cents apart (the SPY put): every tag is still readable.
    prices = np.linspace(585.0, 604.0, 201)
    kw = dict(right="put", strike=596, premium=3.1, prices=prices, years=20 / 365, iv=0.18)
    curve = payoff_curve(days_forward=3, **kw)
    band = (payoff_curve(days_forward=3, **{**kw, "iv": 0.13}),
            payoff_curve(days_forward=3, **{**kw, "iv": 0.23}))  # fmt: skip
    fig = charts.create_payoff_chart(
        curve, spot=594.9, entry=594.5, target=590.2, target2=588.0, stop=599.3, iv_band=band
    )
    assert tuple(fig.layout.xaxis.range) == (585.0, 604.0)
    boxes = _tag_boxes(fig)
    texts = {t for *_, t in boxes}
    assert {"spot 594.90", "entry 594.50", "T1 590.20", "T2 588.00", "stop 599.30"} <= texts
    assert len(boxes) == 5 + len(fig.layout.meta["breakevens"])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[0] == b[0]:
                assert a[2] <= b[1] or b[2] <= a[1], (a, b)
    rows = fig.layout.meta["tag_rows"]
    assert fig.layout.margin.t >= rows * charts.TAG_ROW  # the rows fit above the plot
    # the legend sits below the plot, the IV band is drawn with a visible fill
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.margin.b >= 80
    (upper,) = [t for t in fig.data if t.name == "IV ±5"]
    assert float(upper.fillcolor.rsplit(",", 1)[1].rstrip(")")) >= 0.25
    assert upper.line.width > 0


def test_a_level_outside_the_grid_is_named_at_its_edge():
    curve = payoff_curve(right="call", strike=100, premium=2.0, prices=np.linspace(95, 105, 11))
    fig = charts.create_payoff_chart(curve, spot=100.0, target=112.0, stop=90.0)
    tags = {a.text: a for a in fig.layout.annotations}
    assert tags["target 112.00 →"].x == 105 and tags["target 112.00 →"].xanchor == "right"
    assert tags["← stop 90.00"].x == 95 and tags["← stop 90.00"].xanchor == "left"
    assert not [s for s in fig.layout.shapes if s.name in ("target 112.00", "stop 90.00")]
