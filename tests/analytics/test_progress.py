"""Progress to target and open R, hand-worked for a long and a short."""

from __future__ import annotations

import pytest

from dashboard.analytics.progress import progress_to_target, r_multiple_now


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (100.0, 0.0),  # at entry
        (105.0, 0.5),  # half way to 110
        (110.0, 1.0),  # at target
        (112.0, 1.2),  # beyond target
        (130.0, 1.5),  # clipped at the upper bound
        (98.0, -0.5),  # half the risk (stop 96) gone
        (96.0, -1.0),  # at the stop
        (90.0, -1.0),  # clipped at the stop
    ],
)
def test_long_progress(current: float, expected: float) -> None:
    assert progress_to_target("long", 100.0, current, 110.0, 96.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("current", "expected"),
    [(50.0, 0.0), (47.0, 0.5), (44.0, 1.0), (51.0, -0.5), (52.0, -1.0), (49.0, 1 / 6)],
)
def test_short_progress(current: float, expected: float) -> None:
    # short: entry 50, target 44 (6 below), stop 52 (2 above)
    assert progress_to_target("short", 50.0, current, 44.0, 52.0) == pytest.approx(expected)


def test_custom_clip() -> None:
    assert progress_to_target("long", 100, 140, 110, 96, upper=3.0) == pytest.approx(3.0)
    assert progress_to_target("long", 100, 120, 110, 96, upper=3.0) == pytest.approx(2.0)


def test_r_multiple_now() -> None:
    assert r_multiple_now("long", 100.0, 108.0, 96.0) == pytest.approx(2.0)
    assert r_multiple_now("long", 100.0, 94.0, 96.0) == pytest.approx(-1.5)
    assert r_multiple_now("short", 50.0, 47.0, 52.0) == pytest.approx(1.5)
    assert r_multiple_now("short", 50.0, 53.0, 52.0) == pytest.approx(-1.5)


@pytest.mark.parametrize(
    ("direction", "target", "stop"),
    [("long", 99.0, 96.0), ("long", 110.0, 101.0), ("short", 110.0, 104.0), ("short", 90.0, 99.0)],
)
def test_inverted_levels_rejected(direction: str, target: float, stop: float) -> None:
    with pytest.raises(ValueError):
        progress_to_target(direction, 100.0, 100.0, target, stop)  # type: ignore[arg-type]


def test_bad_direction() -> None:
    with pytest.raises(ValueError):
        r_multiple_now("up", 1.0, 1.0, 0.5)  # type: ignore[arg-type]
