"""Regime view: the shown window and the watchlist cells on hand-made data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.analytics.regime_fits import RegimeSnapshot
from dashboard.views import regime as tab

UTC_DAYS = pd.date_range("2015-01-02", periods=2000, freq="B", tz="UTC")


def test_display_window_presets_and_explicit_dates() -> None:
    first, last = UTC_DAYS[0], UTC_DAYS[-1]
    lo, hi = tab.display_window(first, last, "1Y")
    assert hi == last and lo == last - pd.DateOffset(years=1)
    assert tab.display_window(first, last, "All") == (first, last)
    lo, hi = tab.display_window(first, last, "10Y")  # longer than the history: clipped
    assert lo == first
    lo, hi = tab.display_window(first, last, "1Y", "2016-03-01", "2016-03-31")
    assert lo == pd.Timestamp("2016-03-01", tz="UTC")
    assert hi.date().isoformat() == "2016-03-31" and hi > pd.Timestamp("2016-03-31", tz="UTC")


def test_heatmap_cells_bar_types_and_continuity() -> None:
    def frame(rows: list[tuple[float, float, float, float]], start: str, freq: str) -> Any:
        idx = pd.date_range(start, periods=len(rows), freq=freq, tz="UTC")
        return pd.DataFrame(rows, index=idx, columns=["open", "high", "low", "close"])

    bars = {
        # month: 2U bar opened at 100; week: inside bar opened at 106; day: 2D bar opened 104
        ("AAA", "1Month"): frame([(95, 105, 90, 100), (100, 110, 95, 103)], "2024-01-01", "MS"),
        ("AAA", "1Week"): frame([(101, 109, 96, 106), (106, 108, 97, 103)], "2024-02-05", "W-MON"),
        ("AAA", "1Day"): frame([(103, 107, 101, 104), (104, 106, 100, 103)], "2024-02-13", "D"),
    }
    cells = tab.heatmap_cells(bars, ["AAA"], ("1Month", "1Week", "1Day"), {"AAA": "TREND_BULL"})
    got = {c.timeframe: (c.regime, c.bar_type, c.tfc_label) for c in cells}
    # price 103 (newest close): above the month open 100, below the week open 106 and day 104
    assert got["1Month"] == ("TREND_BULL", "2U", "FTFC up")
    assert got["1Week"] == ("TREND_BULL", "1", "0/2")  # +1 and −1: no direction
    assert got["1Day"] == ("TREND_BULL", "2D", "2/3 down")
    missing = tab.heatmap_cells({}, ["BBB"], ("1Day",), {"BBB": None})
    assert missing[0].regime is None and missing[0].tfc_label is None


def test_fit_summary_names_the_regime_by_its_label() -> None:
    assert "Fitting" in tab.fit_summary(RegimeSnapshot("fitting", None, True))
    assert tab.fit_summary(RegimeSnapshot("error", None, False, "boom")).endswith("boom")
