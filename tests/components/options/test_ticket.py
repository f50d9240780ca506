"""The ticket's check, review and send paths against the simulator: an invalid ticket
shows its messages and sends nothing; a valid one is reviewed, then sent exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options import ticket as T
from dashboard.components.options.signals import load_signal
from dashboard.data_loaders.loop import run_async
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
    from dashboard.strat.board import UNKNOWN_TFC, SignalRow, SignalTfc
    from dashboard.strat.continuity import TimeframeState
    from dashboard.views.options.signals import signal_grid_rows

    tab.sim.advance_to_open()
    tab.sim.advance(30)
    spot = run_async(tab.services.data.fetch_option_chain("SPY")).value.underlying_price
    # Every higher timeframe of a daily short is red: TFC aligned with the trade.
    red = tuple(
        TimeframeState(tf, spot * 1.02, spot, -1, -spot * 0.02)
        for tf in ("1Week", "1Month", "1Quarter")
    )
    signal = SignalRow(
        id="sig-3-3-down", category="triggered", symbol="SPY", timeframe="1Day",
        pattern="2-1-2", label="2D-1-2D", direction="short", status="triggered",
        price=spot, entry=spot, stop=spot * 1.01, target1=spot * 0.98, target2=None,
        reward_risk=2.0, magnitude_pct=2.0, magnitude_atr=1.5,
        tfc=SignalTfc("aligned", 3, 0, red),
        setup_time=None, triggered_at=None, entry_rule="setup-bar low - 1 tick",
        stop_rule="setup-bar high", target_rule="previous swing low",
        trigger_pct=0.0, to_t1_pct=2.0, to_stop_pct=1.0, rr_now=2.0,
    )  # fmt: skip
    (row,) = signal_grid_rows([signal])
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
    assert trade.signal_id == "sig-3-3-down" and trade.pattern == "2D-1-2D"
    assert trade.tfc == "aligned 3/3 W,M,Q"
    assert trade.rules == (
        "entry: setup-bar low - 1 tick; stop: setup-bar high; target: previous swing low"
    )
    # Unknown continuity is stored as unknown, not as the board's "—".
    no_tfc = replace(signal, tfc=UNKNOWN_TFC)
    assert signal_grid_rows([no_tfc])[0]["plan_tfc"] is None


# ---- binding, refusal, pending, duplicate guard, sizing (issue 19) ------------------------------

FORM_KEYS = ("symbol", "direction", "expiry", "strike", "limit", "entry", "target", "stop")


def _signal_row(tab: OptionsTab, *, status: str = "triggered", **levels: float) -> dict[str, Any]:
    """A SPY long signal as the board's grid row, levels relative to the current price."""
    from dashboard.strat.board import UNKNOWN_TFC, SignalRow
    from dashboard.views.options.signals import signal_grid_rows

    spot = _spot(tab)
    signal = SignalRow(
        id=f"sig-{status}", category=status, symbol="SPY", timeframe="1Day",  # type: ignore[arg-type]
        pattern="2-1-2", label="2D-1-2U", direction="long", status=status,
        price=spot, entry=levels.get("entry", round(spot - 0.5, 2)),
        stop=levels.get("stop", round(spot * 0.99, 2)),
        target1=levels.get("target", round(spot * 1.02, 2)), target2=None,
        reward_risk=2.0, magnitude_pct=2.0, magnitude_atr=1.0, tfc=UNKNOWN_TFC,
        setup_time=None, triggered_at=None, entry_rule="setup-bar high + 1 tick",
        stop_rule="setup-bar low", target_rule="previous bar high",
        trigger_pct=0.1, to_t1_pct=2.0, to_stop_pct=1.0, rr_now=2.0,
    )  # fmt: skip
    (row,) = signal_grid_rows([signal])
    return row


def _spot(tab: OptionsTab) -> float:
    chain = run_async(tab.services.data.fetch_option_chain("SPY")).value
    assert chain is not None and chain.underlying_price is not None
    return chain.underlying_price


def _load(tab: OptionsTab, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load ``row`` as the board does, then bind the ticket to it: (form, binding)."""
    loaded = load_signal(tab.reads, [row], None)
    assert loaded["strike"] and loaded["limit"], loaded["why"]
    form = {k: loaded[k] for k in FORM_KEYS}
    extra = {
        "signal": loaded["signal"],
        "expiry_options": loaded["expiry_options"],
        "strike_options": loaded["strike_options"],
        "why": loaded["why"],
        "signal_text": "",
    }
    out = T.on_binding_input(
        tab.services, tab.reads, {"options-selected-signal"}, form, extra, [row], None
    )
    binding = out["binding"]
    assert binding["state"] == "bound" and binding["status"] == row["status"]
    return {**form, "contracts": out["contracts"]}, binding


@pytest.fixture
def opened(tab: OptionsTab) -> OptionsTab:
    tab.sim.advance_to_open()
    tab.sim.advance(30)
    return tab


def test_a_loaded_signal_binds_and_is_sized_by_risk(opened: OptionsTab) -> None:
    form, binding = _load(opened, _signal_row(opened))
    assert isinstance(form["contracts"], int) and 1 <= form["contracts"] <= 10
    out = T.check_ticket(opened.services, opened.reads, form, binding)
    assert out["state"].startswith("Ready: BUY TO OPEN"), out
    assert out["sizing"].startswith(f"Sized by risk: {form['contracts']} × $")
    assert "% of equity" in out["sizing"]
    assert "bid " in str(out["quote"]) and "mark (mid)" in str(out["quote"])
    assert "Price now" in str(out["price"]) and "ET, broker clock" in str(out["price"])


def test_typing_another_underlying_clears_the_signals_levels(opened: OptionsTab) -> None:
    form, binding = _load(opened, _signal_row(opened))
    typed = {**form, "symbol": "QQQ"}
    out = T.on_binding_input(
        opened.services, opened.reads, {"options-symbol"}, typed, {}, None, binding
    )
    assert out["binding"]["state"] == "unbound"
    for key in ("entry", "target", "stop", "limit", "strike", "expiry", "contracts"):
        assert out[key] is None, key
    assert out["why"] == "" and out["signal_text"] == ""
    assert out["expiry_options"] and all("DTE" in o["label"] for o in out["expiry_options"])
    assert "you changed the underlying to QQQ" in str(out["binding_text"])
    # Had the old levels survived (a stale page), no order could carry them.
    stale = T.check_ticket(opened.services, opened.reads, typed, out["binding"])
    assert "T1 of the SPY 2D-1-2U 1Day long signal" in stale["target_error"]
    assert stale["review_disabled"] is True
    toast = T.submit(opened.services, opened.reads, typed, out["binding"], "n-qqq", None)
    assert toast[1] == "Order not sent" and opened.orders() == []
    # Reset to signal restores it, bound again.
    back = T.on_binding_input(
        opened.services, opened.reads, {"options-ticket-reset"}, typed, {}, None, out["binding"]
    )
    assert back["binding"]["state"] == "bound"
    assert {k: back[k] for k in FORM_KEYS} == {k: form[k] for k in FORM_KEYS}


def test_a_direction_change_unbinds_too(opened: OptionsTab) -> None:
    form, binding = _load(opened, _signal_row(opened))
    out = T.on_binding_input(
        opened.services, opened.reads, {"options-direction"}, {**form, "direction": "short"},
        {}, None, binding,
    )  # fmt: skip
    assert out["binding"]["state"] == "unbound" and out["entry"] is None
    assert out["limit"] is None and out["strike"] is None


def test_a_ticket_whose_stop_has_traded_is_refused(opened: OptionsTab) -> None:
    spot = _spot(opened)
    row = _signal_row(opened, entry=round(spot + 2, 2), stop=round(spot + 0.5, 2),
                      target=round(spot + 6, 2), status="pending")  # fmt: skip
    form, binding = _load(opened, row)
    form["contracts"] = form["contracts"] or 1
    out = T.check_ticket(opened.services, opened.reads, form, binding)
    assert out["review_disabled"] is True and out["state"].startswith("Refused")
    assert "the stop has already traded" in str(out["price"])
    with pytest.raises(PreventUpdate):
        T.review(opened.services, opened.reads, form, binding, False)
    assert T.submit(opened.services, opened.reads, form, binding, "n-ref", None)[1] == (
        "Order not sent"
    )
    assert opened.orders() == []


def test_a_pending_signal_says_so_before_it_is_sent(opened: OptionsTab) -> None:
    spot = _spot(opened)
    row = _signal_row(opened, entry=round(spot + 0.4, 2), stop=round(spot * 0.98, 2),
                      target=round(spot * 1.03, 2), status="pending")  # fmt: skip
    form, binding = _load(opened, row)
    out = T.check_ticket(opened.services, opened.reads, form, binding)
    assert "PENDING signal: buys before the trigger has traded" in out["state"]
    assert "PENDING setup: the trigger" in str(out["price"])
    body = T.review(opened.services, opened.reads, form, binding, False)[1]
    assert "PENDING setup" in str(body)


def test_a_second_send_of_the_same_signal_needs_the_override(opened: OptionsTab) -> None:
    form, binding = _load(opened, _signal_row(opened))
    first = T.submit_outputs(opened.services, opened.reads, form, binding, "n-1", None)
    assert first["toast_header"] == "Order sent", first["toast_body"]
    # The ticket resets: nothing, quantity included, carries over.
    assert all(first[k] is None for k in T.RESET_FIELDS)
    assert first["binding"]["state"] == "sent" and first["override"] is False
    (trade,) = opened.services.journal.list_trades()
    assert trade.signal_id == "sig-triggered" and trade.is_active
    # Reset to signal, then try again: blocked until the override is ticked.
    again = T.on_binding_input(
        opened.services, opened.reads, {"options-ticket-reset"}, {}, {}, None, first["binding"]
    )
    form2 = {**{k: again[k] for k in FORM_KEYS}, "contracts": again["contracts"]}
    out = T.check_ticket(opened.services, opened.reads, form2, again["binding"])
    assert out["review_disabled"] is True and out["state"].startswith("Blocked: duplicate")
    assert out["dup_style"] == {"display": "block"}
    assert (
        f"#{trade.id} (pending_entry)" in out["dup_text"]
        or f"#{trade.id} (open)" in out["dup_text"]
    )
    blocked = T.submit(opened.services, opened.reads, form2, again["binding"], "n-2", None)
    assert blocked[1] == "Order not sent" and "override" in blocked[2]
    assert len(opened.orders()) == 1
    # The first send's second click (same review, same nonce) is that send, not a duplicate.
    repeat = T.submit_outputs(opened.services, opened.reads, form, binding, "n-1", None)
    assert repeat["toast_header"] == "Order sent" and f"trade #{trade.id}" in repeat["toast_body"]
    assert repeat["binding"]["state"] == "sent" and len(opened.orders()) == 1
    # The second click's look came before the first journaled its trade (two requests in
    # flight): its assessment then sees that trade as a duplicate, and the answer is still
    # the first send's, not "Order not sent".
    journal = opened.services.journal
    looks: list[str] = []

    def late(key: str) -> Any:
        looks.append(key)
        return None if len(looks) == 1 else type(journal).by_request_key(journal, key)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(journal, "by_request_key", late)
        raced = T.submit_outputs(opened.services, opened.reads, form, binding, "n-1", None)
    assert looks == ["n-1", "n-1"]
    assert raced["toast_header"] == "Order sent", raced["toast_body"]
    assert f"Already submitted: trade #{trade.id}" in raced["toast_body"]
    assert raced["binding"]["state"] == "sent" and len(opened.orders()) == 1
    ok = T.check_ticket(opened.services, opened.reads, form2, again["binding"], override=True)
    assert ok["review_disabled"] is False and ok["state"].startswith("Ready:")
    sent = T.submit(opened.services, opened.reads, form2, again["binding"], "n-3", None, True)
    assert sent[1] == "Order sent" and len(opened.orders()) == 2


def test_registered_callbacks_hand_their_inputs_to_the_named_functions(
    tab: OptionsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each closure bound in ``register`` passes the form by field name, the binding, the
    override and what fired to its named function."""
    from types import SimpleNamespace

    from dash import Dash

    from dashboard.components.options.ticket import callbacks as TC

    seen: dict[str, tuple[Any, ...]] = {}
    for name in ("on_binding_input", "check_ticket", "review", "submit"):
        monkeypatch.setattr(TC, name, lambda *a, _n=name: seen.__setitem__(_n, a) or _n)
    monkeypatch.setattr(
        TC,
        "ctx",
        SimpleNamespace(
            triggered_prop_ids={"options-symbol.value": "options-symbol"},
            triggered_id="options-confirm-cancel",
        ),
    )
    app = Dash(__name__)
    T.register(app, tab.services, tab.reads)
    form = ("SPY", "long", 2, "2026-12-18", "600", 1.25, 600.0, 606.0, 597.0)
    binding = {"id": "s1", "state": "bound"}

    def call(fragment: str, *args: Any) -> Any:
        key = next(k for k in app.callback_map if fragment in k)
        return app.callback_map[key]["callback"].__wrapped__(*args)

    call("options-ticket-reset.disabled", {"id": "s1"}, None, "QQQ", "long",
         600.0, 606.0, 597.0, 1.25, "2026-12-18", "600", [], [], "why", "sig", [], binding)  # fmt: skip
    services, _reads, trigger, values, extra, rows, got = seen["on_binding_input"]
    assert services is tab.services and rows == []
    assert trigger == {"options-symbol"} and values["symbol"] == "QQQ"
    assert values["limit"] == 1.25 and extra["signal"] == {"id": "s1"} and got == binding
    call("options-ticket-sizing.children", *form, True, 3, binding)
    _s, _r, values, got, override = seen["check_ticket"]
    assert values["strike"] == "600" and got == binding and override is True
    call("options-confirm-body.children", 1, None, *form, binding, None)
    assert seen["review"][3:] == (binding, True, False)  # cancelled by the cancel button
    call("options-dup-override.value", 1, *form, binding, True, "nonce", "SPY")
    assert seen["submit"][3:] == (binding, "nonce", "SPY", True)
