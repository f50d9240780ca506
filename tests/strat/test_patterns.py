"""Pattern detection and levels: hand-worked sequences (long and short) and properties.

Prices are chosen so every level can be checked by hand; the comment next to each
sequence gives the bar types. Open = close = mid-range unless a wick matters.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.strat.patterns import LevelConfig, detect_patterns, live_patterns, setup_mask
from dashboard.strat.signals import Pattern


def _detect(hl: list[tuple[float, float]], oc: dict[int, tuple[float, float]] | None = None, **kw):
    high = np.array([h for h, _ in hl])
    low = np.array([lo for _, lo in hl])
    mid = (high + low) / 2
    o, c = mid.copy(), mid.copy()
    for i, (oo, cc) in (oc or {}).items():
        o[i], c[i] = oo, cc
    return detect_patterns(high, low, o, c, **kw)


def _at(patterns: list[Pattern], s: int) -> dict[str, Pattern]:
    return {p.label: p for p in patterns if p.setup_index == s}


def _levels(p: Pattern) -> tuple:
    return (
        (p.entry.price, p.entry.rule),
        (p.stop.price, p.stop.rule),
        tuple((t.price, t.rule) for t in p.targets),
    )


# 0: (105, 100)   1: (104, 98) 2D   2: (103, 99) 1
CASE_212_BULL = [(105, 100), (104, 98), (103, 99)]


def test_212_reversal_long_and_continuation_short() -> None:
    pats = _detect(CASE_212_BULL)
    at2 = _at(pats, 2)
    assert set(at2) == {"2D-1-2U", "2D-1-2D"}
    long, short = at2["2D-1-2U"], at2["2D-1-2D"]
    assert (long.name, long.kind, long.direction, long.bar_indices) == (
        "2-1-2",
        "reversal",
        "long",
        (1, 2),
    )
    assert _levels(long) == (
        (103.01, "setup-bar high + 1 tick"),
        (99.0, "setup-bar low"),
        ((104.0, "C2 high"), (105.0, "untaken high from bar 0")),
    )
    assert long.risk == pytest.approx(4.01)
    assert long.reward_risk == pytest.approx(0.99 / 4.01)
    assert (short.kind, short.direction) == ("continuation", "short")
    # Bar 0's low (100) was taken by bar 1 (98): no ladder below T1.
    assert _levels(short) == (
        (98.99, "setup-bar low - 1 tick"),
        (103.0, "setup-bar high"),
        ((98.0, "C2 low"),),
    )
    # Bar 1 (a 2D after the unclassified first bar) is itself a 2-2 setup.
    at1 = _at(pats, 1)
    assert set(at1) == {"2D-2U"}
    assert _levels(at1["2D-2U"]) == (
        (104.01, "setup-bar high + 1 tick"),
        (98.0, "setup-bar low"),
        ((105.0, "C2 high"),),
    )
    assert [p.setup_index for p in pats] == [1, 2, 2]


def test_212_reversal_short_and_continuation_long() -> None:
    # 0: (100, 95)   1: (102, 97) 2U   2: (101, 98) 1
    at2 = _at(_detect([(100, 95), (102, 97), (101, 98)]), 2)
    short, long = at2["2U-1-2D"], at2["2U-1-2U"]
    assert (short.kind, long.kind) == ("reversal", "continuation")
    assert _levels(short) == (
        (97.99, "setup-bar low - 1 tick"),
        (101.0, "setup-bar high"),
        ((97.0, "C2 low"), (95.0, "untaken low from bar 0")),
    )
    assert _levels(long) == (
        (101.01, "setup-bar high + 1 tick"),
        (98.0, "setup-bar low"),
        ((102.0, "C2 high"),),
    )


def test_212_first_directional_stop_option() -> None:
    at2 = _at(_detect(CASE_212_BULL, config=LevelConfig(stop_rule="first_directional")), 2)
    assert (at2["2D-1-2U"].stop.price, at2["2D-1-2U"].stop.rule) == (98.0, "first-bar low (2D)")
    assert (at2["2D-1-2D"].stop.price, at2["2D-1-2D"].stop.rule) == (104.0, "first-bar high (2D)")


def test_continuations_can_be_switched_off() -> None:
    at2 = _at(_detect(CASE_212_BULL, config=LevelConfig(include_continuations=False)), 2)
    assert set(at2) == {"2D-1-2U"}


def test_312_long_and_short() -> None:
    # 0: (100, 98)   1: (101, 97) 3   2: (100.5, 97.5) 1
    pats = _detect([(100, 98), (101, 97), (100.5, 97.5)])
    at2 = _at(pats, 2)
    assert {p.name for p in at2.values()} == {"3-1-2"}
    assert _levels(at2["3-1-2U"]) == (
        (100.51, "setup-bar high + 1 tick"),
        (97.5, "setup-bar low"),
        ((101.0, "C2 high"),),
    )
    assert _levels(at2["3-1-2D"]) == (
        (97.49, "setup-bar low - 1 tick"),
        (100.5, "setup-bar high"),
        ((97.0, "C2 low"),),
    )
    fd = _at(
        _detect(
            [(100, 98), (101, 97), (100.5, 97.5)], config=LevelConfig(stop_rule="first_directional")
        ),
        2,
    )
    assert (fd["3-1-2U"].stop.price, fd["3-1-2U"].stop.rule) == (97.0, "first-bar low (3)")
    assert (fd["3-1-2D"].stop.price, fd["3-1-2D"].stop.rule) == (101.0, "first-bar high (3)")


def test_32_uses_the_fallback_target() -> None:
    # 0: (100, 98)   1: (101, 97) 3.  R = 4.01 → 1.5R = 601.5 ticks → 602 (half up).
    at1 = _at(_detect([(100, 98), (101, 97)]), 1)
    assert _levels(at1["3-2U"]) == (
        (101.01, "setup-bar high + 1 tick"),
        (97.0, "setup-bar low"),
        ((107.03, "entry + 1.5R (T1 not beyond entry)"),),
    )
    assert _levels(at1["3-2D"]) == (
        (96.99, "setup-bar low - 1 tick"),
        (101.0, "setup-bar high"),
        ((90.97, "entry - 1.5R (T1 not beyond entry)"),),
    )
    assert at1["3-2U"].reward_risk == pytest.approx(1.5, abs=0.002)


def test_22_reversal_both_directions() -> None:
    # 0: (100, 98)   1: (101, 99) 2U   2: (100.5, 98.5) 2D
    pats = _detect([(100, 98), (101, 99), (100.5, 98.5)])
    short = _at(pats, 1)["2U-2D"]
    assert (short.name, short.kind, short.bar_indices) == ("2-2", "reversal", (1,))
    assert _levels(short) == (
        (98.99, "setup-bar low - 1 tick"),
        (101.0, "setup-bar high"),
        ((98.0, "C2 low"),),
    )
    long = _at(pats, 2)["2D-2U"]
    assert _levels(long) == (
        (100.51, "setup-bar high + 1 tick"),
        (98.5, "setup-bar low"),
        ((101.0, "C2 high"),),
    )


def test_22_fallback_when_c2_is_not_beyond_entry() -> None:
    # 2: (101, 98.5) is a 2D with the same high as C2: T1 = 101 < entry 101.01.
    # R = 101.01 - 98.50 = 251 ticks; 1.5R = 376.5 → 377 ticks → 104.78.
    long = _at(_detect([(100, 98), (101, 99), (101, 98.5)]), 2)["2D-2U"]
    assert long.targets[0].price == 104.78
    assert long.targets[0].rule == "entry + 1.5R (T1 not beyond entry)"


def test_22_continuation_is_optional() -> None:
    hl = [(100, 98), (101, 99), (100.5, 98.5)]
    assert "2D-2D" not in _at(_detect(hl), 2)
    cont = _at(_detect(hl, config=LevelConfig(include_22_continuation=True)), 2)["2D-2D"]
    # C2 low 99 is not below entry 98.49 → fallback: R = 201 ticks, 1.5R = 301.5 → 302.
    assert (cont.kind, cont.direction) == ("continuation", "short")
    assert _levels(cont) == (
        (98.49, "setup-bar low - 1 tick"),
        (100.5, "setup-bar high"),
        ((95.47, "entry - 1.5R (T1 not beyond entry)"),),
    )


def test_322_long_and_short() -> None:
    # 0: (100, 98)   1: (102, 97) 3   2: (101.5, 96.5) 2D
    long = _at(_detect([(100, 98), (102, 97), (101.5, 96.5)]), 2)
    assert set(long) == {"3-2D-2U"}
    p = long["3-2D-2U"]
    assert (p.name, p.kind, p.direction, p.bar_indices) == ("3-2-2", "reversal", "long", (1, 2))
    assert _levels(p) == (
        (101.51, "setup-bar high + 1 tick"),
        (96.5, "setup-bar low"),
        ((102.0, "C2 high"),),
    )
    # 2: (103, 97.5) 2U
    short = _at(_detect([(100, 98), (102, 97), (103, 97.5)]), 2)["3-2U-2D"]
    assert _levels(short) == (
        (97.49, "setup-bar low - 1 tick"),
        (103.0, "setup-bar high"),
        ((97.0, "C2 low"),),
    )


def test_122_revstrat_long_and_short() -> None:
    # T1 is the mother bar's extreme (the bar before the inside bar), strat.md §1.3. The
    # old expectation took T1 from the inside bar (C2), which halved the target (issue 21).
    # 0: (100, 95) mother   1: (99, 96) 1   2: (98.5, 95.5) 2D
    pats = _detect([(100, 95), (99, 96), (98.5, 95.5)])
    assert _at(pats, 1) == {}  # an inside bar after the unclassified first bar: no setup
    p = _at(pats, 2)["1-2D-2U"]
    assert (p.name, p.direction, p.bar_indices) == ("1-2-2 RevStrat", "long", (1, 2))
    assert _levels(p) == (
        (98.51, "setup-bar high + 1 tick"),
        (95.5, "setup-bar low"),
        ((100.0, "mother-bar high (bar before the inside bar)"),),
    )
    # 2: (99.5, 96.5) 2U
    s = _at(_detect([(100, 95), (99, 96), (99.5, 96.5)]), 2)["1-2U-2D"]
    assert _levels(s) == (
        (96.49, "setup-bar low - 1 tick"),
        (99.5, "setup-bar high"),
        ((95.0, "mother-bar low (bar before the inside bar)"),),
    )
    # With older bars the ladder continues beyond the mother bar's extreme.
    # 0: (102, 93), three nested inside bars (101, 94) (100, 95) (99, 96), then a 2D.
    pats = _at(_detect([(102, 93), (101, 94), (100, 95), (99, 96), (98.5, 95.5)]), 4)
    assert _levels(pats["1-2D-2U"])[2] == (
        (100.0, "mother-bar high (bar before the inside bar)"),
        (101.0, "untaken high from bar 1"),
        (102.0, "untaken high from bar 0"),
    )


def test_hammer_and_shooter() -> None:
    # Hammer: 1: (99.5, 97) 2D, open 99.3 close 99.4 → lower wick 2.3 ≥ 0.75 × 2.5.
    pats = _at(_detect([(100, 98), (99.5, 97)], oc={1: (99.3, 99.4)}), 1)
    assert set(pats) == {"2D-2U", "Hammer-2U"}
    h = pats["Hammer-2U"]
    assert (h.name, h.kind, h.direction) == ("Hammer", "actionable", "long")
    assert _levels(h) == (
        (99.51, "setup-bar high + 1 tick"),
        (97.0, "setup-bar low"),
        ((100.0, "C2 high"),),
    )
    # A stricter wick threshold rejects it: 2.3 / 2.5 = 0.92 < 0.95.
    strict = _at(
        _detect([(100, 98), (99.5, 97)], oc={1: (99.3, 99.4)}, config=LevelConfig(wick_pct=0.95)), 1
    )
    assert "Hammer-2U" not in strict
    # Shooter: 1: (101, 98.5) 2U, open 98.7 close 98.6 → upper wick 2.3 ≥ 1.875.
    sh = _at(_detect([(100, 98), (101, 98.5)], oc={1: (98.7, 98.6)}), 1)["Shooter-2D"]
    assert (sh.name, sh.direction) == ("Shooter", "short")
    assert _levels(sh) == (
        (98.49, "setup-bar low - 1 tick"),
        (101.0, "setup-bar high"),
        ((98.0, "C2 low"),),
    )


def test_inside_hammer_is_reported_as_a_one_unless_asked() -> None:
    hl, oc = [(100, 98), (99.5, 98.5)], {1: (99.4, 99.45)}
    assert _detect(hl, oc=oc) == []
    pats = _detect(hl, oc=oc, config=LevelConfig(hammer_skip_inside=False))
    assert [p.label for p in pats] == ["Hammer-2U"]


def test_inside_after_inside_has_no_new_setup() -> None:
    # 0: (105,100) 1: (104,98) 2D 2: (103,99) 1 3: (102.5,99.5) 1
    pats = _detect([*CASE_212_BULL, (102.5, 99.5)])
    assert _at(pats, 3) == {}
    assert set(_at(pats, 2)) == {"2D-1-2U", "2D-1-2D"}


STAIRS = [(110, 100), (108, 99), (106, 98), (104, 97), (103, 97.5)]  # 2D 2D 2D then 1


def test_target_ladder_of_untaken_highs() -> None:
    p = _at(_detect(STAIRS), 4)["2D-1-2U"]
    assert _levels(p)[2] == (
        (104.0, "C2 high"),
        (106.0, "untaken high from bar 2"),
        (108.0, "untaken high from bar 1"),
    )
    more = _at(_detect(STAIRS, config=LevelConfig(max_targets=5)), 4)["2D-1-2U"]
    assert [t.price for t in more.targets] == [104.0, 106.0, 108.0, 110.0]
    short_view = _at(_detect(STAIRS, config=LevelConfig(ladder_lookback=2)), 4)["2D-1-2U"]
    assert [t.price for t in short_view.targets] == [104.0, 106.0]
    one = _at(_detect(STAIRS, config=LevelConfig(max_targets=1)), 4)["2D-1-2U"]
    assert [t.price for t in one.targets] == [104.0]


def test_equal_later_high_takes_an_older_high() -> None:
    # Bar 1's high (106) is equalled by bar 2: it is no longer untaken.
    hl = [(110, 100), (106, 99), (106, 98), (104, 97), (103, 97.5)]
    p = _at(_detect(hl), 4)["2D-1-2U"]
    assert [(t.price, t.rule) for t in p.targets] == [
        (104.0, "C2 high"),
        (106.0, "untaken high from bar 2"),
        (110.0, "untaken high from bar 0"),
    ]


def test_r_multiple_targets() -> None:
    at2 = _at(_detect(CASE_212_BULL, config=LevelConfig(target_rule="r_multiples")), 2)
    # R = 103.01 - 99.00 = 401 ticks.
    assert [(t.price, t.rule) for t in at2["2D-1-2U"].targets] == [
        (107.02, "entry + 1R"),
        (111.03, "entry + 2R"),
        (115.04, "entry + 3R"),
    ]
    assert [t.price for t in at2["2D-1-2D"].targets] == [94.98, 90.97, 86.96]


def test_measured_move_target() -> None:
    at2 = _at(_detect(CASE_212_BULL, config=LevelConfig(target_rule="measured_move")), 2)
    # First bar (the 2D) range = 104 - 98 = 6.
    assert [(t.price, t.rule) for t in at2["2D-1-2U"].targets] == [
        (109.01, "entry + 1× first-bar range (measured move)")
    ]
    assert at2["2D-1-2D"].targets[0].price == 92.99


def test_entry_offset_option() -> None:
    p0 = _at(_detect(CASE_212_BULL, config=LevelConfig(entry_offset_ticks=0)), 2)["2D-1-2U"]
    assert (p0.entry.price, p0.entry.rule) == (103.0, "setup-bar high")
    p2 = _at(_detect(CASE_212_BULL, config=LevelConfig(entry_offset_ticks=2)), 2)["2D-1-2U"]
    assert (p2.entry.price, p2.entry.rule) == (103.02, "setup-bar high + 2 ticks")


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        LevelConfig(max_targets=0)
    with pytest.raises(ValueError):
        LevelConfig(wick_pct=0)


def test_live_patterns_use_last_closed_bar_only() -> None:
    hl = [*CASE_212_BULL, (103.5, 100.5)]  # bar 3 breaks up: a live 2U
    h = np.array([a for a, _ in hl])
    lo = np.array([b for _, b in hl])
    mid = (h + lo) / 2
    closed = live_patterns(h, lo, mid, mid, last_bar_closed=False, symbol="SPY", timeframe="1Day")
    assert {p.label for p in closed} == {"2D-1-2U", "2D-1-2D"}
    assert all(p.setup_index == 2 and p.symbol == "SPY" and p.timeframe == "1Day" for p in closed)
    as_closed = live_patterns(h, lo, mid, mid, last_bar_closed=True)
    assert {p.label for p in as_closed} == {"1-2U-2D"}


def test_setup_mask() -> None:
    # codes: 0 2 1 1 -2 3 1
    codes = np.array([0, 2, 1, 1, -2, 3, 1])
    assert setup_mask(codes).tolist() == [False, True, True, False, True, True, True]


# --- properties ----------------------------------------------------------------------

_bar = st.tuples(
    st.integers(0, 30), st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)
)  # low, range, open offset, close offset (clipped into the range), in ticks
_ohlc = st.lists(_bar, min_size=2, max_size=40)


def _arrays(bars: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    lo = np.array([1000 + a for a, *_ in bars])
    hi = lo + np.array([r for _, r, *_ in bars])
    o = lo + np.minimum([b for *_, b, _ in bars], hi - lo)
    c = lo + np.minimum([b for *_, b in bars], hi - lo)
    return hi / 100, lo / 100, o / 100, c / 100


_SWAP = str.maketrans({"U": "D", "D": "U"})


def _mirror_text(s: str) -> str:
    s = s.replace("high", "\0").replace("low", "high").replace("\0", "low")
    s = s.replace("+", "\0").replace(" - ", " + ").replace("\0", "-")
    return s


def _mirror(p: Pattern) -> tuple:
    names = {"Hammer": "Shooter", "Shooter": "Hammer"}
    label = p.label.replace("Hammer", "\0").replace("Shooter", "Hammer").replace("\0", "Shooter")
    return (
        names.get(p.name, p.name),
        label.translate(_SWAP),
        p.kind,
        "short" if p.direction == "long" else "long",
        p.bar_indices,
        (-p.entry.price, _mirror_text(p.entry.rule)),
        (
            -p.stop.price,
            _mirror_text(p.stop.rule).translate(_SWAP)
            if "(" in p.stop.rule
            else _mirror_text(p.stop.rule),
        ),
        tuple((-t.price, _mirror_text(t.rule)) for t in p.targets),
    )


def _key(p: Pattern) -> tuple:
    return (
        p.name,
        p.label,
        p.kind,
        p.direction,
        p.bar_indices,
        (p.entry.price, p.entry.rule),
        (p.stop.price, p.stop.rule),
        tuple((t.price, t.rule) for t in p.targets),
    )


@settings(max_examples=120, deadline=None)
@given(_ohlc, st.sampled_from(["setup_bar", "first_directional"]))
def test_property_mirror_swaps_long_and_short(bars, stop_rule) -> None:
    cfg = LevelConfig(stop_rule=stop_rule, include_22_continuation=True)
    h, lo, o, c = _arrays(bars)
    pats = detect_patterns(h, lo, o, c, config=cfg)
    mirrored = detect_patterns(-lo, -h, -o, -c, config=cfg)
    assert sorted(map(_key, mirrored)) == sorted(map(_mirror, pats))


@settings(max_examples=120, deadline=None)
@given(_ohlc, st.integers(1, 40))
def test_property_no_look_ahead(bars, k) -> None:
    h, lo, o, c = _arrays(bars)
    k = min(k, len(bars))
    full = detect_patterns(h, lo, o, c)
    prefix = detect_patterns(h[:k], lo[:k], o[:k], c[:k])
    assert prefix == [p for p in full if p.setup_index < k]


@settings(max_examples=120, deadline=None)
@given(_ohlc)
def test_property_level_geometry(bars) -> None:
    h, lo, o, c = _arrays(bars)
    for p in detect_patterns(h, lo, o, c):
        sgn = 1 if p.direction == "long" else -1
        assert sgn * (p.entry.price - p.stop.price) > 0
        prices = [sgn * t.price for t in p.targets]
        assert prices[0] > sgn * p.entry.price
        assert prices == sorted(prices) and len(set(prices)) == len(prices)
        assert 1 <= len(p.targets) <= 3


_long_ohlc = st.lists(_bar, min_size=17, max_size=60)  # > 16: the masks' path


@settings(max_examples=150, deadline=None)
@given(_long_ohlc, st.integers(1, 16), st.sampled_from([1.0, 0.5, 0.25]))
def test_property_short_window_matches_the_masks(bars, k, wick_pct) -> None:
    """The last few bars (the scanner's window, at most 16) are checked bar by bar on
    Python ints; a longer window uses the numpy masks. Both give the same patterns."""
    h, lo, o, c = _arrays(bars)
    cfg = LevelConfig(wick_pct=wick_pct, include_22_continuation=True)
    since = max(0, len(bars) - k)
    window = detect_patterns(h, lo, o, c, config=cfg, since=since)
    full = detect_patterns(h, lo, o, c, config=cfg)
    assert window == [p for p in full if p.setup_index >= since]
