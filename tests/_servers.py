"""Throwaway Postgres and Redis servers for tests: real servers, loopback, a temp directory.

`make test` installs Debian's ``postgresql`` and ``redis-server`` when they are missing.
Each server listens on a free loopback port, keeps its files in a fresh temp directory
and is stopped (and its directory removed) by ``stop()``. Nothing here touches a system
cluster or a system Redis.

Postgres refuses to run as root, and CI runs the suite as root, so there ``initdb`` and
``pg_ctl`` run as the unprivileged ``postgres`` user (created by Debian's package) through
``runuser``; the data directory is handed to that user first. As any other user they run
directly.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServerUnavailable",
    "free_port",
    "postgres_bin_dir",
    "redis_server_binary",
]

START_SECONDS = 60.0


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed (``make test`` installs them)."""


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin_dir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` live: Debian keeps them off PATH, per version."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    raise ServerUnavailable(
        "Postgres is not installed: `make test` installs Debian's postgresql package"
    )


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if not found:
        raise ServerUnavailable(
            "redis-server is not installed: `make test` installs Debian's redis-server package"
        )
    return found


def _as_user() -> tuple[list[str], str | None]:
    """(command prefix, user) to run Postgres as someone other than root."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    raise ServerUnavailable("running as root and no unprivileged user to run Postgres as")


def _wait_port(port: int, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


@dataclass
class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temp directory; trust auth on loopback only."""

    root: Path
    port: int
    bin_dir: Path
    _prefix: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        prefix, user = _as_user()
        root = Path(tempfile.mkdtemp(prefix="strat-pg-"))
        data = root / "data"
        data.mkdir()
        if user is not None:
            shutil.chown(root, user)
            shutil.chown(data, user)
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"],
            check=True, capture_output=True, env=env, cwd=root,
        )  # fmt: skip
        last_error = ""
        for _attempt in range(5):  # a port taken between free_port() and bind: try another
            server = cls(root=root, port=free_port(), bin_dir=bin_dir, _prefix=prefix)
            options = (
                f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=16MB"
            )
            done = subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                 "-o", options, "-w", "-t", str(int(START_SECONDS)), "start"],
                capture_output=True, env=env, cwd=root,
            )  # fmt: skip
            if done.returncode == 0:
                return server
            last_error = (root / "log").read_text(errors="replace")[-2000:]
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"postgres did not start: {last_error}")

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (about half a second); returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_schema(self) -> str:
        """A new empty schema in the shared ``tests`` database (milliseconds): the URL puts
        it first on the search path, so to the app it is an empty database of its own."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'tests'").fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute("CREATE DATABASE tests STRATEGY FILE_COPY")
        with psycopg.connect(self.url("tests").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url('tests')}?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str) -> None:
        import psycopg

        name = url.rsplit("%3D", 1)[1]
        with psycopg.connect(self.url("tests").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def stop(self) -> None:
        subprocess.run(
            [*self._prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
             "-m", "immediate", "-w", "stop"],
            capture_output=True, cwd=self.root,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """``redis-server`` on a free loopback port, no persistence, files in a temp directory."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls) -> RedisServer:
        binary = redis_server_binary()
        root = Path(tempfile.mkdtemp(prefix="strat-redis-"))
        for _attempt in range(5):
            port = free_port()
            proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(root), "--daemonize", "no",
                 "--protected-mode", "yes", "--logfile", str(root / "log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
            )  # fmt: skip
            if _wait_port(port, time.monotonic() + START_SECONDS, proc):
                return cls(root=root, port=port, proc=proc)
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError("redis-server did not start")

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
