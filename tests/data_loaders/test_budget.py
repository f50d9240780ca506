"""The deployment's shared request budget: GCRA by hand and as a property, priorities,
429 pauses, and atomic sharing across real processes (diskcache) and a real Redis."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.data_loaders.budget import (
    PAUSED,
    BudgetPolicy,
    DiskBudgetStore,
    MemoryBudgetStore,
    Priority,
    RateBudget,
    RedisBudgetStore,
    admit,
    budget_priority,
)
from dashboard.data_loaders.errors import RateBudgetExhausted
from dashboard.data_loaders.loop import run_async

POLICY = BudgetPolicy()  # Alpaca's 200/min: 160/min pace, bursts of 25 (orders) and 8


def test_policy_numbers_leave_headroom_under_the_broker_limit() -> None:
    assert POLICY.per_minute == 160
    assert POLICY.interval == pytest.approx(0.375)
    # Any 60 s window: floor((60 + 24 x 0.375) / 0.375) + 1 = 185 < 200.
    assert POLICY.window_bound == 185 < POLICY.broker_limit
    with pytest.raises(ValueError):
        BudgetPolicy(refresh_burst=30, order_burst=25)


def test_admit_by_hand() -> None:
    # An idle budget: the request goes now and the pace moves one interval on.
    assert admit(0.0, 0.0, 100.0, 1.0, 2.0, 0.0) == (101.0, 0.0)
    # Ahead of pace by exactly the tolerance: still goes now.
    assert admit(102.0, 0.0, 100.0, 1.0, 2.0, 0.0) == (103.0, 0.0)
    # One interval past the tolerance: waits 1 s if allowed to, else no room.
    assert admit(103.0, 0.0, 100.0, 1.0, 2.0, 1.0) == (104.0, 1.0)
    assert admit(103.0, 0.0, 100.0, 1.0, 2.0, 0.5) is None
    # A 429 pause holds everything until it ends.
    assert admit(0.0, 105.0, 100.0, 1.0, 2.0, 10.0) == (106.0, 5.0)
    assert admit(0.0, 105.0, 100.0, 1.0, 2.0, 4.0) is None


@settings(max_examples=30, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=50, max_size=400),
    orders=st.lists(st.booleans(), min_size=400, max_size=400),
)
def test_no_sixty_seconds_carry_more_than_the_window_bound(
    gaps: list[float], orders: list[bool]
) -> None:
    """Whatever the arrivals and mix of classes, the send times never put more than
    ``window_bound`` requests in any 60 s window (checked on every window start)."""
    now, tat, pause = 0.0, 0.0, 0.0
    sent: list[float] = []
    for gap, is_order in zip(gaps, orders, strict=False):
        now += gap
        p = Priority.ORDER if is_order else Priority.REFRESH
        got = admit(tat, pause, now, POLICY.interval, POLICY.tolerance(p), POLICY.max_wait(p))
        if got is not None:
            tat, wait = got
            sent.append(now + wait)
    sent.sort()
    j = 0
    for i, start in enumerate(sent):
        while j < len(sent) and sent[j] < start + 60.0:
            j += 1
        assert j - i <= POLICY.window_bound


def test_refresh_saturation_leaves_room_for_orders() -> None:
    """Refreshes alone fill their share and then yield; an order still goes at once."""
    clock = [1000.0]
    store = MemoryBudgetStore(clock=lambda: clock[0])
    budget = RateBudget(store, "acct", POLICY, sleep=_no_sleep)

    async def refreshes(n: int) -> int:
        sent = 0
        for _ in range(n):
            try:
                await budget.acquire(max_wait=0.0)
                sent += 1
            except RateBudgetExhausted:
                pass
        return sent

    async def orders(n: int) -> list[Priority]:
        with budget_priority(Priority.ORDER):
            return [await budget.acquire(max_wait=0.0) for _ in range(n)]

    assert run_async(refreshes(100)) == POLICY.refresh_burst
    # The reserve: order-class requests go immediately, up to the order burst.
    reserve = POLICY.order_burst - POLICY.refresh_burst
    assert run_async(orders(reserve)) == [Priority.ORDER] * reserve
    usage = budget.usage()
    assert usage["sent_last_minute"] == POLICY.refresh_burst + reserve
    assert usage["refreshes_yielded_last_minute"] == 100 - POLICY.refresh_burst
    # The backlog is exactly what was sent ahead of the pace.
    assert usage["backlog_s"] == pytest.approx((POLICY.refresh_burst + reserve) * POLICY.interval)


async def _no_sleep(_s: float) -> None:
    return None


# -- sharing across processes --------------------------------------------------------------

FIXED_NOW = 5_000.0


def _fixed_clock() -> float:
    return FIXED_NOW


def _disk_worker(directory: str, attempts: int, out: Any) -> None:
    store = DiskBudgetStore(Path(directory), clock=_fixed_clock)
    admitted = 0
    for _ in range(attempts):
        p = POLICY
        wait = store.admit("acct", p.interval, p.tolerance(Priority.REFRESH), 0.0)
        admitted += wait is not None
    store.close()
    out.put(admitted)


def test_disk_budget_is_atomic_across_processes(tmp_path: Path) -> None:
    """Four processes race for one budget at one instant: exactly the burst is admitted.
    A read-then-write store would let several processes take the same slot."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_disk_worker, args=(str(tmp_path), 20, out)) for _ in range(4)]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(counts) == POLICY.refresh_burst
    usage = DiskBudgetStore(tmp_path, clock=_fixed_clock).usage("acct")
    assert usage["sent"] == POLICY.refresh_burst


def test_disk_budget_pause_is_seen_by_another_process_store(tmp_path: Path) -> None:
    a = DiskBudgetStore(tmp_path, clock=_fixed_clock)
    b = DiskBudgetStore(tmp_path, clock=_fixed_clock)
    a.note("acct", "throttled", 3.0)
    assert b.admit("acct", 0.375, 9.0, 0.0) == PAUSED  # refused by the pause, not the pace
    assert b.admit("acct", 0.375, 9.0, 3.0) == pytest.approx(3.0)  # waits out the pause
    assert b.usage("acct")["throttled"] == 1


def _redis_worker(url: str, key: str, attempts: int, out: Any) -> None:
    store = RedisBudgetStore(url)
    p = POLICY
    # Hold the pace at zero tolerance drift: a tiny interval would let wall time admit
    # more, so use a long one (one request per hour after the burst).
    admitted = sum(
        store.admit(key, 3600.0, 3600.0 * (p.refresh_burst - 1), 0.0) is not None
        for _ in range(attempts)
    )
    store.close()
    out.put(admitted)


def test_redis_budget_is_atomic_across_processes(redis_url: str) -> None:
    key = f"test:budget:{uuid.uuid4().hex}"
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_redis_worker, args=(redis_url, key, 20, out)) for _ in range(4)]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(counts) == POLICY.refresh_burst
    store = RedisBudgetStore(redis_url)
    try:
        assert store.usage(key)["sent"] == POLICY.refresh_burst
        other = key + ":paused"
        store.note(other, "throttled", 30.0)
        assert store.admit(other, 0.375, 9.0, 5.0) == PAUSED  # the 429 pause holds
        usage = store.usage(other)
        assert usage["throttled"] == 1 and 29.0 < usage["paused_for_s"] <= 30.0
    finally:
        store.close()


def test_budget_falls_back_to_a_smaller_local_share_when_the_store_fails() -> None:
    class Broken:
        name = "redis"

        def admit(self, *a: Any) -> float | None:
            raise ConnectionError("down")

        note = usage = admit

        def close(self) -> None:
            pass

    # The fallback's clock stands still, so it admits exactly its burst however slow the
    # machine is (a moving clock refills it between attempts).
    budget = RateBudget(
        Broken(),  # type: ignore[arg-type]
        "acct",
        POLICY,
        sleep=_no_sleep,
        fallback_clock=lambda: 1_000.0,
    )

    async def burst() -> int:
        n = 0
        for _ in range(50):
            try:
                await budget.acquire(max_wait=0.0)
                n += 1
            except RateBudgetExhausted:
                pass
        return n

    # A third of the refresh burst (three processes share the broker's limit).
    assert run_async(burst()) == POLICY.refresh_burst // 3
    assert budget.usage()["store"] == "redis (unavailable)"


# -- the deployment end to end: three processes, one budget, the simulator's real limit -------

TINY_LIMIT = 60  # the simulator refuses past 60 Alpaca requests in any 60 s


def _deployment_process(settings: Any, reads: int, frozen: bool, out: Any) -> None:
    """One of the deployment's processes (a gunicorn worker or the exit worker): a
    refresh read as often as it can, its own read cache expired every time. ``frozen``
    stops the shared store's clock, so the budget admits exactly its burst in all."""
    from dashboard.data_loaders.async_data_service import AsyncDataService

    service = AsyncDataService.from_settings(settings)
    budget = service.alpaca.trading.budget
    assert budget is not None and budget is service.alpaca.data.budget  # one per account
    if frozen:
        budget.store._clock = _fixed_clock  # type: ignore[attr-defined]
    states: dict[str, int] = {}
    try:
        for _ in range(reads):
            service.invalidate()
            state = run_async(service.fetch_clock()).state
            states[state.value] = states.get(state.value, 0) + 1
    finally:
        service.close_sync()
    out.put(states)


@pytest.mark.parametrize("store", ["diskcache", "redis"])
def test_three_processes_stay_under_the_brokers_limit(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Three processes share one budget (diskcache in one data directory, or Redis) and
    read as fast as they can against a simulator enforcing the broker's limit: the
    simulator sees at most the budget's window bound and refuses nothing."""
    from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread
    from tests.conftest import settings_for

    handle = start_simulator_thread(SimulatorConfig(seed=7, speed=0.0, port=0))
    try:
        handle.set_faults({"rate_limit_per_minute": TINY_LIMIT})
        settings = settings_for(handle, tmp_path).with_overrides(
            alpaca_rate_limit_per_minute=TINY_LIMIT, thetadata_url=None
        )
        if store == "redis":
            from pydantic import SecretStr

            url = request.getfixturevalue("redis_url")
            settings = settings.with_overrides(redis_url=SecretStr(url))
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        frozen = store == "diskcache"
        procs = [
            ctx.Process(target=_deployment_process, args=(settings, 30, frozen, out))
            for _ in range(3)
        ]
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
        rate = handle.sim.faults.rate
        policy = BudgetPolicy.for_limit(TINY_LIMIT)
        assert rate.refused == 0, results
        assert 1 <= rate.total <= policy.window_bound < TINY_LIMIT, (rate.total, results)
        if frozen:  # one budget for all three: its refresh burst once, not three times
            assert rate.total == policy.refresh_burst, (rate.total, results)
        # 90 reads were asked for; the rest yielded and showed what the cache had.
        assert sum(sum(r.values()) for r in results) == 90
    finally:
        handle.stop()
