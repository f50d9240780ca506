"""``python -m dashboard``: run locally (the embedded simulator unless Alpaca keys are set)."""

from __future__ import annotations

import argparse
import logging
import sys

from dashboard.settings import SettingsError, load_settings


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
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if changes:
        settings = settings.with_overrides(**changes)

    loopback = settings.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not settings.auth_required and settings.auth != "off":
        print(
            f"refusing to serve on {settings.host} without a login: set DASHBOARD_USERNAME and "
            "DASHBOARD_PASSWORD_HASH, or DASHBOARD_AUTH=off if you really mean it",
            file=sys.stderr,
        )
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
    try:
        app.run(host=settings.host, port=settings.port, debug=False, threaded=True)
    finally:
        from dashboard.app import services_of

        services_of(app).close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
