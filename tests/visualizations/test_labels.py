"""Label layout and framing: hand-worked cases and properties over random label sets."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.visualizations.labels import (
    frame_bars,
    padded_range,
    spread_labels,
    stack_rows,
    text_width,
)


def test_labels_that_do_not_touch_stay_where_they_are() -> None:
    assert spread_labels([10.0, 40.0, 25.0], 10.0) == [10.0, 40.0, 25.0]


def test_two_overlapping_labels_move_apart_equally() -> None:
    # 14 px tags wanted at 100 and 104: they need 14 apart, so each moves 5.
    assert spread_labels([100.0, 104.0], 14.0) == pytest.approx([95.0, 109.0])


def test_a_pile_of_three_spreads_around_its_mean_and_keeps_its_order() -> None:
    # Wanted 50, 50, 53 with 10 px labels and a 2 px gap: a block 34 px tall centred on
    # the wishes' least-squares fit, which puts the middle label's centre at 51.
    out = spread_labels([50.0, 53.0, 50.0], 10.0, gap=2.0)
    assert out == pytest.approx([39.0, 63.0, 51.0])


def test_the_stack_is_pushed_inside_the_bounds() -> None:
    out = spread_labels([2.0, 3.0], 10.0, lo=0.0, hi=100.0)
    assert out == pytest.approx([5.0, 15.0])
    out = spread_labels([99.0, 98.0], 10.0, lo=0.0, hi=100.0)
    assert out == pytest.approx([95.0, 85.0])


def test_a_cluster_pushed_down_from_the_top_merges_with_the_one_below() -> None:
    out = spread_labels([70.0, 96.0, 97.0, 98.0], 10.0, lo=0.0, hi=100.0)
    assert out == pytest.approx([65.0, 75.0, 85.0, 95.0])


def test_sizes_must_match() -> None:
    with pytest.raises(ValueError):
        spread_labels([1.0, 2.0], [3.0])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0, 400, allow_nan=False), min_size=1, max_size=12),
    st.floats(6, 20),
    st.floats(0, 4),
)
def test_spread_labels_never_overlap_keep_order_and_stay_in_bounds(
    wanted: list[float], size: float, gap: float
) -> None:
    lo, hi = 0.0, 400.0
    out = spread_labels(wanted, size, lo=lo, hi=hi, gap=gap)
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i], i))
    placed = [out[i] for i in order]
    for a, b in itertools.pairwise(placed):
        assert b - a >= size + gap - 1e-6  # apart, and in the wanted order
    if len(wanted) * (size + gap) <= hi - lo:  # room for all: all inside
        assert min(out) - size / 2 >= lo - 1e-6 and max(out) + size / 2 <= hi + 1e-6


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 300, allow_nan=False), st.floats(10, 90)), min_size=1, max_size=9
    )
)
def test_stacked_rows_never_overlap(labels: list[tuple[float, float]]) -> None:
    pos = [p for p, _ in labels]
    widths = [w for _, w in labels]
    rows = stack_rows(pos, widths, gap=3.0)
    for i in range(len(pos)):
        for j in range(i + 1, len(pos)):
            if rows[i] == rows[j]:
                a, b = sorted((i, j), key=lambda k: pos[k])
                assert pos[a] + widths[a] / 2 + 3.0 <= pos[b] - widths[b] / 2 + 1e-9


def test_stack_rows_uses_the_lowest_free_row() -> None:
    # Three 40 px labels at 0, 10, 60: the second clashes with the first, the third fits
    # back in row 0.
    assert stack_rows([0.0, 10.0, 60.0], [40.0, 40.0, 40.0]) == [0, 1, 0]


def test_text_width_grows_with_text_and_font() -> None:
    assert text_width("T1 612.35", 10) == pytest.approx(9 * 0.64 * 10)
    assert text_width("T1", 10, pad=3) == pytest.approx(2 * 6.4 + 6)


@pytest.mark.parametrize(
    ("n", "first", "last", "expected"),
    [
        (120, 110, 118, (80, 119)),  # a recent setup: the last 40 bars
        (120, 60, 70, (55, 119)),  # older: back to 5 bars before it (65 bars)
        (120, 20, 25, (15, 94)),  # too old for 80 bars to the end: 80 bars around it
        (30, 25, 29, (0, 29)),  # fewer bars than the window: all of them
        (120, 119, 119, (80, 119)),  # a setup on the forming bar
    ],
)
def test_frame_bars(n: int, first: int, last: int, expected: tuple[int, int]) -> None:
    assert frame_bars(n, first, last) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 500), st.data())
def test_frame_bars_always_shows_the_setup(n: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, n - 1))
    last = data.draw(st.integers(first, n - 1))
    start, end = frame_bars(n, first, last)
    assert 0 <= start <= first <= last <= end <= n - 1
    if last - first < 70:
        assert end - start + 1 <= 80
    assert end - start + 1 >= min(n, 40)


def test_padded_range() -> None:
    assert padded_range([10.0, 20.0, float("nan")], 0.1) == pytest.approx((9.0, 21.0))
    assert padded_range([50.0], 0.1) == pytest.approx((45.0, 55.0))
    with pytest.raises(ValueError):
        padded_range([float("nan")])
