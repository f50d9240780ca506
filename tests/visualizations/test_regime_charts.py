"""Regime Detection charts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.visualizations import regime_charts as charts
from dashboard.visualizations import theme
from dashboard.visualizations.inputs import (
    RegimeCell,
)


def test_regime_heatmap_names_not_codes():
    cells = [
        RegimeCell("SPY", "1Day", "TREND_BULL", "FTFC up", "2U"),
        RegimeCell("SPY", "1Hour", "CRASH", "1/4 down", "3"),
        RegimeCell("QQQ", "1Day", None),
    ]
    fig = charts.create_regime_heatmap(cells)
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
    fig = charts.create_regime_timeline(reg, price)
    assert [t.type for t in fig.data] == ["scatter", "heatmap"]
    assert {(s.xref, s.yref) for s in fig.layout.shapes} == {("x", "y domain")}
    assert len(fig.layout.shapes) == 2
    assert fig.data[1].yaxis == "y2"
    assert list(np.asarray(fig.data[1].customdata).ravel()) == ["Bull trend"] * 2 + ["Crash"] * 2
    assert charts.create_regime_timeline(reg.iloc[:0]).layout.meta["empty_kind"] == "empty"


def test_feature_evolution_panels_and_thresholds():
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    feats = pd.DataFrame({"vol": [0.1, 0.2, 0.3], "trend": [1.0, -1.0, 0.5]}, index=idx)
    fig = charts.create_feature_evolution(feats, {"vol": 0.25, "trend": [-0.5, 0.5]})
    assert [t.yaxis for t in fig.data] == ["y", "y2"]
    th = [(s.yref, s.y0, s.xref) for s in fig.layout.shapes]
    assert th == [("y", 0.25, "x domain"), ("y2", -0.5, "x domain"), ("y2", 0.5, "x domain")]
