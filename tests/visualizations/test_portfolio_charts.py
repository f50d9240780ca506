"""Live Portfolio charts: waterfall and equity curve."""

from __future__ import annotations

import json

import numpy as np
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
    assert two.data[0].mode == "markers" and not two.layout.annotations  # few: no invented path


def test_a_young_flat_account_gets_honest_axes() -> None:
    """Issue 24's new account: equity $100,000.00 ± $0.0005 at 05:00 UTC (one point per
    day): whole-dollar ticks over at least 0.1 % of the equity ($100), dates on the x
    axis, and a note that the 1Y chart holds 3 days of history."""
    idx = pd.date_range("2026-11-25 05:00", periods=4, freq="D", tz="UTC")
    eq = pd.Series([100_000.0, 100_000.0005, 99_999.9995, 100_000.0], index=idx)
    fig = charts.create_equity_curve(eq, period_days=365)
    y = fig.layout.yaxis
    assert y.tickformat == ",.0f" and y.tickprefix == "$"
    assert list(y.autorangeoptions.include) == pytest.approx([99_950.0, 100_050.0])  # mid ± $50
    assert y.range is None  # autoranged: a zoom survives a refresh
    assert fig.data[0].mode == "markers"  # 4 points: no lines across the nights
    note = fig.layout.xaxis.title.text
    assert note == "Account history starts Nov 25 '26: 3 of the period's 365 days"
    assert fig.layout.meta["history_note"] == note
    # The whole period covered: no note; no period asked: no note.
    year = pd.date_range("2025-11-25", periods=366, freq="D", tz="UTC")
    full = charts.create_equity_curve(
        pd.Series(np.linspace(1e5, 1.1e5, 366), index=year), period_days=365
    )
    assert full.layout.xaxis.title.text is None and full.data[0].mode == "lines"
    assert charts.create_equity_curve(eq).layout.meta["history_note"] is None
    # Small accounts keep cents.
    assert charts.create_equity_curve(eq / 1000).layout.yaxis.tickformat == ",.2f"


def test_a_lone_point_gets_a_three_day_date_axis() -> None:
    """One tick a day (Nov 24, 25, 26), not milliseconds or the same date repeated."""
    idx = pd.DatetimeIndex([pd.Timestamp("2026-11-25 05:00", tz="UTC")])
    fig = charts.create_equity_curve(pd.Series([100_000.0], index=idx))
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.autorangeoptions.include)
    assert (hi - lo) == pd.Timedelta(days=2) and fig.layout.xaxis.tickformat == "%b %d"
    assert fig.layout.xaxis.range is None
    assert fig.layout.xaxis.dtick == 86_400_000


def test_lines_break_across_closed_hours() -> None:
    """Two sessions of 5-minute equity: the line breaks overnight (one NaN between the
    sessions, which plotly draws as a gap) instead of joining 16:00 to 09:30."""
    day1 = pd.date_range("2026-11-24 14:30", periods=20, freq="5min", tz="UTC")
    day2 = pd.date_range("2026-11-25 14:30", periods=20, freq="5min", tz="UTC")
    idx = day1.append(day2)
    eq = pd.Series(np.arange(40, dtype=float) + 1e5, index=idx)
    bench = pd.Series(np.arange(40, dtype=float) + 500, index=idx, name="SPY")
    fig = charts.create_equity_curve(eq, bench)
    for trace in fig.data:
        ys = np.asarray(trace.y, dtype=float)
        assert len(ys) == 41 and np.flatnonzero(np.isnan(ys)).tolist() == [20], trace.name
        assert trace.connectgaps is False
    assert fig.data[0].mode == "lines"
    # x is the wall clock in milliseconds (one binary array, no date string per point).
    gap_x = pd.Timestamp(fig.data[0].x[20], unit="ms")
    assert day1[-1].tz_localize(None) < gap_x < day2[0].tz_localize(None)
    assert pd.Timestamp(fig.data[0].x[0], unit="ms") == day1[0].tz_localize(None)


def test_times_are_sent_as_their_wall_clock_in_milliseconds() -> None:
    """A date axis reads numbers as milliseconds and shows what a date string's digits
    say, so New York bars stay at their New York hours."""
    idx = pd.date_range("2026-11-30 09:30", periods=3, freq="h", tz="America/New_York")
    fig = charts.create_equity_curve(pd.Series([1e5, 1.01e5, 1.02e5], index=idx))
    xs = [pd.Timestamp(v, unit="ms") for v in fig.data[0].x]
    assert xs == list(idx.tz_localize(None))
    assert fig.layout.xaxis.type == "date"
    assert json.loads(fig.to_json())["data"][0]["x"]["dtype"] == "f8"  # binary, not strings


def test_an_intraday_window_stays_put_as_the_session_fills() -> None:
    """The 1D chart of a session in progress: the axis includes a 12-hour window from just
    before the first point, which does not move as points arrive; the axis stays
    autoranged, so plotly keeps a zoom across interval refreshes."""
    opened = pd.Timestamp("2026-11-30 14:30", tz="UTC")
    ranges = []
    for n in (3, 12, 60):  # 10:00, 10:55 and 14:55 ET
        idx = pd.date_range(opened, periods=n, freq="5min")
        fig = charts.create_equity_curve(pd.Series(np.linspace(1e5, 1.01e5, n), index=idx))
        lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.autorangeoptions.include)
        assert lo < idx[0] and idx[-1] < hi and hi - lo == pd.Timedelta(hours=12)
        assert fig.layout.xaxis.range is None
        ranges.append((lo, hi))
    assert ranges[0] == ranges[1] == ranges[2]
    # Past 11 hours the axis is plotly's own (no fixed window).
    long = pd.date_range(opened, periods=140, freq="5min")
    xaxis = charts.create_equity_curve(pd.Series(1e5, index=long)).layout.xaxis
    assert xaxis.range is None and xaxis.autorangeoptions.include is None
