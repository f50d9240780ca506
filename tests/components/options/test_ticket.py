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
    assert out["state"].endswith("issue(s) to fix")
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
