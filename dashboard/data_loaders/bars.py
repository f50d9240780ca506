"""Bars as a DataFrame: the one shape every chart and the STRAT engine take.

Index: tz-aware UTC ``DatetimeIndex`` named "timestamp"; columns open, high, low, close,
volume (float64), sorted ascending, no duplicate stamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BAR_COLUMNS", "TIMEFRAMES", "bars_frame", "empty_bars", "lookback_start"]

TIMEFRAMES = ("1Min", "5Min", "15Min", "1Hour", "1Day", "1Week", "1Month")
BAR_COLUMNS = ("open", "high", "low", "close", "volume")
_SHORT = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
_BARS_PER_SESSION = {"1Min": 390, "5Min": 78, "15Min": 26, "1Hour": 7, "1Day": 1}


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


def lookback_start(timeframe: str, lookback: int, end: datetime) -> datetime:
    """A start early enough that ``lookback`` bars of ``timeframe`` end before ``end``.

    Generous on purpose (weekends, holidays, half days): the caller keeps the last
    ``lookback`` rows, so over-fetching costs bytes, under-fetching costs bars.
    """
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}")
    if timeframe == "1Week":
        days = lookback * 7 + 14
    elif timeframe == "1Month":
        days = lookback * 31 + 62
    else:
        sessions = -(-lookback // _BARS_PER_SESSION[timeframe])
        days = int(sessions * 7 / 5 * 1.1) + 7
    return end - timedelta(days=days)
