"""Time to expiry, on one day count used everywhere (calendar days / 365).

Theta is quoted per calendar day, so T must be measured in calendar time too. Listed
equity options stop trading at 16:00 New York time on expiry day, which is the moment
used as "expiry" here; an expiry-day contract has a few hours of life before the close
and none after it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dashboard.conventions import NEW_YORK

__all__ = [
    "DAYS_PER_YEAR",
    "NEW_YORK",
    "days_to_expiry",
    "expiry_close",
    "is_expired",
    "years_to_expiry",
]

DAYS_PER_YEAR = 365.0
_CLOSE = time(16, 0)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("'now' must be timezone-aware (e.g. datetime.now(UTC))")
    return now


def expiry_close(expiry: date) -> datetime:
    """16:00 New York time on expiry day, when the contract stops trading."""
    return datetime.combine(expiry, _CLOSE, tzinfo=NEW_YORK)


def is_expired(expiry: date, now: datetime) -> bool:
    return _aware(now) >= expiry_close(expiry)


def days_to_expiry(expiry: date, now: datetime) -> int:
    """Calendar days from today's New York date to expiry (0 on expiry day, <0 after)."""
    today = _aware(now).astimezone(NEW_YORK).date()
    return (expiry - today).days


def years_to_expiry(expiry: date, now: datetime) -> float:
    """Years until the expiry-day close, floored at 0 (an expired option has T = 0)."""
    remaining = expiry_close(expiry) - _aware(now)
    return max(remaining / timedelta(days=1), 0.0) / DAYS_PER_YEAR
