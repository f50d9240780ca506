"""Which bars to ask the data source for: served vs built timeframes, one request per
served timeframe, and what a watchlist scan costs in requests."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from dashboard.data_loaders.bars import (
    BARS_PER_PAGE,
    BUILT_FROM,
    SERVED_TIMEFRAMES,
    TIMEFRAMES,
    BarRequest,
    lookback_start,
    plan_bar_requests,
    requests_per_refresh,
)
from dashboard.strat.timeframes import AGGREGATION_SOURCES, SCAN_TIMEFRAMES
from dashboard.strat.watchlist import SIGNAL_LOOKBACKS
from dashboard.watchlist_store import MAX_WATCHLIST_SYMBOLS

END = datetime(2026, 11, 24, 15, 0)


def test_every_scanned_timeframe_is_served_or_built_from_a_served_one() -> None:
    assert set(SCAN_TIMEFRAMES) <= set(TIMEFRAMES)
    for tf, source in BUILT_FROM.items():
        assert source in SERVED_TIMEFRAMES and source in AGGREGATION_SOURCES[tf]
        assert tf not in SERVED_TIMEFRAMES


def test_built_timeframes_share_their_sources_request() -> None:
    plan = plan_bar_requests({"1Day": 120, "4Hour": 40, "30Min": 120, "1Quarter": 40})
    assert [(r.source, r.wants) for r in plan] == [
        ("1Day", (("1Day", 120),)),
        ("30Min", (("4Hour", 40), ("30Min", 120))),
        ("1Month", (("1Quarter", 40),)),
    ]
    day, half, month = plan
    assert day.limit == 120  # the source alone: Alpaca's per-symbol limit applies
    assert half.limit is None and month.limit is None  # built bars: the window decides
    # The window is the wider of the two: 40 4Hour bars need 20 sessions, more than 120
    # half hours (about 10 sessions).
    assert half.start(END) == lookback_start("4Hour", 40, END) < lookback_start("30Min", 120, END)
    assert half.key == "4Hour.40+30Min.120"
    with pytest.raises(ValueError, match="unknown timeframe"):
        plan_bar_requests({"2Hour": 10})


def test_a_request_builds_each_wanted_timeframe_from_the_source_bars() -> None:
    sessions = [
        pd.date_range(f"2026-11-{d} 09:30", periods=13, freq="30min", tz="America/New_York")
        for d in (23, 24)
    ]
    idx = sessions[0].append(sessions[1]).tz_convert("UTC")
    frame = pd.DataFrame(
        {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 1.0}, index=idx
    )
    frames = BarRequest("30Min", (("4Hour", 3), ("30Min", 5))).frames(frame)
    assert len(frames["30Min"]) == 5 and frames["30Min"].index[-1] == frame.index[-1]
    # Two sessions are four blocks of 8 and 5 half hours; the last 3 are kept.
    assert frames["4Hour"]["volume"].tolist() == [5.0, 8.0, 5.0]


def test_the_watchlist_limit_keeps_a_scan_at_one_request_per_timeframe() -> None:
    """The scan's 8 timeframes cost 6 served requests; with a full watchlist the pages
    stay at one request per timeframe on the free IEX feed (08:00–17:00 bars) and in the
    simulator (regular session), and beyond the limit they would not."""
    timeframes = len(SCAN_TIMEFRAMES)
    assert len(plan_bar_requests(SIGNAL_LOOKBACKS)) == 6
    assert requests_per_refresh(1, SIGNAL_LOOKBACKS) == 6
    assert requests_per_refresh(MAX_WATCHLIST_SYMBOLS, SIGNAL_LOOKBACKS, feed="iex") <= timeframes
    assert requests_per_refresh(MAX_WATCHLIST_SYMBOLS, SIGNAL_LOOKBACKS, feed=None) <= timeframes
    assert requests_per_refresh(40, SIGNAL_LOOKBACKS, feed="iex") > timeframes
    # 6 cold scans a minute (bars cached 10 s) stay well inside the client's 180/min.
    assert 6 * requests_per_refresh(MAX_WATCHLIST_SYMBOLS, SIGNAL_LOOKBACKS) <= 180 // 3
    assert BARS_PER_PAGE == 10_000
