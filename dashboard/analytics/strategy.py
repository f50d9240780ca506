"""STRAT pattern backtest and edge analytics (issue 10, Strategy Performance tab).

The backtest reuses the live engine rather than a second implementation: patterns come
from ``strat.detect_patterns`` (closed bars up to the setup bar only), a Hammer or
Shooter that is the same trade as the 2-2/3-2/3-2-2 on its bar is folded into it as a
tag (``strat.ideas``), and each setup's fate comes from ``strat.evaluate_setups``
(intrabar trigger on a bar *after* the setup bar, then T1 or the stop). So a backtest
trade is exactly what the live scanner and exit monitor would have done.

**Same-bar order.** When one bar reaches the entry and the stop, or T1 and the stop, its
order is settled by ``strat.settlement``, the rule the live board uses too: exactly
from the OHLC when it decides, else on lower-timeframe bars when they are given (the
"bar magnifier"), else by the OHLC path rule (open nearer the high → O-H-L-C, else
O-L-H-C). A position exists only once the path crosses the entry, so a stop touched
before that does not count. ``intrabar="conservative"`` scores undecided bars as stops
instead. Every trade records how it was settled; ``BacktestResult.method`` counts them.

Fills: entry at the trigger level, or at the open when the trigger bar gaps through
it; exit at T1 or the stop, or at the open when a later bar gaps through the level;
optionally a time exit at the close ``max_hold_bars`` after the trigger bar. R is the
trade's P&L over its initial risk (fill to stop), so a gap entry shows as a worse R
instead of disappearing.

Each trade also carries its timeframe continuity at entry (``tfc_score``,
``tfc_aligned``): the fill price against the open of every higher timeframe's candle as
it stood at the trigger bar (``strat.continuity_history``, built only from bars up to
that bar). Named ``StrategySpec`` definitions filter the trades (reversals, continuations,
TFC-aligned) or turn them into modelled option trades (``analytics.option_backtest``).
Grouping trades into edge tables (by regime at entry, TFC, DTE, delta) and the
equity of a trade list are in ``analytics/edge.py``.

Its size is one concept: the backtest engine and the named strategies that filter or
reprice its trades.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.analytics.option_backtest import OptionSpec, periods_per_year, price_option_leg
from dashboard.analytics.performance import (
    PortfolioEquity,
    SizingRule,
)
from dashboard.conventions import MARKET_TZ_NAME
from dashboard.options.selection import normalize_timeframe
from dashboard.strat.continuity import continuity_history, period_keys
from dashboard.strat.ideas import merge_coinciding
from dashboard.strat.patterns import LevelConfig, detect_patterns
from dashboard.strat.settlement import (
    DEFAULT_INTRABAR_RULE,
    INTRABAR_RULES,
    SETTLEMENT_ORDER,
    IntrabarRule,
    LowerBars,
    Settlement,
    lower_bars,
    magnifier_for,
)
from dashboard.strat.setups import evaluate_setups
from dashboard.strat.signals import Direction, Setup, SetupStatus
from dashboard.strat.timeframes import HIGHER_TIMEFRAMES  # the board uses the same sets

__all__ = [
    "DEFAULT_STRATEGY",
    "HIGHER_TIMEFRAMES",
    "MODEL_NOTE",
    "REGIME_AT_ENTRY_NOTE",
    "STRATEGIES",
    "SYNTHETIC_MARKET_NOTE",
    "BacktestMethod",
    "BacktestResult",
    "BacktestTrade",
    "StrategySpec",
    "backtest_patterns",
    "combine_methods",
    "run_strategy",
    "settlement_counts",
    "strategy_by_id",
    "tfc_at_entry",
]

Outcome = Literal["target", "stop", "time", "expiry", "open"]


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    """One triggered setup and how it ended. ``r_multiple`` is None while still open."""

    symbol: str | None
    timeframe: str | None
    pattern: str  # "2-1-2", "3-1-2", ...
    label: str  # "2D-1-2U", ...
    kind: str  # reversal | continuation | actionable
    direction: Direction
    setup_index: int
    entry_index: int
    exit_index: int | None
    setup_time: datetime | None
    entry_time: datetime | None
    exit_time: datetime | None
    entry_price: float  # the fill
    stop_price: float
    target_price: float | None
    exit_price: float | None
    outcome: Outcome
    r_multiple: float | None
    bars_held: int | None  # exit bar − entry bar (0 = same bar)
    notes: tuple[str, ...] = ()
    # How the intrabar order of its trigger and exit bars was known (strat.settlement).
    settlement: Settlement = Settlement.EXACT
    tags: tuple[str, ...] = ()  # coinciding actionable signals, e.g. ("Hammer",)
    trigger_price: float | None = None  # the entry level (entry_price is the fill)
    # Continuity at entry, in the trade's direction: +1 per higher TF whose candle agrees
    # (fill vs that TF's open at the trigger bar), −1 per one against, 0 for a doji.
    # None when the higher TF's first candle in the data is incomplete (unknown open).
    tfc_score: int | None = None
    tfc_aligned: bool | None = None  # every higher timeframe agrees
    tfc_timeframes: str | None = None  # e.g. "W,M,Q"
    # Option variants only (analytics.option_backtest): then r_multiple is the option's
    # R (P&L / premium), exit_price stays the underlying's, underlying_r is the stock R.
    instrument: Literal["underlying", "option"] = "underlying"
    underlying_r: float | None = None
    option_right: str | None = None
    strike: float | None = None
    dte_at_entry: int | None = None
    delta_at_entry: float | None = None
    volatility: float | None = None
    premium_entry: float | None = None  # model mid per share
    premium_exit: float | None = None
    realised_vol: float | None = None  # before the implied-over-realised premium
    option_cost_r: float | None = None  # R given up to the spread and fees


def settlement_counts(trades: Iterable[BacktestTrade]) -> dict[str, int]:
    """Trades per settlement method, every method present (zeros included)."""
    counts = {str(m): 0 for m in SETTLEMENT_ORDER}
    for t in trades:
        counts[str(t.settlement)] += 1
    return counts


SYNTHETIC_MARKET_NOTE = (
    "Synthetic market: these prices come from the demo simulator, not from an exchange. "
    "The results test the method, and say nothing about how STRAT trades on real markets."
)
REGIME_AT_ENTRY_NOTE = (
    "Regime at entry: the label at the close of the last session before the trigger "
    "bar opened, so no trade is tagged with a label computed after it entered."
)


@dataclass(frozen=True, slots=True)
class BacktestMethod:
    """Every assumption behind a backtest's numbers, as data (the Strategy tab's method
    panel). Per run it holds what the backtest knows; ``combine_methods`` merges runs
    and adds the portfolio sizing, the data sources and whether the market is synthetic.
    """

    intrabar_rule: IntrabarRule = DEFAULT_INTRABAR_RULE
    settlement_counts: Mapping[str, int] = field(
        default_factory=lambda: {str(m): 0 for m in SETTLEMENT_ORDER}
    )
    magnifier_timeframes: tuple[str, ...] = ()  # lower timeframes given for the magnifier
    gap_fills: bool = True
    expire_after: int | None = 3
    max_hold_bars: int | None = None
    merged_actionable: int = 0  # Hammer/Shooter folded into a coinciding trade as a tag
    option: OptionSpec | None = None  # the option model, for option strategies
    sizing: SizingRule | None = None
    max_concurrent: int | None = None
    skipped_by_risk_cap: int | None = None
    data_sources: tuple[str, ...] = ()
    synthetic: bool = False

    @property
    def trades(self) -> int:
        return sum(self.settlement_counts.values())

    def lines(self) -> tuple[str, ...]:
        """The assumptions in words, one line each, in the order the panel lists them."""
        c = self.settlement_counts
        exact, mag = c.get("exact", 0), c.get("magnified", 0)
        path, amb = c.get("path rule", 0), c.get("ambiguous", 0)
        lower = ", ".join(self.magnifier_timeframes) or "none loaded"
        out = [
            f"Same-bar order, {self.trades:,} trades: {exact:,} exact from the bar's own "
            f"OHLC, {mag:,} from lower-timeframe bars ({lower}), {path:,} by the OHLC path "
            f"rule, {amb:,} unknown and scored as stops.",
            f"When the order is unknown: {INTRABAR_RULES[self.intrabar_rule]}.",
            "Entry: a stop order at the trigger (setup-bar extreme ± 1 tick), filled there "
            + ("or at the open of a bar that gaps through it" if self.gap_fills else "always")
            + "; a stop touched before the entry does not count.",
            "Exit: T1 or the stop"
            + (", at the open of a bar that gaps through it" if self.gap_fills else "")
            + (
                f", or the close {self.max_hold_bars} bars after the trigger"
                if self.max_hold_bars is not None
                else ""
            )
            + (
                "; R = P&L / (fill − stop)."
                if self.option is None
                else "; the option leaves with the trade. R = option P&L after costs / "
                "cash paid (premium at the ask plus the fee)."
            ),
            "Setups expire untriggered after "
            + (f"{self.expire_after} bars." if self.expire_after is not None else "never.")
            + f" A Hammer/Shooter that is the same trade as the 2-2, 3-2 or 3-2-2 on its "
            f"bar is counted once, as a tag ({self.merged_actionable:,} merged).",
        ]
        if self.option is None:
            out.append("Costs: none on the underlying (fills at the levels or gapped opens).")
        else:
            out.append("Modelled options (there are no historical option quotes):")
            out += [f"{line}." for line in self.option.assumptions()]
        if self.sizing is not None:
            line = f"Sizing: {self.sizing.describe()}."
            if self.max_concurrent is not None:
                line += f" At most {self.max_concurrent} trades were open at once"
                line += (
                    f"; {self.skipped_by_risk_cap:,} skipped at the cap."
                    if self.skipped_by_risk_cap
                    else "."
                )
            out.append(line)
        if self.data_sources:
            out.append(f"Data: {', '.join(self.data_sources)} bars.")
        if self.synthetic:
            out.append(SYNTHETIC_MARKET_NOTE)
        return tuple(out)


def combine_methods(
    methods: Iterable[BacktestMethod],
    *,
    equity: PortfolioEquity | None = None,
    data_sources: Iterable[str] = (),
    synthetic: bool = False,
) -> BacktestMethod:
    """One method record for several runs (settlement counts summed, lower timeframes
    united), with the portfolio sizing and concurrency from ``equity``."""
    ms = list(methods)
    counts = {str(m): 0 for m in SETTLEMENT_ORDER}
    for m in ms:
        for k, v in m.settlement_counts.items():
            counts[k] = counts.get(k, 0) + v
    first = ms[0] if ms else BacktestMethod()
    lower = tuple(dict.fromkeys(tf for m in ms for tf in m.magnifier_timeframes))
    return replace(
        first,
        settlement_counts=counts,
        magnifier_timeframes=lower,
        merged_actionable=sum(m.merged_actionable for m in ms),
        sizing=None if equity is None else equity.sizing,
        max_concurrent=None if equity is None else equity.max_concurrent,
        skipped_by_risk_cap=None if equity is None else equity.skipped,
        data_sources=tuple(dict.fromkeys(data_sources)),
        synthetic=synthetic,
    )


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Trades plus the funnel behind them (patterns found → triggered → closed) and the
    method that produced them."""

    trades: tuple[BacktestTrade, ...]
    patterns_found: int
    triggered: int
    expired: int
    pending: int
    method: BacktestMethod = field(default_factory=BacktestMethod)

    @property
    def closed(self) -> tuple[BacktestTrade, ...]:
        return tuple(t for t in self.trades if t.r_multiple is not None)


def _ts(times: NDArray[Any] | None, i: int | None) -> datetime | None:
    if i is None or times is None:
        return None
    when: datetime = times[i]
    return when


def _trade(
    s: Setup,
    c: np.ndarray,
    times: np.ndarray | None,
    *,
    last_closed: int,
    max_hold_bars: int | None,
) -> BacktestTrade:
    """A triggered setup as a trade: the setup's fill and exit (settled intrabar by
    ``evaluate_setups``), or a time exit at a close when that comes first."""
    p = s.pattern
    trig = s.triggered_index
    assert trig is not None
    sgn = 1.0 if p.direction == "long" else -1.0
    stop = p.stop.price
    t1 = p.targets[0].price if p.targets else None
    fill = s.fill_price if s.fill_price is not None else p.entry.price

    outcome: Outcome = "open"
    exit_i: int | None = None
    exit_px: float | None = None
    res = s.resolved_index
    time_limit = None if max_hold_bars is None else trig + max_hold_bars
    if time_limit is not None and (res is None or res > time_limit) and time_limit <= last_closed:
        outcome, exit_i, exit_px = "time", time_limit, float(c[time_limit])
    elif res is not None and s.exit_price is not None:
        exit_i, exit_px = res, s.exit_price
        outcome = "stop" if s.status is SetupStatus.STOPPED else "target"

    risk = sgn * (fill - stop)
    r = None if exit_px is None else sgn * (exit_px - fill) / risk
    return BacktestTrade(
        symbol=p.symbol,
        timeframe=p.timeframe,
        pattern=p.name,
        label=p.label,
        kind=p.kind,
        direction=p.direction,
        setup_index=p.setup_index,
        entry_index=trig,
        exit_index=exit_i,
        setup_time=_ts(times, p.setup_index),
        entry_time=_ts(times, trig),
        exit_time=_ts(times, exit_i),
        entry_price=fill,
        stop_price=stop,
        target_price=t1,
        exit_price=exit_px,
        outcome=outcome,
        r_multiple=None if r is None else float(r),
        bars_held=None if exit_i is None else exit_i - trig,
        notes=s.notes,
        # A time exit before the resolving bar leaves only the trigger bar's settlement.
        settlement=s.trigger_settlement if outcome in ("time", "open") else s.settlement,
        tags=p.tags,
        trigger_price=p.entry.price,
    )


def _lower_frames(
    lower: Mapping[str, pd.DataFrame | LowerBars] | None, tick: float
) -> dict[str, LowerBars]:
    out: dict[str, LowerBars] = {}
    for tf, frame in (lower or {}).items():
        key = normalize_timeframe(tf)
        if isinstance(frame, LowerBars):
            out[key] = frame
        elif len(frame):
            out[key] = lower_bars(frame, key, tick)
    return out


def backtest_patterns(
    bars: pd.DataFrame,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    config: LevelConfig = LevelConfig(),
    expire_after: int | None = 3,
    max_hold_bars: int | None = None,
    patterns: Sequence[str] | None = None,
    gap_fills: bool = True,
    tick: float = 0.01,
    last_bar_closed: bool = True,
    kinds: Collection[str] | None = None,
    tfc_timeframes: Sequence[str] | None = None,
    lower_bars: Mapping[str, pd.DataFrame | LowerBars] | None = None,
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE,
) -> BacktestResult:
    """Bar-by-bar STRAT backtest over OHLC ``bars`` (columns open/high/low/close).

    ``patterns`` keeps only those pattern names (e.g. ``["2-1-2", "3-1-2"]``), ``kinds``
    only those kinds ("reversal", "continuation", "actionable").
    ``expire_after``: an untriggered setup expires after that many bars (live rule).
    ``max_hold_bars``: close a trade at the close of that bar after the trigger bar if
    neither T1 nor the stop was hit (None = hold until one is; still-open trades are
    reported with outcome "open" and no R).
    ``tfc_timeframes``: higher timeframes for the TFC at entry; None takes
    ``HIGHER_TIMEFRAMES`` for ``timeframe``; it needs a DatetimeIndex.
    ``lower_bars``: bars of lower timeframes keyed by timeframe ("1Hour", "15Min", …)
    for the bar magnifier (needs ``timeframe`` and a DatetimeIndex); ``intrabar``:
    "path" (default) or "conservative" for bars whose order stays unknown.
    """
    o = bars["open"].to_numpy(dtype=float)
    h = bars["high"].to_numpy(dtype=float)
    lo = bars["low"].to_numpy(dtype=float)
    c = bars["close"].to_numpy(dtype=float)
    n = h.size
    tf = None if timeframe is None else normalize_timeframe(timeframe)
    frames = _lower_frames(lower_bars, tick)
    method = BacktestMethod(
        intrabar_rule=intrabar,
        magnifier_timeframes=tuple(lb.timeframe for lb in magnifier_for(tf, frames)),
        gap_fills=gap_fills,
        expire_after=expire_after,
        max_hold_bars=max_hold_bars,
    )
    if n < 3:
        return BacktestResult((), 0, 0, 0, 0, method)
    raw = detect_patterns(h, lo, o, c, config=config, tick=tick, symbol=symbol, timeframe=tf)
    found = merge_coinciding(raw)
    merged = len(raw) - len(found)
    if patterns is not None:
        keep = set(patterns)
        found = [p for p in found if p.name in keep]
    if kinds is not None:
        keep_kinds = set(kinds)
        found = [p for p in found if p.kind in keep_kinds]
    idx = bars.index
    dated = isinstance(idx, pd.DatetimeIndex)
    setups = evaluate_setups(
        found,
        h,
        lo,
        c,
        idx if dated and frames else None,  # spans for the magnifier only
        expire_after,
        tick=tick,
        last_bar_closed=last_bar_closed,
        open=o,
        timeframe=tf,
        lower=frames if dated else None,
        intrabar=intrabar,
        gap_fills=gap_fills,
    )
    last_closed = n - 1 if last_bar_closed else n - 2
    times = idx.to_pydatetime() if isinstance(idx, pd.DatetimeIndex) else None
    trades = tuple(
        _trade(s, c, times, last_closed=last_closed, max_hold_bars=max_hold_bars)
        for s in setups
        if s.triggered_index is not None
    )
    higher = _higher_timeframes(timeframe) if tfc_timeframes is None else tuple(tfc_timeframes)
    if higher and times is not None and trades:
        trades = tfc_at_entry(trades, bars, higher, tick=tick)
    expired = sum(1 for s in setups if s.status is SetupStatus.EXPIRED)
    pending = sum(1 for s in setups if s.status is SetupStatus.PENDING)
    method = replace(method, settlement_counts=settlement_counts(trades), merged_actionable=merged)
    return BacktestResult(trades, len(found), len(trades), expired, pending, method)


def _higher_timeframes(timeframe: str | None) -> tuple[str, ...]:
    if timeframe is None:
        return ()
    return HIGHER_TIMEFRAMES.get(normalize_timeframe(timeframe), ())


def tfc_at_entry(
    trades: Sequence[BacktestTrade],
    bars: pd.DataFrame,
    higher_tfs: Sequence[str],
    *,
    tick: float = 0.01,
    tz: str = MARKET_TZ_NAME,
) -> tuple[BacktestTrade, ...]:
    """Each trade with its timeframe continuity at entry, without look-ahead.

    For every higher timeframe the open of the candle containing the trigger bar comes
    from ``continuity_history`` (the first lower-bar open of that period, so it is known
    at the trigger bar); its colour is sign(fill − open) at tick precision, a doji
    counts 0. The score is in the trade's direction, so ``tfc_aligned`` means every
    higher timeframe's candle agrees with the trade. A trigger inside the first period
    of the data gets None: that candle's true open is before the data starts.
    """
    tfs = tuple(higher_tfs)
    if not tfs or not trades:
        return tuple(trades)
    idx = bars.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise TypeError("TFC at entry needs bars with a DatetimeIndex")
    hist = continuity_history(bars, tfs, tz=tz, tick=tick)
    opens = {tf: hist[f"open_{tf}"].to_numpy(dtype=float) for tf in tfs}
    keys = {tf: period_keys(idx, tf, tz) for tf in tfs}
    first_period = {tf: keys[tf][0] for tf in tfs}
    label = ",".join(tfs)
    out = []
    for t in trades:
        i = t.entry_index
        if any(keys[tf][i] == first_period[tf] for tf in tfs):
            out.append(replace(t, tfc_score=None, tfc_aligned=None, tfc_timeframes=label))
            continue
        sgn = 1 if t.direction == "long" else -1
        fill_t = round(t.entry_price / tick)
        score = sum(sgn * int(np.sign(fill_t - round(opens[tf][i] / tick))) for tf in tfs)
        out.append(replace(t, tfc_score=score, tfc_aligned=score == len(tfs), tfc_timeframes=label))
    return tuple(out)


# ------------------------------------------------------------------ named strategies


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A named way to trade the STRAT patterns, selectable on the Strategy tab.

    ``kinds`` keeps only those pattern kinds (None = all); ``max_hold_bars`` adds a time
    stop; ``tfc_aligned_only`` keeps trades whose every higher timeframe agreed at entry;
    ``option`` turns each trade into a modelled long call or put (R on the premium);
    ``intrabar`` is the rule for bars whose order stays unknown.
    """

    id: str
    label: str
    description: str
    kinds: frozenset[str] | None = None
    max_hold_bars: int | None = None
    tfc_aligned_only: bool = False
    option: OptionSpec | None = None
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE

    @property
    def is_option(self) -> bool:
        return self.option is not None


_OPTION_MODEL = OptionSpec()
MODEL_NOTE = (
    f"Black-Scholes at {_OPTION_MODEL.vol_window}-bar realised vol × "
    f"{1 + _OPTION_MODEL.iv_premium:.2f}, DTE drawn from the timeframe's window, "
    f"{_OPTION_MODEL.costs.describe()}; no historical option quotes"
)
STRATEGIES: tuple[StrategySpec, ...] = (
    StrategySpec(
        "all",
        "All patterns, exit at T1 or stop",
        "Every STRAT pattern on the underlying; exit at T1 or the stop. R on the stock risk.",
    ),
    StrategySpec(
        "reversals",
        "Reversals only (2-1-2, 3-1-2, 2-2, 3-2-2, RevStrat, 3-2)",
        "Reversal patterns only; exit at T1 or the stop.",
        kinds=frozenset({"reversal"}),
    ),
    StrategySpec(
        "continuations",
        "Continuations only (2-1-2, 2-2 continuations)",
        "Continuation patterns only; exit at T1 or the stop.",
        kinds=frozenset({"continuation"}),
    ),
    StrategySpec(
        "time5",
        "T1 or stop, with a 5-bar time stop",
        "Every pattern; exit at T1, the stop, or the close 5 bars after the trigger.",
        max_hold_bars=5,
    ),
    StrategySpec(
        "tfc",
        "TFC-aligned only",
        "Only trades whose every higher timeframe's candle agreed with the direction at entry.",
        tfc_aligned_only=True,
    ),
    StrategySpec(
        "conservative",
        "All patterns, unknown same-bar order scored as the stop",
        "Every pattern; a bar whose order the bars cannot settle counts as the stop "
        "(the conservative rule) instead of the OHLC path rule.",
        intrabar="conservative",
    ),
    StrategySpec(
        "opt50",
        "Options: buy ~0.50Δ at the trigger (modelled)",
        f"Buy the ~0.50Δ call/put at the trigger, DTE from the timeframe's window; exit with "
        f"the trade or before expiry. R = option P&L after costs / cash paid. Modelled: "
        f"{MODEL_NOTE}.",
        option=OptionSpec(target_delta=0.50),
    ),
    StrategySpec(
        "opt30",
        "Options: buy ~0.30Δ at the trigger (modelled)",
        f"Buy the ~0.30Δ call/put at the trigger, DTE from the timeframe's window; exit with "
        f"the trade or before expiry. R = option P&L after costs / cash paid. Modelled: "
        f"{MODEL_NOTE}.",
        option=OptionSpec(target_delta=0.30),
    ),
)
DEFAULT_STRATEGY = "all"
_BY_ID = {s.id: s for s in STRATEGIES}


def strategy_by_id(strategy_id: str | None) -> StrategySpec:
    """The named strategy; unknown or missing ids fall back to the default."""
    return _BY_ID.get(strategy_id or DEFAULT_STRATEGY, _BY_ID[DEFAULT_STRATEGY])


def _as_option_trade(
    t: BacktestTrade,
    closes: np.ndarray,
    times: pd.DatetimeIndex,
    spec: OptionSpec,
    periods: float,
) -> BacktestTrade | None:
    leg = price_option_leg(
        direction=t.direction,
        entry_index=t.entry_index,
        entry_price=t.entry_price,
        exit_index=t.exit_index,
        exit_price=t.exit_price,
        closes=closes,
        times=times,
        timeframe=t.timeframe,
        spec=spec,
        periods=periods,
        trigger_price=t.trigger_price,
        key=f"{t.symbol}|{t.entry_time}",
    )
    if leg is None:
        return None
    expiry_first = leg.expired_first
    note = ("option exited at the last bar before expiry",) if expiry_first else ()
    return replace(
        t,
        instrument="option",
        underlying_r=t.r_multiple,
        r_multiple=leg.r_multiple,
        outcome="expiry" if expiry_first else ("open" if leg.r_multiple is None else t.outcome),
        exit_index=leg.exit_index if leg.exit_index is not None else t.exit_index,
        exit_time=leg.exit_time if leg.exit_index is not None else t.exit_time,
        exit_price=leg.exit_underlying if leg.exit_index is not None else t.exit_price,
        bars_held=None if leg.exit_index is None else leg.exit_index - t.entry_index,
        option_right=leg.right,
        strike=leg.strike,
        dte_at_entry=leg.dte_at_entry,
        delta_at_entry=leg.delta_at_entry,
        volatility=leg.volatility,
        premium_entry=leg.premium_entry,
        premium_exit=leg.premium_exit,
        realised_vol=leg.realised_vol,
        option_cost_r=leg.cost_r,
        notes=t.notes + note,
    )


def run_strategy(
    bars: pd.DataFrame,
    spec: StrategySpec,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    lower_bars: Mapping[str, pd.DataFrame | LowerBars] | None = None,
    **backtest_kwargs: Any,
) -> BacktestResult:
    """``backtest_patterns`` under a named strategy: its pattern kinds, time stop and
    same-bar rule, then its TFC filter, then (option variants) each trade priced as a
    long option. ``lower_bars`` feed the bar magnifier (see ``backtest_patterns``).

    Option trades that cannot be priced (too little history for the volatility, no DTE
    rule for the timeframe) are left out; ``triggered`` counts the trades kept.
    """
    backtest_kwargs.setdefault("intrabar", spec.intrabar)
    res = backtest_patterns(
        bars,
        symbol=symbol,
        timeframe=timeframe,
        kinds=spec.kinds,
        max_hold_bars=spec.max_hold_bars,
        lower_bars=lower_bars,
        **backtest_kwargs,
    )
    trades: tuple[BacktestTrade, ...] = res.trades
    if spec.tfc_aligned_only:
        trades = tuple(t for t in trades if t.tfc_aligned)
    if spec.option is not None and trades:
        idx = bars.index
        if not isinstance(idx, pd.DatetimeIndex):
            raise TypeError("option strategies need bars with a DatetimeIndex")
        closes = bars["close"].to_numpy(dtype=float)
        ppy = periods_per_year(timeframe, idx)
        priced = (_as_option_trade(t, closes, idx, spec.option, ppy) for t in trades)
        trades = tuple(t for t in priced if t is not None)
    method = replace(res.method, settlement_counts=settlement_counts(trades), option=spec.option)
    return replace(res, trades=trades, triggered=len(trades), method=method)
