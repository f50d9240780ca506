"""The figure library as a whole: every chart keeps the refresh and theme rules."""

from __future__ import annotations

import pandas as pd

from dashboard.visualizations import enhanced_charts as ec
from dashboard.visualizations import theme


def test_every_chart_sets_uirevision_and_the_template():
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    s = pd.Series([1.0, 2.0, 3.0], index=idx)
    figs = [
        ec.create_equity_curve(s),
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
