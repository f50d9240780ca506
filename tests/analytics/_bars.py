"""Hand-made daily bars shared by the backtest and edge tests."""

from __future__ import annotations

import pandas as pd


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

PREFIX = [(10.0, 11.0, 9.0, 10.0), (10.0, 11.0, 9.0, 10.0), (10.0, 11.0, 9.0, 10.0)]
TFC_DAYS = pd.DatetimeIndex(
    [
        "2023-12-27",
        "2023-12-28",
        "2023-12-29",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
    ]
).tz_localize("America/New_York")


def tfc_bars(rows: list[tuple[float, float, float, float]] | None = None) -> pd.DataFrame:
    rows = rows if rows is not None else PREFIX + GOLDEN
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=TFC_DAYS[: len(rows)])
    df["volume"] = 1000.0
    return df
