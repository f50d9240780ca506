"""Setup lifecycle after the setup bar: trigger, in-force close, expiry, target, stop."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.strat.bars import codes_from_ticks
from dashboard.strat.patterns import detect_patterns, patterns_from_ticks
from dashboard.strat.settlement import Settlement
from dashboard.strat.setups import (
    _with_end,
    active_setups,
    evaluate_setups,
    extend_setups,
    extend_setups_by_range,
    is_actionable,
    setups_from_ticks,
)
from dashboard.strat.signals import Pattern, Setup, SetupStatus

# 0: (105, 100)  1: (104, 98) 2D  2: (103, 99) 1  → 2D-1-2U: entry 103.01, stop 99, T1 104
#                                                  2D-1-2D: entry 98.99, stop 103, T1 98
BASE = [(105.0, 100.0, 102.0), (104.0, 98.0, 100.0), (103.0, 99.0, 101.0)]


def _run(after: list[tuple[float, float, float]], label: str = "2D-1-2U", **kw) -> Setup:
    bars = BASE + after
    h = np.array([b[0] for b in bars])
    lo = np.array([b[1] for b in bars])
    c = np.array([b[2] for b in bars])
    base = np.array([b[0] for b in BASE]), np.array([b[1] for b in BASE])
    mid = (base[0] + base[1]) / 2
    pats = [p for p in detect_patterns(*base, mid, mid) if p.label == label]
    assert len(pats) == 1
    (setup,) = evaluate_setups(pats, h, lo, c, **kw)
    return setup


def test_trigger_in_force_close_then_target() -> None:
    s = _run([(103.5, 100.0, 103.2), (104.2, 102.0, 104.0)])
    assert s.status is SetupStatus.TARGET_HIT
    assert (s.triggered_index, s.in_force_close_index, s.resolved_index, s.end_index) == (
        3,
        3,
        4,
        4,
    )
    assert s.exit_price == 104.0
    assert s.magnitude_pct == pytest.approx(0.99 / 103.01)
    assert s.notes == ()


def test_touching_the_entry_exactly_triggers() -> None:
    s = _run([(103.01, 100.0, 102.0)])
    assert (s.status, s.triggered_index, s.in_force_close_index) == (SetupStatus.TRIGGERED, 3, None)
    untouched = _run([(103.0, 100.0, 102.0)])  # equal to the setup high: no break
    assert untouched.status is SetupStatus.PENDING


def test_in_force_close_can_come_after_the_trigger_bar() -> None:
    s = _run([(103.5, 100.0, 102.5), (103.8, 101.0, 103.5)])
    assert (s.status, s.triggered_index, s.in_force_close_index) == (SetupStatus.TRIGGERED, 3, 4)
    assert s.end_index == 4 and s.resolved_index is None


def test_stopped_after_trigger() -> None:
    s = _run([(103.5, 100.0, 102.0), (103.2, 98.9, 99.5)])
    assert s.status is SetupStatus.STOPPED
    assert (s.triggered_index, s.resolved_index, s.exit_price) == (3, 4, 99.0)
    assert s.in_force_close_index is None


def test_target_and_stop_in_one_bar_is_scored_stopped() -> None:
    # No opens given: the path rule cannot apply, so the bar is scored conservatively.
    s = _run([(103.5, 100.0, 102.0), (104.5, 98.5, 101.0)])
    assert (s.status, s.resolved_index) == (SetupStatus.STOPPED, 4)
    assert s.notes == ("target and stop in the same bar; assumed stopped (conservative)",)


def test_trigger_and_stop_in_one_bar_is_scored_stopped() -> None:
    s = _run([(103.5, 98.5, 101.0)])  # no opens: conservative, as above
    assert (s.status, s.triggered_index, s.resolved_index) == (SetupStatus.STOPPED, 3, 3)
    assert s.notes == ("triggered and stopped in the same bar; order unknown, assumed stopped",)
    assert s.settlement == "ambiguous"


def test_with_opens_the_same_bars_follow_the_path_rule() -> None:
    # Setup: 2D-1-2U, entry 103.01, stop 99, T1 104 (BASE).
    base_h = np.array([b[0] for b in BASE])
    base_l = np.array([b[1] for b in BASE])
    mid = (base_h + base_l) / 2
    (pat,) = [p for p in detect_patterns(base_h, base_l, mid, mid) if p.label == "2D-1-2U"]

    def run(after: list[tuple[float, float, float, float]]) -> Setup:
        rows = [(m, h, lo, m) for m, (h, lo, _c) in zip(mid, BASE, strict=True)] + after
        o, h, lo, c = (np.array(col) for col in zip(*rows, strict=True))
        (s,) = evaluate_setups([pat], h, lo, c, open=o)
        return s

    # Trigger bar opening nearer its low (O→L→H→C): the 98.5 low precedes the entry.
    s = run([(99.5, 103.5, 98.5, 101.0)])
    assert (s.status, s.triggered_index, s.settlement) == (SetupStatus.TRIGGERED, 3, "path rule")
    assert s.fill_price == 103.01
    # Opening nearer its high (O→H→L→C): entry, then the stop.
    s = run([(103.0, 103.5, 98.5, 101.0)])
    assert (s.status, s.resolved_index, s.exit_price) == (SetupStatus.STOPPED, 3, 99.0)
    # A later bar reaching T1 and the stop, opening nearer the high: T1 first.
    s = run([(101.0, 103.5, 100.0, 102.0), (103.9, 104.5, 98.5, 101.0)])
    assert (s.status, s.resolved_index, s.exit_price) == (SetupStatus.TARGET_HIT, 4, 104.0)
    assert s.settlement == "path rule" and s.trigger_settlement == "exact"


def test_gap_through_trigger_and_target() -> None:
    s = _run([(105.0, 104.0, 104.5)])
    assert (s.status, s.triggered_index, s.resolved_index, s.in_force_close_index) == (
        SetupStatus.TARGET_HIT,
        3,
        3,
        3,
    )


def test_expiry_and_pending() -> None:
    quiet = [(102.0, 100.0, 101.0)] * 3
    s = _run(quiet, expire_after=2)
    assert (s.status, s.end_index, s.triggered_index) == (SetupStatus.EXPIRED, 4, None)
    assert _run(quiet[:1], expire_after=2).status is SetupStatus.PENDING
    assert _run(quiet, expire_after=None).status is SetupStatus.PENDING
    # A trigger after the expiry window does not count.
    late = _run([*quiet[:2], (103.8, 100.0, 103.5)], expire_after=2)
    assert late.status is SetupStatus.EXPIRED
    assert _run([*quiet[:2], (103.8, 100.0, 103.5)], expire_after=3).status is SetupStatus.TRIGGERED


def test_live_bar_can_trigger_but_not_close_or_expire() -> None:
    live = [(102.0, 100.0, 101.0), (103.5, 100.0, 103.4)]
    s = _run(live, expire_after=2, last_bar_closed=False)
    assert (s.status, s.triggered_index, s.in_force_close_index) == (SetupStatus.TRIGGERED, 4, None)
    assert _run(live, expire_after=2).in_force_close_index == 4
    quiet_live = [(102.0, 100.0, 101.0), (102.0, 100.0, 101.0)]
    assert _run(quiet_live, expire_after=2, last_bar_closed=False).status is SetupStatus.PENDING
    assert _run(quiet_live, expire_after=2).status is SetupStatus.EXPIRED


def test_short_mirror_lifecycle_and_timestamps() -> None:
    ts = pd.date_range("2024-01-02", periods=5, freq="D", tz="America/New_York")
    s = _run([(101.0, 98.5, 98.9), (99.0, 97.9, 98.0)], label="2D-1-2D", timestamps=ts)
    assert s.status is SetupStatus.TARGET_HIT
    assert (s.triggered_index, s.in_force_close_index, s.resolved_index, s.exit_price) == (
        3,
        3,
        4,
        98.0,
    )
    assert s.triggered_at == ts[3].to_pydatetime()
    stopped = _run([(101.0, 98.5, 99.0), (103.0, 99.5, 102.0)], label="2D-1-2D")
    assert (stopped.status, stopped.exit_price) == (SetupStatus.STOPPED, 103.0)


def test_long_history_resolution_far_away() -> None:
    # Resolution 500 bars after the trigger exercises the growing search windows.
    after = [(103.5, 100.0, 103.2)] + [(103.5, 100.0, 102.0)] * 499 + [(104.5, 101.0, 104.0)]
    s = _run(after)
    assert (s.status, s.resolved_index) == (SetupStatus.TARGET_HIT, 3 + 500)


def test_active_setups_filter() -> None:
    p = Pattern.__new__(Pattern)  # records are only carried along here
    made = [Setup(p, st, 0) for st in SetupStatus]
    assert {s.status for s in active_setups(made)} == {SetupStatus.PENDING, SetupStatus.TRIGGERED}


def test_a_pending_setup_whose_stop_trades_before_the_trigger_is_invalid() -> None:
    # 2D-1-2U: entry 103.01, stop 99. Bar 3 (102, 99.5) leaves both untouched; bar 4
    # (102, 98.8) trades through the stop without reaching the entry.
    fine = _run([(102.0, 99.5, 101.0)], expire_after=3)
    assert (fine.status, fine.invalidated_index, fine.invalidated) == (
        SetupStatus.PENDING,
        None,
        False,
    )
    assert is_actionable(fine)
    dead = _run([(102.0, 99.5, 101.0), (102.0, 98.8, 99.5)], expire_after=3)
    assert (dead.status, dead.invalidated_index, dead.invalidated) == (SetupStatus.PENDING, 4, True)
    assert not is_actionable(dead)
    assert active_setups([dead]) == [dead]  # still listed (marked) for a chart
    # Touching the stop counts, as it does for an open trade; the live bar counts too.
    touch = _run([(102.0, 99.0, 100.0)], expire_after=3, last_bar_closed=False)
    assert touch.invalidated_index == 3
    # A short mirrors it: 2D-1-2D (entry 98.99, stop 103) invalid once the high reaches 103.
    short = _run([(103.0, 99.5, 101.0)], label="2D-1-2D", expire_after=3)
    assert (short.status, short.invalidated_index) == (SetupStatus.PENDING, 3)
    # Triggered and expired setups are never marked (the backtest's lifecycle is unchanged).
    assert _run([(102.0, 98.8, 99.5), (103.5, 99.5, 103.2)]).invalidated_index is None
    quiet = [(102.0, 98.8, 101.0)] * 3
    assert _run(quiet, expire_after=2).invalidated_index is None


# --- property: the vectorised walk agrees with a plain bar-by-bar reference ----------


def _reference(p: Pattern, h: list[int], lo: list[int], c: list[int], expire: int) -> tuple:
    """Bar-by-bar walk in ticks with the documented rules (long; shorts via negation)."""
    sgn = 1 if p.direction == "long" else -1
    fav = [sgn * x for x in (h if sgn == 1 else lo)]
    adv = [sgn * x for x in (lo if sgn == 1 else h)]
    cl = [sgn * x for x in c]
    e = sgn * round(p.entry.price * 100)
    st_ = sgn * round(p.stop.price * 100)
    t1 = sgn * round(p.targets[0].price * 100)
    s, n = p.setup_index, len(h)
    trig = next((i for i in range(s + 1, min(n, s + 1 + expire)) if fav[i] >= e), None)
    if trig is None:
        return (
            SetupStatus.EXPIRED if s + expire <= n - 1 else SetupStatus.PENDING,
            None,
            None,
            None,
        )
    res = next((i for i in range(trig, n) if fav[i] >= t1 or adv[i] <= st_), None)
    if res is None:
        status = SetupStatus.TRIGGERED
    else:
        status = SetupStatus.STOPPED if adv[res] <= st_ else SetupStatus.TARGET_HIT
    end = res if res is not None else n - 1
    ifc = next((i for i in range(trig, end + 1) if cl[i] >= e), None)
    return (status, trig, res, ifc)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 8), st.integers(0, 8)), min_size=3, max_size=50
    ),
    st.integers(1, 6),
)
def test_property_matches_bar_by_bar_reference(bars, expire: int) -> None:
    lo = [1000 + a for a, _, _ in bars]
    hi = [x + r for x, (_, r, _) in zip(lo, bars, strict=True)]
    cl = [x + min(k, r) for x, (_, r, k) in zip(lo, bars, strict=True)]
    h, low, c = (np.array(v) / 100 for v in (hi, lo, cl))
    pats = detect_patterns(h, low, c, c)
    for setup in evaluate_setups(pats, h, low, c, expire_after=expire):
        got = (
            setup.status,
            setup.triggered_index,
            setup.resolved_index,
            setup.in_force_close_index,
        )
        assert got == _reference(setup.pattern, hi, lo, cl, expire)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 8), st.integers(0, 8)), min_size=3, max_size=40
    ),
    st.integers(1, 12),
)
def test_property_invalidated_is_the_first_stop_touch_of_a_pending_setup(bars, expire) -> None:
    lo = [1000 + a for a, _, _ in bars]
    hi = [x + r for x, (_, r, _) in zip(lo, bars, strict=True)]
    cl = [x + min(k, r) for x, (_, r, k) in zip(lo, bars, strict=True)]
    h, low, c = (np.array(v) / 100 for v in (hi, lo, cl))
    for setup in evaluate_setups(detect_patterns(h, low, c, c), h, low, c, expire_after=expire):
        p, s = setup.pattern, setup.pattern.setup_index
        stop = round(p.stop.price * 100)
        touched = [
            j
            for j in range(s + 1, len(bars))
            if (lo[j] <= stop if p.direction == "long" else hi[j] >= stop)
        ]
        want = touched[0] if setup.status is SetupStatus.PENDING and touched else None
        assert setup.invalidated_index == want
        assert setup.invalidated == (want is not None)


# --- a refresh carries closed bars' setups onto the live bar ---------------------------


def test_with_end_copies_every_field_as_replace_does() -> None:
    """``_with_end`` (a constructor call, cheaper than ``replace`` on the refresh's hot
    path) must copy every field: a field added to ``Setup`` and missed there fails."""
    p = _run([]).pattern
    full = Setup(
        p,
        SetupStatus.TRIGGERED,
        7,
        triggered_index=4,
        triggered_at=pd.Timestamp("2024-01-02 15:00", tz="UTC").to_pydatetime(),
        in_force_close_index=5,
        resolved_index=6,
        exit_price=104.0,
        magnitude_pct=0.01,
        notes=("a note",),
        setup_time=pd.Timestamp("2024-01-02 14:30", tz="UTC").to_pydatetime(),
        fill_price=103.01,
        settlement=Settlement.PATH_RULE,
        trigger_settlement=Settlement.MAGNIFIED,
        invalidated_index=3,
    )
    for f in dataclasses.fields(Setup):
        if f.default is not dataclasses.MISSING:
            assert getattr(full, f.name) != f.default, f"set {f.name} in this test"
    assert _with_end(full, 9, 8) == dataclasses.replace(full, end_index=9, invalidated_index=8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 8), st.integers(0, 8), st.integers(0, 8)),
        min_size=4,
        max_size=30,
    )
)
def test_property_extend_by_range_is_extend_setups(bars) -> None:
    """Where the live bar's open, high and low settle a setup, ``extend_setups_by_range``
    gives what ``extend_setups`` gives, whatever the close."""
    lo = np.array([1000 + a for a, _, _, _ in bars], dtype=np.int64)
    hi = lo + np.array([r for _, r, _, _ in bars], dtype=np.int64)
    op = lo + np.minimum([k for _, _, k, _ in bars], hi - lo)
    cl = lo + np.minimum([k for _, _, _, k in bars], hi - lo)
    n = lo.size
    index = pd.date_range("2024-01-02 14:30", periods=n, freq="15min", tz="UTC")
    codes = codes_from_ticks(hi, lo)
    pats = patterns_from_ticks(hi[:-1], lo[:-1], op[:-1], cl[:-1], codes[:-1], timeframe="15Min")
    closed = setups_from_ticks(
        pats, hi[:-1], lo[:-1], cl[:-1], index, open_t=op[:-1], timeframe="15Min"
    )
    bar = (int(op[-1]), int(hi[-1]), int(lo[-1]))
    t = index[-1].to_pydatetime()
    by_range = extend_setups_by_range(closed, bar, n - 1, t)
    for close in range(int(lo[-1]), int(hi[-1]) + 1):
        c = cl.copy()
        c[-1] = close
        full = extend_setups(closed, hi, lo, c, index, open_t=op, timeframe="15Min")
        assert full == setups_from_ticks(
            pats, hi, lo, c, index, open_t=op, timeframe="15Min", last_bar_closed=False
        )
        assert [r for r in by_range if r is not None] == [
            s for s, r in zip(full, by_range, strict=True) if r is not None
        ]
