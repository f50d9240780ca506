"""The Procfile run as Railway runs it: ``web`` and ``worker``, each its own process tree
with its own data folder (Railway services do not share a disk), both on one Postgres
(``DATABASE_URL``) and one Redis (``REDIS_URL``), against an Alpaca-compatible upstream
(the simulator in its own process) with paper keys and a login.

Used by ``tests/test_deployment.py`` and ``bench/deploy_starts.py`` (20 fresh starts).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests._procs import alive, children, descendants, wait_until_gone
from tests._servers import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long test password"  # a throwaway login for a throwaway deployment
USERNAME = "trader"
_PID = re.compile(r" pid=<?(\d+)>? ")


def procfile() -> dict[str, str]:
    """Process name → command, exactly as the Procfile says."""
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            out[name.strip()] = command.strip()
    return out


def password_hash(password: str = PASSWORD) -> str:
    """docs/deployment.md step 3: the hash from ``python -m dashboard.security.hash_password``."""
    done = subprocess.run(
        [_python(), "-m", "dashboard.security.hash_password"],
        input=password + "\n", capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _python() -> str:
    import sys

    return sys.executable


def railway_url(sqlalchemy_url: str) -> str:
    """The form Railway's Postgres plug-in hands out: ``postgresql://`` (no driver)."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class Deployment:
    """Both Procfile processes; ``stop()`` ends their whole process trees."""

    workdir: Path
    env: dict[str, str]
    port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        database_url: str,
        redis_url: str,
        upstream_url: str,
        pw_hash: str,
        extra_env: dict[str, str] | None = None,
    ) -> Deployment:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("DASHBOARD_", "APCA_", "ALPACA_", "DATABASE_", "REDIS_", "WEB_", "GUNICORN_")
            )
        }
        base["PATH"] = f"{Path(_python()).parent}:{base.get('PATH', '')}"
        # docs/deployment.md step 4: the variables set on both services.
        env = {
            **base,
            "PORT": str(port),
            "DATABASE_URL": railway_url(database_url),
            "REDIS_URL": redis_url,
            "APCA_API_KEY_ID": "simulator-placeholder-key-id",
            "APCA_API_SECRET_KEY": secrets.token_hex(16),
            "APCA_API_BASE_URL": upstream_url,
            "APCA_API_DATA_URL": upstream_url,
            "THETADATA_URL": upstream_url,
            "DASHBOARD_USERNAME": USERNAME,
            "DASHBOARD_PASSWORD_HASH": pw_hash,
            "DASHBOARD_SECRET_KEY": secrets.token_hex(32),
            **(extra_env or {}),
        }
        self = cls(workdir=workdir, env=env, port=port)
        commands = procfile()
        for name in ("web", "worker"):  # both at once, as a deploy starts them
            data_dir = workdir / name  # each service has its own disk
            data_dir.mkdir(exist_ok=True)
            log = (workdir / f"{name}.log").open("wb")
            self.procs[name] = subprocess.Popen(
                ["sh", "-c", commands[name]],
                cwd=ROOT,
                env={**env, "DASHBOARD_DATA_DIR": str(data_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
        return self

    # ---- state -------------------------------------------------------------------------
    def log(self, name: str) -> str:
        try:
            return (self.workdir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def logs_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {n} ---\n{self.log(n)[-chars:]}" for n in ("web", "worker"))

    @property
    def master(self) -> int:
        """The gunicorn master: the web line ``exec``s it in place of its shell."""
        return self.procs["web"].pid

    def web_workers(self) -> list[int]:
        return children(self.master)

    def served_by(self) -> list[int]:
        """Worker pids in the access log, in order."""
        return [int(m.group(1)) for m in _PID.finditer(self.log("web"))]

    def client(self) -> httpx.Client:
        """A client that opens a new connection per request, so any worker may answer."""
        return httpx.Client(
            base_url=self.url,
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"Connection": "close"},
        )

    def wait_ready(self, seconds: float = 240.0) -> None:
        """Both processes up, and each of the gunicorn workers has answered /healthz."""
        deadline = time.monotonic() + seconds
        with self.client() as http:
            while time.monotonic() < deadline:
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise AssertionError(
                            f"{name} exited ({proc.returncode})\n{self.logs_tail()}"
                        )
                workers = self.web_workers()
                with contextlib.suppress(httpx.HTTPError):
                    http.get("/healthz")
                answered = set(self.served_by()) & set(workers)
                if (
                    len(workers) == 2
                    and answered == set(workers)
                    and "exit worker starting" in self.log("worker")
                ):
                    return
                time.sleep(0.2)
        raise AssertionError(f"the deployment was not ready in {seconds} s\n{self.logs_tail()}")

    def login(self, http: httpx.Client) -> dict[str, str]:
        """Sign in; the ``Cookie`` header a browser would send from now on.

        The session cookie is ``Secure`` (the app sits behind Railway's HTTPS proxy), so an
        HTTP client on loopback would not send it back by itself: the header carries it.
        """
        r = http.post("/login", data={"username": USERNAME, "password": PASSWORD, "next": "/"})
        assert r.status_code in (302, 303), (r.status_code, r.text[:300])
        assert "Secure" in r.headers.get("set-cookie", "")
        return {"Cookie": f"session={r.cookies['session']}"}

    # ---- control -----------------------------------------------------------------------
    def restart_worker(self) -> None:
        """What Railway does when the worker service's process dies."""
        commands = procfile()
        data_dir = self.workdir / "worker"
        log = (self.workdir / "worker.log").open("ab")
        self.procs["worker"] = subprocess.Popen(
            ["sh", "-c", commands["worker"]],
            cwd=ROOT,
            env={**self.env, "DASHBOARD_DATA_DIR": str(data_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self, grace: float = 40.0) -> list[int]:
        """SIGTERM each tree as the platform does, then SIGKILL what is left; the pids that
        outlived the graceful time-out (an empty list is a clean stop)."""
        tree: list[int] = []
        for proc in self.procs.values():
            tree += [proc.pid, *descendants(proc.pid)]
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        survivors = wait_until_gone(tree, 5)
        for pid in survivors:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        return survivors


def dash_body(
    dependencies: list[dict[str, Any]], output: str, values: dict[str, Any], changed: str
) -> dict[str, Any]:
    """The body dash-renderer POSTs to ``/_dash-update-component`` for the callback whose
    outputs include ``output`` ("id.prop"), with ``values`` for its inputs and states."""

    def parts(key: str) -> list[str]:
        return key[2:-2].split("...") if key.startswith("..") else [key]

    def with_value(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "value": values.get(f"{item['id']}.{item['property']}")}

    spec = next(d for d in dependencies if output in parts(d["output"]))
    key = spec["output"]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts(key)]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [with_value(i) for i in spec["inputs"]],
        "state": [with_value(s) for s in spec["state"]],
        "changedPropIds": [changed],
    }


def kill9(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def journal_state(database_url: str) -> dict[str, Any]:
    """Schema version and row counts, read straight from Postgres."""
    import psycopg

    plain = railway_url(database_url)
    with psycopg.connect(plain) as conn:
        meta = dict(conn.execute("SELECT key, value FROM journal_meta").fetchall())
        trades = conn.execute("SELECT count(*) FROM trades").fetchone()
    return {"meta": meta, "trades": trades[0] if trades else 0}


def is_alive(pid: int) -> bool:
    return alive(pid)
