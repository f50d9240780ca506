"""Risk Management tab maths: heat to stops, sizing, VaR/CVaR, greeks exposure, limits.

VaR of a book with options is computed by full revaluation (``full_revaluation_var``):
every option is repriced under each scenario of its underlying, so a long option can
never be shown losing more than its premium. The delta approximation (``var_report`` on
``portfolio_returns``) is kept beside it as a labelled comparison.

Pure functions over ``models.Position`` records and price arrays. Stops are levels on the
*underlying* (STRAT stops are chart levels), so an option's risk to its stop is found by
repricing it with Black-Scholes at the stop price, not by a delta guess (strat.md §4.3).

Sign conventions: VaR and CVaR are reported as positive losses (0.021 = a 2.1% loss);
risk dollars are positive amounts that could be lost.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Literal

import empyrical
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm

from dashboard.conventions import CONTRACT_MULTIPLIER, NEW_YORK
from dashboard.models import OptionQuote, Position
from dashboard.options.occ import parse_occ
from dashboard.options.pricing import bs_greeks, bs_price, implied_vol

__all__ = [
    "BookGreeks",
    "BookLine",
    "FullRevaluationReport",
    "GreeksRow",
    "HeatReport",
    "LimitCheck",
    "LimitStatus",
    "PositionRisk",
    "RevaluationRow",
    "RiskLimits",
    "UnderlyingGreeks",
    "VarReport",
    "book_greeks",
    "book_lines",
    "check_limits",
    "concentration",
    "conditional_var",
    "full_revaluation_var",
    "greeks_by_underlying",
    "greeks_exposure",
    "greeks_per_underlying",
    "historical_cvar",
    "historical_var",
    "line_deltas",
    "parametric_cvar",
    "parametric_var",
    "portfolio_heat",
    "portfolio_returns",
    "position_risk",
    "position_size",
    "revaluation_assumptions",
    "revalue_book",
    "underlying_of",
    "value_at_risk",
    "var_report",
    "years_to_expiry",
]

_EXPIRY_CLOSE = time(16, 0)

RiskBasis = Literal["stop", "no_stop_premium", "no_stop_value"]


# --------------------------------------------------------------------------- helpers


def underlying_of(position: Position) -> str:
    """The underlying ticker: the OCC root for an option, the symbol for a stock."""
    if position.asset_class == "us_option":
        return parse_occ(position.symbol).root
    return position.symbol


def years_to_expiry(symbol: str, now: datetime) -> float:
    """Year fraction from ``now`` to the contract's 16:00 New York close on expiry day,
    on a 365-day count (the count ``bs_greeks`` uses for theta per calendar day)."""
    occ = parse_occ(symbol)
    close = datetime.combine(occ.expiry, _EXPIRY_CLOSE, tzinfo=NEW_YORK)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max((close - now).total_seconds(), 0.0) / (365.0 * 86400.0)


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
    under = underlying_of(position)
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
    t = years_to_expiry(position.symbol, now)
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
            underlying_price=prices.get(underlying_of(p)),
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


# --------------------------------------------------------------------------- VaR


def _returns(returns: ArrayLike | pd.Series) -> np.ndarray:
    r: np.ndarray = np.asarray(returns, dtype=float)
    finite: np.ndarray = r[np.isfinite(r)]
    return finite


def historical_var(returns: ArrayLike | pd.Series, confidence: float = 0.95) -> float:
    """Historical 1-period VaR: minus the (1 − confidence) quantile of the returns.

    The quantile is ``empyrical.value_at_risk`` (numpy's linear interpolation).
    """
    r = _returns(returns)
    return -float(empyrical.value_at_risk(r, cutoff=1.0 - confidence)) if r.size else math.nan


def historical_cvar(returns: ArrayLike | pd.Series, confidence: float = 0.95) -> float:
    """Historical expected shortfall: minus the mean of the worst returns.

    ``empyrical.conditional_value_at_risk``: the tail is the ``int((n − 1) × (1 − c)) + 1``
    lowest returns.
    """
    r = _returns(returns)
    if not r.size:
        return math.nan
    return -float(empyrical.conditional_value_at_risk(r, cutoff=1.0 - confidence))


def parametric_var(returns: ArrayLike | pd.Series, confidence: float = 0.95) -> float:
    """Gaussian VaR: ``−(μ + σ·Φ⁻¹(1 − c))`` with the sample mean and σ (ddof=1)."""
    r = _returns(returns)
    if r.size < 2:
        return math.nan
    mu, sigma = float(r.mean()), float(r.std(ddof=1))
    return -(mu + sigma * float(norm.ppf(1.0 - confidence)))


def parametric_cvar(returns: ArrayLike | pd.Series, confidence: float = 0.95) -> float:
    """Gaussian expected shortfall: ``−μ + σ·φ(Φ⁻¹(c)) / (1 − c)``."""
    r = _returns(returns)
    if r.size < 2:
        return math.nan
    mu, sigma = float(r.mean()), float(r.std(ddof=1))
    return -mu + sigma * float(norm.pdf(norm.ppf(confidence))) / (1.0 - confidence)


def value_at_risk(
    returns: ArrayLike | pd.Series,
    confidence: float = 0.95,
    method: Literal["historical", "parametric"] = "historical",
) -> float:
    """VaR by ``method``; see ``historical_var`` and ``parametric_var``."""
    fn = historical_var if method == "historical" else parametric_var
    return fn(returns, confidence)


def conditional_var(
    returns: ArrayLike | pd.Series,
    confidence: float = 0.95,
    method: Literal["historical", "parametric"] = "historical",
) -> float:
    """CVaR (expected shortfall) by ``method``."""
    fn = historical_cvar if method == "historical" else parametric_cvar
    return fn(returns, confidence)


@dataclass(frozen=True, slots=True)
class VarReport:
    """1-day VaR and CVaR at 95% and 99%, as fractions of equity and in dollars."""

    observations: int
    equity: float
    rows: tuple[tuple[str, float, float, float, float], ...]
    # (method, confidence, var_fraction, cvar_fraction, var_dollars) ... see ``frame``

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(
            list(self.rows), columns=["method", "confidence", "var", "cvar", "var_dollars"]
        )
        df["cvar_dollars"] = df["cvar"] * self.equity
        return df


def var_report(
    returns: ArrayLike | pd.Series,
    equity: float,
    confidences: tuple[float, ...] = (0.95, 0.99),
) -> VarReport:
    """Historical and parametric VaR/CVaR of a daily portfolio return series."""
    r = _returns(returns)
    rows = []
    for method in ("historical", "parametric"):
        for c in confidences:
            v = value_at_risk(r, c, method)
            cv = conditional_var(r, c, method)
            rows.append((method, c, v, cv, v * equity))
    return VarReport(int(r.size), float(equity), tuple(rows))


def portfolio_returns(
    exposures: Mapping[str, float], closes: pd.DataFrame, equity: float
) -> pd.Series:
    """Daily returns of today's book replayed over history: Σ exposure_i · r_i,t / equity.

    ``exposures`` are dollar deltas per underlying (a stock's market value, an option's
    delta × 100 × qty × spot); ``closes`` has one column of daily closes per underlying.
    Days where a held underlying has no return are dropped rather than treated as flat.
    """
    cols = [s for s in exposures if exposures[s] != 0]
    missing = [s for s in cols if s not in closes.columns]
    if missing:
        raise ValueError(f"no price history for {', '.join(missing)}")
    if not cols or equity <= 0:
        return pd.Series(dtype=float)
    rets = closes[cols].astype(float).pct_change().iloc[1:].dropna(how="any")
    w = np.array([exposures[s] for s in cols], dtype=float)
    return pd.Series(rets.to_numpy() @ w / equity, index=rets.index, name="portfolio")


# --------------------------------------------------------------------------- full revaluation

VarModel = Literal["full_revaluation", "delta"]
VarMethod = Literal["historical", "parametric"]
_MODEL_LABEL = {"full_revaluation": "Full revaluation", "delta": "Delta"}
_GRID_NODES = 513  # price points per underlying when many draws are repriced


@dataclass(frozen=True, slots=True)
class BookLine:
    """One position, ready to reprice: a stock is linear, an option is Black-Scholes.

    ``value_now`` is per share (per option share), the model value at the current spot,
    which equals the mark when ``sigma`` was implied from it; ``iv_source`` says where
    ``sigma`` came from.
    """

    symbol: str
    underlying: str
    kind: Literal["stock", "option"]
    qty: float  # signed
    multiplier: int
    spot: float
    value_now: float
    strike: float = math.nan
    right: str = ""
    years: float = 0.0  # to expiry, now
    sigma: float = 0.0
    dividend_yield: float = 0.0
    iv_source: Literal["mark", "quote", "intrinsic", "stock"] = "stock"

    @property
    def max_loss(self) -> float | None:
        """What the line can lose at most (a long's whole value); None when unbounded."""
        if self.qty < 0:
            return None
        return self.qty * self.multiplier * self.value_now


def book_lines(
    positions: Iterable[Position],
    *,
    now: datetime,
    underlying_prices: Mapping[str, float],
    ivs: Mapping[str, float] | None = None,
    rate: float = 0.0,
    dividend_yields: Mapping[str, float] | None = None,
) -> tuple[BookLine, ...]:
    """Positions as ``BookLine`` records (options solved for IV in one vectorised call).

    An option's volatility is the one implied by its own mark, so the model reproduces
    today's value and a long can never be shown losing more than it is worth; when the
    mark cannot be inverted (at or below intrinsic), the quote's IV (``ivs`` by option
    symbol), else intrinsic value (sigma 0).
    """
    ivs = ivs or {}
    yields = dividend_yields or {}
    held = list(positions)
    for p in held:
        if underlying_of(p) not in underlying_prices:
            raise ValueError(f"no underlying price for {underlying_of(p)}")
    opts = [p for p in held if p.asset_class == "us_option"]
    occs = [parse_occ(p.symbol) for p in opts]
    spot = np.array([float(underlying_prices[o.root]) for o in occs])
    strike = np.array([float(o.strike) for o in occs])
    years = np.array([years_to_expiry(p.symbol, now) for p in opts])
    q = np.array([float(yields.get(o.root, 0.0)) for o in occs])
    rights = np.array([o.right for o in occs], dtype="<U1")
    marks = np.array([float(p.current_price) for p in opts])
    quoted = np.array([float(ivs.get(p.symbol) or 0.0) for p in opts])
    implied = np.asarray(implied_vol(marks, spot, strike, years, rate, rights, q), dtype=float)
    sources = np.where(np.isfinite(implied), "mark", np.where(quoted > 0, "quote", "intrinsic"))
    sigma = np.where(np.isfinite(implied), implied, np.where(quoted > 0, quoted, 0.0))
    value = np.asarray(bs_price(spot, strike, years, rate, sigma, rights, q), dtype=float)
    option_lines = [
        BookLine(
            p.symbol,
            occs[i].root,
            "option",
            float(p.qty),
            CONTRACT_MULTIPLIER,
            float(spot[i]),
            float(value[i]),
            float(strike[i]),
            str(rights[i]),
            float(years[i]),
            float(sigma[i]),
            float(q[i]),
            str(sources[i]),  # type: ignore[arg-type]
        )
        for i, p in enumerate(opts)
    ]
    next_option = iter(option_lines)
    out = []
    for p in held:
        if p.asset_class == "us_option":
            out.append(next(next_option))
        else:
            spot_p = float(underlying_prices[p.symbol])
            out.append(BookLine(p.symbol, p.symbol, "stock", float(p.qty), 1, spot_p, spot_p))
    return tuple(out)


def _lines_pnl(
    lines: Sequence[BookLine], prices: np.ndarray, decay_years: float, rate: float
) -> np.ndarray:
    """Dollar P&L of ``lines`` (one underlying) at each price, all lines in one call."""
    pnl = np.zeros(prices.size)
    stocks = [ln for ln in lines if ln.kind == "stock"]
    for ln in stocks:
        pnl += ln.qty * (prices - ln.value_now)
    opts = [ln for ln in lines if ln.kind == "option"]
    if opts:
        col = np.array
        size = col([ln.qty * ln.multiplier for ln in opts])
        left = np.maximum(col([ln.years for ln in opts]) - decay_years, 0.0)
        values = np.asarray(
            bs_price(
                prices[None, :],
                col([ln.strike for ln in opts])[:, None],
                left[:, None],
                rate,
                col([ln.sigma for ln in opts])[:, None],
                col([ln.right for ln in opts], dtype="<U1")[:, None],
                col([ln.dividend_yield for ln in opts])[:, None],
            ),
            dtype=float,
        )
        pnl += size @ values - float(size @ col([ln.value_now for ln in opts]))
    return pnl


def revalue_book(
    lines: Sequence[BookLine],
    scenario_prices: Mapping[str, np.ndarray],
    *,
    horizon_days: float = 1.0,
    rate: float = 0.0,
    grid_nodes: int | None = None,
) -> np.ndarray:
    """Dollar P&L of the book in each scenario: every line repriced at its underlying's
    scenario price with ``horizon_days`` calendar days less to expiry (IV held), minus
    its value now.

    With ``grid_nodes`` and more scenarios than that, each underlying's P&L is computed
    exactly on that many prices spanning its scenarios and interpolated linearly between
    them (a chord of the exact curve: between two exact values, so no bound that holds
    for the exact P&L is broken).
    """
    n = len(next(iter(scenario_prices.values()))) if scenario_prices else 0
    total = np.zeros(n)
    decay = horizon_days / 365.0
    for under in sorted({ln.underlying for ln in lines}):
        if under not in scenario_prices:
            raise ValueError(f"no scenarios for {under}")
        prices = np.asarray(scenario_prices[under], dtype=float)
        mine = [ln for ln in lines if ln.underlying == under]
        if grid_nodes is not None and prices.size > grid_nodes:
            at = np.linspace(prices.min(), prices.max(), grid_nodes)
            total += np.interp(prices, at, _lines_pnl(mine, at, decay, rate))
        else:
            total += _lines_pnl(mine, prices, decay, rate)
    return total


def line_deltas(lines: Sequence[BookLine], rate: float = 0.0) -> dict[str, float]:
    """Dollar delta per underlying at today's spot, from the same model as ``revalue_book``."""
    out: dict[str, float] = {}
    opts = [ln for ln in lines if ln.kind == "option"]
    deltas = np.ones(0)
    if opts:
        g = bs_greeks(
            np.array([ln.spot for ln in opts]),
            np.array([ln.strike for ln in opts]),
            np.array([ln.years for ln in opts]),
            rate,
            np.array([ln.sigma for ln in opts]),
            np.array([ln.right for ln in opts], dtype="<U1"),
            np.array([ln.dividend_yield for ln in opts]),
        )
        deltas = np.atleast_1d(np.asarray(g.delta, dtype=float))
    stocks = [(ln, 1.0) for ln in lines if ln.kind == "stock"]
    for ln, d in [*stocks, *zip(opts, deltas.tolist(), strict=True)]:
        out[ln.underlying] = out.get(ln.underlying, 0.0) + ln.qty * ln.multiplier * d * ln.spot
    return out


@dataclass(frozen=True, slots=True)
class RevaluationRow:
    """One VaR/CVaR figure: positive dollars of loss over the horizon, and % of equity."""

    model: VarModel
    method: VarMethod
    confidence: float
    var_dollars: float
    cvar_dollars: float
    var_pct: float
    cvar_pct: float

    @property
    def label(self) -> str:
        """'Full revaluation · historical', … 'Delta-normal' for the delta parametric row."""
        if self.model == "delta" and self.method == "parametric":
            return "Delta-normal"
        return f"{_MODEL_LABEL[self.model]} · {self.method}"


@dataclass(frozen=True, slots=True, eq=False)
class FullRevaluationReport:
    """VaR/CVaR of today's book by full revaluation, with the delta approximations beside it.

    ``historical_pnl`` and ``delta_pnl`` are the book's dollar P&L in each historical
    scenario (``scenario_dates``: the day whose return was replayed). ``max_loss`` is the
    most the book can lose when every position is long (options: their premium), else
    None. ``assumptions`` is the wording the page must show.
    """

    equity: float
    horizon_days: float
    scenario_dates: tuple[Any, ...]
    historical_pnl: np.ndarray
    delta_pnl: np.ndarray
    parametric_draws: int
    seed: int
    rows: tuple[RevaluationRow, ...]
    premium_at_risk: float
    max_loss: float | None
    dollar_delta: dict[str, float]
    lines: tuple[BookLine, ...]
    notes: tuple[str, ...]
    assumptions: tuple[str, ...]

    @property
    def observations(self) -> int:
        return int(self.historical_pnl.size)

    def row(self, model: VarModel, method: VarMethod, confidence: float) -> RevaluationRow:
        for r in self.rows:
            if r.model == model and r.method == method and math.isclose(r.confidence, confidence):
                return r
        raise KeyError((model, method, confidence))


def _loss_measures(pnl: np.ndarray, confidence: float) -> tuple[float, float]:
    """Historical VaR and CVaR of a dollar P&L sample (same quantile rules as returns)."""
    return historical_var(pnl, confidence), historical_cvar(pnl, confidence)


def full_revaluation_var(
    positions: Iterable[Position],
    closes: pd.DataFrame,
    *,
    equity: float,
    now: datetime,
    underlying_prices: Mapping[str, float],
    ivs: Mapping[str, float] | None = None,
    rate: float = 0.0,
    dividend_yields: Mapping[str, float] | None = None,
    horizon_days: float = 1.0,
    confidences: tuple[float, ...] = (0.95, 0.99),
    draws: int = 10_000,
    seed: int = 0,
) -> FullRevaluationReport:
    """VaR and CVaR of today's book over one trading day, by full revaluation.

    Scenarios of the underlyings (``closes``: one column of daily closes each):

    - historical: each past day's simple return of every held underlying, applied to
      today's spot (the same day for all, so their co-movement is kept);
    - parametric: ``draws`` joint normal daily log returns with the sample mean and
      covariance of those days (seeded, so a refresh shows the same figure).

    In each scenario every option is repriced by Black-Scholes at its IV with
    ``horizon_days`` calendar days less to expiry, and stocks move one for one. Beside it,
    the delta approximation of the same book (dollar deltas × the same historical
    returns, and delta-normal: a normal P&L with that series' mean and sd), which
    ignores gamma and time decay and can show a long option losing more than its premium.
    """
    lines = book_lines(
        positions,
        now=now,
        underlying_prices=underlying_prices,
        ivs=ivs,
        rate=rate,
        dividend_yields=dividend_yields,
    )
    unders = sorted({ln.underlying for ln in lines})
    missing = [u for u in unders if u not in closes.columns]
    if missing:
        raise ValueError(f"no price history for {', '.join(missing)}")
    # An empty book has no underlyings, so no scenarios: its rows are NaN, not zero.
    rets = (
        closes[unders].astype(float).pct_change().iloc[1:].dropna(how="any")
        if unders
        else pd.DataFrame()
    )
    spot = {u: next(ln.spot for ln in lines if ln.underlying == u) for u in unders}
    hist_prices = {u: spot[u] * (1.0 + rets[u].to_numpy()) for u in unders}
    hist_pnl = revalue_book(lines, hist_prices, horizon_days=horizon_days, rate=rate)
    deltas = line_deltas(lines, rate)
    delta_pnl = (
        rets[unders].to_numpy() @ np.array([deltas[u] for u in unders])
        if unders
        else np.zeros(len(rets))
    )
    par_pnl = np.zeros(0)
    if unders and len(rets) >= 2:
        logs = np.log1p(rets[unders].to_numpy())
        cov = np.atleast_2d(np.cov(logs, rowvar=False))
        rng = np.random.default_rng(seed)
        x = rng.multivariate_normal(logs.mean(axis=0), cov, size=draws, method="eigh")
        par_prices = {u: spot[u] * np.exp(x[:, j]) for j, u in enumerate(unders)}
        par_pnl = revalue_book(
            lines, par_prices, horizon_days=horizon_days, rate=rate, grid_nodes=_GRID_NODES
        )

    def pct(x: float) -> float:
        return x / equity * 100.0 if equity > 0 else math.nan

    rows: list[RevaluationRow] = []
    for c in confidences:
        measures = {
            ("full_revaluation", "historical"): _loss_measures(hist_pnl, c),
            ("full_revaluation", "parametric"): _loss_measures(par_pnl, c),
            ("delta", "historical"): _loss_measures(delta_pnl, c),
            ("delta", "parametric"): (
                parametric_var(delta_pnl, c),
                parametric_cvar(delta_pnl, c),
            ),
        }
        for (model, method), (v, cv) in measures.items():
            rows.append(RevaluationRow(model, method, c, v, cv, pct(v), pct(cv)))  # type: ignore[arg-type]
    options = [ln for ln in lines if ln.kind == "option"]
    premium = float(sum(ln.max_loss or 0.0 for ln in options if ln.qty > 0))
    bounds = [ln.max_loss for ln in lines]
    max_loss = None if any(b is None for b in bounds) else float(sum(bounds))  # type: ignore[arg-type]
    notes = tuple(
        f"{ln.symbol}: "
        + (
            "IV from the quote (the mark is at or below intrinsic)"
            if ln.iv_source == "quote"
            else "no IV: valued at intrinsic"
        )
        for ln in options
        if ln.iv_source in ("quote", "intrinsic")
    )
    return FullRevaluationReport(
        equity=float(equity),
        horizon_days=float(horizon_days),
        scenario_dates=tuple(rets.index),
        historical_pnl=hist_pnl,
        delta_pnl=delta_pnl,
        parametric_draws=int(par_pnl.size),
        seed=seed,
        rows=tuple(rows),
        premium_at_risk=premium,
        max_loss=max_loss,
        dollar_delta=deltas,
        lines=lines,
        notes=notes,
        assumptions=revaluation_assumptions(horizon_days, len(rets), int(par_pnl.size), rate),
    )


def revaluation_assumptions(
    horizon_days: float, observations: int, draws: int, rate: float
) -> tuple[str, ...]:
    """The modelling assumptions of ``full_revaluation_var``, as the page must state them."""
    return (
        f"Horizon one trading day; options lose {horizon_days:g} calendar day(s) of time value.",
        "Options repriced by Black-Scholes (European, continuous dividend yield) at the IV "
        "implied by each position's mark, held fixed across scenarios (sticky strike); "
        f"risk-free rate {rate:.2%}.",
        f"Historical: {observations} past daily returns of the held underlyings, replayed "
        "on today's prices, same day for all underlyings.",
        f"Parametric: {draws:,} seeded joint-normal daily log returns with the historical "
        "mean and covariance (Monte Carlo).",
        "Delta rows are for comparison: they scale today's dollar deltas by the same "
        "returns (delta-normal: a normal P&L), ignore gamma and time decay, and can show "
        "a long option losing more than its premium.",
        "VaR and CVaR are losses of today's book; positions opened or closed later are not in it.",
    )


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
        under = underlying_of(p)
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
            t = years_to_expiry(p.symbol, now)
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
            "underlying": underlying_of(p),
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
