"""The Strategy tab's backtests, run off the request path.

Each strategy × symbol × timeframe backtest fetches its bars and the next lower
timeframe's (the bar magnifier settles same-bar ambiguity on them), runs the pure
backtest (``analytics.strategy.run_strategy``) in the compute process, and is cached per
trading day by the process's ``DailyJobCache``, so a callback only collects finished
results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.analytics.strategy import DEFAULT_STRATEGY, run_strategy, strategy_by_id
from dashboard.jobs import Job, compute_off_process
from dashboard.views.strategy import (
    LOOKBACK,
    MAGNIFIER,
    MAGNIFIER_LOOKBACK,
    BacktestRun,
    job_key,
    period_end_closes,
)

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.jobs import DailyJobCache

__all__ = ["collect_runs", "run_backtest"]


def _backtest(
    bars: pd.DataFrame,
    symbol: str,
    timeframe: str,
    strategy_id: str,
    lower: dict[str, pd.DataFrame],
) -> Any:
    """Runs in the compute process (module-level, so it pickles)."""
    spec = strategy_by_id(strategy_id)
    return run_strategy(bars, spec, symbol=symbol, timeframe=timeframe, lower_bars=lower)


def run_backtest(
    data: AsyncDataService, symbol: str, timeframe: str, strategy_id: str = DEFAULT_STRATEGY
) -> BacktestRun:
    """Fetch bars (and the magnifier's lower bars) and backtest them (runs on the job
    thread, never on a request). Without lower bars the same-bar rule decides."""
    from dashboard.data_loaders.loop import run_all

    lower_tf = MAGNIFIER.get(timeframe)
    res, lower_res = run_all(
        data.fetch_bars(symbol, timeframe, LOOKBACK[timeframe]),
        data.fetch_bars(symbol, lower_tf, MAGNIFIER_LOOKBACK) if lower_tf else None,
        timeout=120,
    )
    if res.value is None:
        raise RuntimeError(f"no {timeframe} bars for {symbol}: {res.error or res.state}")
    bars = res.value
    lower: dict[str, pd.DataFrame] = {}
    if lower_tf and lower_res is not None and lower_res.value is not None:
        lower[lower_tf] = lower_res.value
    result = compute_off_process(_backtest, bars, symbol, timeframe, strategy_id, lower)
    last = pd.Timestamp(bars.index[-1]).to_pydatetime() if len(bars) else None
    closes = period_end_closes(bars["close"], timeframe)
    return BacktestRun(symbol, timeframe, result, res.source, len(bars), last, strategy_id, closes)


def collect_runs(
    jobs: DailyJobCache,
    data: AsyncDataService,
    symbols: Sequence[str],
    timeframes: Sequence[str],
    day: date,
    strategy_id: str = DEFAULT_STRATEGY,
) -> tuple[list[BacktestRun], list[str], list[str]]:
    """Finished runs, pending pair names and error texts; submits what is missing."""
    runs: list[BacktestRun] = []
    pending: list[str] = []
    errors: list[str] = []
    for sym in symbols:
        for tf in timeframes:
            job: Job[BacktestRun] = jobs.get(
                job_key(sym, tf, day, strategy_id),
                lambda s=sym, t=tf: run_backtest(data, s, t, strategy_id),  # type: ignore[misc]
            )
            if job.status == "ready" and job.value is not None:
                runs.append(job.value)
            elif job.status == "error":
                errors.append(f"{sym} {tf}: {job.error}")
            else:
                pending.append(f"{sym} {tf}")
    return runs, pending, errors
