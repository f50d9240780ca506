"""Intrabar settlement: in what order did one bar reach a setup's entry, stop and target?

An OHLC bar does not say whether its high or its low came first. Two questions depend
on it, and scoring them always as the stop (the old "conservative" rule) biases every
backtest towards losses:

- the **trigger bar**: a position exists only from the moment price crosses the entry,
  so a low under the stop *before* that moment stops nothing;
- a bar that reaches **both T1 and the stop**: whichever came first decides the trade.

This module is the one place that settles those questions, for the backtest
(``analytics.strategy``) and the live board's in-force logic (``strat.setups``) alike.
It works the way the better backtesters do:

1. **Exact.** Many bars decide the matter on their own: a trigger bar whose low stays
   above the stop, a bar that reaches only one level, a bar that opens through a level,
   a trigger bar that *closes* under the stop (whatever came first, price was under the
   stop after the entry).
2. **Magnified** (TradingView's "bar magnifier"). An ambiguous bar is replayed on the
   next lower timeframe that has bars inside it (1Month → 1Week → 1Day → 1Hour →
   30Min → 15Min → 5Min → 1Min), and any lower bar that is itself ambiguous is replayed
   one level further down, until the order is known or no lower data remains. A lower
   timeframe is used only when its bars nest inside the bar (a week that straddles a
   month end does not) and stay inside its range (a feed with extended hours may not).
3. **Path rule** (TradingView's broker emulator). Without lower bars: if the open is
   nearer the high, price went open → high → low → close, else open → low → high →
   close (an open exactly midway counts as nearer the low). The trade is walked along
   that path, so it enters only where the path crosses the entry.
4. **Conservative** (an option, not the default): an ambiguous bar is scored as the
   stop, and the trade is marked ``ambiguous``.

Prices are whole ticks. A short is the mirror of a long: every price is negated
("signed ticks"), so one set of rules serves both directions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.conventions import NEW_YORK
from dashboard.strat.bars import to_ticks
from dashboard.strat.timeframes import INTRADAY_MINUTES, bar_close_time

__all__ = [
    "DEFAULT_INTRABAR_RULE",
    "INTRABAR_RULES",
    "MAGNIFIER_LADDER",
    "SETTLEMENT_ORDER",
    "BarSettlement",
    "IntrabarRule",
    "LowerBars",
    "Phase",
    "Settlement",
    "SignedLevels",
    "bar_end_ns",
    "lower_bars",
    "lower_bars_from_ticks",
    "magnifier_for",
    "ns_to_datetime",
    "path_rule_vertices",
    "settle_bar",
    "settle_by_range",
    "utc_ns",
    "weakest",
]


class Settlement(enum.StrEnum):
    """How a trade's intrabar order was known, strongest first."""

    EXACT = "exact"  # the bars' own OHLC decide it
    MAGNIFIED = "magnified"  # lower-timeframe bars decided it
    PATH_RULE = "path rule"  # the OHLC path rule decided it
    AMBIGUOUS = "ambiguous"  # order unknown; scored stop-first (conservative option)


SETTLEMENT_ORDER: Final[tuple[Settlement, ...]] = tuple(Settlement)

IntrabarRule = Literal["path", "conservative"]
INTRABAR_RULES: Final[Mapping[str, str]] = {
    "path": (
        "OHLC path rule (TradingView's broker emulator): open nearer the high → "
        "open, high, low, close; otherwise open, low, high, close"
    ),
    "conservative": "conservative: a bar whose order is unknown is scored as the stop",
}
DEFAULT_INTRABAR_RULE: Final[IntrabarRule] = "path"

# Coarse → fine. The magnifier replays a bar on the first finer timeframe that has data.
MAGNIFIER_LADDER: Final[tuple[str, ...]] = (
    "1Month",
    "1Week",
    "1Day",
    "1Hour",
    "30Min",
    "15Min",
    "5Min",
    "1Min",
)
_NOMINAL_NS: Final[Mapping[str, int]] = {
    **{tf: m * 60_000_000_000 for tf, m in INTRADAY_MINUTES.items()},
    "1Day": 86_400_000_000_000,
    "1Week": 7 * 86_400_000_000_000,
    "1Month": 31 * 86_400_000_000_000,
}


def weakest(a: Settlement, b: Settlement) -> Settlement:
    """The less certain of two settlements (a trade is as certain as its weakest bar)."""
    return a if SETTLEMENT_ORDER.index(a) >= SETTLEMENT_ORDER.index(b) else b


class Phase(enum.Enum):
    WAITING = "waiting"  # entry not yet crossed
    IN = "in"  # position open
    TARGET = "target"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class SignedLevels:
    """Entry, stop and T1 in signed ticks (a short's prices negated): stop < entry < T1."""

    entry: int
    stop: int
    target: int | None


@dataclass(frozen=True, slots=True)
class BarSettlement:
    """What one bar did to a setup. ``fill``/``exit`` are signed ticks, set only when the
    entry or the exit happened in this bar."""

    phase: Phase
    fill: int | None
    exit: int | None
    settlement: Settlement
    notes: tuple[str, ...] = ()
    magnified_on: tuple[str, ...] = ()  # lower timeframes replayed, coarse → fine


@dataclass(frozen=True, slots=True)
class LowerBars:
    """One lower timeframe's bars for the magnifier: start times (ns since the epoch,
    UTC) and prices in ticks, oldest first."""

    timeframe: str
    start: NDArray[np.int64]
    open: NDArray[np.int64]
    high: NDArray[np.int64]
    low: NDArray[np.int64]
    close: NDArray[np.int64]
    # bar → its end in ns, found once: replays of several setups ask for the same bars
    ends: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def opens_session(self, j: int) -> bool:
        """Whether bar ``j`` opens a new New York session (its open can gap); a bar of a
        day or longer always does, an intraday bar only as the first of its date."""
        if self.timeframe not in INTRADAY_MINUTES or j == 0:
            return True
        return _ny_date(int(self.start[j])) != _ny_date(int(self.start[j - 1]))

    def end(self, j: int) -> int:
        end = self.ends.get(j)
        if end is None:
            nxt = int(self.start[j + 1]) if j + 1 < self.start.size else None
            end = self.ends[j] = bar_end_ns(self.timeframe, int(self.start[j]), nxt)
        return end


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_ONE_US: Final = timedelta(microseconds=1)
_NS_PER_UNIT: Final[Mapping[str, int]] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def ns_to_datetime(ns: int, tz: tzinfo | None) -> datetime:
    """``pd.Timestamp(ns, tz=UTC).tz_convert(tz).to_pydatetime()`` (naive when ``tz`` is
    None) for whole microseconds, without building a pandas object per stamp; sub-µs
    stamps and zones other than UTC take pandas' path, so the result is the same."""
    if ns % 1000 == 0:
        if tz is None:
            return _NAIVE_EPOCH + timedelta(microseconds=ns // 1000)
        if tz is UTC:
            return _EPOCH + timedelta(microseconds=ns // 1000)
    stamp = pd.Timestamp(ns, tz="UTC")
    return (stamp.tz_convert(tz) if tz is not None else stamp.tz_localize(None)).to_pydatetime()


def _ny_date(ns: int) -> date:
    """The New York date of a UTC stamp in ns."""
    return (_EPOCH + timedelta(microseconds=ns // 1000)).astimezone(NEW_YORK).date()


def _datetime_ns(moment: datetime) -> int:
    """A tz-aware datetime as ns since the epoch (exact: datetimes hold whole µs)."""
    return (moment - _EPOCH) // _ONE_US * 1000


def utc_ns(index: Sequence[object] | pd.Index) -> NDArray[np.int64]:
    """Timestamps as ns since the epoch (naive ones taken as UTC), whatever the index's
    resolution (pandas may hold µs)."""
    if isinstance(index, pd.DatetimeIndex) and index.unit in _NS_PER_UNIT:
        # asi8 counts the index's unit since the epoch: UTC when tz-aware, and the
        # wall clock (taken as UTC) when naive, as tz_localize("UTC") would.
        return np.asarray(index.asi8, dtype=np.int64) * _NS_PER_UNIT[index.unit]
    idx = pd.DatetimeIndex(pd.Index(index))
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)


def lower_bars_from_ticks(
    timeframe: str,
    index: pd.Index | NDArray[np.int64],
    open_t: NDArray[np.int64],
    high_t: NDArray[np.int64],
    low_t: NDArray[np.int64],
    close_t: NDArray[np.int64],
) -> LowerBars:
    """``LowerBars`` from prices already in ticks (the scanner rounds once); ``index``
    is the bars' index or their starts already in UTC ns (``utc_ns``)."""
    start = index if isinstance(index, np.ndarray) else utc_ns(index)
    return LowerBars(timeframe, start, open_t, high_t, low_t, close_t)


def lower_bars(frame: pd.DataFrame, timeframe: str, tick: float = 0.01) -> LowerBars:
    """A bars frame (open/high/low/close, DatetimeIndex) as magnifier input."""
    o, h, lo, c = (to_ticks(frame[col].to_numpy(dtype=float), tick) for col in _OHLC)
    return lower_bars_from_ticks(timeframe, frame.index, o, h, lo, c)


_OHLC: Final = ("open", "high", "low", "close")


def magnifier_for(timeframe: str | None, frames: Mapping[str, LowerBars]) -> tuple[LowerBars, ...]:
    """The finer timeframes of ``frames`` in ladder order, for bars of ``timeframe``."""
    if timeframe not in MAGNIFIER_LADDER:
        return ()
    finer = MAGNIFIER_LADDER[MAGNIFIER_LADDER.index(timeframe) + 1 :]
    return tuple(frames[tf] for tf in finer if tf in frames and frames[tf].start.size)


def bar_end_ns(timeframe: str | None, start_ns: int, next_start_ns: int | None) -> int:
    """Exclusive end of a bar: its session close (``strat.timeframes``), never past the
    next bar's start. Bars not stamped the Alpaca way (midnight New York for days and
    longer) fall back to the next bar's start."""
    close_ns: int | None = None
    if timeframe is not None:
        minutes = INTRADAY_MINUTES.get(timeframe)
        start_us = int(start_ns) // 1000  # truncated, as pandas' to_pydatetime would
        if minutes is not None:  # bar_close_time's fixed length, without datetimes
            close_ns = (start_us + minutes * 60_000_000) * 1000
        else:
            try:
                start = _EPOCH + timedelta(microseconds=start_us)
                close_ns = _datetime_ns(bar_close_time(timeframe, start))
            except ValueError:
                close_ns = None
    ends = [x for x in (close_ns, next_start_ns) if x is not None and x > start_ns]
    if ends:
        return min(ends)
    return start_ns + _NOMINAL_NS.get(timeframe or "", 86_400_000_000_000)


def path_rule_vertices(o: int, h: int, lo: int, c: int) -> tuple[int, int, int, int]:
    """The broker emulator's assumed path in price space: open nearer the high → O, H,
    L, C; otherwise (nearer the low, or midway) O, L, H, C."""
    return (o, h, lo, c) if h - o < o - lo else (o, lo, h, c)


# ------------------------------------------------------------------ one bar


def _signed_bar(bar: tuple[int, int, int, int], sgn: int) -> tuple[int, int, int, int]:
    """(open, favourable extreme, adverse extreme, close) in signed ticks."""
    o, h, lo, c = bar
    return (o, h, lo, c) if sgn > 0 else (-o, -lo, -h, -c)


_Outcome = tuple[Phase, int | None, int | None, tuple[str, ...]]  # phase, fill, exit, notes


def _gap_entry(o: int, lv: SignedLevels, gap_fills: bool) -> tuple[int, tuple[str, ...]]:
    if gap_fills and o > lv.entry:
        return o, ("opened through the entry; filled at the open",)
    return lv.entry, ()


def _open_through(o: int, lv: SignedLevels, gap_fills: bool, filled_here: bool) -> _Outcome | None:
    """A position open at the bar's open, with the open already beyond a level."""
    if o <= lv.stop:
        px, note = (
            (o, ("opened through the stop; exited at the open",)) if gap_fills else (lv.stop, ())
        )
        return Phase.STOP, None, px, note
    if lv.target is not None and o >= lv.target:
        if not gap_fills:
            return Phase.TARGET, None, lv.target, ()
        why = (
            "filled beyond T1; exited at the fill"
            if filled_here
            else "opened through T1; exited at the open"
        )
        return Phase.TARGET, None, o, (why,)
    return None


def _exact(
    bar: tuple[int, int, int, int], lv: SignedLevels, phase: Phase, gap_fills: bool, has_open: bool
) -> _Outcome | None:
    """The bar's outcome when its OHLC alone decides it; None when the order matters."""
    o, fav, adv, c = bar
    fill: int | None = None
    notes: tuple[str, ...] = ()
    hits_t = lv.target is not None and fav >= lv.target
    hits_s = adv <= lv.stop
    if phase is Phase.WAITING:
        if fav < lv.entry:
            return Phase.WAITING, None, None, ()
        if not (has_open and o >= lv.entry):
            # Entered mid-bar at the entry: T1 lies beyond it, so T1 came after the entry.
            if not hits_s:
                if hits_t:
                    return Phase.TARGET, lv.entry, lv.target, ()
                return Phase.IN, lv.entry, None, ()
            if c <= lv.stop and not hits_t:  # under the stop at the close, after the entry
                return Phase.STOP, lv.entry, lv.stop, ()
            return None
        fill, notes = _gap_entry(o, lv, gap_fills)
    if has_open:
        through = _open_through(o, lv, gap_fills, fill is not None)
        if through is not None:
            return through[0], fill, through[2], notes + through[3]
    if hits_t and hits_s:
        return None
    if hits_s:
        return Phase.STOP, fill, lv.stop, notes
    if hits_t:
        return Phase.TARGET, fill, lv.target, notes
    return Phase.IN, fill, None, notes


def _walk(
    bar: tuple[int, int, int, int], sgn: int, lv: SignedLevels, phase: Phase, gap_fills: bool
) -> _Outcome:
    """Walk the path rule's path (piecewise linear through its four points)."""
    o, h, lo, c = bar  # price space: the path rule is about the real high and low
    path = [sgn * v for v in path_rule_vertices(o, h, lo, c)]
    fill: int | None = None
    notes: tuple[str, ...] = ()
    start = path[0]
    if phase is Phase.WAITING and start >= lv.entry:
        phase = Phase.IN
        fill, notes = _gap_entry(start, lv, gap_fills)
    if phase is Phase.IN:
        through = _open_through(start, lv, gap_fills, fill is not None)
        if through is not None:
            return through[0], fill, through[2], notes + through[3]
    prev = start
    for v in path[1:]:
        if v > prev:
            if phase is Phase.WAITING and v >= lv.entry:
                phase, fill = Phase.IN, lv.entry
            if phase is Phase.IN and lv.target is not None and v >= lv.target:
                return Phase.TARGET, fill, lv.target, notes
        elif v < prev and phase is Phase.IN and v <= lv.stop:
            return Phase.STOP, fill, lv.stop, notes
        prev = v
    return phase, fill, None, notes


def _conservative(
    bar: tuple[int, int, int, int], lv: SignedLevels, phase: Phase, gap_fills: bool, has_open: bool
) -> _Outcome:
    fill: int | None = None
    notes: tuple[str, ...] = ()
    if phase is Phase.WAITING:
        o = bar[0]
        fill, notes = _gap_entry(o, lv, gap_fills) if has_open else (lv.entry, ())
        why = "triggered and stopped in the same bar; order unknown, assumed stopped"
        if lv.target is not None and bar[1] >= lv.target:
            why = "target and stop in the same bar; assumed stopped (conservative)"
    else:
        why = "target and stop in the same bar; assumed stopped (conservative)"
    return Phase.STOP, fill, lv.stop, (*notes, why)


def _possible(bar: tuple[int, int, int, int], lv: SignedLevels, phase: Phase) -> frozenset[Phase]:
    """Outcomes an ambiguous bar allows (to reject lower bars that contradict it)."""
    hits_t = lv.target is not None and bar[1] >= lv.target
    if phase is Phase.IN or hits_t:
        return frozenset({Phase.TARGET, Phase.STOP})
    return frozenset({Phase.IN, Phase.STOP})


def _what(bar: tuple[int, int, int, int], lv: SignedLevels, phase: Phase) -> str:
    if phase is Phase.WAITING:
        both = lv.target is not None and bar[1] >= lv.target
        return "trigger, T1 and stop" if both else "trigger and stop"
    return "T1 and stop"


def _nested(
    lb: LowerBars, span: tuple[int, int], bar: tuple[int, int, int, int]
) -> tuple[int, int] | None:
    """Index range of ``lb``'s bars inside ``span`` when they nest in it and stay inside
    the bar's range; None otherwise."""
    start, end = span
    i0 = int(np.searchsorted(lb.start, start, side="left"))
    i1 = int(np.searchsorted(lb.start, end, side="left"))
    if i1 <= i0:
        return None
    if i0 > 0 and lb.end(i0 - 1) > start:  # a lower bar straddles the start
        return None
    if lb.end(i1 - 1) > end:  # the last one runs past the end
        return None
    _o, h, lo, _c = bar
    if int(lb.high[i0:i1].max()) > h or int(lb.low[i0:i1].min()) < lo:
        return None  # the feeds disagree (e.g. extended hours in the lower bars)
    return i0, i1


def _replay(
    lb: LowerBars,
    i0: int,
    i1: int,
    sgn: int,
    lv: SignedLevels,
    phase: Phase,
    finer: tuple[LowerBars, ...],
    rule: IntrabarRule,
    gap_fills: bool,
) -> tuple[Phase, int | None, int | None, Settlement, list[str]]:
    """Run the setup through lower bars ``i0..i1-1`` of ``lb``, magnifying further down."""
    fill: int | None = None
    exit_: int | None = None
    worst = Settlement.EXACT
    used: list[str] = [lb.timeframe]
    for j in range(i0, i1):
        sub = (int(lb.open[j]), int(lb.high[j]), int(lb.low[j]), int(lb.close[j]))
        # Inside one session trading is continuous: the step from one intraday bar's
        # close to the next one's open is not a gap, so a stop order fills at its level.
        gap = gap_fills and (j == i0 or lb.opens_session(j))
        r = settle_bar(
            sub,
            sgn,
            lv,
            phase,
            span=(int(lb.start[j]), lb.end(j)),
            magnifier=finer,
            rule=rule,
            gap_fills=gap,
        )
        worst = weakest(worst, r.settlement)
        used += r.magnified_on
        if r.fill is not None and fill is None:
            fill = r.fill
        phase = r.phase
        if phase in (Phase.TARGET, Phase.STOP):
            exit_ = r.exit
            break
    return phase, fill, exit_, worst, used


def settle_bar(
    bar: tuple[int, int, int, int],
    sgn: int,
    levels: SignedLevels,
    phase: Phase,
    *,
    span: tuple[int, int] | Callable[[], tuple[int, int]] | None = None,
    magnifier: Sequence[LowerBars] = (),
    rule: IntrabarRule = DEFAULT_INTRABAR_RULE,
    gap_fills: bool = False,
    has_open: bool = True,
) -> BarSettlement:
    """What the bar ``(open, high, low, close)`` (price-space ticks) did to a setup that
    was ``phase`` at its open; ``sgn`` is +1 for a long, −1 for a short.

    ``span`` is the bar's [start, end) in ns (or a function that gives it, called only
    when the bar needs magnifying), needed only to magnify it with the lower
    timeframes in ``magnifier`` (coarse → fine). ``gap_fills``: a bar that opens through
    a level fills at its open instead of at the level. ``has_open=False`` when the feed
    has no open: the path rule cannot apply, so an ambiguous bar is conservative.
    """
    sb = _signed_bar(bar, sgn)
    exact = _exact(sb, levels, phase, gap_fills, has_open)
    if exact is not None:
        return BarSettlement(exact[0], exact[1], exact[2], Settlement.EXACT, exact[3])
    what = _what(sb, levels, phase)
    if span is not None and magnifier:
        if callable(span):
            span = span()
        for k, lb in enumerate(magnifier):
            rng = _nested(lb, span, bar)
            if rng is None:
                continue
            ph, fill, exit_, worst, used = _replay(
                lb, *rng, sgn, levels, phase, tuple(magnifier[k + 1 :]), rule, gap_fills
            )
            if ph not in _possible(sb, levels, phase):
                continue  # the lower bars do not reproduce this bar; try finer ones
            tfs = tuple(dict.fromkeys(used))
            how = " then ".join(tfs)
            if worst in (Settlement.EXACT, Settlement.MAGNIFIED):
                note = f"{what} in one bar; settled on {how} bars"
                return BarSettlement(ph, fill, exit_, Settlement.MAGNIFIED, (note,), tfs)
            tail = (
                "the OHLC path rule"
                if worst is Settlement.PATH_RULE
                else "scored as the stop (order still unknown)"
            )
            note = f"{what} in one bar; magnified on {how} bars, then {tail}"
            return BarSettlement(ph, fill, exit_, worst, (note,), tfs)
    if rule == "path" and has_open:
        ph, fill, exit_, notes = _walk(bar, sgn, levels, phase, gap_fills)
        o, h, lo, _c = bar
        order = "O→H→L→C" if h - o < o - lo else "O→L→H→C"
        note = f"{what} in one bar; settled by the OHLC path rule ({order})"
        return BarSettlement(ph, fill, exit_, Settlement.PATH_RULE, (*notes, note))
    ph, fill, exit_, notes = _conservative(sb, levels, phase, gap_fills, has_open)
    return BarSettlement(ph, fill, exit_, Settlement.AMBIGUOUS, notes)


def settle_by_range(
    bar: tuple[int, int, int], sgn: int, levels: SignedLevels, phase: Phase
) -> BarSettlement | None:
    """``settle_bar`` for a bar ``(open, high, low)`` whose close is not given (a live
    bar's close moves on every tick) with ``gap_fills=False``: its settlement when the
    open, high and low decide it exactly, whatever the close, the lower bars and the
    rule; None when they do not. A scanner can keep the answer while the live bar's
    open, high and low stay put."""
    o, h, lo = bar
    sb = _signed_bar((o, h, lo, o), sgn)  # the close is a placeholder; never read below
    entered_mid_bar = phase is Phase.WAITING and sb[0] < levels.entry <= sb[1]
    if entered_mid_bar and sb[2] <= levels.stop:  # and the stop traded: the close decides
        return None
    exact = _exact(sb, levels, phase, False, True)
    if exact is None:
        return None
    return BarSettlement(exact[0], exact[1], exact[2], Settlement.EXACT, exact[3])
