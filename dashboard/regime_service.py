"""The imperative shell around the pure regime model (``analytics/regime.py``).

The jump-model fit needs ~20 years of daily closes and takes seconds, so it never runs on
a request: a background thread fetches the history, fits, and stores the result in a
diskcache under ``settings.data_dir`` keyed by trading day, so every gunicorn worker
shares one fit per day (a diskcache lock makes the first worker fit while the others
wait for its result). Requests only read the latest finished fit (``snapshot``) and the
header badge reads ``current_regime``; both start a refresh lazily and return at once.

``DailyJobCache`` is the same idea for any keyed, per-day computation (the Strategy tab's
backtests use it): submit once, poll, read from memory or from disk.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.analytics.regime import RegimeParams, RegimeResult, fit_regimes
from dashboard.models import DataResult, DataState

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.services import Services

log = logging.getLogger(__name__)

__all__ = [
    "DailyJobCache",
    "Job",
    "RegimeFit",
    "RegimeService",
    "RegimeSnapshot",
    "completed_sessions",
    "get_daily_jobs",
    "get_regime_service",
    "install_regime_service",
]

NEW_YORK = ZoneInfo("America/New_York")
MARKET_SYMBOL = "SPY"
VIX_SYMBOL = "VIX"  # the simulator's VIX-like index (DEFAULT_UNIVERSE); absent on Alpaca
HISTORY_YEARS = 25  # ask for more than the model needs; the source returns what it has
CACHE_VERSION = "v1"
T = TypeVar("T")


# ------------------------------------------------------------------ disk store


class _DiskStore:
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


def _compute_shared(store: _DiskStore, key: str, fn: Callable[[], T], ttl: float) -> T:
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


class _Executor:
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
        self._store = _DiskStore(directory)
        self._pool = _Executor(workers, "daily-jobs")
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
            value = _compute_shared(self._store, key, fn, self._ttl)
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


# ------------------------------------------------------------------ regime fit


@dataclass(frozen=True, slots=True, eq=False)
class RegimeFit:
    """One finished fit with the closes it was fitted on (the tab plots and measures
    against exactly these)."""

    symbol: str
    result: RegimeResult
    close: pd.Series
    vix: pd.Series | None
    source: str
    day: date  # the trading day this fit belongs to (its cache key)
    data_as_of: datetime  # timestamp of the last daily bar used
    fitted_at: datetime  # wall-clock time the fit finished
    notes: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # RegimeResult.thresholds is a MappingProxyType, which pickle refuses.
        r = self.result
        fields = {name: getattr(r, name) for name in RegimeResult.__dataclass_fields__}
        fields["thresholds"] = dict(r.thresholds)
        own = {name: getattr(self, name) for name in RegimeFit.__dataclass_fields__}
        own.pop("result")
        return (_rebuild_fit, (fields, own))


def _rebuild_fit(result_fields: dict[str, Any], own: dict[str, Any]) -> RegimeFit:
    result_fields = dict(result_fields)
    result_fields["thresholds"] = MappingProxyType(result_fields["thresholds"])
    return RegimeFit(result=RegimeResult(**result_fields), **own)


@dataclass(frozen=True, slots=True)
class RegimeSnapshot:
    """What the Regime tab shows: the latest fit (maybe older than today while a refresh
    runs), whether a fit is running, and the last error."""

    status: Literal["fitting", "ready", "error"]
    fit: RegimeFit | None
    running: bool
    error: str | None = None

    def as_result(self) -> DataResult[RegimeFit]:
        """The snapshot as a ``DataResult`` for ``status_line``."""
        fit = self.fit
        if fit is None:
            state = DataState.ERROR if self.status == "error" else DataState.EMPTY
            return DataResult(None, "regime model", None, state, self.error)
        source = f"jump model on {fit.symbol} daily · {fit.source}"
        if self.error:
            return DataResult(
                fit, source, fit.fitted_at, DataState.STALE, self.error, fit.fitted_at
            )
        return DataResult(fit, source, fit.fitted_at, DataState.FRESH)


def completed_sessions(bars: pd.DataFrame, now: datetime, is_open: bool) -> pd.DataFrame:
    """Daily bars of finished sessions only, so a day's fit does not depend on when in the
    day it ran: today's bar counts once the market has closed for the day."""
    if bars.empty:
        return bars
    today = now.astimezone(NEW_YORK).date()
    days = pd.DatetimeIndex(bars.index).tz_convert(NEW_YORK).date
    past = days < today
    closed_today = (days == today) & (not is_open) & (now.astimezone(NEW_YORK).hour >= 16)
    return bars[past | closed_today]


class RegimeService:
    """Background regime fits for the market symbol and, on demand, watchlist symbols."""

    def __init__(
        self,
        data: AsyncDataService,
        data_dir: Path,
        *,
        symbol: str = MARKET_SYMBOL,
        vix_symbol: str | None = VIX_SYMBOL,
        params: RegimeParams = RegimeParams(),
        recheck_seconds: float = 300.0,
        history_years: int = HISTORY_YEARS,
    ) -> None:
        self.data = data
        self.symbol = symbol.upper()
        self.vix_symbol = vix_symbol.upper() if vix_symbol else None
        self.params = params
        self.recheck_seconds = recheck_seconds
        self.history_years = history_years
        self._store = _DiskStore(Path(data_dir) / "regime-cache")
        self._pool = _Executor(1, "regime-fit")
        self._lock = threading.Lock()
        self._fit: RegimeFit | None = None
        self._symbol_fits: dict[str, RegimeFit] = {}
        self._symbol_errors: dict[str, str] = {}
        self._wanted: list[str] = []
        self._future: Future[Any] | None = None
        self._error: str | None = None
        self._checked = -float("inf")

    # -- reads (never block) ------------------------------------------------------------
    def snapshot(self) -> RegimeSnapshot:
        """The latest fit; starts a background refresh when none ran recently."""
        with self._lock:
            self._maybe_start()
            running = self._future is not None
            fit, err = self._fit, self._error
        if fit is None:
            failed = err is not None and not running
            return RegimeSnapshot("error" if failed else "fitting", None, running, err)
        return RegimeSnapshot("ready", fit, running, err)

    def current_regime(self) -> tuple[str, datetime] | None:
        """Latest label and its date, for the header badge (None until the first fit)."""
        fit = self.snapshot().fit
        if fit is None or fit.result.current is None or fit.result.as_of is None:
            return None
        return str(fit.result.current), fit.result.as_of.to_pydatetime()

    def symbol_regimes(self, symbols: Sequence[str]) -> dict[str, RegimeFit | str | None]:
        """Per symbol: its own fit, an error text, or None while pending. The market
        symbol shares the market fit; others are fitted after it, in the background."""
        wanted = [s.upper() for s in symbols]
        with self._lock:
            new = [s for s in wanted if s != self.symbol and s not in self._wanted]
            if new:
                self._wanted.extend(new)
                missing = True
            else:
                missing = any(
                    s not in self._symbol_fits and s not in self._symbol_errors
                    for s in wanted
                    if s != self.symbol
                )
            self._maybe_start(force=missing)
            out: dict[str, RegimeFit | str | None] = {}
            for s in wanted:
                if s == self.symbol:
                    out[s] = self._fit
                else:
                    out[s] = self._symbol_fits.get(s) or self._symbol_errors.get(s)
            return out

    def wait(self, timeout: float = 120.0) -> RegimeSnapshot:
        """Block until the running refresh finishes (tests and warm-up only)."""
        with self._lock:
            self._maybe_start()
            fut = self._future
        if fut is not None:
            fut.result(timeout=timeout)
        with self._lock:
            return RegimeSnapshot(
                "ready" if self._fit else "error", self._fit, self._future is not None, self._error
            )

    def close(self) -> None:
        self._pool.shutdown()
        self._store.close()

    # -- background ---------------------------------------------------------------------
    def _maybe_start(self, force: bool = False) -> None:
        """Caller holds the lock."""
        if self._future is not None:
            return
        due = time.monotonic() - self._checked >= self.recheck_seconds
        if self._fit is None and self._error is not None:
            due = time.monotonic() - self._checked >= min(self.recheck_seconds, 30.0)
        if due or force:
            self._future = self._pool.submit(self._refresh)

    def _refresh(self) -> None:
        try:
            now, is_open = self._broker_now()
            fit = self._fit_symbol(self.symbol, now, is_open)
            with self._lock:
                self._fit, self._error = fit, None
                wanted = list(self._wanted)
            for sym in wanted:
                try:
                    sym_fit = self._fit_symbol(sym, now, is_open)
                    with self._lock:
                        self._symbol_fits[sym] = sym_fit
                        self._symbol_errors.pop(sym, None)
                except Exception as exc:  # one symbol's short history must not stop others
                    with self._lock:
                        self._symbol_errors[sym] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.warning("regime refresh failed: %s", exc)
            with self._lock:
                self._error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._future = None
                self._checked = time.monotonic()

    def _broker_now(self) -> tuple[datetime, bool]:
        from dashboard.data_loaders.loop import run_async

        clock = run_async(self.data.fetch_clock(), timeout=30)
        if clock.value is not None:
            return clock.value.timestamp, clock.value.is_open
        return datetime.now(UTC), True  # unknown: treat today's bar as unfinished

    def _fit_symbol(self, symbol: str, now: datetime, is_open: bool) -> RegimeFit:
        day = now.astimezone(NEW_YORK).date()
        if not is_open and now.astimezone(NEW_YORK).hour >= 16:
            day = day + timedelta(days=1)  # after the close the day's bar is final
        key = f"regime:{CACHE_VERSION}:{symbol}:{self.vix_symbol}:{day.isoformat()}"
        key += ":" + hashlib.sha1(repr(self.params).encode()).hexdigest()[:10]
        return _compute_shared(
            self._store, key, lambda: self._fit_now(symbol, day, now, is_open), 3 * 86_400
        )

    def _fit_now(self, symbol: str, day: date, now: datetime, is_open: bool) -> RegimeFit:
        from dashboard.data_loaders.loop import run_async

        start = datetime(now.year - self.history_years, 1, 1, tzinfo=UTC)
        bars = run_async(self.data.fetch_bars_history(symbol, "1Day", start), timeout=120)
        if bars.value is None or bars.value.empty:
            raise RuntimeError(f"no daily history for {symbol}: {bars.error or bars.state}")
        daily = completed_sessions(bars.value, now, is_open)
        notes: list[str] = []
        vix_close: pd.Series | None = None
        if self.vix_symbol:
            vres = run_async(self.data.fetch_bars_history(self.vix_symbol, "1Day", start), 120)
            if vres.value is not None and not vres.value.empty:
                vix_close = completed_sessions(vres.value, now, is_open)["close"]
            else:
                notes.append(f"no {self.vix_symbol} history: VIX-spike override off")
        result = fit_off_process(daily["close"], vix_close, self.params)
        return RegimeFit(
            symbol=symbol,
            result=result,
            close=daily["close"].astype(float),
            vix=vix_close,
            source=bars.source,
            day=day,
            data_as_of=pd.Timestamp(daily.index[-1]).to_pydatetime(),
            fitted_at=datetime.now(UTC),
            notes=tuple(notes),
        )


# ------------------------------------------------------------------ fitting process

_compute_pool: ProcessPoolExecutor | None = None
_compute_pool_pid: int | None = None
_compute_pool_lock = threading.Lock()


def _fit_fields(close: pd.Series, vix: pd.Series | None, params: RegimeParams) -> dict[str, Any]:
    """Runs in the fitting process; plain fields, since MappingProxyType does not pickle."""
    r = fit_regimes(close, vix, params)
    fields = {name: getattr(r, name) for name in RegimeResult.__dataclass_fields__}
    fields["thresholds"] = dict(r.thresholds)
    return fields


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


def fit_off_process(close: pd.Series, vix: pd.Series | None, params: RegimeParams) -> RegimeResult:
    """The jump-model fit in the compute process."""
    fields = compute_off_process(_fit_fields, close, vix, params)
    fields["thresholds"] = MappingProxyType(fields["thresholds"])
    return RegimeResult(**fields)


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


# ------------------------------------------------------------------ wiring


def install_regime_service(services: Services) -> RegimeService:
    """Create the process's regime service (once) and hand the header its provider.

    Idempotent: the app factory's tab registration calls it too, so the badge works
    whether or not ``build_services`` installed it first.
    """
    existing = services.extras.get("regime")
    if isinstance(existing, RegimeService):
        return existing
    svc = RegimeService(services.data, services.settings.data_dir)
    services.extras["regime"] = svc
    services.extras["regime_provider"] = svc.current_regime
    services.on_close(svc.close)
    services.on_close(shutdown_compute_pool)
    return svc


def get_regime_service(services: Services) -> RegimeService:
    return install_regime_service(services)


def get_daily_jobs(services: Services) -> DailyJobCache:
    """The process's per-day background job cache (Strategy tab backtests)."""
    jobs = services.extras.get("daily_jobs")
    if isinstance(jobs, DailyJobCache):
        return jobs
    jobs = DailyJobCache(services.settings.data_dir / "jobs-cache")
    services.extras["daily_jobs"] = jobs
    services.on_close(jobs.close)
    return jobs
