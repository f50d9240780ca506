"""gunicorn settings for Railway and any production host (see docs/deployment.md).

2 workers x 8 threads: Railway's small instances have 1-2 vCPUs; callbacks mostly wait on
upstream I/O, so threads give concurrency while two processes survive one crashing.
"""

import os
import subprocess
import sys
import time

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Logs carry a request id (X-Request-ID from the proxy, or gunicorn's own) and never headers.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'
preload_app = False

_simulator: subprocess.Popen | None = None


def on_starting(server):
    """Fail fast in the master with one line, and in demo mode start one shared simulator."""
    global _simulator
    from dashboard.security.startup import check_production_settings
    from dashboard.services import demo_snapshot_path

    settings = check_production_settings()
    if settings.mode == "demo" and not settings.simulator_url:
        port = int(os.environ.get("DASHBOARD_SIMULATOR_PORT", "18765"))
        _simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dashboard.simulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--seed",
                str(settings.sim_seed),
                "--speed",
                str(settings.sim_speed),
                "--snapshot",
                str(demo_snapshot_path(settings)),
            ],
        )
        os.environ["DASHBOARD_SIMULATOR_URL"] = f"http://127.0.0.1:{port}"
        _wait_for(f"http://127.0.0.1:{port}/_sim/state")


def _wait_for(url: str, seconds: float = 15.0) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"demo simulator did not start at {url}")


def on_exit(server):
    if _simulator is not None:
        _simulator.terminate()
        _simulator.wait(timeout=10)
