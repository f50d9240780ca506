"""What the option is worth if the underlying reaches T1, T2 or the stop.

Values come from full Black-Scholes repricing at ``(S_level, T − hold, IV)`` with
sticky-strike IV (strat.md §4.3 B); the greek Taylor estimate is returned next to each
value only as a cross-check, because its error grows with the move, short DTE and long
holds. Reward and risk are in option dollars (×100 per contract): the R the trader
actually takes, not the underlying's R.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import numpy as np

from dashboard.conventions import CONTRACT_MULTIPLIER, RISK_FREE_RATE
from dashboard.models import OptionQuote
from dashboard.options.expiry import DAYS_PER_YEAR, years_to_expiry
from dashboard.options.pricing import bs_greeks, bs_price, implied_vol
from dashboard.options.selection import normalize_timeframe

__all__ = [
    "DEFAULT_HOLD_DAYS",
    "LevelProjection",
    "PayoffCurve",
    "ScenarioGrid",
    "TradeProjection",
    "expected_hold_days",
    "payoff_curve",
    "project_quote",
    "project_trade",
]

# strat.md §4.2 (ATLAS): 3 / 7 / 21 calendar days for D / W / M patterns, 60m about a day.
# The others are inferences on the same ladder: intraday 15/30-minute setups resolve within
# the session, 4Hour in about two, a quarter in about three months' holds.
DEFAULT_HOLD_DAYS: Mapping[str, float] = MappingProxyType(
    {
        "15Min": 0.5,
        "30Min": 0.5,
        "1Hour": 1.0,
        "4Hour": 2.0,
        "1Day": 3.0,
        "1Week": 7.0,
        "1Month": 21.0,
        "1Quarter": 63.0,
    }
)
DEFAULT_IV_SHIFTS: tuple[float, ...] = (-0.05, 0.0, 0.05)


def expected_hold_days(timeframe: str, table: Mapping[str, float] = DEFAULT_HOLD_DAYS) -> float:
    """Expected holding time in calendar days for a signal timeframe (ValueError if unknown)."""
    key = normalize_timeframe(timeframe)
    if key not in table:
        raise ValueError(
            f"no expected hold for timeframe {timeframe!r} (known: {', '.join(table)})"
        )
    return float(table[key])


@dataclass(frozen=True, slots=True)
class LevelProjection:
    name: str  # "T1", "T2", "stop"
    underlying: float
    value: float  # option value per share, full repricing
    pnl: float  # (value − entry) × 100 × contracts
    taylor_value: float  # cross-check only: entry model value + Δ dS + ½Γ dS² + Θ dt + vega dσ
    taylor_error: float  # taylor_value − value


@dataclass(frozen=True, slots=True)
class ScenarioGrid:
    """Option value per share for every (level, hold, IV shift); axis order as named."""

    levels: tuple[str, ...]
    underlying: tuple[float, ...]
    hold_days: tuple[float, ...]
    iv_shifts: tuple[float, ...]  # decimal vol, e.g. -0.05 = −5 vol points
    values: np.ndarray  # shape (levels, holds, ivs)
    pnl: np.ndarray  # same shape, dollars for the position


@dataclass(frozen=True, slots=True)
class TradeProjection:
    entry_price: float  # premium per share the P&L is measured from
    model_entry: float  # BS value now (differs from entry_price by spread / IV mismatch)
    contracts: int
    hold_days: float
    iv: float
    levels: Mapping[str, LevelProjection]
    reward: float | None  # $ at T1 (None when no T1 given)
    risk: float | None  # $ lost at the stop, positive when the stop loses money
    r_multiple: float | None  # reward / risk when both are positive
    grid: ScenarioGrid
    notes: tuple[str, ...] = field(default=())


def project_trade(
    *,
    spot: float,
    strike: float,
    years: float,
    iv: float,
    right: str,
    stop: float,
    t1: float | None = None,
    t2: float | None = None,
    hold_days: float,
    entry_price: float | None = None,
    contracts: int = 1,
    r: float = RISK_FREE_RATE,
    q: float = 0.0,
    iv_shifts: Sequence[float] = DEFAULT_IV_SHIFTS,
    iv_change: float = 0.0,
) -> TradeProjection:
    """Reprice the option at each level after ``hold_days`` and build the scenario grid.

    ``entry_price`` is the premium actually paid (e.g. the ask); by default the model
    value now. P&L is ``(V − entry) × 100 × contracts``; the premium is not subtracted
    again. ``iv_change`` (decimal) shifts IV at the levels, e.g. −0.03 for a post-move
    IV drop; the grid holds are {1, hold, 2×hold} days (deduplicated, sorted).
    """
    if spot <= 0 or strike <= 0:
        raise ValueError("spot and strike must be positive")
    if not math.isfinite(iv) or iv <= 0:
        raise ValueError(f"iv must be a positive decimal (0.25 = 25%), got {iv!r}")
    if hold_days < 0:
        raise ValueError("hold_days must be ≥ 0")
    if contracts < 1:
        raise ValueError("contracts must be ≥ 1")
    mult = CONTRACT_MULTIPLIER * contracts
    now = bs_greeks(spot, strike, years, r, iv, right, q)
    model_entry = float(now.price)
    entry = model_entry if entry_price is None else float(entry_price)

    named = [("T1", t1), ("T2", t2), ("stop", stop)]
    names = tuple(n for n, v in named if v is not None)
    prices = np.array([v for _, v in named if v is not None], dtype=float)
    t_after = max(years - hold_days / DAYS_PER_YEAR, 0.0)
    iv_after = max(iv + iv_change, 1e-4)
    values = np.asarray(bs_price(prices, strike, t_after, r, iv_after, right, q), dtype=float)
    d_s = prices - spot
    dt_days = (years - t_after) * DAYS_PER_YEAR  # a hold past expiry only decays to expiry
    taylor = (
        model_entry
        + float(now.delta) * d_s
        + 0.5 * float(now.gamma) * d_s**2
        + float(now.theta) * dt_days
        + float(now.vega) * (iv_after - iv) * 100.0
    )
    levels = {
        n: LevelProjection(
            name=n,
            underlying=float(prices[i]),
            value=float(values[i]),
            pnl=(float(values[i]) - entry) * mult,
            taylor_value=float(taylor[i]),
            taylor_error=float(taylor[i] - values[i]),
        )
        for i, n in enumerate(names)
    }
    reward = levels["T1"].pnl if "T1" in levels else None
    risk = -levels["stop"].pnl
    r_mult = reward / risk if reward is not None and reward > 0 and risk > 0 else None

    holds = tuple(sorted({1.0, float(hold_days), 2.0 * float(hold_days)} - {0.0})) or (0.0,)
    shifts = tuple(float(s) for s in iv_shifts)
    t_grid = np.maximum(years - np.asarray(holds) / DAYS_PER_YEAR, 0.0)
    vol_grid = np.maximum(iv + np.asarray(shifts), 1e-4)
    grid_vals = np.asarray(
        bs_price(
            prices[:, None, None],
            strike,
            t_grid[None, :, None],
            r,
            vol_grid[None, None, :],
            right,
            q,
        ),
        dtype=float,
    )
    notes = []
    if hold_days / DAYS_PER_YEAR >= years:
        notes.append("expected hold reaches expiry: values are intrinsic")
    if entry_price is not None and abs(entry - model_entry) > 0.05 * max(model_entry, 0.01):
        notes.append(
            f"entry premium {entry:.2f} differs from model {model_entry:.2f} at IV {iv:.1%}"
        )
    return TradeProjection(
        entry_price=entry,
        model_entry=model_entry,
        contracts=contracts,
        hold_days=float(hold_days),
        iv=float(iv),
        levels=MappingProxyType(levels),
        reward=reward,
        risk=risk,
        r_multiple=r_mult,
        grid=ScenarioGrid(
            levels=names,
            underlying=tuple(float(p) for p in prices),
            hold_days=holds,
            iv_shifts=shifts,
            values=grid_vals,
            pnl=(grid_vals - entry) * mult,
        ),
        notes=tuple(notes),
    )


def project_quote(
    quote: OptionQuote,
    *,
    spot: float,
    now: datetime,
    stop: float,
    t1: float | None = None,
    t2: float | None = None,
    timeframe: str | None = None,
    hold_days: float | None = None,
    entry_price: float | None = None,
    contracts: int = 1,
    r: float = RISK_FREE_RATE,
    q: float = 0.0,
    iv_shifts: Sequence[float] = DEFAULT_IV_SHIFTS,
) -> TradeProjection:
    """``project_trade`` for a chain quote: T from the expiry close, IV from the quote
    (or implied from its mid), entry at the ask (what a buyer pays) unless given."""
    c = quote.contract
    years = years_to_expiry(c.expiry, now)
    if hold_days is None:
        if timeframe is None:
            raise ValueError("give hold_days or the signal timeframe")
        hold_days = expected_hold_days(timeframe)
    iv = quote.iv
    if iv is None or not math.isfinite(iv) or iv <= 0:
        mid = quote.mid
        iv = (
            float(implied_vol(mid, spot, float(c.strike), years, r, c.right, q))
            if mid is not None
            else math.nan
        )
        if not math.isfinite(iv):
            raise ValueError(f"{c.symbol}: no IV on the quote and none implied by its mid")
    if entry_price is None:
        entry_price = quote.ask if quote.ask is not None and quote.ask > 0 else quote.mid
    return project_trade(
        spot=spot,
        strike=float(c.strike),
        years=years,
        iv=float(iv),
        right=c.right,
        stop=stop,
        t1=t1,
        t2=t2,
        hold_days=hold_days,
        entry_price=entry_price,
        contracts=contracts,
        r=r,
        q=q,
        iv_shifts=iv_shifts,
    )


@dataclass(frozen=True, slots=True)
class PayoffCurve:
    """P&L of one long option position across underlying prices (dollars, all contracts)."""

    prices: np.ndarray
    pnl_at_expiry: np.ndarray
    pnl_at_time: np.ndarray | None  # at ``days_forward`` with the given IV, if asked
    days_forward: float | None
    breakeven_at_expiry: float
    breakevens_at_time: tuple[float, ...]
    max_loss: float  # positive dollars: the premium paid
    max_profit: float  # math.inf for a call


def payoff_curve(
    *,
    right: str,
    strike: float,
    premium: float,
    contracts: int = 1,
    prices: Sequence[float] | np.ndarray | None = None,
    spot: float | None = None,
    years: float | None = None,
    iv: float | None = None,
    days_forward: float | None = None,
    r: float = RISK_FREE_RATE,
    q: float = 0.0,
    points: int = 201,
) -> PayoffCurve:
    """Payoff of a single long option at expiry and, optionally, ``days_forward`` from now.

    Without ``prices`` the grid spans ±30% around ``spot`` (or the strike). The at-time
    curve needs ``years`` (time to expiry now) and ``iv``.
    """
    if premium < 0 or strike <= 0 or contracts < 1:
        raise ValueError("premium must be ≥ 0, strike > 0 and contracts ≥ 1")
    call = str(right).upper().startswith("C")
    mult = CONTRACT_MULTIPLIER * contracts
    if prices is None:
        centre = spot if spot is not None else strike
        grid = np.linspace(0.7 * centre, 1.3 * centre, points)
    else:
        grid = np.asarray(prices, dtype=float)
    intrinsic = np.maximum(grid - strike, 0.0) if call else np.maximum(strike - grid, 0.0)
    at_expiry = (intrinsic - premium) * mult
    at_time = None
    breakevens: tuple[float, ...] = ()
    if days_forward is not None:
        if years is None or iv is None:
            raise ValueError("the at-time curve needs years (to expiry) and iv")
        t_left = max(years - days_forward / DAYS_PER_YEAR, 0.0)
        values = np.asarray(bs_price(grid, strike, t_left, r, iv, right, q), dtype=float)
        at_time = (values - premium) * mult
        breakevens = _zero_crossings(grid, at_time)
    return PayoffCurve(
        prices=grid,
        pnl_at_expiry=at_expiry,
        pnl_at_time=at_time,
        days_forward=days_forward,
        breakeven_at_expiry=strike + premium if call else strike - premium,
        breakevens_at_time=breakevens,
        max_loss=premium * mult,
        max_profit=math.inf if call else (strike - premium) * mult,
    )


def _zero_crossings(x: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """Linear-interpolated roots of y(x) on a sorted grid."""
    out: list[float] = []
    for i in range(len(x) - 1):
        y0, y1 = y[i], y[i + 1]
        if y0 == 0.0:
            out.append(float(x[i]))
        elif y0 * y1 < 0.0:
            out.append(float(x[i] - y0 * (x[i + 1] - x[i]) / (y1 - y0)))
    if len(x) and y[-1] == 0.0:
        out.append(float(x[-1]))
    return tuple(out)
