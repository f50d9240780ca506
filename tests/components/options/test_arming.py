""" "Arm at trigger" against the simulator: enabled only for a pending signal loaded in
the ticket, records one armed entry per signal, shows it in Active trades with its
distance to the trigger, and Cancel disarms it with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from dash.exceptions import PreventUpdate

from dashboard.components.options import arming as A
from dashboard.components.options import signals as S
from dashboard.components.options import trades as TR
from dashboard.data_loaders.loop import run_async
from dashboard.signal_scan import scan_signals
from dashboard.trading.arming import ArmingStatus, DisarmReason
from tests.components.options.conftest import OptionsTab


def _loaded(tab: OptionsTab, status: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(signal store, ticket values) for the first board row with ``status``, as the
    board's Load fills them."""
    board = run_async(scan_signals(tab.services.data, tab.services.settings.watchlist))
    rows = S.signal_grid_rows(board.rows)
    # A pending row whose price has already gone through its trigger is entered now, not
    # armed: take one at least 0.5% short of it (the simulated market moves between the
    # scan's bars and the arming check's latest trade).
    row = next(
        (
            r
            for r in rows
            if r["status"] == status
            and r["target1"] is not None
            and (status != "pending" or (r["trigger_pct"] or 0.0) >= 0.5)
        ),
        None,
    )
    if row is None:
        return None
    out = S.load_signal(tab.reads, [row], None)
    values = {
        "symbol": out["symbol"],
        "direction": out["direction"],
        "expiry": out["expiry"],
        "strike": out["strike"],
        "contracts": 1,
        "limit": out["limit"],
    }
    return out["signal"], values


NO_CAPS = {"max_premium": None, "max_slippage": None, "rule": "fixed"}


def test_arming_a_pending_signal_records_one_armed_entry(tab: OptionsTab) -> None:
    loaded = _loaded(tab, "pending")
    if loaded is None:
        pytest.skip("the seeded board has no pending setup")
    signal, values = loaded
    disabled, text, _, _ = A.check(tab.services, tab.reads, signal, values, NO_CAPS)
    assert not disabled and text.startswith("Ready to arm:"), text
    # Bad limits: a message under the field, and the button stays off.
    bad = A.check(tab.services, tab.reads, signal, values, {**NO_CAPS, "max_premium": "-1"})
    assert bad[0] and bad[2] == "Enter a price above zero."
    # Another symbol typed into the ticket unbinds it from the signal.
    other = A.check(tab.services, tab.reads, signal, {**values, "symbol": "QQQX"}, NO_CAPS)
    assert other[0] and "no longer matches" in other[1]

    out = A.arm(tab.services, tab.reads, signal, values, {**NO_CAPS, "max_premium": "50"})
    assert out[1] == "Armed", out[2]
    [entry] = tab.services.journal.active_armed()
    assert entry.signal_id == signal["id"] and entry.quantity == 1
    assert str(entry.max_premium) == "50.00" and entry.status is ArmingStatus.ARMED
    assert entry.expires_at > entry.armed_at
    assert tab.orders() == []  # nothing is sent by arming
    again = A.arm(tab.services, tab.reads, signal, values, NO_CAPS)
    assert again[1] == "Not armed" and "already has an active armed entry" in again[2]

    shown = TR.refresh_trades(tab.services)
    assert f"options-armed-{entry.id}" in str(shown["armed"])
    assert "to the trigger" in str(shown["armed"])
    gone = TR.disarm(tab.services, entry.id)
    assert gone[1] == "Disarmed"
    after = tab.services.journal.armed_entry(entry.id)
    assert after is not None and after.reason is DisarmReason.USER_CANCELLED
    assert "cancelled by the user" in str(TR.refresh_trades(tab.services)["disarmed"])
    assert TR.disarm(tab.services, entry.id)[1] == "Not cancelled"


def test_a_triggered_signal_is_not_armed_and_nothing_loaded_disables(tab: OptionsTab) -> None:
    assert A.check(tab.services, tab.reads, None, {}, NO_CAPS)[0]
    loaded = _loaded(tab, "triggered")
    if loaded is None:
        pytest.skip("the seeded board has no triggered setup")
    signal, values = loaded
    disabled, text, _, _ = A.check(tab.services, tab.reads, signal, values, NO_CAPS)
    assert disabled and "Only a pending setup can be armed" in text
    assert A.arm(tab.services, tab.reads, signal, values, NO_CAPS)[1] == "Not armed"
    assert tab.services.journal.active_armed() == []


def test_register_binds_each_closure_to_its_function(
    tab: OptionsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dash import Dash

    seen: dict[str, tuple[Any, ...]] = {}
    for name in ("check", "arm"):
        monkeypatch.setattr(A, name, lambda *a, _n=name: seen.__setitem__(_n, a) or _n)
    fresh = Dash(__name__)
    A.register(fresh, tab.services, tab.reads)
    form = ("SPY", "long", "2026-12-18", "600", 1, 2.5)
    check_key = next(k for k in fresh.callback_map if "options-arm.disabled" in k)
    fresh.callback_map[check_key]["callback"].__wrapped__({"id": "s"}, *form, "5", None, "fixed")
    arm_key = next(k for k in fresh.callback_map if "options-trades-version" in k)
    fresh.callback_map[arm_key]["callback"].__wrapped__(1, {"id": "s"}, *form, "5", None, "fixed")
    values = dict(zip(A.FORM_IDS, form, strict=True))
    caps = {"max_premium": "5", "max_slippage": None, "rule": "fixed"}
    assert seen["check"] == (tab.services, tab.reads, {"id": "s"}, values, caps)
    assert seen["arm"] == (tab.services, tab.reads, {"id": "s"}, values, caps)
    with pytest.raises(PreventUpdate):
        fresh.callback_map[arm_key]["callback"].__wrapped__(None, None, *form, None, None, None)
