"""Bars as a DataFrame: the one shape every chart and the STRAT engine take, and the
plan of what to ask the data source for.

Index: tz-aware UTC ``DatetimeIndex`` named "timestamp"; columns open, high, low, close,
volume (float64), sorted ascending, no duplicate stamps.

Alpaca serves the ``SERVED_TIMEFRAMES``; the others (``BUILT_FROM``) are built from a
served timeframe by ``strat.timeframes.aggregate_bars`` (session-aligned 4Hour bars from
30-minute bars, calendar quarters from monthly bars), so the client never asks Alpaca
for a timeframe it does not serve. ``plan_bar_requests`` turns the timeframes a read
wants into one upstream request per served timeframe: a scan of 4Hour and 30Min bars,
or of 1Quarter and 1Month bars, costs one request, not two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
import pandas as pd

from dashboard.strat.timeframes import aggregate_bars

__all__ = [
    "BARS_PER_PAGE",
    "BAR_COLUMNS",
    "BUILT_FROM",
    "SERVED_TIMEFRAMES",
    "TIMEFRAMES",
    "BarRequest",
    "bars_frame",
    "empty_bars",
    "lookback_start",
    "plan_bar_requests",
    "requests_per_refresh",
]

# What the client asks Alpaca for (Alpaca accepts [1-59]Min, [1-23]Hour, 1Day, 1Week and
# [1,2,3,4,6,12]Month; these are the ones the app uses).
SERVED_TIMEFRAMES: Final = ("1Min", "5Min", "15Min", "30Min", "1Hour", "1Day", "1Week", "1Month")
# Built here from a served timeframe (the finest source that is not wasteful).
BUILT_FROM: Final[Mapping[str, str]] = {"4Hour": "30Min", "1Quarter": "1Month"}
TIMEFRAMES: Final = (*SERVED_TIMEFRAMES, *BUILT_FROM)
BAR_COLUMNS = ("open", "high", "low", "close", "volume")
# Alpaca's ``limit`` caps a whole multi-symbol page at 10,000 bars.
BARS_PER_PAGE: Final = 10_000
_SHORT = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
# Bars per session of a clock-aligned intraday feed, by the hours it trades: the regular
# session (09:30–16:00, the simulator), IEX's (08:00–17:00, Alpaca's free feed) and the
# consolidated tape's (04:00–20:00, SIP). 1Hour bars are clock-aligned (09:00 … 15:00 is 7).
_BARS_PER_SESSION = {"1Min": 390, "5Min": 78, "15Min": 26, "30Min": 13, "1Hour": 7, "1Day": 1}
_FEED_BARS_PER_SESSION: Final[Mapping[str | None, Mapping[str, int]]] = {
    None: _BARS_PER_SESSION,
    "iex": {"1Min": 540, "5Min": 108, "15Min": 36, "30Min": 18, "1Hour": 9, "1Day": 1},
    "sip": {"1Min": 960, "5Min": 192, "15Min": 64, "30Min": 32, "1Hour": 16, "1Day": 1},
}


def empty_bars() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="timestamp")
    return pd.DataFrame({c: np.array([], dtype="float64") for c in BAR_COLUMNS}, index=idx)


def bars_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Alpaca bar rows (``{"t","o","h","l","c","v",...}``) → the canonical frame."""
    rows = list(rows)
    if not rows:
        return empty_bars()
    ts = pd.to_datetime([r["t"] for r in rows], utc=True, format="ISO8601")
    data = {
        name: np.asarray([float(r[k]) for r in rows], dtype="float64") for k, name in _SHORT.items()
    }
    frame = pd.DataFrame(data, index=pd.DatetimeIndex(ts, name="timestamp"))
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame


def _sessions_days(sessions: int) -> int:
    return int(sessions * 7 / 5 * 1.1) + 7


def lookback_start(timeframe: str, lookback: int, end: datetime) -> datetime:
    """A start early enough that ``lookback`` bars of ``timeframe`` end before ``end``.

    Generous on purpose (weekends, holidays, half days): the caller keeps the last
    ``lookback`` rows, so over-fetching costs bytes, under-fetching costs bars. A built
    timeframe gets one period more, as its first period may be cut (and dropped).
    """
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}")
    if timeframe == "1Week":
        days = lookback * 7 + 14
    elif timeframe == "1Month":
        days = lookback * 31 + 62
    elif timeframe == "1Quarter":
        days = (lookback + 1) * 92 + 31
    elif timeframe == "4Hour":
        days = _sessions_days(-(-(lookback + 2) // 2))
    else:
        days = _sessions_days(-(-lookback // _BARS_PER_SESSION[timeframe]))
    return end - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class BarRequest:
    """One upstream bars request: the served ``source`` timeframe, and the timeframes
    (with the bars each needs) it serves: itself, or ones built from it."""

    source: str
    wants: tuple[tuple[str, int], ...]

    @property
    def key(self) -> str:
        """Names what the request reads (a cache key part)."""
        return "+".join(f"{tf}.{n}" for tf, n in self.wants)

    def start(self, end: datetime) -> datetime:
        return min(lookback_start(tf, n, end) for tf, n in self.wants)

    @property
    def limit(self) -> int | None:
        """Bars per symbol when the source alone is wanted; else None (the window
        decides, since a built bar spans a varying number of source bars)."""
        if len(self.wants) == 1 and self.wants[0][0] == self.source:
            return self.wants[0][1]
        return None

    def frames(self, source_frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Each wanted timeframe's last bars from the source timeframe's bars."""
        out: dict[str, pd.DataFrame] = {}
        for tf, n in self.wants:
            frame = (
                source_frame if tf == self.source else aggregate_bars(source_frame, tf, self.source)
            )
            out[tf] = frame.tail(n)
        return out


def plan_bar_requests(lookbacks: Mapping[str, int]) -> list[BarRequest]:
    """One request per served timeframe for the wanted ``{timeframe: bars}``, in the
    order of first mention."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for tf, n in lookbacks.items():
        if tf not in TIMEFRAMES:
            raise ValueError(f"unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES)}")
        groups.setdefault(BUILT_FROM.get(tf, tf), []).append((tf, int(n)))
    return [BarRequest(src, tuple(w)) for src, w in groups.items()]


def _bars_in_window(source: str, days: int, feed: str | None) -> float:
    """The most bars of ``source`` one symbol can have in ``days`` calendar days."""
    if source == "1Week":
        return days / 7 + 1
    if source == "1Month":
        return days / 28 + 1
    sessions = days * 5 / 7 + 1
    return sessions * _FEED_BARS_PER_SESSION[feed][source]


def requests_per_refresh(
    n_symbols: int, lookbacks: Mapping[str, int], *, feed: str | None = "iex"
) -> int:
    """Upstream HTTP requests one cold read of ``lookbacks`` costs for ``n_symbols``: a
    page per ``BARS_PER_PAGE`` bars of each served timeframe, in the window
    ``lookback_start`` asks for, with a bar in every slot the ``feed`` trades (None: the
    regular session only, as the simulator; "iex": 08:00–17:00; "sip": 04:00–20:00)."""
    if feed not in _FEED_BARS_PER_SESSION:
        raise ValueError(f"unknown feed {feed!r}")
    end = datetime(2026, 1, 1)
    total = 0
    for req in plan_bar_requests(lookbacks):
        days = (end - req.start(end)).days
        bars = n_symbols * _bars_in_window(req.source, days, feed)
        if req.limit is not None and n_symbols == 1:
            bars = min(bars, req.limit)  # a lone symbol's request carries its own limit
        total += max(1, math.ceil(bars / BARS_PER_PAGE))
    return total
