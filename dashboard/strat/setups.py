"""Setup lifecycle: what happened to each pattern on the bars after its setup bar.

pending → triggered → target_hit / stopped, or pending → expired. A trigger is intrabar
(price trades through the entry, strat.md §1.2); ``in_force_close_index`` separately
records the first bar that *closed* beyond the entry. When one bar reaches the entry and
the stop, or T1 and the stop, the order inside the bar is settled by ``strat.settlement``
(exact from the OHLC, magnified on lower-timeframe bars, or the OHLC path rule; the
conservative stop-first rule is an option), so an in-force breakout is never stopped by
the part of its trigger bar before the entry. Each setup records how it was settled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dashboard.strat.bars import from_ticks, tick_divisor, to_ticks
from dashboard.strat.settlement import (
    DEFAULT_INTRABAR_RULE,
    BarSettlement,
    IntrabarRule,
    LowerBars,
    Phase,
    Settlement,
    SignedLevels,
    bar_end_ns,
    lower_bars,
    magnifier_for,
    ns_to_datetime,
    settle_bar,
    settle_by_range,
    utc_ns,
    weakest,
)
from dashboard.strat.signals import Pattern, Setup, SetupStatus

# The live rule: an untriggered setup expires this many bars after its setup bar (the
# board, the backtest default and the arming window of an armed entry all use it).
SETUP_EXPIRE_BARS = 3
_FIRST_WINDOW = 64  # bars scanned before the window doubles; most setups resolve fast


def _first_hit(flags: NDArray[np.bool_]) -> int:
    """Index of the first True, or -1."""
    j = int(flags.argmax())  # argmax of bools stops at the first True
    return j if flags.size and flags[j] else -1


BarTest = Callable[[int, int], NDArray[np.bool_]]


def _at_least(values: NDArray[Any], level: float) -> BarTest:
    """Flags for bars a..b-1 whose value reaches ``level`` from below."""
    return lambda a, b: values[a:b] >= level


def _at_most(values: NDArray[Any], level: float) -> BarTest:
    return lambda a, b: values[a:b] <= level


def _either(first: BarTest, second: BarTest) -> BarTest:
    return lambda a, b: first(a, b) | second(a, b)


_PY_SPAN = 8  # bars checked one by one in Python before the numpy windows take over


def _scan(start: int, stop: int, test: BarTest) -> int:
    """First bar in [start, stop) where ``test(a, b)`` (flags for bars a..b-1) is true.

    Searches in doubling windows so a long history costs little when the event is near.
    """
    a, size = start, _FIRST_WINDOW
    while a < stop:
        b = min(stop, a + size)
        j = _first_hit(test(a, b))
        if j >= 0:
            return a + j
        a, size = b, size * 2
    return -1


# The first ``_PY_SPAN`` bars (where a live setup usually resolves) are checked on Python
# ints, which costs less than a numpy pass; the rest goes to ``_scan``.


def _first_reaching(
    values: list[int], array: NDArray[np.int64], level: int, start: int, stop: int
) -> int:
    """First bar in [start, stop) whose value is at least ``level``, or -1."""
    end = min(stop, start + _PY_SPAN)
    for i in range(start, end):
        if values[i] >= level:
            return i
    return _scan(end, stop, _at_least(array, level)) if end < stop else -1


def _first_falling_to(
    values: list[int], array: NDArray[np.int64], level: int, start: int, stop: int
) -> int:
    """First bar in [start, stop) whose value is at most ``level``, or -1."""
    end = min(stop, start + _PY_SPAN)
    for i in range(start, end):
        if values[i] <= level:
            return i
    return _scan(end, stop, _at_most(array, level)) if end < stop else -1


def _first_exit(
    fav: tuple[list[int], NDArray[np.int64]],
    adv: tuple[list[int], NDArray[np.int64]],
    target: int,
    stop_level: int,
    start: int,
    stop: int,
) -> int:
    """First bar in [start, stop) reaching ``target`` (fav) or ``stop_level`` (adv)."""
    up, down = fav[0], adv[0]
    end = min(stop, start + _PY_SPAN)
    for i in range(start, end):
        if up[i] >= target or down[i] <= stop_level:
            return i
    if end >= stop:
        return -1
    return _scan(end, stop, _either(_at_least(fav[1], target), _at_most(adv[1], stop_level)))


def _span(tf: str | None, starts: NDArray[np.int64], i: int) -> tuple[int, int]:
    """Bar ``i``'s [start, end) in ns; asked only for a bar the magnifier replays."""
    nxt = int(starts[i + 1]) if i + 1 < starts.size else None
    return (int(starts[i]), bar_end_ns(tf, int(starts[i]), nxt))


TimeAt = Callable[[int], datetime | None]


def _time_reader(
    timestamps: Sequence[Any] | pd.Index | None, starts: NDArray[np.int64] | None
) -> TimeAt:
    """Bar ``i``'s time as a datetime (``pd.Timestamp(timestamps[i]).to_pydatetime()``);
    from the bars' UTC ns when known, without a pandas object per bar."""
    if timestamps is None:
        return lambda i: None
    if isinstance(timestamps, pd.DatetimeIndex):
        ns = starts if starts is not None else utc_ns(timestamps)
        tz = timestamps.tz
        return lambda i: ns_to_datetime(int(ns[i]), tz)
    return lambda i: pd.Timestamp(timestamps[i]).to_pydatetime()


Settle = Callable[[int, int, SignedLevels, Phase, str | None], BarSettlement]


def _settler(
    h: NDArray[np.int64],
    lo: NDArray[np.int64],
    c: NDArray[np.int64],
    open_t: NDArray[np.int64] | None,
    timestamps: Sequence[Any] | pd.Index | None,
    starts_ns: NDArray[np.int64] | None,
    lower: Mapping[str, LowerBars] | None,
    intrabar: IntrabarRule,
    gap_fills: bool,
) -> Settle:
    """``settle(i, sgn, levels, phase, timeframe)``: what bar ``i`` did to a setup
    (``settle_bar``), magnified on ``lower`` when its bars nest in bar ``i``."""
    has_open = open_t is not None
    o_arr = open_t if open_t is not None else c  # placeholder; never read without an open
    starts = None
    if lower and timestamps is not None:
        starts = starts_ns if starts_ns is not None else utc_ns(timestamps)
    magnifiers: dict[str | None, tuple[LowerBars, ...]] = {}

    def settle(i: int, sgn: int, lv: SignedLevels, phase: Phase, tf: str | None) -> BarSettlement:
        if tf not in magnifiers:
            magnifiers[tf] = magnifier_for(tf, lower or {})
        mag = magnifiers[tf] if starts is not None else ()
        span = partial(_span, tf, starts, i) if mag and starts is not None else None

        bar = (int(o_arr[i]), int(h[i]), int(lo[i]), int(c[i]))
        return settle_bar(
            bar,
            sgn,
            lv,
            phase,
            span=span,
            magnifier=mag,
            rule=intrabar,
            gap_fills=gap_fills,
            has_open=has_open,
        )

    return settle


def evaluate_setups(
    patterns: Iterable[Pattern],
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    timestamps: Sequence[Any] | pd.Index | None = None,
    expire_after: int | None = SETUP_EXPIRE_BARS,
    *,
    tick: float = 0.01,
    last_bar_closed: bool = True,
    open: ArrayLike | None = None,
    timeframe: str | None = None,
    lower: Mapping[str, pd.DataFrame | LowerBars] | None = None,
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE,
    gap_fills: bool = False,
) -> list[Setup]:
    """Walk the bars after each pattern's setup bar and report its state.

    - Triggered on the first bar whose high (long) reaches the entry, within
      ``expire_after`` bars of the setup; otherwise EXPIRED at setup + ``expire_after``
      (``None`` = never expires).
    - From the entry on, the first bar reaching T1 is TARGET_HIT and the first reaching
      the stop is STOPPED. A bar that reaches both, or a trigger bar that also reaches
      the stop, is settled by ``strat.settlement``: exactly when its OHLC decides it,
      else on the ``lower`` timeframes' bars (keyed by timeframe, needs ``timestamps``
      and the bars' ``timeframe``), else by ``intrabar`` ("path": the OHLC path rule,
      needs ``open``; "conservative": the stop). Without ``open`` an undecided bar is
      scored as the stop and marked ambiguous.
    - ``gap_fills``: a bar that opens through the entry fills at its open, one that opens
      through the stop or T1 exits at its open (the backtest's fills); otherwise fills
      and exits are at the levels.
    - ``last_bar_closed=False``: the final bar is still forming. It may trigger or hit
      levels (those are intrabar facts), but it cannot count as a close beyond the entry
      and does not use up a bar of the expiry window.
    """
    frames = {
        tf: f if isinstance(f, LowerBars) else lower_bars(f, tf, tick)
        for tf, f in (lower or {}).items()
    }
    return setups_from_ticks(
        patterns,
        to_ticks(high, tick),
        to_ticks(low, tick),
        to_ticks(close, tick),
        timestamps,
        expire_after,
        tick=tick,
        last_bar_closed=last_bar_closed,
        open_t=None if open is None else to_ticks(open, tick),
        timeframe=timeframe,
        lower=frames,
        intrabar=intrabar,
        gap_fills=gap_fills,
    )


def setups_from_ticks(
    patterns: Iterable[Pattern],
    h: NDArray[np.int64],
    lo: NDArray[np.int64],
    c: NDArray[np.int64],
    timestamps: Sequence[Any] | pd.Index | None = None,
    expire_after: int | None = SETUP_EXPIRE_BARS,
    *,
    tick: float = 0.01,
    last_bar_closed: bool = True,
    open_t: NDArray[np.int64] | None = None,
    timeframe: str | None = None,
    lower: Mapping[str, LowerBars] | None = None,
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE,
    gap_fills: bool = False,
    starts_ns: NDArray[np.int64] | None = None,
) -> list[Setup]:
    """``evaluate_setups`` on prices already in ticks (rounded once by the caller).
    ``starts_ns``: ``utc_ns(timestamps)`` when the caller already has it."""
    per_unit = 1.0 / tick
    div = tick_divisor(tick)

    def price_of(ticks: int) -> float:  # from_ticks, with the divisor found once
        return float(ticks) / div if div else from_ticks(ticks, tick)

    n = h.size
    last_closed = n - 1 if last_bar_closed else n - 2
    fav = {"long": h, "short": -lo}
    adv = {"long": lo, "short": -h}
    cls = {"long": c, "short": -c}
    lists: dict[str, list[int]] = {}

    def as_list(name: str, values: NDArray[np.int64]) -> list[int]:
        if name not in lists:
            lists[name] = values.tolist()
        return lists[name]

    settle = _settler(h, lo, c, open_t, timestamps, starts_ns, lower, intrabar, gap_fills)
    _time_at = _time_reader(timestamps, starts_ns)

    out: list[Setup] = []
    for p in patterns:
        sgn = 1 if p.direction == "long" else -1
        f, a_, cl = fav[p.direction], adv[p.direction], cls[p.direction]
        s = p.setup_index
        entry = sgn * round(p.entry.price * per_unit)  # same rounding as to_ticks
        stop = sgn * round(p.stop.price * per_unit)
        t1 = sgn * round(p.targets[0].price * per_unit) if p.targets else None
        magnitude = abs(p.targets[0].price - p.entry.price) / p.entry.price if p.targets else None

        fl = as_list("fav" + p.direction, f)
        window_end = n if expire_after is None else min(n, s + 1 + expire_after)
        trig = _first_reaching(fl, f, entry, s + 1, window_end)
        if trig < 0:
            expired = expire_after is not None and s + expire_after <= last_closed
            status = SetupStatus.EXPIRED if expired else SetupStatus.PENDING
            end = s + expire_after if expired and expire_after is not None else n - 1
            invalid = -1
            if not expired:  # pending: did its stop trade before the trigger?
                al = as_list("adv" + p.direction, a_)
                invalid = _first_falling_to(al, a_, stop, s + 1, n)
            out.append(
                Setup(
                    p,
                    status,
                    end,
                    magnitude_pct=magnitude,
                    setup_time=_time_at(s),
                    invalidated_index=invalid if invalid >= 0 else None,
                )
            )
            continue

        tf = timeframe if timeframe is not None else p.timeframe
        lv = SignedLevels(entry, stop, t1)
        first = settle(trig, sgn, lv, Phase.WAITING, tf)
        phase, fill, exit_t = first.phase, first.fill, first.exit
        how: Settlement = first.settlement
        notes: list[str] = list(first.notes)
        if phase is Phase.WAITING:  # cannot happen: the trigger bar reached the entry
            phase, fill = Phase.IN, entry
        resolved = trig if phase in (Phase.TARGET, Phase.STOP) else None
        nxt = trig + 1
        while phase is Phase.IN and nxt < n:
            al = as_list("adv" + p.direction, a_)
            if t1 is None:
                res = _first_falling_to(al, a_, stop, nxt, n)
            else:
                res = _first_exit((fl, f), (al, a_), t1, stop, nxt, n)
            if res < 0:
                break
            later = settle(res, sgn, lv, Phase.IN, tf)
            phase, exit_t = later.phase, later.exit
            how = weakest(how, later.settlement)
            notes += later.notes
            resolved = res if phase in (Phase.TARGET, Phase.STOP) else None
            nxt = res + 1
        status = {
            Phase.TARGET: SetupStatus.TARGET_HIT,
            Phase.STOP: SetupStatus.STOPPED,
        }.get(phase, SetupStatus.TRIGGERED)
        exit_price = None if exit_t is None or resolved is None else price_of(sgn * exit_t)
        close_end = min(resolved if resolved is not None else n - 1, last_closed)
        cll = as_list("close" + p.direction, cl)
        ifc = _first_reaching(cll, cl, entry, trig, close_end + 1)
        out.append(
            Setup(
                pattern=p,
                status=status,
                end_index=resolved if resolved is not None else n - 1,
                triggered_index=trig,
                triggered_at=_time_at(trig),
                in_force_close_index=ifc if ifc >= 0 else None,
                resolved_index=resolved,
                exit_price=exit_price,
                magnitude_pct=magnitude,
                notes=tuple(notes),
                setup_time=_time_at(s),
                fill_price=None if fill is None else price_of(sgn * fill),
                settlement=how,
                trigger_settlement=first.settlement,
            )
        )
    return out


_LIVE: Final = frozenset((SetupStatus.PENDING, SetupStatus.TRIGGERED))


def _with_end(setup: Setup, end: int, invalidated: int | None) -> Setup:
    """``replace(setup, end_index=end, invalidated_index=invalidated)`` by the
    constructor: a refresh copies hundreds of setups, and ``replace`` costs several
    times more (``test_setups`` pins the two equal)."""
    s = setup
    return Setup(
        s.pattern,
        s.status,
        end,
        s.triggered_index,
        s.triggered_at,
        s.in_force_close_index,
        s.resolved_index,
        s.exit_price,
        s.magnitude_pct,
        s.notes,
        s.setup_time,
        s.fill_price,
        s.settlement,
        s.trigger_settlement,
        invalidated,
    )


def _signed(
    setup: Setup, per_unit: float, high: int, low: int
) -> tuple[int, int, int, int, SignedLevels]:
    """The setup's direction sign, the bar's favourable and adverse extremes and the
    levels, all signed so that "long" compares hold for both directions."""
    p = setup.pattern
    if p.direction == "long":
        sgn, fav, adv = 1, high, low
    else:
        sgn, fav, adv = -1, -low, -high
    entry = sgn * round(p.entry.price * per_unit)  # as setups_from_ticks rounds them
    stop = sgn * round(p.stop.price * per_unit)
    t1 = sgn * round(p.targets[0].price * per_unit) if p.targets else None
    return sgn, fav, adv, entry, SignedLevels(entry, stop, t1)


def _carried(setup: Setup, last: int, fav: int, adv: int, lv: SignedLevels) -> Setup | None:
    """A live setup carried onto bar ``last`` that reaches none of its levels (its
    extremes are ``fav``/``adv``); None when the bar reaches the entry of a pending one,
    or the stop or T1 of one in force, which takes the bar's settlement."""
    if setup.status is SetupStatus.PENDING:
        if fav >= lv.entry:
            return None
        invalid = setup.invalidated_index
        if invalid is None and adv <= lv.stop:
            invalid = last
        return _with_end(setup, last, invalid)
    if adv > lv.stop and (lv.target is None or fav < lv.target):
        return _with_end(setup, last, setup.invalidated_index)
    return None


def _settled(
    setup: Setup,
    last: int,
    sgn: int,
    entry: int,
    outcome: BarSettlement,
    triggered_at: datetime | None,
    tick: float,
) -> Setup:
    """A live setup after bar ``last`` reached one of its levels, whose settlement is
    ``outcome``: a pending one triggered there (at ``triggered_at``), one in force
    settled or carried on."""
    if setup.status is SetupStatus.PENDING:
        phase, fill = outcome.phase, outcome.fill
        if phase is Phase.WAITING:  # cannot happen: the bar reached the entry
            phase, fill = Phase.IN, entry
        resolved = last if phase in (Phase.TARGET, Phase.STOP) else None
        return Setup(
            pattern=setup.pattern,
            status=_STATUS.get(phase, SetupStatus.TRIGGERED),
            end_index=last,
            triggered_index=last,
            triggered_at=triggered_at,
            resolved_index=resolved,
            exit_price=_price(outcome.exit, sgn, tick) if resolved is not None else None,
            magnitude_pct=setup.magnitude_pct,
            notes=outcome.notes,
            setup_time=setup.setup_time,
            fill_price=_price(fill, sgn, tick),
            settlement=outcome.settlement,
            trigger_settlement=outcome.settlement,
        )
    resolved = last if outcome.phase in (Phase.TARGET, Phase.STOP) else None
    return replace(
        setup,
        status=_STATUS.get(outcome.phase, SetupStatus.TRIGGERED),
        end_index=last,
        resolved_index=resolved,
        exit_price=_price(outcome.exit, sgn, tick) if resolved is not None else None,
        notes=(*setup.notes, *outcome.notes),
        settlement=weakest(setup.settlement, outcome.settlement),
    )


def extend_setups_by_range(
    setups: Iterable[Setup],
    bar: tuple[int, int, int],
    last: int,
    bar_time: datetime | None,
    *,
    tick: float = 0.01,
) -> tuple[Setup | None, ...]:
    """``extend_setups`` (with an open) for each setup that the new bar's open, high and
    low (``bar``, in ticks) settle exactly (``settlement.settle_by_range``), None for
    the others (their outcome needs the close, the lower bars or the rule). Nothing
    else is read, so a scanner may keep the result under those three numbers, the
    bar's index ``last`` and its start ``bar_time`` (a trigger's time), and redo only
    the Nones (``extend_setups`` treats each setup on its own)."""
    per_unit = 1.0 / tick
    _o, high, low = bar
    out: list[Setup | None] = []
    for setup in setups:
        if setup.status not in _LIVE:
            out.append(setup)
            continue
        sgn, fav, adv, entry, lv = _signed(setup, per_unit, high, low)
        carried = _carried(setup, last, fav, adv, lv)
        if carried is not None:
            out.append(carried)
            continue
        phase = Phase.WAITING if setup.status is SetupStatus.PENDING else Phase.IN
        outcome = settle_by_range(bar, sgn, lv, phase)
        out.append(
            None if outcome is None else _settled(setup, last, sgn, entry, outcome, bar_time, tick)
        )
    return tuple(out)


def extend_setups(
    setups: Iterable[Setup],
    h: NDArray[np.int64],
    lo: NDArray[np.int64],
    c: NDArray[np.int64],
    timestamps: pd.DatetimeIndex,
    *,
    tick: float = 0.01,
    open_t: NDArray[np.int64] | None = None,
    timeframe: str | None = None,
    lower: Mapping[str, LowerBars] | None = None,
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE,
    starts_ns: NDArray[np.int64] | None = None,
) -> list[Setup]:
    """``setups`` carried onto one more bar, still forming: the last of the arrays.

    ``setups`` are ``setups_from_ticks`` on the bars before it, evaluated as closed
    (``last_bar_closed=True``) with every bar's start (``timestamps``, ``starts_ns``).
    The result equals ``setups_from_ticks`` on all the bars with
    ``last_bar_closed=False`` and the same arguments (no ``gap_fills``), so a scanner
    can keep the closed bars' evaluation between refreshes and redo only the live bar:

    - a setup expired or resolved on the closed bars is unchanged: its walk ended
      before the new bar, and a forming bar does not count towards the expiry (a
      setup not yet expired on the closed bars has the new bar inside its window);
    - a pending one is triggered by the new bar when it reaches the entry, else it ends
      there (invalid from it when it reaches the stop);
    - one in force is settled by the new bar when it reaches the stop or T1, else it
      ends there. Its first close beyond the entry can only be a closed bar's.
    """
    per_unit = 1.0 / tick
    last = h.size - 1
    high, low = int(h[last]), int(lo[last])
    settle = _settler(h, lo, c, open_t, timestamps, starts_ns, lower, intrabar, False)
    time_at = _time_reader(timestamps, starts_ns)
    out: list[Setup] = []
    for setup in setups:
        if setup.status not in _LIVE:
            out.append(setup)
            continue
        sgn, fav, adv, entry, lv = _signed(setup, per_unit, high, low)
        carried = _carried(setup, last, fav, adv, lv)
        if carried is not None:
            out.append(carried)
            continue
        tf = timeframe if timeframe is not None else setup.pattern.timeframe
        pending = setup.status is SetupStatus.PENDING
        outcome = settle(last, sgn, lv, Phase.WAITING if pending else Phase.IN, tf)
        out.append(_settled(setup, last, sgn, entry, outcome, time_at(last), tick))
    return out


_STATUS: Final = {Phase.TARGET: SetupStatus.TARGET_HIT, Phase.STOP: SetupStatus.STOPPED}


def _price(signed: int | None, sgn: int, tick: float) -> float | None:
    return None if signed is None else from_ticks(sgn * signed, tick)


def active_setups(setups: Iterable[Setup]) -> list[Setup]:
    """Setups still waiting for the trigger or in force. A pending setup whose stop
    already traded stays here, marked (``Setup.invalidated``), so a chart can show it;
    ``is_actionable`` leaves it out."""
    return [s for s in setups if s.status in (SetupStatus.PENDING, SetupStatus.TRIGGERED)]


def is_actionable(setup: Setup) -> bool:
    """A setup a trader can still act on: in force, or pending with its stop not yet
    traded (a stop that traded before the trigger makes the setup invalid)."""
    if setup.status is SetupStatus.PENDING:
        return setup.invalidated_index is None
    return setup.status is SetupStatus.TRIGGERED
