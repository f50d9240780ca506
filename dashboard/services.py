"""The long-lived services of one process, built once by the composition root.

``build_services`` is the only place that wires the process together: the data service
(and, in demo mode, the embedded simulator it talks to), the journal, the regime model,
the background job cache and the exit monitor. Callbacks receive the typed ``Services``
instead of importing globals, so tests can inject their own (a simulator on a free port,
a temporary journal) and nothing is built at import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from dashboard.settings import Settings

if TYPE_CHECKING:
    from dashboard.alerts.engine import AlertEngine
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.jobs import DailyJobCache
    from dashboard.regime_service import RegimeService
    from dashboard.simulator.embedded import SimulatorHandle
    from dashboard.trading.exit_monitor import ExitMonitor
    from dashboard.trading.journal import Journal

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a callback may use. ``exit_monitor`` is None when a separate worker
    process manages exits; ``simulator`` is set only when demo mode runs it in-process.
    ``alerts`` records and delivers alerts (its rules run in the monitor's passes)."""

    settings: Settings
    data: AsyncDataService
    journal: Journal
    regime: RegimeService
    jobs: DailyJobCache
    exit_monitor: ExitMonitor | None = None
    simulator: SimulatorHandle | None = None
    alerts: AlertEngine | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def current_regime(self) -> tuple[str, datetime] | None:
        """The latest regime label and its date, once the regime model has produced one."""
        return self.regime.current_regime()

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


def start_embedded_simulator(settings: Settings) -> SimulatorHandle:
    """Start the simulator in this process on a free loopback port."""
    from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread

    config = SimulatorConfig(
        seed=settings.sim_seed,
        speed=settings.sim_speed,
        snapshot_path=demo_snapshot_path(settings),
    )
    return start_simulator_thread(config)


def build_services(settings: Settings, *, exit_monitor: bool = True) -> Services:
    """Build the data service, the journal, the regime model, the job cache, the alert
    engine and the exit monitor (and, in demo mode, the simulator they talk to).
    ``exit_monitor=False`` leaves exits (and the alert rules) to a separate worker."""
    from dashboard.alerts.engine import AlertEngine, webhook_for
    from dashboard.alerts.store import AlertStore
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.jobs import DailyJobCache, shutdown_compute_pool
    from dashboard.regime_service import RegimeService
    from dashboard.trading.exit_monitor import ExitMonitor, exit_config_for
    from dashboard.trading.journal import Journal

    closers: list[Callable[[], None]] = []
    simulator = None
    effective = settings
    if settings.mode == "demo":
        if settings.simulator_url:
            effective = demo_settings(settings, settings.simulator_url)
        else:
            simulator = start_embedded_simulator(settings)
            closers.append(simulator.stop)
            effective = demo_settings(settings, simulator.url)
    data = AsyncDataService.from_settings(effective)
    closers.append(data.close_sync)
    regime = RegimeService(data, effective.data_dir)  # fits off the request path
    jobs = DailyJobCache(effective.data_dir / "jobs-cache")
    closers += [regime.close, jobs.close, shutdown_compute_pool]
    journal = Journal.from_settings(effective)
    closers.append(journal.close)
    store = AlertStore.of(journal)
    alerts = AlertEngine(
        data, journal, effective, store=store, delivery=webhook_for(effective, store)
    )
    monitor = None
    if exit_monitor:
        # The monitor holds a lease in the journal, so several processes never double-exit;
        # the alert rules run at the end of each pass this process makes as leader.
        monitor = ExitMonitor(
            data, journal, config=exit_config_for(effective), pass_hooks=[alerts.on_pass]
        )
        monitor.start()
        closers.append(monitor.stop)
    # Webhook delivery, and the watcher that tells when no monitor passes any more.
    alerts.start(watch=True)
    closers.append(alerts.stop)
    services = Services(
        settings=effective,
        data=data,
        journal=journal,
        regime=regime,
        jobs=jobs,
        exit_monitor=monitor,
        simulator=simulator,
        alerts=alerts,
    )
    for fn in closers:
        services.on_close(fn)
    return services
