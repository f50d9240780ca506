"""Shared fixtures: the simulator over real HTTP on loopback, settings that point at it, and
throwaway Postgres and Redis servers (``tests/_servers.py``) for the SQL and cache backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboard.services import demo_settings
from dashboard.settings import Settings, load_settings
from dashboard.simulator.embedded import SimulatorConfig, SimulatorHandle, start_simulator_thread
from dashboard.visualizations import figures
from dashboard.visualizations.theme import install_theme
from tests._servers import PostgresServer, RedisServer

if TYPE_CHECKING:
    from dashboard.data_loaders.cache import SharedCache

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


# ---- real Postgres and Redis ------------------------------------------------------------------
# One server of each per test process (xdist worker), started on first use; each test gets a
# new database or an emptied Redis.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty Postgres schema that the URL (SQLAlchemy, psycopg 3) makes the default one,
    so the app sees an empty database; a schema costs milliseconds, a database ~0.5 s."""
    url = postgres_server.create_schema()
    yield url
    postgres_server.drop_schema(url)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The test Redis, emptied."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture(params=["sqlite", "postgres"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh journal database: a SQLite file, then a Postgres database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["diskcache", "redis"])
def shared_cache_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], SharedCache]]:
    """Makes one worker's view of a store shared by workers: diskcache, then Redis."""
    from dashboard.data_loaders.cache import DiskSharedCache, RedisSharedCache

    made: list[SharedCache] = []
    if request.param == "diskcache":

        def make() -> SharedCache:
            made.append(DiskSharedCache(tmp_path / "shared-cache"))
            return made[-1]

    else:
        url = request.getfixturevalue("redis_url")

        def make() -> SharedCache:
            made.append(RedisSharedCache(url))
            return made[-1]

    yield make
    for cache in made:
        cache.close()


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
