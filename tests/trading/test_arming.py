"""Armed entries: the arming window per timeframe, the trigger test and the contract and
price at the trigger, long and short, with hand-worked numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dashboard.conventions import NEW_YORK
from dashboard.options.occ import build_occ
from dashboard.strat.setups import SETUP_EXPIRE_BARS
from dashboard.trading.arming import (
    ArmedEntry,
    ArmingStatus,
    DisarmReason,
    PriceObservation,
    arming_refusal,
    arming_window_end,
    choose_contract,
    evaluate_arming,
    premium_cap,
    trigger_distance,
)
from tests.trading._fixtures import EXPIRY, quote


def ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK)


# ---- the arming window ----------------------------------------------------------------------


def test_window_is_the_boards_three_bars() -> None:
    assert SETUP_EXPIRE_BARS == 3


@pytest.mark.parametrize(
    ("timeframe", "setup_start", "end"),
    [
        # Daily bar of Wed 11 Nov (stamped NY midnight): Thu 12, Fri 13, Mon 16 → Mon 16:00.
        ("1Day", ny(2026, 11, 11), ny(2026, 11, 16, 16)),
        # 15-min bar 15:30 Fri: 15:45–16:00 is bar 1, Monday 09:30–09:45 and 09:45–10:00.
        ("15Min", ny(2026, 11, 13, 15, 30), ny(2026, 11, 16, 10, 0)),
        # Hourly bar 14:00 Tue closes 15:00: bars end 16:00, Wed 10:30, Wed 11:30.
        ("1Hour", ny(2026, 11, 10, 14), ny(2026, 11, 11, 11, 30)),
        # Week of Mon 9 Nov closes Fri 13; three more weeks: Fri 4 Dec.
        ("1Week", ny(2026, 11, 9), ny(2026, 12, 4, 16)),
        # October 2026; three more months: January 2027, last weekday Fri 29 Jan.
        ("1Month", ny(2026, 10, 1), ny(2027, 1, 29, 16)),
    ],
)
def test_arming_window_end(timeframe: str, setup_start: datetime, end: datetime) -> None:
    assert arming_window_end(timeframe, setup_start) == end


def test_window_of_one_bar_and_utc_input() -> None:
    # Daily bar stamped 05:00 UTC = NY midnight Fri 13 Nov: one bar → Mon 16 16:00 NY.
    start = datetime(2026, 11, 13, 5, 0, tzinfo=UTC)
    assert arming_window_end("1Day", start, bars=1) == ny(2026, 11, 16, 16)
    with pytest.raises(ValueError):
        arming_window_end("1Day", start, bars=0)
    with pytest.raises(ValueError):
        arming_window_end("2Day", start)


# ---- the trigger test -----------------------------------------------------------------------

ARMED_AT = ny(2026, 11, 16, 10, 0)


def entry(**over: Any) -> ArmedEntry:
    base: dict[str, Any] = {
        "id": 7,
        "created_at": ARMED_AT,
        "updated_at": ARMED_AT,
        "status": ArmingStatus.ARMED,
        "signal_id": "AAPL-1Day-2-1-2-long",
        "symbol": "AAPL",
        "timeframe": "1Day",
        "pattern": "2-1-2",
        "direction": "long",
        "trigger": 100.01,
        "stop": 98.49,
        "target1": 103.00,
        "target2": None,
        "opposite": None,
        "contract": build_occ("AAPL", EXPIRY, "C", Decimal(200)),
        "expiry": EXPIRY,
        "strike": Decimal(200),
        "right": "C",
        "contract_rule": "fixed",
        "quantity": 2,
        "max_premium": None,
        "max_slippage": None,
        "projected_premium": None,
        "armed_at": ARMED_AT,
        "expires_at": ny(2026, 11, 18, 16),
    }
    base.update(over)
    return ArmedEntry(**base)


SHORT = {"direction": "short", "trigger": 49.99, "stop": 51.51, "target1": 47.00, "right": "P"}


def bar(minute: int, high: float, low: float) -> PriceObservation:
    at = ARMED_AT + timedelta(minutes=minute)
    return PriceObservation(at, high, low, at + timedelta(minutes=1))


def test_long_waits_below_then_triggers_on_the_high() -> None:
    e = entry()
    assert evaluate_arming(e, [bar(0, 99.80, 99.20)], ARMED_AT).action == "wait"
    d = evaluate_arming(e, [bar(0, 99.80, 99.20), bar(1, 100.05, 99.90)], ARMED_AT)
    assert (d.action, d.price, d.at) == ("trigger", 100.01, ARMED_AT + timedelta(minutes=1))


def test_long_exactly_at_trigger_triggers_one_cent_below_does_not() -> None:
    e = entry()
    assert evaluate_arming(e, [PriceObservation.trade(ARMED_AT, 100.00)], ARMED_AT).action == (
        "wait"
    )
    assert evaluate_arming(e, [PriceObservation.trade(ARMED_AT, 100.01)], ARMED_AT).action == (
        "trigger"
    )


def test_long_stop_first_disarms_with_reason() -> None:
    d = evaluate_arming(entry(), [bar(0, 99.5, 98.40), bar(1, 100.5, 99.0)], ARMED_AT)
    assert d.action == "disarm"
    assert d.reason is DisarmReason.STOP_FIRST
    assert d.price == 98.40
    assert "stop 98.49" in d.detail


def test_long_trigger_and_stop_in_one_bar_is_not_entered() -> None:
    d = evaluate_arming(entry(), [bar(0, 100.20, 98.30)], ARMED_AT)
    assert (d.action, d.reason) == ("disarm", DisarmReason.STOP_FIRST)
    assert "same bar" in d.detail


def test_long_opposite_break_before_stop() -> None:
    e = entry(opposite=99.00, stop=98.00)
    d = evaluate_arming(e, [bar(0, 99.5, 98.95)], ARMED_AT)
    assert (d.action, d.reason) == ("disarm", DisarmReason.OPPOSITE_BREAK)
    # Exactly at the setup bar's low is not a break (a break is strict, strat.md §1.1).
    assert evaluate_arming(e, [bar(0, 99.5, 99.00)], ARMED_AT).action == "wait"


def test_short_triggers_on_the_low_and_stops_on_the_high() -> None:
    e = entry(**SHORT)
    d = evaluate_arming(e, [bar(0, 50.30, 50.00), bar(1, 50.10, 49.95)], ARMED_AT)
    assert (d.action, d.price) == ("trigger", 49.99)
    s = evaluate_arming(e, [bar(0, 51.60, 50.40)], ARMED_AT)
    assert (s.action, s.reason, s.price) == ("disarm", DisarmReason.STOP_FIRST, 51.60)


def test_prices_before_arming_and_after_the_window_are_ignored() -> None:
    e = entry()
    before = PriceObservation(
        ARMED_AT - timedelta(minutes=5), 101.0, 99.0, ARMED_AT - timedelta(minutes=4)
    )
    assert evaluate_arming(e, [before], ARMED_AT).action == "wait"
    late = PriceObservation.trade(e.expires_at + timedelta(minutes=1), 101.0)
    d = evaluate_arming(e, [late], e.expires_at + timedelta(minutes=2))
    assert (d.action, d.reason) == ("disarm", DisarmReason.WINDOW_ENDED)


def test_window_ends_without_trigger() -> None:
    e = entry()
    assert evaluate_arming(e, [], e.expires_at - timedelta(seconds=1)).action == "wait"
    d = evaluate_arming(e, [bar(0, 99.9, 99.0)], e.expires_at)
    assert (d.action, d.reason) == ("disarm", DisarmReason.WINDOW_ENDED)


def test_only_armed_entries_are_evaluated() -> None:
    for status in (ArmingStatus.TRIGGERED, ArmingStatus.SENT, ArmingStatus.DISARMED):
        d = evaluate_arming(entry(status=status), [bar(0, 101, 100.5)], ARMED_AT)
        assert d.action == "wait"


def test_trigger_distance_long_and_short() -> None:
    d = trigger_distance(entry(), 99.51)
    assert d.to_trigger == pytest.approx(0.50)
    assert d.to_trigger_pct == pytest.approx(0.50 / 99.51 * 100)
    assert d.to_stop == pytest.approx(1.02)
    s = trigger_distance(entry(**SHORT), 50.49)
    assert s.to_trigger == pytest.approx(0.50)
    assert s.to_stop == pytest.approx(1.02)


# ---- contract and price at the trigger -------------------------------------------------------


def test_premium_cap_is_the_tighter_limit() -> None:
    assert premium_cap(entry()) is None
    e = entry(
        max_premium=Decimal("5.00"),
        projected_premium=Decimal("4.20"),
        max_slippage=Decimal("0.15"),
    )
    assert premium_cap(e) == Decimal("4.35")
    assert premium_cap(replace(e, max_premium=Decimal("4.00"))) == Decimal("4.00")
    # Slippage without a projection is no limit at all; the absolute cap still is.
    assert premium_cap(replace(e, projected_premium=None)) == Decimal("5.00")


def spy_entry(**over: Any) -> ArmedEntry:
    return entry(
        symbol="SPY",
        contract=build_occ("SPY", EXPIRY, "C", Decimal(600)),
        strike=Decimal(600),
        **over,
    )


def test_limit_is_the_ask_on_the_tick_and_inside_the_cap() -> None:
    e = spy_entry(projected_premium=Decimal("4.20"), max_slippage=Decimal("0.20"))
    got = choose_contract(e, [quote("SPY", "C", "600", 4.30, 4.37)])
    assert (got.refusal, got.limit, got.contract) == (None, Decimal("4.37"), e.contract)


def test_ask_above_the_cap_refuses_with_the_numbers() -> None:
    e = spy_entry(projected_premium=Decimal("4.20"), max_slippage=Decimal("0.15"))
    got = choose_contract(e, [quote("SPY", "C", "600", 4.30, 4.37)])
    assert got.refusal is DisarmReason.OUTSIDE_LIMITS
    assert "4.37" in got.detail and "4.35" in got.detail


def test_fixed_contract_without_ask_refuses() -> None:
    e = spy_entry()
    got = choose_contract(e, [quote("SPY", "C", "605", 2.0, 2.1)])
    assert got.refusal is DisarmReason.NO_QUOTE


def test_nearest_strike_reselects_same_expiry_and_right() -> None:
    e = spy_entry(contract_rule="nearest_strike")
    quotes = [
        quote("SPY", "C", "600", 0.0, 0.0),  # no ask
        quote("SPY", "P", "600", 3.0, 3.1),  # wrong right
        quote("SPY", "C", "610", 1.0, 1.05),
        quote("SPY", "C", "595", 6.0, 6.12),
    ]
    got = choose_contract(e, quotes)
    assert got.refusal is None
    assert got.strike == Decimal(595)  # 5 away, ties go to the lower strike
    assert got.limit == Decimal("6.12")
    assert "re-selected" in got.detail


def test_short_buys_the_put() -> None:
    e = entry(
        **{**SHORT, "symbol": "SPY"},
        contract=build_occ("SPY", EXPIRY, "P", Decimal(600)),
        strike=Decimal(600),
        contract_rule="nearest_strike",
    )
    got = choose_contract(e, [quote("SPY", "C", "600", 2.0, 2.1), quote("SPY", "P", "605", 4, 4.2)])
    assert got.strike == Decimal(605)
    assert got.contract == build_occ("SPY", EXPIRY, "P", Decimal(605))


def test_request_key_names_the_arming() -> None:
    assert entry().request_key == "armed-7"
    assert entry(status=ArmingStatus.TRIGGERED).is_active
    assert not entry(status=ArmingStatus.SENT).is_active
    assert date(2025, 12, 19) == EXPIRY


def test_arming_refusals_long_and_short() -> None:
    now = ARMED_AT
    end = now + timedelta(hours=1)
    ok = {"direction": "long", "trigger": 100.01, "stop": 98.49, "now": now, "expires_at": end}
    assert arming_refusal(status="pending", price=99.5, **ok) is None
    assert "Enter it now" in (arming_refusal(status="triggered", price=99.5, **ok) or "")
    assert "already through the trigger" in (
        arming_refusal(status="pending", price=100.01, **ok) or ""
    )
    assert "already through the stop" in (arming_refusal(status="pending", price=98.49, **ok) or "")
    assert "window has ended" in (
        arming_refusal(status="pending", price=99.5, **{**ok, "now": end}) or ""
    )
    assert "No current price" in (arming_refusal(status="pending", price=None, **ok) or "")
    short = {**ok, "direction": "short", "trigger": 49.99, "stop": 51.51}
    assert arming_refusal(status="pending", price=50.5, **short) is None
    assert "trigger" in (arming_refusal(status="pending", price=49.99, **short) or "")
    assert "stop" in (arming_refusal(status="pending", price=51.6, **short) or "")
    assert "wrong side" in (
        arming_refusal(status="pending", price=50.5, **{**short, "stop": 48.0}) or ""
    )


def test_premium_at_trigger_is_black_scholes_at_the_trigger() -> None:
    from dashboard.options.expiry import years_to_expiry
    from dashboard.options.pricing import bs_price
    from dashboard.trading.arming import premium_at_trigger

    q = quote("SPY", "C", "600", 4.30, 4.37)  # IV 0.2 on the fixture
    now = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
    got = premium_at_trigger(q, 601.0, now)
    want = float(bs_price(601.0, 600.0, years_to_expiry(EXPIRY, now), 0.04, 0.2, "C"))
    assert got == Decimal(str(round(want, 2)))
    assert premium_at_trigger(replace(q, iv=None), 601.0, now) is None


def test_arming_window_on_built_timeframes() -> None:
    """4Hour bars are the session's 09:30-13:30 and 13:30-16:00; quarters end in their
    third month. Three bars after the setup bar, hand-counted."""
    from dashboard.conventions import NEW_YORK
    from dashboard.trading.arming import arming_window_end

    # Q3 2026 closes Sep 30; Q4, Q1, Q2 later: Jun 30 2027 at the close.
    assert arming_window_end("1Quarter", datetime(2026, 7, 1, tzinfo=NEW_YORK)) == datetime(
        2027, 6, 30, 16, 0, tzinfo=NEW_YORK
    )
    # Monday's morning bar closes 13:30; then Mon 16:00, Tue 13:30, Tue 16:00.
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=NEW_YORK)
    assert arming_window_end("4Hour", monday) == datetime(2026, 12, 1, 16, 0, tzinfo=NEW_YORK)
    # Friday's afternoon bar closes 16:00; then Mon 13:30, Mon 16:00, Tue 13:30.
    friday = datetime(2026, 11, 27, 13, 30, tzinfo=NEW_YORK)
    assert arming_window_end("4Hour", friday) == datetime(2026, 12, 1, 13, 30, tzinfo=NEW_YORK)


def test_an_armed_entrys_limit_uses_the_penny_list_in_force() -> None:
    """At the trigger the ask is rounded up on the grid in force: ROKU's 3.41 ask is a
    3.50 buy limit outside the program and 3.45 once DASHBOARD_PENNY_SYMBOLS adds it."""
    from dashboard.trading.ticket import tick_table_for

    q = quote("ROKU", "C", "200", 3.30, 3.41)
    armed = entry(symbol="ROKU", contract=q.contract.symbol)
    assert choose_contract(armed, [q]).limit == Decimal("3.50")
    assert choose_contract(armed, [q], tick_table_for(None, ("ROKU",))).limit == Decimal("3.45")
