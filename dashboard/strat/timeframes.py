"""When a bar of a timeframe is closed, judged on the New York session clock.

Patterns are read from closed bars only, so the scanner must know whether the newest
bar in a feed is still forming. Alpaca stamps daily and longer bars at midnight New York
time and intraday bars at their start, which is what these rules assume.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from dashboard.conventions import NEW_YORK

SESSION_CLOSE = time(16, 0)
INTRADAY_MINUTES = {"1Min": 1, "5Min": 5, "15Min": 15, "30Min": 30, "1Hour": 60}


def _close_on(day: date) -> datetime:
    return datetime.combine(day, SESSION_CLOSE, tzinfo=NEW_YORK)


def _last_weekday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last


def bar_close_time(timeframe: str, bar_start: datetime) -> datetime:
    """The moment the bar stamped ``bar_start`` stops changing (tz-aware)."""
    if bar_start.tzinfo is None:
        raise ValueError("bar_start must be timezone-aware")
    if timeframe in INTRADAY_MINUTES:
        return bar_start + timedelta(minutes=INTRADAY_MINUTES[timeframe])
    day = bar_start.astimezone(NEW_YORK).date()
    if timeframe == "1Day":
        return _close_on(day)
    if timeframe == "1Week":
        return _close_on(day + timedelta(days=4 - day.weekday()))
    if timeframe == "1Month":
        return _close_on(_last_weekday(day.year, day.month))
    raise ValueError(f"unknown timeframe {timeframe!r}")


def is_bar_closed(timeframe: str, bar_start: datetime, now: datetime) -> bool:
    """True once ``now`` has reached the bar's close (holidays only make this later)."""
    return now >= bar_close_time(timeframe, bar_start)
