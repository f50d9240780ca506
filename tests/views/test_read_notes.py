"""Status-line words for records a read left out, a chain's subscription, crypto outside
the option risk, and multi-leg orders in the Open orders grid."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from decimal import Decimal as D

import dashboard.views.read_notes as read_notes
from dashboard.models import (
    DataResult,
    DataState,
    GreeksCoverage,
    OptionChain,
    Order,
    OrderLeg,
    ParseReport,
    Position,
    Skipped,
)
from dashboard.views.read_notes import (
    asset_class_label,
    chain_note,
    greeks_note,
    option_risk_positions,
    order_confirm_symbol,
    order_contract_label,
    order_leg_rows,
    order_side_label,
    outside_option_risk_note,
    result_note,
    skipped_note,
)

NOW = datetime(2025, 11, 25, 15, 0, tzinfo=UTC)


def test_doctests() -> None:
    assert doctest.testmod(read_notes).failed == 0


def test_skipped_note_one_reason_and_several() -> None:
    assert skipped_note(ParseReport(3)) == ""
    one = ParseReport(3, (Skipped("position", "unknown asset class 'x'", 2),))
    assert skipped_note(one) == "2 records not shown: unknown asset class 'x'"
    single = ParseReport(3, (Skipped("order", "multi-leg order without legs", 1),))
    assert skipped_note(single) == "1 record not shown: multi-leg order without legs"
    two = ParseReport(
        9,
        (Skipped("position", "missing field 'qty'", 1), Skipped("position", "unknown asset class 'x'", 2)),
    )  # fmt: skip
    assert skipped_note(two) == (
        "3 records not shown: unknown asset class 'x' (2), missing field 'qty' (1)"
    )


def test_result_note_reads_the_report_on_the_result() -> None:
    report = ParseReport(2, (Skipped("position", "unknown asset class 'x'", 1),))
    res = DataResult((), "alpaca", NOW, DataState.EMPTY, report=report)
    assert result_note(res) == "1 record not shown: unknown asset class 'x'"


def _chain(coverage: GreeksCoverage | None, report: ParseReport = ParseReport()) -> OptionChain:
    return OptionChain("SPY", 600.0, (), "thetadata:v3", NOW, report=report, greeks=coverage)


def test_greeks_note_names_tier_and_what_it_lacks() -> None:
    standard = GreeksCoverage("thetadata:v3", "standard", "greeks/first_order", ("gamma",),
                              "gamma needs a ThetaData Pro subscription")  # fmt: skip
    assert greeks_note(standard) == "ThetaData Standard · gamma needs a ThetaData Pro subscription"
    value = GreeksCoverage("thetadata:v3", "value", None, ("iv", "delta"),
                           "IV and greeks need a ThetaData Standard subscription")  # fmt: skip
    assert greeks_note(value).startswith("ThetaData Value · IV and greeks need")
    assert greeks_note(GreeksCoverage("thetadata:v3", "pro", "greeks/all")) == "ThetaData Pro"
    down = GreeksCoverage("thetadata:v3", None, None, ("iv",), "greeks unavailable: busy")
    assert greeks_note(down) == "greeks unavailable: busy"
    assert greeks_note(None) == ""  # Alpaca: every greek, no subscription to name
    rows = ParseReport(10, (Skipped("chain row", "missing field 'strike'", 1),))
    assert chain_note(_chain(standard, rows)) == (
        "ThetaData Standard · gamma needs a ThetaData Pro subscription · "
        "1 record not shown: missing field 'strike'"
    )
    res = DataResult(_chain(standard), "thetadata:v3", NOW, DataState.FRESH)
    assert result_note(res).endswith("gamma needs a ThetaData Pro subscription")


def _pos(symbol: str, cls: str) -> Position:
    one = D(1)
    return Position(symbol, cls, one, "long", one, one, one, one, one, one, one, one)  # type: ignore[arg-type]


def test_crypto_is_listed_but_left_out_of_the_option_risk_with_a_note() -> None:
    held = [_pos("SPY", "us_equity"), _pos("SPY251219C00600000", "us_option"),
            _pos("BTCUSD", "crypto"), _pos("ETHUSD", "crypto"), _pos("BTC-PERP", "crypto_perp")]  # fmt: skip
    assert [p.symbol for p in option_risk_positions(held)] == ["SPY", "SPY251219C00600000"]
    assert outside_option_risk_note(held) == (
        "2 crypto positions (BTCUSD, ETHUSD); 1 crypto perp position (BTC-PERP) not in the "
        "option risk, which covers US stocks and options"
    )
    assert outside_option_risk_note(held[:2]) == ""
    assert [asset_class_label(p.asset_class) for p in held] == [
        "stock", "option", "crypto", "crypto", "crypto perp",
    ]  # fmt: skip


def _order(**kw: object) -> Order:
    base: dict = dict(
        id="mleg-1", client_order_id="c", symbol=None, asset_class=None, side=None,
        type="limit", time_in_force="day", status="new", qty=D(2), filled_qty=D(0),
        limit_price=D("1.05"), filled_avg_price=None, created_at=NOW, order_class="mleg",
        legs=(
            OrderLeg("l1", "SPY251219C00600000", "us_option", "buy", D(1), "new", "buy_to_open"),
            OrderLeg("l2", "SPY251219C00610000", "us_option", "sell", D(1), "new", "sell_to_open"),
        ),
    )  # fmt: skip
    base.update(kw)
    return Order(**base)


def test_multileg_order_reads_as_one_order_with_its_legs() -> None:
    o = _order()
    assert order_contract_label(o) == "+1 SPY Dec 19 '25 $600 C / −1 SPY Dec 19 '25 $610 C"
    assert order_side_label(o) == "2-leg spread"
    assert order_confirm_symbol(o) == "SPY"
    rows = order_leg_rows(o)
    assert [(r["symbol"], r["side"], r["qty"], r["position_intent"]) for r in rows] == [
        ("SPY251219C00600000", "buy", 2.0, "buy_to_open"),
        ("SPY251219C00610000", "sell", 2.0, "sell_to_open"),
    ]
    assert {r["order_id"] for r in rows} == {"mleg-1"}  # the cancel acts on the order


def test_simple_orders_read_as_before() -> None:
    stock = _order(symbol="SPY", asset_class="us_equity", side="buy", order_class="simple", legs=())
    assert order_contract_label(stock) == "SPY" and order_side_label(stock) == "buy"
    assert order_confirm_symbol(stock) == "SPY" and order_leg_rows(stock) == []
    opt = _order(symbol="SPY251219P00612500", asset_class="us_option", side="sell",
                 order_class="simple", legs=())  # fmt: skip
    assert order_contract_label(opt) == "SPY Dec 19 '25 $612.5 P"
    mixed = _order(legs=(OrderLeg("a", "SPY251219C00600000", "us_option", "buy", D(1), "new"),
                         OrderLeg("b", "QQQ251219C00500000", "us_option", "sell", D(1), "new")))  # fmt: skip
    assert order_confirm_symbol(mixed) == "mleg-1"


def test_status_text_carries_the_note() -> None:
    from dashboard.views.formatting import status_text

    report = ParseReport(3, (Skipped("position", "unknown asset class 'treasury'", 1),))
    res = DataResult((), "alpaca", NOW, DataState.FRESH, report=report)
    assert status_text(res).endswith(" · 1 record not shown: unknown asset class 'treasury'")
    clean = DataResult((), "alpaca", NOW, DataState.FRESH)
    assert "not shown" not in status_text(clean)
    standard = GreeksCoverage("thetadata:v3", "standard", "greeks/first_order", ("gamma",),
                              "gamma needs a ThetaData Pro subscription")  # fmt: skip
    chain = DataResult(_chain(standard), "thetadata:v3", NOW, DataState.FRESH)
    assert status_text(chain).endswith(
        "ThetaData Standard · gamma needs a ThetaData Pro subscription"
    )
    broken = DataResult(None, "alpaca", None, DataState.ERROR, "HTTP 500", report=report)
    assert status_text(broken) == "error · alpaca · HTTP 500"
