"""The signal board's shell: fetch bars for the watchlist, then run the pure board
(``strat.watchlist``).

Kept out of the callback so the Options tab, the benchmark and the tests share one path.
Closed-bar judgement uses the broker's clock, not the machine's, because the simulator's
clock runs faster than real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dashboard.strat.watchlist import (
    SIGNAL_TIMEFRAMES,
    SignalBoard,
    board_from_bars,
    board_state,
)

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService

LOOKBACK_BARS = 120


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
    state = board_state(scanned, errors, [r.state for r in bars.values()])
    return SignalBoard(
        rows=tuple(rows),
        errors=tuple(errors),
        source=", ".join(sources) or "none",
        as_of=now,
        state=state,
        scanned=scanned,
    )
