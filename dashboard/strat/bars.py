"""STRAT bar types ("scenarios"): each bar measured against the previous bar only.

Rules (strat.md §1.1): a break is a strict ``>`` / ``<``; an equal high or low is not a
break. Prices are compared in whole ticks so float noise (``0.1 + 0.2``) cannot turn an
inside bar into a 2. The first bar has no reference and is coded 0.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

UNCLASSIFIED: Final = 0
INSIDE: Final = 1
UP: Final = 2  # 2U
DOWN: Final = -2  # 2D
OUTSIDE: Final = 3

_LABEL_TEXT: Final = ("2D", "", "", "1", "2U", "3")  # indexed by code + 2
_LABELS: Final = np.array(_LABEL_TEXT)
_CHUNK: Final = 1 << 17  # bars per pass: keeps every temporary in cache
_I8_1 = np.int8(1)

NanPolicy = Literal["raise", "mask"]


def to_ticks(prices: ArrayLike, tick: float = 0.01) -> NDArray[np.int64]:
    """Prices as whole ticks; the unit every comparison in the engine is made in."""
    arr = np.asarray(prices, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"NaN price at index {int(np.flatnonzero(np.isnan(arr))[0])}")
    return np.rint(arr * (1.0 / tick)).astype(np.int64)  # same scaling as classify_bars


def from_ticks(ticks: int | float, tick: float = 0.01) -> float:
    """A tick count back to a price that prints cleanly (10123 → 101.23, not 101.230…02).

    When 1/tick is a whole number, dividing by it is correctly rounded, so the result is
    exactly the float literal of the decimal price; otherwise round to 8 places.
    """
    div = tick_divisor(tick)
    return float(ticks) / div if div else round(float(ticks) * tick, 8)


def tick_divisor(tick: float) -> int | None:
    """Ticks per price unit when that is a whole number (100 for cents), else None."""
    per_unit = 1.0 / tick
    whole = round(per_unit)
    return whole if whole > 0 and abs(per_unit - whole) < 1e-9 else None


def codes_from_ticks(high_t: NDArray[np.int64], low_t: NDArray[np.int64]) -> NDArray[np.int8]:
    """``classify_bars`` for arrays already in whole ticks (no rounding, no NaN possible).

    Small unchunked path for callers that round once and reuse the ticks.
    """
    out = np.zeros(high_t.size, dtype=np.int8)
    if high_t.size > 1:
        u = (high_t[1:] > high_t[:-1]).view(np.int8)
        d = (low_t[1:] < low_t[:-1]).view(np.int8)
        out[1:] = ((u + u) | _I8_1) ^ (u - d)
    return out


def _first_nan(high: NDArray[np.float64], low: NDArray[np.float64]) -> int:
    bad = np.isnan(high) | np.isnan(low)
    return int(np.flatnonzero(bad)[0])


def classify_bars(
    high: ArrayLike,
    low: ArrayLike,
    tick: float = 0.01,
    *,
    nan_policy: NanPolicy = "raise",
) -> NDArray[np.int8]:
    """Bar-type codes: 1 inside, 2 (2U), -2 (2D), 3 outside, 0 first bar.

    ``nan_policy="raise"`` (default) refuses NaN and names the first bad bar, because
    a NaN compares false both ways and would silently read as an inside bar.
    ``nan_policy="mask"`` codes a NaN bar, and the bar after it, as 0 (unclassified).

    Runs in cache-sized chunks with preallocated buffers: rounding to ticks costs a few
    passes per array, and chunking keeps those passes out of main memory.
    """
    h = np.ascontiguousarray(high, dtype=np.float64)
    lo = np.ascontiguousarray(low, dtype=np.float64)
    if h.shape != lo.shape or h.ndim != 1:
        raise ValueError("high and low must be 1-D arrays of the same length")
    n = h.size
    out = np.zeros(n, dtype=np.int8)
    if n < 2:
        if n == 1 and np.isnan(h[0] + lo[0]) and nan_policy == "raise":
            raise ValueError("NaN in high/low at bar index 0")
        return out
    inv_tick = 1.0 / tick
    cs = min(_CHUNK, n - 1)
    buf = np.empty(2 * (cs + 1))  # ticks of high then low, so one rint and one NaN pass
    ub = np.empty(cs, dtype=np.int8)
    db = np.empty(cs, dtype=np.int8)
    tmp = np.empty(cs, dtype=np.int8)
    saw_nan = False
    for a in range(0, n - 1, cs):
        b = min(a + cs, n - 1)
        m = b - a
        both = buf[: 2 * m + 2]
        hh, ll = both[: m + 1], both[m + 1 :]
        np.multiply(h[a : b + 1], inv_tick, out=hh)
        np.multiply(lo[a : b + 1], inv_tick, out=ll)
        np.rint(both, out=both)
        # np.minimum propagates NaN: the cheapest full pass that notices one.
        if np.isnan(np.minimum.reduce(both)):
            if nan_policy == "raise":
                raise ValueError(f"NaN in high/low at bar index {a + _first_nan(hh, ll)}")
            saw_nan = True
        u, d, t = ub[:m], db[:m], tmp[:m]
        np.greater(hh[1:], hh[:-1], out=u.view(np.bool_))
        np.less(ll[1:], ll[:-1], out=d.view(np.bool_))
        # code = (2u | 1) XOR (u - d): (0,0)→1, (1,0)→2, (0,1)→-2, (1,1)→3 in int8.
        np.subtract(u, d, out=t)
        np.add(u, u, out=u)
        np.bitwise_or(u, _I8_1, out=u)
        np.bitwise_xor(u, t, out=out[a + 1 : b + 1])
    if saw_nan:
        bad = np.isnan(h) | np.isnan(lo)
        out[bad] = UNCLASSIFIED
        out[1:][bad[:-1]] = UNCLASSIFIED
    return out


def bar_labels(codes: ArrayLike) -> NDArray[np.str_]:
    """Display labels "1", "2U", "2D", "3" ("" for an unclassified bar)."""
    c = np.asarray(codes, dtype=np.int64)
    return _LABELS[c + 2]


def bar_label(code: int) -> str:
    """One code as its display label."""
    return _LABEL_TEXT[int(code) + 2]
