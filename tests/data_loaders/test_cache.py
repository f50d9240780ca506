"""ReadCache deadlines and budget deferrals: a slow load gives the last good value marked
stale, frees its single-flight slot at the deadline, and recovers on the next read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.data_loaders.cache import ReadCache
from dashboard.data_loaders.errors import RateBudgetExhausted
from dashboard.data_loaders.loop import deadline_after, run_async
from dashboard.models import DataState


class Wall:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _cache(**kw: Any) -> ReadCache:
    return ReadCache(None, namespace="t", secret=b"k", **kw)


async def _value(v: Any) -> tuple[Any, str]:
    return v, "src"


async def _hang() -> tuple[Any, str]:
    await asyncio.sleep(3600)  # a body that never finishes arriving
    raise AssertionError("unreachable")


def test_a_hung_load_gives_the_last_good_value_at_the_read_deadline() -> None:
    wall = Wall()
    cache = _cache(read_deadline=0.2, wall=wall)

    async def scenario() -> list[Any]:
        good = await cache.get("acct", 0.0, lambda: _value(1))
        assert good.state is DataState.FRESH and good.as_of == wall.now
        wall.now += timedelta(seconds=5)
        slow = await cache.get("acct", 0.0, _hang)
        inflight = dict(cache._inflight)  # the slot is free once the deadline passed
        back = await cache.get("acct", 0.0, lambda: _value(2))
        return [slow, inflight, back]

    slow, inflight, back = run_async(scenario())
    assert slow.state is DataState.STALE and slow.value == 1
    assert slow.as_of == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # the real as-of, kept
    assert "no answer within 0.2 s" in (slow.error or "")
    assert inflight == {}
    # Recovery on the very next read after the fault clears.
    assert back.state is DataState.FRESH and back.value == 2


def test_without_a_last_good_value_a_hung_load_is_an_error_not_an_exception() -> None:
    cache = _cache(read_deadline=0.1)
    res = run_async(cache.get("clock", 0.0, _hang))
    assert res.state is DataState.ERROR and res.value is None


def test_a_caller_with_less_time_gets_stale_while_the_load_runs_on() -> None:
    """Two callers share one load; the one whose deadline comes first answers with the
    last good value, the other gets the new value when it arrives."""
    cache = _cache(read_deadline=5.0)
    release = asyncio.Event()

    async def slow_then_3() -> tuple[Any, str]:
        await release.wait()
        return 3, "src"

    async def scenario() -> tuple[Any, Any]:
        await cache.get("k", 0.0, lambda: _value(1))

        async def hurried() -> Any:
            with deadline_after(0.05):
                return await cache.get("k", 0.0, slow_then_3)

        async def patient() -> Any:
            return await cache.get("k", 0.0, slow_then_3)

        waiter = asyncio.ensure_future(patient())
        await asyncio.sleep(0)
        first = await hurried()
        release.set()
        return first, await waiter

    first, second = run_async(scenario())
    assert first.state is DataState.STALE and first.value == 1
    assert second.state is DataState.FRESH and second.value == 3


def test_budget_deferral_serves_recent_values_as_they_are_and_old_ones_as_stale() -> None:
    wall = Wall()
    cache = _cache(wall=wall, budget_grace=10.0)

    async def deferred() -> tuple[Any, str]:
        raise RateBudgetExhausted("request budget in use", source="alpaca-trading")

    async def scenario() -> list[Any]:
        await cache.get("acct", 0.0, lambda: _value(1))
        as_of = wall.now
        wall.now = as_of + timedelta(seconds=6)
        recent = await cache.get("acct", 0.0, deferred)
        wall.now = as_of + timedelta(seconds=11)
        old = await cache.get("acct", 0.0, deferred)
        return [recent, old]

    recent, old = run_async(scenario())
    assert recent.state is DataState.FRESH and recent.value == 1
    assert recent.as_of == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # its own, 6 s old
    assert old.state is DataState.STALE and "request budget" in (old.error or "")
    assert old.as_of == recent.as_of


def test_a_first_read_the_budget_defers_waits_in_the_order_class() -> None:
    """With nothing to show in its place, a deferred refresh asks again as an order would
    (waiting for room) instead of leaving the page with an error; with a value to show,
    it yields as before."""
    from dashboard.data_loaders.budget import Priority, current_priority

    cache = _cache(budget_grace=10.0)
    classes: list[Priority] = []

    async def paced() -> tuple[Any, str]:
        classes.append(current_priority())
        if current_priority() is Priority.REFRESH:
            raise RateBudgetExhausted("request budget in use", source="alpaca-trading")
        return "account", "src"

    first = run_async(cache.get("acct", 0.0, paced))
    assert first.state is DataState.FRESH and first.value == "account"
    assert classes == [Priority.REFRESH, Priority.ORDER]
    classes.clear()
    again = run_async(cache.get("acct", 0.0, paced))  # a value to show: it yields
    assert again.value == "account" and classes == [Priority.REFRESH]


def test_a_patient_caller_lets_its_load_run_past_the_read_deadline() -> None:
    """A one-off history pull given minutes by its caller is not cut at read_deadline."""
    cache = _cache(read_deadline=0.05)

    async def takes_a_while() -> tuple[Any, str]:
        await asyncio.sleep(0.2)
        return "history", "src"

    res = run_async(cache.get("barsh", 0.0, takes_a_while), timeout=120)
    assert res.state is DataState.FRESH and res.value == "history"
    cut = run_async(cache.get("barsh2", 0.0, takes_a_while), timeout=10)
    assert cut.state is DataState.ERROR


def test_a_broker_429_pause_is_shown_as_stale_even_for_a_recent_value() -> None:
    """Pacing deferrals may serve a recent value as it is; a 429 is a fault: stale."""
    wall = Wall()
    cache = _cache(wall=wall, budget_grace=10.0)

    async def paused() -> tuple[Any, str]:
        raise RateBudgetExhausted("the broker answered 429", source="alpaca", status=429)

    async def scenario() -> Any:
        await cache.get("acct", 0.0, lambda: _value(1))
        wall.now += timedelta(seconds=1)
        return await cache.get("acct", 0.0, paused)

    res = run_async(scenario())
    assert res.state is DataState.STALE and res.value == 1 and "429" in (res.error or "")
