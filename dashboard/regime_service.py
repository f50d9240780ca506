"""The imperative shell around the pure regime model (``analytics/regime.py``).

The jump-model fit needs ~20 years of daily closes and takes seconds, so it never runs on
a request: a background thread fetches the history, fits, and stores the result in a
diskcache under ``settings.data_dir`` keyed by trading day, so every gunicorn worker
shares one fit per day (a diskcache lock makes the first worker fit while the others
wait for its result). Requests only read the latest finished fit (``snapshot``) and the
header badge reads ``current_regime``; both start a refresh lazily and return at once.

The store, the lock and the compute process are ``dashboard.jobs``'s, shared with the
Strategy tab's backtests.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.analytics.regime import RegimeParams, RegimeResult, fit_regimes
from dashboard.analytics.regime_fits import RegimeFit, RegimeSnapshot
from dashboard.conventions import NEW_YORK
from dashboard.jobs import DiskStore, ThreadExecutor, compute_off_process, compute_shared

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

log = logging.getLogger(__name__)

__all__ = [
    "RegimeFit",
    "RegimeService",
    "RegimeSnapshot",
    "completed_sessions",
    "fit_off_process",
]

MARKET_SYMBOL = "SPY"
VIX_SYMBOL = "VIX"  # the simulator's VIX-like index (DEFAULT_UNIVERSE); absent on Alpaca
HISTORY_YEARS = 25  # ask for more than the model needs; the source returns what it has
CACHE_VERSION = "v1"


# ------------------------------------------------------------------ regime fit


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
        self._store = DiskStore(Path(data_dir) / "regime-cache")
        self._pool = ThreadExecutor(1, "regime-fit")
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
        return compute_shared(
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


def _fit_fields(close: pd.Series, vix: pd.Series | None, params: RegimeParams) -> dict[str, Any]:
    """Runs in the fitting process; plain fields, since MappingProxyType does not pickle."""
    r = fit_regimes(close, vix, params)
    fields = {name: getattr(r, name) for name in RegimeResult.__dataclass_fields__}
    fields["thresholds"] = dict(r.thresholds)
    return fields


def fit_off_process(close: pd.Series, vix: pd.Series | None, params: RegimeParams) -> RegimeResult:
    """The jump-model fit in the compute process."""
    fields = compute_off_process(_fit_fields, close, vix, params)
    fields["thresholds"] = MappingProxyType(fields["thresholds"])
    return RegimeResult(**fields)
