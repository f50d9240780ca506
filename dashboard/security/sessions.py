"""Server-side session registry: a signed cookie alone no longer proves a session.

Why: Flask's session is a signed cookie, so a copy taken before logout kept working after
it (issue 23). Each login now registers a random session id here (Redis, or diskcache
shared by the workers of one host), the cookie carries the id, every request checks it
is still registered, and logout deletes it. Only a hash of the id is stored.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "DiskSessionStore",
    "MemorySessionStore",
    "RedisSessionStore",
    "SessionStore",
    "session_key",
]


def session_key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    def set(self, key: str, username: str, ttl: float) -> None: ...
    def get(self, key: str) -> str | None: ...
    def delete(self, key: str) -> None: ...


class MemorySessionStore:
    """One process only (tests, single-process local runs)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def set(self, key: str, username: str, ttl: float) -> None:
        with self._lock:
            self._data[key] = (username, self._clock() + ttl)

    def get(self, key: str) -> str | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None or hit[1] <= self._clock():
                self._data.pop(key, None)
                return None
            return hit[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class DiskSessionStore:
    """diskcache shared by every worker on this host (reopened after a fork)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._cache: Any = None
        self._pid = -1

    def _db(self) -> Any:
        if self._cache is None or self._pid != os.getpid():
            with self._lock:
                if self._cache is None or self._pid != os.getpid():
                    import diskcache

                    self.directory.mkdir(parents=True, exist_ok=True)
                    self._cache = diskcache.Cache(str(self.directory), timeout=2.0)
                    self._pid = os.getpid()
        return self._cache

    def set(self, key: str, username: str, ttl: float) -> None:
        self._db().set(key, username, expire=ttl)

    def get(self, key: str) -> str | None:
        value = self._db().get(key)
        return value if isinstance(value, str) else None

    def delete(self, key: str) -> None:
        self._db().delete(key)


class RedisSessionStore:
    """Redis (``REDIS_URL``): shared by every worker on every host."""

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        import redis

        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def set(self, key: str, username: str, ttl: float) -> None:
        self._client.set(key, username.encode(), px=max(1, int(ttl * 1000)))

    def get(self, key: str) -> str | None:
        value = self._client.get(key)
        return value.decode() if isinstance(value, bytes) else None

    def delete(self, key: str) -> None:
        self._client.delete(key)
