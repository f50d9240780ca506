"""The order ticket's view: limits on the contract's tick, expiries for selection, the
projection and the payoff, all on hand-made chains with hand-checked numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dashboard.options.expiry import years_to_expiry
from dashboard.options.projection import expected_hold_days
from dashboard.views.options import ticket as T
from tests.options._chains import make_chain, make_quote

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 ET
EXPIRY = date(2026, 12, 18)


def test_suggested_limit_rounds_the_mid_up_to_the_contracts_tick() -> None:
    q = make_quote(EXPIRY, "C", 600, spot=600, now=NOW)
    q = replace(q, bid=1.20, ask=1.25)  # SPY: penny ticks
    assert T.suggested_limit(q) == 1.23
    aapl = replace(q, contract=replace(q.contract, underlying="AAPL"), bid=2.40, ask=2.60)
    assert T.suggested_limit(aapl) == 2.50  # nickel below $3
    aapl_hi = replace(aapl, bid=3.21, ask=3.31)
    assert T.suggested_limit(aapl_hi) == 3.30  # dime at/above $3
    assert T.suggested_limit(replace(q, bid=0.0, ask=0.0)) is None  # no two-sided market


def test_selection_expiries_prefer_the_middle_of_the_dte_window() -> None:
    expiries = [(NOW + timedelta(days=d)).date() for d in (7, 14, 30, 44, 60)]
    picks = T.selection_expiries(expiries, "1Day", NOW)  # window 14–45 DTE, middle 29.5
    assert [(e - NOW.date()).days for e in picks] == [30, 44, 14]
    none_inside = [(NOW + timedelta(days=d)).date() for d in (3, 50, 90)]
    assert [(e - NOW.date()).days for e in T.selection_expiries(none_inside, "1Day", NOW)] == [50]


def test_parse_float_refuses_junk_and_infinities() -> None:
    assert T.parse_float("1.5") == 1.5 and T.parse_float(2) == 2.0
    for bad in (None, "", "abc", "1e999", float("nan"), "inf"):
        assert T.parse_float(bad) is None
    assert T.parse_expiry("2026-12-18") == EXPIRY and T.parse_expiry("12/18") is None


def test_fill_from_chain_suggests_a_contract_and_says_why() -> None:
    chain = make_chain([EXPIRY], [590, 595, 600, 605, 610], spot=601.0, now=NOW)
    fill = T.fill_from_chain(chain, "long", "1Day", NOW, 601.0)
    assert fill.expiry == EXPIRY and fill.expiries == [EXPIRY]
    assert fill.strike is not None and fill.strikes == sorted(fill.strikes)
    assert fill.why.startswith("Suggested SPY Dec 18 '26")
    assert fill.limit is not None and fill.limit > 0
    none = T.fill_from_chain(chain, "long", "1Month", NOW, 601.0)  # 24 DTE is too short
    assert none.strike is None and none.why.startswith("No contract suggested")


def test_hold_days_is_the_timeframes_hold_capped_at_expiry() -> None:
    assert T.hold_days("1Week", 1.0) == expected_hold_days("1Week")
    assert T.hold_days(None, 1.0) == T.DEFAULT_HOLD_DAYS  # a typed-in ticket
    assert T.hold_days("1Month", 2 / 365) == pytest.approx(2 - 0.01)  # never past expiry
    assert T.hold_days("1Day", 0.0) == 0.0


def test_projection_view_max_loss_is_the_premium_and_r_is_reward_over_risk() -> None:
    q = make_quote(EXPIRY, "C", 600, spot=600, now=NOW, iv=0.2)
    limit = round(q.ask, 2)
    view = T.projection_view(
        q, spot=600.0, now=NOW, stop=594.0, target=612.0, target2=None,
        timeframe="1Day", limit=limit, contracts=2,
    )  # fmt: skip
    assert view.max_loss == pytest.approx(limit * 100 * 2)
    p = view.projection
    assert p is not None and set(p.levels) == {"T1", "stop"}
    assert p.r_multiple == pytest.approx(p.levels["T1"].pnl / -p.levels["stop"].pnl)
    assert view.summary.startswith(f"Max loss ${limit * 200:,.0f} (premium) · hold ")
    assert f" · R {p.r_multiple:.2f}" in view.summary
    assert "IV 20.0%" in view.summary
    no_iv = T.projection_view(
        replace(q, iv=None), spot=600.0, now=NOW, stop=594.0, target=612.0, target2=None,
        timeframe=None, limit=5.0, contracts=1,
    )  # fmt: skip
    assert no_iv.projection is None and "no implied volatility" in no_iv.summary


def test_payoff_view_band_brackets_the_curve_and_today_is_at_zero_days() -> None:
    q = make_quote(EXPIRY, "P", 600, spot=600, now=NOW, iv=0.25)
    view = T.payoff_view(
        q, premium=8.0, spot=600.0, iv=0.25, now=NOW, timeframe="1Week", contracts=0
    )
    years = years_to_expiry(EXPIRY, NOW)
    assert view.hold == pytest.approx(T.hold_days("1Week", years))
    assert view.contracts == 1  # at least one contract is drawn
    lo, hi = view.band
    assert lo.pnl_at_time is not None and hi.pnl_at_time is not None
    assert view.curve.pnl_at_time is not None
    mid = len(view.curve.prices) // 2  # near the money, vega is largest
    assert lo.pnl_at_time[mid] < view.curve.pnl_at_time[mid] < hi.pnl_at_time[mid]
    assert view.today.days_forward == 0.0


def test_payoff_frame_spans_stop_to_t2_with_a_margin() -> None:
    # A SPY put: stop 600, entry 589, T1 580, T2 560, spot 590. Span 40, 15% = 6 a side.
    lo, hi = T.payoff_frame(spot=590.0, strike=585.0, levels=[589.0, 580.0, 560.0, 600.0])
    assert (lo, hi) == pytest.approx((554.0, 606.0))
    # Levels cents apart: at least 2% of spot, centred on them.
    lo, hi = T.payoff_frame(spot=100.0, strike=90.0, levels=[100.0, 100.1, 99.9])
    assert (lo, hi) == pytest.approx((99.0, 101.0))
    # No levels (a typed-in ticket): spot to the strike.
    lo, hi = T.payoff_frame(spot=100.0, strike=110.0, levels=[None, float("nan")])
    assert (lo, hi) == pytest.approx((98.5, 111.5))


def test_payoff_view_prices_cover_the_frame() -> None:
    q = make_quote(EXPIRY, "P", 600, spot=600, now=NOW, iv=0.25)
    view = T.payoff_view(
        q, premium=8.0, spot=600.0, iv=0.25, now=NOW, timeframe="1Day", contracts=1,
        levels=[599.0, 590.0, 580.0, 606.0],
    )  # fmt: skip
    prices = list(view.curve.prices)
    assert len(prices) == T.PAYOFF_POINTS
    assert (prices[0], prices[-1]) == pytest.approx(T.payoff_frame(
        spot=600.0, strike=600.0, levels=[599.0, 590.0, 580.0, 606.0]
    ))  # fmt: skip
    assert list(view.band[0].prices) == prices and list(view.today.prices) == prices


def test_ticket_fields_take_the_plan_only_from_the_same_symbol() -> None:
    signal = {"symbol": "SPY", "label": "2D-2U", "timeframe": "1Day", "id": "s1", "target2": 610}
    same = T.ticket_fields({"symbol": " spy "}, signal)
    assert (same["pattern"], same["timeframe"], same["signal_id"]) == ("2D-2U", "1Day", "s1")
    other = T.ticket_fields({"symbol": "QQQ"}, signal)
    assert "pattern" not in other and "signal_id" not in other


def test_expiry_and_strike_options_label_dte_and_moneyness() -> None:
    [opt] = T.expiry_options([EXPIRY], NOW)
    assert opt == {"label": "Fri Dec 18 '26 (24 DTE)", "value": "2026-12-18"}
    strikes = T.strike_options([Decimal("595"), Decimal("602.5")], 600.0)
    assert [s["label"] for s in strikes] == ["$595 (ITM)", "$602.5"]


def test_suggested_limit_uses_the_penny_program_list() -> None:
    q = make_quote(EXPIRY, "C", 200, spot=200, now=NOW, root="AAPL")
    aapl = replace(q, bid=2.51, ask=2.54)  # mid 2.525: program class, penny below $3
    assert T.suggested_limit(aapl) == 2.53
    roku = replace(aapl, contract=replace(aapl.contract, underlying="ROKU"))
    assert T.suggested_limit(roku) == 2.55  # outside the program: nickel below $3


# ---- binding ---------------------------------------------------------------------------------

PLAN = {
    "id": "sig-aapl",
    "symbol": "AAPL",
    "timeframe": "1Day",
    "label": "2D-1-2U",
    "pattern": "2-1-2",
    "direction": "long",
    "target2": 248.0,
    "tfc": "3/4 ↑",
    "rules": "entry: setup-bar high + 1 tick",
}
ROW = {"id": "sig-aapl", "status": "triggered", "entry": 240.1, "stop": 236.5, "target1": 245.75}
FORM = {
    "symbol": "AAPL",
    "direction": "long",
    "entry": 240.1,
    "target": 245.75,
    "stop": 236.5,
    "limit": 4.35,
    "expiry": "2026-12-18",
    "strike": "240",
    "why": "Suggested AAPL Dec 18 '26 $240 C: delta 0.55",
}


def test_bind_records_the_signals_levels_status_and_contract() -> None:
    b = T.bind(PLAN, ROW, FORM)
    assert b["state"] == "bound" and b["status"] == "triggered"
    assert (b["entry"], b["target"], b["stop"], b["target2"]) == (240.1, 245.75, 236.5, 248.0)
    assert (b["limit"], b["expiry"], b["strike"]) == (4.35, "2026-12-18", "240")
    assert T.is_bound(b, FORM) and T.is_bound(b, {**FORM, "symbol": " aapl "})
    assert not T.is_bound(b, {**FORM, "symbol": "SPY"})
    assert not T.is_bound(b, {**FORM, "direction": "short"})  # the contract side changed
    assert not T.is_bound(T.unbind(b, FORM), FORM)  # unbound stays unbound until reset


def test_the_plan_rides_only_on_a_bound_ticket() -> None:
    b = T.bind(PLAN, ROW, FORM)
    fields = T.ticket_fields(FORM, b)
    assert (fields["signal_id"], fields["target2"], fields["tfc"]) == ("sig-aapl", 248.0, "3/4 ↑")
    for other in ({**FORM, "symbol": "SPY"}, {**FORM, "direction": "short"}):
        assert "signal_id" not in T.ticket_fields(other, b)
        assert "target2" not in T.ticket_fields(other, b)
    assert "signal_id" not in T.ticket_fields(FORM, T.unbind(b, FORM))


def test_unbound_text_names_the_signal_and_the_change() -> None:
    b = T.bind(PLAN, ROW, FORM)
    assert T.unbound_text(b, {**FORM, "symbol": "SPY"}) == (
        "Unbound from the AAPL 2D-1-2U 1Day long signal: you changed the underlying to SPY. "
        "Its entry, stop, T1, T2, limit, contract and reason were cleared; enter new levels, "
        "or Reset to signal."
    )
    assert "the direction to short (puts)" in T.unbound_text(b, {**FORM, "direction": "short"})


def test_another_symbol_can_not_carry_the_signals_levels() -> None:
    b = T.bind(PLAN, ROW, FORM)
    assert T.foreign_levels(FORM, b) == {}  # bound: they are this ticket's levels
    spy = {**FORM, "symbol": "SPY", "entry": 586.0}
    out = T.foreign_levels(spy, b)
    assert set(out) == {"target", "stop"}  # entry was re-typed, T1 and stop were not
    assert out["target"].startswith("245.75 is the T1 of the AAPL 2D-1-2U 1Day long signal")
    assert set(T.foreign_levels({**FORM, "direction": "short"}, b)) == {"entry", "target", "stop"}
    assert T.foreign_levels(spy, None) == {}


# ---- the live quote and the price against the levels -------------------------------------------


def test_quote_view_shows_mark_spread_and_age_on_the_broker_clock() -> None:
    q = make_quote(EXPIRY, "C", 600, spot=600, now=NOW)
    q = replace(q, bid=1.20, ask=1.30, as_of=NOW - timedelta(seconds=12))
    v = T.quote_view(q, NOW, max_spread_pct=10.0)  # spread 0.10 / mark 1.25 = 8 %
    assert v.mark == pytest.approx(1.25) and v.spread_pct == pytest.approx(8.0)
    assert v.age_seconds == pytest.approx(12.0) and v.warning is None
    assert v.text == (
        "SPY Dec 18 '26 $600 C · bid 1.20 · ask 1.30 · mark (mid) 1.25 · "
        "spread 0.10 (8.0% of mark) · quote 09:59:48 ET, 12 s old"
    )
    wide = T.quote_view(replace(q, bid=1.00, ask=1.50), NOW, max_spread_pct=10.0)
    assert wide.spread_pct == pytest.approx(40.0)
    assert wide.warning is not None and wide.warning.startswith("Wide market: the spread is 40.0%")
    one_sided = T.quote_view(replace(q, bid=None, as_of=None), NOW, 10.0)
    assert one_sided.mark is None and "No two-sided market" in (one_sided.warning or "")
    assert "quote time not given" in one_sided.text


def test_price_lines_and_the_pending_notice() -> None:
    from dashboard.trading.ticket import check_against_price

    c = check_against_price(
        "long", price=200.0, entry=201.0, stop=198.0, target=205.0, scan_triggered=False
    )
    assert T.price_lines(c) == [
        "Price now 200.00 · trigger 201.00: not traded yet, 1.00 below",
        "T1 205.00: 5.00 away (-25% of the way from the entry) · stop 198.00: 2.00 away "
        "(33% of the way from the entry)",
        "Reward:risk (underlying) from here 2.50 · from the setup's entry 1.33",
    ]
    assert T.pending_text(c).startswith("PENDING setup: the trigger 201.00 has not traded")


def test_price_lines_say_traded_and_reached_beyond_the_levels() -> None:
    from dashboard.trading.ticket import check_against_price

    stopped = check_against_price(  # the refused short of the e2e: price above its stop
        "short", price=230.28, entry=227.79, stop=229.80, target=225.92, scan_triggered=False
    )
    assert stopped.refusal is not None
    assert T.price_lines(stopped)[1] == (
        "T1 225.92: 4.36 away (-133% of the way from the entry) · stop 229.80: traded "
        "(price 0.48 beyond it)"
    )
    spent = check_against_price(
        "long", price=206.0, entry=201.0, stop=198.0, target=205.0, scan_triggered=True
    )
    assert T.price_lines(spent)[1].startswith("T1 205.00: reached (price 1.00 beyond it)")
