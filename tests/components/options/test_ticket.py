"""The ticket's check, review and send paths against the simulator: an invalid ticket
shows its messages and sends nothing; a valid one is reviewed, then sent exactly once."""

from __future__ import annotations

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options import ticket as T
from tests.components.options.conftest import OptionsTab


def test_invalid_ticket_shows_messages_and_sends_nothing(tab: OptionsTab) -> None:
    # contracts 0, negative limit, target below entry for a long
    values = tab.ticket(contracts=0, limit=-1, target=1.0)
    out = T.check_ticket(tab.services, tab.reads, values, None)
    assert set(out) == set(T.CHECK_OUTPUTS)
    assert out["contracts_error"] and out["limit_error"] and out["target_error"]
    assert out["review_disabled"] is True
    assert out["state"] == "3 issue(s) to fix · 09:30:00 ET"  # the broker clock, New York
    with pytest.raises(PreventUpdate):
        T.review(tab.services, tab.reads, values, None, cancelled=False)
    toast = T.submit(tab.services, tab.reads, values, None, "nonce-1", None)
    assert toast[1] == "Order not sent" and "invalid" in toast[2] and toast[3] == "danger"
    assert tab.orders() == []
    assert tab.services.journal.list_trades() == []


def test_blank_ticket_asks_for_a_start() -> None:
    out = T.check_ticket(None, None, {"symbol": ""}, None)  # type: ignore[arg-type]
    assert out["review_disabled"] is True and out["state"].startswith("Pick a signal")


def test_valid_ticket_is_ready_with_a_projection(tab: OptionsTab) -> None:
    out = T.check_ticket(tab.services, tab.reads, tab.ticket(), None)
    assert all(out[f"{f}_error"] == "" for f in T.FORM_FIELDS), out
    assert out["review_disabled"] is False
    assert out["state"].startswith("Ready: BUY TO OPEN 1 × SPY")
    assert "options-projection-table" in str(out["projection"])
    assert "Max loss $" in str(out["projection"])


def test_review_shows_the_exact_order_and_a_fresh_nonce(tab: OptionsTab) -> None:
    values = tab.ticket()
    is_open, body, live_style, nonce = T.review(tab.services, tab.reads, values, None, False)
    assert is_open is True and live_style == {"display": "none"}  # demo: no typed confirm
    assert "BUY TO OPEN 1 × SPY" in str(body) and "exit monitor" in str(body)
    again = T.review(tab.services, tab.reads, values, None, False)[3]
    assert nonce and again and nonce != again  # one key per review
    assert T.review(tab.services, tab.reads, values, None, True) == (
        False,
        no_update,
        no_update,
        None,
    )


def test_submit_sends_one_order_per_review(tab: OptionsTab) -> None:
    values = tab.ticket()
    nonce = T.review(tab.services, tab.reads, values, None, False)[3]
    sent = T.submit(tab.services, tab.reads, values, None, nonce, None)
    assert sent[:2] == (True, "Order sent") and sent[3] == "success" and sent[4] is False
    again = T.submit(tab.services, tab.reads, values, None, nonce, None)  # a double click
    assert again[1] == "Order sent"
    orders = tab.orders()
    assert len(orders) == 1 and orders[0]["side"] == "buy"
    assert float(orders[0]["limit_price"]) == pytest.approx(values["limit"])
    [trade] = tab.services.journal.list_trades()
    assert trade.entry_client_order_id == orders[0]["client_order_id"]
    assert (trade.entry_level, trade.target_level, trade.stop_level) == (
        pytest.approx(values["entry"]),
        pytest.approx(values["target"]),
        pytest.approx(values["stop"]),
    )


def test_a_trade_from_a_signal_keeps_its_tfc_and_level_rules(tab: OptionsTab) -> None:
    """Signal board row → ticket → order: the journal row carries the signal's TFC and the
    rules its levels came from."""
    from dataclasses import replace

    from dashboard.components.options.signals import load_signal
    from dashboard.data_loaders.loop import run_async
    from dashboard.strat.board import SignalRow
    from dashboard.views.options.signals import signal_grid_rows

    tab.sim.advance_to_open()
    tab.sim.advance(30)
    spot = run_async(tab.services.data.fetch_option_chain("SPY")).value.underlying_price
    signal = SignalRow(
        id="sig-4-4-down", category="triggered", symbol="SPY", timeframe="1Day",
        pattern="2-1-2", label="2D-1-2D", direction="short", status="triggered",
        price=spot, entry=spot, stop=spot * 1.01, target1=spot * 0.98, target2=None,
        reward_risk=2.0, magnitude_pct=2.0, tfc_score=-4, tfc_n=4, tfc_aligned=True,
        setup_time=None, triggered_at=None, entry_rule="setup-bar low - 1 tick",
        stop_rule="setup-bar high", target_rule="previous swing low",
    )  # fmt: skip
    (row,) = signal_grid_rows([signal], "all")
    loaded = load_signal(tab.reads, [row], None)
    assert loaded["expiry"] and loaded["strike"] and loaded["limit"], loaded["why"]
    values = {
        "symbol": loaded["symbol"],
        "direction": loaded["direction"],
        "contracts": 1,
        "expiry": loaded["expiry"],
        "strike": loaded["strike"],
        "limit": loaded["limit"],
        "entry": loaded["entry"],
        "target": loaded["target"],
        "stop": loaded["stop"],
    }
    out = T.submit(tab.services, tab.reads, values, loaded["signal"], "nonce-tfc", None)
    assert out[1] == "Order sent", out[2]
    (trade,) = tab.services.journal.list_trades()
    assert trade.signal_id == "sig-4-4-down" and trade.pattern == "2D-1-2D"
    assert trade.tfc == "4/4 ↓"
    assert trade.rules == (
        "entry: setup-bar low - 1 tick; stop: setup-bar high; target: previous swing low"
    )
    # Unknown continuity is stored as unknown, not as the board's "—".
    no_tfc = replace(signal, tfc_score=None, tfc_n=None)
    assert signal_grid_rows([no_tfc], "all")[0]["plan_tfc"] is None
