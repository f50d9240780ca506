"""The signal board's shell: fetch bars for the watchlist, then run the pure board
(``strat.watchlist``).

Kept out of the callback so the Options tab, the benchmark and the tests share one path.
Closed-bar judgement uses the broker's clock, not the machine's, because the simulator's
clock runs faster than real time. Bars come one multi-symbol request per served
timeframe (``AsyncDataService.fetch_bars_many``): 6 requests for the board's 8
timeframes, as 4Hour is built from the 30Min bars and 1Quarter from the 1Month bars.

One ``ScanMemo`` per process keeps what the last scans' closed bars decided (patterns,
settled setups), so a refresh redoes only the live bars' share; every caller (the
Options tab's callbacks on gunicorn's threads, the alert engine) shares it, as its
keys are the bars' content and it is thread-safe and bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dashboard.strat.memo import ScanMemo
from dashboard.strat.watchlist import (
    SIGNAL_LOOKBACKS,
    SIGNAL_TIMEFRAMES,
    SignalBoard,
    board_from_bars,
    board_state,
)

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

LOOKBACK_BARS = 120
SCAN_MEMO = ScanMemo()


async def scan_signals(
    data: AsyncDataService,
    symbols: Sequence[str],
    timeframes: Sequence[str] = SIGNAL_TIMEFRAMES,
    *,
    min_magnitude_pct: float = 0.5,
    lookbacks: Mapping[str, int] = SIGNAL_LOOKBACKS,
) -> SignalBoard:
    """Fetch every (symbol, timeframe) concurrently and scan them at the broker's time."""
    clock, bars = await asyncio.gather(  # one round: the bars do not wait for the clock
        data.fetch_clock(),
        data.fetch_bars_many(symbols, timeframes, lookback=LOOKBACK_BARS, lookbacks=lookbacks),
    )
    now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
    rows, errors, scanned = board_from_bars(
        bars, now, timeframes, min_magnitude_pct=min_magnitude_pct, memo=SCAN_MEMO
    )
    sources = sorted({r.source for r in bars.values()})
    state = board_state(scanned, errors, [r.state for r in bars.values()])
    return SignalBoard(
        rows=tuple(rows),
        errors=tuple(errors),
        source=", ".join(sources) or "none",
        as_of=now,
        state=state,
        scanned=scanned,
        symbols=tuple(dict.fromkeys(s.upper() for s in symbols)),
    )
