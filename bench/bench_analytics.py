"""Analytics timings: the regime model on 10+ years of daily closes, the STRAT backtest,
and VaR. Goal: a full online regime fit well under a few seconds (it runs off the
request path and is cached per day, but a cold start must not stall the tab)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analytics.regime import fit_regimes
from dashboard.analytics.risk import var_report
from dashboard.analytics.strategy import backtest_patterns, edge_table

N_DAYS = 2_900  # ~11.5 years of sessions
N_BARS = 20_000
REPEATS = 2


def _best(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _closes(n: int, rng: np.random.Generator) -> pd.Series:
    state = np.zeros(n, dtype=int)
    for i in range(1, n):
        state[i] = state[i - 1] if rng.random() > 0.01 else 1 - state[i - 1]
    r = np.where(state == 0, rng.normal(0.0006, 0.008, n), rng.normal(-0.001, 0.02, n))
    idx = pd.date_range("2014-01-02", periods=n, freq="B", tz="UTC")
    return pd.Series(100 * np.cumprod(1 + r), index=idx)


def _bars(n: int, rng: np.random.Generator) -> pd.DataFrame:
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.006, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    idx = pd.date_range("2000-01-03", periods=n, freq="B", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1e6}, index=idx
    )


def run() -> dict[str, float]:
    rng = np.random.default_rng(11)
    close = _closes(N_DAYS, rng)
    fit_s = _best(lambda: fit_regimes(close))
    res = fit_regimes(close)

    bars = _bars(N_BARS, rng)
    bt_s = _best(lambda: backtest_patterns(bars, symbol="SYN", timeframe="1D"))
    bt = backtest_patterns(bars, symbol="SYN", timeframe="1D")
    edge_s = _best(lambda: edge_table(bt.trades))

    rets = rng.normal(0, 0.01, 10_000)
    var_s = _best(lambda: var_report(rets, 100_000.0))
    return {
        "regime_days": float(N_DAYS),
        "regime_fit_seconds": fit_s,
        "regime_refits": float(len(res.refit_dates)),
        "regime_goal_met": float(fit_s < 2.0),
        "backtest_bars": float(N_BARS),
        "backtest_seconds": bt_s,
        "backtest_trades": float(len(bt.trades)),
        "backtest_bars_per_s": N_BARS / bt_s,
        "edge_table_seconds": edge_s,
        "var_report_seconds": var_s,
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:28s} {value:,.4f}")
