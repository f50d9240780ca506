"""Modelled option legs for STRAT backtest trades (Black-Scholes, no historical quotes).

There are no historical option quotes in the data, so an option variant of a backtest
trade is *priced*, not replayed. Every assumption is a named constant here, and
``OptionSpec.assumptions()`` states them for the page:

- **Contract.** A call for a long setup, a put for a short one, whose Black-Scholes
  |delta| *at the trigger price* is closest to the target on a listed-looking strike
  grid: the contract a trader picks for the signal before it triggers.
- **Expiry.** Calendar days to expiry drawn uniformly from the timeframe's DTE window,
  the one the live contract selection uses (``options.selection``, never under its
  5-DTE floor). The draw is seeded by the trade (symbol, timeframe, entry time,
  direction), so a rerun gives the same contract.
- **Volatility.** Implied volatility = the realised volatility of the ``vol_window``
  bars *before* the trigger bar (known at entry) × (1 + ``iv_premium``), clamped to
  ``iv_bounds``, held constant to the exit. Index options' implied volatility has
  historically run above realised (the variance risk premium); the 20% default is a
  stated assumption, settable.
- **Costs.** Buy at mid + half the bid-ask spread, sell at mid − half, the spread being
  a share of the mid (default: 5%, the widest the live selection accepts), plus a fee
  per contract on each side (default $0.65, a common retail commission; Alpaca charges
  no commission but passes on regulatory fees, so set it lower there).
- **Exit.** With the underlying trade (T1, stop or time), or at the close of the last
  bar before expiry when the option would expire first.

R is the option P&L after costs over the cash paid (premium at the ask plus the fee):
the cash paid is a long option's maximum loss. Left out, visibly: skew and term
structure, early exercise, and quotes that are not there (every strike is assumed
listed and quoted).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy.stats import norm

from dashboard.conventions import (
    CONTRACT_MULTIPLIER,
    MARKET_TZ_NAME,
    RISK_FREE_RATE,
    right_for_direction,
)
from dashboard.options.pricing import bs_greeks, bs_price
from dashboard.options.selection import (
    DEFAULT_DTE_BY_TIMEFRAME,
    SelectionConfig,
    normalize_timeframe,
)
from dashboard.strat.signals import Direction

__all__ = [
    "DEFAULT_FEE_PER_CONTRACT",
    "DEFAULT_IV_PREMIUM",
    "DEFAULT_SPREAD_SHARE",
    "IV_BOUNDS",
    "MIN_PREMIUM",
    "OptionCosts",
    "OptionLeg",
    "OptionSpec",
    "draw_dte",
    "periods_per_year",
    "price_option_leg",
    "realised_volatility",
    "strike_for_delta",
    "strike_step",
]

MIN_PREMIUM = 0.01  # below a cent a premium is not a tradable price, and R would explode
_LIVE_SELECTION = SelectionConfig()
DEFAULT_SPREAD_SHARE = _LIVE_SELECTION.max_spread_pct  # full spread as a share of the mid
DEFAULT_FEE_PER_CONTRACT = 0.65  # $ per contract, on entry and again on exit
DEFAULT_IV_PREMIUM = 0.20  # implied = realised × (1 + premium)
IV_BOUNDS: tuple[float, float] = (0.10, 1.00)  # strat.md §4.1: realised-vol fallback 10–100%
_FIXED_PERIODS = {"1Day": 252.0, "1Week": 52.0, "1Month": 12.0}


def _live_dte_windows() -> dict[str, tuple[int, int]]:
    """The live selection's DTE window per timeframe, with its minimum-DTE floor."""
    out: dict[str, tuple[int, int]] = {}
    for tf in DEFAULT_DTE_BY_TIMEFRAME:
        window = _LIVE_SELECTION.dte_window(tf)
        if window is not None:
            out[tf] = window
    return out


@dataclass(frozen=True, slots=True)
class OptionCosts:
    """Bid-ask spread and fees of a modelled option trade."""

    spread_share: float = DEFAULT_SPREAD_SHARE  # full bid-ask width / mid
    fee_per_contract: float = DEFAULT_FEE_PER_CONTRACT  # $ per contract per side

    def __post_init__(self) -> None:
        if not 0.0 <= self.spread_share < 2.0:
            raise ValueError("spread_share must be in [0, 2)")
        if self.fee_per_contract < 0:
            raise ValueError("fee_per_contract must be >= 0")

    def buy(self, mid: float) -> float:
        """Cash per share to open: the ask plus the fee."""
        return mid * (1.0 + 0.5 * self.spread_share) + self.fee_per_contract / CONTRACT_MULTIPLIER

    def sell(self, mid: float) -> float:
        """Cash per share on closing: the bid less the fee (never below zero)."""
        bid = mid * (1.0 - 0.5 * self.spread_share)
        return max(bid - self.fee_per_contract / CONTRACT_MULTIPLIER, 0.0)

    def describe(self) -> str:
        return (
            f"bid-ask spread {self.spread_share:.0%} of the mid (buy at the ask, sell at "
            f"the bid), ${self.fee_per_contract:.2f} per contract each side"
        )


def draw_dte(window: tuple[int, int], key: str, seed: int = 0) -> int:
    """A DTE drawn uniformly from ``window`` (inclusive), fixed by ``key`` and ``seed``:
    the same trade always gets the same expiry, different trades spread over the
    window (a stable hash, not Python's salted ``hash``)."""
    lo, hi = window
    if hi < lo:
        raise ValueError(f"empty DTE window {window}")
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return lo + int.from_bytes(digest, "big") % (hi - lo + 1)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """How an option variant picks, prices and costs its contract."""

    target_delta: float = 0.50  # |delta| at the trigger price of the contract bought
    dte_windows: Mapping[str, tuple[int, int]] = field(default_factory=_live_dte_windows)
    vol_window: int = 20  # bars of realised volatility before the trigger bar
    iv_premium: float = DEFAULT_IV_PREMIUM
    iv_bounds: tuple[float, float] = IV_BOUNDS
    costs: OptionCosts = field(default_factory=OptionCosts)
    risk_free_rate: float = RISK_FREE_RATE
    dividend_yield: float = 0.0
    seed: int = 0  # of the DTE draw

    def dte_window(self, timeframe: str | None) -> tuple[int, int] | None:
        """The timeframe's DTE window (None: no rule)."""
        if timeframe is None:
            return None
        return self.dte_windows.get(normalize_timeframe(timeframe))

    def implied_vol(self, realised: float) -> float:
        lo, hi = self.iv_bounds
        return min(max(realised * (1.0 + self.iv_premium), lo), hi)

    def assumptions(self) -> tuple[str, ...]:
        """The model's assumptions in words, for the page that shows its results."""
        windows = ", ".join(f"{tf} {lo}–{hi}" for tf, (lo, hi) in self.dte_windows.items())
        lo, hi = self.iv_bounds
        return (
            f"Contract: call (long) or put (short) nearest {self.target_delta:.2f} |delta| "
            "at the trigger price, on a $0.50/$1/$5 strike grid",
            f"Expiry: DTE drawn per trade from the timeframe's window ({windows} days)",
            f"Volatility: {self.vol_window}-bar realised volatility before the trigger bar "
            f"× {1 + self.iv_premium:.2f} (implied-over-realised premium), clamped to "
            f"{lo:.0%}–{hi:.0%}; Black-Scholes at r = {self.risk_free_rate:.1%}",
            f"Costs: {self.costs.describe()}",
            "Exit: with the underlying trade, or at the last bar before expiry",
            "Left out: volatility skew and term structure, early exercise, and whether the "
            "strike is listed and quoted",
        )


@dataclass(frozen=True, slots=True)
class OptionLeg:
    """The modelled contract of one trade and what it was worth at entry and exit."""

    right: str  # "C" or "P"
    strike: float
    dte_at_entry: int
    delta_at_entry: float  # signed (puts negative), at the trigger price
    volatility: float  # annualised implied volatility used for both prices
    premium_entry: float  # model mid per share at the fill
    premium_exit: float | None  # model mid per share at the exit; None while open
    exit_index: int | None
    exit_time: datetime | None
    exit_underlying: float | None
    expired_first: bool  # closed at the last bar before expiry, before the trade's exit
    r_multiple: float | None  # (cash out − cash in) / cash in, after spread and fees
    realised_vol: float = math.nan  # before the implied-over-realised premium
    cash_entry: float = math.nan  # per share paid: ask + fee
    cash_exit: float | None = None  # per share received: bid − fee
    cost_r: float | None = None  # R given up to spread and fees (mid-to-mid R − r_multiple)


def periods_per_year(timeframe: str | None, index: pd.Index | None = None) -> float:
    """Bars per year for annualising volatility: fixed for D/W/M; for intraday bars,
    252 × the median number of bars per New York session day in ``index``."""
    tf = normalize_timeframe(timeframe) if timeframe else ""
    if tf in _FIXED_PERIODS:
        return _FIXED_PERIODS[tf]
    if isinstance(index, pd.DatetimeIndex) and len(index):
        local = index.tz_convert(MARKET_TZ_NAME) if index.tz is not None else index
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
    trigger_price: float | None = None,
    key: str = "",
) -> OptionLeg | None:
    """Price the option variant of one underlying trade; None when it cannot be priced
    honestly (no DTE rule, too little history for the volatility, a sub-cent premium).

    ``entry_price``/``exit_price`` are the underlying fills of the trade; the option is
    bought at the entry fill and sold at the exit, at those bars' times.
    ``trigger_price`` (default: the fill) is where the contract is chosen by delta;
    ``key`` names the trade for the DTE draw.
    """
    window = spec.dte_window(timeframe)
    if window is None or entry_price <= 0:
        return None
    dte = draw_dte(window, f"{key}|{timeframe}|{direction}", spec.seed)
    if dte <= 0:
        return None
    ppy = periods if periods is not None else periods_per_year(timeframe, times)
    realised = realised_volatility(closes, entry_index, spec.vol_window, ppy)
    if not math.isfinite(realised) or realised <= 0:
        return None
    sigma = spec.implied_vol(realised)
    right = right_for_direction(direction)
    r, q = spec.risk_free_rate, spec.dividend_yield
    t0 = dte / 365.0
    at = trigger_price if trigger_price is not None and trigger_price > 0 else entry_price
    raw_k = strike_for_delta(at, t0, r, sigma, spec.target_delta, right, q)
    step = strike_step(at)
    strike = max(step, round(raw_k / step) * step)
    delta = float(bs_greeks(at, strike, t0, r, sigma, right, q).delta)
    premium = float(bs_price(entry_price, strike, t0, r, sigma, right, q))
    if premium < MIN_PREMIUM:
        return None
    cash_in = spec.costs.buy(premium)
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
            right, float(strike), dte, delta, sigma, premium, None, None, None, None, False,
            None, realised, cash_in,
        )  # fmt: skip
    elapsed = (times[x_i] - entry_time).total_seconds() / 86_400.0
    t_left = max(dte - elapsed, 0.0) / 365.0
    value = float(bs_price(x_s, strike, t_left, r, sigma, right, q))
    cash_out = spec.costs.sell(value)
    r_net = (cash_out - cash_in) / cash_in
    return OptionLeg(
        right=right,
        strike=float(strike),
        dte_at_entry=dte,
        delta_at_entry=delta,
        volatility=sigma,
        premium_entry=premium,
        premium_exit=value,
        exit_index=x_i,
        exit_time=times[x_i].to_pydatetime(),
        exit_underlying=x_s,
        expired_first=exit_at_expiry,
        r_multiple=r_net,
        realised_vol=realised,
        cash_entry=cash_in,
        cash_exit=cash_out,
        cost_r=(value - premium) / premium - r_net,
    )
