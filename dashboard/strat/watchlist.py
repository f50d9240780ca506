"""The watchlist's signal board: every symbol's frames scanned with its own closed-bar
flags, then ranked into one board.

Pure: bars in (already fetched, with the broker's time they are judged at), rows out.
``signal_scan.scan_signals`` is the shell that fetches them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

import pandas as pd

from dashboard.models import DataResult, DataState
from dashboard.strat.board import SignalRow, board_rows, rank_board
from dashboard.strat.memo import ScanMemo
from dashboard.strat.scanner import ScanRow, scan
from dashboard.strat.settlement import ns_to_datetime, utc_ns
from dashboard.strat.timeframes import SCAN_TIMEFRAMES, bar_close_time, is_bar_closed

__all__ = [
    "SIGNAL_LOOKBACKS",
    "SIGNAL_TIMEFRAMES",
    "SignalBoard",
    "board_from_bars",
    "board_state",
]

SIGNAL_TIMEFRAMES: Final[tuple[str, ...]] = SCAN_TIMEFRAMES
# Bars each timeframe is scanned on: enough for the setups of the last 4 closed bars,
# ATR(14) and the T2/T3 ladder. Built timeframes read fewer, so that the served bars
# they come from (30-minute bars for 4Hour, months for quarters) still fit one request
# for a full watchlist (data_loaders.bars.requests_per_refresh).
SIGNAL_LOOKBACKS: Final[Mapping[str, int]] = MappingProxyType(
    {tf: 40 if tf in ("4Hour", "1Quarter") else 120 for tf in SIGNAL_TIMEFRAMES}
)


@dataclass(frozen=True, slots=True)
class SignalBoard:
    rows: tuple[SignalRow, ...]
    errors: tuple[str, ...]  # "SPY 1Hour: reason" for frames that failed
    source: str
    as_of: datetime | None  # the broker clock the scan was judged at
    state: DataState
    scanned: int  # symbol × timeframe frames that had data
    symbols: tuple[str, ...] = ()  # the watchlist scanned


def _closed_flags(
    frames: Mapping[tuple[str, str], pd.DataFrame], now: datetime, memo: ScanMemo | None = None
) -> dict[tuple[str, str], bool]:
    """Whether each frame's last bar has closed at ``now``. A bar's close time depends
    only on its timeframe and start instant, so the memo keeps it (keyed by both)."""
    flags: dict[tuple[str, str], bool] = {}
    for (sym, tf), df in frames.items():
        index = df.index
        if not isinstance(index, pd.DatetimeIndex):
            flags[(sym, tf)] = is_bar_closed(tf, index[-1].to_pydatetime(), now)
            continue
        ns = int(utc_ns(index)[-1])  # no pandas Timestamp per frame
        key = ("close", tf, ns)
        close = memo.get(key) if memo is not None and index.tz is not None else None
        if not isinstance(close, datetime):
            close = bar_close_time(tf, ns_to_datetime(ns, index.tz))
            if memo is not None:
                memo.put(key, close)
        flags[(sym, tf)] = now >= close
    return flags


def board_from_bars(
    bars: Mapping[tuple[str, str], DataResult[pd.DataFrame]],
    now: datetime,
    timeframes: Sequence[str] = SIGNAL_TIMEFRAMES,
    *,
    min_magnitude_pct: float = 0.5,
    memo: ScanMemo | None = None,
) -> tuple[list[SignalRow], list[str], int]:
    """Pure: scan each symbol with its own closed-bar flags, then build the board in
    readiness order (``strat.board``). ``memo`` (kept by the caller between refreshes)
    spares a refresh the work its closed bars already decided; the rows are the same."""
    errors: dict[str, list[str]] = {}
    scanned = 0
    symbols = list(dict.fromkeys(sym for sym, _ in bars))
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    for sym in symbols:
        errors[sym] = []
        for tf in timeframes:
            res = bars.get((sym, tf))
            if res is None:
                continue
            if res.value is None or res.state is DataState.ERROR:
                errors[sym].append(f"{sym} {tf}: {res.error or 'no data'}")
                continue
            if len(res.value) == 0:
                continue
            frames[(sym, tf)] = res.value
    scanned = len(frames)
    # One scan of every symbol, so the frames are prepared in one pass (``scan``);
    # each symbol keeps its own closed-bar flags.
    by_symbol: dict[str, list[ScanRow]] = {}
    for r in scan(
        frames,
        timeframes=list(timeframes),
        last_bar_closed=_closed_flags(frames, now, memo),
        include_resolved=True,  # so a row can say its other direction broke too
        memo=memo,
    ):
        by_symbol.setdefault(r.symbol, []).append(r)
    rows: list[SignalRow] = []
    all_errors: list[str] = []
    for sym in symbols:
        scan_rows = by_symbol.get(sym, [])
        all_errors += errors[sym]
        all_errors.extend(f"{r.symbol} {r.timeframe}: {r.error}" for r in scan_rows if r.error)
        rows.extend(board_rows(scan_rows, min_magnitude_pct=min_magnitude_pct, memo=memo))
    return rank_board(rows), all_errors, scanned


def board_state(scanned: int, errors: Sequence[str], states: Sequence[DataState]) -> DataState:
    """Empty or error when nothing was scanned; stale when any frame came stale or failed."""
    if scanned == 0:
        return DataState.ERROR if errors else DataState.EMPTY
    if any(s in (DataState.STALE, DataState.ERROR) for s in states):
        return DataState.STALE
    return DataState.FRESH
