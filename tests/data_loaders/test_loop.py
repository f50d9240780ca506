"""run_async: one background loop, safe from many threads, survives a reset."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dashboard.data_loaders.errors import DeadlineExceeded, UpstreamError
from dashboard.data_loaders.loop import (
    current_deadline,
    deadline_after,
    get_loop,
    remaining,
    reset_loop,
    run_all,
    run_async,
)


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

    with pytest.raises(DeadlineExceeded) as info:
        run_async(slow(), timeout=0.05)
    assert cancelled.wait(2)
    # Callers catch UpstreamError for upstream trouble; never a bare TimeoutError.
    assert isinstance(info.value, UpstreamError) and not isinstance(info.value, TimeoutError)


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


def test_run_async_gives_its_reads_a_deadline_before_its_time_out() -> None:
    """Reads see a deadline a margin before run_async's time-out, so they can answer
    with cached values before the caller would meet a time-out."""

    async def seen() -> tuple[float | None, float | None]:
        return current_deadline(), remaining()

    deadline, left = run_async(seen(), timeout=10)
    assert deadline is not None and left is not None
    assert 8.5 <= left <= 9.0  # 10 s less the 1 s margin
    # Short time-outs keep a proportional margin.
    _, short = run_async(seen(), timeout=1)
    assert short is not None and 0.7 <= short <= 0.8
    # Outside run_async there is none.
    assert current_deadline() is None and remaining(3.0) == 3.0


def test_deadline_after_only_tightens() -> None:
    async def nested() -> tuple[float, float]:
        with deadline_after(100.0):
            loose = remaining()
        with deadline_after(0.5):
            tight = remaining()
        assert loose is not None and tight is not None
        return loose, tight

    loose, tight = run_async(nested(), timeout=5)
    assert loose <= 4.0  # run_async's own deadline still rules
    assert tight <= 0.5
