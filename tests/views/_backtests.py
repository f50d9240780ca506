"""Hand-made backtest trades and runs shared by the Strategy view and callback tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.analytics.strategy import BacktestResult, BacktestTrade
from dashboard.views.strategy import BacktestRun

NY = "America/New_York"
NOW = pd.Timestamp("2024-01-08 15:00", tz="UTC").to_pydatetime()
DAYS = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])


def _trade(entry: str, exit_: str | None, r: float | None, i: int, **kw: Any) -> BacktestTrade:
    return BacktestTrade(
        symbol="A",
        timeframe="1Day",
        pattern="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction="long",
        setup_index=i - 1,
        entry_index=i,
        exit_index=None if exit_ is None else i + 1,
        setup_time=None,
        entry_time=pd.Timestamp(entry, tz=NY).to_pydatetime(),
        exit_time=None if exit_ is None else pd.Timestamp(exit_, tz="UTC").to_pydatetime(),
        entry_price=10.0,
        stop_price=9.0,
        target_price=12.0,
        exit_price=None,
        outcome="open" if r is None else "target",
        r_multiple=r,
        bars_held=None,
        **kw,
    )


def _runs(trades: list[BacktestTrade]) -> list[BacktestRun]:
    a = pd.Series([100.0, 110.0, 121.0, 99.0], index=DAYS)
    b = pd.Series([50.0, 50.0, 50.0, 25.0], index=DAYS)
    res = BacktestResult(tuple(trades), 5, len(trades), 0, 0)
    empty = BacktestResult((), 0, 0, 0, 0)
    return [
        BacktestRun("A", "1Day", res, "sim", 4, None, "all", a),
        BacktestRun("B", "1Day", empty, "sim", 4, None, "all", b),
    ]


TRADES = [
    _trade("2024-01-02", "2024-01-03 15:00", 2.0, 1, tfc_aligned=True, tfc_score=3),
    _trade("2024-01-03", "2024-01-05 16:00", -1.0, 2, tfc_aligned=False, tfc_score=1),
    _trade("2024-01-04", None, None, 3, tfc_aligned=True, tfc_score=3),
]
