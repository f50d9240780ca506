"""Active trades, their P&L and managing one, against the simulator's fills."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from dashboard.components.options import ticket as T
from dashboard.components.options import trades as TR
from dashboard.data_loaders.loop import run_async
from dashboard.trading.orders import reconcile
from tests.components.options.conftest import OptionsTab


def _open_trade(tab: OptionsTab) -> int:
    values = tab.ticket()
    nonce = T.review(tab.services, tab.reads, values, None, False)[3]
    assert T.submit(tab.services, tab.reads, values, None, nonce, None)[1] == "Order sent"
    tab.sim.advance(2)  # the simulator fills a marketable limit on its next step
    run_async(reconcile(tab.services.data, tab.services.journal))
    [trade] = tab.services.journal.active_trades()
    return trade.id


def test_refresh_without_trades_says_so(tab: OptionsTab) -> None:
    out = TR.refresh_trades(tab.services)
    assert set(out) == set(TR.TRADES_OUTPUTS)
    assert out["count"] == "0" and "No active trades" in str(out["cards"])
    assert out["journal"] == [] and "no trades yet" in str(out["journal_status"])
    assert out["total"] == "$0.00"


def test_refresh_shows_the_open_trade_and_manage_saves_levels(tab: OptionsTab) -> None:
    trade_id = _open_trade(tab)
    out = TR.refresh_trades(tab.services)
    assert out["count"] == "1"
    assert f"options-trade-{trade_id}" in str(out["cards"])
    assert len(out["journal"]) == 1 and out["journal"][0]["id"] == trade_id
    assert out["progress"].data  # the trade is on the progress chart

    is_open, body, tid, target, stop, stop_px, why = TR.open_manage(
        tab.services, trade_id, cancelled=False
    )
    assert is_open and tid == trade_id and "entry" in str(body)
    # The broker stop's default is the projection's option value at the underlying stop.
    assert stop_px is not None and stop_px > 0 and "Projection" in why
    with pytest.raises(PreventUpdate):
        TR.open_manage(tab.services, 10_000, cancelled=False)

    # a long's target below its entry is refused, and nothing changes
    bad = TR.manage(tab.services, trade_id, False, stop - 1.0, stop)
    assert bad[1] == "Levels not saved" and "wrong side" in bad[2] and bad[3] == "danger"
    assert tab.services.journal.get(trade_id).target_level == pytest.approx(target)
    missing = TR.manage(tab.services, trade_id, False, "", stop)
    assert missing[6] == "Enter a number."

    saved = TR.manage(tab.services, trade_id, False, target + 1.0, stop)
    assert saved[1] == "Levels saved"
    assert tab.services.journal.get(trade_id).target_level == pytest.approx(target + 1.0)


def test_close_now_sends_one_sell_to_close(tab: OptionsTab) -> None:
    trade_id = _open_trade(tab)
    closed = TR.manage(tab.services, trade_id, True, None, None)
    assert closed[1] == "Close sent" and closed[3] == "success"
    sells = [o for o in tab.orders() if o["side"] == "sell"]
    assert len(sells) == 1
    again = TR.manage(tab.services, trade_id, True, None, None)
    assert again[1] == "Close not sent"  # already exiting: never a second exit
    assert len([o for o in tab.orders() if o["side"] == "sell"]) == 1


def test_broker_stop_from_manage_and_the_new_closures(
    tab: OptionsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    trade_id = _open_trade(tab)
    bad = TR.place_stop(tab.services, trade_id, "-1", "")
    assert bad[6] == "Enter a price above zero." and bad[7] == ""
    assert [o for o in tab.orders() if o["type"] == "stop"] == []
    placed = TR.place_stop(tab.services, trade_id, "0.05", "")
    assert placed[1] == "Broker stop placed", placed[2]
    [stop] = [o for o in tab.orders() if o["type"] == "stop"]
    assert stop["side"] == "sell" and stop["stop_price"] == "0.05"
    shown = TR.refresh_trades(tab.services)
    assert "Broker-held stop at $0.05" in str(shown["cards"])
    with pytest.raises(PreventUpdate):
        TR.place_stop(tab.services, None, "1", "")
    with pytest.raises(PreventUpdate):
        TR.disarm(tab.services, None)

    from dash import Dash

    seen: dict[str, tuple[object, ...]] = {}
    for name in ("place_stop", "disarm"):
        monkeypatch.setattr(TR, name, lambda *a, _n=name: seen.__setitem__(_n, a) or _n)
    fresh = Dash(__name__)
    TR.register(fresh, tab.services)
    key = next(k for k in fresh.callback_map if "options-broker-stop-price-error" in k)
    fresh.callback_map[key]["callback"].__wrapped__(1, 7, "1.10", "")
    assert seen["place_stop"] == (tab.services, 7, "1.10", "")
