"""The signal board: categories, levels and ids that survive a refresh."""

import pandas as pd
import pytest

from dashboard.strat.board import (
    ROOM_MIN_RR,
    UNKNOWN_TFC,
    SignalRow,
    SignalTfc,
    build_signal_board,
    rank_board,
    readiness_tier,
    signal_tfc,
)
from dashboard.strat.continuity import ContinuityResult, TimeframeState
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


def test_a_pending_row_whose_stop_traded_is_dropped() -> None:
    # Bar 1 is a 2D bar after bar 0: a 2D-2U long, entry 104.01, stop 95 (its low). A live
    # bar that holds above 95 leaves the row pending; one that trades 94.5 without
    # reaching 104.01 has traded the stop before the trigger: the setup is invalid
    # (strat.md §1.3) and the board does not offer it.
    holding = [*BARS[:2], (96.0, 97.0, 95.5, 96.5)]
    broken = [*BARS[:2], (96.0, 97.0, 94.5, 95.5)]

    def board(bars: list[tuple[float, float, float, float]]) -> list[SignalRow]:
        rows = scan(
            {("SPY", "1Day"): _frame(bars)},
            timeframes=("1Day",),
            last_bar_closed=False,
            include_resolved=True,
        )
        return [r for r in build_signal_board(rows) if r.label == "2D-2U"]

    (pending,) = board(holding)
    assert (pending.category, pending.entry, pending.stop) == ("pending", 104.01, 95.0)
    assert pending.to_stop_pct > 0
    assert board(broken) == []
    (setup,) = [
        s
        for s in scan(
            {("SPY", "1Day"): _frame(broken)}, timeframes=("1Day",), last_bar_closed=False
        )[0].setups
        if s.pattern.label == "2D-2U"
    ]
    assert setup.invalidated_index == 2  # the scan keeps it, marked


def test_a_both_ways_row_names_its_invalidated_leg() -> None:
    # The inside bar (102–98) can break either way: 2D-1-2U (entry 102.01, stop 98) and
    # 2D-1-2D (entry 97.99, stop 102). The live bar trades 97.5: the short is in force and
    # the long's stop traded before its trigger, so the row is the short alone, naming
    # the long as invalidated instead of offering it as the other direction.
    live = [*BARS, (99.0, 101.0, 97.5, 98.0)]
    rows = scan(
        {("SPY", "1Day"): _frame(live)},
        timeframes=("1Day",),
        last_bar_closed=False,
        include_resolved=True,
    )
    (r,) = [r for r in build_signal_board(rows) if r.pattern == "2-1-2"]
    assert (r.label, r.direction, r.category) == ("2D-1-2D", "short", "triggered")
    assert r.directions == ("long", "short")
    assert r.alt is None
    assert r.other_leg == "2D-1-2U long invalidated (stop traded before the trigger)"


# ---- where price is, from the live bar: hand-worked -------------------------------------


def test_an_in_force_row_measures_from_the_last_price() -> None:
    # The live bar closes at 102.2, through the 102.01 trigger. Long from 102.01, stop 98,
    # T1 104: past the trigger (102.2 − 102.01) / 102.01 = 0.18626 %; to T1
    # (104 − 102.2) / 102.2 = 1.76125 %; to the stop (102.2 − 98) / 102.2 = 4.10959 %;
    # reward to risk from here 1.8 / 4.2 = 0.428571: less reward than risk left, tier 3.
    live = [*BARS, (100, 102.5, 99.5, 102.2)]
    board = build_signal_board(
        scan({("SPY", "1Day"): _frame(live)}, timeframes=("1Day",), last_bar_closed=False)
    )
    r = next(r for r in board if r.label == "2D-1-2U")
    assert r.price == 102.2 and r.in_force
    assert r.trigger_pct == pytest.approx(0.18626, abs=1e-5)
    assert r.to_t1_pct == pytest.approx(1.76125, abs=1e-5)
    assert r.to_stop_pct == pytest.approx(4.10959, abs=1e-5)
    assert r.rr_now == pytest.approx(0.428571, abs=1e-6)
    assert not r.room_to_t1 and readiness_tier(r) == 3
    # Pending, the same setup measures to the trigger from the inside bar's close (100):
    # (102.01 − 100) / 100 = 2.01 %, and its R:R is the plan's, 1.99 / 4.01.
    pending = build_signal_board(scan({("SPY", "1Day"): _frame(BARS)}, timeframes=("1Day",)))
    p = next(r for r in pending if r.label == "2D-1-2U")
    assert p.trigger_pct == pytest.approx(2.01, abs=1e-9)
    assert p.rr_now == pytest.approx(1.99 / 4.01, abs=1e-9) and readiness_tier(p) == 1


# ---- TFC relative to the trade ----------------------------------------------------------


def _state(tf: str, direction: int, open_: float = 100.0) -> TimeframeState:
    price = open_ + direction
    return TimeframeState(tf, open_, price, direction, price - open_)


def _continuity(*states: TimeframeState) -> ContinuityResult:
    score = sum(s.direction for s in states)
    direction = (score > 0) - (score < 0)
    ftfc = all(s.direction == direction != 0 for s in states)
    return ContinuityResult(score, len(states), direction, ftfc, states)


def test_tfc_is_judged_for_the_trades_direction_long_and_short() -> None:
    # Day ↓ (the signal's own timeframe: not counted), Week ↑, Month ↑, Quarter ↑.
    up = _continuity(
        _state("1Day", -1), _state("1Week", 1), _state("1Month", 1), _state("1Quarter", 1)
    )
    long, short = signal_tfc(up, "long", "1Day"), signal_tfc(up, "short", "1Day")
    assert (long.stance, long.agree, long.against, long.n) == ("aligned", 3, 0, 3)
    assert (short.stance, short.agree, short.against, short.n) == ("against", 0, 3, 3)
    assert long.label == "aligned 3/3" and short.label == "against 0/3"
    assert long.plan_label == "aligned 3/3 W,M,Q"
    # Week ↓, Month ↑, Quarter doji: a long has 1 of 3 for it, 1 against: mixed either way.
    mixed = _continuity(_state("1Week", -1), _state("1Month", 1), _state("1Quarter", 0))
    m_long, m_short = signal_tfc(mixed, "long", "1Day"), signal_tfc(mixed, "short", "1Day")
    assert (m_long.stance, m_long.agree, m_long.against) == ("mixed", 1, 1)
    assert (m_short.stance, m_short.agree, m_short.against) == ("mixed", 1, 1)
    # A short on a 4Hour bar is judged on Day and Week only: both ↓ is aligned 2/2,
    # whatever the month says.
    down = _continuity(_state("1Day", -1), _state("1Week", -1), _state("1Month", 1))
    four = signal_tfc(down, "short", "4Hour")
    assert (four.stance, four.agree, four.n) == ("aligned", 2, 2)
    assert [s.timeframe for s in four.states] == ["1Day", "1Week"]
    # Nothing higher to judge against, or no data: unknown, not "mixed".
    assert signal_tfc(up, "long", "1Quarter") is UNKNOWN_TFC
    assert signal_tfc(None, "long", "1Day") is UNKNOWN_TFC
    assert signal_tfc(_continuity(_state("1Hour", 1)), "long", "1Day") is UNKNOWN_TFC


def test_a_board_row_carries_tfc_relative_to_its_own_direction() -> None:
    # Daily 2D-1-2U long on an inside bar; a weekly frame whose current candle is red
    # (open 105, last close 100): the week is against the long and with the short.
    weekly = pd.DataFrame(
        {"open": [104.0, 105.0], "high": [106.0, 106.0], "low": [99.0, 98.0],
         "close": [105.0, 100.0], "volume": [1.0, 1.0]},
        index=pd.DatetimeIndex(["2025-12-29", "2026-01-05"], tz="America/New_York").tz_convert(
            "UTC"
        ),
    )  # fmt: skip
    rows = scan(
        {("SPY", "1Day"): _frame(BARS), ("SPY", "1Week"): weekly},
        timeframes=("1Week", "1Day"),
        last_bar_closed={"1Day": True, "1Week": False},
    )
    board = build_signal_board(rows)
    day = {r.label: r for r in board if r.timeframe == "1Day"}
    long = day["2D-1-2U"]
    assert [s.timeframe for s in long.tfc.states] == ["1Week"]
    assert (long.tfc.stance, long.tfc.agree) == ("against", 0)
    short = long.alt if long.alt is not None and long.alt.direction == "short" else None
    assert short is not None and short.label == "2D-1-2D"
    assert (short.tfc.stance, short.tfc.agree) == ("aligned", 1)


# ---- one row per idea -------------------------------------------------------------------


def test_a_hammer_on_a_2_2_is_one_row_with_a_tag() -> None:
    # Bar 1 is a 2D (high 99.5 < 100, low 97 < 98) with a hammer's shape (open 99.3,
    # close 99.4): the 2D-2U reversal and Hammer-2U share entry 99.51, stop 97, T1 100.
    frame = _frame([(99.0, 100.0, 98.0, 99.0), (99.3, 99.5, 97.0, 99.4)])
    board = build_signal_board(scan({("XYZ", "1Day"): frame}, timeframes=("1Day",)))
    rows = [r for r in board if r.entry == 99.51 and r.direction == "long"]
    assert len(rows) == 1
    (r,) = rows
    assert (r.label, r.tags, r.stop, r.target1) == ("2D-2U", ("Hammer",), 97.0, 100.0)
    assert not any(r.label.startswith("Hammer") for r in board)


def test_an_outside_bar_that_broke_both_ways_is_one_row_saying_so() -> None:
    # Bar 1 (101, 97) is outside bar 0 (100, 98): 3-2U above 101.01 (stop 97) and 3-2D
    # below 96.99 (stop 101). Bar 2 breaks up (the long is in force); the live bar 3 falls
    # to 96.5: the long is stopped at 97 and the short in force. One row, the short,
    # saying price broke both ways and that the long was stopped.
    bars = [
        (99.0, 100.0, 98.0, 99.0),
        (97.5, 101.0, 97.0, 97.2),
        (101.2, 102.0, 99.0, 101.5),
        (99.5, 100.0, 96.5, 96.8),
    ]
    rows = scan(
        {("XYZ", "1Day"): _frame(bars)},
        timeframes=("1Day",),
        last_bar_closed=False,
        include_resolved=True,
    )
    board = build_signal_board(rows)
    (r,) = [r for r in board if r.pattern == "3-2"]
    assert r.broke_both and r.status == "broke both ways" and r.in_force
    assert r.directions == ("long", "short") and r.direction == "short"
    assert (r.label, r.entry, r.stop) == ("3-2D", 96.99, 101.0)
    assert r.alt is None and r.other_leg == "3-2U long stopped"
    # Past the trigger by (96.99 − 96.8) / 96.99 = 0.195896 %.
    assert r.trigger_pct == pytest.approx(0.195896, abs=1e-6)
    # Without the resolved legs the board cannot tell: a plain in-force short.
    (plain,) = [
        r
        for r in build_signal_board(
            scan({("XYZ", "1Day"): _frame(bars)}, timeframes=("1Day",), last_bar_closed=False)
        )
        if r.pattern == "3-2"
    ]
    assert not plain.broke_both and plain.status == "triggered"


# ---- the readiness ranking on a hand-made board --------------------------------------------


def _row(name: str, **kw: object) -> SignalRow:
    base: dict[str, object] = {
        "id": name, "category": "triggered", "symbol": name, "timeframe": "1Day",
        "pattern": "2-2", "label": "2D-2U", "direction": "long", "status": "triggered",
        "price": 100.0, "entry": 100.0, "stop": 98.0, "target1": 104.0, "target2": None,
        "reward_risk": 2.0, "magnitude_pct": 4.0, "magnitude_atr": 1.0,
        "tfc": SignalTfc("aligned", 3, 0, ()), "setup_time": None, "triggered_at": None,
        "entry_rule": "e", "stop_rule": "s", "target_rule": "t", "trigger_pct": 0.0,
        "to_t1_pct": 4.0, "to_stop_pct": 2.0, "rr_now": 2.0,
    }  # fmt: skip
    base.update(kw)
    return SignalRow(**base)  # type: ignore[arg-type]


def test_readiness_ranks_a_hand_made_board() -> None:
    mixed = SignalTfc("mixed", 1, 1, ())
    rows = [
        _row("LOWMAG", category="low_magnitude", magnitude_pct=0.3),
        _row("PEND_FAR", category="pending", status="pending", trigger_pct=2.5),
        _row("FULL", rr_now=0.6),  # aligned but less reward than risk left
        _row("MIXED", tfc=mixed, rr_now=3.0),  # room, but TFC not aligned
        _row("READY_2R", rr_now=2.0),
        _row("PEND_NEAR", category="pending", status="pending", trigger_pct=0.4),
        _row("READY_3R", rr_now=3.0),
        _row("READY_1R", rr_now=1.0),  # exactly ROOM_MIN_RR: room
        _row(
            "PEND_NEAR_W",
            category="pending",
            status="pending",
            trigger_pct=0.4,
            timeframe="1Week",
            tfc=mixed,
        ),
        _row(
            "PEND_NEAR_Q",
            category="pending",
            status="pending",
            trigger_pct=0.4,
            timeframe="1Quarter",
            tfc=mixed,
        ),
        _row("STOPPED_THROUGH", rr_now=None),  # at or through the stop: no ratio
    ]
    ranked = rank_board(rows)
    assert [r.symbol for r in ranked] == [
        # 0: in force, aligned, room to T1; best reward-to-risk from here first.
        "READY_3R", "READY_2R", "READY_1R",
        # 1: pending, nearest the trigger; at equal distance aligned first, then the
        # higher timeframe.
        "PEND_NEAR", "PEND_NEAR_Q", "PEND_NEAR_W", "PEND_FAR",
        # 2: in force with room but TFC not aligned.
        "MIXED",
        # 3: in force without room (0.6 R left; no ratio at the stop last).
        "FULL", "STOPPED_THROUGH",
        # 4: low magnitude.
        "LOWMAG",
    ]  # fmt: skip
    assert [readiness_tier(r) for r in ranked] == [0, 0, 0, 1, 1, 1, 1, 2, 3, 3, 4]
    assert ROOM_MIN_RR == 1.0
    # A pending setup whose trigger price is already behind the last price (negative
    # distance: the bar has not traded through it yet) counts as at the trigger.
    behind = _row("BEHIND", category="pending", status="pending", trigger_pct=-0.2)
    assert rank_board([rows[5], behind])[0].symbol == "BEHIND"
