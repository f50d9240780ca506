"""The signal board: categories, levels and ids that survive a refresh."""

import pandas as pd

from dashboard.strat.board import build_signal_board
from dashboard.strat.scanner import scan


def _frame(
    bars: list[tuple[float, float, float, float]], start: str = "2026-01-05"
) -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(bars), freq="B", tz="America/New_York").tz_convert("UTC")
    df = pd.DataFrame(bars, columns=["open", "high", "low", "close"], index=idx)
    df["volume"] = 1000.0
    return df


# C2 (2D) high 110, then a 2D bar, then an inside bar 102–98: a 2-1-2 long setup on the inside bar.
BARS = [
    (105, 110, 100, 101),  # bar 0
    (101, 104, 95, 96),  # 2D
    (99, 102, 98, 100),  # 1 (setup bar)
]


def test_pending_212_long_row_has_hand_worked_levels() -> None:
    rows = scan({("SPY", "1Day"): _frame(BARS)}, timeframes=("1Day",), last_bar_closed=True)
    board = build_signal_board(rows)
    longs = [r for r in board if r.label == "2D-1-2U"]
    assert len(longs) == 1
    r = longs[0]
    assert r.category == "pending"
    assert r.entry == 102.01  # inside-bar high + 1 tick
    assert r.stop == 98.0  # inside-bar low
    assert r.target1 == 104.0  # C2 (the 2D bar) high
    assert abs(r.reward_risk - (104 - 102.01) / (102.01 - 98)) < 1e-9
    assert abs(r.magnitude_pct - (104 - 102.01) / 102.01 * 100) < 1e-9
    assert r.setup_time is not None


def test_triggered_and_low_magnitude_categories_and_stable_id() -> None:
    pending = build_signal_board(scan({("SPY", "1Day"): _frame(BARS)}, timeframes=("1Day",)))
    # A live bar trades through 102.01: the same setup is now triggered, with the same id.
    live = [*BARS, (100, 102.5, 99.5, 102.2)]
    triggered = build_signal_board(
        scan({("SPY", "1Day"): _frame(live)}, timeframes=("1Day",), last_bar_closed=False)
    )
    before = next(r for r in pending if r.label == "2D-1-2U")
    after = next(r for r in triggered if r.label == "2D-1-2U")
    assert after.category == "triggered"
    assert after.triggered_at is not None
    assert after.id == before.id
    # With a 5% minimum move, a 1.95% move to T1 is a low-magnitude reject.
    rejects = build_signal_board(
        scan({("SPY", "1Day"): _frame(BARS)}, timeframes=("1Day",)), min_magnitude_pct=5.0
    )
    assert next(r for r in rejects if r.label == "2D-1-2U").category == "low_magnitude"
