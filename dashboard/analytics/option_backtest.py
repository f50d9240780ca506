"""Modelled option legs for STRAT backtest trades (Black-Scholes, no historical quotes).

There are no historical option quotes in the data, so an option variant of a backtest
trade is *priced*, not replayed: at the trigger bar it buys the call (long setups) or put
(short setups) whose Black-Scholes |delta| is closest to a target on a listed-looking
strike grid, with a fixed number of calendar days to expiry. Volatility is the realised
volatility of the ``window`` bars *before* the trigger bar (known at entry, so no
look-ahead), held constant to the exit. The leg exits when the underlying trade exits
(T1, stop or time, the live exit monitor's rules), or at the close of the last bar before
expiry when the option would expire first. R is the option P&L over the premium paid:
the premium is the defined maximum loss of a long option.

What this leaves out, on purpose and visibly: implied-volatility level and skew, bid-ask
spreads and early exercise. The UI labels these results as modelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy.stats import norm

from dashboard.options.pricing import bs_greeks, bs_price
from dashboard.options.selection import DEFAULT_DTE_BY_TIMEFRAME, normalize_timeframe
from dashboard.strat.signals import Direction

__all__ = [
    "MIN_PREMIUM",
    "OptionLeg",
    "OptionSpec",
    "periods_per_year",
    "price_option_leg",
    "realised_volatility",
    "strike_for_delta",
    "strike_step",
]

MIN_PREMIUM = 0.01  # below a cent a premium is not a tradable price, and R would explode
_FIXED_PERIODS = {"1Day": 252.0, "1Week": 52.0, "1Month": 12.0}
_MARKET_TZ = "America/New_York"


def _default_dte() -> dict[str, int]:
    # The lower end of the live contract-selection window per timeframe (never under 5).
    out = {tf: max(lo, 5) for tf, (lo, _hi) in DEFAULT_DTE_BY_TIMEFRAME.items()}
    out.setdefault("15Min", 5)
    return out


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """How an option variant picks and prices its contract."""

    target_delta: float = 0.50  # |delta| of the contract bought at the trigger
    dte_by_timeframe: Mapping[str, int] = field(default_factory=_default_dte)
    vol_window: int = 20  # bars of realised volatility before the trigger bar
    risk_free_rate: float = 0.04
    dividend_yield: float = 0.0

    def dte_for(self, timeframe: str | None) -> int | None:
        """Calendar days to expiry at entry for a timeframe (None: no rule)."""
        if timeframe is None:
            return None
        return self.dte_by_timeframe.get(normalize_timeframe(timeframe))


@dataclass(frozen=True, slots=True)
class OptionLeg:
    """The modelled contract of one trade and what it was worth at entry and exit."""

    right: str  # "C" or "P"
    strike: float
    dte_at_entry: int
    delta_at_entry: float  # signed (puts negative)
    volatility: float  # annualised realised vol used for both prices
    premium_entry: float  # per share
    premium_exit: float | None  # None while still open
    exit_index: int | None
    exit_time: datetime | None
    exit_underlying: float | None
    expired_first: bool  # closed at the last bar before expiry, before the trade's exit
    r_multiple: float | None  # (exit − entry premium) / entry premium


def periods_per_year(timeframe: str | None, index: pd.Index | None = None) -> float:
    """Bars per year for annualising volatility: fixed for D/W/M; for intraday bars,
    252 × the median number of bars per New York session day in ``index``."""
    tf = normalize_timeframe(timeframe) if timeframe else ""
    if tf in _FIXED_PERIODS:
        return _FIXED_PERIODS[tf]
    if isinstance(index, pd.DatetimeIndex) and len(index):
        local = index.tz_convert(_MARKET_TZ) if index.tz is not None else index
        per_day = pd.Series(1, index=local).groupby(local.date).size()
        return 252.0 * float(per_day.median())
    return 252.0


def realised_volatility(closes: np.ndarray, end: int, window: int, periods: float) -> float:
    """Annualised sample std of the last ``window`` log returns of ``closes[:end]``.

    ``end`` is exclusive: pass the trigger bar's index, and the trigger bar's own close
    (unknown at entry) is never used. NaN when fewer than ``window`` returns exist.
    """
    if end - window - 1 < 0 or window < 2:
        return math.nan
    seg = np.asarray(closes[end - window - 1 : end], dtype=float)
    if np.any(seg <= 0) or not np.all(np.isfinite(seg)):
        return math.nan
    r = np.diff(np.log(seg))
    return float(np.std(r, ddof=1) * math.sqrt(periods))


def strike_step(spot: float) -> float:
    """A listed-looking strike increment: $0.50 under $25, $1 up to $1,000 (the grid of
    the liquid ETFs and mega caps the watchlist holds), $5 above."""
    if spot < 25:
        return 0.5
    if spot < 1000:
        return 1.0
    return 5.0


def strike_for_delta(
    spot: float,
    years: float,
    rate: float,
    sigma: float,
    target_delta: float,
    right: str,
    dividend_yield: float = 0.0,
) -> float:
    """The (continuous) strike whose Black-Scholes |delta| equals ``target_delta``.

    Call: delta = e^{-qT} N(d1); put: delta = −e^{-qT} N(−d1). Solving for d1 and then
    d1 = (ln(S/K) + (r − q + σ²/2) T) / (σ√T) for K gives the closed form below.
    """
    p = target_delta * math.exp(dividend_yield * years)
    if not 0.0 < p < 1.0:
        raise ValueError(f"target delta {target_delta} is not reachable")
    d1 = float(norm.ppf(p)) if right == "C" else -float(norm.ppf(p))
    vol_t = sigma * math.sqrt(years)
    return spot * math.exp((rate - dividend_yield + 0.5 * sigma * sigma) * years - d1 * vol_t)


def _expiry_exit(
    times: pd.DatetimeIndex, entry_index: int, entry_time: pd.Timestamp, dte: int
) -> int | None:
    """The last bar before expiry (None when the data ends first)."""
    expiry = entry_time + pd.Timedelta(days=dte)
    if times[-1] < expiry:
        return None
    before = int(times.searchsorted(expiry, side="left")) - 1
    return max(before, entry_index)


def price_option_leg(
    *,
    direction: Direction,
    entry_index: int,
    entry_price: float,
    exit_index: int | None,
    exit_price: float | None,
    closes: np.ndarray,
    times: pd.DatetimeIndex,
    timeframe: str | None,
    spec: OptionSpec,
    periods: float | None = None,
) -> OptionLeg | None:
    """Price the option variant of one underlying trade; None when it cannot be priced
    honestly (no DTE rule, too little history for the volatility, a sub-cent premium).

    ``entry_price``/``exit_price`` are the underlying fills of the trade; the option is
    valued at those spots, at the entry and exit bar times.
    """
    dte = spec.dte_for(timeframe)
    if dte is None or dte <= 0 or entry_price <= 0:
        return None
    ppy = periods if periods is not None else periods_per_year(timeframe, times)
    sigma = realised_volatility(closes, entry_index, spec.vol_window, ppy)
    if not math.isfinite(sigma) or sigma <= 0:
        return None
    right = "C" if direction == "long" else "P"
    r, q = spec.risk_free_rate, spec.dividend_yield
    t0 = dte / 365.0
    raw_k = strike_for_delta(entry_price, t0, r, sigma, spec.target_delta, right, q)
    step = strike_step(entry_price)
    strike = max(step, round(raw_k / step) * step)
    g = bs_greeks(entry_price, strike, t0, r, sigma, right, q)
    premium = float(g.price)
    if premium < MIN_PREMIUM:
        return None
    entry_time = times[entry_index]
    expiry_i = _expiry_exit(times, entry_index, entry_time, dte)
    exit_at_expiry = expiry_i is not None and (exit_index is None or exit_index > expiry_i)
    if exit_at_expiry:
        assert expiry_i is not None
        x_i, x_s = expiry_i, float(closes[expiry_i])
    elif exit_index is not None and exit_price is not None:
        x_i, x_s = exit_index, float(exit_price)
    else:  # neither the trade's exit nor the expiry has come yet
        return OptionLeg(
            right, strike, dte, float(g.delta), sigma, premium, None, None, None, None, False, None
        )
    elapsed = (times[x_i] - entry_time).total_seconds() / 86_400.0
    t_left = max(dte - elapsed, 0.0) / 365.0
    value = float(bs_price(x_s, strike, t_left, r, sigma, right, q))
    return OptionLeg(
        right=right,
        strike=float(strike),
        dte_at_entry=dte,
        delta_at_entry=float(g.delta),
        volatility=sigma,
        premium_entry=premium,
        premium_exit=value,
        exit_index=x_i,
        exit_time=times[x_i].to_pydatetime(),
        exit_underlying=x_s,
        expired_first=exit_at_expiry,
        r_multiple=(value - premium) / premium,
    )
