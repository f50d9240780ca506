"""Order-ticket validation: every rule, in both directions, with the message it shows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.trading.ticket import (
    EntryLimits,
    PriceCheck,
    active_for_signal,
    check_against_price,
    option_tick,
    parse_tick_table,
    risk_budget,
    round_to_tick,
    shipped_tick_table,
    size_by_risk,
    tick_table_for,
    validate_ticket,
)

from ._fixtures import NOW, chain, fields

KNOWN = ("SPY", "QQQ", "IWM", "AAPL")


def check(
    bp: str = "10000", *, ch: Any = "default", now: datetime = NOW, cap: int = 10, **over: Any
):
    return validate_ticket(
        fields(**over),
        chain=chain() if ch == "default" else ch,
        buying_power=Decimal(bp) if bp is not None else None,
        now=now,
        max_contracts=cap,
        known_symbols=KNOWN,
    )


def test_valid_long_ticket_is_parsed_exactly() -> None:
    v = check()
    assert v.ok and dict(v.errors) == {}
    t = v.ticket
    assert t is not None
    assert t.contract == "AAPL251219C00200000" and t.right == "C"
    assert t.contracts == 2 and t.limit == Decimal("2.50") and t.strike == Decimal(200)
    assert (t.entry, t.target, t.stop) == (201.0, 205.0, 198.5)
    assert t.cost == Decimal("500.00") and v.cost == Decimal("500.00")
    assert t.pattern == "2-1-2" and t.signal_id == "sig-1" and not t.live
    assert "BUY TO OPEN 2 × AAPL Dec 19 '25 $200 C" in t.display


def test_valid_short_ticket_buys_the_put() -> None:
    v = check(direction="short", limit="2.00", entry="199", target="195", stop="201.5")
    assert v.ok, v.errors
    assert v.ticket is not None and v.ticket.contract == "AAPL251219P00200000"


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"symbol": "ZZZZ"}, "symbol", "ZZZZ is not a known symbol"),
        ({"symbol": ""}, "symbol", "Enter the underlying symbol"),
        ({"direction": "sideways"}, "direction", "Choose long"),
        ({"contracts": "0"}, "contracts", "at least 1"),
        ({"contracts": "-3"}, "contracts", "at least 1"),
        ({"contracts": "2.5"}, "contracts", "whole number; 2.5 is not"),
        ({"contracts": "two"}, "contracts", "whole number, got 'two'"),
        ({"contracts": "11"}, "contracts", "At most 10 contracts"),
        ({"expiry": "2025-11-28"}, "expiry", "not in the future"),
        ({"expiry": "next friday"}, "expiry", "must be a date"),
        ({"strike": "-5"}, "strike", "positive number"),
        ({"limit": "0"}, "limit", "above zero"),
        ({"limit": ""}, "limit", "Enter a limit price"),
        ({"limit": "abc"}, "limit", "must be a number"),
        ({"target": "200"}, "target", "target must be above the entry"),
        ({"stop": "201.5"}, "stop", "stop must be below the entry"),
        ({"entry": "x"}, "entry", "must be a number"),
        ({"strike": "210"}, "contract", "is not listed in the AAPL chain"),
        ({"strike": "205"}, "contract", "listed but not tradable"),
        ({"contracts": "5", "limit": "2.50"}, "cost", "exceeds options buying power $1,000.00"),
    ],
)
def test_each_rule_has_its_message(over: dict[str, Any], field: str, text: str) -> None:
    v = check("1000", **over)
    assert not v.ok and v.ticket is None
    assert field in v.errors, v.errors
    assert text in v.errors[field]


def test_short_side_rules_mirror_long() -> None:
    v = check(direction="short", limit="2.00", entry="199", target="201", stop="197")
    assert "target must be below the entry" in v.errors["target"]
    assert "stop must be above the entry" in v.errors["stop"]


def test_second_target_must_be_beyond_the_first() -> None:
    v = check(target2="204")
    assert v.errors["target"] == "Target 2 (204.00) must be above target 1 (205.00)."


def test_cost_message_is_exact() -> None:
    v = check("999.99", contracts="4")
    assert v.errors["cost"] == (
        "Cost $1,000.00 (4 × 100 × $2.50) exceeds options buying power $999.99."
    )


def test_cost_at_exactly_buying_power_passes() -> None:
    assert check("1000", contracts="4").ok


def test_unknown_buying_power_blocks() -> None:
    v = check(None)
    assert "unavailable" in v.errors["cost"]


def test_missing_chain_blocks_with_reason() -> None:
    v = check(ch=None)
    assert "could not be loaded" in v.errors["contract"]


def test_contract_must_match_direction() -> None:
    v = check(right="P")
    assert v.errors["contract"] == "A long trade buys a call; AAPL Dec 19 '25 $200 P is a put."


def test_given_contract_must_agree_with_fields() -> None:
    v = check(contract="AAPL251219C00205000")
    assert "does not match the fields" in v.errors["contract"]
    assert check(contract="AAPL251219C00200000").ok


def test_expiry_today_is_valid_before_close_and_not_after() -> None:
    ch = chain()
    expiry_day_before = datetime(2025, 12, 19, 20, 0, tzinfo=UTC)  # 15:00 ET
    after = datetime(2025, 12, 19, 21, 1, tzinfo=UTC)  # 16:01 ET
    assert check(ch=ch, now=expiry_day_before).ok
    assert "today's close has passed" in check(ch=ch, now=after).errors["expiry"]


# ---- ticks: the Penny Interval Program, from the shipped list -----------------------------------
# Hand-worked from the program's rules (apis.md "Option ticks"): SPY/QQQ/IWM $0.01 at every
# price; program classes (AAPL, MSFT, NVDA, TSLA, AMZN, ...) $0.01 below $3.00 and $0.05 from
# $3.00; classes outside the program (ROKU here) $0.05 below $3.00 and $0.10 from $3.00.


@pytest.mark.parametrize(
    ("symbol", "price", "tick"),
    [
        ("SPY", "2.95", "0.01"),
        ("SPY", "12.37", "0.01"),
        ("QQQ", "7.31", "0.01"),
        ("iwm", "0.01", "0.01"),
        ("AAPL", "0.07", "0.01"),
        ("AAPL", "2.99", "0.01"),
        ("AAPL", "3.00", "0.05"),
        ("AAPL", "12.30", "0.05"),
        ("MSFT", "2.51", "0.01"),
        ("NVDA", "4.10", "0.05"),
        ("TSLA", "1.23", "0.01"),
        ("amzn", "3.00", "0.05"),
        ("ROKU", "2.95", "0.05"),
        ("ROKU", "3.00", "0.10"),
        ("ROKU", "12.30", "0.10"),
    ],
)
def test_option_tick(symbol: str, price: str, tick: str) -> None:
    assert option_tick(symbol, Decimal(price)) == Decimal(tick)


def test_shipped_list_has_its_date_source_and_the_issue_names() -> None:
    table = shipped_tick_table()
    assert table.penny_all_prices == {"SPY", "QQQ", "IWM"}
    assert {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN"} <= table.program
    assert not table.penny_all_prices & table.program
    assert table.effective == date(2026, 7, 1)
    assert "Penny Interval Program" in table.source
    assert table.caption == "Penny Interval Program list effective 2026-07-01"


@pytest.mark.parametrize(
    ("symbol", "limit", "ok", "hint"),
    [
        ("AAPL", "2.51", True, None),  # penny below $3: a valid price is never forced off
        ("AAPL", "2.99", True, None),
        ("AAPL", "3.05", True, None),  # nickel from $3
        ("AAPL", "3.07", False, "try $3.05 or $3.10"),
        ("AAPL", "2.505", False, "try $2.50 or $2.51"),
        ("ROKU", "2.45", True, None),
        ("ROKU", "2.53", False, "try $2.50 or $2.55"),
        ("ROKU", "3.10", True, None),
        ("ROKU", "3.05", False, "try $3.00 or $3.10"),
        ("ROKU", "2.5", True, None),
    ],
)
def test_limit_tick_rules(symbol: str, limit: str, ok: bool, hint: str | None) -> None:
    v = validate_ticket(
        fields(symbol=symbol, limit=limit),
        chain=chain(symbol),
        buying_power=Decimal(10000),
        now=NOW,
        max_contracts=10,
        known_symbols=(*KNOWN, "ROKU"),
    )
    assert v.ok is ok, v.errors
    if hint:
        assert hint in v.errors["limit"]
        band = "penny program" if symbol == "AAPL" else "outside the penny program"
        assert band in v.errors["limit"]


def test_penny_names_take_cent_ticks() -> None:
    ch = chain("SPY")
    v = validate_ticket(
        fields(symbol="SPY", limit="2.53"),
        chain=ch,
        buying_power=Decimal(10000),
        now=NOW,
        max_contracts=10,
        known_symbols=KNOWN,
    )
    assert v.ok, v.errors
    v = validate_ticket(
        fields(symbol="SPY", limit="2.535"),
        chain=ch,
        buying_power=Decimal(10000),
        now=NOW,
        max_contracts=10,
        known_symbols=KNOWN,
    )
    assert "$0.01 tick" in v.errors["limit"]


def test_a_setting_adds_program_classes_and_a_file_replaces_the_list(tmp_path: Path) -> None:
    added = tick_table_for(None, ("roku",))
    assert added.added == {"ROKU"} and "+ 1 added" in added.caption
    assert option_tick("ROKU", Decimal("2.51"), added) == Decimal("0.01")
    assert option_tick("ROKU", Decimal("2.51")) == Decimal("0.05")  # the shipped list
    custom = tmp_path / "pip.json"
    custom.write_text(
        json.dumps(
            {
                "effective": "2027-01-04",
                "source": "test list",
                "penny_all_prices": ["SPY"],
                "program_classes": ["ROKU"],
            }
        )
    )
    table = tick_table_for(custom)
    assert table.effective == date(2027, 1, 4)
    assert option_tick("QQQ", Decimal("3.01"), table) == Decimal("0.10")  # not listed there
    assert option_tick("ROKU", Decimal("2.51"), table) == Decimal("0.01")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": "x", "penny_all_prices": [], "program_classes": []}, "'effective'"),
        ({"effective": "2026-07-01", "penny_all_prices": [], "program_classes": []}, "'source'"),
        ({"effective": "2026-07-01", "source": "x", "program_classes": []}, "'penny_all_prices'"),
        (
            {
                "effective": "2026-07-01",
                "source": "x",
                "penny_all_prices": ["SP Y"],
                "program_classes": [],
            },
            "not a ticker",
        ),
    ],
)
def test_a_bad_list_is_refused_with_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_tick_table(data)


def test_all_errors_reported_at_once_in_form_order() -> None:
    v = check(contracts="0", limit="-1", target="190", stop="210")
    assert list(v.errors) == ["contracts", "limit", "target", "stop"]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        check(now=datetime(2025, 12, 1, 15, 0))


@pytest.mark.parametrize(
    ("symbol", "price", "down", "out"),
    [
        ("AAPL", "2.537", True, "2.53"),
        ("AAPL", "2.531", False, "2.54"),
        ("AAPL", "2.53", False, "2.53"),  # on the grid: unchanged
        ("AAPL", "3.04", True, "3.00"),
        ("AAPL", "3.01", False, "3.05"),
        ("AAPL", "2.995", False, "3.00"),
        ("ROKU", "2.53", True, "2.50"),
        ("ROKU", "2.53", False, "2.55"),
        ("ROKU", "3.04", True, "3.00"),
        ("ROKU", "2.98", False, "3.00"),
        ("ROKU", "3.01", False, "3.10"),
        ("SPY", "3.011", False, "3.02"),
    ],
)
def test_round_to_tick(symbol: str, price: str, down: bool, out: str) -> None:
    assert round_to_tick(symbol, Decimal(price), down=down) == Decimal(out)


def test_warnings_do_not_block() -> None:
    v = check(limit="2.35")  # below the 2.40 bid
    assert v.ok and v.warnings and "below the bid" in v.warnings[0]


# ---- hostile and absurd input: bounded before any conversion -------------------------------


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"contracts": "1e2500000"}, "contracts", "At most 10 contracts"),
        ({"contracts": 10**100}, "contracts", "At most 10 contracts"),
        ({"contracts": Decimal("1e2500000")}, "contracts", "At most 10 contracts"),
        ({"limit": "1e27"}, "limit", "out of range"),
        ({"limit": "9" * 5000}, "limit", "too long (5000 characters)"),
        ({"limit": "1234567890.123456789012"}, "limit", "too many digits"),
        ({"limit": float("nan")}, "limit", "finite number"),
        ({"strike": "1e999999999"}, "strike", "out of range"),
        ({"strike": Decimal("1e999999999")}, "strike", "out of range"),
        ({"strike": "200.0001"}, "strike", "a price like 200"),
        ({"expiry": 20251219}, "expiry", "not a number"),
        ({"expiry": "2" * 5000}, "expiry", "must be a date"),
        ({"stop": "1e309"}, "stop", "out of range"),
        ({"stop": float("1e309")}, "stop", "finite number"),
        ({"stop": 10**40}, "stop", "far too large"),
        ({"target": "1e-20"}, "target", "out of range"),
        ({"entry": "5000"}, "entry", "not plausible for an underlying at 201.00"),
        ({"target": "1000"}, "target", "allowed 100.50 to 402.00"),
        ({"stop": "50", "entry": "201"}, "stop", "not plausible"),
        ({"limit": "250"}, "limit", "not plausible"),
        ({"entry": ["201"]}, "entry", "must be a number"),
    ],
)
def test_hostile_numbers_get_a_message_quickly(over: dict[str, Any], field: str, text: str) -> None:
    """Each of these froze a worker, answered 500 or sent an order with an infinite stop
    (issue 23). Now each is a per-field message and no ticket, with no big-number
    arithmetic on the way (the bounds are checked on the text)."""
    v = check(**over)
    assert not v.ok and v.ticket is None
    assert field in v.errors, v.errors
    assert text in v.errors[field]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("585.20", Decimal("585.20")),
        ("$1,234.5", Decimal("1234.5")),
        (2, Decimal(2)),
        (2.5, Decimal("2.5")),
        ("2e2", Decimal("200")),
        ("  .5 ", Decimal("0.5")),
    ],
)
def test_parse_bounded_accepts_ordinary_numbers(raw: Any, expected: Decimal) -> None:
    from dashboard.trading.ticket import parse_bounded

    assert parse_bounded(raw, "x") == (expected, None)


def test_parse_bounded_blank_is_no_value_and_no_message() -> None:
    from dashboard.trading.ticket import parse_bounded

    assert parse_bounded("", "x") == (None, None)
    assert parse_bounded(None, "x") == (None, None)
    assert parse_bounded(True, "x")[0] is None


# ---- the ticket against the current price (hand-worked, long and short) -----------------------
# Long: entry 201, stop 198, T1 205 → risk 3, reward 4, setup R:R 4/3.
# Short: entry 99, stop 101, T1 95 → risk 2, reward 4, setup R:R 2.


def long_at(price: float, triggered: bool = True, **kw: Any) -> PriceCheck:
    return check_against_price(
        "long", price=price, entry=201.0, stop=198.0, target=205.0, scan_triggered=triggered, **kw
    )


def short_at(price: float, triggered: bool = True) -> PriceCheck:
    return check_against_price(
        "short", price=price, entry=99.0, stop=101.0, target=95.0, scan_triggered=triggered
    )


def test_long_late_entry_warns_with_its_share_of_the_way_to_the_stop() -> None:
    c = long_at(199.20)  # (201 − 199.2) / 3 = 60 % of the way to the stop
    assert c.refusal is None and c.triggered
    assert c.to_stop == pytest.approx(0.60)
    assert c.to_target == pytest.approx(-0.45)  # (199.2 − 201) / 4
    assert c.remaining_rr == pytest.approx(5.8 / 1.2)  # (205 − 199.2) / (199.2 − 198)
    assert c.setup_rr == pytest.approx(4 / 3)
    assert c.warnings == (
        "Late entry: price 199.20 is 60% of the way from the entry 201.00 to the stop "
        "198.00 (warns above 50%).",
    )
    assert not long_at(199.20, limits=EntryLimits(late_share=0.65)).warnings


def test_long_poor_reward_risk_from_here_warns() -> None:
    c = long_at(204.00)  # (205 − 204) / (204 − 198) = 1/6
    assert c.refusal is None and c.to_stop == 0.0 and c.to_target == pytest.approx(0.75)
    assert c.remaining_rr == pytest.approx(1 / 6)
    assert c.warnings == (
        "Reward:risk from the current price 204.00 is 0.17 (T1 205.00, stop 198.00), below "
        "the 1.00 floor.",
    )


@pytest.mark.parametrize(("price", "what"), [(197.90, "stop"), (198.00, "stop"), (205.0, "T1")])
def test_long_refused_when_the_stop_traded_or_t1_reached(price: float, what: str) -> None:
    c = long_at(price)
    assert c.refusal is not None and c.refusal.startswith("Refused")
    assert (
        "stop has already traded" in c.refusal
        if what == "stop"
        else "already reached T1 205.00" in c.refusal
    )
    assert c.warnings == ()


def test_pending_long_is_pending_until_price_trades_the_trigger() -> None:
    c = long_at(200.00, triggered=False)
    assert c.pending and c.refusal is None
    assert c.to_stop == pytest.approx(1 / 3) and c.remaining_rr == pytest.approx(2.5)
    assert c.warnings == ()  # a pending setup is not a late entry
    assert not long_at(201.50, triggered=False).pending  # traded through since the scan
    # The AMZN case: pending, and the spot is already below the stop.
    assert "stop has already traded" in (long_at(197.0, triggered=False).refusal or "")


def test_short_mirrors_the_long() -> None:
    late = short_at(100.40)  # (100.4 − 99) / 2 = 70 % of the way to the stop
    assert late.to_stop == pytest.approx(0.70)
    assert late.remaining_rr == pytest.approx(5.4 / 0.6)  # (100.4 − 95) / (101 − 100.4)
    assert late.warnings and late.warnings[0].startswith("Late entry: price 100.40 is 70%")
    near = short_at(95.80)
    assert near.to_target == pytest.approx(0.8)  # (99 − 95.8) / 4
    assert near.remaining_rr == pytest.approx(0.8 / 5.2)
    assert "below the 1.00 floor" in near.warnings[0]
    assert "stop has already traded" in (short_at(101.20).refusal or "")
    assert "already reached T1 95.00" in (short_at(94.90).refusal or "")
    assert short_at(99.50, triggered=False).pending
    assert not short_at(98.90, triggered=False).pending


# ---- sizing by risk ------------------------------------------------------------------------------


def test_risk_budget_is_a_share_of_equity_or_a_fixed_amount() -> None:
    assert risk_budget(100_000.0, pct=1.0, dollars=None)[0] == pytest.approx(1000.0)
    assert risk_budget(100_000.0, pct=1.0, dollars=500.0)[0] == 500.0
    assert risk_budget(None, pct=1.0, dollars=None) == (None, "equity unavailable")


def test_size_by_risk_floors_and_caps() -> None:
    s = size_by_risk(340.0, budget=1000.0, max_contracts=10)  # 1000 / 340 = 2.94
    assert (s.contracts, s.capped) == (2, False)
    assert s.text.startswith("Sized by risk: 2 × $340 loss at the stop = $680 of $1,000")
    capped = size_by_risk(45.0, budget=1000.0, max_contracts=10)  # 22 fit
    assert (capped.contracts, capped.capped) == (10, True) and "capped at 10" in capped.text
    assert size_by_risk(250.0, budget=1000.0, max_contracts=10).contracts == 4  # exactly 4
    none = size_by_risk(1200.0, budget=1000.0, max_contracts=10)
    assert none.contracts == 0 and "more than the $1,000 budget" in none.text
    assert size_by_risk(None, budget=1000.0, max_contracts=10).contracts == 0
    assert size_by_risk(100.0, budget=None, max_contracts=10, budget_text="x").contracts == 0


def test_active_for_signal_finds_working_and_open_trades_only() -> None:
    base = SimpleNamespace(signal_id="sig-1", is_active=True)
    trades = [
        base,
        SimpleNamespace(signal_id="sig-1", is_active=False),  # closed
        SimpleNamespace(signal_id="sig-2", is_active=True),
    ]
    assert active_for_signal(trades, "sig-1") == [base]  # type: ignore[arg-type]
    assert active_for_signal(trades, None) == []  # type: ignore[arg-type]


# ---- the ticket's settings -------------------------------------------------------------------


def test_ticket_settings_defaults_and_overrides(tmp_path: Path) -> None:
    from dashboard.settings import load_settings

    s = load_settings({})
    assert (s.risk_per_trade_pct, s.risk_per_trade_dollars) == (1.0, None)
    assert (s.late_entry_share, s.min_remaining_rr, s.max_spread_pct) == (0.5, 1.0, 10.0)
    assert (s.penny_symbols, s.penny_file) == ((), None)
    custom = tmp_path / "pip.json"
    custom.write_text(
        '{"effective": "2027-01-04", "source": "t", "penny_all_prices": ["SPY"],'
        ' "program_classes": ["ROKU"]}'
    )
    s = load_settings(
        {
            "DASHBOARD_PENNY_SYMBOLS": " roku, hood ",
            "DASHBOARD_PENNY_FILE": str(custom),
            "DASHBOARD_RISK_PER_TRADE_DOLLARS": "750",
        }
    )
    assert s.penny_symbols == ("ROKU", "HOOD") and s.penny_file == custom
    assert s.risk_per_trade_dollars == 750.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DASHBOARD_PENNY_SYMBOLS": "AAPL,NOT A TICKER"}, "DASHBOARD_PENNY_SYMBOLS"),
        ({"DASHBOARD_PENNY_FILE": "/nonexistent/pip.json"}, "cannot read"),
        ({"DASHBOARD_LATE_ENTRY_SHARE": "1.5"}, "DASHBOARD_LATE_ENTRY_SHARE"),
        ({"DASHBOARD_RISK_PER_TRADE_PCT": "0"}, "DASHBOARD_RISK_PER_TRADE_PCT"),
    ],
)
def test_bad_ticket_settings_fail_in_one_line(env: dict[str, str], message: str) -> None:
    from dashboard.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_a_penny_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    from dashboard.settings import SettingsError, load_settings

    bad = tmp_path / "pip.json"
    bad.write_text("{not json")
    with pytest.raises(SettingsError, match=r"DASHBOARD_PENNY_FILE: .*is not JSON"):
        load_settings({"DASHBOARD_PENNY_FILE": str(bad)})
