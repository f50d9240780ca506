"""Timeframes on the New York session clock: when a bar is closed, which timeframes a
signal's continuity is judged against, and bars the data source does not serve.

Patterns are read from closed bars only, so the scanner must know whether the newest
bar in a feed is still forming. Alpaca stamps daily and longer bars at midnight New York
time and intraday bars at their start, which is what these rules assume.

Alpaca serves ``[1-59]Min``, ``[1-23]Hour``, ``1Day``, ``1Week`` and ``[1,2,3,4,6,12]Month``
bars and no quarters. STRAT traders count **4Hour** bars from the regular-session open,
09:30–13:30 and 13:30–16:00 New York time, and **1Quarter** bars on calendar quarters.
Rather than rely on how a data source aligns multi-hour bars (or on its extended-hours
trades), both are built here (``aggregate_bars``): 4Hour from regular-session bars of
30 minutes or finer, quarters from monthly bars.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.conventions import NEW_YORK

__all__ = [
    "AGGREGATION_SOURCES",
    "FOUR_HOUR_STARTS",
    "HIGHER_TIMEFRAMES",
    "INTRADAY_MINUTES",
    "SCAN_TIMEFRAMES",
    "SESSION_CLOSE",
    "SESSION_OPEN",
    "TIMEFRAME_ORDER",
    "aggregate_bars",
    "bar_close_time",
    "four_hour_bars",
    "is_bar_closed",
    "quarter_bars",
    "regular_session",
    "tfc_timeframes",
]

SESSION_OPEN: Final = time(9, 30)
SESSION_CLOSE: Final = time(16, 0)
# Bars of a fixed length in minutes. 4Hour is not here: its second bar is 2.5 hours.
INTRADAY_MINUTES: Final[Mapping[str, int]] = MappingProxyType(
    {"1Min": 1, "5Min": 5, "15Min": 15, "30Min": 30, "1Hour": 60}
)
# The regular session's two 4-hour bars, as New York wall-clock starts.
FOUR_HOUR_STARTS: Final = (time(9, 30), time(13, 30))

# The scanner's timeframes, highest first (the board's timeframe order).
SCAN_TIMEFRAMES: Final[tuple[str, ...]] = (
    "1Quarter",
    "1Month",
    "1Week",
    "1Day",
    "4Hour",
    "1Hour",
    "30Min",
    "15Min",
)
TIMEFRAME_ORDER: Final[Mapping[str, int]] = MappingProxyType(
    {tf: i for i, tf in enumerate((*SCAN_TIMEFRAMES, "5Min", "1Min"))}
)

# Higher timeframes whose candles a signal's continuity is judged against (strat.md §1.4):
# the backtest's "TFC at entry" and the board's TFC column use the same sets, so a
# "TFC-aligned" strategy on the Strategy tab means what ✓ means on the board.
HIGHER_TIMEFRAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "15Min": ("D", "W"),
        "30Min": ("D", "W"),
        "1Hour": ("D", "W"),
        "4Hour": ("D", "W"),
        "1Day": ("W", "M", "Q"),
        "1Week": ("M",),
        "1Month": ("Q",),
        "1Quarter": (),
    }
)
_LONG_NAME: Final = MappingProxyType({"D": "1Day", "W": "1Week", "M": "1Month", "Q": "1Quarter"})

# Timeframe built here → the served timeframes it can be built from exactly.
AGGREGATION_SOURCES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"4Hour": ("30Min", "15Min", "5Min", "1Min"), "1Quarter": ("1Month",)}
)


def tfc_timeframes(timeframe: str) -> tuple[str, ...]:
    """The higher timeframes (scanner names, e.g. "1Week") a ``timeframe`` signal's
    continuity counts; empty for the highest timeframe."""
    return tuple(_LONG_NAME[t] for t in HIGHER_TIMEFRAMES.get(timeframe, ()))


# ---------------------------------------------------------------------------- closing times


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
    local = bar_start.astimezone(NEW_YORK)
    day = local.date()
    if timeframe == "4Hour":
        if local.time() < FOUR_HOUR_STARTS[1]:
            return datetime.combine(day, FOUR_HOUR_STARTS[1], tzinfo=NEW_YORK)
        return _close_on(day)
    if timeframe == "1Day":
        return _close_on(day)
    if timeframe == "1Week":
        return _close_on(day + timedelta(days=4 - day.weekday()))
    if timeframe == "1Month":
        return _close_on(_last_weekday(day.year, day.month))
    if timeframe == "1Quarter":
        return _close_on(_last_weekday(day.year, (day.month - 1) // 3 * 3 + 3))
    raise ValueError(f"unknown timeframe {timeframe!r}")


def is_bar_closed(timeframe: str, bar_start: datetime, now: datetime) -> bool:
    """True once ``now`` has reached the bar's close (holidays only make this later)."""
    return now >= bar_close_time(timeframe, bar_start)


# ------------------------------------------------------------------------------ aggregation

_OPEN_MIN: Final = SESSION_OPEN.hour * 60 + SESSION_OPEN.minute
_CLOSE_MIN: Final = SESSION_CLOSE.hour * 60 + SESSION_CLOSE.minute
_SPLIT_MIN: Final = FOUR_HOUR_STARTS[1].hour * 60 + FOUR_HOUR_STARTS[1].minute


def _local(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if index.tz is None:
        raise ValueError("bars need a timezone-aware index")
    return index.tz_convert(NEW_YORK)


def _columns(df: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
    return {c: df[c].to_numpy(dtype=np.float64) for c in df.columns}


def _reduce(
    df: pd.DataFrame, keys: NDArray[np.int64], stamps: pd.DatetimeIndex, drop_first: bool
) -> pd.DataFrame:
    """One bar per run of equal ``keys`` (sorted): first open, highest high, lowest low,
    last close, summed volume; stamped with the run's ``stamps``; the first run dropped
    when ``drop_first`` (it began before the data did)."""
    n = keys.size
    if n == 0:
        return df.iloc[:0]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], n] - 1
    cols = _columns(df)
    out: dict[str, NDArray[np.float64]] = {}
    for name, values in cols.items():
        if name == "open":
            out[name] = values[starts]
        elif name == "high":
            out[name] = np.maximum.reduceat(values, starts)
        elif name == "low":
            out[name] = np.minimum.reduceat(values, starts)
        elif name == "close":
            out[name] = values[ends]
        elif name == "volume":
            out[name] = np.add.reduceat(values, starts)
    source_index = pd.DatetimeIndex(df.index)
    index = (
        pd.DatetimeIndex(stamps[starts], name=df.index.name)
        .tz_convert(source_index.tz)
        .as_unit(source_index.unit)  # the source's resolution, so frames compare equal
    )
    frame = pd.DataFrame(out, index=index)[[c for c in df.columns if c in out]]
    return frame.iloc[1:] if drop_first else frame


def regular_session(df: pd.DataFrame) -> pd.DataFrame:
    """Intraday bars that start inside the regular session, 09:30 to 16:00 New York time
    (Alpaca's intraday feed also carries pre- and post-market bars)."""
    local = _local(pd.DatetimeIndex(df.index))
    minutes = np.asarray(local.hour * 60 + local.minute)
    return df[(minutes >= _OPEN_MIN) & (minutes < _CLOSE_MIN)]


def four_hour_bars(df: pd.DataFrame) -> pd.DataFrame:
    """Session-aligned 4Hour bars, 09:30–13:30 and 13:30–16:00 New York time (13:00 on a
    half day), from intraday bars that nest in them (30 minutes or finer, stamped at
    their start). Pre- and post-market bars are left out. A first bar whose block began
    before the data did is dropped (its open would be wrong); the last may be forming."""
    rth = regular_session(df)
    local = _local(pd.DatetimeIndex(rth.index))
    minutes = np.asarray(local.hour * 60 + local.minute)
    second = minutes >= _SPLIT_MIN
    day = local.tz_localize(None).normalize()
    keys = np.asarray(day.as_unit("ns").asi8 // 86_400_000_000_000, dtype=np.int64) * 2 + second
    offsets = np.where(second, _SPLIT_MIN, _OPEN_MIN).astype("timedelta64[m]")
    stamps = pd.DatetimeIndex(day.as_unit("ns").to_numpy() + offsets).tz_localize(NEW_YORK)
    first_off = bool(minutes.size) and minutes[0] not in (_OPEN_MIN, _SPLIT_MIN)
    return _reduce(rth, keys, stamps, drop_first=first_off)


def quarter_bars(df: pd.DataFrame) -> pd.DataFrame:
    """Calendar-quarter bars from monthly bars (each stamped inside its month, as
    Alpaca's are, at New York midnight), stamped like the quarter's first month. A first
    quarter whose first month is missing from the data is dropped; the last may be
    forming."""
    local = _local(pd.DatetimeIndex(df.index))
    year = np.asarray(local.year, dtype=np.int64)
    month = np.asarray(local.month, dtype=np.int64)
    keys = year * 4 + (month - 1) // 3
    first_off = bool(month.size) and (month[0] - 1) % 3 != 0
    return _reduce(df, keys, pd.DatetimeIndex(df.index), drop_first=first_off)


def aggregate_bars(df: pd.DataFrame, timeframe: str, source: str) -> pd.DataFrame:
    """``timeframe`` bars built from ``source`` bars (see ``AGGREGATION_SOURCES``); the
    frame is the canonical bars frame (ascending, tz-aware index)."""
    sources = AGGREGATION_SOURCES.get(timeframe)
    if sources is None:
        raise ValueError(f"{timeframe} is served by the data source, not built from bars")
    if source not in sources:
        raise ValueError(f"{timeframe} bars cannot be built exactly from {source} bars")
    return four_hour_bars(df) if timeframe == "4Hour" else quarter_bars(df)
