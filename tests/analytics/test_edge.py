"""Edge tables, buckets, regime at entry and trade equity against hand-worked trades."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics.edge import edge_table, trades_frame
from dashboard.analytics.strategy import backtest_patterns
from tests.analytics._bars import GOLDEN, make_bars, tfc_bars


def test_edge_table_and_frame() -> None:
    res = backtest_patterns(make_bars(GOLDEN), symbol="XYZ", timeframe="1D")
    df = trades_frame(res.trades)
    assert len(df) == 4 and "r_multiple" in df.columns
    e = edge_table(res.trades, by="pattern")
    assert e["trades"].sum() == 2  # the two open trades have no R
    row = e[e.pattern == "2-1-2"].iloc[0]
    assert row["win_rate"] == 1.0 and row["expectancy_r"] == pytest.approx(0.39 / 0.71)
    assert 0 < row["win_rate_low"] < 1 and row["win_rate_high"] == 1.0
    e2 = edge_table(df, by=("pattern", "timeframe"))
    assert set(e2.columns) >= {"pattern", "timeframe", "profit_factor", "expectancy_r"}


def test_trades_between_uses_the_new_york_entry_date() -> None:
    from dashboard.analytics.edge import trades_between

    res = backtest_patterns(tfc_bars(), timeframe="1Day")
    # Daily bars stamped at NY midnight: 2024-01-08 05:00 UTC is Jan 8 in New York.
    kept = trades_between(res.trades, date(2024, 1, 8), date(2024, 1, 8))
    assert kept and all(t.entry_time == pd.Timestamp("2024-01-08", tz="America/New_York")
                        for t in kept)  # fmt: skip
    assert trades_between(res.trades, None, None) == list(res.trades)
    assert trades_between(res.trades, date(2024, 1, 10), None) == []


def test_buckets() -> None:
    from dashboard.analytics.edge import delta_bucket, dte_bucket, tfc_bucket

    assert [dte_bucket(d) for d in (0, 6, 7, 14, 29, 30, 119, 120, 400)] == [
        "0–6 DTE",
        "0–6 DTE",
        "7–13 DTE",
        "14–29 DTE",
        "14–29 DTE",
        "30–59 DTE",
        "60–119 DTE",
        "120+ DTE",
        "120+ DTE",
    ]
    assert dte_bucket(None) is None and dte_bucket(-1) is None
    assert delta_bucket(0.5) == "0.40–0.60" and delta_bucket(-0.31) == "0.20–0.40"
    assert delta_bucket(1.0) == "0.80–1.00" and delta_bucket(None) is None
    assert tfc_bucket(True).startswith("Aligned") and tfc_bucket(False) == "Not aligned"
    assert tfc_bucket(None).startswith("Unknown")


def test_journal_option_frame_dte_and_r_on_premium() -> None:
    from types import SimpleNamespace

    from dashboard.analytics.edge import journal_option_frame

    def jt(
        status: str,
        filled: datetime | None,
        pnl: str,
        price: str | None = "2.50",
        delta: float | None = None,
    ):
        return SimpleNamespace(
            fill_delta=delta,
            status=status,
            pattern="2-1-2",
            timeframe="1Day",
            tfc="3/3 up",
            expiry=date(2026, 1, 30),
            entry_filled_at=filled,
            entry_fill_price=None if price is None else Decimal(price),
            entry_filled_qty=2,
            closed_qty=2,
            realized_pnl=Decimal(pnl),
        )

    # 2026-01-06 02:30 UTC is still Jan 5 in New York → 25 DTE.
    late = datetime(2026, 1, 6, 2, 30, tzinfo=UTC)
    rows = journal_option_frame(
        [
            jt("closed", late, "125", delta=0.52),
            jt("open", late, "999"),
            jt("closed", None, "10"),  # never filled: no DTE at entry
            jt("closed", datetime(2026, 1, 27, 15, tzinfo=UTC), "-500"),
        ]
    )
    assert rows["dte_at_entry"].tolist() == [25, 3]
    assert rows["dte_bucket"].tolist() == ["14–29 DTE", "0–6 DTE"]
    # R = P&L / premium paid = 125 / (2.50 × 100 × 2) = 0.25; −500 / 500 = −1.
    assert rows["r_multiple"].tolist() == pytest.approx([0.25, -1.0])
    # Delta is the one recorded at the fill, never derived: none for the older trade.
    assert rows["delta_at_entry"].tolist()[0] == 0.52
    assert math.isnan(rows["delta_at_entry"].tolist()[1])
    assert rows["delta_bucket"].tolist()[0] == "0.40–0.60" and pd.isna(rows["delta_bucket"].iloc[1])
    only_late = journal_option_frame([jt("closed", late, "125")], start=date(2026, 1, 6))
    assert only_late.empty


def test_regime_at_entry_is_the_previous_sessions_label() -> None:
    from dashboard.analytics.edge import edge_by_regime, regime_at_entry

    bars = tfc_bars()  # daily bars at midnight New York, 2023-12-27 … 2024-01-09
    res = backtest_patterns(bars, timeframe="1Day", tfc_timeframes=())
    labels = pd.Series(
        [f"R{i}" for i in range(len(bars))], index=bars.index
    )  # a different label every day
    tags = regime_at_entry(res.trades, labels)
    for t, tag in zip(res.trades, tags, strict=True):
        # The label computed at the close before the trigger bar opened, not its own.
        assert tag == f"R{t.entry_index - 1}"
    table = edge_by_regime(res.trades, labels)
    closed = [t for t in res.trades if t.r_multiple is not None]
    assert table["trades"].sum() == len(closed)
    assert set(table["group"]) == {f"R{t.entry_index - 1}" for t in closed}
    assert edge_by_regime(res.trades, None).empty


def test_regime_at_entry_does_not_see_the_future() -> None:
    from dashboard.analytics.edge import regime_at_entry
    from tests.analytics.paths import random_walk

    walk = random_walk(400, seed=11)
    trades = backtest_patterns(walk.bars, timeframe="1Day", tfc_timeframes=()).trades
    rng = np.random.default_rng(4)
    names = np.array(["TREND_BULL", "TREND_NEUTRAL", "TREND_BEAR", "CRASH"])
    labels = pd.Series(rng.choice(names, size=len(walk.bars)), index=walk.bars.index)
    tags = regime_at_entry(trades, labels)
    for t, tag in list(zip(trades, tags, strict=True))[::7]:
        future = labels.copy()
        later = future.index >= t.entry_time
        future[later] = rng.choice(names, size=int(later.sum()))
        assert regime_at_entry([t], future) == [tag]


def test_trade_equity_respects_concurrency() -> None:
    from dashboard.analytics.edge import trade_equity
    from dashboard.analytics.performance import SizingRule
    from tests.analytics.paths import random_walk

    walk = random_walk(1500, seed=2)
    trades = backtest_patterns(walk.bars, timeframe="1Day", tfc_timeframes=()).trades
    capped = trade_equity(trades, SizingRule(0.01, 0.03), 100_000.0)
    assert capped.max_concurrent <= 3 and capped.skipped > 0
    loose = trade_equity(trades, SizingRule(0.01, 1.0), 100_000.0)
    assert loose.skipped == 0 and loose.max_concurrent > 3
    assert loose.taken == len([t for t in trades if t.entry_time is not None])
    # The order the runs arrive in does not matter.
    again = trade_equity(list(reversed(trades)), SizingRule(0.01, 0.03), 100_000.0)
    pd.testing.assert_series_equal(again.equity, capped.equity)
