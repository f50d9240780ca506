"""The signal board's shell: fetch bars for the watchlist, then run the pure scanner.

Kept out of the callback so the Options tab, the benchmark and the tests share one path.
Closed-bar judgement uses the broker's clock, not the machine's, because the simulator's
clock runs faster than real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.models import DataResult, DataState
from dashboard.strat import scan
from dashboard.strat.board import TIMEFRAME_ORDER, SignalRow, build_signal_board
from dashboard.strat.timeframes import is_bar_closed

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

SIGNAL_TIMEFRAMES: tuple[str, ...] = ("1Month", "1Week", "1Day", "1Hour")
LOOKBACK_BARS = 120


@dataclass(frozen=True, slots=True)
class SignalBoard:
    rows: tuple[SignalRow, ...]
    errors: tuple[str, ...]  # "SPY 1Hour: reason" for frames that failed
    source: str
    as_of: datetime | None  # the broker clock the scan was judged at
    state: DataState
    scanned: int  # symbol × timeframe frames that had data


def _closed_flags(frames: dict[str, pd.DataFrame], now: datetime) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for tf, df in frames.items():
        last = df.index[-1].to_pydatetime()
        flags[tf] = is_bar_closed(tf, last, now)
    return flags


def board_from_bars(
    bars: dict[tuple[str, str], DataResult[pd.DataFrame]],
    now: datetime,
    timeframes: Sequence[str] = SIGNAL_TIMEFRAMES,
    *,
    min_magnitude_pct: float = 0.5,
) -> tuple[list[SignalRow], list[str], int]:
    """Pure: scan each symbol with its own closed-bar flags, then build the board."""
    rows: list[SignalRow] = []
    errors: list[str] = []
    scanned = 0
    symbols = list(dict.fromkeys(sym for sym, _ in bars))
    for sym in symbols:
        frames: dict[str, pd.DataFrame] = {}
        for tf in timeframes:
            res = bars.get((sym, tf))
            if res is None:
                continue
            if res.value is None or res.state is DataState.ERROR:
                errors.append(f"{sym} {tf}: {res.error or 'no data'}")
                continue
            if len(res.value) == 0:
                continue
            frames[tf] = res.value
        if not frames:
            continue
        scanned += len(frames)
        scan_rows = scan(
            {(sym, tf): df for tf, df in frames.items()},
            timeframes=[tf for tf in timeframes if tf in frames],
            last_bar_closed=_closed_flags(frames, now),
        )
        errors.extend(f"{r.symbol} {r.timeframe}: {r.error}" for r in scan_rows if r.error)
        rows.extend(build_signal_board(scan_rows, min_magnitude_pct=min_magnitude_pct))
    order = {"triggered": 0, "pending": 1, "low_magnitude": 2}
    rows.sort(key=lambda r: (order[r.category], r.symbol, TIMEFRAME_ORDER.get(r.timeframe, 9)))
    return rows, errors, scanned


async def scan_signals(
    data: AsyncDataService,
    symbols: Sequence[str],
    timeframes: Sequence[str] = SIGNAL_TIMEFRAMES,
    *,
    min_magnitude_pct: float = 0.5,
) -> SignalBoard:
    """Fetch every (symbol, timeframe) concurrently and scan them at the broker's time."""
    clock, bars = await asyncio.gather(  # one round: the bars do not wait for the clock
        data.fetch_clock(), data.fetch_bars_many(symbols, timeframes, lookback=LOOKBACK_BARS)
    )
    now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
    rows, errors, scanned = board_from_bars(
        bars, now, timeframes, min_magnitude_pct=min_magnitude_pct
    )
    sources = sorted({r.source for r in bars.values()})
    states = [r.state for r in bars.values()]
    if scanned == 0:
        state = DataState.ERROR if errors else DataState.EMPTY
    elif any(s in (DataState.STALE, DataState.ERROR) for s in states):
        state = DataState.STALE
    else:
        state = DataState.FRESH
    return SignalBoard(
        rows=tuple(rows),
        errors=tuple(errors),
        source=", ".join(sources) or "none",
        as_of=now,
        state=state,
        scanned=scanned,
    )
