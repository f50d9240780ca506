"""Simulator fixtures pinned to a known date, so calendar facts can be hand-checked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dashboard.simulator.embedded import SimulatorConfig, SimulatorHandle, start_simulator_thread

# Tuesday 3 June 2025, 09:30 New York: a session open.
PINNED_START = datetime(2025, 6, 3, 13, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def pinned() -> Iterator[SimulatorHandle]:
    """A read-only simulator at a fixed date (module scope: tests must not trade on it)."""
    handle = start_simulator_thread(SimulatorConfig(seed=7, speed=0, port=0, start=PINNED_START))
    yield handle
    handle.stop()


@pytest.fixture
def pinned_fresh() -> Iterator[SimulatorHandle]:
    """A private simulator at the fixed date, for tests that trade or move the clock."""
    handle = start_simulator_thread(SimulatorConfig(seed=7, speed=0, port=0, start=PINNED_START))
    yield handle
    handle.stop()
