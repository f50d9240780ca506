"""Order-ticket validation: every rule, in both directions, with the message it shows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dashboard.trading.ticket.records import TicketValidation
from dashboard.trading.ticket.validation import validate_ticket

from .._fixtures import NOW, chain, fields

KNOWN = ("SPY", "QQQ", "IWM", "AAPL")


def check(
    bp: str | None = "10000",
    *,
    ch: Any = "default",
    now: datetime = NOW,
    cap: int = 10,
    **over: Any,
) -> TicketValidation:
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


# ---- the limit on its class's tick grid (the grids themselves: test_ticks.py) --------------


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


def test_all_errors_reported_at_once_in_form_order() -> None:
    v = check(contracts="0", limit="-1", target="190", stop="210")
    assert list(v.errors) == ["contracts", "limit", "target", "stop"]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        check(now=datetime(2025, 12, 1, 15, 0))


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
