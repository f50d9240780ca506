"""Risk Management tab maths: heat to stops, sizing, greeks exposure, concentration, limits.

VaR and CVaR (historical, parametric and by full revaluation) are in ``analytics/var.py``.

Pure functions over ``models.Position`` records and price arrays. Stops are levels on the
*underlying* (STRAT stops are chart levels), so an option's risk to its stop is found by
repricing it with Black-Scholes at the stop price, not by a delta guess (strat.md §4.3).

Sign conventions: VaR and CVaR are reported as positive losses (0.021 = a 2.1% loss);
risk dollars are positive amounts that could be lost.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from dashboard.conventions import CONTRACT_MULTIPLIER
from dashboard.models import OptionQuote, Position
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import parse_occ, underlying_of
from dashboard.options.pricing import bs_greeks, bs_price, implied_vol

__all__ = [
    "BookGreeks",
    "GreeksRow",
    "HeatReport",
    "LimitCheck",
    "LimitStatus",
    "PositionRisk",
    "RiskLimits",
    "UnderlyingGreeks",
    "book_greeks",
    "check_limits",
    "concentration",
    "greeks_by_underlying",
    "greeks_exposure",
    "greeks_per_underlying",
    "portfolio_heat",
    "position_risk",
    "position_size",
]


RiskBasis = Literal["stop", "no_stop_premium", "no_stop_value"]


# --------------------------------------------------------------------------- helpers


def _option_iv(
    position: Position, spot: float, t: float, rate: float, iv: float | None
) -> float | None:
    """The given IV, else the one implied by the position's current price (None if none)."""
    if iv is not None and iv > 0:
        return iv
    occ = parse_occ(position.symbol)
    sol = implied_vol(float(position.current_price), spot, float(occ.strike), t, rate, occ.right)
    return None if not np.isfinite(sol) else float(sol)


# --------------------------------------------------------------------------- heat


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """What one position can lose before its stop (or in full when it has none)."""

    symbol: str
    underlying: str
    asset_class: str
    qty: float  # signed
    market_value: float
    stop: float | None  # level on the underlying
    value_at_stop: float | None  # per share / per option share at the stop
    risk_dollars: float
    risk_pct: float  # of equity
    basis: RiskBasis
    note: str = ""


@dataclass(frozen=True, slots=True)
class HeatReport:
    """Portfolio heat: total risk to stops as a % of equity, with the per-position rows."""

    positions: tuple[PositionRisk, ...]
    total_risk: float
    equity: float
    heat_pct: float


def position_risk(
    position: Position,
    *,
    equity: float,
    now: datetime,
    stop: float | None = None,
    underlying_price: float | None = None,
    iv: float | None = None,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
) -> PositionRisk:
    """Dollars lost if ``position`` is closed at its underlying ``stop``.

    - Stock: ``|qty| × (price − stop)`` on the losing side, floored at 0 (a stop already
      crossed means the exit is due now, not extra risk).
    - Option: reprice with Black-Scholes at ``S = stop`` with the time left now and
      ``iv`` (or the IV implied by the current price); loss = change in value ×
      |qty| × 100, floored at 0.
    - No stop: a long loses its whole value (for an option the whole premium, as the
      issue defines it); a short's loss is unbounded, so its market value is counted
      and ``note`` says so.
    """
    qty = float(position.qty)
    mv = float(position.market_value)
    under = underlying_of(position.symbol, position.asset_class)
    price = float(position.current_price)
    short = qty < 0
    sgn = -1.0 if short else 1.0
    is_opt = position.asset_class == "us_option"
    mult = CONTRACT_MULTIPLIER if is_opt else 1

    def out(risk: float, basis: RiskBasis, at_stop: float | None, note: str = "") -> PositionRisk:
        pct = risk / equity * 100.0 if equity > 0 else math.nan
        return PositionRisk(
            position.symbol,
            under,
            position.asset_class,
            qty,
            mv,
            stop,
            at_stop,
            risk,
            pct,
            basis,
            note,
        )

    if stop is None:
        if short:
            return out(abs(mv), "no_stop_value", None, "short without a stop: loss is unbounded")
        basis: RiskBasis = "no_stop_premium" if is_opt else "no_stop_value"
        return out(abs(mv), basis, None)

    if not is_opt:
        loss = sgn * (price - stop) * abs(qty)
        return out(max(loss, 0.0), "stop", float(stop))

    if underlying_price is None:
        raise ValueError(
            f"{position.symbol}: the underlying price is needed to reprice at the stop"
        )
    occ = parse_occ(position.symbol)
    t = years_to_expiry(parse_occ(position.symbol).expiry, now)
    sigma = _option_iv(position, underlying_price, t, rate, iv)
    if sigma is None:
        # No usable IV (price at or below intrinsic): intrinsic value at the stop.
        sigma, note = 0.0, "no implied volatility; repriced at intrinsic"
    else:
        note = ""
    at_stop = float(bs_price(stop, float(occ.strike), t, rate, sigma, occ.right, dividend_yield))
    loss = sgn * (price - at_stop) * abs(qty) * mult
    return out(max(loss, 0.0), "stop", at_stop, note)


def portfolio_heat(
    positions: Iterable[Position],
    *,
    equity: float,
    now: datetime,
    stops: Mapping[str, float] | None = None,
    underlying_prices: Mapping[str, float] | None = None,
    ivs: Mapping[str, float] | None = None,
    rate: float = 0.0,
) -> HeatReport:
    """Sum of every position's risk to its stop as a % of equity (issue 9's heat).

    ``stops`` and ``ivs`` are keyed by position symbol (the journal links a trade to its
    position); ``underlying_prices`` by underlying ticker.
    """
    stops = stops or {}
    prices = underlying_prices or {}
    ivs = ivs or {}
    rows = tuple(
        position_risk(
            p,
            equity=equity,
            now=now,
            stop=stops.get(p.symbol),
            underlying_price=prices.get(underlying_of(p.symbol, p.asset_class)),
            iv=ivs.get(p.symbol),
            rate=rate,
        )
        for p in positions
    )
    total = float(sum(r.risk_dollars for r in rows))
    heat = total / equity * 100.0 if equity > 0 else math.nan
    return HeatReport(rows, total, float(equity), heat)


def position_size(
    equity: float,
    risk_pct: float,
    risk_per_unit: float,
    *,
    max_units: float | None = None,
    fractional: bool = False,
) -> float:
    """Units (shares or contracts) so a stop-out loses at most ``risk_pct``% of equity.

    ``risk_per_unit`` is the loss of one unit at the stop: ``|entry − stop|`` for a share,
    ``(premium − value at stop) × 100`` for a contract. Whole units unless
    ``fractional``; never more than ``max_units``.
    """
    if risk_per_unit <= 0:
        raise ValueError("risk_per_unit must be positive")
    if equity <= 0 or risk_pct <= 0:
        return 0.0
    units = equity * risk_pct / 100.0 / risk_per_unit
    if not fractional:
        units = math.floor(units + 1e-9)
    if max_units is not None:
        units = min(units, max_units)
    return float(units)


# --------------------------------------------------------------------------- greeks


@dataclass(frozen=True, slots=True)
class GreeksRow:
    """One position's greeks in portfolio units.

    delta_shares: share-equivalent delta; dollar_delta: delta_shares × spot (the $
    exposure, what a 1% move earns × 100); gamma_shares: change of delta_shares per $1;
    theta_day: $ per calendar day; vega: $ per 1 volatility point.
    """

    symbol: str
    underlying: str
    spot: float
    delta_shares: float
    dollar_delta: float
    gamma_shares: float
    theta_day: float
    vega: float
    source: Literal["stock", "quote", "model"]


def greeks_exposure(
    positions: Iterable[Position],
    *,
    underlying_prices: Mapping[str, float],
    now: datetime,
    quotes: Mapping[str, OptionQuote] | None = None,
    ivs: Mapping[str, float] | None = None,
    rate: float = 0.0,
) -> tuple[GreeksRow, ...]:
    """Per-position greeks scaled by quantity and the ×100 multiplier.

    A broker snapshot's greeks (``quotes`` by option symbol) are used when complete;
    otherwise Black-Scholes greeks at the given IV, or the IV implied by the position's
    current price. A stock is delta 1 per share.
    """
    quotes = quotes or {}
    ivs = ivs or {}
    out: list[GreeksRow] = []
    for p in positions:
        under = underlying_of(p.symbol, p.asset_class)
        if under not in underlying_prices:
            raise ValueError(f"no underlying price for {under}")
        spot = float(underlying_prices[under])
        qty = float(p.qty)
        if p.asset_class != "us_option":
            out.append(GreeksRow(p.symbol, under, spot, qty, qty * spot, 0.0, 0.0, 0.0, "stock"))
            continue
        scale = qty * CONTRACT_MULTIPLIER
        q = quotes.get(p.symbol)
        if q is not None and None not in (q.delta, q.gamma, q.theta, q.vega):
            d, g, th, v = float(q.delta), float(q.gamma), float(q.theta), float(q.vega)  # type: ignore[arg-type]
            source: Literal["stock", "quote", "model"] = "quote"
        else:
            occ = parse_occ(p.symbol)
            t = years_to_expiry(parse_occ(p.symbol).expiry, now)
            sigma = _option_iv(p, spot, t, rate, ivs.get(p.symbol) or (q.iv if q else None))
            gk = bs_greeks(spot, float(occ.strike), t, rate, sigma or 0.0, occ.right)
            d, g, th, v = float(gk.delta), float(gk.gamma), float(gk.theta), float(gk.vega)
            source = "model"
        ds = d * scale
        out.append(
            GreeksRow(
                p.symbol, under, spot, ds, ds * spot, g * scale, th * scale, v * scale, source
            )
        )
    return tuple(out)


def greeks_by_underlying(rows: Iterable[GreeksRow]) -> pd.DataFrame:
    """Net greeks per underlying plus a ``TOTAL`` row (delta_shares is not summed across
    underlyings in the total, since shares of different stocks do not add)."""
    cols = ["delta_shares", "dollar_delta", "gamma_shares", "theta_day", "vega"]
    df = pd.DataFrame(
        [{"underlying": r.underlying, **{c: getattr(r, c) for c in cols}} for r in rows]
    )
    if df.empty:
        return pd.DataFrame(columns=["underlying", *cols])
    agg = df.groupby("underlying", sort=True)[cols].sum().reset_index()
    total = {"underlying": "TOTAL", **{c: float(agg[c].sum()) for c in cols}}
    total["delta_shares"] = math.nan
    total["gamma_shares"] = math.nan
    return pd.concat([agg, pd.DataFrame([total])], ignore_index=True)


@dataclass(frozen=True, slots=True)
class UnderlyingGreeks:
    """Net greeks of every position on one underlying.

    ``gamma_shares`` is how many shares of delta the book gains per $1 rise of this
    underlying. It belongs to this underlying only: a $1 move means different things for
    different stocks, so gamma is never added across underlyings (and no total has it).
    """

    underlying: str
    spot: float
    positions: int
    delta_shares: float
    dollar_delta: float
    gamma_shares: float
    theta_day: float
    vega: float


@dataclass(frozen=True, slots=True)
class BookGreeks:
    """The greeks that do add across underlyings: $ delta, theta $/day, vega $/vol point."""

    dollar_delta: float
    theta_day: float
    vega: float


def greeks_per_underlying(rows: Iterable[GreeksRow]) -> tuple[UnderlyingGreeks, ...]:
    """Per-underlying sums of ``greeks_exposure`` rows, by underlying name."""
    acc: dict[str, list[GreeksRow]] = {}
    for r in rows:
        acc.setdefault(r.underlying, []).append(r)
    return tuple(
        UnderlyingGreeks(
            underlying=u,
            spot=rs[0].spot,
            positions=len(rs),
            delta_shares=math.fsum(r.delta_shares for r in rs),
            dollar_delta=math.fsum(r.dollar_delta for r in rs),
            gamma_shares=math.fsum(r.gamma_shares for r in rs),
            theta_day=math.fsum(r.theta_day for r in rs),
            vega=math.fsum(r.vega for r in rs),
        )
        for u, rs in sorted(acc.items())
    )


def book_greeks(rows: Iterable[GreeksRow]) -> BookGreeks:
    """Book totals of the additive greeks (no gamma, no share delta: see ``UnderlyingGreeks``)."""
    rs = list(rows)
    return BookGreeks(
        dollar_delta=math.fsum(r.dollar_delta for r in rs),
        theta_day=math.fsum(r.theta_day for r in rs),
        vega=math.fsum(r.vega for r in rs),
    )


# --------------------------------------------------------------------------- concentration


def concentration(positions: Iterable[Position], equity: float) -> pd.DataFrame:
    """Gross market value by underlying and asset class, as % of equity and of the gross
    book, largest first. The first row's ``pct_equity`` is the largest position's share."""
    rows = [
        {
            "underlying": underlying_of(p.symbol, p.asset_class),
            "asset_class": p.asset_class,
            "market_value": abs(float(p.market_value)),
        }
        for p in positions
    ]
    cols = ["underlying", "asset_class", "market_value", "pct_equity", "pct_gross"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows).groupby(["underlying", "asset_class"], sort=True).sum().reset_index()
    gross = float(df["market_value"].sum())
    df["pct_equity"] = df["market_value"] / equity * 100.0 if equity > 0 else math.nan
    df["pct_gross"] = df["market_value"] / gross * 100.0 if gross > 0 else math.nan
    return df.sort_values("market_value", ascending=False, kind="stable").reset_index(drop=True)[
        cols
    ]


# --------------------------------------------------------------------------- limits


class LimitStatus(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Configured limits in % (settings.py: DASHBOARD_*_PCT). ``amber_at`` is the share
    of a limit where a check turns amber."""

    heat_limit_pct: float = 8.0
    max_position_pct: float = 5.0
    daily_loss_limit_pct: float = 3.0
    max_drawdown_pct: float = 25.0
    amber_at: float = 0.8

    @classmethod
    def from_settings(cls, settings: Any, amber_at: float = 0.8) -> RiskLimits:
        """Read the four limit fields from a ``Settings`` (duck-typed: the core does not
        import the settings module)."""
        return cls(
            heat_limit_pct=float(settings.heat_limit_pct),
            max_position_pct=float(settings.max_position_pct),
            daily_loss_limit_pct=float(settings.daily_loss_limit_pct),
            max_drawdown_pct=float(settings.max_drawdown_pct),
            amber_at=amber_at,
        )


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One row of the limits panel: value vs limit, status, and why."""

    name: Literal["heat", "position_size", "daily_loss", "drawdown"]
    label: str
    value_pct: float
    limit_pct: float
    status: LimitStatus
    message: str

    @property
    def breached(self) -> bool:
        return self.status is LimitStatus.RED


def _status(value: float, limit: float, amber_at: float) -> LimitStatus:
    if not math.isfinite(value):
        return LimitStatus.RED  # unknown is not safe
    if value >= limit:
        return LimitStatus.RED
    if value >= amber_at * limit:
        return LimitStatus.AMBER
    return LimitStatus.GREEN


def check_limits(
    *,
    heat_pct: float,
    largest_position_pct: float,
    equity: float,
    last_equity: float,
    high_water_mark: float,
    limits: RiskLimits,
    largest_position: str | None = None,
) -> tuple[LimitCheck, ...]:
    """Heat, largest position, today's loss vs last_equity and drawdown vs the
    high-water mark, each green / amber / red with a sentence explaining it.

    A limit is breached (red) at or above the limit; amber from ``amber_at`` × limit.
    """
    daily_loss = (
        max(0.0, (last_equity - equity) / last_equity * 100.0) if last_equity > 0 else math.nan
    )
    hwm = max(high_water_mark, equity)
    dd = (hwm - equity) / hwm * 100.0 if hwm > 0 else math.nan
    who = f" ({largest_position})" if largest_position else ""
    specs = [
        (
            "heat",
            "Portfolio heat",
            heat_pct,
            limits.heat_limit_pct,
            "risk to stops is {v:.2f}% of equity",
        ),
        (
            "position_size",
            "Largest position",
            largest_position_pct,
            limits.max_position_pct,
            "largest position" + who + " is {v:.2f}% of equity",
        ),
        (
            "daily_loss",
            "Daily loss",
            daily_loss,
            limits.daily_loss_limit_pct,
            f"equity {equity:,.2f} vs last close {last_equity:,.2f}: " + "down {v:.2f}%",
        ),
        (
            "drawdown",
            "Drawdown",
            dd,
            limits.max_drawdown_pct,
            f"equity {equity:,.2f} vs high-water mark {hwm:,.2f}: " + "down {v:.2f}%",
        ),
    ]
    out = []
    for name, label, value, limit, text in specs:
        st = _status(value, limit, limits.amber_at)
        body = text.format(v=value) if math.isfinite(value) else "value unavailable"
        if st is LimitStatus.RED:
            msg = f"BREACH: {body}, at or over the {limit:g}% limit"
        elif st is LimitStatus.AMBER:
            msg = (
                f"Warning: {body}, within {100 * (1 - limits.amber_at):g}% of the {limit:g}% limit"
            )
        else:
            msg = f"OK: {body}, limit {limit:g}%"
        out.append(LimitCheck(name, label, float(value), float(limit), st, msg))  # type: ignore[arg-type]
    return tuple(out)
