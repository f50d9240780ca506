"""Shared fixtures: the simulator over real HTTP on loopback, and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.services import demo_settings
from dashboard.settings import Settings, load_settings
from dashboard.simulator.embedded import SimulatorConfig, SimulatorHandle, start_simulator_thread
from dashboard.visualizations import figures
from dashboard.visualizations.theme import install_theme

# Production builds figures without plotly's validation (see figures.make_figure);
# every figure any test builds is validated instead. The theme is what create_app installs.
figures.VALIDATE_FIGURES = True
install_theme()


def _start(seed: int = 7, speed: float = 0.0) -> SimulatorHandle:
    # speed=0: a manual clock, so tests decide when time moves (handle.advance).
    return start_simulator_thread(SimulatorConfig(seed=seed, speed=speed, port=0))


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorHandle]:
    """One read-mostly simulator per test process. Tests that trade use ``fresh_sim``."""
    handle = _start()
    yield handle
    handle.stop()


@pytest.fixture
def fresh_sim() -> Iterator[SimulatorHandle]:
    """A private simulator (own account, orders and faults) for tests that change state."""
    handle = _start()
    yield handle
    handle.stop()


def settings_for(handle: SimulatorHandle, tmp_path: Path, **overrides: object) -> Settings:
    """Demo settings aimed at ``handle`` with private data and cache directories.

    Reads get a long deadline: the simulator shares this process and a busy 2-core
    machine, so a production deadline would turn CPU contention into stale results in
    tests about something else. Deadline tests set their own."""
    env = {"DASHBOARD_DATA_DIR": str(tmp_path), "DASHBOARD_READ_DEADLINE_SECONDS": "30"}
    base = load_settings(env=env, env_file=None)
    settings = demo_settings(base, handle.url)
    return settings.with_overrides(**overrides) if overrides else settings


@pytest.fixture
def sim_settings(sim: SimulatorHandle, tmp_path: Path) -> Settings:
    return settings_for(sim, tmp_path)


@pytest.fixture
def fresh_settings(fresh_sim: SimulatorHandle, tmp_path: Path) -> Settings:
    return settings_for(fresh_sim, tmp_path)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium per test process (Playwright allows one sync driver)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
