"""One request budget for the whole deployment: every gunicorn worker and the exit worker.

Why: Alpaca allows 200 requests a minute per account (trading and the basic data plan),
and a per-process limiter multiplies with the number of processes. Here every process
draws from one budget kept in a store they all share (Redis when ``REDIS_URL`` is set,
else diskcache in ``data_dir`` on this host), updated atomically per request.

The algorithm is GCRA (the generic cell rate algorithm, a token bucket kept as one
number): the budget allows ``per_minute`` requests a minute, one every ``interval``
seconds, and a request may run ahead of that pace by at most its class's tolerance.
Two classes share it:

- ``Priority.ORDER`` (order entry, cancels, the exit monitor's reads): the larger
  tolerance (``ORDER_BURST`` requests), and it may wait up to ``ORDER_MAX_WAIT``.
- ``Priority.REFRESH`` (every other read, i.e. interval refreshes): a smaller tolerance
  (``REFRESH_BURST``) and a short wait at most; past that it yields with
  ``RateBudgetExhausted`` and the read cache serves the value it has.

One exception: a refresh read with nothing yet to show in its place (a key's first read
in this deployment) asks again in the order class (``cache.ReadCache``), once per key,
since yielding only helps when a last value can be shown meanwhile. Otherwise refreshes
never use the headroom kept for orders, and in any 60 s window at most
``per_minute + ORDER_BURST`` requests leave the deployment, under the broker's limit. A
429 pauses the whole budget, for every process, for the broker's ``Retry-After``.

Fail-safe: if the shared store breaks, this process falls back to its own budget of
``per_minute / FALLBACK_PROCESSES`` (the Procfile runs three processes) and says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dashboard.data_loaders.errors import RateBudgetExhausted

__all__ = [
    "BROKER_LIMIT_PER_MINUTE",
    "BudgetPolicy",
    "BudgetStore",
    "DiskBudgetStore",
    "MemoryBudgetStore",
    "Priority",
    "RateBudget",
    "RedisBudgetStore",
    "admit",
    "budget_priority",
    "current_priority",
]

log = logging.getLogger(__name__)

BROKER_LIMIT_PER_MINUTE = 200  # Alpaca: per account, trading and the basic data plan
BUDGET_SHARE = 0.8  # the deployment's steady pace: 160/min of the broker's 200
ORDER_BURST = 25  # requests orders may run ahead of the pace (headroom: 200 - 160 - 25 = 15)
REFRESH_BURST = 8  # requests a refresh burst may run ahead; the rest is kept for orders
REFRESH_MAX_WAIT = 0.5  # seconds a refresh waits for room before it yields
ORDER_MAX_WAIT = 15.0  # seconds an order-class request waits for room (capped by its deadline)
BUCKET_SECONDS = 10  # usage counters: 6 buckets make the last minute
FALLBACK_PROCESSES = 3


class Priority(enum.IntEnum):
    REFRESH = 0
    ORDER = 1


_PRIORITY: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "budget_priority", default=Priority.REFRESH
)


def current_priority() -> Priority:
    return _PRIORITY.get()


@contextlib.contextmanager
def budget_priority(priority: Priority) -> Iterator[None]:
    """Requests made in this block (and tasks it starts) draw from ``priority``'s class."""
    token = _PRIORITY.set(priority)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """The numbers of one budget; ``window_bound`` is the most any 60 s can carry."""

    broker_limit: int = BROKER_LIMIT_PER_MINUTE
    share: float = BUDGET_SHARE
    order_burst: int = ORDER_BURST
    refresh_burst: int = REFRESH_BURST
    refresh_max_wait: float = REFRESH_MAX_WAIT
    order_max_wait: float = ORDER_MAX_WAIT

    def __post_init__(self) -> None:
        if self.broker_limit < 1 or not 0 < self.share <= 1:
            raise ValueError("the broker limit must be >= 1 and the share in (0, 1]")
        if not 1 <= self.refresh_burst <= self.order_burst:
            raise ValueError("need 1 <= refresh burst <= order burst")

    @classmethod
    def for_limit(cls, broker_limit: int) -> BudgetPolicy:
        """The default shares for any limit: bursts of 12.5 % (orders) and 4 % (refreshes)
        of it, so the window bound stays under the limit (25 and 8 for Alpaca's 200)."""
        order = max(2, round(broker_limit * ORDER_BURST / BROKER_LIMIT_PER_MINUTE))
        refresh = max(1, min(order, round(broker_limit * REFRESH_BURST / BROKER_LIMIT_PER_MINUTE)))
        return cls(broker_limit=broker_limit, order_burst=order, refresh_burst=refresh)

    @property
    def per_minute(self) -> float:
        return max(1.0, math.floor(self.broker_limit * self.share))

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute

    def tolerance(self, priority: Priority) -> float:
        burst = self.order_burst if priority is Priority.ORDER else self.refresh_burst
        return (burst - 1) * self.interval

    def max_wait(self, priority: Priority) -> float:
        return self.order_max_wait if priority is Priority.ORDER else self.refresh_max_wait

    @property
    def window_bound(self) -> int:
        """GCRA admits at most floor((W + tolerance) / interval) + 1 in a window of W s."""
        return math.floor((60.0 + self.tolerance(Priority.ORDER)) / self.interval + 1e-9) + 1


def admit(
    tat: float, paused_until: float, now: float, interval: float, tolerance: float, max_wait: float
) -> tuple[float, float] | None:
    """GCRA, pure: (new theoretical arrival time, seconds to wait) or None (no room).

    ``tat`` is when the budget would be "caught up"; a request may go once
    ``tat - tolerance <= t`` and not before ``paused_until`` (a 429's Retry-After).
    """
    send_at = max(now, paused_until, tat - tolerance)
    wait = send_at - now
    if wait > max_wait:
        return None
    return max(tat, send_at) + interval, wait


class BudgetStore(Protocol):
    """Atomic budget state shared by processes (blocking calls; run off the event loop)."""

    name: str

    def admit(
        self, key: str, interval: float, tolerance: float, max_wait: float
    ) -> float | None: ...  # seconds to wait; None (no room) or PAUSED (a 429's pause)
    def note(self, key: str, what: str, pause: float = 0.0) -> None: ...
    def usage(self, key: str) -> dict[str, float]: ...
    def reset(self, key: str) -> None: ...  # forget a key's state (the login gates use it)
    def close(self) -> None: ...


# usage counters: "sent" requests, refreshes that "yielded", broker "throttled" (429) answers
COUNTERS = ("sent", "yielded", "throttled")


def _bucket(now: float) -> int:
    return int(now // BUCKET_SECONDS)


def _sum_recent(buckets: dict[int, dict[str, int]], now: float) -> dict[str, float]:
    first = _bucket(now) - (60 // BUCKET_SECONDS) + 1
    out = dict.fromkeys(COUNTERS, 0.0)
    for b, counts in buckets.items():
        if b >= first:
            for k in COUNTERS:
                out[k] += counts.get(k, 0)
    return out


@dataclass(slots=True)
class _State:
    tat: float = 0.0
    paused_until: float = 0.0
    buckets: dict[int, dict[str, int]] | None = None

    def count(self, what: str, now: float) -> None:
        if self.buckets is None:
            self.buckets = {}
        b = _bucket(now)
        self.buckets.setdefault(b, {})
        self.buckets[b][what] = self.buckets[b].get(what, 0) + 1
        for old in [k for k in self.buckets if k < b - 7]:
            del self.buckets[old]


PAUSED = -1.0  # what a store's admit answers when a 429's pause (not the pace) refused


def _apply_admit(
    st: _State, now: float, interval: float, tolerance: float, max_wait: float
) -> float | None:
    got = admit(st.tat, st.paused_until, now, interval, tolerance, max_wait)
    if got is None:
        return PAUSED if st.paused_until - now > max_wait else None
    st.tat, wait = got
    st.count("sent", now + wait)
    return wait


def _apply_note(st: _State, now: float, what: str, pause: float) -> None:
    st.count(what, now)
    if pause > 0:
        st.paused_until = max(st.paused_until, now + pause)


def _usage(st: _State | None, now: float) -> dict[str, float]:
    st = st or _State()
    out = _sum_recent(st.buckets or {}, now)
    out["paused_for_s"] = max(0.0, st.paused_until - now)
    out["backlog_s"] = max(0.0, st.tat - now)
    return out


class MemoryBudgetStore:
    """One process only (tests, and the fallback when the shared store fails)."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}
        self._clock = clock

    def admit(self, key: str, interval: float, tolerance: float, max_wait: float) -> float | None:
        with self._lock:
            st = self._states.setdefault(key, _State())
            return _apply_admit(st, self._clock(), interval, tolerance, max_wait)

    def note(self, key: str, what: str, pause: float = 0.0) -> None:
        with self._lock:
            _apply_note(self._states.setdefault(key, _State()), self._clock(), what, pause)

    def usage(self, key: str) -> dict[str, float]:
        with self._lock:
            return _usage(self._states.get(key), self._clock())

    def reset(self, key: str) -> None:
        with self._lock:
            self._states.pop(key, None)

    def close(self) -> None:
        pass


class DiskBudgetStore:
    """diskcache on this host: one SQLite transaction per request serialises every
    process's update (``BEGIN IMMEDIATE``); reopened after a fork."""

    name = "diskcache"

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self._clock = clock
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

    def _update(self, key: str, fn: Callable[[_State, float], Any]) -> Any:
        db = self._db()
        with db.transact(retry=True):
            raw = db.get(key)
            st = _State(*raw) if isinstance(raw, tuple) and len(raw) == 3 else _State()
            out = fn(st, self._clock())
            db.set(key, (st.tat, st.paused_until, st.buckets), expire=3600)
        return out

    def admit(self, key: str, interval: float, tolerance: float, max_wait: float) -> float | None:
        return self._update(
            key, lambda st, now: _apply_admit(st, now, interval, tolerance, max_wait)
        )

    def note(self, key: str, what: str, pause: float = 0.0) -> None:
        self._update(key, lambda st, now: _apply_note(st, now, what, pause))

    def usage(self, key: str) -> dict[str, float]:
        raw = self._db().get(key)
        st = _State(*raw) if isinstance(raw, tuple) and len(raw) == 3 else None
        return _usage(st, self._clock())

    def reset(self, key: str) -> None:
        self._db().delete(key)

    def close(self) -> None:
        if self._cache is not None and self._pid == os.getpid():
            self._cache.close()
        self._cache = None


# GCRA in Redis, on the server's clock so hosts with skewed clocks still share one pace.
# KEYS[1] the state hash; ARGV: interval, tolerance, max_wait. Returns the wait in
# microseconds as a string, or "" when there is no room.
_ADMIT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
local send_at = math.max(now, paused, tat - tolerance)
local wait = send_at - now
if wait > max_wait then
  if paused - now > max_wait then return 'P' end
  return ''
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', math.max(tat, send_at) + interval))
local bucket = KEYS[1] .. ':sent:' .. math.floor((now + wait) / tonumber(ARGV[4]))
redis.call('INCR', bucket)
redis.call('EXPIRE', bucket, 120)
redis.call('EXPIRE', KEYS[1], 3600)
return string.format('%.6f', wait)
"""

# KEYS[1] the state hash; ARGV: counter name, pause seconds, bucket seconds.
_NOTE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local bucket = KEYS[1] .. ':' .. ARGV[1] .. ':' .. math.floor(now / tonumber(ARGV[3]))
redis.call('INCR', bucket)
redis.call('EXPIRE', bucket, 120)
local pause = tonumber(ARGV[2])
if pause > 0 then
  local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
  redis.call('HSET', KEYS[1], 'paused', string.format('%.6f', math.max(paused, now + pause)))
  redis.call('EXPIRE', KEYS[1], 3600)
end
return 1
"""


class RedisBudgetStore:
    """Redis (``REDIS_URL``): each update is one Lua script, atomic on the server."""

    name = "redis"

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        import redis

        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._admit = self._client.register_script(_ADMIT_LUA)
        self._note = self._client.register_script(_NOTE_LUA)

    def admit(self, key: str, interval: float, tolerance: float, max_wait: float) -> float | None:
        out = self._admit(keys=[key], args=[interval, tolerance, max_wait, BUCKET_SECONDS])
        text = out.decode() if isinstance(out, bytes) else str(out)
        if text == "P":
            return PAUSED
        return float(text) if text else None

    def note(self, key: str, what: str, pause: float = 0.0) -> None:
        self._note(keys=[key], args=[what, pause, BUCKET_SECONDS])

    def usage(self, key: str) -> dict[str, float]:
        sec, usec = self._client.time()
        now = sec + usec / 1e6
        tat, paused = self._client.hmget(key, ["tat", "paused"])
        last = _bucket(now)
        names = [f"{key}:{what}:{b}" for what in COUNTERS for b in range(last - 5, last + 1)]
        values = self._client.mget(names)
        out: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        for name, value in zip(names, values, strict=True):
            if value is not None:
                out[name.split(":")[-2]] += float(value)
        out["paused_for_s"] = max(0.0, float(paused or 0) - now)
        out["backlog_s"] = max(0.0, float(tat or 0) - now)
        return out

    def reset(self, key: str) -> None:
        self._client.delete(key)

    def close(self) -> None:
        self._client.close()


class RateBudget:
    """The deployment's budget for one broker account, as the HTTP clients use it."""

    def __init__(
        self,
        store: BudgetStore,
        key: str,
        policy: BudgetPolicy = BudgetPolicy(),
        *,
        sleep: Callable[[float], Any] = asyncio.sleep,
        fallback_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.key = key
        self.policy = policy
        self._sleep = sleep
        self._fallback_clock = fallback_clock
        self._fallback: MemoryBudgetStore | None = None
        self._fallback_policy = BudgetPolicy(
            broker_limit=max(1, policy.broker_limit // FALLBACK_PROCESSES),
            share=policy.share,
            order_burst=max(1, policy.order_burst // FALLBACK_PROCESSES),
            refresh_burst=max(1, policy.refresh_burst // FALLBACK_PROCESSES),
            refresh_max_wait=policy.refresh_max_wait,
            order_max_wait=policy.order_max_wait,
        )
        self._store_error: str | None = None

    @property
    def store_name(self) -> str:
        return self.store.name if self._fallback is None else f"{self.store.name} (unavailable)"

    def _call(self, fn: str, *args: Any) -> Any:
        """Call the shared store; on failure use this process's own, smaller budget."""
        try:
            out = getattr(self.store, fn)(self.key, *args)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            if text != self._store_error:
                self._store_error = text
                log.warning(
                    "rate budget store %s unavailable (%s); this process uses 1/%d of the budget",
                    self.store.name,
                    text,
                    FALLBACK_PROCESSES,
                )
            if self._fallback is None:
                self._fallback = MemoryBudgetStore(self._fallback_clock)
            return getattr(self._fallback, fn)(self.key, *args)
        if self._fallback is not None:
            log.info("rate budget store %s is back", self.store.name)
            self._fallback = None
            self._store_error = None
        return out

    def _numbers(self, priority: Priority) -> tuple[float, float, float]:
        policy = self._fallback_policy if self._fallback is not None else self.policy
        return policy.interval, policy.tolerance(priority), policy.max_wait(priority)

    async def acquire(self, *, max_wait: float | None = None, source: str = "") -> Priority:
        """Wait for room in the budget (the current ``budget_priority`` class), or raise
        ``RateBudgetExhausted`` without sending anything."""
        priority = current_priority()
        interval, tolerance, class_wait = self._numbers(priority)
        wait_cap = class_wait if max_wait is None else max(0.0, min(class_wait, max_wait))
        wait = await asyncio.to_thread(self._call, "admit", interval, tolerance, wait_cap)
        if wait is None or wait == PAUSED:
            if priority is Priority.REFRESH:
                await asyncio.to_thread(self._call, "note", "yielded", 0.0)
            if wait == PAUSED:  # status 429: the broker refused, so this is a fault
                raise RateBudgetExhausted(
                    "the broker answered 429 (rate limit); waiting out its Retry-After",
                    source=source,
                    status=429,
                )
            raise RateBudgetExhausted(
                "request budget in use (orders first); showing the last values",
                source=source,
                retry_after=interval,
            )
        if wait > 0:
            await self._sleep(wait)
        return priority

    async def throttled(self, retry_after: float | None) -> None:
        """The broker answered 429: pause every process for its ``Retry-After``."""
        pause = 1.0 if retry_after is None else max(0.0, retry_after)
        await asyncio.to_thread(self._call, "note", "throttled", pause)

    def usage(self) -> dict[str, Any]:
        """Budget use over the last minute (blocking; cheap), for ``/healthz``."""
        try:
            counts = self._call("usage")
        except Exception:  # even the fallback failed: report what is known
            counts = {}
        return {
            "store": self.store_name,
            "broker_limit_per_minute": self.policy.broker_limit,
            "budget_per_minute": self.policy.per_minute,
            "window_bound": self.policy.window_bound,
            "sent_last_minute": int(counts.get("sent", 0)),
            "refreshes_yielded_last_minute": int(counts.get("yielded", 0)),
            "throttled_429_last_minute": int(counts.get("throttled", 0)),
            "paused_for_s": round(float(counts.get("paused_for_s", 0.0)), 3),
            "backlog_s": round(float(counts.get("backlog_s", 0.0)), 3),
        }
