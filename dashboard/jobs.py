"""Background work off the request path: per-day job results shared across processes,
and one compute process per web process for CPU-bound pure functions.

``DailyJobCache`` runs keyed, per-day computations (the Strategy tab's backtests) on a
background thread, keeps the results in memory and in a diskcache under the data folder,
and never blocks a caller: ``get`` answers pending, ready or error at once. A
cross-process diskcache lock makes the first process compute a key while the others
wait for its value, so gunicorn workers share one result per day.

``compute_off_process`` runs a picklable pure function in a spawned process, so seconds
of pure-Python CPU (regime fits, backtests) never hold a web process's GIL.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

log = logging.getLogger(__name__)

__all__ = [
    "DailyJobCache",
    "DiskStore",
    "Job",
    "ThreadExecutor",
    "compute_off_process",
    "compute_shared",
    "shutdown_compute_pool",
]

T = TypeVar("T")


# ------------------------------------------------------------------ disk store


class DiskStore:
    """Pickled values in a diskcache directory, reopened after fork, plus a cross-process
    lock so only one process computes a key."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: Any = None
        self._pid = -1
        self._lock = threading.Lock()

    def _db(self) -> Any:
        with self._lock:
            if self._cache is None or self._pid != os.getpid():
                import diskcache

                self.directory.mkdir(parents=True, exist_ok=True)
                self._cache = diskcache.Cache(str(self.directory), timeout=5.0)
                self._pid = os.getpid()
            return self._cache

    def get(self, key: str) -> Any | None:
        raw = self._db().get(key)
        if not isinstance(raw, bytes):
            return None
        try:
            return pickle.loads(raw)
        except Exception:  # an unreadable entry (old class layout) is a miss
            log.warning("dropping unreadable cache entry %s", key)
            return None

    def set(self, key: str, value: Any, ttl: float) -> None:
        self._db().set(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), expire=ttl)

    def lock(self, key: str, expire: float = 900.0) -> Any:
        import diskcache

        return diskcache.Lock(self._db(), f"lock:{key}", expire=expire)

    def close(self) -> None:
        with self._lock:
            if self._cache is not None and self._pid == os.getpid():
                self._cache.close()
            self._cache = None


def compute_shared(store: DiskStore, key: str, fn: Callable[[], T], ttl: float) -> T:
    """The value under ``key`` from disk, else computed once across processes and stored."""
    hit = store.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    with store.lock(key):
        hit = store.get(key)  # another process may have finished while we waited
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        value = fn()
        store.set(key, value, ttl)
        return value


class ThreadExecutor:
    """One lazily created worker pool per process (threads do not survive a fork)."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=self._name)
                self._pid = os.getpid()
            return self._pool.submit(fn)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# ------------------------------------------------------------------ generic daily jobs


@dataclass(frozen=True, slots=True)
class Job(Generic[T]):
    """A background computation as the UI sees it."""

    status: Literal["pending", "ready", "error"]
    value: T | None = None
    error: str | None = None
    finished_at: datetime | None = None


class DailyJobCache:
    """Keyed computations run on a background thread, cached in memory and on disk.

    Callers put the trading day in the key, so a value is computed at most once per day
    per key across every process sharing ``directory``. ``get`` never blocks.
    """

    def __init__(
        self,
        directory: Path,
        *,
        workers: int = 1,
        ttl: float = 3 * 86_400,
        retry_after: float = 60.0,
        memory_items: int = 256,
    ) -> None:
        self._store = DiskStore(directory)
        self._pool = ThreadExecutor(workers, "daily-jobs")
        self._ttl = ttl
        self._retry_after = retry_after
        self._max = memory_items
        self._jobs: OrderedDict[str, Job[Any]] = OrderedDict()
        self._futures: dict[str, Future[Any]] = {}
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def _remember(self, key: str, job: Job[Any]) -> None:
        self._jobs[key] = job
        self._jobs.move_to_end(key)
        while len(self._jobs) > self._max:
            self._jobs.popitem(last=False)

    def _run(self, key: str, fn: Callable[[], Any]) -> None:
        try:
            value = compute_shared(self._store, key, fn, self._ttl)
            job: Job[Any] = Job("ready", value, None, datetime.now(UTC))
        except Exception as exc:  # shown on screen; retried after retry_after
            log.warning("background job %s failed: %s", key, exc)
            job = Job("error", None, f"{type(exc).__name__}: {exc}", datetime.now(UTC))
            with self._lock:
                self._failed_at[key] = time.monotonic()
        with self._lock:
            self._remember(key, job)
            self._futures.pop(key, None)

    def get(self, key: str, fn: Callable[[], T]) -> Job[T]:
        """The job's current state; submits it when it is neither known nor running."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.status == "ready":
                return job
            if key in self._futures:
                return Job("pending")
            failed = self._failed_at.get(key)
            recent = failed is not None and time.monotonic() - failed < self._retry_after
            if job is not None and recent:
                return job
            self._futures[key] = self._pool.submit(lambda: self._run(key, fn))
        return Job("pending")

    def wait(self, key: str, timeout: float) -> Job[Any] | None:
        """Block until ``key`` finishes (tests and warm-up scripts only)."""
        with self._lock:
            fut = self._futures.get(key)
        if fut is not None:
            fut.result(timeout=timeout)
        with self._lock:
            return self._jobs.get(key)

    def close(self) -> None:
        self._pool.shutdown()
        self._store.close()


# ------------------------------------------------------------------ compute process

_compute_pool: ProcessPoolExecutor | None = None
_compute_pool_pid: int | None = None
_compute_pool_lock = threading.Lock()


def _exit_with_parent() -> None:
    """Compute-process initializer: exit the moment the process that started it is gone.

    Waits on multiprocessing's parent sentinel (a pipe the parent holds open), so a parent
    killed by SIGKILL or a gunicorn time-out ends it too; once it exits, the last holder of
    the resource tracker's pipe is gone and the tracker exits as well. Without this both
    outlived their parent for hours.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(0)  # mid-task: nobody is left to read the result

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def compute_off_process(fn: Callable[..., T], *args: Any) -> T:
    """Run a pure, picklable CPU-bound ``fn`` in the process's one compute process.

    Regime fits and backtests are seconds of pure-Python CPU; in a thread they would hold
    the GIL against every callback of the web process, so pages would stall meanwhile.
    The compute process exits with its parent (``_exit_with_parent``).
    """
    global _compute_pool, _compute_pool_pid
    with _compute_pool_lock:
        if _compute_pool is None or _compute_pool_pid != os.getpid():
            ctx = multiprocessing.get_context("spawn")  # never fork a threaded server
            _compute_pool = ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=_exit_with_parent
            )
            _compute_pool_pid = os.getpid()
        pool = _compute_pool
    try:
        return pool.submit(fn, *args).result()
    except BrokenProcessPool:
        with _compute_pool_lock:
            _compute_pool = None
        raise


def shutdown_compute_pool() -> None:
    """Stop the compute process now: on shutdown nobody waits for a half-done fit, and a
    process stopping within its graceful time-out must not wait for one either."""
    global _compute_pool
    with _compute_pool_lock:
        pool = _compute_pool if _compute_pool_pid == os.getpid() else None
        _compute_pool = None
    if pool is not None:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # a running task is cut short: its caller gets BrokenProcessPool
            if proc.is_alive():
                proc.terminate()
