"""Explain an option trade's P&L by greek: delta, gamma, theta, vega, rho + residual.

The greeks are taken at entry (model state at the entry spot, time and IV) and applied
to the observed changes. The residual is defined as actual − explained, so the parts
always add up to the actual P&L; a large residual says the Taylor picture is poor
(big move, short DTE) or that the market price left the model (spread, skew shift).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dashboard.conventions import RISK_FREE_RATE
from dashboard.options.expiry import DAYS_PER_YEAR
from dashboard.options.pricing import bs_greeks

__all__ = ["Attribution", "OptionState", "attribute_pnl"]


@dataclass(frozen=True, slots=True)
class OptionState:
    """One observation of the trade: underlying, time left, IV and the option's price."""

    spot: float
    years: float  # time to expiry, years
    iv: float  # decimal
    price: float  # option price per share actually observed (fill or mark)
    rate: float = RISK_FREE_RATE


@dataclass(frozen=True, slots=True)
class Attribution:
    """Dollar contributions for the whole position; ``parts`` sum to ``actual``.

    ``residual`` is defined as ``actual − explained``, so the sum holds by construction
    (bit for bit in nearly all cases, never off by more than float rounding).
    """

    actual: float
    delta: float
    gamma: float
    theta: float
    vega: float
    rho: float
    residual: float

    @property
    def explained(self) -> float:
        return self.delta + self.gamma + self.theta + self.vega + self.rho

    @property
    def parts(self) -> dict[str, float]:
        return {
            "delta": self.delta,
            "gamma": self.gamma,
            "theta": self.theta,
            "vega": self.vega,
            "rho": self.rho,
            "residual": self.residual,
        }


def attribute_pnl(
    entry: OptionState,
    current: OptionState,
    *,
    strike: float,
    right: str,
    qty: float = 1,
    q: float = 0.0,
    multiplier: float = 100.0,
) -> Attribution:
    """Split (current.price − entry.price) × multiplier × qty into greek contributions.

    Units follow the greeks: theta per calendar day × days elapsed, vega per vol point ×
    vol points moved, rho per 1% × rate points moved.
    """
    if not (math.isfinite(entry.iv) and entry.iv > 0):
        raise ValueError(f"entry IV must be a positive decimal, got {entry.iv!r}")
    g = bs_greeks(entry.spot, strike, entry.years, entry.rate, entry.iv, right, q)
    scale = multiplier * qty
    d_s = current.spot - entry.spot
    days = (entry.years - current.years) * DAYS_PER_YEAR
    vol_points = (current.iv - entry.iv) * 100.0
    rate_points = (current.rate - entry.rate) * 100.0
    delta = float(g.delta) * d_s * scale
    gamma = 0.5 * float(g.gamma) * d_s * d_s * scale
    theta = float(g.theta) * days * scale
    vega = float(g.vega) * vol_points * scale
    rho = float(g.rho) * rate_points * scale
    actual = (current.price - entry.price) * scale
    # Residual last, against the same left-to-right sum `explained` uses; the nudge loop
    # removes last-bit rounding so explained + residual == actual bit for bit whenever
    # floats allow it (otherwise they differ by at most an ulp of the largest term).
    explained = delta + gamma + theta + vega + rho
    residual = actual - explained
    for _ in range(8):
        err = actual - (explained + residual)
        if err == 0.0:
            break
        residual += err
    return Attribution(actual, delta, gamma, theta, vega, rho, residual)
