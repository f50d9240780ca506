"""One long-lived event loop per process, in a daemon thread, for synchronous callers.

Dash callbacks are synchronous and run on many threads. Creating a loop per call
(``asyncio.run``) throws away connection pools and breaks clients bound to an earlier
loop, so every coroutine runs here instead. After ``fork`` (gunicorn workers) the child
has no loop thread, so the module state is dropped and re-created on first use; clients
notice the new loop and rebuild themselves (see ``http.AsyncHTTPClient``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

__all__ = ["get_loop", "in_loop_thread", "loop_running", "reset_loop", "run_async"]

T = TypeVar("T")

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

    Exceptions propagate unchanged; on time-out the coroutine is cancelled and
    ``TimeoutError`` is raised. Calling it from the loop thread itself would deadlock,
    so that raises ``RuntimeError`` (await the coroutine there instead).
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError("run_async called from the data loop thread; await instead")
    loop = get_loop()
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"coroutine did not finish within {timeout} s") from None


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
