"""Options maths throughput: vectorised BSM price+greeks and IV vs a vollib per-option loop.

Goal: ≥ 1,000,000 options/s for price + all greeks. vollib is timed on a sample (it
prices one option per call) and scaled per option, so the ratio is like for like.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dashboard.options.pricing import bs_greeks, bs_price, implied_vol

N_VECTOR = 1_000_000
N_VOLLIB = 2_000
N_IV = 200_000
REPEATS = 3


def _inputs(n: int, seed: int = 42) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    S = rng.uniform(20.0, 600.0, n)
    return {
        "S": S,
        "K": S * np.exp(rng.normal(0.0, 0.15, n)),
        "T": rng.uniform(2 / 365, 1.5, n),
        "r": 0.04,
        "sigma": rng.uniform(0.08, 0.9, n),
        "right": np.where(rng.random(n) < 0.5, "C", "P"),
        "q": 0.01,
    }


def _best(fn: Any, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _vollib_loop(x: dict[str, Any], n: int) -> float:
    from vollib.black_scholes_merton import black_scholes_merton as price
    from vollib.black_scholes_merton.greeks import analytical as an

    flags = ["c" if r == "C" else "p" for r in x["right"][:n]]
    rows = [
        (
            flags[i],
            float(x["S"][i]),
            float(x["K"][i]),
            float(x["T"][i]),
            x["r"],
            float(x["sigma"][i]),
            x["q"],
        )
        for i in range(n)
    ]

    def loop() -> None:
        for row in rows:
            price(*row)
            an.delta(*row)
            an.gamma(*row)
            an.theta(*row)
            an.vega(*row)
            an.rho(*row)

    return _best(loop, repeats=1)


def run() -> dict[str, float]:
    x = _inputs(N_VECTOR)
    args = (x["S"], x["K"], x["T"], x["r"], x["sigma"], x["right"], x["q"])
    bs_greeks(*(a[:1000] if isinstance(a, np.ndarray) else a for a in args))  # warm-up

    t_greeks = _best(lambda: bs_greeks(*args))
    t_price = _best(lambda: bs_price(*args))

    prices = np.asarray(bs_price(*args))[:N_IV]
    iv_args = (
        prices,
        x["S"][:N_IV],
        x["K"][:N_IV],
        x["T"][:N_IV],
        x["r"],
        x["right"][:N_IV],
        x["q"],
    )
    t_iv = _best(lambda: implied_vol(*iv_args), repeats=1)
    iv = np.asarray(implied_vol(*iv_args))
    # Judge accuracy where the price carries vol information (vega ≥ $0.001 per point).
    vega = np.asarray(bs_greeks(*(a[:N_IV] if isinstance(a, np.ndarray) else a for a in args)).vega)
    informative = vega >= 1e-3
    iv_err = float(np.max(np.abs(iv - x["sigma"][:N_IV])[informative]))

    t_vollib = _vollib_loop(x, N_VOLLIB)
    ours_per_option = t_greeks / N_VECTOR
    vollib_per_option = t_vollib / N_VOLLIB
    return {
        "greeks_options_per_s": N_VECTOR / t_greeks,
        "price_options_per_s": N_VECTOR / t_price,
        "greeks_seconds_1M": t_greeks,
        "goal_options_per_s": 1_000_000.0,
        "meets_goal": float(N_VECTOR / t_greeks >= 1_000_000.0),
        "vollib_options_per_s": 1.0 / vollib_per_option,
        "speedup_vs_vollib": vollib_per_option / ours_per_option,
        "iv_options_per_s": N_IV / t_iv,
        "iv_nan_fraction": float(np.isnan(iv).mean()),
        "iv_max_abs_error_informative": iv_err,
        "iv_nan_fraction_informative": float(np.isnan(iv[informative]).mean()),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:>30}: {value:,.6g}")
