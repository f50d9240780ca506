"""gunicorn with the production config (``gunicorn.conf.py``) against a benchmark simulator,
and /proc readings of its workers (psutil is not a dependency)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench._simproc import free_port

ROOT = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")


class Gunicorn:
    """``gunicorn dashboard.app:server --config gunicorn.conf.py`` on a free loopback port.

    Demo mode with ``DASHBOARD_SIMULATOR_URL`` set, so the workers share the benchmark's
    simulator (the config starts its own only when that is unset); login off.
    """

    def __init__(
        self, data_dir: Path, simulator_url: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("APCA_", "ALPACA_", "DASHBOARD_", "REDIS_", "DATABASE_"))
        }
        env.update(
            DASHBOARD_AUTH="off",
            DASHBOARD_DATA_DIR=str(data_dir),
            DASHBOARD_SIMULATOR_URL=simulator_url,
            DASHBOARD_SECRET_KEY=secrets.token_hex(32),  # one per run, shared by its workers
            **(extra_env or {}),
        )
        self.log = (data_dir / "gunicorn.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "dashboard.app:server",
                "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {data_dir / 'gunicorn.log'}")
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 120 s")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(d.name))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ExitWorker:
    """The Procfile's ``worker`` line (``python -m dashboard.trading.exit_worker``) on the
    same data directory and simulator as the gunicorn workers."""

    def __init__(self, data_dir: Path, simulator_url: str, extra_env: dict[str, str]) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("APCA_", "ALPACA_", "DASHBOARD_", "REDIS_", "DATABASE_"))
        }
        env.update(
            DASHBOARD_DATA_DIR=str(data_dir),
            DASHBOARD_SIMULATOR_URL=simulator_url,
            **extra_env,
        )
        self.log = (data_dir / "exit-worker.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.trading.exit_worker"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
