from datetime import UTC, datetime

import pytest

from dashboard.strat.timeframes import bar_close_time, is_bar_closed


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
