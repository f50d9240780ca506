"""Live Portfolio charts: waterfall and equity curve."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.options.attribution import Attribution
from dashboard.visualizations import portfolio_charts as charts


def test_waterfall_total_is_the_sum_and_is_checked():
    fig = charts.create_pnl_waterfall({"SPY": 120.5, "QQQ": -40.25, "IWM": 10.0}, uirevision="w")
    (wf,) = fig.data
    assert list(wf.measure) == ["relative"] * 3 + ["total"]
    assert list(wf.x) == ["SPY", "QQQ", "IWM", "Total"]
    assert wf.y[-1] == pytest.approx(90.25)
    assert fig.layout.meta["total"] == pytest.approx(90.25)
    assert not fig.layout.annotations

    bad = charts.create_pnl_waterfall([("a", 1.0), ("b", 2.0)], expected_total=5.0)
    assert "parts sum to $3.00, expected $5.00" in bad.layout.annotations[0].text

    attr = Attribution(
        actual=100.0, delta=80.0, gamma=5.0, theta=-12.0, vega=20.0, rho=1.0, residual=6.0
    )
    fig = charts.create_pnl_waterfall(attr)
    assert list(fig.data[0].x)[:6] == ["delta", "gamma", "theta", "vega", "rho", "residual"]
    assert fig.data[0].y[-1] == pytest.approx(100.0)
    assert fig.layout.meta["expected_total"] == 100.0 and not fig.layout.annotations
    assert charts.create_pnl_waterfall({}).layout.meta["empty_kind"] == "empty"


def test_equity_curve_drawdown_and_rebased_benchmark():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    eq = pd.Series([100.0, 110.0, 99.0, 120.0], index=idx)
    bench = pd.Series([50.0, 55.0, 50.0, 60.0], index=idx, name="SPY")
    fig = charts.create_equity_curve(eq, bench)
    names = [t.name for t in fig.data]
    assert names == ["equity", "SPY (rebased)", "drawdown %"]
    assert list(fig.data[1].y) == pytest.approx([100.0, 110.0, 100.0, 120.0])
    assert list(fig.data[2].y) == pytest.approx([0.0, 0.0, -10.0, 0.0])
    assert fig.data[2].yaxis == "y2"
    assert fig.layout.meta["max_drawdown_pct"] == pytest.approx(-10.0)
    assert charts.create_equity_curve(pd.Series(dtype=float)).layout.meta["empty_kind"] == "empty"


def test_equity_curve_with_one_point_shows_it_as_a_marker_and_says_so():
    idx = pd.DatetimeIndex([pd.Timestamp("2026-11-25 05:00", tz="UTC")])
    fig = charts.create_equity_curve(pd.Series([99_987.8], index=idx))
    assert fig.data[0].mode == "markers" and list(fig.data[0].y) == [99_987.8]
    assert "One equity point so far" in fig.layout.annotations[0].text
    two = charts.create_equity_curve(
        pd.Series([1.0, 2.0], index=pd.date_range("2026-01-01", periods=2, tz="UTC"))
    )
    assert two.data[0].mode == "lines" and not two.layout.annotations
