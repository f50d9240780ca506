"""Paper broker over real HTTP: Alpaca's JSON contract, fills, rejections, P&L and history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from dashboard.simulator.embedded import SimulatorHandle

ACCOUNT_FIELDS = {
    "id", "account_number", "status", "currency", "cash", "equity", "last_equity",
    "portfolio_value", "buying_power", "options_buying_power", "daytrading_buying_power",
    "long_market_value", "short_market_value", "initial_margin", "maintenance_margin",
    "pattern_day_trader", "daytrade_count", "trading_blocked", "options_trading_level",
    "options_approved_level",
}  # fmt: skip
POSITION_FIELDS = {
    "asset_id", "symbol", "exchange", "asset_class", "qty", "qty_available", "side",
    "avg_entry_price", "current_price", "lastday_price", "change_today", "market_value",
    "cost_basis", "unrealized_pl", "unrealized_plpc", "unrealized_intraday_pl",
    "unrealized_intraday_plpc",
}  # fmt: skip
ORDER_FIELDS = {
    "id", "client_order_id", "created_at", "submitted_at", "filled_at", "canceled_at",
    "expired_at", "asset_class", "symbol", "qty", "filled_qty", "filled_avg_price",
    "order_class", "type", "side", "time_in_force", "limit_price", "stop_price", "status",
    "extended_hours", "legs", "position_intent",
}  # fmt: skip
FILL_FIELDS = {
    "id", "activity_type", "transaction_time", "type", "price", "qty", "side", "symbol",
    "leaves_qty", "order_id", "cum_qty",
}  # fmt: skip


def D(x: str) -> Decimal:
    return Decimal(x)


def _order(c: httpx.Client, **fields: object) -> httpx.Response:
    body = {"side": "buy", "type": "market", "time_in_force": "day", **fields}
    return c.post("/v2/orders", json=body)


def _atm_call(c: httpx.Client, underlying: str = "SPY") -> dict:
    """The nearest-expiry call closest to the money, from Alpaca's contracts route."""
    price = c.get("/v2/stocks/trades/latest", params={"symbols": underlying}).json()
    spot = price["trades"][underlying]["p"]
    body = c.get(
        "/v2/options/contracts",
        params={"underlying_symbols": underlying, "type": "call", "limit": "1000"},
    ).json()
    first = min(k["expiration_date"] for k in body["option_contracts"])
    near = [k for k in body["option_contracts"] if k["expiration_date"] == first]
    return min(near, key=lambda k: abs(float(k["strike_price"]) - spot))


def test_auth_headers_are_required(sim: SimulatorHandle) -> None:
    r = httpx.get(f"{sim.url}/v2/account")
    assert r.status_code == 401
    assert r.json() == {"code": 40110000, "message": "request is not authorized"}


def test_account_json_contract(sim: SimulatorHandle) -> None:
    with sim.client() as c:
        acct = c.get("/v2/account").json()
    assert set(acct) >= ACCOUNT_FIELDS
    for k in ("cash", "equity", "last_equity", "buying_power", "options_buying_power"):
        assert isinstance(acct[k], str), k
        Decimal(acct[k])
    assert isinstance(acct["pattern_day_trader"], bool)


def test_stock_market_order_fills_at_the_ask_and_pl_math(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        quote = c.get("/v2/stocks/quotes/latest", params={"symbols": "SPY"}).json()
        ask = quote["quotes"]["SPY"]["ap"]
        r = _order(c, symbol="SPY", qty="10", client_order_id="buy-spy-1")
        assert r.status_code == 200, r.text
        order = r.json()
        assert set(order) >= ORDER_FIELDS
        assert order["status"] == "filled" and order["filled_qty"] == "10"
        assert D(order["filled_avg_price"]) == D(str(ask))
        cash_after = Decimal(100_000) - 10 * D(str(ask))
        fresh_sim.advance(45)
        acct = c.get("/v2/account").json()
        [pos] = c.get("/v2/positions").json()
    assert set(pos) >= POSITION_FIELDS
    assert pos["symbol"] == "SPY" and pos["side"] == "long" and pos["asset_class"] == "us_equity"
    cur, avg = D(pos["current_price"]), D(pos["avg_entry_price"])
    assert cur == D(str(fresh_sim.sim.market.price_at("SPY", fresh_sim.now())))
    assert D(pos["unrealized_pl"]) == (cur - avg) * 10
    assert D(pos["market_value"]) == cur * 10
    assert D(pos["cost_basis"]) == avg * 10
    assert D(acct["cash"]) == cash_after
    equity = D(acct["cash"]) + D(acct["long_market_value"]) + D(acct["short_market_value"])
    assert D(acct["equity"]) == equity
    assert D(acct["long_market_value"]) == cur * 10


def test_limit_orders_fill_only_when_marketable(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        q = c.get("/v2/stocks/quotes/latest", params={"symbols": "AAPL"}).json()["quotes"]["AAPL"]
        # Marketable: trades at the ask, not at the (worse) limit.
        high = _order(c, symbol="AAPL", qty="3", type="limit", limit_price=f"{q['ap'] + 1:.2f}")
        assert high.json()["status"] == "filled"
        assert D(high.json()["filled_avg_price"]) == D(str(q["ap"]))
        # Far below the market: rests, then expires at the close.
        low = _order(c, symbol="AAPL", qty="3", type="limit", limit_price=f"{q['bp'] * 0.5:.2f}")
        assert low.json()["status"] == "new"
        oid = low.json()["id"]
        fresh_sim.advance(60)
        assert c.get(f"/v2/orders/{oid}").json()["status"] == "new"
        fresh_sim.advance(400)
        assert c.get(f"/v2/orders/{oid}").json()["status"] == "expired"


def test_resting_buy_limit_fills_at_or_below_its_limit(fresh_sim: SimulatorHandle) -> None:
    sim = fresh_sim.sim
    t0 = fresh_sim.now()
    # A limit 0.3% under the ask: whether it fills depends on the path, so check both ways.
    with fresh_sim.client() as c:
        _, ask = sim.market.quote_at("NVDA", t0)
        limit = round(ask * 0.997, 2)
        r = _order(c, symbol="NVDA", qty="5", type="limit", limit_price=f"{limit:.2f}")
        assert r.json()["status"] == "new"
        fresh_sim.advance(390)
        o = c.get(f"/v2/orders/{r.json()['id']}").json()
    if o["status"] == "filled":
        assert D(o["filled_avg_price"]) <= D(f"{limit:.2f}")
    else:
        # Never marketable: every minute's ask stayed above the limit.
        asks = [sim.market.quote_at("NVDA", t0 + timedelta(minutes=m))[1] for m in range(1, 390)]
        assert min(asks) > limit
        assert o["status"] == "expired"


def test_rejections_use_alpaca_error_shapes(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        poor = _order(c, symbol="SPY", qty="10000")
        assert poor.status_code == 403
        assert poor.json() == {"code": 40310000, "message": "insufficient buying power"}
        assert _order(c, symbol="SPY", qty="1", client_order_id="dup").status_code == 200
        dup = _order(c, symbol="SPY", qty="1", client_order_id="dup")
        assert dup.status_code == 422
        assert dup.json()["message"] == "client_order_id must be unique"
        bad = _order(c, symbol="NOPE", qty="1")
        assert bad.status_code == 422 and "NOPE" in bad.json()["message"]
        found = c.get("/v2/orders:by_client_order_id", params={"client_order_id": "dup"})
        assert found.json()["client_order_id"] == "dup"


def test_option_orders_rules_and_fill(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        contract = _atm_call(c)
        sym = contract["symbol"]
        for extra in (
            {"qty": "1.5"},
            {"qty": "1", "time_in_force": "ioc"},
            {"qty": "1", "order_class": "bracket", "take_profit": {"limit_price": "9"}},
            {"qty": "1", "type": "trailing_stop", "trail_percent": "5"},
        ):
            r = _order(c, symbol=sym, **extra)
            assert r.status_code == 422, extra
            assert set(r.json()) == {"code", "message"}
        snap = c.get("/v1beta1/options/snapshots", params={"symbols": sym}).json()
        ask = snap["snapshots"][sym]["latestQuote"]["ap"]
        r = _order(c, symbol=sym, qty="2", time_in_force="gtc")
        assert r.status_code == 200, r.text
        o = r.json()
        assert o["asset_class"] == "us_option" and o["position_intent"] == "buy_to_open"
        assert D(o["filled_avg_price"]) == D(str(ask))
        acct = c.get("/v2/account").json()
        assert D(acct["cash"]) == Decimal(100_000) - 2 * 100 * D(str(ask))
        fresh_sim.advance(30)
        [pos] = c.get("/v2/positions").json()
        mid = fresh_sim.sim.chains.mid_series(sym, [fresh_sim.now()])[0]
        assert D(pos["current_price"]) == D(f"{mid:.2f}")
        assert (
            D(pos["unrealized_pl"])
            == (D(pos["current_price"]) - D(pos["avg_entry_price"])) * 2 * 100
        )
        # Uncovered short calls are not allowed at this options level.
        naked = _order(c, symbol=sym, qty="5", side="sell")
        assert naked.status_code == 403


def test_cancel_close_and_fill_activities(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        rest = _order(c, symbol="MSFT", qty="1", type="limit", limit_price="1.00").json()
        assert c.delete(f"/v2/orders/{rest['id']}").status_code == 204
        assert c.get(f"/v2/orders/{rest['id']}").json()["status"] == "canceled"
        again = c.delete(f"/v2/orders/{rest['id']}")
        assert again.status_code == 422
        buy = _order(c, symbol="MSFT", qty="4").json()
        fresh_sim.advance(10)
        close = c.delete("/v2/positions/MSFT")
        assert close.status_code == 200
        sell = close.json()
        assert sell["side"] == "sell" and sell["qty"] == "4" and sell["status"] == "filled"
        assert c.get("/v2/positions").json() == []
        fills = c.get("/v2/account/activities/FILL", params={"direction": "asc"}).json()
        closed = c.get("/v2/orders", params={"status": "closed", "direction": "asc"}).json()
    assert [f["order_id"] for f in fills] == [buy["id"], sell["id"]]
    assert all(set(f) >= FILL_FIELDS for f in fills)
    assert [f["side"] for f in fills] == ["buy", "sell"]
    assert [o["status"] for o in closed] == ["canceled", "filled", "filled"]
    assert c.is_closed


def test_portfolio_history_ends_at_account_equity(fresh_sim: SimulatorHandle) -> None:
    with fresh_sim.client() as c:
        _order(c, symbol="TSLA", qty="20")
        fresh_sim.advance(120)
        hist = c.get(
            "/v2/account/portfolio/history", params={"period": "1D", "timeframe": "5Min"}
        ).json()
        acct = c.get("/v2/account").json()
    assert set(hist) >= {"timestamp", "equity", "profit_loss", "profit_loss_pct", "base_value"}
    assert len(hist["timestamp"]) == len(hist["equity"]) == 24  # 120 minutes / 5
    assert hist["timestamp"][1] - hist["timestamp"][0] == 300
    assert hist["equity"][-1] == pytest.approx(float(acct["equity"]), abs=0.01)
    assert hist["profit_loss"][-1] == pytest.approx(
        hist["equity"][-1] - hist["base_value"], abs=0.01
    )


def test_options_expire_at_expiry(pinned_fresh: SimulatorHandle) -> None:
    with pinned_fresh.client() as c:
        contract = _atm_call(c)
        sym = contract["symbol"]
        assert _order(c, symbol=sym, qty="1").json()["status"] == "filled"
        c.post("/_sim/advance", json={"minutes": 60 * 24 * 10})
        assert c.get("/v2/positions").json() == []
        acts = c.get("/v2/account/activities", params={"direction": "asc"}).json()
    kinds = [a["activity_type"] for a in acts]
    assert kinds[0] == "FILL" and kinds[-1] in ("OPEXP", "OPEXC")
    sim = pinned_fresh.sim
    intrinsic = sim.chains.settlement_value(sym)
    assert D(acts[-1]["price"]) == D(f"{intrinsic:.2f}")
