"""Checks every entry point runs before it serves or trades: one line naming what to set.

``python -m dashboard``, gunicorn's master (``gunicorn.conf.py``) and the exit worker call
these. Each failure is a ``StartupRefused`` (a ``SystemExit``) whose text is a single line
that starts with the environment variable to fix, never a traceback and never a secret.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dashboard.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from dashboard.trading.journal import Journal

log = logging.getLogger(__name__)

__all__ = [
    "StartupRefused",
    "check_data_dir",
    "check_demo_snapshot",
    "check_production_settings",
    "check_redis",
    "check_serving",
    "is_loopback",
    "open_journal",
    "startup_settings",
]


class StartupRefused(SystemExit):
    """Raised with one line that says what to set; the entry point prints it and exits."""


def startup_settings(env: dict[str, str] | None = None) -> Settings:
    """The settings, or ``StartupRefused`` naming the bad variable."""
    try:
        return load_settings(env) if env is not None else load_settings()
    except SettingsError as exc:
        raise StartupRefused(f"configuration error: {exc}") from None


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name or a wildcard: assume reachable from outside


def check_serving(settings: Settings, *, hosts: Sequence[str], workers: int) -> None:
    """Refuse a public bind without a login, and a login whose sessions break across workers.

    A deployed dashboard can send orders, so a public address always needs the login;
    ``DASHBOARD_AUTH=off`` is for loopback only. Sessions are cookies signed with
    ``DASHBOARD_SECRET_KEY``: without it each worker signs with its own random key and a
    signed-in user is refused whenever another worker answers.
    """
    public = [h for h in hosts if not is_loopback(h)]
    if public and not settings.auth_required:
        raise StartupRefused(
            f"DASHBOARD_USERNAME: refusing to serve on {public[0]} without a login; set "
            "DASHBOARD_USERNAME and DASHBOARD_PASSWORD_HASH (python -m "
            "dashboard.security.hash_password), or bind to 127.0.0.1 (DASHBOARD_AUTH=off is "
            "for loopback only)"
        )
    if settings.auth_required and settings.secret_key is None and workers > 1:
        raise StartupRefused(
            f"DASHBOARD_SECRET_KEY: a login served by {workers} workers needs one shared "
            "session key (each worker would sign its own); set it to a long random string, "
            "e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )


def check_data_dir(settings: Settings) -> None:
    """The data folder (journal, caches, snapshot) exists or can be made, and is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StartupRefused(
            f"DASHBOARD_DATA_DIR: cannot write to {path} ({reason}); point it at a writable folder"
        ) from None


def open_journal(settings: Settings) -> Journal:
    """Open (and if needed create or upgrade) the journal, or refuse naming the variable."""
    from dashboard.trading.journal import Journal, JournalError

    variable = "DATABASE_URL" if settings.database_url_setting is not None else "DASHBOARD_DATA_DIR"
    try:
        return Journal.from_settings(settings)
    except JournalError as exc:
        raise StartupRefused(f"{variable}: {exc}") from None
    except Exception as exc:  # a driver error that is not an OperationalError
        raise StartupRefused(
            f"{variable}: cannot open the journal ({type(exc).__name__})"
        ) from None


def check_redis(settings: Settings, timeout: float = 5.0) -> None:
    """``REDIS_URL`` answers: the workers' shared cache (and what else they share) is there.

    The read cache would carry on without it, each process on its own, and nobody would
    notice that N workers now each call upstream; at start the operator can still fix it.
    """
    if settings.redis_url is None:
        return
    import redis

    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    try:
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        host = urlsplit(settings.redis_url.get_secret_value()).hostname or "the socket"
        raise StartupRefused(f"REDIS_URL: cannot reach Redis at {host} ({reason[:120]})") from None
    finally:
        client.close()


def check_demo_snapshot(settings: Settings, journal: Journal) -> None:
    """The demo account's snapshot must match the journal, or start-up stops.

    The simulator keeps the demo broker's account in a JSON snapshot; the journal keeps the
    trades sent to that account. A snapshot that is unreadable, or missing while the journal
    holds trades the broker has seen, would silently open a new, empty account under old
    trades. Nothing is moved or deleted here: the operator decides (restore the file, or
    move it and the journal aside to start a new demo account).
    """
    from dashboard.services import demo_snapshot_path
    from dashboard.simulator.simulation import _SNAPSHOT_VERSION

    path = Path(demo_snapshot_path(settings))
    variable = "DASHBOARD_SIM_SNAPSHOT" if settings.sim_snapshot else "DASHBOARD_DATA_DIR"
    sent = [t for t in journal.list_trades() if t.entry_order_id is not None]
    advice = (
        "restore it, or move it and the journal aside to start a new demo account"
        if sent
        else "move it aside to start a new demo account"
    )
    if not path.exists():
        if sent:
            raise StartupRefused(
                f"{variable}: the demo account snapshot {path} is missing, but the journal "
                f"holds {len(sent)} trade(s) sent to that account; {advice}"
            )
        return
    try:
        known = _snapshot_order_ids(path, _SNAPSHOT_VERSION)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise StartupRefused(
            f"{variable}: the demo account snapshot {path} is unreadable ({reason[:120]}); {advice}"
        ) from None
    unknown = [t.id for t in sent if t.entry_client_order_id not in known]
    if unknown:
        log.warning(
            "demo snapshot %s does not know the entry orders of journal trade(s) %s "
            "(the simulator stopped before its last autosave); reconciliation will mark them",
            path,
            ", ".join(map(str, unknown[:10])),
        )


def _snapshot_order_ids(path: Path, version: int) -> set[str]:
    """The client order ids a snapshot's broker knows; raises if the file is damaged."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("version") != version:
        raise ValueError(f"version {data.get('version')!r}, expected {version}")
    for key in ("start", "sim_time"):
        datetime.fromisoformat(data[key])
    int(data["seed"])
    broker = data["broker"]
    for key in ("account_id", "cash", "positions"):
        broker[key]  # a KeyError means a damaged file
    return {str(o["client_order_id"]) for o in broker["orders"]}


def check_production_settings(
    env: dict[str, str] | None = None,
    *,
    hosts: Sequence[str] = (),
    workers: int = 1,
) -> Settings:
    """Settings for a deployment: valid, with a login unless explicitly off and, given the
    binds and the worker count (gunicorn's master knows them), safe to serve.

    A deployed dashboard can send orders, so serving it without a login must be a
    deliberate choice (``DASHBOARD_AUTH=off``, and on loopback only), never an accident.
    """
    settings = startup_settings(env)
    if settings.auth != "off" and not settings.auth_required:
        raise StartupRefused(
            "DASHBOARD_USERNAME: refusing to start without a login: set DASHBOARD_USERNAME and "
            "DASHBOARD_PASSWORD_HASH (python -m dashboard.security.hash_password), or "
            "DASHBOARD_AUTH=off to serve on loopback without a login"
        )
    check_serving(settings, hosts=hosts, workers=workers)
    if settings.key_mismatch:
        log.warning("Alpaca keys: %s", settings.key_mismatch)
    return settings


def main() -> int:
    """``python -m dashboard.security.startup``: the Procfile's check before gunicorn.

    gunicorn itself reads ``WEB_CONCURRENCY`` with a bare ``int()`` while it is imported, so
    a bad value would end in its traceback before ``gunicorn.conf.py`` runs; this check
    runs first and says which variable is wrong in one line.
    """
    try:
        check_data_dir(startup_settings())
    except StartupRefused as exc:
        print(exc.code, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
