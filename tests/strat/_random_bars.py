"""Random-walk bars on all eight scan timeframes, nested as real bars are, for the
scanner's equivalence test (``test_scan_equivalence``).

One 15-minute regular-session random walk per symbol; every other timeframe is built
from it (30Min and clock hours, the session's two 4Hour blocks, days at New York
midnight, weeks from Monday, months and quarters stamped at their first trading day),
so the settlement magnifier finds lower bars that nest, as it does on a real feed.
Prices sit on a coarse grid (equal highs and lows, many inside and outside bars), the
session opens gap, and each frame is cut to a random length (often 0 to 3 bars).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.strat.timeframes import SCAN_TIMEFRAMES

NY = "America/New_York"
_SESSION_BARS = 26  # 09:30 to 16:00 in 15 minutes


@dataclass(frozen=True)
class Case:
    seed: int
    bars: dict[tuple[str, str], pd.DataFrame]
    now: datetime


def _base_bars(rng: np.random.Generator, days: int) -> pd.DataFrame:
    """15-minute bars for ``days`` weekdays, on a grid of ``step`` dollars."""
    start = pd.Timestamp("2021-01-04") + pd.Timedelta(days=int(rng.integers(0, 700)))
    dates = pd.bdate_range(start, periods=days)
    step = float(rng.choice([0.01, 0.05, 0.25, 0.5]))
    vol = float(rng.uniform(0.5, 3.0)) * step
    n = days * _SESSION_BARS
    moves = rng.normal(0.0, vol, n)
    moves[rng.random(n) < 0.25] = 0.0  # flat bars: inside bars and equal extremes
    gaps = rng.normal(0.0, 6 * vol, days) * (rng.random(days) < 0.5)
    moves[::_SESSION_BARS] += gaps  # the session's first bar gaps from yesterday
    close = float(rng.uniform(20, 400)) + np.cumsum(moves)
    close = np.maximum(close, 5.0)
    open_ = np.r_[close[0], close[:-1]]
    open_[::_SESSION_BARS] += gaps * 0.5  # an opening gap that half fills
    wick = np.abs(rng.normal(0.0, vol, (2, n))) * (rng.random((2, n)) < 0.7)
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]

    def grid(x: np.ndarray) -> np.ndarray:
        return np.round(np.round(x / step) * step, 2)

    o, h, lo, c = grid(open_), grid(high), grid(low), grid(close)
    h = np.maximum.reduce([h, o, c])
    lo = np.minimum.reduce([lo, o, c])
    minutes = np.tile(np.arange(_SESSION_BARS) * 15 + 9 * 60 + 30, days)
    day_of = np.repeat(dates.values, _SESSION_BARS)
    local = pd.DatetimeIndex(day_of + minutes.astype("timedelta64[m]")).tz_localize(NY)
    volume = rng.integers(100, 10_000, n).astype(float)
    return pd.DataFrame(
        {"open": o, "high": h, "low": lo, "close": c, "volume": volume},
        index=local.tz_convert("UTC").as_unit("us"),
    )


def _aggregate(base: pd.DataFrame, keys: np.ndarray, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], keys.size] - 1
    cols = {c: base[c].to_numpy() for c in base.columns}
    out = {
        "open": cols["open"][starts],
        "high": np.maximum.reduceat(cols["high"], starts),
        "low": np.minimum.reduceat(cols["low"], starts),
        "close": cols["close"][ends],
        "volume": np.add.reduceat(cols["volume"], starts),
    }
    index = stamps[starts].tz_convert("UTC").as_unit("us")
    return pd.DataFrame(out, index=index)


def all_timeframes(base: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every scan timeframe built from the 15-minute bars."""
    local = pd.DatetimeIndex(base.index).tz_convert(NY)
    minute = np.asarray(local.hour * 60 + local.minute)
    day = local.tz_localize(None).normalize()
    day_key = np.asarray(day.asi8 // 86_400_000_000, dtype=np.int64)  # µs index
    midnight = day.tz_localize(NY)
    out: dict[str, pd.DataFrame] = {"15Min": base}
    half = local.floor("30min")
    out["30Min"] = _aggregate(base, np.asarray(half.asi8), half)
    hour = local.floor("h")
    out["1Hour"] = _aggregate(base, np.asarray(hour.asi8), hour)
    second = minute >= 13 * 60 + 30
    four = midnight + pd.to_timedelta(np.where(second, 13 * 60 + 30, 9 * 60 + 30), unit="m")
    out["4Hour"] = _aggregate(base, day_key * 2 + second, four)
    out["1Day"] = _aggregate(base, day_key, midnight)
    week = np.asarray(day.to_period("W").asi8)
    out["1Week"] = _aggregate(
        base, week, (day - pd.to_timedelta(day.day_of_week, unit="D")).tz_localize(NY)
    )
    month = np.asarray(day.year * 12 + day.month - 1)
    out["1Month"] = _aggregate(base, month, midnight)  # stamped at the first trading day
    quarter = np.asarray(day.year * 4 + (day.month - 1) // 3)
    out["1Quarter"] = _aggregate(base, quarter, midnight)
    return out


def random_case(seed: int) -> Case:
    """1 to 3 symbols × the scan timeframes (some missing, some 0 to 3 bars long), and a
    broker time inside or just after the last 15-minute bar."""
    rng = np.random.default_rng(seed)
    bars: dict[tuple[str, str], pd.DataFrame] = {}
    last = pd.Timestamp(0, tz="UTC")
    for k in range(int(rng.integers(1, 4))):
        sym = f"S{seed}_{k}"
        frames = all_timeframes(_base_bars(rng, int(rng.integers(15, 400))))
        last = max(last, frames["15Min"].index[-1])
        for tf in SCAN_TIMEFRAMES:
            if rng.random() < 0.08:
                continue  # a timeframe the source did not serve
            df = frames[tf]
            r = rng.random()
            keep = int(rng.integers(0, 4)) if r < 0.2 else int(rng.integers(4, 121))
            bars[(sym, tf)] = df.iloc[max(0, len(df) - keep) :] if keep else df.iloc[:0]
    now = (last + pd.Timedelta(minutes=int(rng.integers(0, 40)))).to_pydatetime()
    return Case(seed, bars, now)
