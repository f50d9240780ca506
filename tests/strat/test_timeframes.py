from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from dashboard.conventions import NEW_YORK
from dashboard.strat.timeframes import (
    aggregate_bars,
    bar_close_time,
    four_hour_bars,
    is_bar_closed,
    quarter_bars,
    tfc_timeframes,
)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_intraday_bar_closes_after_its_length() -> None:
    start = utc(2026, 11, 24, 15, 0)
    assert bar_close_time("1Hour", start) == utc(2026, 11, 24, 16, 0)
    assert not is_bar_closed("15Min", start, utc(2026, 11, 24, 15, 14, 59))
    assert is_bar_closed("15Min", start, utc(2026, 11, 24, 15, 15))


def test_daily_bar_stamped_midnight_new_york_closes_at_four_pm() -> None:
    start = utc(2026, 11, 23, 5, 0)  # Monday 00:00 EST
    assert bar_close_time("1Day", start) == utc(2026, 11, 23, 21, 0)
    assert not is_bar_closed("1Day", start, utc(2026, 11, 23, 20, 59))
    assert is_bar_closed("1Day", start, utc(2026, 11, 24, 14, 30))


def test_weekly_bar_closes_friday_and_monthly_on_last_weekday() -> None:
    week = utc(2026, 11, 23, 5, 0)  # week of Monday 23 Nov
    assert bar_close_time("1Week", week) == utc(2026, 11, 27, 21, 0)
    month = utc(2026, 10, 1, 4, 0)  # October 2026 ends on Saturday 31st
    assert bar_close_time("1Month", month) == utc(2026, 10, 30, 20, 0)  # EDT


def test_naive_and_unknown_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        bar_close_time("1Day", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown timeframe"):
        bar_close_time("2Day", utc(2026, 1, 1))


# ---- 4Hour and 1Quarter: closing times --------------------------------------------------


def test_four_hour_bars_close_at_1330_and_at_the_session_close() -> None:
    first = utc(2026, 11, 24, 14, 30)  # 09:30 EST
    second = utc(2026, 11, 24, 18, 30)  # 13:30 EST
    assert bar_close_time("4Hour", first) == utc(2026, 11, 24, 18, 30)
    assert bar_close_time("4Hour", second) == utc(2026, 11, 24, 21, 0)
    summer = utc(2026, 7, 14, 13, 30)  # 09:30 EDT
    assert bar_close_time("4Hour", summer) == utc(2026, 7, 14, 17, 30)
    assert not is_bar_closed("4Hour", first, utc(2026, 11, 24, 18, 29))
    assert is_bar_closed("4Hour", first, utc(2026, 11, 24, 18, 30))


def test_a_quarter_closes_on_the_last_weekday_of_its_third_month() -> None:
    q4 = utc(2026, 10, 1, 4, 0)  # 1 Oct 2026 00:00 EDT
    assert bar_close_time("1Quarter", q4) == utc(2026, 12, 31, 21, 0)  # Thu 16:00 EST
    q1 = utc(2026, 1, 2, 5, 0)
    assert bar_close_time("1Quarter", q1) == utc(2026, 3, 31, 20, 0)  # Tue 16:00 EDT
    q2 = utc(2026, 4, 1, 4, 0)  # June 2026 ends on a Tuesday
    assert bar_close_time("1Quarter", q2) == utc(2026, 6, 30, 20, 0)
    q3 = utc(2027, 7, 1, 4, 0)  # 30 Sep 2027 is a Thursday
    assert bar_close_time("1Quarter", q3) == utc(2027, 9, 30, 20, 0)


# ---- 4Hour and 1Quarter: aggregation against hand-computed bars ---------------------------


def _bars(rows: list[tuple[str, float, float, float, float, float]]) -> pd.DataFrame:
    """Rows of (New York wall time, open, high, low, close, volume) → a bars frame."""
    idx = pd.DatetimeIndex([r[0] for r in rows]).tz_localize(NEW_YORK).tz_convert("UTC")
    df = pd.DataFrame(
        [r[1:] for r in rows], columns=["open", "high", "low", "close", "volume"], index=idx
    )
    df.index.name = "timestamp"
    return df


def _half_hours(day: str, start: str, n: int, base: float) -> list[tuple[str, ...]]:
    """``n`` 30-minute bars from ``start`` on ``day``: bar k opens at base + k, high +0.5,
    low −0.25, closes +0.25, volume 100 + k (prices easy to sum by hand)."""
    t0 = pd.Timestamp(f"{day} {start}")
    return [
        (
            str(t0 + pd.Timedelta(minutes=30 * k)),
            base + k,
            base + k + 0.5,
            base + k - 0.25,
            base + k + 0.25,
            100.0 + k,
        )
        for k in range(n)
    ]


def test_four_hour_bars_are_the_sessions_two_blocks_without_extended_hours() -> None:
    # Tuesday 24 Nov 2026: pre-market 08:00–09:30 (3 bars), the session 09:30–16:00
    # (13 bars, k = 3 … 15), post-market 16:00–17:00 (2 bars). Opens are base + k.
    day = _half_hours("2026-11-24", "08:00", 18, 100.0)
    frame = _bars(day)
    four = four_hour_bars(frame)
    assert list(four.index.tz_convert(NEW_YORK).strftime("%H:%M")) == ["09:30", "13:30"]
    # 09:30–13:30: bars k = 3 … 10. Open 103, high 110.5, low 102.75, close 110.25,
    # volume 103 + … + 110 = 852.
    assert four.iloc[0].tolist() == [103.0, 110.5, 102.75, 110.25, 852.0]
    # 13:30–16:00: bars k = 11 … 15. Open 111, high 115.5, low 110.75, close 115.25,
    # volume 111 + … + 115 = 565. The 16:00 and 16:30 bars are post-market.
    assert four.iloc[1].tolist() == [111.0, 115.5, 110.75, 115.25, 565.0]
    assert four.index.tz is not None and str(four.index.tz) == "UTC"


def test_four_hour_bars_from_15_minute_bars_match_those_from_30_minute_bars() -> None:
    rows = []
    for k in range(26):  # 09:30 … 15:45 on a summer day (EDT)
        t = pd.Timestamp("2026-07-14 09:30") + pd.Timedelta(minutes=15 * k)
        o = 50.0 + (k % 7) - (k % 3) * 0.5
        rows.append((str(t), o, o + 1 + (k % 4) * 0.25, o - 1 - (k % 5) * 0.2, o + 0.1, 10.0))
    fifteen = _bars(rows)
    thirty = (
        fifteen.tz_convert(NEW_YORK)
        .resample("30min", origin="start_day", offset="9h30min")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna()
        .tz_convert("UTC")
    )
    a = aggregate_bars(fifteen, "4Hour", "15Min")
    b = aggregate_bars(thirty, "4Hour", "30Min")
    assert len(a) == 2
    assert np.allclose(a.to_numpy(), b.to_numpy()) and (a.index == b.index).all()
    assert list(a.index.tz_convert(NEW_YORK).strftime("%H:%M")) == ["09:30", "13:30"]


def test_a_first_block_cut_by_the_data_is_dropped_and_the_last_may_be_forming() -> None:
    # Data from 11:00 on Monday (block 09:30 started before the data), through Tuesday
    # 10:30 (Tuesday's first block is still forming).
    monday = _half_hours("2026-11-23", "11:00", 10, 200.0)  # 11:00 … 15:30
    tuesday = _half_hours("2026-11-24", "09:30", 3, 300.0)  # 09:30, 10:00, 10:30
    four = four_hour_bars(_bars(monday + tuesday))
    stamps = list(four.index.tz_convert(NEW_YORK).strftime("%m-%d %H:%M"))
    assert stamps == ["11-23 13:30", "11-24 09:30"]
    # Monday 13:30 block: k = 5 … 9 (13:30 … 15:30). Tuesday's forming block: k = 0 … 2.
    assert four.iloc[0].tolist() == [205.0, 209.5, 204.75, 209.25, 535.0]
    assert four.iloc[1].tolist() == [300.0, 302.5, 299.75, 302.25, 303.0]


def test_a_half_day_has_one_shorter_four_hour_bar() -> None:
    friday = _half_hours("2026-11-27", "09:30", 7, 10.0)  # 09:30 … 12:30, closes 13:00
    four = four_hour_bars(_bars(friday))
    assert len(four) == 1
    assert four.iloc[0].tolist() == [10.0, 16.5, 9.75, 16.25, 721.0]


def test_quarters_are_calendar_quarters_of_monthly_bars() -> None:
    # Monthly bars Nov 2025 … Feb 2027, stamped at New York midnight on the 1st; month m
    # (0 = Nov 2025) opens at 10 + m, high +3, low −2, close +1, volume 1000 + m.
    months = pd.date_range("2025-11-01", periods=16, freq="MS")
    rows = [
        (str(t), 10.0 + m, 13.0 + m, 8.0 + m, 11.0 + m, 1000.0 + m) for m, t in enumerate(months)
    ]
    q = quarter_bars(_bars(rows))
    # Q4 2025 began before the data (no October): dropped. Then Q1–Q4 2026 and the
    # forming Q1 2027 (January and February only).
    assert list(q.index.tz_convert(NEW_YORK).strftime("%Y-%m-%d")) == [
        "2026-01-01",
        "2026-04-01",
        "2026-07-01",
        "2026-10-01",
        "2027-01-01",
    ]
    # Q1 2026 = months 2, 3, 4: open 12, high 17, low 10, close 15, volume 3009.
    assert q.iloc[0].tolist() == [12.0, 17.0, 10.0, 15.0, 3009.0]
    # Q4 2026 = months 11, 12, 13: open 21, high 26, low 19, close 24, volume 3036.
    assert q.iloc[3].tolist() == [21.0, 26.0, 19.0, 24.0, 3036.0]
    # Forming Q1 2027 = months 14, 15.
    assert q.iloc[4].tolist() == [24.0, 28.0, 22.0, 26.0, 2029.0]


def test_quarters_from_bars_stamped_on_the_first_session_day() -> None:
    """The simulator stamps a month at its first session (2 Jan, not 1 Jan)."""
    rows = [
        ("2026-01-02", 1.0, 2.0, 0.5, 1.5, 1.0),
        ("2026-02-02", 1.5, 3.0, 1.0, 2.5, 1.0),
        ("2026-03-02", 2.5, 2.75, 0.25, 0.75, 1.0),
        ("2026-04-01", 0.75, 1.0, 0.5, 0.9, 1.0),
    ]
    q = quarter_bars(_bars(rows))
    assert q.iloc[0].tolist() == [1.0, 3.0, 0.25, 0.75, 3.0]
    assert q.index[0] == pd.Timestamp("2026-01-02", tz=NEW_YORK)


def test_aggregation_refuses_what_it_cannot_build_exactly() -> None:
    frame = _bars(_half_hours("2026-11-24", "09:30", 2, 1.0))
    with pytest.raises(ValueError, match="cannot be built exactly from 1Hour"):
        aggregate_bars(frame, "4Hour", "1Hour")  # clock-aligned hours straddle 09:30
    with pytest.raises(ValueError, match="served by the data source"):
        aggregate_bars(frame, "1Day", "30Min")
    assert aggregate_bars(frame.iloc[:0], "4Hour", "30Min").empty


def test_tfc_timeframes_are_the_higher_timeframes_by_scanner_name() -> None:
    assert tfc_timeframes("1Day") == ("1Week", "1Month", "1Quarter")
    assert tfc_timeframes("4Hour") == tfc_timeframes("15Min") == ("1Day", "1Week")
    assert tfc_timeframes("1Quarter") == ()
