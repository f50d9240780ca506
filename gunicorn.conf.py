"""gunicorn settings for Railway and any production host (see docs/deployment.md).

2 workers x 8 threads: Railway's small instances have 1-2 vCPUs; callbacks mostly wait on
upstream I/O, so threads give concurrency while two processes survive one crashing.
Every setting comes from the validated settings: a bad variable stops gunicorn here with
one line naming it, before anything starts.
"""

import subprocess
import sys

from dashboard.security.startup import startup_settings

_settings = startup_settings()  # StartupRefused (SystemExit): one line, no traceback

workers = _settings.web_concurrency
threads = _settings.gunicorn_threads
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Logs carry the worker's pid and a request id (X-Request-ID from the proxy) and never headers.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s rid=%({x-request-id}i)s'
preload_app = False
# gunicorn 25.1+ opens a control socket in $HOME by default (resize, shut down); nothing
# here uses it, and two servers on one host would fight over the one path.
control_socket_disable = True

_simulator: subprocess.Popen | None = None


def _bind_hosts(server) -> list[str]:
    """The hosts gunicorn binds (a unix socket or an inherited fd is local)."""
    return [a[0] for a in server.cfg.address if isinstance(a, tuple)]


def on_starting(server):
    """In the master, before any worker: refuse unsafe settings in one line, create or
    upgrade the journal's schema once, check the demo snapshot, and in demo mode start
    the one simulator every worker shares."""
    global _simulator
    import os

    from dashboard.security.startup import (
        check_data_dir,
        check_demo_snapshot,
        check_production_settings,
        check_redis,
        open_journal,
    )
    from dashboard.services import demo_snapshot_path

    settings = check_production_settings(hosts=_bind_hosts(server), workers=server.cfg.workers)
    check_data_dir(settings)
    check_redis(settings)
    journal = open_journal(settings)
    try:
        if settings.mode == "demo" and not settings.simulator_url:
            check_demo_snapshot(settings, journal)
    finally:
        journal.close()
    if settings.mode == "demo" and not settings.simulator_url:
        port = settings.simulator_port
        _simulator = subprocess.Popen(
            [
                sys.executable, "-m", "dashboard.simulator", "--host", "127.0.0.1",
                "--port", str(port), "--seed", str(settings.sim_seed),
                "--speed", str(settings.sim_speed),
                "--snapshot", str(demo_snapshot_path(settings)),
            ],
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        os.environ["DASHBOARD_SIMULATOR_URL"] = f"http://127.0.0.1:{port}"
        _wait_for(f"http://127.0.0.1:{port}/_sim/state")


def _die_with_parent() -> None:
    """Linux: the simulator gets SIGTERM if the master dies, even by SIGKILL (no orphan)."""
    import contextlib
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):  # not Linux: on_exit still stops it
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_for(url: str, seconds: float = 15.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _simulator is not None and _simulator.poll() is not None:
            raise SystemExit(f"DASHBOARD_SIMULATOR_PORT: the demo simulator exited ({url})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"DASHBOARD_SIMULATOR_PORT: the demo simulator did not start at {url}")


def worker_exit(server, worker):
    """A worker stopping (SIGTERM, max requests, time-out): close what its app built, so the
    exit monitor hands its lease over at once and the compute process stops with it."""
    try:
        from dashboard import app as dashboard_app

        built = dashboard_app.__dict__.get("_server")
        if built is not None:
            built.extensions["dashboard_services"].close()
    except Exception:  # the worker is going away regardless
        server.log.exception("closing the worker's services failed")


def on_exit(server):
    if _simulator is not None:
        _simulator.terminate()
        _simulator.wait(timeout=10)
