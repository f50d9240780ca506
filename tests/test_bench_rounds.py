"""The benchmark's count of sequential upstream rounds, on hand-made request spans."""

from __future__ import annotations

from bench._rounds import upstream_rounds


def test_overlapping_requests_are_one_round_and_waiting_ones_add_up() -> None:
    assert upstream_rounds([]) == 0
    assert upstream_rounds([(0.0, 1.0), (0.1, 1.1), (0.2, 0.9)]) == 1  # one gather
    # positions, then the bars that needed them, then a second page that needed those
    assert upstream_rounds([(0.0, 1.0), (0.05, 1.2), (1.3, 2.0), (2.1, 3.0)]) == 3
    assert upstream_rounds([(0.0, 1.0), (1.0, 2.0)]) == 2  # starts exactly as one ends
