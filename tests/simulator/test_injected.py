"""Injected account records: served beside the broker's own, cancellable, never saved."""

from __future__ import annotations

import pytest

from dashboard.simulator.embedded import SimulatorHandle
from dashboard.simulator.injected import InjectedRecords

SPREAD = {
    "id": "mleg-1", "client_order_id": "c", "created_at": "2025-06-03T13:31:00Z",
    "symbol": "", "side": "", "asset_class": "", "order_class": "mleg", "type": "limit",
    "qty": "1", "limit_price": "1.05", "time_in_force": "day", "status": "new",
    "legs": [{"id": "leg-1", "symbol": "SPY250620C00600000", "side": "buy", "ratio_qty": "1",
              "status": "new"}],
}  # fmt: skip


def test_records_are_served_beside_the_brokers_and_cancel_like_alpaca(
    pinned_fresh: SimulatorHandle,
) -> None:
    h = pinned_fresh
    with h.client() as c:
        bad = c.post("/_sim/records", json={"kind": "accounts", "records": []})
        assert bad.status_code == 400
        ok = c.post("/_sim/records", json={"kind": "orders", "records": [SPREAD]})
        assert ok.json()["orders"][0]["id"] == "mleg-1"
        h.inject("positions", [{"symbol": "BTCUSD", "asset_class": "crypto"}])
        assert [p["symbol"] for p in c.get("/v2/positions").json()] == ["BTCUSD"]
        assert [o["id"] for o in c.get("/v2/orders", params={"status": "open"}).json()] == [
            "mleg-1"
        ]
        assert c.get("/v2/orders", params={"status": "closed"}).json() == []
        assert c.delete("/v2/orders/mleg-1").status_code == 204
        got = c.get("/v2/orders/mleg-1").json()
        assert got["status"] == "canceled" and got["legs"][0]["status"] == "canceled"
        assert got["canceled_at"] is not None
        assert c.delete("/v2/orders/mleg-1").status_code == 422
        assert c.get("/v2/orders", params={"status": "open"}).json() == []
        assert c.delete("/_sim/records").status_code == 204
        assert c.get("/v2/positions").json() == []
        assert c.get("/v2/orders/mleg-1").status_code == 404


def test_injected_fills_merge_into_the_activity_pages(pinned_fresh: SimulatorHandle) -> None:
    h = pinned_fresh
    fills = [
        {"id": f"20250603::{i}", "transaction_time": f"2025-06-0{i}T14:00:00Z", "type": "fill",
         "price": "1", "qty": "1", "side": "sell_short", "symbol": "TSLA", "order_id": "o",
         "leaves_qty": "0", "cum_qty": "1"}
        for i in (1, 2, 3)
    ]  # fmt: skip
    h.inject("fills", fills)
    with h.client() as c:
        first = c.get("/v2/account/activities/FILL", params={"page_size": 2}).json()
        rest = c.get(
            "/v2/account/activities/FILL", params={"page_size": 2, "page_token": first[-1]["id"]}
        ).json()
    assert [a["id"] for a in first + rest] == ["20250603::3", "20250603::2", "20250603::1"]
    assert all(a["activity_type"] == "FILL" and "_ts" not in a for a in first + rest)


def test_records_must_be_a_list_of_a_known_kind() -> None:
    r = InjectedRecords()
    with pytest.raises(ValueError):
        r.set("positions", {"not": "a list"})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        r.set("trades", [])
    r.set("orders", ["junk"])
    assert r.orders("open") == ["junk"]  # served as is: the app must cope
