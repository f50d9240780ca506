"""Risk Management charts."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.visualizations import risk_charts as charts
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    GreeksExposure,
    PositionRisk,
)


def test_heat_chart_total_and_limit():
    fig = charts.create_heat_chart(
        [PositionRisk("SPY", 500.0), PositionRisk("QQQ", 300.0)], equity=10_000, limit_pct=6
    )
    (bar,) = fig.data
    assert list(bar.x) == pytest.approx([5.0, 3.0, 8.0])
    assert bar.marker.color[-1] == theme.BEAR  # 8% > 6% limit
    assert fig.layout.shapes[0].x0 == 6 and fig.layout.shapes[0].yref == "y domain"
    assert (
        charts.create_heat_chart([PositionRisk("a", 1)], equity=0, limit_pct=6).layout.meta[
            "empty_kind"
        ]
        == "error"
    )


def test_var_histogram_and_greeks_panels():
    pnl = np.random.default_rng(0).normal(0, 100, 1000)
    fig = charts.create_var_histogram(pnl, var=164.5, cvar=206.0)
    assert [s.x0 for s in fig.layout.shapes] == [-164.5, -206.0]
    assert len(fig.data[0].x) == 1000
    g = charts.create_greeks_exposure_chart(
        [GreeksExposure("SPY", 50, 2, -10, 30), GreeksExposure("QQQ", -20, 1, -5, 10)]
    )
    assert [t.name for t in g.data] == ["delta", "gamma", "theta", "vega"]
    assert list(g.data[0].x) == pytest.approx([50, -20, 30])
    assert list(g.data[2].x) == pytest.approx([-10, -5, -15])
    assert [t.xaxis for t in g.data] == ["x", "x2", "x3", "x4"]
