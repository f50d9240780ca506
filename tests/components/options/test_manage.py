"""Managing an active trade against the simulator: close now sends one sell to close, a
broker-held stop is placed from the Manage modal, and the registered closures hand their
inputs to the named functions."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from dashboard.components.options import manage as M
from dashboard.components.options import trades as TR
from tests.components.options.conftest import OptionsTab


def test_close_now_sends_one_sell_to_close(tab: OptionsTab) -> None:
    trade_id = tab.open_trade()
    closed = M.manage(tab.services, trade_id, True, None, None)
    assert closed[1] == "Close sent" and closed[3] == "success"
    sells = [o for o in tab.orders() if o["side"] == "sell"]
    assert len(sells) == 1
    again = M.manage(tab.services, trade_id, True, None, None)
    assert again[1] == "Close not sent"  # already exiting: never a second exit
    assert len([o for o in tab.orders() if o["side"] == "sell"]) == 1


def test_broker_stop_from_manage_and_the_new_closures(
    tab: OptionsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    trade_id = tab.open_trade()
    bad = M.place_stop(tab.services, trade_id, "-1", "")
    assert bad[6] == "Enter a price above zero." and bad[7] == ""
    assert [o for o in tab.orders() if o["type"] == "stop"] == []
    placed = M.place_stop(tab.services, trade_id, "0.05", "")
    assert placed[1] == "Broker stop placed", placed[2]
    [stop] = [o for o in tab.orders() if o["type"] == "stop"]
    assert stop["side"] == "sell" and stop["stop_price"] == "0.05"
    shown = TR.refresh_trades(tab.services)
    assert "Broker-held stop at $0.05" in str(shown["cards"])
    with pytest.raises(PreventUpdate):
        M.place_stop(tab.services, None, "1", "")
    with pytest.raises(PreventUpdate):
        TR.disarm(tab.services, None)

    from dash import Dash

    seen: dict[str, tuple[object, ...]] = {}
    monkeypatch.setattr(M, "place_stop", lambda *a: seen.__setitem__("place_stop", a))
    monkeypatch.setattr(TR, "disarm", lambda *a: seen.__setitem__("disarm", a))
    fresh = Dash(__name__)
    TR.register(fresh, tab.services)
    M.register(fresh, tab.services)
    key = next(k for k in fresh.callback_map if "options-broker-stop-price-error" in k)
    fresh.callback_map[key]["callback"].__wrapped__(1, 7, "1.10", "")
    assert seen["place_stop"] == (tab.services, 7, "1.10", "")
