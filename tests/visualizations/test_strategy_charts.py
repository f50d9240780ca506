"""Strategy Performance charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.visualizations import strategy_charts as charts
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    PatternStats,
)


def test_pattern_performance_sorted_by_expectancy():
    fig = charts.create_pattern_performance_chart(
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
    fig = charts.create_r_multiple_histogram(r)
    losses, wins = fig.data
    assert list(losses.x) == [-1.0, -1.0] and list(wins.x) == [2.0, 0.5]
    assert losses.xbins.start == -1.0 and losses.xbins.size == 0.25
    assert fig.layout.meta["expectancy_r"] == pytest.approx(0.125)
    assert fig.layout.shapes[1].x0 == pytest.approx(0.125)
    # The legend keeps to the top right, clear of the expectancy label near 0R.
    assert (fig.layout.legend.x, fig.layout.legend.xanchor) == (1.0, "right")


def test_rolling_ratio_chart_draws_each_curve_and_ratio():
    days = pd.date_range("2024-01-01", periods=5, freq="D")
    s_sh = pd.Series([np.nan, np.nan, 1.5, 0.5, -0.25], index=days)
    s_so = pd.Series([np.nan, np.nan, 2.0, 0.75, np.inf], index=days)
    b_sh = pd.Series([np.nan, np.nan, 0.9, 1.1, 1.2], index=days)
    fig = charts.create_rolling_ratio_chart(
        {"Strategy": s_sh, "Buy & hold": b_sh},
        {"Strategy": s_so, "Buy & hold": pd.Series(np.nan, index=days)},
        window=3,
    )
    names = [t.name for t in fig.data]
    assert names == ["Strategy Sharpe", "Strategy Sortino", "Buy & hold Sharpe"]
    sh = fig.data[0]
    assert list(sh.y) == [1.5, 0.5, -0.25]  # the filling window is left out
    # Dates go as one binary array of milliseconds (2024-01-03 00:00 is 1704240000 s).
    assert list(sh.x) == [1704240000000.0, 1704326400000.0, 1704412800000.0]
    assert fig.layout.xaxis.type == "date"
    assert list(fig.data[1].y) == [2.0, 0.75]  # inf dropped, not drawn off-scale
    assert fig.data[1].line.dash == "dot" and sh.line.color == theme.ACCENT
    assert fig.data[2].line.color == theme.BENCHMARK
    assert fig.layout.meta == {"window": 3}
    empty = charts.create_rolling_ratio_chart({"Strategy": s_sh.iloc[:2]}, {}, window=63)
    assert empty.layout.meta["empty_kind"] == "empty"
    assert "63-day" in empty.layout.annotations[0].text
