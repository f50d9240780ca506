"""The board's shell: one process-wide scan memo, and the same board with it warm."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard import signal_scan
from dashboard.models import DataResult, DataState
from dashboard.strat.watchlist import board_from_bars
from tests.strat._random_bars import random_case


@dataclass
class _Clock:
    timestamp: datetime


class _Data:
    """The two calls ``scan_signals`` makes, answered from fixed bars."""

    def __init__(self, bars: Mapping[tuple[str, str], pd.DataFrame], now: datetime) -> None:
        self.bars = {k: DataResult(df, "test", None, DataState.FRESH) for k, df in bars.items()}
        self.now = now

    async def fetch_clock(self) -> DataResult[_Clock]:
        return DataResult(_Clock(self.now), "test", None, DataState.FRESH)

    async def fetch_bars_many(
        self, symbols: Sequence[str], timeframes: Sequence[str], **_: Any
    ) -> dict[tuple[str, str], DataResult[pd.DataFrame]]:
        return {k: v for k, v in self.bars.items() if k[0] in symbols and k[1] in timeframes}


def test_scans_share_the_process_memo_and_match_a_cold_board() -> None:
    case = random_case(3)
    data = _Data(case.bars, case.now)
    symbols = sorted({s for s, _ in case.bars})
    signal_scan.SCAN_MEMO.clear()
    first = asyncio.run(signal_scan.scan_signals(data, symbols))  # type: ignore[arg-type]
    assert len(signal_scan.SCAN_MEMO) > 0
    hits = signal_scan.SCAN_MEMO.hits
    again = asyncio.run(signal_scan.scan_signals(data, symbols))  # type: ignore[arg-type]
    assert signal_scan.SCAN_MEMO.hits > hits
    cold, _errors, _n = board_from_bars(data.bars, case.now)
    assert list(first.rows) == list(again.rows) == cold
