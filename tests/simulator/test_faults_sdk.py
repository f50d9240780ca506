"""Fault injection, alpaca-py's TradingClient over real HTTP, and snapshot save/restore."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from dashboard.simulator.embedded import SimulatorConfig, SimulatorHandle, start_simulator_thread
from dashboard.simulator.faults import FaultConfig, FaultInjector


# ---- faults ------------------------------------------------------------------------------------
def test_latency_applies_only_to_matching_routes(fresh_sim: SimulatorHandle) -> None:
    fresh_sim.set_faults({"latency_ms": 300, "routes": "/v2/clock"})
    with fresh_sim.client() as c:
        t0 = time.perf_counter()
        assert c.get("/v2/clock").status_code == 200
        slow = time.perf_counter() - t0
        assert c.get("/v2/account").status_code == 200
    assert slow >= 0.3  # the injected delay is a floor, whatever the machine's load
    # Which routes are delayed is the injector's decision, not a stopwatch's.
    injector = FaultInjector(FaultConfig(latency_ms=300, routes="/v2/clock"))
    assert injector.decide("/v2/clock").delay_s == 0.3
    assert injector.decide("/v2/account").delay_s == 0.0


def test_server_errors_and_clearing_through_the_admin_route(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        r = c.post("/_sim/faults", json={"error_rate": 1.0, "status": 503, "routes": "/v2/*"})
        assert r.status_code == 200
        bad = c.get("/v2/account")
        assert bad.status_code == 503
        assert bad.json()["message"] == "service unavailable"
        assert c.get("/_sim/state").status_code == 200  # admin routes never fault
        assert c.delete("/_sim/faults").status_code == 204
        assert c.get("/v2/account").status_code == 200
        assert c.post("/_sim/faults", json={"bogus": 1}).status_code == 422


def test_rate_limit_fault_sends_retry_after(fresh_sim: SimulatorHandle) -> None:
    fresh_sim.set_faults({"rate_limit": True, "retry_after": 7, "count": 2})
    with fresh_sim.client() as c:
        for _ in range(2):
            r = c.get("/v2/positions")
            assert r.status_code == 429
            assert r.headers["Retry-After"] == "7"
            assert r.headers["X-RateLimit-Remaining"] == "0"
        ok = c.get("/v2/positions")  # the fault was limited to two requests
    assert ok.status_code == 200
    assert int(ok.headers["X-RateLimit-Limit"]) == 200


def test_malformed_json_and_dropped_connections(fresh_sim: SimulatorHandle) -> None:
    fresh_sim.set_faults({"malformed_json": True, "routes": "/v2/account"})
    with fresh_sim.client() as c:
        r = c.get("/v2/account")
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
        fresh_sim.set_faults({"drop_connection": True, "routes": "/v2/clock"})
        with pytest.raises(httpx.TransportError):
            c.get("/v2/clock")
        fresh_sim.clear_faults()
        assert c.get("/v2/clock").status_code == 200
        assert c.get("/_sim/faults").json() is None


def test_error_rate_is_seeded(fresh_sim: SimulatorHandle) -> None:
    def run() -> list[int]:
        fresh_sim.set_faults({"error_rate": 0.5, "routes": "/v2/clock"}, seed=3)
        with fresh_sim.client() as c:
            return [c.get("/v2/clock").status_code for _ in range(16)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500}


# ---- alpaca-py ---------------------------------------------------------------------------------
def test_alpaca_py_trading_client_round_trip(fresh_sim: SimulatorHandle) -> None:
    client = TradingClient("sim-key", "sim-secret", paper=True, url_override=fresh_sim.url)
    account = client.get_account()
    assert float(account.equity) == 100_000.0
    assert client.get_clock().is_open
    order = client.submit_order(
        MarketOrderRequest(
            symbol="SPY", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
            client_order_id="sdk-1",
        )
    )  # fmt: skip
    assert order.status == OrderStatus.FILLED and order.filled_qty == "5"
    resting = client.submit_order(
        LimitOrderRequest(
            symbol="QQQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
            limit_price=1.0,
        )
    )  # fmt: skip
    client.cancel_order_by_id(resting.id)
    orders = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert {str(o.id) for o in orders} == {str(order.id), str(resting.id)}
    assert client.get_order_by_client_id("sdk-1").id == order.id
    [pos] = client.get_all_positions()
    assert pos.symbol == "SPY" and pos.qty == "5"
    with pytest.raises(APIError) as dup:
        client.submit_order(
            MarketOrderRequest(
                symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
                client_order_id="sdk-1",
            )
        )  # fmt: skip
    assert dup.value.status_code == 422
    closing = client.close_position("SPY")
    assert closing.side == OrderSide.SELL and closing.qty == "5"
    assert client.get_all_positions() == []


def test_alpaca_py_option_order(fresh_sim: SimulatorHandle) -> None:
    client = TradingClient("k", "s", paper=True, url_override=fresh_sim.url)
    symbol = next(iter(fresh_sim.sim.chains.listings("QQQ", fresh_sim.now()))).symbol
    order = client.submit_order(
        MarketOrderRequest(symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert order.status == OrderStatus.FILLED
    [pos] = client.get_all_positions()
    assert pos.symbol == symbol and pos.asset_class.value == "us_option"


# ---- snapshot ----------------------------------------------------------------------------------
def test_snapshot_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    start = datetime(2025, 6, 3, 13, 30, tzinfo=UTC)
    cfg = SimulatorConfig(seed=9, speed=0, port=0, start=start, snapshot_path=path)
    with start_simulator_thread(cfg) as first, first.client() as c:
        c.post("/v2/orders", json={"symbol": "AMZN", "qty": "7", "side": "buy",
                                   "type": "market", "time_in_force": "day"})  # fmt: skip
        first.advance(30)
        before = (c.get("/v2/account").json(), c.get("/v2/positions").json(),
                  c.get("/v2/orders", params={"status": "all"}).json())  # fmt: skip
    assert path.exists()
    # A restart with another seed and start still restores the saved ones.
    cfg2 = SimulatorConfig(seed=1, speed=0, port=0, snapshot_path=path)
    with start_simulator_thread(cfg2) as second:
        assert second.now() == datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
        assert second.sim.seed == 9
        with second.client() as c:
            after = (c.get("/v2/account").json(), c.get("/v2/positions").json(),
                     c.get("/v2/orders", params={"status": "all"}).json())  # fmt: skip
    assert after == before


def test_enforced_rate_limit_is_a_sliding_minute_on_alpaca_routes_only(
    fresh_sim: SimulatorHandle,
) -> None:
    """``rate_limit_per_minute``: Alpaca's per-account limit over any 60 s (not per
    calendar minute), refused requests included; ThetaData's routes never count."""
    from dashboard.simulator.faults import RateCounter

    now = [1_000_000.0 + 59.0]  # one second before a calendar minute turns
    fresh_sim.sim.faults.rate = RateCounter(clock=lambda: now[0])
    fresh_sim.set_faults({"rate_limit_per_minute": 5})
    with fresh_sim.client() as c:
        assert [c.get("/v2/clock").status_code for _ in range(5)] == [200] * 5
        theta = c.get("/v3/option/list/expirations", params={"symbol": "SPY"})
        assert theta.status_code == 200 and "X-RateLimit-Limit" not in theta.headers
        now[0] += 2.0  # a new calendar minute, but the same sliding window
        refused = c.get("/v2/account")
        assert refused.status_code == 429
        assert float(refused.headers["Retry-After"]) == pytest.approx(57.0, abs=1.0)
        now[0] += 58.0  # the first five have left the window
        assert c.get("/v2/account").status_code == 200
        rate = c.get("/_sim/rate").json()
    assert rate["refused_429"] == 1 and rate["total"] == 7
