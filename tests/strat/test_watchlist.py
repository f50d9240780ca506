from datetime import UTC, datetime

import numpy as np
import pandas as pd

from dashboard.models import DataResult, DataState
from dashboard.strat.watchlist import board_from_bars


def _frame(highs: list[float], lows: list[float], start: str) -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(highs), freq="D", tz="UTC")
    h, lo = np.array(highs), np.array(lows)
    mid = (h + lo) / 2
    return pd.DataFrame({"open": mid, "high": h, "low": lo, "close": mid, "volume": 1e6}, index=idx)


def _ok(df: pd.DataFrame) -> DataResult[pd.DataFrame]:
    return DataResult(df, "test", None, DataState.FRESH)


def test_closed_inside_bar_gives_pending_212_with_hand_levels() -> None:
    # 2D, 2U (setup's prior bar), 1 (setup bar, closed): a 2-1-2 long waits above 104.
    df = _frame([100, 106, 104], [95, 96, 99], "2026-11-18 05:00")
    now = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)  # after the last bar's 16:00 ET close
    rows, errors, scanned = board_from_bars({("SPY", "1Day"): _ok(df)}, now, ["1Day"])
    assert errors == [] and scanned == 1
    longs = [r for r in rows if r.direction == "long" and r.pattern.startswith("2-1-2")]
    assert longs, [r.label for r in rows]
    row = longs[0]
    assert row.category == "pending"
    assert row.entry == 104.01  # setup-bar high + one tick
    assert row.stop == 99.0  # setup-bar low
    assert row.target1 == 106.0  # the prior bar's high


def test_forming_bar_is_not_a_setup_bar() -> None:
    df = _frame([100, 106, 104], [95, 96, 99], "2026-11-18 05:00")
    during = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 13:00 ET: the inside bar is forming
    rows, _, _ = board_from_bars({("SPY", "1Day"): _ok(df)}, during, ["1Day"])
    assert not [r for r in rows if r.pattern.startswith("2-1-2")]


def test_failed_frames_are_reported_not_scanned() -> None:
    bad = DataResult(None, "test", None, DataState.ERROR, error="HTTP 500")
    rows, errors, scanned = board_from_bars({("QQQ", "1Day"): bad}, datetime.now(UTC), ["1Day"])
    assert rows == [] and scanned == 0
    assert errors == ["QQQ 1Day: HTTP 500"]
