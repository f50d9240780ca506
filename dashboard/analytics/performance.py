"""Returns, drawdowns, risk-adjusted ratios and trade statistics.

Standard ratios come from ``empyrical`` (empyrical-reloaded) rather than being rewritten,
as issue 9 asks; the thin wrappers fix the conventions (simple returns, 252 periods a
year, NaN dropped) and return plain floats. Trade statistics are in R multiples because
expectancy in R, not win rate, is what tells an edge apart (strat.md §3.2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import empyrical
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from dashboard.conventions import MARKET_TZ_NAME

__all__ = [
    "DEFAULT_MAX_OPEN_RISK",
    "DEFAULT_RISK_PER_TRADE",
    "CurveStats",
    "PortfolioEquity",
    "SizingRule",
    "TradeStats",
    "annual_volatility",
    "buy_and_hold",
    "cagr",
    "curve_stats",
    "daily_closes",
    "daily_equity",
    "drawdown_series",
    "equity_curve",
    "grouped_trade_stats",
    "max_drawdown",
    "normalise_to",
    "portfolio_equity",
    "r_distribution",
    "rolling_sharpe",
    "rolling_sortino",
    "sharpe_ratio",
    "simple_returns",
    "sortino_ratio",
    "trade_stats",
    "wilson_interval",
]

TRADING_DAYS = 252
DEFAULT_RISK_PER_TRADE = 0.01  # equity fraction risked per trade in the backtest equity
DEFAULT_MAX_OPEN_RISK = 0.08  # the default portfolio heat limit (Settings.heat_limit_pct)


def _clean(returns: ArrayLike | pd.Series) -> NDArray[np.float64]:
    arr = np.asarray(returns, dtype=float)
    finite: NDArray[np.float64] = arr[np.isfinite(arr)]
    return finite


def simple_returns(prices: pd.Series) -> pd.Series:
    """Period-over-period simple returns; the first (undefined) period is dropped."""
    return prices.astype(float).pct_change().iloc[1:]


def equity_curve(returns: pd.Series, start_value: float = 1.0) -> pd.Series:
    """Compounded value of ``start_value`` invested at the start of ``returns``."""
    return start_value * (1.0 + returns.fillna(0.0)).cumprod()


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Fractional drawdown from the running peak of an equity curve (0 at a new high, ≤ 0)."""
    peak = equity.cummax()
    return equity / peak - 1.0


def max_drawdown(returns: ArrayLike | pd.Series) -> float:
    """Largest peak-to-trough fall of the compounded returns, as a negative fraction."""
    r = _clean(returns)
    return float(empyrical.max_drawdown(r)) if r.size else math.nan


def sharpe_ratio(
    returns: ArrayLike | pd.Series,
    risk_free: float = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> float:
    """Annualised Sharpe ratio; ``risk_free`` is per period (daily for daily returns)."""
    r = _clean(returns)
    return float(empyrical.sharpe_ratio(r, risk_free=risk_free, annualization=periods_per_year))


def sortino_ratio(
    returns: ArrayLike | pd.Series,
    required_return: float = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> float:
    """Annualised Sortino ratio (downside deviation below ``required_return`` per period)."""
    r = _clean(returns)
    return float(
        empyrical.sortino_ratio(r, required_return=required_return, annualization=periods_per_year)
    )


def cagr(returns: ArrayLike | pd.Series, periods_per_year: int = TRADING_DAYS) -> float:
    """Compound annual growth rate, with the number of years = periods / periods_per_year."""
    r = _clean(returns)
    return float(empyrical.cagr(r, annualization=periods_per_year)) if r.size else math.nan


def annual_volatility(
    returns: ArrayLike | pd.Series, periods_per_year: int = TRADING_DAYS
) -> float:
    """Sample standard deviation (ddof=1) scaled by sqrt(periods per year)."""
    r = _clean(returns)
    if r.size < 2:
        return math.nan
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def rolling_sharpe(
    returns: pd.Series, window: int = 60, periods_per_year: int = TRADING_DAYS
) -> pd.Series:
    """Rolling annualised Sharpe over ``window`` periods (NaN until the window fills)."""
    roll = returns.rolling(window, min_periods=window)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = roll.mean() / roll.std(ddof=1) * math.sqrt(periods_per_year)
    return out.replace([np.inf, -np.inf], np.nan)


def rolling_sortino(
    returns: pd.Series, window: int = 60, periods_per_year: int = TRADING_DAYS
) -> pd.Series:
    """Rolling annualised Sortino over ``window`` periods, same definition as
    ``sortino_ratio`` (downside deviation = sqrt(mean(min(r, 0)²)))."""
    down_sq = returns.clip(upper=0.0) ** 2
    mean = returns.rolling(window, min_periods=window).mean()
    dd = np.sqrt(down_sq.rolling(window, min_periods=window).mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mean / dd * math.sqrt(periods_per_year)
    cleaned: pd.Series = out.replace([np.inf, -np.inf], np.nan)
    return cleaned


def normalise_to(benchmark: pd.Series, reference: pd.Series) -> pd.Series:
    """Rescale ``benchmark`` so it starts at ``reference``'s first value.

    The start is the benchmark's last value at or before the reference's first
    timestamp (or its first value when it starts later), so the two curves share an
    origin on the chart without using a future benchmark price.
    """
    if benchmark.empty or reference.empty:
        return benchmark.iloc[0:0].astype(float)
    bench = benchmark.astype(float).sort_index()
    t0 = reference.index[0]
    before = bench.loc[:t0]
    base = float(before.iloc[-1]) if not before.empty else float(bench.iloc[0])
    start = bench.loc[before.index[-1] :] if not before.empty else bench
    return start / base * float(reference.iloc[0])


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Summary of closed trades in R multiples (breakeven counts as a trade, not a win)."""

    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: float
    win_rate_low: float  # Wilson interval at ``confidence``
    win_rate_high: float
    avg_win_r: float
    avg_loss_r: float  # negative
    expectancy_r: float  # mean R per trade
    expectancy_low: float  # Student-t interval of the mean
    expectancy_high: float
    profit_factor: float  # gross win R / gross loss R; inf with no losses
    total_r: float
    largest_win_r: float
    largest_loss_r: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def wilson_interval(wins: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a win rate; (nan, nan) with no trades.

    Wilson rather than the normal approximation because small samples and 0%/100% win
    rates are the common case for a single pattern on one timeframe.
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = wins / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _mean_interval(r: np.ndarray, confidence: float) -> tuple[float, float]:
    if r.size < 2:
        return (math.nan, math.nan)
    sem = float(np.std(r, ddof=1)) / math.sqrt(r.size)
    t = float(stats.t.ppf(0.5 + confidence / 2.0, df=r.size - 1))
    m = float(r.mean())
    return (m - t * sem, m + t * sem)


def trade_stats(r_multiples: ArrayLike, confidence: float = 0.95) -> TradeStats:
    """Win rate (with a Wilson interval), expectancy in R (with a t interval), profit
    factor, average win and loss, from one R multiple per closed trade."""
    r = _clean(r_multiples)
    n = int(r.size)
    wins_r, loss_r = r[r > 0], r[r < 0]
    w, lo = int(wins_r.size), int(loss_r.size)
    gross_win, gross_loss = float(wins_r.sum()), float(-loss_r.sum())
    no_loss_pf = math.inf if gross_win > 0 else math.nan
    pf = gross_win / gross_loss if gross_loss > 0 else no_loss_pf
    wl, wh = wilson_interval(w, n, confidence)
    el, eh = _mean_interval(r, confidence)
    nan = math.nan
    return TradeStats(
        trades=n,
        wins=w,
        losses=lo,
        breakeven=n - w - lo,
        win_rate=w / n if n else nan,
        win_rate_low=wl,
        win_rate_high=wh,
        avg_win_r=float(wins_r.mean()) if w else nan,
        avg_loss_r=float(loss_r.mean()) if lo else nan,
        expectancy_r=float(r.mean()) if n else nan,
        expectancy_low=el,
        expectancy_high=eh,
        profit_factor=pf,
        total_r=float(r.sum()),
        largest_win_r=float(wins_r.max()) if w else nan,
        largest_loss_r=float(loss_r.min()) if lo else nan,
    )


def grouped_trade_stats(
    trades: pd.DataFrame,
    by: str | Sequence[str],
    r_column: str = "r_multiple",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``trade_stats`` per group (pattern, timeframe, TFC aligned, regime, DTE or delta
    bucket…), one row per group, sorted by number of trades then expectancy."""
    keys = [by] if isinstance(by, str) else list(by)
    cols = list(TradeStats.__dataclass_fields__)
    if trades.empty:
        return pd.DataFrame(columns=[*keys, *cols])
    rows = []
    for key, grp in trades.groupby(keys, sort=True, dropna=False):
        key_t = key if isinstance(key, tuple) else (key,)
        s = trade_stats(grp[r_column].to_numpy(dtype=float), confidence)
        rows.append({**dict(zip(keys, key_t, strict=True)), **s.as_dict()})
    out = pd.DataFrame(rows)
    return out.sort_values(["trades", "expectancy_r"], ascending=[False, False]).reset_index(
        drop=True
    )


def r_distribution(r_multiples: ArrayLike, bin_width: float = 0.5) -> pd.DataFrame:
    """Histogram of R multiples on fixed edges aligned to multiples of ``bin_width``.

    Bins are half-open ``[left, right)`` so a trade at exactly +1R lands in [1, 1.5) and a
    full stop (-1R) in [-1, -0.5): the bar a trader expects to see them in.
    """
    if bin_width <= 0:
        raise ValueError("bin_width must be positive")
    r = _clean(r_multiples)
    if r.size == 0:
        return pd.DataFrame(columns=["left", "right", "count"])
    lo = math.floor(r.min() / bin_width) * bin_width
    hi = (math.floor(r.max() / bin_width) + 1) * bin_width
    nbins = round((hi - lo) / bin_width)
    edges = lo + bin_width * np.arange(nbins + 1)
    idx = np.clip(np.floor((r - lo) / bin_width + 1e-9).astype(int), 0, nbins - 1)
    counts = np.bincount(idx, minlength=nbins)
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts})


# ------------------------------------------------------------------ benchmark comparison


def _market_days(index: pd.DatetimeIndex, tz: str = MARKET_TZ_NAME) -> pd.DatetimeIndex:
    """Midnight (naive) of each timestamp's New York date; naive stamps are taken as NY."""
    local = index.tz_convert(tz).tz_localize(None) if index.tz is not None else index
    return local.normalize()


def daily_closes(close: pd.Series, tz: str = MARKET_TZ_NAME) -> pd.Series:
    """The last close of each New York date (naive midnight index), from bars of any
    timeframe (an intraday day's last bar; a weekly bar keeps its own date)."""
    if close.empty:
        return close.astype(float)
    days = _market_days(pd.DatetimeIndex(close.index), tz)
    out = pd.Series(close.to_numpy(dtype=float), index=days)
    return out.groupby(level=0).last().sort_index()


def buy_and_hold(
    closes: dict[str, pd.Series] | pd.DataFrame,
    start_value: float,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.Series:
    """Equal-weight buy-and-hold of several symbols from daily closes.

    ``start_value`` is split equally at the first day on or after ``start`` on which
    every symbol has a close (prices carry forward over a symbol's missing days), then
    held: value = start_value × mean(P_i / P_i,0). Empty when no such day exists.
    """
    frame = closes if isinstance(closes, pd.DataFrame) else pd.DataFrame(closes)
    frame = frame.sort_index().ffill()
    if start is not None:
        frame = frame.loc[frame.index >= start]
    if end is not None:
        frame = frame.loc[frame.index <= end]
    frame = frame.dropna(how="any")
    if frame.empty or frame.shape[1] == 0:
        return pd.Series(dtype=float, name="buy & hold")
    rel = frame / frame.iloc[0]
    return (start_value * rel.mean(axis=1)).rename("buy & hold")


def daily_equity(equity: pd.Series, days: pd.DatetimeIndex, start_value: float) -> pd.Series:
    """A step equity curve (a value at each trade exit) sampled at the end of each day.

    Each day takes the last value at or before that day's New York date (forward fill);
    days before the first exit hold ``start_value``.
    """
    if len(days) == 0:
        return pd.Series(dtype=float, name="strategy")
    if equity.empty:
        return pd.Series(float(start_value), index=days, name="strategy")
    eod = daily_closes(equity)
    out = eod.reindex(eod.index.union(days)).ffill().reindex(days)
    return out.fillna(float(start_value)).rename("strategy")


@dataclass(frozen=True, slots=True)
class CurveStats:
    """Headline numbers of one daily equity curve."""

    total_return: float  # fraction
    cagr: float
    max_drawdown: float  # negative fraction
    sharpe: float
    sortino: float
    days: int


def curve_stats(equity: pd.Series, periods_per_year: int = TRADING_DAYS) -> CurveStats:
    """Total return, CAGR, max drawdown, Sharpe and Sortino of a daily equity curve."""
    eq = equity.dropna().astype(float)
    if len(eq) < 2:
        nan = math.nan
        return CurveStats(nan, nan, nan, nan, nan, len(eq))
    r = simple_returns(eq)
    return CurveStats(
        total_return=float(eq.iloc[-1] / eq.iloc[0] - 1.0),
        cagr=cagr(r, periods_per_year),
        max_drawdown=float(drawdown_series(eq).min()),
        sharpe=sharpe_ratio(r, periods_per_year=periods_per_year),
        sortino=sortino_ratio(r, periods_per_year=periods_per_year),
        days=len(eq),
    )


# ------------------------------------------------------------------ portfolio equity


@dataclass(frozen=True, slots=True)
class SizingRule:
    """Fixed-fractional sizing with a cap on the total risk open at once.

    Each trade risks ``risk_per_trade`` of the equity at its entry (its R in dollars); a
    trade that would take the open risk above ``max_open_risk`` of that equity is not
    taken, as a trader at the heat limit would pass on it.
    """

    risk_per_trade: float = DEFAULT_RISK_PER_TRADE
    max_open_risk: float = DEFAULT_MAX_OPEN_RISK

    def __post_init__(self) -> None:
        if not 0.0 < self.risk_per_trade <= self.max_open_risk <= 1.0:
            raise ValueError("need 0 < risk_per_trade <= max_open_risk <= 1")

    @classmethod
    def from_heat_limit(cls, heat_limit_pct: float, **overrides: float) -> SizingRule:
        """The cap from the portfolio heat limit (in %), so backtest and live agree."""
        return cls(**{"max_open_risk": float(heat_limit_pct) / 100.0, **overrides})

    @property
    def max_positions(self) -> int:
        """Most trades open at once when every one risks the full fraction."""
        return math.floor(self.max_open_risk / self.risk_per_trade + 1e-9)

    def describe(self) -> str:
        return (
            f"{self.risk_per_trade:.1%} of equity at entry per trade, total open risk "
            f"capped at {self.max_open_risk:.0%} (at most {self.max_positions} full-size "
            "trades open); a trade that would exceed the cap is skipped"
        )


@dataclass(frozen=True, slots=True)
class PortfolioEquity:
    """Equity of trades taken together, with concurrency respected."""

    equity: pd.Series  # equity after each exit, indexed by exit time
    sizing: SizingRule
    start_value: float
    taken: int
    skipped: int  # not taken: the open-risk cap was full at their entry
    max_concurrent: int  # most positions open at one time
    max_open_risk: float  # peak open risk as a fraction of equity
    open_at_end: int  # taken and still open when the data ends


def _one_index(values: Sequence[datetime]) -> pd.DatetimeIndex:
    """The times as one index: their own zone when they share one, else UTC instants."""
    try:
        return pd.DatetimeIndex(list(values))
    except (TypeError, ValueError):  # several zones: compare them as instants
        return pd.DatetimeIndex(pd.to_datetime(list(values), utc=True))


def portfolio_equity(
    entries: Iterable[datetime | None],
    exits: Iterable[datetime | None],
    r_multiples: Iterable[float | None],
    sizing: SizingRule = SizingRule(),
    start_value: float = 1.0,
) -> PortfolioEquity:
    """Compound trades in time order as one account would.

    At each entry the trade risks ``sizing.risk_per_trade`` of the *realised* equity
    then; it is skipped when the risk already open plus its own would exceed
    ``sizing.max_open_risk`` of that equity. At its exit the equity changes by its risk
    × R. A trade without an exit (still open) holds its risk to the end. Events at one
    timestamp take entries before exits: inside one bar the order is unknown, so a
    position closing in the bar is still counted as open, and its P&L is not yet in
    the equity a new entry sizes from. Trades without an entry time are left out.
    """
    rows = [(e, x, r) for e, x, r in zip(entries, exits, r_multiples, strict=True) if e is not None]
    # Events as int ns (one vectorised conversion): sorting pandas stamps one by one was
    # most of the Strategy tab's equity time on ten years of trades.
    stamps = _one_index([e for e, _, _ in rows] + [x for _, x, _ in rows if x is not None])
    ns = stamps.as_unit("ns").asi8.tolist()
    entry_ns, exit_ns = ns[: len(rows)], iter(ns[len(rows) :])
    events: list[tuple[int, int, int]] = []
    for i, (_e, x, r) in enumerate(rows):
        events.append((entry_ns[i], 0, i))
        if x is not None:
            t_exit = next(exit_ns)
            if r is not None and math.isfinite(r):
                events.append((t_exit, 1, i))
    events.sort()
    equity = float(start_value)
    risk_of: dict[int, float] = {}
    open_risk = 0.0
    taken = skipped = max_open = 0
    peak_risk = 0.0
    times: list[int] = []
    values: list[float] = []
    for t, kind, i in events:
        if kind == 0:
            risk = sizing.risk_per_trade * equity
            if equity <= 0 or open_risk + risk > sizing.max_open_risk * equity * (1 + 1e-12):
                skipped += 1
                continue
            risk_of[i] = risk
            open_risk += risk
            taken += 1
            max_open = max(max_open, len(risk_of))
            peak_risk = max(peak_risk, open_risk / equity)
        elif i in risk_of:
            risk = risk_of.pop(i)
            open_risk -= risk
            r = rows[i][2]
            assert r is not None
            equity += risk * float(r)
            times.append(t)
            values.append(equity)
    index = None
    if times:
        index = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
        if stamps.tz is not None:
            index = index.tz_localize("UTC").tz_convert(stamps.tz)
        index = index.as_unit(stamps.unit)
    curve = pd.Series(values, index=index, dtype=float)
    return PortfolioEquity(
        equity=curve.rename("equity"),
        sizing=sizing,
        start_value=float(start_value),
        taken=taken,
        skipped=skipped,
        max_concurrent=max_open,
        max_open_risk=peak_risk,
        open_at_end=len(risk_of),
    )
