"""Intrabar settlement: exact cases, the path rule, the magnifier, conservative option.

Prices are ticks. The property tests build a bar from a known path and check that
whatever the settlement calls exact (or magnified from lower bars cut from the same
path) is what the path really did.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.strat.settlement import (
    BarSettlement,
    LowerBars,
    Phase,
    Settlement,
    SignedLevels,
    bar_end_ns,
    magnifier_for,
    path_rule_vertices,
    settle_bar,
    settle_by_range,
    weakest,
)

LONG = SignedLevels(entry=10301, stop=9900, target=10400)
# LONG mirrored through 100.00 (price → 20000 − price), as a short sees it in signed ticks
# (prices negated): entry 96.99, stop 101.00, T1 96.00.
SHORT = SignedLevels(entry=-9699, stop=-10100, target=-9600)


def test_path_rule_vertices() -> None:
    assert path_rule_vertices(100, 105, 90, 95) == (100, 105, 90, 95)  # nearer the high
    assert path_rule_vertices(100, 110, 95, 105) == (100, 95, 110, 105)  # nearer the low
    assert path_rule_vertices(100, 110, 90, 100) == (100, 90, 110, 100)  # midway: low first


def test_exact_cases_long() -> None:
    w = Phase.WAITING
    # Trigger bar whose low stays above the stop: in force, exact.
    r = settle_bar((10100, 10350, 10000, 10320), 1, LONG, w)
    assert (r.phase, r.fill, r.exit, r.settlement) == (Phase.IN, 10301, None, Settlement.EXACT)
    # ... reaching T1 too: T1 lies beyond the entry, so it came after it.
    r = settle_bar((10100, 10450, 10000, 10420), 1, LONG, w)
    assert (r.phase, r.exit, r.settlement) == (Phase.TARGET, 10400, Settlement.EXACT)
    # Trigger bar closing under the stop: whatever came first, price was under the stop
    # after the entry.
    r = settle_bar((10000, 10350, 9850, 9880), 1, LONG, w)
    assert (r.phase, r.exit, r.settlement) == (Phase.STOP, 9900, Settlement.EXACT)
    # Gap through the entry: filled at the open (gap fills on) or the level.
    r = settle_bar((10320, 10350, 10200, 10300), 1, LONG, w, gap_fills=True)
    assert (r.phase, r.fill, r.notes) == (
        Phase.IN,
        10320,
        ("opened through the entry; filled at the open",),
    )
    assert settle_bar((10320, 10350, 10200, 10300), 1, LONG, w).fill == 10301
    # In a position, a bar opening through the stop exits at its open.
    r = settle_bar((9800, 10000, 9700, 9950), 1, LONG, Phase.IN, gap_fills=True)
    assert (r.phase, r.exit, r.settlement) == (Phase.STOP, 9800, Settlement.EXACT)
    # Opening through the entry *and* T1: filled and out at the open.
    r = settle_bar((10500, 10600, 10450, 10550), 1, LONG, w, gap_fills=True)
    assert (r.phase, r.fill, r.exit) == (Phase.TARGET, 10500, 10500)
    # Untouched entry: nothing happens.
    assert settle_bar((10000, 10300, 9800, 10100), 1, LONG, w).phase is Phase.WAITING


def test_ambiguous_trigger_bar_long_and_short() -> None:
    # Opens nearer the low: O→L→H→C; the low under the stop precedes the entry.
    bar = (9950, 10350, 9850, 10320)
    r = settle_bar(bar, 1, LONG, Phase.WAITING)
    assert (r.phase, r.fill, r.settlement) == (Phase.IN, 10301, Settlement.PATH_RULE)
    assert r.notes == ("trigger and stop in one bar; settled by the OHLC path rule (O→L→H→C)",)
    # Opens nearer the high: O→H→L→C; entry first, then the stop.
    r = settle_bar((10300, 10350, 9850, 10000), 1, LONG, Phase.WAITING)
    assert (r.phase, r.exit, r.settlement) == (Phase.STOP, 9900, Settlement.PATH_RULE)
    # The conservative option scores both as the stop, marked ambiguous.
    r = settle_bar(bar, 1, LONG, Phase.WAITING, rule="conservative")
    assert (r.phase, r.exit, r.settlement) == (Phase.STOP, 9900, Settlement.AMBIGUOUS)
    # The mirror image for a short: price → 20000 − price.
    mirror = (20000 - bar[0], 20000 - bar[2], 20000 - bar[1], 20000 - bar[3])
    r = settle_bar(mirror, -1, SHORT, Phase.WAITING)
    assert (r.phase, r.fill, r.settlement) == (Phase.IN, -9699, Settlement.PATH_RULE)
    # Without an open the path rule cannot apply.
    r = settle_bar(bar, 1, LONG, Phase.WAITING, has_open=False)
    assert (r.phase, r.settlement) == (Phase.STOP, Settlement.AMBIGUOUS)


def test_weakest() -> None:
    assert weakest(Settlement.EXACT, Settlement.PATH_RULE) is Settlement.PATH_RULE
    assert weakest(Settlement.AMBIGUOUS, Settlement.MAGNIFIED) is Settlement.AMBIGUOUS
    assert weakest(Settlement.MAGNIFIED, Settlement.EXACT) is Settlement.MAGNIFIED


def _ns(ts: str) -> int:
    return int(pd.Timestamp(ts, tz="America/New_York").value)


def test_bar_end_follows_the_session_clock() -> None:
    day = _ns("2024-03-04 00:00")
    assert bar_end_ns("1Day", day, _ns("2024-03-05 00:00")) == _ns("2024-03-04 16:00")
    hour = _ns("2024-03-04 15:00")
    assert bar_end_ns("1Hour", hour, None) == _ns("2024-03-04 16:00")
    week = _ns("2024-03-04 00:00")
    assert bar_end_ns("1Week", week, None) == _ns("2024-03-08 16:00")
    # A month ends at the close of its last weekday; a week straddling it does not nest.
    assert bar_end_ns("1Month", _ns("2024-05-01 00:00"), None) == _ns("2024-05-31 16:00")
    # Stamps not at New York midnight fall back to the next bar's start.
    utc_day = int(pd.Timestamp("2024-03-04", tz="UTC").value)
    assert bar_end_ns("1Day", utc_day, utc_day + 86_400 * 10**9) == utc_day + 86_400 * 10**9


def _lower(tf: str, starts: list[str], rows: list[tuple[int, int, int, int]]) -> LowerBars:
    a = np.array(rows, dtype=np.int64)
    return LowerBars(
        tf, np.array([_ns(s) for s in starts], dtype=np.int64), a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    )


def test_week_straddling_the_month_end_falls_through_to_days() -> None:
    # May 2024: a monthly bar whose order is ambiguous (trigger and stop).
    month = (9950, 10350, 9850, 10320)  # opens nearer the low: path rule says in force
    span = (_ns("2024-05-01 00:00"), bar_end_ns("1Month", _ns("2024-05-01 00:00"), None))
    weeks = _lower(
        "1Week",
        ["2024-04-29", "2024-05-06"],  # the first week starts in April: does not nest
        [(9950, 10350, 9850, 10000), (10000, 10320, 9950, 10320)],
    )
    days = _lower(
        "1Day",
        ["2024-05-01", "2024-05-02", "2024-05-03"],
        [(9950, 10350, 10000, 10340), (10340, 10340, 9850, 9900), (9900, 10320, 9880, 10320)],
    )
    assert magnifier_for("1Month", {"1Day": days, "1Week": weeks}) == (weeks, days)
    r = settle_bar(month, 1, LONG, Phase.WAITING, span=span, magnifier=(weeks, days))
    # Days: entry on May 1, the stop on May 2.
    assert (r.phase, r.settlement, r.magnified_on) == (Phase.STOP, Settlement.MAGNIFIED, ("1Day",))


# --------------------------------------------------------------------- properties


def _truth(path: list[int], lv: SignedLevels, phase: Phase) -> tuple[Phase, int | None]:
    """Walk a signed path (first point = the open) with linear steps; (phase, exit)."""
    if phase is Phase.WAITING and path[0] >= lv.entry:
        phase = Phase.IN
    if phase is Phase.IN:
        if path[0] <= lv.stop:
            return Phase.STOP, path[0]
        if lv.target is not None and path[0] >= lv.target:
            return Phase.TARGET, path[0]
    for a, b in itertools.pairwise(path):
        if b > a:
            if phase is Phase.WAITING and b >= lv.entry:
                phase = Phase.IN
            if phase is Phase.IN and lv.target is not None and b >= lv.target:
                return Phase.TARGET, lv.target
        elif b < a and phase is Phase.IN and b <= lv.stop:
            return Phase.STOP, lv.stop
    return phase, None


paths = st.lists(st.integers(-6, 6), min_size=8, max_size=40)


@settings(max_examples=400, deadline=None)
@given(paths, st.integers(-3, 3), st.integers(1, 8), st.integers(1, 8), st.booleans(),
       st.booleans())  # fmt: skip
def test_exact_and_magnified_agree_with_the_path(
    steps: list[int], entry: int, risk: int, reward: int, in_position: bool, short: bool
) -> None:
    path = list(np.cumsum([0, *steps]))
    sgn = -1 if short else 1
    prices = [sgn * p for p in path]  # price space
    lv = SignedLevels(entry, entry - risk, entry + reward)
    phase = Phase.IN if in_position else Phase.WAITING
    bar = (prices[0], max(prices), min(prices), prices[-1])
    want = _truth(path, lv, phase)
    r = settle_bar(bar, sgn, lv, phase, gap_fills=True)  # the truth fills gaps at the open
    if r.settlement is Settlement.EXACT:
        assert (r.phase, r.exit) == want
    else:  # the path rule walks its own assumed path
        assert r.settlement is Settlement.PATH_RULE
        o, h, lo, c = bar
        assumed = [sgn * v for v in path_rule_vertices(o, h, lo, c)]
        assert (r.phase, r.exit) == _truth(assumed, lv, phase)
    # Lower bars cut from the same path (four points each, continuous) settle it exactly.
    starts = np.arange(0, len(prices), 4)
    chunks = [prices[i : i + 5] for i in starts if len(prices[i : i + 5]) >= 2]
    rows = [(ch[0], max(ch), min(ch), ch[-1]) for ch in chunks]
    t0 = _ns("2024-03-04 09:00")
    minute = 60 * 10**9
    lower = LowerBars(
        "5Min",
        np.array([t0 + 5 * minute * k for k in range(len(rows))], dtype=np.int64),
        *(np.array(col, dtype=np.int64) for col in zip(*rows, strict=True)),
    )
    span = (t0, t0 + 5 * minute * len(rows))
    m = settle_bar(bar, sgn, lv, phase, span=span, magnifier=(lower,), gap_fills=True)
    if m.settlement in (Settlement.EXACT, Settlement.MAGNIFIED):
        assert (m.phase, m.exit) == want


def test_settle_by_range_leaves_to_the_close_what_the_close_decides() -> None:
    # Entered mid-bar (open under the entry) and the stop traded: the close may decide.
    assert settle_by_range((10200, 10350, 9850), 1, LONG, Phase.WAITING) is None
    # Entered mid-bar, no stop: in force at the entry, whatever the close.
    got = settle_by_range((10200, 10350, 9950), 1, LONG, Phase.WAITING)
    assert got == BarSettlement(Phase.IN, 10301, None, Settlement.EXACT)
    # In force, T1 and stop in one bar: the order decides.
    assert settle_by_range((10200, 10450, 9850), 1, LONG, Phase.IN) is None


@settings(max_examples=500, deadline=None)
@given(
    st.integers(-8, 8),
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(-6, 6),
    st.integers(1, 6),
    st.one_of(st.none(), st.integers(1, 6)),
    st.sampled_from([1, -1]),
    st.sampled_from([Phase.WAITING, Phase.IN]),
)
def test_property_settle_by_range_is_settle_bar_for_every_close(
    o: int, up: int, down: int, de: int, ds: int, dt: int | None, sgn: int, phase: Phase
) -> None:
    """When the open, high and low decide a bar, every close (and any rule) agrees."""
    o, h, lo = 10000 + o, 10000 + o + up, 10000 + o - down
    entry = sgn * 10000 + de  # signed ticks, around the signed open
    lv = SignedLevels(entry, entry - ds, None if dt is None else entry + dt)
    got = settle_by_range((o, h, lo), sgn, lv, phase)
    if got is None:
        return
    for c in range(lo, h + 1):
        for rule in ("path", "conservative"):
            assert settle_bar((o, h, lo, c), sgn, lv, phase, rule=rule) == got
