"""The rest of the figure library: values on the figure, checked against hand-worked numbers."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from dashboard.models import Account, Clock, OptionContract, OptionQuote
from dashboard.options.attribution import Attribution
from dashboard.options.projection import payoff_curve
from dashboard.visualizations import enhanced_charts as ec
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    GreeksExposure,
    PatternStats,
    PositionRisk,
    RegimeCell,
    TradeProgress,
)


def test_template_is_registered_and_matches_the_css():
    assert "strat_dark" in pio.templates
    t = pio.templates["strat_dark"]
    assert t.layout.paper_bgcolor == "#090008" == theme.BACKGROUND
    css = (Path(__file__).parents[2] / "dashboard/assets/10-dashboard.css").read_text()
    for colour in (theme.BACKGROUND, theme.CARD, theme.BULL, theme.BEAR, theme.WARN):
        assert colour in css
    assert "Inter" in t.layout.font.family and "http" not in t.layout.font.family
    assert set(theme.REGIME_COLORS) == {"TREND_BULL", "TREND_NEUTRAL", "TREND_BEAR", "CRASH"}
    assert theme.pnl_color(0.0) == theme.PROFIT and theme.pnl_color(-0.01) == theme.LOSS
    assert theme.pnl_color(math.nan) == theme.NEUTRAL


def test_empty_kinds_look_different():
    figs = {k: ec.empty_figure("x", kind=k) for k in ("empty", "error", "loading")}
    colours = {k: f.layout.annotations[0].font.color for k, f in figs.items()}
    assert len(set(colours.values())) == 3
    assert colours["error"] == theme.BEAR
    assert figs["error"].layout.annotations[0].text.startswith("⚠")
    assert figs["error"].layout.meta["empty_kind"] == "error"
    assert figs["empty"].layout.xaxis.visible is False


# ------------------------------------------------------------------ progress


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
    fig = ec.create_trade_progress_chart(trades, uirevision="p")
    (bar,) = fig.data
    assert fig.layout.meta["progress_r"] == pytest.approx([0.5, 0.75, 1.25, -1.25, -0.8])
    assert list(bar.x) == pytest.approx([0.5, 0.75, 1.25, -1.2, -0.8])  # clipped at −1.2
    labels = list(bar.y)
    assert labels[0] == "SPY 600C ▲" and labels[1] == "QQQ 500P ▼"
    assert labels[2].endswith("✓ T1") and labels[3].endswith("✕ stop")
    assert labels[4].endswith("⚠ near stop")
    assert list(bar.text)[:3] == ["$120.00 (+30.0%)", "-$15.50", ""]
    assert list(bar.marker.color) == [theme.BULL, theme.BULL, theme.BULL, theme.BEAR, theme.WARN]
    assert [s.x0 for s in fig.layout.shapes] == [-1.0, 0.0, 1.0]
    assert fig.layout.uirevision == "p"
    assert ec.create_trade_progress_chart([]).layout.meta["empty_kind"] == "empty"


# ------------------------------------------------------------------ payoff


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
    fig = ec.create_payoff_chart(
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
    assert ec.create_payoff_chart(put).layout.meta["breakevens"] == pytest.approx([48.8])


# ------------------------------------------------------------------ waterfall


def test_waterfall_total_is_the_sum_and_is_checked():
    fig = ec.create_pnl_waterfall({"SPY": 120.5, "QQQ": -40.25, "IWM": 10.0}, uirevision="w")
    (wf,) = fig.data
    assert list(wf.measure) == ["relative"] * 3 + ["total"]
    assert list(wf.x) == ["SPY", "QQQ", "IWM", "Total"]
    assert wf.y[-1] == pytest.approx(90.25)
    assert fig.layout.meta["total"] == pytest.approx(90.25)
    assert not fig.layout.annotations

    bad = ec.create_pnl_waterfall([("a", 1.0), ("b", 2.0)], expected_total=5.0)
    assert "parts sum to $3.00, expected $5.00" in bad.layout.annotations[0].text

    attr = Attribution(
        actual=100.0, delta=80.0, gamma=5.0, theta=-12.0, vega=20.0, rho=1.0, residual=6.0
    )
    fig = ec.create_pnl_waterfall(attr)
    assert list(fig.data[0].x)[:6] == ["delta", "gamma", "theta", "vega", "rho", "residual"]
    assert fig.data[0].y[-1] == pytest.approx(100.0)
    assert fig.layout.meta["expected_total"] == 100.0 and not fig.layout.annotations
    assert ec.create_pnl_waterfall({}).layout.meta["empty_kind"] == "empty"


# ------------------------------------------------------------------ equity


def test_equity_curve_drawdown_and_rebased_benchmark():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    eq = pd.Series([100.0, 110.0, 99.0, 120.0], index=idx)
    bench = pd.Series([50.0, 55.0, 50.0, 60.0], index=idx, name="SPY")
    fig = ec.create_equity_curve(eq, bench)
    names = [t.name for t in fig.data]
    assert names == ["equity", "SPY (rebased)", "drawdown %"]
    assert list(fig.data[1].y) == pytest.approx([100.0, 110.0, 100.0, 120.0])
    assert list(fig.data[2].y) == pytest.approx([0.0, 0.0, -10.0, 0.0])
    assert fig.data[2].yaxis == "y2"
    assert fig.layout.meta["max_drawdown_pct"] == pytest.approx(-10.0)
    assert ec.create_equity_curve(pd.Series(dtype=float)).layout.meta["empty_kind"] == "empty"


# ------------------------------------------------------------------ sparkline


@pytest.mark.parametrize(
    "colour", ["red", "#abc", "#26a69a", "rgb(1,2,3)", "rgba(1,2,3,0.5)", "hsl(120,50%,50%)"]
)
def test_sparkline_accepts_any_colour_format(colour):
    fig = ec.create_sparkline(np.array([1.0, 3.0, 2.0]), color=colour)
    fill, line = fig.data
    assert line.line.color == colour and fill.fillcolor == colour
    assert fill.opacity < 1 and fill.fill == "tozeroy"


def test_sparkline_rejects_non_colours_and_handles_empty_and_flat():
    with pytest.raises(ValueError, match="not a colour"):
        ec.create_sparkline([1, 2], color="notacolour")
    assert ec.create_sparkline([]).layout.meta["empty_kind"] == "empty"
    assert ec.create_sparkline([np.nan]).layout.meta["empty_kind"] == "empty"
    flat = ec.create_sparkline([5.0, 5.0])
    lo, hi = flat.layout.yaxis.range
    assert lo < 5.0 < hi


# ------------------------------------------------------------------ options flow


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
    fig = ec.create_options_flow_chart(quotes, spot=598.0)
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
    assert ec.create_options_flow_chart(quotes[3:]).layout.meta["empty_kind"] == "empty"


# ------------------------------------------------------------------ regime


def test_regime_heatmap_names_not_codes():
    cells = [
        RegimeCell("SPY", "1Day", "TREND_BULL", "FTFC up", "2U"),
        RegimeCell("SPY", "1Hour", "CRASH", "1/4 down", "3"),
        RegimeCell("QQQ", "1Day", None),
    ]
    fig = ec.create_regime_heatmap(cells)
    (hm,) = fig.data
    assert list(hm.y) == ["SPY", "QQQ"] and list(hm.x) == ["1Day", "1Hour"]
    z = np.asarray(hm.z, dtype=float)
    order = theme.REGIME_ORDER
    assert z[0, 0] == order.index("TREND_BULL") and z[0, 1] == order.index("CRASH")
    assert np.isnan(z[1, 0]) and np.isnan(z[1, 1])
    cd = np.asarray(hm.customdata)
    assert cd[0, 0, 0] == "Bull trend" and cd[0, 1, 0] == "Crash" and cd[0, 0, 1] == "FTFC up"
    assert "TREND_" not in " ".join(map(str, cd.ravel()))
    assert hm.text[0][0] == "2U<br>FTFC up"
    assert "customdata[0]" in hm.hovertemplate


def test_regime_timeline_shading_on_price_and_strip():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    reg = pd.Series(["TREND_BULL", "TREND_BULL", "CRASH", "CRASH"], index=idx)
    price = pd.Series([1.0, 2.0, 3.0, 4.0], index=idx)
    fig = ec.create_regime_timeline(reg, price)
    assert [t.type for t in fig.data] == ["scatter", "heatmap"]
    assert {(s.xref, s.yref) for s in fig.layout.shapes} == {("x", "y domain")}
    assert len(fig.layout.shapes) == 2
    assert fig.data[1].yaxis == "y2"
    assert list(np.asarray(fig.data[1].customdata).ravel()) == ["Bull trend"] * 2 + ["Crash"] * 2
    assert ec.create_regime_timeline(reg.iloc[:0]).layout.meta["empty_kind"] == "empty"


def test_feature_evolution_panels_and_thresholds():
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    feats = pd.DataFrame({"vol": [0.1, 0.2, 0.3], "trend": [1.0, -1.0, 0.5]}, index=idx)
    fig = ec.create_feature_evolution(feats, {"vol": 0.25, "trend": [-0.5, 0.5]})
    assert [t.yaxis for t in fig.data] == ["y", "y2"]
    th = [(s.yref, s.y0, s.xref) for s in fig.layout.shapes]
    assert th == [("y", 0.25, "x domain"), ("y2", -0.5, "x domain"), ("y2", 0.5, "x domain")]


# ------------------------------------------------------------------ risk


def test_heat_chart_total_and_limit():
    fig = ec.create_heat_chart(
        [PositionRisk("SPY", 500.0), PositionRisk("QQQ", 300.0)], equity=10_000, limit_pct=6
    )
    (bar,) = fig.data
    assert list(bar.x) == pytest.approx([5.0, 3.0, 8.0])
    assert bar.marker.color[-1] == theme.BEAR  # 8% > 6% limit
    assert fig.layout.shapes[0].x0 == 6 and fig.layout.shapes[0].yref == "y domain"
    assert (
        ec.create_heat_chart([PositionRisk("a", 1)], equity=0, limit_pct=6).layout.meta[
            "empty_kind"
        ]
        == "error"
    )


def test_var_histogram_and_greeks_panels():
    pnl = np.random.default_rng(0).normal(0, 100, 1000)
    fig = ec.create_var_histogram(pnl, var=164.5, cvar=206.0)
    assert [s.x0 for s in fig.layout.shapes] == [-164.5, -206.0]
    assert len(fig.data[0].x) == 1000
    g = ec.create_greeks_exposure_chart(
        [GreeksExposure("SPY", 50, 2, -10, 30), GreeksExposure("QQQ", -20, 1, -5, 10)]
    )
    assert [t.name for t in g.data] == ["delta", "gamma", "theta", "vega"]
    assert list(g.data[0].x) == pytest.approx([50, -20, 30])
    assert list(g.data[2].x) == pytest.approx([-10, -5, -15])
    assert [t.xaxis for t in g.data] == ["x", "x2", "x3", "x4"]


# ------------------------------------------------------------------ strategy


def test_pattern_performance_sorted_by_expectancy():
    fig = ec.create_pattern_performance_chart(
        [
            PatternStats("2-1-2", 10, 6, 0.4),
            PatternStats("3-1-2", 4, 1, -0.2),
            PatternStats("2-2", 0, 0, 0.0),
        ]
    )
    win, exp = fig.data
    assert list(win.y) == ["2-1-2", "3-1-2"]  # no-trade pattern dropped
    assert list(win.x) == pytest.approx([60.0, 25.0])
    assert list(exp.x) == pytest.approx([0.4, -0.2])
    assert list(exp.marker.color) == [theme.PROFIT, theme.LOSS]


def test_r_multiple_histogram_bins_and_expectancy():
    r = np.array([-1.0, -1.0, 2.0, 0.5, np.nan])
    fig = ec.create_r_multiple_histogram(r)
    losses, wins = fig.data
    assert list(losses.x) == [-1.0, -1.0] and list(wins.x) == [2.0, 0.5]
    assert losses.xbins.start == -1.0 and losses.xbins.size == 0.25
    assert fig.layout.meta["expectancy_r"] == pytest.approx(0.125)
    assert fig.layout.shapes[1].x0 == pytest.approx(0.125)


# ------------------------------------------------------------------ cards


def _account(equity, last):
    z = Decimal(0)
    return Account(
        account_number="PA1",
        status="ACTIVE",
        currency="USD",
        cash=z,
        equity=Decimal(equity),
        last_equity=Decimal(last),
        portfolio_value=Decimal(equity),
        buying_power=Decimal("20000"),
        options_buying_power=z,
    )


def test_portfolio_metrics_cards():
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    clock = Clock(now, True, now + timedelta(days=1), now + timedelta(hours=6))
    fig = ec.create_portfolio_metrics_cards(
        _account("10250", "10000"), [object(), object()], clock, heat_pct=9.5, heat_limit_pct=8
    )
    assert len(fig.data) == 6 and {t.type for t in fig.data} == {"indicator"}
    eq, pnl, npos, bp, heat, market = fig.data
    assert eq.value == 10250 and pnl.value == 250 and "+2.50%" in pnl.title.text
    assert pnl.number.font.color == theme.PROFIT
    assert npos.value == 2 and bp.value == 20000
    assert heat.gauge.threshold.value == 8 and heat.gauge.bar.color == theme.BEAR
    assert market.value == pytest.approx(6.0) and "OPEN" in market.title.text
    closed = Clock(now, False, now + timedelta(hours=18), now + timedelta(days=1))
    fig2 = ec.create_portfolio_metrics_cards(
        _account("9900", "10000"), [], closed, heat_pct=None, heat_limit_pct=8
    )
    assert fig2.data[1].number.font.color == theme.LOSS and "-1.00%" in fig2.data[1].title.text
    assert "CLOSED" in fig2.data[5].title.text and fig2.data[5].value == pytest.approx(18)
    assert ec.create_portfolio_metrics_cards(None, [], None, heat_pct=None, heat_limit_pct=8)


def test_every_chart_sets_uirevision_and_the_template():
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    s = pd.Series([1.0, 2.0, 3.0], index=idx)
    figs = [
        ec.create_equity_curve(s),
        ec.create_sparkline([1, 2]),
        ec.create_pnl_waterfall({"a": 1.0}),
        ec.create_r_multiple_histogram([1.0]),
        ec.create_var_histogram([1.0, -1.0], var=1.0),
        ec.create_regime_timeline(pd.Series(["CRASH"] * 3, index=idx)),
        ec.create_feature_evolution(pd.DataFrame({"a": [1, 2, 3]}, index=idx)),
        ec.empty_figure("x"),
    ]
    for f in figs:
        assert f.layout.uirevision is not None
        assert f.layout.template.layout.paper_bgcolor == theme.BACKGROUND


def test_payoff_today_curve_is_black_scholes_now_minus_premium():
    from dashboard.options.pricing import bs_price

    kw = dict(right="call", strike=100, premium=2.5, spot=100, years=30 / 365, iv=0.25)
    curve = payoff_curve(days_forward=10, **kw)
    today = payoff_curve(prices=curve.prices, days_forward=0.0, **kw)
    fig = ec.create_payoff_chart(curve, today=today, spot=100)
    line = next(t for t in fig.data if t.name == "today")
    i = int(np.argmin(abs(np.asarray(line.x) - 103)))
    s = float(line.x[i])
    expected = (float(bs_price(s, 100, 30 / 365, 0.04, 0.25, "C")) - 2.5) * 100
    assert line.y[i] == pytest.approx(expected, rel=1e-6)


def test_rolling_ratio_chart_draws_each_curve_and_ratio():
    days = pd.date_range("2024-01-01", periods=5, freq="D")
    s_sh = pd.Series([np.nan, np.nan, 1.5, 0.5, -0.25], index=days)
    s_so = pd.Series([np.nan, np.nan, 2.0, 0.75, np.inf], index=days)
    b_sh = pd.Series([np.nan, np.nan, 0.9, 1.1, 1.2], index=days)
    fig = ec.create_rolling_ratio_chart(
        {"Strategy": s_sh, "Buy & hold": b_sh},
        {"Strategy": s_so, "Buy & hold": pd.Series(np.nan, index=days)},
        window=3,
    )
    names = [t.name for t in fig.data]
    assert names == ["Strategy Sharpe", "Strategy Sortino", "Buy & hold Sharpe"]
    sh = fig.data[0]
    assert list(sh.y) == [1.5, 0.5, -0.25]  # the filling window is left out
    assert list(fig.data[1].y) == [2.0, 0.75]  # inf dropped, not drawn off-scale
    assert fig.data[1].line.dash == "dot" and sh.line.color == theme.ACCENT
    assert fig.data[2].line.color == theme.BENCHMARK
    assert fig.layout.meta == {"window": 3}
    empty = ec.create_rolling_ratio_chart({"Strategy": s_sh.iloc[:2]}, {}, window=63)
    assert empty.layout.meta["empty_kind"] == "empty"
    assert "63-day" in empty.layout.annotations[0].text


def test_equity_curve_with_one_point_shows_it_as_a_marker_and_says_so():
    idx = pd.DatetimeIndex([pd.Timestamp("2026-11-25 05:00", tz="UTC")])
    fig = ec.create_equity_curve(pd.Series([99_987.8], index=idx))
    assert fig.data[0].mode == "markers" and list(fig.data[0].y) == [99_987.8]
    assert "One equity point so far" in fig.layout.annotations[0].text
    two = ec.create_equity_curve(
        pd.Series([1.0, 2.0], index=pd.date_range("2026-01-01", periods=2, tz="UTC"))
    )
    assert two.data[0].mode == "lines" and not two.layout.annotations
