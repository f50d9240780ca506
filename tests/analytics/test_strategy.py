"""STRAT backtest on hand-built bar sequences: exact entries, exits and R."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from dashboard.analytics.strategy import (
    backtest_patterns,
    edge_table,
    r_equity_curve,
    trades_frame,
)


def make_bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=len(rows), freq="D", tz="UTC")
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx)
    df["volume"] = 1000.0
    return df


# (open, high, low, close), oldest first. Bar types vs the previous bar:
# 0 ref · 1 2D · 2 inside · 3 2U · 4 2U · 5 2D
GOLDEN = [
    (10.00, 10.50, 9.50, 10.00),
    (10.30, 10.40, 9.00, 9.20),
    (9.50, 10.00, 9.30, 9.80),
    (9.90, 10.20, 9.85, 10.15),
    (10.20, 10.45, 10.10, 10.40),
    (10.30, 10.35, 9.80, 9.90),
]


def by_label(trades):
    return {t.label: t for t in trades}


def test_golden_sequence_trades() -> None:
    res = backtest_patterns(make_bars(GOLDEN), symbol="XYZ", timeframe="1D")
    # Patterns: 2D-2U @1, 2D-1-2U and 2D-1-2D @2, 1-2U-2D @3, 2U-2D @4, 2D-2U @5.
    assert (res.patterns_found, res.triggered, res.expired, res.pending) == (6, 4, 1, 1)
    t = by_label(res.trades)
    assert set(t) == {"2D-2U", "2D-1-2U", "1-2U-2D", "2U-2D"}

    # 2-1-2 reversal long: entry inside high + 1c = 10.01, stop inside low 9.30,
    # T1 = 2D bar high 10.40; triggers on bar 3, T1 on bar 4.
    a = t["2D-1-2U"]
    assert (a.setup_index, a.entry_index, a.exit_index, a.bars_held) == (2, 3, 4, 1)
    assert (a.entry_price, a.stop_price, a.target_price, a.exit_price) == (
        10.01,
        9.30,
        10.40,
        10.40,
    )
    assert a.outcome == "target"
    assert a.r_multiple == pytest.approx(0.39 / 0.71)
    assert a.entry_time == pd.Timestamp("2024-01-04", tz="UTC")

    # 1-2-2 RevStrat short from bar 3 (2U after the inside bar): entry 9.84, stop 10.20.
    # Bar 5 trades 9.80-10.35: triggers and touches the stop → stopped, -1R.
    b = t["1-2U-2D"]
    assert (b.entry_index, b.exit_index, b.entry_price, b.exit_price) == (5, 5, 9.84, 10.20)
    assert b.outcome == "stop" and b.r_multiple == pytest.approx(-1.0)
    assert any("same bar" in n for n in b.notes)

    # 2-2 reversal short from bar 4: entry 10.09, stop 10.45, T1 bar-3 low 9.85; bar 5
    # reaches 9.80 without the stop → target on the trigger bar, R = 0.24 / 0.36.
    c = t["2U-2D"]
    assert (c.entry_index, c.exit_index, c.exit_price, c.bars_held) == (5, 5, 9.85, 0)
    assert c.r_multiple == pytest.approx(2 / 3)

    # 2-2 reversal long from bar 1: entry 10.41 (trigger on bar 4), T1 10.50, stop 9.00:
    # neither is reached by the end, so it is open with no R.
    d = t["2D-2U"]
    assert (d.entry_index, d.entry_price, d.outcome, d.r_multiple) == (4, 10.41, "open", None)

    # Closed trades in exit order (ties keep setup order): +0.549R, -1R, +0.667R.
    curve = r_equity_curve(res.trades)
    a_r = 0.39 / 0.71
    assert curve.tolist() == pytest.approx([a_r, a_r - 1, a_r - 1 + 2 / 3])


def test_no_look_ahead_prefix() -> None:
    """Trades decided by bar k are identical when later bars are added."""
    full = backtest_patterns(make_bars(GOLDEN))
    for k in range(3, len(GOLDEN) + 1):
        part = backtest_patterns(make_bars(GOLDEN[:k]))
        full_by = {(t.label, t.setup_index): t for t in full.trades}
        for t in part.trades:
            ft = full_by[(t.label, t.setup_index)]
            assert (t.entry_index, t.entry_price) == (ft.entry_index, ft.entry_price)
            if t.outcome != "open":
                assert t == ft


def test_gap_fills_entry_and_stop() -> None:
    rows = [
        (10.0, 10.5, 9.5, 10.0),
        (10.3, 10.4, 9.0, 9.2),  # 2D
        (9.5, 10.0, 9.3, 9.8),  # inside: long entry 10.01, stop 9.30, T1 10.40
        (10.10, 10.20, 10.05, 10.15),  # gaps above 10.01: fill at the open 10.10
        (9.00, 9.10, 8.80, 8.90),  # gaps below the 9.30 stop: exit at the open 9.00
    ]
    t = by_label(backtest_patterns(make_bars(rows)).trades)["2D-1-2U"]
    assert (t.entry_price, t.exit_price, t.outcome) == (10.10, 9.00, "stop")
    assert t.r_multiple == pytest.approx((9.00 - 10.10) / (10.10 - 9.30))
    assert len(t.notes) == 2
    plain = by_label(backtest_patterns(make_bars(rows), gap_fills=False).trades)["2D-1-2U"]
    assert (plain.entry_price, plain.exit_price) == (10.01, 9.30)
    assert plain.r_multiple == pytest.approx(-1.0)


def test_time_exit() -> None:
    rows = [
        (10.0, 10.5, 9.5, 10.0),
        (10.3, 10.4, 9.0, 9.2),
        (9.5, 10.0, 9.3, 9.8),  # long entry 10.01, stop 9.30, T1 10.40
        (9.9, 10.2, 9.85, 10.15),  # trigger
        (10.1, 10.19, 10.0, 10.1),  # inside, nothing hit
        (10.1, 10.18, 10.02, 10.12),  # inside, nothing hit → time exit at this close
        (10.1, 10.5, 10.0, 10.45),  # would hit T1, but too late
    ]
    res = backtest_patterns(make_bars(rows), max_hold_bars=2, patterns=["2-1-2"])
    t = by_label(res.trades)["2D-1-2U"]
    assert (t.outcome, t.exit_index, t.exit_price, t.bars_held) == ("time", 5, 10.12, 2)
    assert t.r_multiple == pytest.approx(0.11 / 0.71)
    assert all(x.pattern == "2-1-2" for x in res.trades)


def test_edge_table_and_frame() -> None:
    res = backtest_patterns(make_bars(GOLDEN), symbol="XYZ", timeframe="1D")
    df = trades_frame(res.trades)
    assert len(df) == 4 and "r_multiple" in df.columns
    e = edge_table(res.trades, by="pattern")
    assert e["trades"].sum() == 3  # the open trade has no R
    row = e[e.pattern == "2-1-2"].iloc[0]
    assert row["win_rate"] == 1.0 and row["expectancy_r"] == pytest.approx(0.39 / 0.71)
    assert 0 < row["win_rate_low"] < 1 and row["win_rate_high"] == 1.0
    e2 = edge_table(df, by=("pattern", "timeframe"))
    assert set(e2.columns) >= {"pattern", "timeframe", "profit_factor", "expectancy_r"}


def test_short_bar_series_is_empty() -> None:
    res = backtest_patterns(make_bars(GOLDEN[:2]))
    assert res.trades == () and res.patterns_found == 0


def test_trade_is_frozen() -> None:
    t = backtest_patterns(make_bars(GOLDEN)).trades[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.entry_price = 1.0  # type: ignore[misc]
