"""ScanMemo: a bounded, thread-safe LRU, and the scanner's keys are content keys."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from dashboard.strat.memo import ScanMemo
from dashboard.strat.patterns import LevelConfig
from dashboard.strat.scanner import _Kept, scan


def test_the_least_recently_used_entry_goes_first() -> None:
    memo = ScanMemo(max_entries=2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recent
    memo.put("c", 3)
    assert len(memo) == 2
    assert "b" not in memo
    assert memo.get("a") == 1 and memo.get("c") == 3
    assert memo.get("b") is None
    assert (memo.hits, memo.misses) == (3, 1)


def test_the_bound_must_hold_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ScanMemo(max_entries=0)


def test_clear_empties_it() -> None:
    memo = ScanMemo()
    memo.put("a", 1)
    memo.get("a")
    memo.clear()
    assert len(memo) == 0 and memo.hits == memo.misses == 0


def test_threads_share_it_within_the_bound() -> None:
    memo = ScanMemo(max_entries=50)

    def work(k: int) -> None:
        for i in range(500):
            memo.put((k, i % 80), i)
            memo.get((k, (i * 7) % 80))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) == 50
    assert memo.hits + memo.misses == 4 * 500


def _frame(closes: list[float], start: str = "2024-03-04") -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(closes), freq="D", tz="America/New_York")
    return pd.DataFrame(
        {
            "open": closes,
            "high": [c + 1.0 for c in closes],
            "low": [c - 1.0 for c in closes],
            "close": closes,
        },
        index=idx.tz_convert("UTC"),
    )


CLOSES = [100.0, 102.0, 99.0, 101.0, 104.0, 103.0]


def _kept(memo: ScanMemo) -> list[tuple[object, ...]]:
    keys = list(memo._data)  # the scanner's keys, to check what they hold
    return [k for k in keys if isinstance(k, tuple) and k[0] == "patterns"]


def test_one_frame_keeps_one_entry_keyed_by_its_closed_bars() -> None:
    memo = ScanMemo()
    bars = {("AAA", "1Day"): _frame(CLOSES)}
    scan(bars, ["1Day"], last_bar_closed=False, memo=memo)
    (key,) = _kept(memo)
    # Symbol, timeframe, every parameter of the patterns, and the closed bars' ticks.
    assert key[1:7] == ("AAA", "1Day", 0.01, LevelConfig(), 3, len(CLOSES) - 1)
    assert isinstance(key[7], bytes) and len(key[7]) == 4 * 8 * (len(CLOSES) - 1)


def test_the_live_bar_is_not_in_the_key_but_closed_bars_are() -> None:
    memo = ScanMemo()
    scan({("AAA", "1Day"): _frame(CLOSES)}, ["1Day"], last_bar_closed=False, memo=memo)
    scan(
        {("AAA", "1Day"): _frame([*CLOSES[:-1], 107.0])}, ["1Day"], last_bar_closed=False, memo=memo
    )
    assert len(_kept(memo)) == 1  # only the live bar moved: the same entry
    revised = [*CLOSES[:2], 98.5, *CLOSES[3:]]
    scan({("AAA", "1Day"): _frame(revised)}, ["1Day"], last_bar_closed=False, memo=memo)
    assert len(_kept(memo)) == 2  # a revised closed bar is a new key
    scan({("AAA", "1Day"): _frame(CLOSES)}, ["1Day"], last_bar_closed=True, memo=memo)
    assert len(_kept(memo)) == 3  # all closed: the last bar is in the key


def test_the_same_bars_under_other_names_or_parameters_are_other_keys() -> None:
    memo = ScanMemo()
    df = _frame(CLOSES)
    scan({("AAA", "1Day"): df}, ["1Day"], last_bar_closed=False, memo=memo)
    scan({("BBB", "1Day"): df}, ["1Day"], last_bar_closed=False, memo=memo)
    scan({("AAA", "1Day"): df}, ["1Day"], last_bar_closed=False, expire_after=2, memo=memo)
    scan({("AAA", "1Day"): df}, ["1Day"], last_bar_closed=False, tick=0.05, memo=memo)
    cfg = LevelConfig(fallback_r=2.0)
    scan({("AAA", "1Day"): df}, ["1Day"], last_bar_closed=False, config=cfg, memo=memo)
    assert len(_kept(memo)) == 5


def test_setups_are_redone_when_the_lower_frames_change() -> None:
    """The magnifier's lower bars are in the setups' key: a changed hour bar inside a
    closed day makes the kept setups of that day's frame invalid (kept patterns stay)."""
    memo = ScanMemo()
    day = _frame(CLOSES)
    hours = pd.DataFrame(
        {
            "open": [101.0, 102.0],
            "high": [102.5, 103.0],
            "low": [100.5, 101.0],
            "close": [102.0, 102.5],
        },
        index=pd.date_range("2024-03-05 14:30", periods=2, freq="h", tz="UTC"),
    )
    bars = {("AAA", "1Day"): day, ("AAA", "1Hour"): hours}
    scan(bars, ["1Day"], last_bar_closed=False, memo=memo)
    (key,) = _kept(memo)
    first = memo._data[key]
    moved = hours.copy()
    moved.iloc[0, moved.columns.get_loc("high")] = 102.75
    scan({**bars, ("AAA", "1Hour"): moved}, ["1Day"], last_bar_closed=False, memo=memo)
    second = memo._data[key]
    assert isinstance(first, _Kept) and isinstance(second, _Kept)
    assert second.patterns is first.patterns
    assert second.setups_key != first.setups_key
