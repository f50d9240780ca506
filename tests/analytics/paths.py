"""Random walks with known intrabar paths, and the true outcome of a trade on them.

A pure test helper (no simulator): the truth a backtest that sees only OHLC is judged
against. Prices are whole cents, so the bars' OHLC are exact summaries of the path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Walk:
    points: np.ndarray  # every price of the path in ticks (cents), bar after bar
    steps: int  # points per bar; bar k is points[k*steps : (k+1)*steps]
    bars: pd.DataFrame  # OHLC in dollars, daily index at midnight New York

    @property
    def n_bars(self) -> int:
        return len(self.bars)


def random_walk(
    n_bars: int,
    steps: int = 24,
    *,
    seed: int = 0,
    step_ticks: float = 6.0,
    drift_ticks: float = 0.0,
    start: float = 100.0,
) -> Walk:
    """A Gaussian random walk in cents, ``steps`` points per bar; consecutive bars are
    one step apart (so a bar may open a little away from the last close)."""
    rng = np.random.default_rng(seed)
    inc = rng.normal(drift_ticks, step_ticks, n_bars * steps)
    pts = np.rint(start * 100 + np.cumsum(inc)).astype(np.int64)
    pts = np.maximum(pts, 100)  # keep prices positive
    b = pts.reshape(n_bars, steps)
    idx = pd.date_range("2000-01-03", periods=n_bars, freq="B", tz="America/New_York")
    bars = pd.DataFrame(
        {
            "open": b[:, 0] / 100,
            "high": b.max(axis=1) / 100,
            "low": b.min(axis=1) / 100,
            "close": b[:, -1] / 100,
        },
        index=idx,
    )
    return Walk(pts, steps, bars)


def _first(flags_of: object, a: int, n: int) -> int:
    """First index ≥ a where ``flags_of(lo, hi)`` is true, scanning doubling windows."""
    size = 256
    while a < n:
        hi = min(n, a + size)
        f = flags_of(a, hi)  # type: ignore[operator]
        if f.any():
            return a + int(np.argmax(f))
        a, size = hi, size * 2
    return -1


def true_trade(
    walk: Walk,
    direction: str,
    setup_index: int,
    entry: float,
    stop: float,
    target: float | None,
    expire_after: int = 3,
) -> tuple[int | None, float | None]:
    """(trigger bar, R) of a stop-entry trade walked along the true path.

    Entry where the path first reaches ``entry`` after the setup bar, within
    ``expire_after`` bars: at the level inside a bar, at the open when a bar opens
    through it. Then exit at whichever of T1 and the stop the path reaches first (at the
    open when a bar opens through it). R is None while the trade is still open.
    """
    sgn = 1 if direction == "long" else -1
    p = walk.points * sgn
    e, s = round(entry * 100) * sgn, round(stop * 100) * sgn
    t = None if target is None else round(target * 100) * sgn
    m, n = walk.steps, walk.points.size
    first_pt = (setup_index + 1) * m
    window_end = min(n, (setup_index + 1 + expire_after) * m)
    i = _first(lambda a, b: p[a:b] >= e, first_pt, window_end)
    if i < 0:
        return None, None
    fill = int(p[i]) if i % m == 0 else e  # a bar opening through the entry fills there
    hit_t = -1 if t is None else _first(lambda a, b: p[a:b] >= t, i, n)
    hit_s = _first(lambda a, b: p[a:b] <= s, i, n)
    hits = [j for j in (hit_t, hit_s) if j >= 0]
    if not hits:
        return i // m, None
    j = min(hits)
    level = t if j == hit_t else s
    exit_ = int(p[j]) if j % m == 0 else level  # opened through the level: at the open
    return i // m, (exit_ - fill) / (fill - s)
