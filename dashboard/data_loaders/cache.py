"""The read cache: in-process TTL + single flight in front of a cross-process store.

Why: N browser sessions refreshing at once must cost one upstream call per endpoint per
TTL. Within a process, concurrent callers of one key await one shared task (single
flight). Across gunicorn workers, finished values go to diskcache (default, in
``data_dir``) or Redis (``REDIS_URL``), so a worker finds what another just fetched.
The last good value of every key is kept, so a failed refresh can still show data,
marked STALE. Shared entries are signed (HMAC) pickles: a value is only unpickled if
this deployment wrote it.

Deadlines: a load (the single flight every caller of a key awaits) runs within
``read_deadline`` seconds, headers, body, retries and lease waits included, then gives
way: its callers get the last good value marked STALE, and the slot is free for the
next refresh, so a trickled body never holds it longer. Each caller also waits no longer
than its own deadline (``loop.current_deadline``, set by ``run_async``).

Rate budget: when the deployment's shared request budget makes a refresh yield
(``RateBudgetExhausted``), a value younger than ``budget_grace`` seconds is served as it
is, with its own as-of time; an older one is marked STALE.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dashboard.data_loaders.budget import Priority, budget_priority, current_priority
from dashboard.data_loaders.errors import RateBudgetExhausted, UpstreamError
from dashboard.data_loaders.loop import deadline_after, remaining
from dashboard.models import DataResult, DataState

__all__ = [
    "DiskSharedCache",
    "Entry",
    "MemorySharedCache",
    "ReadCache",
    "RedisSharedCache",
    "SharedCache",
]

log = logging.getLogger(__name__)
LAST_GOOD_TTL = 24 * 3600.0
_MAX_KEYS = 4096
LEASE_SECONDS = 5.0  # longest another worker waits for the lease holder's fetch
LEASE_POLL_SECONDS = 0.05
READ_DEADLINE = 4.0  # seconds a load may take in all (under the 5 s refresh period)
BUDGET_GRACE = 10.0  # seconds a value serves as it is when the rate budget defers a refresh
# A caller that gives run_async this long or more (a one-off history pull, a backtest) lets
# the loads it starts run that long; interval refreshes (30 s or less) get read_deadline.
PATIENT_CALLER_SECONDS = 90.0


class SharedCache(Protocol):
    """A byte store shared by worker processes (blocking calls; run off the loop)."""

    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl: float) -> None: ...
    def add(self, key: str, value: bytes, ttl: float) -> bool: ...  # set if absent, atomic
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def close(self) -> None: ...


class MemorySharedCache:
    """A process-local stand-in (tests, or when no directory is writable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, bytes]] = {}
        self._clock = clock

    def get(self, key: str) -> bytes | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None or hit[0] <= self._clock():
                return None
            return hit[1]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._data[key] = (self._clock() + ttl, value)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > self._clock():
                return False
            self._data[key] = (self._clock() + ttl, value)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        with self._lock:
            for k in [k for k in self._data if k.startswith(prefix)]:
                del self._data[k]

    def close(self) -> None:
        with self._lock:
            self._data.clear()


class DiskSharedCache:
    """diskcache in a directory; reopened after a fork (SQLite handles must not cross it)."""

    def __init__(self, directory: Path, size_limit: int = 256 * 2**20) -> None:
        self.directory = Path(directory)
        self._size_limit = size_limit
        self._lock = threading.Lock()
        self._cache: Any = None
        self._pid = -1

    def _db(self) -> Any:
        if self._cache is None or self._pid != os.getpid():
            with self._lock:
                if self._cache is None or self._pid != os.getpid():
                    import diskcache

                    self.directory.mkdir(parents=True, exist_ok=True)
                    self._cache = diskcache.Cache(
                        str(self.directory), size_limit=self._size_limit, timeout=1.0
                    )
                    self._pid = os.getpid()
        return self._cache

    def get(self, key: str) -> bytes | None:
        value = self._db().get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._db().set(key, value, expire=ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._db().add(key, value, expire=ttl))

    def delete(self, key: str) -> None:
        self._db().delete(key)

    def delete_prefix(self, prefix: str) -> None:
        db = self._db()
        for k in list(db.iterkeys()):
            if isinstance(k, str) and k.startswith(prefix):
                db.delete(k)

    def close(self) -> None:
        if self._cache is not None and self._pid == os.getpid():
            self._cache.close()
        self._cache = None


class RedisSharedCache:
    """Redis (``REDIS_URL``) with short socket time-outs: a slow cache must not stall pages."""

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        import redis

        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def get(self, key: str) -> bytes | None:
        value = self._client.get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._client.set(key, value, px=max(1, int(ttl * 1000)))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._client.set(key, value, px=max(1, int(ttl * 1000)), nx=True))

    def delete(self, key: str) -> None:
        self._client.delete(key)

    def delete_prefix(self, prefix: str) -> None:
        # SCAN's MATCH is a glob: every special character of the prefix must be escaped.
        literal = "".join("\\" + c if c in "\\*?[]" else c for c in prefix)
        keys = list(self._client.scan_iter(match=literal + "*", count=500))
        if keys:
            self._client.delete(*keys)

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True, slots=True)
class Entry:
    """A good value with where and when it came from."""

    value: Any
    as_of: datetime
    source: str


class ReadCache:
    """TTL + single flight + last good, returning ``DataResult`` and never raising upstream errors.

    All coroutine methods run on the data loop; ``invalidate`` may be called from any
    thread, so the in-process maps sit behind one lock.
    """

    def __init__(
        self,
        shared: SharedCache | None,
        *,
        namespace: str,
        secret: bytes,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        read_deadline: float = READ_DEADLINE,
        budget_grace: float = BUDGET_GRACE,
    ) -> None:
        self.shared = shared
        self.read_deadline = read_deadline
        self.budget_grace = budget_grace
        self._ns = f"strat:v1:{namespace}:"
        self._secret = hashlib.sha256(b"strat-read-cache|" + secret).digest()
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._fresh: dict[str, tuple[float, DataResult[Any]]] = {}
        self._last_good: OrderedDict[str, Entry] = OrderedDict()
        self._stale_since: dict[str, datetime] = {}
        self._inflight: dict[str, asyncio.Task[DataResult[Any]]] = {}
        self._inflight_loop: asyncio.AbstractEventLoop | None = None
        self._shared_error: str | None = None
        self.fetches: dict[str, int] = {}  # upstream loads per key (tests and bench)

    # -- public --------------------------------------------------------------------------
    async def get(
        self,
        key: str,
        ttl: float,
        fetch: Callable[[], Awaitable[tuple[Any, str]]],
        *,
        is_empty: Callable[[Any], bool] = lambda v: False,
        error_source: str = "",
    ) -> DataResult[Any]:
        """The value for ``key``: cached if younger than ``ttl``, else fetched once for all."""
        with self._lock:
            hit = self._fresh.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        loop = asyncio.get_running_loop()
        if self._inflight_loop is not loop:
            self._inflight = {}  # tasks of an old loop (reset or fork) can never finish
            self._inflight_loop = loop
        caller_left = remaining()
        task = self._inflight.get(key)
        if task is None:
            patient = caller_left is not None and caller_left >= PATIENT_CALLER_SECONDS
            limit = caller_left if patient else self.read_deadline
            assert limit is not None
            task = loop.create_task(self._load(key, ttl, fetch, is_empty, error_source, limit))
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._done, key))
        # shield: a caller that gives up (its deadline) must not cancel the others' fetch.
        if caller_left is None:
            return await asyncio.shield(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task), caller_left)
        except TimeoutError:
            return await self._late(key, error_source, caller_left)

    def invalidate(self, prefix: str = "") -> None:
        """Forget fresh values under ``prefix`` here and in the shared store (last good stays)."""
        with self._lock:
            for k in [k for k in self._fresh if k.startswith(prefix)]:
                del self._fresh[k]
        if self.shared is not None:
            try:
                self.shared.delete_prefix(self._ns + "v:" + prefix)
            except Exception as exc:  # a broken cache must not break an order path
                self._note_shared_error(exc)

    def fresh_values(self, prefix: str) -> list[tuple[str, DataResult[Any]]]:
        """Unexpired results in this process whose key starts with ``prefix`` (no I/O), so
        a read can be served from another that already holds its data."""
        now = self._clock()
        with self._lock:
            return [
                (k, r) for k, (exp, r) in self._fresh.items() if k.startswith(prefix) and exp > now
            ]

    def last_good(self, key: str) -> Entry | None:
        with self._lock:
            return self._last_good.get(key)

    # -- internals -----------------------------------------------------------------------
    def _done(self, key: str, task: asyncio.Task[DataResult[Any]]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("read cache load for %s failed", key, exc_info=task.exception())

    async def _load(
        self,
        key: str,
        ttl: float,
        fetch: Callable[[], Awaitable[tuple[Any, str]]],
        is_empty: Callable[[Any], bool],
        error_source: str,
        limit: float,
    ) -> DataResult[Any]:
        """The single flight: within ``limit`` seconds in all, or the last good value."""
        try:
            with deadline_after(limit, tighten_only=False):
                async with asyncio.timeout(limit):
                    return await self._load_within(key, ttl, fetch, is_empty, error_source)
        except TimeoutError:
            message = f"no answer within {limit:g} s (upstream slow)"
            return await self._failed(key, ttl, message, error_source)

    async def _late(self, key: str, source: str, waited: float) -> DataResult[Any]:
        """A caller's own deadline passed while the load runs on: the last good value,
        marked STALE (not remembered: the load may still bring a fresh one)."""
        good = self.last_good(key)
        with self._lock:
            since = self._stale_since.setdefault(key, self._wall())
        error = f"no answer within {waited:.1f} s (upstream slow)"
        if good is None:
            return DataResult(
                value=None, source=source, as_of=None, state=DataState.ERROR, error=error
            )
        return DataResult(
            value=good.value,
            source=good.source,
            as_of=good.as_of,
            state=DataState.STALE,
            error=error,
            stale_since=since,
        )

    async def _load_within(
        self,
        key: str,
        ttl: float,
        fetch: Callable[[], Awaitable[tuple[Any, str]]],
        is_empty: Callable[[Any], bool],
        error_source: str,
    ) -> DataResult[Any]:
        leased = False
        if ttl > 0:
            shared = await self._shared_get("v:" + key)
            if shared is None:
                # Single flight across worker processes: one takes the lease and fetches,
                # the others wait briefly for its value instead of calling upstream too.
                leased = await self._shared_add("l:" + key, LEASE_SECONDS)
                if not leased:
                    shared = await self._wait_for_shared("v:" + key, LEASE_SECONDS)
                else:
                    # The lease may be free because its holder has just stored the value
                    # (between our look and our add): look again before calling upstream.
                    shared = await self._shared_get("v:" + key)
                    if shared is not None:
                        await self._shared_delete("l:" + key)
                        leased = False
            if shared is not None:
                result = self._result(shared, is_empty)
                self._remember(key, ttl, result, None)
                return result
        try:
            return await self._fetch_and_store(key, ttl, fetch, is_empty, error_source)
        finally:
            if leased:
                await self._shared_delete("l:" + key)

    async def _fetch_and_store(
        self,
        key: str,
        ttl: float,
        fetch: Callable[[], Awaitable[tuple[Any, str]]],
        is_empty: Callable[[Any], bool],
        error_source: str,
    ) -> DataResult[Any]:
        try:
            value, source = await self._fetch_patient_when_empty(key, fetch)
        except RateBudgetExhausted as exc:
            return await self._deferred(key, ttl, is_empty, exc, error_source)
        except UpstreamError as exc:
            return await self._failed(key, ttl, str(exc), exc.source or error_source)
        except Exception as exc:  # a parser or programming error: show it, keep last good
            log.exception("unexpected error loading %s", key)
            return await self._failed(
                key, ttl, f"internal error: {type(exc).__name__}", error_source
            )
        entry = Entry(value, self._wall(), source)
        result = self._result(entry, is_empty)
        self._remember(key, ttl, result, entry)
        if ttl > 0:
            await self._shared_set("v:" + key, entry, ttl)
        await self._shared_set("g:" + key, entry, LAST_GOOD_TTL)
        return result

    async def _fetch_patient_when_empty(
        self, key: str, fetch: Callable[[], Awaitable[tuple[Any, str]]]
    ) -> tuple[Any, str]:
        """``fetch``; a refresh the budget deferred, with no value yet to show in its
        place, asks again in the order class (it waits for room instead of yielding):
        yielding only helps when there is something to show meanwhile."""
        try:
            return await fetch()
        except RateBudgetExhausted as exc:
            if exc.status == 429 or current_priority() is not Priority.REFRESH:
                raise
            if self.last_good(key) is not None or await self._shared_get("g:" + key):
                raise
            with budget_priority(Priority.ORDER):
                return await fetch()

    async def _deferred(
        self,
        key: str,
        ttl: float,
        is_empty: Callable[[Any], bool],
        exc: RateBudgetExhausted,
        error_source: str,
    ) -> DataResult[Any]:
        """The budget deferred this refresh: a recent value serves as it is (its own as-of
        says how old it is); anything older than ``budget_grace`` is marked STALE."""
        good = self.last_good(key) or await self._shared_get("g:" + key)
        if good is not None and exc.status != 429:  # a 429 pause is a fault: stale
            age = (self._wall() - good.as_of).total_seconds()
            if age <= self.budget_grace:
                # Not remembered: the next caller (the exit monitor, say) tries again.
                return self._result(good, is_empty)
        return await self._failed(key, ttl, exc.message, exc.source or error_source)

    async def _failed(self, key: str, ttl: float, error: str, source: str) -> DataResult[Any]:
        good = self.last_good(key) or await self._shared_get("g:" + key)
        with self._lock:
            since = self._stale_since.setdefault(key, self._wall())
        if good is not None:
            result: DataResult[Any] = DataResult(
                value=good.value,
                source=good.source,
                as_of=good.as_of,
                state=DataState.STALE,
                error=error,
                stale_since=since,
            )
        else:
            result = DataResult(
                value=None, source=source, as_of=None, state=DataState.ERROR, error=error
            )
        # Failures are cached for the TTL too, so a dead upstream is not hammered by every viewer.
        self._remember(key, ttl, result, None)
        return result

    @staticmethod
    def _result(entry: Entry, is_empty: Callable[[Any], bool]) -> DataResult[Any]:
        state = DataState.EMPTY if is_empty(entry.value) else DataState.FRESH
        return DataResult(value=entry.value, source=entry.source, as_of=entry.as_of, state=state)

    def _remember(self, key: str, ttl: float, result: DataResult[Any], entry: Entry | None) -> None:
        with self._lock:
            if ttl > 0:
                self._fresh[key] = (self._clock() + ttl, result)
                if len(self._fresh) > _MAX_KEYS:
                    now = self._clock()
                    for k in [k for k, (exp, _) in self._fresh.items() if exp <= now]:
                        del self._fresh[k]
            if entry is not None:
                self._last_good[key] = entry
                self._last_good.move_to_end(key)
                while len(self._last_good) > _MAX_KEYS:
                    self._last_good.popitem(last=False)
                self._stale_since.pop(key, None)

    # -- shared store (signed pickles, off the loop, failures tolerated) ------------------
    def _pack(self, entry: Entry) -> bytes:
        body = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        return hmac.new(self._secret, body, hashlib.sha256).digest() + body

    def _unpack(self, blob: bytes) -> Entry | None:
        mac, body = blob[:32], blob[32:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, body, hashlib.sha256).digest()):
            return None
        entry = pickle.loads(body)  # signed by this deployment (checked above)
        return entry if isinstance(entry, Entry) else None

    async def _shared_get(self, key: str) -> Entry | None:
        if self.shared is None:
            return None
        try:
            blob = await asyncio.to_thread(self.shared.get, self._ns + key)
            return None if blob is None else self._unpack(blob)
        except Exception as exc:
            self._note_shared_error(exc)
            return None

    async def _shared_set(self, key: str, entry: Entry, ttl: float) -> None:
        if self.shared is None:
            return
        try:
            blob = self._pack(entry)
            await asyncio.to_thread(self.shared.set, self._ns + key, blob, ttl)
            self._shared_error = None
        except Exception as exc:
            self._note_shared_error(exc)

    async def _shared_add(self, key: str, ttl: float) -> bool:
        """True when this process got the lease (or there is no usable shared store)."""
        if self.shared is None:
            return True
        try:
            return await asyncio.to_thread(self.shared.add, self._ns + key, b"1", ttl)
        except Exception as exc:
            self._note_shared_error(exc)
            return True

    async def _shared_delete(self, key: str) -> None:
        if self.shared is None:
            return
        try:
            await asyncio.to_thread(self.shared.delete, self._ns + key)
        except Exception as exc:
            self._note_shared_error(exc)

    async def _wait_for_shared(self, key: str, seconds: float) -> Entry | None:
        """Poll for the lease holder's value; None if it gives up or fails (fetch here)."""
        lease = self._ns + "l:" + key.removeprefix("v:")
        deadline = self._clock() + seconds
        while self._clock() < deadline:
            await asyncio.sleep(LEASE_POLL_SECONDS)
            entry = await self._shared_get(key)
            if entry is not None:
                return entry
            try:
                held = await asyncio.to_thread(self.shared.get, lease)  # type: ignore[union-attr]
            except Exception:
                return None
            if held is None:  # released without a value: its fetch failed
                return await self._shared_get(key)
        return None

    def _note_shared_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text != self._shared_error:  # once per streak
            self._shared_error = text
            log.warning("shared cache unavailable, using in-process cache only (%s)", text)
