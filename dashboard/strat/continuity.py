"""Timeframe continuity (TFC / FTFC): does price agree with each timeframe's candle?

Default (majority) definition, strat.md §1.4: per timeframe, sign(price − that
timeframe's current open); a doji (price == open at tick precision) is 0. ``score`` is the
sum over the selected timeframes; FTFC when every one agrees. ``distance`` is how far
price must travel to flip that timeframe's colour. The minority "bar state" variant
(ATLAS) counts 2U as +1, 2D as −1, a 3 by its colour and a 1 as 0.

``continuity_history`` rebuilds each higher-timeframe candle *as of* every lower bar:
the open of the period that contains the bar is known at that bar, so nothing from the
future leaks into a chart overlay or a backtest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dashboard.conventions import MARKET_TZ_NAME
from dashboard.strat.bars import (
    DOWN,
    INSIDE,
    OUTSIDE,
    UNCLASSIFIED,
    UP,
    bar_label,
    classify_bars,
)

TfcMode = Literal["candle", "bar_state"]

# Our timeframe names (Alpaca's and the short ones) → pandas period/floor frequency.
_PERIOD_FREQ: dict[str, str] = {
    "Y": "Y",
    "1Year": "Y",
    "Q": "Q",
    "1Quarter": "Q",
    "M": "M",
    "1Month": "M",
    "W": "W",
    "1Week": "W",
    "D": "D",
    "1Day": "D",
}
_FLOOR_FREQ: dict[str, str] = {
    "H": "1h",
    "60": "1h",
    "1Hour": "1h",
    "4H": "4h",
    "4Hour": "4h",
    "30": "30min",
    "30Min": "30min",
    "15": "15min",
    "15Min": "15min",
}

_LABEL_TO_CODE = {"1": INSIDE, "2U": UP, "2D": DOWN, "3": OUTSIDE, "": UNCLASSIFIED}


@dataclass(frozen=True, slots=True)
class TimeframeState:
    """One timeframe's contribution to continuity."""

    timeframe: str
    open: float
    price: float
    direction: int  # +1 up (green / 2U), -1 down, 0 doji or not counted
    distance: float  # price − open in dollars; the move that would flip the colour
    distance_atr: float | None = None  # distance in that timeframe's ATR
    bar_type: str | None = None  # "1", "2U", "2D", "3" of the current bar when known


@dataclass(frozen=True, slots=True)
class ContinuityResult:
    score: int  # sum of directions, in [-n, n]
    n: int
    direction: int  # sign(score)
    ftfc: bool  # every timeframe agrees (and none is neutral)
    states: tuple[TimeframeState, ...]

    @property
    def aligned(self) -> int:
        """How many timeframes agree with the overall direction (the k of "k/N")."""
        if self.direction == 0:
            return 0
        return sum(1 for s in self.states if s.direction == self.direction)

    @property
    def label(self) -> str:
        side = {1: " up", -1: " down", 0: ""}[self.direction]
        return f"{'FTFC' if self.ftfc else f'{self.aligned}/{self.n}'}{side}"


def _code(bar_type: int | str | None) -> int:
    if bar_type is None:
        return UNCLASSIFIED
    if isinstance(bar_type, str):
        return _LABEL_TO_CODE[bar_type]
    return int(bar_type)


def _state_direction(code: int, colour: int) -> int:
    """Bar-state vote: 2U +1, 2D −1, 3 by its colour, 1 and unknown 0 (ATLAS)."""
    if code == UP:
        return 1
    if code == DOWN:
        return -1
    if code == OUTSIDE:
        return colour
    return 0


def timeframe_continuity(
    price: float,
    opens: Mapping[str, float],
    *,
    mode: TfcMode = "candle",
    bar_types: Mapping[str, int | str] | None = None,
    atr: Mapping[str, float] | None = None,
    tick: float = 0.01,
) -> ContinuityResult:
    """Continuity of ``price`` against each timeframe's current open (in mapping order).

    ``bar_types`` (codes or labels) is required for ``mode="bar_state"`` and otherwise
    only annotates the states; ``atr`` adds ``distance_atr``.
    """
    if mode == "bar_state" and bar_types is None:
        raise ValueError("mode='bar_state' needs bar_types")
    p_t = round(price / tick)
    states: list[TimeframeState] = []
    for tf, op in opens.items():
        colour = int(np.sign(p_t - round(op / tick)))
        code = _code(bar_types.get(tf)) if bar_types is not None else None
        direction = colour if mode == "candle" else _state_direction(code or 0, colour)
        dist = round(price - op, 8)
        a = atr.get(tf) if atr is not None else None
        states.append(
            TimeframeState(
                timeframe=tf,
                open=float(op),
                price=float(price),
                direction=direction,
                distance=dist,
                distance_atr=(dist / a) if a else None,
                bar_type=bar_label(code) if code is not None else None,
            )
        )
    score = sum(s.direction for s in states)
    n = len(states)
    return ContinuityResult(
        score=score,
        n=n,
        direction=int(np.sign(score)),
        ftfc=n > 0 and abs(score) == n,
        states=tuple(states),
    )


def period_keys(
    index: pd.DatetimeIndex, timeframe: str, tz: str = MARKET_TZ_NAME
) -> NDArray[np.int64]:
    """An integer per bar naming the ``timeframe`` period that contains it, in ``tz``.

    Weeks run Monday–Sunday; hours and other intraday bins are clock-aligned in ``tz``.
    A naive index is taken to be in ``tz`` already.
    """
    local = index.tz_convert(tz).tz_localize(None) if index.tz is not None else index
    if timeframe in _PERIOD_FREQ:
        return np.asarray(local.to_period(_PERIOD_FREQ[timeframe]).asi8, dtype=np.int64)
    if timeframe in _FLOOR_FREQ:
        return np.asarray(local.floor(_FLOOR_FREQ[timeframe]).as_unit("s").asi8, dtype=np.int64)
    raise ValueError(f"unknown timeframe {timeframe!r}")


def average_true_range(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> float:
    """Simple mean of the last ``period`` true ranges (NaN when there are no bars)."""
    h = np.asarray(high, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    c = np.asarray(close, dtype=np.float64)
    if h.size == 0:
        return float("nan")
    tr = h - lo
    if h.size > 1:
        prev = c[:-1]
        tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev)))
    return float(tr[-period:].mean())


def _partial_bar_codes(
    high_t: NDArray[np.int64], low_t: NDArray[np.int64], seg: NDArray[np.int64]
) -> NDArray[np.int8]:
    """Bar type of each higher-TF candle as built so far, vs the previous full candle."""
    hs, ls = pd.Series(high_t), pd.Series(low_t)
    g_h, g_l = hs.groupby(seg), ls.groupby(seg)
    part_h = g_h.cummax().to_numpy()
    part_l = g_l.cummin().to_numpy()
    prev_h = g_h.max().shift(1).to_numpy()[seg]
    prev_l = g_l.min().shift(1).to_numpy()[seg]
    up = part_h > prev_h
    dn = part_l < prev_l
    codes = (1 + up.astype(np.int8) + dn * (4 * up.astype(np.int8) - 3)).astype(np.int8)
    codes[np.isnan(prev_h)] = UNCLASSIFIED
    return codes


def continuity_history(
    lower_df: pd.DataFrame,
    higher_tfs: Sequence[str] = ("W", "M"),
    *,
    lower_tf: str | None = None,
    mode: TfcMode = "candle",
    tz: str = MARKET_TZ_NAME,
    tick: float = 0.01,
) -> pd.DataFrame:
    """TFC at every lower-TF bar, using only what was known at that bar.

    For each higher timeframe the candle is rebuilt from the lower bars of its period up
    to and including the current bar: open = first lower open of the period, and in
    ``bar_state`` mode high/low to date vs the previous full period. Price = the lower
    bar's close. ``lower_tf`` (e.g. "D") also counts the lower bar's own candle.

    The first period in ``lower_df`` is only as complete as the data: start the frame on
    a period boundary for a true open. Returns, per timeframe, ``open_<tf>``,
    ``dir_<tf>``, ``dist_<tf>`` (and ``bar_<tf>`` in bar_state mode), then ``score``,
    ``n``, ``direction`` and ``ftfc``; indexed like ``lower_df``.
    """
    idx = lower_df.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise TypeError("lower_df needs a DatetimeIndex")
    if not idx.is_monotonic_increasing:
        raise ValueError("lower_df index must be sorted ascending (as-of semantics)")
    o = lower_df["open"].to_numpy(dtype=np.float64)
    c = lower_df["close"].to_numpy(dtype=np.float64)
    scale = 1.0 / tick
    c_t = np.rint(c * scale).astype(np.int64)
    h_t = np.rint(lower_df["high"].to_numpy(dtype=np.float64) * scale).astype(np.int64)
    l_t = np.rint(lower_df["low"].to_numpy(dtype=np.float64) * scale).astype(np.int64)
    out: dict[str, NDArray[Any]] = {}
    dirs: list[NDArray[np.int64]] = []

    def add(tf: str, opens: NDArray[np.float64], codes: NDArray[np.int8] | None) -> None:
        colour = np.sign(c_t - np.rint(opens * scale).astype(np.int64))
        if mode == "candle":
            d = colour
        else:
            assert codes is not None
            d = np.where(codes == UP, 1, np.where(codes == DOWN, -1, 0))
            d = np.where(codes == OUTSIDE, colour, d)
        out[f"open_{tf}"] = opens
        out[f"dir_{tf}"] = d.astype(np.int8)
        out[f"dist_{tf}"] = np.round(c - opens, 8)
        if codes is not None:
            out[f"bar_{tf}"] = codes
        dirs.append(d.astype(np.int64))

    if lower_tf is not None:
        own_codes = None
        if mode == "bar_state":
            own_codes = classify_bars(lower_df["high"], lower_df["low"], tick)
        add(lower_tf, o, own_codes)
    for tf in higher_tfs:
        keys = period_keys(idx, tf, tz)
        seg = np.cumsum(np.r_[True, keys[1:] != keys[:-1]]) - 1
        opens = pd.Series(o).groupby(seg).transform("first").to_numpy()
        codes = _partial_bar_codes(h_t, l_t, seg) if mode == "bar_state" else None
        add(tf, opens, codes)

    n = len(dirs)
    score = np.sum(dirs, axis=0) if dirs else np.zeros(len(idx), dtype=np.int64)
    out["score"] = score.astype(np.int64)
    out["n"] = np.full(len(idx), n, dtype=np.int64)
    out["direction"] = np.sign(score).astype(np.int8)
    out["ftfc"] = (np.abs(score) == n) & (n > 0)
    return pd.DataFrame(out, index=idx)
