"""``python -m dashboard.trading.exit_worker``: the trade monitor (armed entries and
exits) as its own process.

This is the Procfile's ``worker`` line. It reads the same settings as the web process,
uses the same journal database (``DATABASE_URL``) and competes for the same lease, so
running it next to in-process monitors still fires each entry and exit once. SIGTERM (Railway's
stop signal) ends the loop after the current pass and releases the lease.

In demo mode the worker needs the shared simulator's URL (``DASHBOARD_SIMULATOR_URL``):
a private simulator would be a different market and a different account.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from dashboard.security.startup import (
    StartupRefused,
    check_data_dir,
    check_redis,
    open_journal,
    startup_settings,
)
from dashboard.settings import Settings, SettingsError

if TYPE_CHECKING:
    from dashboard.trading.journal import Journal

log = logging.getLogger("dashboard.trading.exit_worker")


def worker_settings(settings: Settings) -> Settings:
    """The settings the worker trades with; demo mode is pointed at the shared simulator."""
    if settings.mode != "demo":
        return settings
    if not settings.simulator_url:
        raise SettingsError(
            "DASHBOARD_SIMULATOR_URL: the exit worker in demo mode needs the shared simulator's URL"
        )
    from dashboard.services import demo_settings

    return demo_settings(settings, settings.simulator_url)


def run(
    settings: Settings,
    stop: threading.Event,
    *,
    once: bool = False,
    journal: Journal | None = None,
) -> int:
    """Reconcile the journal, then run monitor passes until ``stop`` is set."""
    from dashboard.alerts.engine import AlertEngine, webhook_for
    from dashboard.alerts.store import AlertStore
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.data_loaders.loop import run_async
    from dashboard.trading.exit_monitor import ExitMonitor, exit_config_for
    from dashboard.trading.journal import Journal
    from dashboard.trading.orders import reconcile

    journal = journal or Journal.from_settings(settings)
    data = AsyncDataService.from_settings(settings)
    store = AlertStore.of(journal)
    alerts = AlertEngine(
        data, journal, settings, store=store, delivery=webhook_for(settings, store)
    )
    monitor = ExitMonitor(
        data, journal, config=exit_config_for(settings), pass_hooks=[alerts.on_pass]
    )
    alerts.start(watch=False)  # webhook delivery; the web processes watch this heartbeat
    try:
        try:
            run_async(reconcile(data, journal), timeout=120)
        except Exception:
            log.exception("start-up reconciliation failed; the monitor will retry per trade")
        while not stop.is_set():
            try:
                result = run_async(monitor.run_once(), timeout=max(60.0, 4 * monitor.interval))
                for r in result.results:
                    log.info("%s", r.message)
                for e in result.errors:
                    log.warning("%s", e)
            except Exception:
                log.exception("exit monitor pass failed")
            if once:
                break
            stop.wait(monitor.interval)
    finally:
        try:
            alerts.stop()
            monitor.release()
        finally:
            data.close_sync()
            journal.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = worker_settings(startup_settings())
        check_data_dir(settings)
        check_redis(settings)
        journal = open_journal(settings)  # creates or upgrades the schema, under its lock
    except SettingsError as exc:
        print(f"exit worker: configuration error: {exc}", file=sys.stderr)
        return 2
    except StartupRefused as exc:
        print(f"exit worker: {exc.code}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after this pass", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    log.info(
        "exit worker starting (%s, journal %s)",
        settings.mode_label,
        settings.database_url.split("://")[0],
    )
    return run(settings, stop, once="--once" in args, journal=journal)


if __name__ == "__main__":
    raise SystemExit(main())
