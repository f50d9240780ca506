"""Value at risk of the book: historical and parametric VaR/CVaR, and full revaluation.

VaR of a book with options is computed by full revaluation (``full_revaluation_var``):
every option is repriced under each scenario of its underlying, so a long option can
never be shown losing more than its premium. The delta approximation (``var_report`` on
``portfolio_returns``) is kept beside it as a labelled comparison.

Sign conventions: VaR and CVaR are reported as positive losses (0.021 = a 2.1% loss).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import empyrical
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm

from dashboard.conventions import CONTRACT_MULTIPLIER
from dashboard.models import Position
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import parse_occ, underlying_of
from dashboard.options.pricing import bs_greeks, bs_price, implied_vol

__all__ = [
    "BookLine",
    "FullRevaluationReport",
    "RevaluationRow",
    "VarReport",
    "book_lines",
    "conditional_var",
    "full_revaluation_var",
    "historical_cvar",
    "historical_var",
    "line_deltas",
    "parametric_cvar",
    "parametric_var",
    "portfolio_returns",
    "revaluation_assumptions",
    "revalue_book",
    "value_at_risk",
    "var_report",
]


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
        if underlying_of(p.symbol, p.asset_class) not in underlying_prices:
            raise ValueError(f"no underlying price for {underlying_of(p.symbol, p.asset_class)}")
    opts = [p for p in held if p.asset_class == "us_option"]
    occs = [parse_occ(p.symbol) for p in opts]
    spot = np.array([float(underlying_prices[o.root]) for o in occs])
    strike = np.array([float(o.strike) for o in occs])
    years = np.array([years_to_expiry(parse_occ(p.symbol).expiry, now) for p in opts])
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
