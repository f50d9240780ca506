"""A scan with a warm memo (``strat.memo.ScanMemo``) gives exactly what a cold scan of
the same bars gives, field by field, across the random-walk bar sets of
``test_scan_equivalence`` and a run of refreshes over each: every frame's live bar
moves (new high, low, close), some bars close and a new one opens, some closed bars are
revised and some live bars restamped (which must miss the memo), and the broker's clock
moves on (which closes live bars without a new one). The board, and ``scan`` itself
with and without resolved setups, are compared after every refresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard.models import DataResult, DataState
from dashboard.strat.memo import ScanMemo
from dashboard.strat.scanner import scan
from dashboard.strat.timeframes import SCAN_TIMEFRAMES, is_bar_closed
from dashboard.strat.watchlist import board_from_bars
from tests.strat._random_bars import random_case
from tests.strat.test_scan_equivalence import CASES, canonical

REFRESHES = 5
TICK = 0.01

Bars = dict[tuple[str, str], pd.DataFrame]


def _results(bars: Bars) -> dict[tuple[str, str], DataResult[pd.DataFrame]]:
    return {k: DataResult(df, "test", None, DataState.FRESH) for k, df in bars.items()}


def _everything(bars: Bars, now: datetime, memo: ScanMemo | None) -> dict[str, Any]:
    """The board and every symbol's scan rows (resolved setups in and out), canonical."""
    rows, errors, scanned = board_from_bars(_results(bars), now, SCAN_TIMEFRAMES, memo=memo)
    frames = {k: df for k, df in bars.items() if len(df)}
    flags = {k: is_bar_closed(k[1], df.index[-1].to_pydatetime(), now) for k, df in frames.items()}
    scans = [
        scan(
            frames,
            timeframes=list(SCAN_TIMEFRAMES),
            last_bar_closed=flags,
            include_resolved=resolved,
            memo=memo,
        )
        for resolved in (True, False)
    ]
    return {
        "board": canonical(rows),
        "errors": errors,
        "scanned": scanned,
        "scan": canonical(scans),
    }


def _ticks(x: float) -> float:
    return round(round(x / TICK) * TICK, 2)


def _move_live(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The last bar trades on: its high may rise, its low fall, its close moves."""
    out = df.copy()
    o, h, lo, c = (float(out[col].iloc[-1]) for col in ("open", "high", "low", "close"))
    c = _ticks(c + TICK * int(rng.integers(-6, 7)))
    h = _ticks(max(h + TICK * int(rng.integers(0, 4)) * (rng.random() < 0.5), c, o))
    lo = _ticks(min(lo - TICK * int(rng.integers(0, 4)) * (rng.random() < 0.5), c, o))
    out.iloc[-1, [out.columns.get_loc(k) for k in ("high", "low", "close")]] = [h, lo, c]
    return out


def _open_new_bar(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The last bar closes and a new one opens one bar length later."""
    step = df.index[-1] - df.index[-2] if len(df) > 1 else pd.Timedelta(minutes=15)
    c = float(df["close"].iloc[-1])
    o = _ticks(c + TICK * int(rng.integers(-3, 4)))
    h = _ticks(max(o, c) + TICK * int(rng.integers(0, 5)))
    lo = _ticks(min(o, c) - TICK * int(rng.integers(0, 5)))
    new = pd.DataFrame(
        {"open": [o], "high": [h], "low": [lo], "close": [o], "volume": [100.0]},
        index=pd.DatetimeIndex([df.index[-1] + step]).as_unit(df.index.unit),
    )
    return pd.concat([df, new[df.columns]])


def _revise_closed(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A closed bar's high is revised up a tick (a late print)."""
    out = df.copy()
    i = int(rng.integers(0, len(df) - 1))
    col = out.columns.get_loc("high")
    out.iloc[i, col] = _ticks(float(out.iloc[i, col]) + TICK)
    return out


def _restamp(df: pd.DataFrame) -> pd.DataFrame:
    """The live bar's start is restamped a minute later (it caps the previous bar's end)."""
    out = df.copy()
    out.index = out.index[:-1].append(pd.DatetimeIndex([out.index[-1] + pd.Timedelta(minutes=1)]))
    return out


def _refresh(
    bars: Bars, now: datetime, rng: np.random.Generator
) -> tuple[Bars, datetime, dict[str, int]]:
    moved: Bars = {}
    seen = {"moved": 0, "new_bar": 0, "revised": 0, "restamped": 0}
    for key, df in bars.items():
        if len(df) == 0:
            moved[key] = df
            continue
        r = rng.random()
        if r < 0.12:
            df = _open_new_bar(df, rng)
            seen["new_bar"] += 1
        elif r < 0.2 and len(df) > 2:
            df = _revise_closed(df, rng)
            seen["revised"] += 1
        elif r < 0.23 and len(df) > 1:
            df = _restamp(df)
            seen["restamped"] += 1
        moved[key] = _move_live(df, rng)
        seen["moved"] += 1
    if rng.random() < 0.2:
        now += timedelta(minutes=int(rng.integers(1, 30)))
    return moved, now, seen


@pytest.mark.parametrize("seed", range(CASES))
def test_a_warm_memo_scans_as_a_cold_scan(seed: int) -> None:
    case = random_case(seed)
    rng = np.random.default_rng(10_000 + seed)
    bars, now = dict(case.bars), case.now
    memo = ScanMemo()
    assert _everything(bars, now, memo) == _everything(bars, now, None)
    for _ in range(REFRESHES):
        bars, now, _seen = _refresh(bars, now, rng)
        assert _everything(bars, now, memo) == _everything(bars, now, None)
    if any(len(df) > 3 for df in bars.values()):
        assert memo.hits > 0


def test_the_refreshes_exercise_the_memo() -> None:
    """Across the cases, refreshes carry kept setups onto live bars that trigger,
    settle and merely extend them, reuse settled ones, and miss on revised bars."""
    seen = {"moved": 0, "new_bar": 0, "revised": 0, "restamped": 0}
    hits = misses = 0
    for seed in range(0, CASES, 10):
        case = random_case(seed)
        rng = np.random.default_rng(10_000 + seed)
        bars, now = dict(case.bars), case.now
        memo = ScanMemo()
        _everything(bars, now, memo)
        for _ in range(REFRESHES):
            bars, now, step = _refresh(bars, now, rng)
            for k, v in step.items():
                seen[k] += v
            _everything(bars, now, memo)
        hits, misses = hits + memo.hits, misses + memo.misses
    assert min(seen.values()) > 0, seen
    assert hits > misses > 0


def _closes_moved(bars: Bars, rng: np.random.Generator) -> Bars:
    """Only the live bars' closes move, inside their range: what most refreshes see."""
    out: Bars = {}
    for key, df in bars.items():
        if len(df) == 0:
            out[key] = df
            continue
        moved = df.copy()
        lo, h = float(df["low"].iloc[-1]), float(df["high"].iloc[-1])
        moved.iloc[-1, moved.columns.get_loc("close")] = _ticks(float(rng.uniform(lo, h)))
        out[key] = moved
    return out


@pytest.mark.parametrize("seed", range(0, CASES, 5))
def test_a_refresh_that_moves_only_closes_keeps_setups_and_ideas(seed: int) -> None:
    """A refresh whose live bars keep their open, high and low is handed the previous
    refresh's setups (the same tuple: ``scanner._Live``), so the board reuses its ideas
    (``board._plan``); the board and the scan stay a cold scan's, with any minimum
    magnitude (part of the plan's key)."""
    case = random_case(seed)
    rng = np.random.default_rng(20_000 + seed)
    bars, now = dict(case.bars), case.now
    memo = ScanMemo()
    frames = {k: df for k, df in bars.items() if len(df)}
    flags = {k: is_bar_closed(k[1], df.index[-1].to_pydatetime(), now) for k, df in frames.items()}
    first = scan(
        frames, list(SCAN_TIMEFRAMES), last_bar_closed=flags, include_resolved=True, memo=memo
    )
    for magnitude in (0.5, 2.0, 0.5):
        bars = _closes_moved(bars, rng)
        assert _everything(bars, now, memo) == _everything(bars, now, None)
        results = _results(bars)
        warm = board_from_bars(
            results, now, SCAN_TIMEFRAMES, min_magnitude_pct=magnitude, memo=memo
        )
        cold = board_from_bars(results, now, SCAN_TIMEFRAMES, min_magnitude_pct=magnitude)
        assert canonical(warm) == canonical(cold)
    frames = {k: df for k, df in bars.items() if len(df)}
    again = scan(
        frames, list(SCAN_TIMEFRAMES), last_bar_closed=flags, include_resolved=True, memo=memo
    )
    kept = [a.setups is b.setups for a, b in zip(first, again, strict=True) if a.setups]
    assert any(kept) or not kept
