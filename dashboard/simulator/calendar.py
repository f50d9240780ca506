"""NYSE-like trading sessions: weekdays 09:30-16:00 New York time minus exchange holidays.

Holidays follow the NYSE rules (New Year, MLK, Presidents, Good Friday, Memorial,
Juneteenth from 2022, Independence, Labor, Thanksgiving, Christmas, with weekend
observance) so the simulated calendar lines up with real charts. Early closes are not
modelled: every session is 390 minutes, which keeps the minute grid rectangular.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import numpy as np

from dashboard.conventions import NEW_YORK

__all__ = [
    "MINUTES_PER_SESSION",
    "NEW_YORK",
    "SessionCalendar",
    "nyse_holidays",
]

OPEN_TIME = time(9, 30)
CLOSE_TIME = time(16, 0)
MINUTES_PER_SESSION = 390


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date | None:
    """Saturday holidays move to Friday, Sunday ones to Monday (NYSE rule 7.2)."""
    if d.weekday() == 5:
        friday = d - timedelta(days=1)
        # NYSE does not close on Dec 31 for a Saturday New Year's Day.
        return None if (friday.month == 12 and friday.day == 31) else friday
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


@lru_cache(maxsize=256)
def nyse_holidays(year: int) -> tuple[date, ...]:
    """Full-day NYSE closures of one year."""
    raw = [
        date(year, 1, 1),
        _nth_weekday(year, 1, 0, 3),  # MLK day
        _nth_weekday(year, 2, 0, 3),  # Presidents day
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial day
        date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),  # Labor day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        date(year, 12, 25),
    ]
    if year >= 2022:
        raw.append(date(year, 6, 19))
    out = {o for d in raw if (o := _observed(d)) is not None and o.year == year}
    # A Saturday Jan 1 of next year is not observed on this year's Dec 31 (handled above).
    return tuple(sorted(out))


def _as_date(day: np.datetime64) -> date:
    """A numpy day as a ``date`` (numpy types ``.item()`` loosely)."""
    out = day.item()
    if not isinstance(out, date):
        raise ValueError(f"{day!r} is not a calendar day")
    return out


class SessionCalendar:
    """Trading days as a numpy business-day calendar, plus open/close instants in UTC."""

    def __init__(self, first_year: int = 1995, last_year: int = 2100) -> None:
        hols = [d for y in range(first_year, last_year + 1) for d in nyse_holidays(y)]
        self._busday = np.busdaycalendar(weekmask="1111100", holidays=hols)
        self._first = date(first_year, 1, 1)
        self._last = date(last_year, 12, 31)

    # ---- day-level queries -------------------------------------------------------------
    def is_session(self, d: date) -> bool:
        return bool(np.is_busday(np.datetime64(d, "D"), busdaycal=self._busday))

    def sessions(self, start: date, end: date) -> list[date]:
        """Sessions with ``start <= d <= end``."""
        if end < start:
            return []
        arr = self.session_array(start, end)
        return [d.item() for d in arr]

    def session_array(self, start: date, end: date) -> np.ndarray:
        days = np.arange(
            np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]"
        )
        return days[np.is_busday(days, busdaycal=self._busday)]

    def next_session(self, d: date, *, include: bool = False) -> date:
        """First session after ``d`` (or on ``d`` when ``include``)."""
        day = np.datetime64(d, "D") + (0 if include else 1)
        return _as_date(np.busday_offset(day, 0, roll="forward", busdaycal=self._busday))

    def prev_session(self, d: date, *, include: bool = False) -> date:
        """Last session before ``d`` (or on ``d`` when ``include``)."""
        day = np.datetime64(d, "D") - (0 if include else 1)
        return _as_date(np.busday_offset(day, 0, roll="backward", busdaycal=self._busday))

    def offset_sessions(self, d: date, n: int) -> date:
        """The session ``n`` sessions from ``d`` (``d`` is rolled back to a session first)."""
        day = np.datetime64(self.prev_session(d, include=True), "D")
        return _as_date(np.busday_offset(day, n, roll="backward", busdaycal=self._busday))

    def count_sessions(self, start: date, end: date) -> int:
        """Number of sessions in ``[start, end)``."""
        return int(
            np.busday_count(
                np.datetime64(start, "D"), np.datetime64(end, "D"), busdaycal=self._busday
            )
        )

    # ---- instants ----------------------------------------------------------------------
    @staticmethod
    def open_at(d: date) -> datetime:
        return datetime.combine(d, OPEN_TIME, tzinfo=NEW_YORK).astimezone(UTC)

    @staticmethod
    def close_at(d: date) -> datetime:
        return datetime.combine(d, CLOSE_TIME, tzinfo=NEW_YORK).astimezone(UTC)

    @staticmethod
    def ny_date(t: datetime) -> date:
        return t.astimezone(NEW_YORK).date()

    def session_of(self, t: datetime) -> date | None:
        """The session whose regular hours contain ``t`` (open inclusive, close exclusive)."""
        d = self.ny_date(t)
        if self.is_session(d) and self.open_at(d) <= t < self.close_at(d):
            return d
        return None

    def is_open(self, t: datetime) -> bool:
        return self.session_of(t) is not None

    def next_open(self, t: datetime) -> datetime:
        """The next open strictly after ``t``."""
        d = self.ny_date(t)
        if self.is_session(d) and t < self.open_at(d):
            return self.open_at(d)
        return self.open_at(self.next_session(d))

    def next_close(self, t: datetime) -> datetime:
        """The close of the current session, or of the next one when closed."""
        d = self.ny_date(t)
        if self.is_session(d) and t < self.close_at(d):
            return self.close_at(d)
        return self.close_at(self.next_session(d))

    def last_completed_session(self, t: datetime) -> date:
        """Most recent session whose close is at or before ``t``."""
        d = self.ny_date(t)
        if self.is_session(d) and t >= self.close_at(d):
            return d
        return self.prev_session(d)

    def current_or_last_session(self, t: datetime) -> date:
        """Today's session once it has opened, else the previous one."""
        d = self.ny_date(t)
        if self.is_session(d) and t >= self.open_at(d):
            return d
        return self.prev_session(d)
