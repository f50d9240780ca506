"""One long-lived event loop per process, in a daemon thread, for synchronous callers.

Dash callbacks are synchronous and run on many threads. Creating a loop per call
(``asyncio.run``) throws away connection pools and breaks clients bound to an earlier
loop, so every coroutine runs here instead. After ``fork`` (gunicorn workers) the child
has no loop thread, so the module state is dropped and re-created on first use; clients
notice the new loop and rebuild themselves (see ``http.AsyncHTTPClient``).

Deadlines: ``run_async(coro, timeout)`` gives every read inside ``coro`` an overall
deadline a little before its own time-out (``current_deadline``), so reads answer with
their last good value, marked stale, instead of the caller meeting a time-out.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Awaitable, Coroutine, Iterator
from typing import Any, TypeVar

from dashboard.data_loaders.errors import DeadlineExceeded

__all__ = [
    "current_deadline",
    "deadline_after",
    "get_loop",
    "in_loop_thread",
    "loop_running",
    "remaining",
    "reset_loop",
    "run_all",
    "run_async",
]

T = TypeVar("T")

# The monotonic time (``loop.time()``) by which the current task's reads must answer.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "read_deadline", default=None
)
DEADLINE_MARGIN = 1.0  # seconds kept between the reads' deadline and run_async's time-out


def current_deadline() -> float | None:
    """The current task's overall deadline in ``time.monotonic()`` seconds, or None."""
    return _DEADLINE.get()


def remaining(default: float | None = None) -> float | None:
    """Seconds left before the current deadline (at least 0); ``default`` without one."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return default
    return max(0.0, deadline - time.monotonic())


@contextlib.contextmanager
def deadline_after(seconds: float | None, *, tighten_only: bool = True) -> Iterator[float | None]:
    """Within the block, reads must answer ``seconds`` from now. By default this only
    tightens an outer deadline; ``tighten_only=False`` replaces it (a shared fetch that
    serves several callers runs on its own deadline, not its first caller's)."""
    current = _DEADLINE.get()
    if seconds is None:
        yield current
        return
    candidate = time.monotonic() + seconds
    deadline = candidate if current is None or not tighten_only else min(current, candidate)
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def _reads_deadline(timeout: float) -> float:
    """The reads' share of a ``run_async`` time-out: a margin before it, for rendering."""
    margin = min(DEADLINE_MARGIN, 0.2 * timeout)
    return time.monotonic() + timeout - margin


async def _within(coro: Coroutine[Any, Any, T], deadline: float | None) -> T:
    token = _DEADLINE.set(deadline)
    try:
        return await coro
    finally:
        _DEADLINE.reset(token)


_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _start() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        # Stopped by reset_loop: let pending callbacks finish, then release the selector.
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="data-loop", daemon=True)
    thread.start()
    ready.wait()
    _loop, _thread = loop, thread
    return loop


def get_loop() -> asyncio.AbstractEventLoop:
    """The process's background loop, started on first use."""
    loop = _loop
    if loop is not None and not loop.is_closed():
        return loop
    with _lock:
        if _loop is None or _loop.is_closed():
            return _start()
        return _loop


def loop_running() -> bool:
    """True when the background loop exists (without starting one)."""
    loop = _loop
    return loop is not None and not loop.is_closed()


def in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run_async(coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
    """Run ``coro`` on the background loop and return its result (thread-safe).

    Reads inside ``coro`` share a deadline ``DEADLINE_MARGIN`` before ``timeout`` (see
    ``current_deadline``), so a slow upstream gives stale results, not a time-out.
    Exceptions propagate unchanged. If ``coro`` still overruns (work that is not a read),
    it is cancelled and ``DeadlineExceeded`` (an ``UpstreamError``, never a bare
    ``TimeoutError``) is raised. Calling it from the loop thread itself would deadlock,
    so that raises ``RuntimeError`` (await the coroutine there instead).
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError("run_async called from the data loop thread; await instead")
    loop = get_loop()
    deadline = None if timeout is None else _reads_deadline(timeout)
    future = asyncio.run_coroutine_threadsafe(_within(coro, deadline), loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise DeadlineExceeded(f"no answer within {timeout:g} s", source="deadline") from None


def run_all(*reads: Awaitable[Any] | None, timeout: float | None = 30.0) -> list[Any]:
    """Several reads in one concurrent round from synchronous code (one ``run_async``:
    every extra round is one more upstream latency). A None read is "nothing to fetch"
    and gives None, so callers can skip a read without changing the unpacking."""

    async def nothing() -> None:
        return None

    async def gathered() -> list[Any]:
        return list(await asyncio.gather(*(r if r is not None else nothing() for r in reads)))

    return run_async(gathered(), timeout)


def reset_loop(timeout: float = 5.0) -> None:
    """Stop the background loop (tests, shutdown); the next ``run_async`` starts a new one.

    Clients bound to the old loop rebuild themselves lazily on the new one.
    """
    global _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        _loop, _thread = None, None
    if loop is None or loop.is_closed():
        return

    async def _cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
        asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(timeout)
    loop.call_soon_threadsafe(loop.stop)
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


def _after_fork_in_child() -> None:
    # The loop thread does not exist in the child; its loop object must not be reused.
    global _lock, _loop, _thread
    _lock = threading.Lock()
    _loop, _thread = None, None


os.register_at_fork(after_in_child=_after_fork_in_child)
