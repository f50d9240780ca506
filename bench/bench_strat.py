"""STRAT engine benchmark: bar classification throughput and scanner latency.

Figures:
- classify 10 million bars; bars/s and the ratio to a plain numpy pass over the same
  arrays (``np.greater(h[1:], h[:-1])`` + ``np.less(l[1:], l[:-1])``), the memory-bound
  floor. Goal: within 3×.
- scan 500 symbols × 4 timeframes × 500 bars with live last bars. Goal: under 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from dashboard.strat.bars import classify_bars
from dashboard.strat.scanner import DEFAULT_TIMEFRAMES, scan

N_BARS = 10_000_000
N_SYMBOLS = 500
BARS_PER_FRAME = 500
_FREQ = {"1Month": "MS", "1Week": "W-MON", "1Day": "B", "1Hour": "h"}


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _random_bars(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A cent-rounded random walk; benchmark input only."""
    close = np.round(100 + np.cumsum(rng.normal(0, 0.5, n)), 2)
    open_ = np.round(close + rng.normal(0, 0.3, n), 2)
    high = np.round(np.maximum(open_, close) + rng.exponential(0.3, n), 2)
    low = np.round(np.minimum(open_, close) - rng.exponential(0.3, n), 2)
    return open_, high, low, close


def bench_classify(n: int = N_BARS, repeat: int = 5) -> dict[str, float]:
    rng = np.random.default_rng(0)
    _, high, low, _ = _random_bars(n, rng)

    def floor() -> None:
        np.greater(high[1:], high[:-1])
        np.less(low[1:], low[:-1])

    t_floor = _best_of(floor, repeat)
    t_classify = _best_of(lambda: classify_bars(high, low), repeat)
    return {
        "classify_bars": float(n),
        "classify_seconds": t_classify,
        "classify_bars_per_s": n / t_classify,
        "numpy_floor_seconds": t_floor,
        "classify_vs_numpy_floor": t_classify / t_floor,
    }


def _scan_input(rng: np.random.Generator) -> dict[tuple[str, str], pd.DataFrame]:
    bars: dict[tuple[str, str], pd.DataFrame] = {}
    for i in range(N_SYMBOLS):
        sym = f"S{i:03d}"
        for tf in DEFAULT_TIMEFRAMES:
            o, h, lo, c = _random_bars(BARS_PER_FRAME, rng)
            idx = pd.date_range("2020-01-01", periods=BARS_PER_FRAME, freq=_FREQ[tf], tz="UTC")
            bars[(sym, tf)] = pd.DataFrame(
                {"open": o, "high": h, "low": lo, "close": c, "volume": 1000.0}, index=idx
            )
    return bars


def bench_scan(repeat: int = 3) -> dict[str, float]:
    bars = _scan_input(np.random.default_rng(1))
    rows: list = []

    def run_scan() -> None:
        rows[:] = scan(bars, last_bar_closed=False)

    t = _best_of(run_scan, repeat)
    return {
        "scan_frames": float(len(bars)),
        "scan_seconds": t,
        "scan_frames_per_s": len(bars) / t,
        "scan_setups_found": float(sum(len(r.setups) for r in rows)),
    }


def run() -> dict[str, float]:
    out = bench_classify()
    out.update(bench_scan())
    out["classify_goal_met"] = float(out["classify_vs_numpy_floor"] <= 3.0)
    out["scan_goal_met"] = float(out["scan_seconds"] < 1.0)
    return out


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:28s} {value:,.4f}")
