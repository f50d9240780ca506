"""Timeframe continuity: live scoring, bar-state variant, as-of history without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.strat.continuity import (
    average_true_range,
    continuity_history,
    period_keys,
    timeframe_continuity,
)

NY = "America/New_York"


def test_candle_continuity_scores_and_distances() -> None:
    r = timeframe_continuity(
        101.0,
        {"M": 100.0, "W": 102.0, "D": 101.0, "H": 100.5},
        atr={"M": 4.0, "W": 2.0},
    )
    assert [s.direction for s in r.states] == [1, -1, 0, 1]
    assert (r.score, r.n, r.direction, r.ftfc, r.aligned) == (1, 4, 1, False, 2)
    assert r.label == "2/4 up"
    assert [s.distance for s in r.states] == [1.0, -1.0, 0.0, 0.5]
    assert [s.distance_atr for s in r.states] == [0.25, -0.5, None, None]
    assert [s.timeframe for s in r.states] == ["M", "W", "D", "H"]


def test_ftfc_up_and_down() -> None:
    up = timeframe_continuity(105.0, {"M": 100.0, "W": 104.99, "D": 101.0})
    assert (up.score, up.ftfc, up.label) == (3, True, "FTFC up")
    down = timeframe_continuity(95.0, {"M": 100.0, "W": 95.01, "D": 101.0})
    assert (down.score, down.direction, down.ftfc, down.label) == (-3, -1, True, "FTFC down")
    # A doji on one timeframe breaks full continuity.
    mixed = timeframe_continuity(100.0, {"M": 99.0, "W": 100.0})
    assert (mixed.score, mixed.ftfc, mixed.label) == (1, False, "1/2 up")
    empty = timeframe_continuity(100.0, {})
    assert (empty.score, empty.n, empty.ftfc, empty.label) == (0, 0, False, "0/0")


def test_doji_at_tick_precision() -> None:
    r = timeframe_continuity(0.1 + 0.2, {"D": 0.3})
    assert r.states[0].direction == 0


def test_bar_state_mode() -> None:
    opens = {"M": 100.0, "W": 100.0, "D": 102.0, "H": 99.0}
    types = {"M": "2U", "W": "2D", "D": 3, "H": "1"}
    r = timeframe_continuity(101.0, opens, mode="bar_state", bar_types=types)
    # 2U +1, 2D -1 (even though green), 3 by colour (red: 101 < 102), 1 never counts.
    assert [s.direction for s in r.states] == [1, -1, -1, 0]
    assert [s.bar_type for s in r.states] == ["2U", "2D", "3", "1"]
    assert r.score == -1
    with pytest.raises(ValueError):
        timeframe_continuity(101.0, opens, mode="bar_state")


def test_average_true_range() -> None:
    h, lo, c = [10.0, 12.0, 11.0], [9.0, 10.5, 8.0], [9.5, 11.0, 9.0]
    # TR: 1.0; max(1.5, |12-9.5|=2.5, |10.5-9.5|) = 2.5; max(3, 0, 3) = 3.
    assert average_true_range(h, lo, c, period=14) == pytest.approx((1 + 2.5 + 3) / 3)
    assert average_true_range(h, lo, c, period=2) == pytest.approx(2.75)


def test_period_keys_use_new_york_time() -> None:
    # 03:00 UTC on 1 March is still 29 February in New York.
    idx = pd.DatetimeIndex(["2024-02-29 15:00", "2024-03-01 03:00", "2024-03-01 15:00"], tz="UTC")
    m = period_keys(idx, "M")
    assert m[0] == m[1] != m[2]
    # Weeks start on Monday: Sun 2024-03-03 and Mon 2024-03-04 (NY) differ.
    w = period_keys(pd.DatetimeIndex(["2024-03-03 12:00", "2024-03-04 12:00"], tz=NY), "1Week")
    assert w[0] != w[1]
    h = period_keys(
        pd.DatetimeIndex(["2024-03-04 09:30", "2024-03-04 09:59", "2024-03-04 10:00"], tz=NY),
        "1Hour",
    )
    assert h[0] == h[1] != h[2]
    with pytest.raises(ValueError):
        period_keys(idx, "7Fortnights")


def _daily(n: int, seed: int = 1, start: str = "2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n, tz=NY)
    close = 100 + np.cumsum(rng.integers(-150, 151, n)) / 100
    open_ = close + rng.integers(-100, 101, n) / 100
    high = np.maximum(open_, close) + rng.integers(0, 80, n) / 100
    low = np.minimum(open_, close) - rng.integers(0, 80, n) / 100
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=idx)


def _reference_row(df: pd.DataFrame, i: int, tf: str, mode: str) -> tuple[float, int, int]:
    """Rebuild the higher-TF candle at bar i from scratch, using rows 0..i only."""
    upto = df.iloc[: i + 1]
    freq = {"W": "W", "M": "M"}[tf]
    per = upto.index.tz_localize(None).to_period(freq)
    cur = upto[per == per[-1]]
    open_ = float(cur["open"].iloc[0])
    price = float(upto["close"].iloc[-1])
    colour = int(np.sign(round(price * 100) - round(open_ * 100)))
    prior = upto[per < per[-1]]
    if prior.empty:
        code = 0
    else:
        pper = prior.index.tz_localize(None).to_period(freq)
        prev = prior[pper == pper[-1]]
        up = round(cur["high"].max() * 100) > round(prev["high"].max() * 100)
        dn = round(cur["low"].min() * 100) < round(prev["low"].min() * 100)
        code = 3 if up and dn else 2 if up else -2 if dn else 1
    if mode == "candle":
        return open_, colour, code
    d = {2: 1, -2: -1, 3: colour}.get(code, 0)
    return open_, d, code


@pytest.mark.parametrize("mode", ["candle", "bar_state"])
def test_history_matches_bar_by_bar_rebuild(mode: str) -> None:
    df = _daily(90)
    hist = continuity_history(df, ("W", "M"), mode=mode)
    for i in range(len(df)):
        dirs = []
        for tf in ("W", "M"):
            open_, d, code = _reference_row(df, i, tf, mode)
            assert hist[f"open_{tf}"].iloc[i] == pytest.approx(open_)
            assert hist[f"dir_{tf}"].iloc[i] == d
            if mode == "bar_state":
                assert hist[f"bar_{tf}"].iloc[i] == code
            dirs.append(d)
        assert hist["score"].iloc[i] == sum(dirs)
        assert hist["ftfc"].iloc[i] == (abs(sum(dirs)) == 2)
        assert hist["direction"].iloc[i] == np.sign(sum(dirs))
    assert (hist["n"] == 2).all()


def test_history_counts_the_lower_bar_itself_when_named() -> None:
    df = _daily(30)
    hist = continuity_history(df, ("W",), lower_tf="D")
    own = np.sign(np.rint(df["close"] * 100) - np.rint(df["open"] * 100)).to_numpy()
    assert hist["dir_D"].tolist() == own.astype(int).tolist()
    assert (hist["score"] == hist["dir_D"].astype(int) + hist["dir_W"].astype(int)).all()
    assert (hist["n"] == 2).all()


def test_history_intraday_rebuilds_the_day_and_week() -> None:
    idx = pd.DatetimeIndex(
        ["2024-03-01 09:30", "2024-03-01 10:30", "2024-03-04 09:30", "2024-03-04 10:30"], tz=NY
    ).tz_convert("UTC")  # stored in UTC like Alpaca; periods are still New York days
    df = pd.DataFrame(
        {
            "open": [100.0, 101.0, 99.0, 98.0],
            "high": [101.5, 102.0, 99.5, 99.0],
            "low": [99.5, 100.5, 97.0, 97.5],
            "close": [101.0, 99.8, 98.0, 99.2],
        },
        index=idx,
    )
    hist = continuity_history(df, ("D", "W"))
    assert hist["open_D"].tolist() == [100.0, 100.0, 99.0, 99.0]
    assert hist["open_W"].tolist() == [100.0, 100.0, 99.0, 99.0]  # Friday, then Monday
    assert hist["dir_D"].tolist() == [1, -1, -1, 1]


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 80), st.integers(0, 10_000), st.sampled_from(["candle", "bar_state"]))
def test_property_history_has_no_look_ahead(k: int, seed: int, mode: str) -> None:
    df = _daily(80, seed=seed)
    full = continuity_history(df, ("W", "M"), mode=mode, lower_tf="D")
    part = continuity_history(df.iloc[:k], ("W", "M"), mode=mode, lower_tf="D")
    pd.testing.assert_frame_equal(part, full.iloc[:k])


def test_history_rejects_unsorted_index() -> None:
    df = _daily(5).iloc[::-1]
    with pytest.raises(ValueError):
        continuity_history(df)
