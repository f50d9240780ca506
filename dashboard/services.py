"""The long-lived services of one process, built once by the app factory from settings.

Callbacks receive this object instead of importing globals, so tests can inject their
own (a simulator on a free port, a temporary journal) and nothing is built at import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from dashboard.settings import Settings

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    data: AsyncDataService
    simulator: Any | None = None  # SimulatorHandle when demo mode runs it in-process
    extras: dict[str, Any] = field(default_factory=dict)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def current_regime(self) -> tuple[str, datetime] | None:
        """The latest regime label and its date, once the regime model has produced one."""
        provider = self.extras.get("regime_provider")
        if provider is None:
            return None
        return provider()

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception:  # a failing closer must not stop the others
                log.exception("error while closing a service")
        self._closers.clear()


def demo_settings(settings: Settings, simulator_url: str) -> Settings:
    """Point every upstream at the simulator, which speaks Alpaca's and ThetaData's APIs."""
    return settings.with_overrides(
        alpaca_trading_url_setting=simulator_url,
        alpaca_data_url_setting=simulator_url,
        thetadata_url=simulator_url,
        # Placeholders, not credentials: the loopback simulator accepts any key pair.
        alpaca_key_id=SecretStr("simulator-placeholder"),
        alpaca_secret_key=SecretStr("simulator-placeholder"),
        mode_setting="demo",
    )


def demo_snapshot_path(settings: Settings) -> Path:
    """Where the demo broker keeps its account: next to the journal by default, so that
    after a restart the journal's trades and the broker's positions still agree."""
    return settings.sim_snapshot or settings.data_dir / "simulator-snapshot.json"


def start_embedded_simulator(settings: Settings) -> Any:
    """Start the simulator in this process on a free loopback port."""
    from dashboard.simulator.testing import SimulatorConfig, start_simulator_thread

    config = SimulatorConfig(
        seed=settings.sim_seed,
        speed=settings.sim_speed,
        snapshot_path=demo_snapshot_path(settings),
    )
    return start_simulator_thread(config)


def build_services(settings: Settings, *, exit_monitor: bool = True) -> Services:
    """Build the data service, the journal and the exit monitor (and, in demo mode, the
    simulator they talk to). ``exit_monitor=False`` leaves exits to a separate worker."""
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.trading.exit_monitor import ExitMonitor
    from dashboard.trading.journal import Journal

    simulator = None
    effective = settings
    if settings.mode == "demo":
        if settings.simulator_url:
            effective = demo_settings(settings, settings.simulator_url)
        else:
            simulator = start_embedded_simulator(settings)
            effective = demo_settings(settings, simulator.url)
    data = AsyncDataService.from_settings(effective)
    services = Services(settings=effective, data=data, simulator=simulator)
    if simulator is not None:
        services.on_close(simulator.stop)
    services.on_close(data.close_sync)
    from dashboard.regime_service import install_regime_service

    install_regime_service(services)  # fits off the request path; feeds the header badge
    journal = Journal.from_settings(effective)
    services.extras["journal"] = journal
    services.on_close(journal.close)
    if exit_monitor:
        # The monitor holds a lease in the journal, so several processes never double-exit.
        monitor = ExitMonitor(data, journal)
        services.extras["exit_monitor"] = monitor
        monitor.start()
        services.on_close(monitor.stop)
    return services
