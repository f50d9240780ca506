"""The store gunicorn workers share (diskcache on one host, Redis with ``REDIS_URL``): the
same contract on both, against a real directory and a real ``redis-server``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from dashboard.data_loaders.cache import ReadCache, SharedCache
from dashboard.models import DataState

Factory = Callable[[], SharedCache]


def test_values_round_trip_between_workers(shared_cache_factory: Factory) -> None:
    a, b = shared_cache_factory(), shared_cache_factory()
    a.set("k", b"\x00value", 30)
    assert b.get("k") == b"\x00value"
    b.delete("k")
    assert a.get("k") is None


def test_values_expire_after_their_ttl(shared_cache_factory: Factory) -> None:
    a = shared_cache_factory()
    a.set("short", b"1", 0.05)
    a.set("long", b"2", 60)
    deadline = time.monotonic() + 10
    while a.get("short") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert a.get("short") is None and a.get("long") == b"2"


def test_add_is_atomic_across_workers(shared_cache_factory: Factory) -> None:
    """The single-flight lease: of 16 simultaneous adds from two workers, exactly one wins."""
    workers = [shared_cache_factory(), shared_cache_factory()]
    barrier = threading.Barrier(16)
    wins: list[bool] = []

    def go(i: int) -> None:
        barrier.wait()
        wins.append(workers[i % 2].add("lease", b"1", 30))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 15 + [True]


@pytest.mark.parametrize("prefix", ["acct:", "bars[SPY]", "q?*", "back\\slash"])
def test_delete_prefix_takes_the_prefix_literally(
    shared_cache_factory: Factory, prefix: str
) -> None:
    a = shared_cache_factory()
    doomed = [prefix + "1", prefix + "x:y"]
    kept = ["other", "acct", "bars[SPX]", "bars", "q", "backslash", "back\\", prefix[:-1] + "#"]
    for k in doomed + kept:
        a.set(k, b"v", 60)
    a.delete_prefix(prefix)
    assert [k for k in doomed if a.get(k) is not None] == []
    assert [k for k in kept if a.get(k) is None] == []


def test_a_value_from_another_deployment_is_ignored(shared_cache_factory: Factory) -> None:
    """Entries are signed: one written with another secret is treated as missing."""
    calls = 0

    async def fetch() -> tuple[int, str]:
        nonlocal calls
        calls += 1
        return calls, "test"

    ours = ReadCache(shared_cache_factory(), namespace="n", secret=b"ours")
    theirs = ReadCache(shared_cache_factory(), namespace="n", secret=b"theirs")

    async def scenario() -> tuple[int, int]:
        first = await theirs.get("account", 30.0, fetch)
        mine = await ours.get("account", 30.0, fetch)
        return first.value, mine.value

    assert asyncio.run(scenario()) == (1, 2)


def test_a_worker_serves_what_another_fetched_within_the_ttl(shared_cache_factory: Factory) -> None:
    calls = 0

    async def fetch() -> tuple[str, str]:
        nonlocal calls
        calls += 1
        return f"v{calls}", "upstream"

    async def scenario() -> list[object]:
        a = ReadCache(shared_cache_factory(), namespace="n", secret=b"k")
        b = ReadCache(shared_cache_factory(), namespace="n", secret=b"k")
        ra = await a.get("positions", 30.0, fetch)
        rb = await b.get("positions", 30.0, fetch)
        return [ra, rb]

    ra, rb = asyncio.run(scenario())
    assert calls == 1
    assert rb.state is DataState.FRESH and rb.value == "v1" and rb.as_of == ra.as_of


class _GatedAdd:
    """A worker's store whose lease request is held until told to go on: the moment, under
    load, between "no value yet" and "take the lease" in which another worker finishes."""

    def __init__(self, inner: SharedCache) -> None:
        self.inner = inner
        self.at_gate = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        self.at_gate.set()
        self.go.wait(30)
        return self.inner.add(key, value, ttl)


def test_a_lease_freed_by_a_finished_fetch_does_not_cause_a_second_fetch(
    shared_cache_factory: Factory,
) -> None:
    calls = 0

    async def fetch() -> tuple[str, str]:
        nonlocal calls
        calls += 1
        return f"v{calls}", "upstream"

    gated = _GatedAdd(shared_cache_factory())
    slow = ReadCache(gated, namespace="n", secret=b"k")  # type: ignore[arg-type]
    quick = ReadCache(shared_cache_factory(), namespace="n", secret=b"k")

    async def scenario() -> list[object]:
        late = asyncio.create_task(slow.get("account", 30.0, fetch))
        await asyncio.to_thread(gated.at_gate.wait, 30)  # it saw no value, is about to lease
        first = await quick.get("account", 30.0, fetch)  # fetched, stored, lease released
        gated.go.set()
        return [first, await late]

    first, late = asyncio.run(scenario())
    assert calls == 1
    assert late.value == first.value == "v1"
