"""Analytics timings: the regime model on 10+ years of daily closes, the STRAT backtest,
VaR, and full-revaluation VaR of 100 and 500 option positions on five underlyings (252
historical scenarios and 10,000 parametric draws each refresh). Goal: a full online regime fit well under a few seconds (it runs off the
request path and is cached per day, but a cold start must not stall the tab)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analytics.edge import edge_table
from dashboard.analytics.regime import fit_regimes
from dashboard.analytics.strategy import backtest_patterns
from dashboard.analytics.var import full_revaluation_var, var_report
from dashboard.models import Position
from dashboard.options.occ import build_occ
from dashboard.options.pricing import bs_price

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


def _option_book(
    n: int, rng: np.random.Generator
) -> tuple[list[Position], pd.DataFrame, tuple[datetime, dict[str, float]]]:
    """``n`` long options spread over five underlyings, a year of their closes, and now."""
    now = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
    spots = {"SPY": 600.0, "QQQ": 520.0, "IWM": 225.0, "AAPL": 230.0, "NVDA": 140.0}
    idx = pd.date_range("2024-06-03", periods=253, freq="B")
    closes = pd.DataFrame(
        {u: s * np.cumprod(np.r_[1.0, 1 + rng.normal(0, 0.015, 252)]) for u, s in spots.items()},
        index=idx,
    )
    book = []
    for i in range(n):
        under = list(spots)[i % 5]
        strike = round(spots[under] * rng.uniform(0.9, 1.1))
        expiry = (now + timedelta(days=17 + 7 * int(rng.integers(0, 8)))).date()
        right = "C" if i % 2 else "P"
        t = (expiry - now.date()).days / 365.0
        price = Decimal(
            str(max(round(float(bs_price(spots[under], strike, t, 0.0, 0.25, right)), 2), 0.01))
        )
        mv = price * 300
        book.append(
            Position(
                build_occ(under, expiry, right, Decimal(strike)),
                "us_option",
                Decimal(3),
                "long",
                price,
                price,
                price,
                mv,
                mv,
                Decimal(0),
                Decimal(0),
                Decimal(0),
            )
        )
    return book, closes, (now, spots)


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
    reval: dict[str, float] = {}
    for n in (100, 500):
        book, closes, (now, spots) = _option_book(n, rng)
        reval[f"full_revaluation_{n}_options_seconds"] = _best(
            lambda b=book, c=closes, t=now, s=spots: full_revaluation_var(
                b, c, equity=1e6, now=t, underlying_prices=s
            )
        )
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
        **reval,
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:28s} {value:,.4f}")
