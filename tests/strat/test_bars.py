"""Bar classification: golden sequences, ties, tick rounding, NaN handling, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.strat.bars import (
    DOWN,
    INSIDE,
    OUTSIDE,
    UNCLASSIFIED,
    UP,
    bar_label,
    bar_labels,
    classify_bars,
    from_ticks,
    to_ticks,
)


def _reference(high_ticks: list[int], low_ticks: list[int]) -> list[int]:
    """The §1.1 table, written out bar by bar on integer ticks."""
    out = [0]
    for i in range(1, len(high_ticks)):
        up = high_ticks[i] > high_ticks[i - 1]
        dn = low_ticks[i] < low_ticks[i - 1]
        out.append(3 if up and dn else 2 if up else -2 if dn else 1)
    return out


def test_every_bar_type_in_one_sequence() -> None:
    high = [10.0, 11.0, 10.5, 12.0, 11.0]
    low = [8.0, 9.0, 8.5, 8.0, 9.0]
    codes = classify_bars(high, low)
    assert codes.dtype == np.int8
    assert codes.tolist() == [UNCLASSIFIED, UP, DOWN, OUTSIDE, INSIDE]
    assert bar_labels(codes).tolist() == ["", "2U", "2D", "3", "1"]


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ((10.00, 8.00), INSIDE),  # equal high and equal low: no break
        ((10.01, 8.00), UP),  # one tick higher, equal low
        ((10.00, 7.99), DOWN),  # equal high, one tick lower
        ((10.01, 7.99), OUTSIDE),
        ((9.99, 8.01), INSIDE),
        ((10.00, 8.50), INSIDE),  # equal high only
        ((9.50, 8.00), INSIDE),  # equal low only
    ],
)
def test_ties_are_not_breaks(bar: tuple[float, float], expected: int) -> None:
    codes = classify_bars([10.0, bar[0]], [8.0, bar[1]])
    assert codes.tolist() == [UNCLASSIFIED, expected]


def test_float_noise_does_not_create_a_break() -> None:
    # 0.1 + 0.2 = 0.30000000000000004 > 0.3 in floats; at tick precision it is equal.
    assert 0.1 + 0.2 > 0.3
    codes = classify_bars([0.3, 0.1 + 0.2], [0.1, 0.1])
    assert codes.tolist() == [0, INSIDE]
    codes = classify_bars([1.0, 1.0], [0.3, 0.1 + 0.2 - 1e-12])
    assert codes.tolist() == [0, INSIDE]


def test_inside_after_inside_and_only_previous_bar_counts() -> None:
    high = [10.0, 9.5, 9.4, 9.45]
    low = [8.0, 8.5, 8.6, 8.55]
    # Bar 3 is inside the mother bar 0, but it broke both sides of bar 2: it is a 3.
    assert classify_bars(high, low).tolist() == [0, INSIDE, INSIDE, OUTSIDE]


def test_gaps_are_directional() -> None:
    assert classify_bars([10.0, 13.0], [8.0, 12.0]).tolist() == [0, UP]  # gap up
    assert classify_bars([10.0, 7.0], [8.0, 6.0]).tolist() == [0, DOWN]  # gap down


def test_other_tick_sizes() -> None:
    # On a 0.25 grid 1.10 rounds to 1.00 (4 ticks, no break) and 1.20 to 1.25 (5 ticks).
    assert classify_bars([1.00, 1.10], [0.50, 0.50], tick=0.25).tolist() == [0, INSIDE]
    assert classify_bars([1.00, 1.20], [0.50, 0.50], tick=0.25).tolist() == [0, UP]


def test_nan_raises_and_names_the_bar() -> None:
    with pytest.raises(ValueError, match="index 3"):
        classify_bars([1.0, 2.0, 3.0, np.nan, 5.0], [0.5, 1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="index 0"):
        classify_bars([1.0, 2.0], [np.nan, 1.0])
    with pytest.raises(ValueError, match="index 0"):
        classify_bars([np.nan], [1.0])


def test_nan_mask_option_unclassifies_the_bar_and_the_next() -> None:
    high = [10.0, 11.0, np.nan, 12.0, 11.0, 12.5]
    low = [8.0, 9.0, 9.0, 8.0, 9.0, 9.5]
    codes = classify_bars(high, low, nan_policy="mask")
    assert codes.tolist() == [0, UP, 0, 0, INSIDE, UP]


def test_short_and_empty_inputs() -> None:
    assert classify_bars([], []).tolist() == []
    assert classify_bars([5.0], [4.0]).tolist() == [0]
    with pytest.raises(ValueError):
        classify_bars([1.0, 2.0], [1.0])


def test_chunk_boundaries_match_reference() -> None:
    rng = np.random.default_rng(7)
    n = 3 * (1 << 15) + 17  # crosses three internal chunk boundaries
    lo = 10_000 + np.cumsum(rng.integers(-3, 4, n))
    hi = lo + rng.integers(0, 4, n)
    codes = classify_bars(hi / 100, lo / 100)
    assert codes.tolist() == _reference(hi.tolist(), lo.tolist())


def test_labels_and_ticks_helpers() -> None:
    assert [bar_label(c) for c in (0, 1, 2, -2, 3)] == ["", "1", "2U", "2D", "3"]
    assert to_ticks([101.23, 0.1 + 0.2]).tolist() == [10123, 30]
    assert from_ticks(10123) == 101.23
    with pytest.raises(ValueError, match="index 1"):
        to_ticks([1.0, np.nan])


_bars = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 6)), min_size=1, max_size=60
)  # (low in ticks, range in ticks): small ranges make ties common


@settings(max_examples=150, deadline=None)
@given(_bars)
def test_property_matches_reference_and_is_local(bars: list[tuple[int, int]]) -> None:
    lo = [1000 + a for a, _ in bars]
    hi = [1000 + a + r for a, r in bars]
    codes = classify_bars(np.array(hi) / 100, np.array(lo) / 100)
    assert codes.tolist() == _reference(hi, lo)
    # Each code depends only on the bar and the one before it.
    for i in range(1, len(bars)):
        pair = classify_bars(np.array(hi[i - 1 : i + 1]) / 100, np.array(lo[i - 1 : i + 1]) / 100)
        assert pair[1] == codes[i]


@settings(max_examples=100, deadline=None)
@given(_bars)
def test_property_negating_prices_swaps_2u_and_2d(bars: list[tuple[int, int]]) -> None:
    lo = np.array([1000 + a for a, _ in bars]) / 100
    hi = np.array([1000 + a + r for a, r in bars]) / 100
    codes = classify_bars(hi, lo)
    mirrored = classify_bars(-lo, -hi)
    swap = {0: 0, 1: 1, 3: 3, 2: -2, -2: 2}
    assert mirrored.tolist() == [swap[c] for c in codes.tolist()]
