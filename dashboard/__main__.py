"""``python -m dashboard``: run locally (the embedded simulator unless Alpaca keys are set)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from dashboard.security.startup import (
    StartupRefused,
    check_data_dir,
    check_demo_snapshot,
    check_redis,
    check_serving,
    open_journal,
    startup_settings,
)


def _stop_serving(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # werkzeug's serve_forever returns on it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--host", help="bind address (default DASHBOARD_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default DASHBOARD_PORT or 8050)")
    args = parser.parse_args(argv)

    for noisy in ("httpx", "werkzeug"):  # one line per request drowns what matters
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = startup_settings()
        changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
        if changes:
            settings = settings.with_overrides(**changes)
        check_serving(settings, hosts=[settings.host], workers=1)
        check_data_dir(settings)
        check_redis(settings)
        journal = open_journal(settings)  # also creates or upgrades its schema
        try:
            if settings.mode == "demo" and not settings.simulator_url:
                check_demo_snapshot(settings, journal)
        finally:
            journal.close()
    except StartupRefused as exc:
        print(exc.code, file=sys.stderr)
        return 2
    if settings.key_mismatch:
        logging.getLogger("dashboard").warning("Alpaca keys: %s", settings.key_mismatch)

    from dashboard.app import create_app

    app = create_app(settings)
    login = "login required" if settings.auth_required else "no login (local use only)"
    print(
        f"STRAT dashboard on http://{settings.host}:{settings.port}  "
        f"[{settings.mode_label}; {login}]",
        flush=True,
    )
    # SIGTERM (a host stopping the app) ends the server loop like Ctrl-C, so the services
    # below close: the exit monitor releases its lease, the compute process and the
    # embedded simulator stop (and its snapshot is saved).
    signal.signal(signal.SIGTERM, _stop_serving)
    try:
        app.run(host=settings.host, port=settings.port, debug=False, threaded=True)
    finally:
        from dashboard.app import services_of

        services_of(app).close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
