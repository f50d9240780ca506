"""Strategy equity: the compounded curve against buy-and-hold, by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.views import strategy_equity as eq
from dashboard.views.strategy import DateRange
from tests.views._backtests import DAYS, TRADES, _runs


def test_r_equity_compounds_one_percent_risk_per_trade_in_exit_order() -> None:
    from types import SimpleNamespace

    t = pd.Timestamp("2026-01-05", tz="UTC")
    trades = [
        SimpleNamespace(
            r_multiple=-1.0, exit_index=9, exit_time=t + pd.Timedelta(days=3), entry_index=5
        ),
        SimpleNamespace(r_multiple=2.0, exit_index=4, exit_time=t, entry_index=1),
        SimpleNamespace(r_multiple=None, exit_index=None, exit_time=None, entry_index=7),  # open
    ]
    equity = eq.r_equity(trades)
    # +2 R at 1% of $100,000, then −1 R at 1% of $102,000
    assert equity.tolist() == pytest.approx([102_000.0, 100_980.0])


def test_equity_view_against_buy_and_hold_by_hand() -> None:
    view = eq.equity_view(TRADES, _runs(TRADES), DateRange())
    # +2R at 1% of 100,000 on Jan 3, then −1R at 1% of 102,000 on Jan 5.
    assert view.strategy.tolist() == pytest.approx([100_000, 102_000, 102_000, 100_980])
    # 50,000 in each: A 100 → 110 → 121 → 99, B 50 → 50 → 50 → 25.
    assert view.benchmark.tolist() == pytest.approx([100_000, 105_000, 110_500, 74_500])
    assert list(view.strategy.index) == list(DAYS) == list(view.benchmark.index)
    rows = {r["id"]: r for r in eq.benchmark_rows(view)}
    s, b = rows[eq.STRATEGY_NAME], rows[eq.BENCHMARK_NAME]
    assert (s["total_return_pct"], s["max_drawdown_pct"], s["days"]) == (0.98, -1.0, 4)
    assert (b["total_return_pct"], b["max_drawdown_pct"]) == (-25.5, round(-36_000 / 1105, 2))

    later = eq.equity_view(TRADES, _runs(TRADES), DateRange(date(2024, 1, 3), None))
    # Only the trade entered on Jan 3 counts; both curves start at 100,000 that day.
    assert later.strategy.tolist() == pytest.approx([100_000, 100_000, 99_000])
    assert later.benchmark.tolist() == pytest.approx([100_000, 105_000, 70_000])
