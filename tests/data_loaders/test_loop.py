"""run_async: one background loop, safe from many threads, survives a reset."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dashboard.data_loaders.loop import get_loop, reset_loop, run_all, run_async


async def _loop_id(x: int) -> tuple[int, int]:
    await asyncio.sleep(0)
    return x * 2, id(asyncio.get_running_loop())


def _hammer(threads: int, calls: int) -> tuple[list[int], set[int]]:
    results: list[int] = []
    loops: set[int] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for i in range(calls):
                value, loop = run_async(_loop_id(base + i), timeout=10)
                with lock:
                    results.append(value)
                    loops.add(loop)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    ts = [threading.Thread(target=worker, args=(k * calls,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    return results, loops


def test_twenty_threads_thousand_calls_share_one_loop_and_survive_reset() -> None:
    results, loops = _hammer(20, 50)
    assert sorted(results) == [2 * i for i in range(1000)]
    assert len(loops) == 1
    first = get_loop()
    reset_loop()
    assert first.is_closed()
    results, loops2 = _hammer(20, 50)
    assert sorted(results) == [2 * i for i in range(1000)]
    assert len(loops2) == 1 and loops2 != loops


def test_exceptions_propagate_unchanged() -> None:
    async def boom() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        run_async(boom())


def test_timeout_cancels_the_coroutine() -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        run_async(slow(), timeout=0.05)
    assert cancelled.wait(2)


def test_calling_from_the_loop_thread_is_refused() -> None:
    async def nested() -> None:
        run_async(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="await instead"):
        run_async(nested())


def test_run_all_runs_reads_together_and_passes_skipped_ones_as_none() -> None:
    inflight = peak = 0

    async def read(value: int) -> int:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        await asyncio.sleep(0.01)
        inflight -= 1
        return value

    assert run_all(read(1), None, read(3)) == [1, None, 3]
    assert peak == 2  # both reads were in flight at once: one round
