"""The one plotly template and its colours."""

from __future__ import annotations

import math
from pathlib import Path

import plotly.io as pio

from dashboard.visualizations import theme


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
