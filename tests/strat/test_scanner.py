"""Scanner: rows per symbol × timeframe with bar type, live setups and TFC."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.strat.scanner import scan
from dashboard.strat.signals import SetupStatus

NY = "America/New_York"


def _frame(rows: list[tuple[float, float, float, float]], start: str, freq: str) -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(rows), freq=freq, tz=NY).tz_convert("UTC")
    o, h, lo, c = zip(*rows, strict=True)
    return pd.DataFrame(
        {"open": o, "high": h, "low": lo, "close": c, "volume": [1000] * len(rows)}, index=idx
    )


# Daily: 2D then an inside bar (2-1-2 setup), then today's live bar breaking up.
DAILY = [
    (102.0, 105.0, 100.0, 103.0),
    (103.0, 104.0, 98.0, 99.0),
    (100.0, 103.0, 99.0, 101.0),
    (101.5, 103.5, 100.5, 103.2),  # live: trades 103.5 ≥ entry 103.01
]
# Hourly inside the live day: last close 103.2 is the freshest price.
HOURLY = [
    (101.5, 102.0, 100.5, 101.8),
    (101.8, 103.5, 101.6, 103.2),
]


def _bars() -> dict[tuple[str, str], pd.DataFrame]:
    return {
        ("AAA", "1Day"): _frame(DAILY, "2024-03-04", "D"),
        ("AAA", "1Hour"): _frame(HOURLY, "2024-03-07 09:30", "h"),
        ("BBB", "1Day"): _frame(DAILY[:3], "2024-03-04", "D"),
    }


def test_rows_order_and_bar_types() -> None:
    rows = scan(_bars(), timeframes=("1Day", "1Hour"), last_bar_closed=False)
    assert [(r.symbol, r.timeframe) for r in rows] == [
        ("AAA", "1Day"),
        ("AAA", "1Hour"),
        ("BBB", "1Day"),
    ]
    aaa_d, aaa_h, bbb_d = rows
    assert (aaa_d.bar_type, aaa_d.bar_code) == ("2U", 2)  # the live bar vs the inside bar
    assert (aaa_h.bar_type, bbb_d.bar_type) == ("2U", "1")
    assert aaa_d.price == 103.2
    assert aaa_d.as_of == pd.Timestamp("2024-03-07", tz=NY).to_pydatetime()


def test_live_bar_triggers_setups_of_the_last_closed_bar() -> None:
    rows = scan(_bars(), timeframes=("1Day",), last_bar_closed=False)
    aaa = rows[0]
    assert {p.label for p in aaa.patterns} == {"2D-1-2U", "2D-1-2D"}
    assert all(
        p.setup_index == 2 and p.symbol == "AAA" and p.timeframe == "1Day" for p in aaa.patterns
    )
    by_label = {s.pattern.label: s for s in aaa.setups}
    long = by_label["2D-1-2U"]
    assert (long.status, long.triggered_index, long.in_force_close_index) == (
        SetupStatus.TRIGGERED,
        3,
        None,  # the live bar's close is not a close
    )
    assert long.triggered_at == pd.Timestamp("2024-03-07", tz=NY).to_pydatetime()
    assert by_label["2D-1-2D"].status is SetupStatus.PENDING
    # The 2-2 from bar 1 (2D-2U, entry 104.01) is still pending within the expiry window.
    assert by_label["2D-2U"].pattern.setup_index == 1


def test_closed_last_bar_is_a_setup_bar() -> None:
    rows = scan(_bars(), timeframes=("1Day",), last_bar_closed={"1Day": True})
    aaa = rows[0]
    assert {p.label for p in aaa.patterns} == {"1-2U-2D"}  # bar 3 is a closed 2U after a 1
    assert aaa.last_bar_closed is True
    long = next(s for s in aaa.setups if s.pattern.label == "2D-1-2U")
    assert long.in_force_close_index == 3


def test_resolved_setups_are_hidden_unless_asked() -> None:
    bars = _bars()
    # Make the live bar hit T1 (104): the 2D-1-2U setup is finished.
    df = bars[("AAA", "1Day")].copy()
    df.iloc[3, df.columns.get_loc("high")] = 104.2
    bars[("AAA", "1Day")] = df
    active = scan(bars, timeframes=("1Day",), last_bar_closed=False)[0]
    assert "2D-1-2U" not in {s.pattern.label for s in active.setups}
    every = scan(bars, timeframes=("1Day",), last_bar_closed=False, include_resolved=True)[0]
    done = next(s for s in every.setups if s.pattern.label == "2D-1-2U")
    assert done.status is SetupStatus.TARGET_HIT


def test_symbol_continuity_uses_freshest_price() -> None:
    rows = scan(_bars(), timeframes=("1Day", "1Hour"), last_bar_closed=False)
    tfc = rows[0].continuity
    assert tfc is not None
    # Price 103.2 (last hourly close) vs day open 101.5 and hour open 101.8: both up.
    assert [(s.timeframe, s.open, s.direction) for s in tfc.states] == [
        ("1Day", 101.5, 1),
        ("1Hour", 101.8, 1),
    ]
    assert tfc.ftfc and tfc.score == 2
    assert tfc.states[0].distance == pytest.approx(1.7)
    assert tfc.states[0].bar_type == "2U"
    assert rows[1].continuity is tfc  # one TFC per symbol
    bbb = rows[2].continuity
    assert bbb is not None and bbb.n == 1 and bbb.states[0].direction == 1  # 101 vs 100


def test_empty_and_tiny_frames() -> None:
    bars = {("ZZZ", "1Day"): _frame(DAILY[:1], "2024-03-04", "D")}
    (row,) = scan(bars, timeframes=("1Day",))
    assert (row.bar_type, row.patterns, row.setups) == ("", (), ())
    assert scan({}, timeframes=("1Day",)) == []


def test_bad_frame_gives_an_error_row_and_the_scan_goes_on() -> None:
    bars = _bars()
    df = bars[("AAA", "1Hour")].copy()
    df.iloc[1, df.columns.get_loc("low")] = float("nan")
    bars[("AAA", "1Hour")] = df
    bars[("BBB", "1Hour")] = df.drop(columns=["open"])
    rows = {(r.symbol, r.timeframe): r for r in scan(bars, timeframes=("1Day", "1Hour"))}
    assert rows[("AAA", "1Hour")].error == "ValueError: NaN price at index 1"
    assert rows[("BBB", "1Hour")].error is not None and "open" in rows[("BBB", "1Hour")].error
    assert rows[("AAA", "1Day")].error is None and rows[("AAA", "1Day")].bar_type == "2U"
    # TFC falls back to the frames that are usable.
    aaa_tfc = rows[("AAA", "1Day")].continuity
    assert aaa_tfc is not None and [s.timeframe for s in aaa_tfc.states] == ["1Day"]


# The live day trades under the 2-1-2 long's 99.00 stop *and* through its 103.01 entry.
# It opened at 99.50, nearer its 98.50 low than its 103.50 high.
LIVE_BOTH = (99.5, 103.5, 98.5, 103.2)


def _live_both(hours: list[tuple[float, float, float, float]] | None) -> list:
    bars = {("AAA", "1Day"): _frame([*DAILY[:3], LIVE_BOTH], "2024-03-04", "D")}
    if hours is not None:
        bars[("AAA", "1Hour")] = _frame(hours, "2024-03-07 09:00", "h")
    (row,) = scan(bars, timeframes=("1Day",), last_bar_closed=False, tfc_timeframes=("1Day",))
    return [s for s in row.setups if s.pattern.label == "2D-1-2U"]


def test_in_force_breakout_is_not_stopped_by_the_bar_before_its_entry() -> None:
    # Without finer bars the path rule (open nearer the low: O→L→H→C) puts the low before
    # the entry: the breakout is in force and stays on the board.
    (s,) = _live_both(None)
    assert (s.status, s.settlement, s.triggered_index) == (SetupStatus.TRIGGERED, "path rule", 3)
    # Hourly bars showing the low first agree, and settle it exactly ("magnified").
    low_first = [(99.5, 100.0, 98.5, 99.8), (99.8, 103.5, 99.7, 103.2)]
    (s,) = _live_both(low_first)
    assert (s.status, s.settlement) == (SetupStatus.TRIGGERED, "magnified")
    # Hourly bars showing the entry first and the stop after it: stopped, off the board.
    entry_first = [(99.5, 103.5, 99.4, 103.0), (103.0, 103.1, 98.5, 99.0), (99.0, 103.2, 99, 103.2)]
    assert _live_both(entry_first) == []
    # The conservative rule would have dropped the in-force breakout.
    bars = {("AAA", "1Day"): _frame([*DAILY[:3], LIVE_BOTH], "2024-03-04", "D")}
    (row,) = scan(bars, timeframes=("1Day",), last_bar_closed=False, intrabar="conservative")
    assert [s for s in row.setups if s.pattern.label == "2D-1-2U"] == []
