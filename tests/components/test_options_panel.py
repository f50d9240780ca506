"""Options Trading tab: pure view helpers (hand-worked values) and callbacks on the simulator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard.components.options_panel import (
    chain_rows,
    pnl_summary,
    selection_expiries,
    suggested_limit,
    trade_view,
)
from dashboard.data_loaders.loop import run_async
from dashboard.services import build_services
from tests.conftest import settings_for
from tests.options._chains import make_chain, make_quote

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 ET


def test_suggested_limit_rounds_the_mid_up_to_the_contracts_tick() -> None:
    q = make_quote(date(2026, 12, 18), "C", 600, spot=600, now=NOW)
    q = replace(q, bid=1.20, ask=1.25)  # SPY: penny ticks
    assert suggested_limit(q) == 1.23
    aapl = replace(q, contract=replace(q.contract, underlying="AAPL"), bid=2.40, ask=2.60)
    assert suggested_limit(aapl) == 2.50  # nickel below $3
    aapl_hi = replace(aapl, bid=3.21, ask=3.31)
    assert suggested_limit(aapl_hi) == 3.30  # dime at/above $3


def test_selection_expiries_prefer_the_middle_of_the_dte_window() -> None:
    expiries = [(NOW + timedelta(days=d)).date() for d in (7, 14, 30, 44, 60)]
    picks = selection_expiries(expiries, "1Day", NOW)  # window 14–45 DTE, middle 29.5
    assert [(e - NOW.date()).days for e in picks] == [30, 44, 14]
    none_inside = [(NOW + timedelta(days=d)).date() for d in (3, 50, 90)]
    assert [(e - NOW.date()).days for e in selection_expiries(none_inside, "1Day", NOW)] == [50]


def test_chain_rows_pair_calls_and_puts_and_flag_the_strike_nearest_spot() -> None:
    expiry = date(2026, 12, 18)
    chain = make_chain([expiry], [580, 590, 600, 610, 650], spot=603.0, now=NOW)
    rows, spot = chain_rows(chain, expiry, moneyness_pct=2.0)
    assert spot == 603.0
    assert [r["strike"] for r in rows] == [600.0, 610.0]  # 590 is 2.2% away, 650 further
    assert [r.get("atm", False) for r in rows] == [True, False]
    assert rows[0]["c_symbol"] == "SPY261218C00600000"
    assert rows[0]["p_symbol"] == "SPY261218P00600000"
    assert rows[0]["c_delta"] > 0 > rows[0]["p_delta"]


def _trade(**kw: object) -> SimpleNamespace:
    base = dict(
        direction="long",
        entry_level=100.0,
        target_level=110.0,
        stop_level=95.0,
        entry_fill_price=Decimal("2.00"),
        open_qty=3,
        closed_qty=0,
        realized_pnl=Decimal(0),
        status="open",
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_trade_view_progress_and_pnl_by_hand() -> None:
    view = trade_view(_trade(), underlying=104.0, option_mid=2.50)
    assert view.progress == pytest.approx(0.4)  # 4 of 10 to target
    assert view.r_now == pytest.approx(0.8)  # 4 / 5 risk
    assert view.pnl == pytest.approx(150.0)  # (2.50 − 2.00) × 100 × 3
    assert view.pnl_pct == pytest.approx(25.0)
    short = trade_view(_trade(direction="short", target_level=90.0, stop_level=105.0), 102.5, 1.0)
    assert short.progress == pytest.approx(-0.5)  # half the risk gone
    assert short.pnl == pytest.approx(-300.0)


def test_pnl_summary_splits_realised_and_unrealised() -> None:
    closed_win = _trade(status="closed", closed_qty=1, realized_pnl=Decimal("120.50"), open_qty=0)
    closed_loss = _trade(status="closed", closed_qty=2, realized_pnl=Decimal("-80"), open_qty=0)
    live = _trade()
    views = [trade_view(live, 104.0, 2.50)]
    s = pnl_summary([closed_win, closed_loss, live], views)
    assert s.realised == pytest.approx(40.5)
    assert s.unrealised == pytest.approx(150.0)
    assert s.total == pytest.approx(190.5)
    assert (s.wins, s.losses, s.best, s.worst) == (1, 1, 120.5, -80.0)


def _callback(app, output_fragment: str):
    for key, spec in app.callback_map.items():
        if output_fragment in key:
            return spec["callback"].__wrapped__
    raise KeyError(output_fragment)


@pytest.fixture
def options_app(fresh_sim, tmp_path: Path):
    from dashboard.app import create_app

    settings = settings_for(fresh_sim, tmp_path).with_overrides(simulator_url=fresh_sim.url)
    services = build_services(settings, exit_monitor=False)
    yield create_app(services=services), services, fresh_sim
    services.close()


def test_invalid_ticket_shows_messages_and_sends_nothing(options_app) -> None:
    app, services, sim = options_app
    check = _callback(app, "options-review.disabled")
    chain = run_async(services.data.fetch_option_chain("SPY")).value
    quote = next(q for q in chain.quotes if q.contract.right == "C")
    expiry = quote.contract.expiry.isoformat()
    strike = str(quote.contract.strike.normalize())
    # contracts 0, negative limit, target below entry for a long
    out = check("SPY", "long", 0, expiry, strike, -1, 600.0, 590.0, 580.0, None)
    errors = dict(
        zip(("symbol", "direction", "contracts", "expiry", "strike", "limit"), out[:6], strict=True)
    )
    assert errors["contracts"] and errors["limit"]
    assert out[7]  # target error
    assert out[11] is True  # review stays disabled
    orders = sim.client().get("/v2/orders", params={"status": "all"}).json()
    assert orders == []


def test_valid_ticket_is_ready_with_a_projection(options_app) -> None:
    app, services, _sim = options_app
    check = _callback(app, "options-review.disabled")
    chain = run_async(services.data.fetch_option_chain("SPY")).value
    spot = chain.underlying_price
    quote = min(
        (q for q in chain.quotes if q.contract.right == "C"),
        key=lambda q: abs(float(q.contract.strike) - spot),
    )
    out = check(
        "SPY",
        "long",
        1,
        quote.contract.expiry.isoformat(),
        str(quote.contract.strike.normalize()),
        round(quote.ask, 2),
        round(spot, 2),
        round(spot * 1.01, 2),
        round(spot * 0.99, 2),
        None,
    )
    assert all(msg == "" for msg in out[:9]), out[:9]
    assert out[11] is False
    assert out[12].startswith("Ready: BUY TO OPEN 1 × SPY")
    assert "options-projection-table" in str(out[9])


def test_flow_rows_aggregate_hand_made_prints() -> None:
    from dashboard.components.options_panel import flow_rows

    expiry = date(2026, 12, 18)
    base = make_quote(expiry, "C", 600, spot=600, now=NOW)
    quiet = replace(base, volume=0)
    call = replace(base, bid=2.00, ask=2.10, last=2.10, volume=500, open_interest=1000)
    put_q = make_quote(expiry, "P", 590, spot=600, now=NOW)
    put = replace(put_q, bid=1.00, ask=1.04, last=1.00, volume=3000, open_interest=1500)
    rows = flow_rows([quiet, call, put])
    assert [r["right"] for r in rows] == ["P", "C"]  # sorted by premium traded
    p, c = rows
    assert p["premium"] == 3000 * 1.02 * 100  # volume × mid × 100
    assert c["premium"] == 500 * 2.05 * 100
    assert (p["vol_oi"], c["vol_oi"]) == (2.0, 0.5)
    assert (p["side"], c["side"]) == ("bid", "ask")  # last at the bid / at the ask


def test_chain_rows_match_the_simulators_snapshot(sim, tmp_path: Path) -> None:
    """Grid cells equal the broker's own snapshot fields for the same contract."""
    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        chain = run_async(services.data.fetch_option_chain("SPY")).value
        expiry = chain.quotes[0].contract.expiry
        rows, _spot = chain_rows(chain, expiry, moneyness_pct=3.0)
        atm = next(r for r in rows if r.get("atm"))
        snap = (
            sim.client()
            .get("/v1beta1/options/snapshots", params={"symbols": atm["c_symbol"]})
            .json()["snapshots"][atm["c_symbol"]]
        )
        quote = snap["latestQuote"]
        assert atm["c_bid"] == quote["bp"] and atm["c_ask"] == quote["ap"]
        assert atm["c_mid"] == round((quote["bp"] + quote["ap"]) / 2, 2)
        assert atm["c_delta"] == round(snap["greeks"]["delta"], 3)
        assert atm["c_iv"] == round(snap["impliedVolatility"] * 100, 1)
    finally:
        services.close()


def test_cards_keep_order_under_the_cap_and_show_those_nearest_an_exit_past_it() -> None:
    from dashboard.components.options_panel import cards_to_show

    prices = [101.0, 109.0, 96.0, None, 104.0]  # progress 0.1, 0.9, -0.8, none, 0.4
    views = [trade_view(_trade(id=i), p, 2.0) for i, p in enumerate(prices)]
    assert [v.trade.id for v in cards_to_show(views, cap=5)] == [0, 1, 2, 3, 4]
    assert [v.trade.id for v in cards_to_show(views, cap=3)] == [1, 2, 4]


def test_a_trade_from_a_signal_keeps_its_tfc_and_level_rules(options_app) -> None:
    """Signal board row → ticket → order: the journal row carries the signal's TFC and the
    rules its levels came from (they were NULL before)."""
    from dashboard.components.options_panel import signal_grid_rows
    from dashboard.strat.board import SignalRow

    app, services, sim = options_app
    sim.advance_to_open()
    sim.advance(30)
    spot = run_async(services.data.fetch_option_chain("SPY")).value.underlying_price
    signal = SignalRow(
        id="sig-4-4-down", category="triggered", symbol="SPY", timeframe="1Day",
        pattern="2-1-2", label="2D-1-2D", direction="short", status="triggered",
        price=spot, entry=spot, stop=spot * 1.01, target1=spot * 0.98, target2=None,
        reward_risk=2.0, magnitude_pct=2.0, tfc_score=-4, tfc_n=4, tfc_aligned=True,
        setup_time=None, triggered_at=None, entry_rule="setup-bar low - 1 tick",
        stop_rule="setup-bar high", target_rule="previous swing low",
    )  # fmt: skip
    (row,) = signal_grid_rows([signal], "all")
    load = _callback(app, "options-contract-why.children")
    (symbol, direction, entry, target, stop, _eo, expiry, _so, strike, limit, why, _t,
     selected) = load([row], None)  # fmt: skip
    assert expiry and strike and limit, why
    submit = _callback(app, "options-toast.is_open")
    out = submit(1, symbol, direction, 1, expiry, strike, limit, entry, target, stop,
                 selected, "nonce-tfc", None)  # fmt: skip
    assert out[1] == "Order sent", out[2]
    (trade,) = services.extras["journal"].list_trades()
    assert trade.signal_id == "sig-4-4-down" and trade.pattern == "2D-1-2D"
    assert trade.tfc == "4/4 ↓"
    assert trade.rules == (
        "entry: setup-bar low - 1 tick; stop: setup-bar high; target: previous swing low"
    )
    # Unknown continuity is stored as unknown, not as the board's "—".
    no_tfc = replace(signal, tfc_score=None, tfc_n=None)
    assert signal_grid_rows([no_tfc], "all")[0]["plan_tfc"] is None
