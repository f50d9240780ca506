"""Live Portfolio callbacks against the simulator's broker: its own JSON is the reference
for every number on the tab."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from dashboard.app import create_app
from dashboard.components.portfolio import callbacks as C
from dashboard.components.portfolio import layout as L
from dashboard.services import build_services
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from tests.components._rounds import record_rounds


def _atm_call(c: httpx.Client, underlying: str = "SPY") -> str:
    spot = c.get("/v2/stocks/trades/latest", params={"symbols": underlying}).json()
    s = spot["trades"][underlying]["p"]
    body = c.get(
        "/v2/options/contracts",
        params={"underlying_symbols": underlying, "type": "call", "limit": "1000"},
    ).json()["option_contracts"]
    first = min(k["expiration_date"] for k in body)
    near = [k for k in body if k["expiration_date"] == first]
    return min(near, key=lambda k: abs(float(k["strike_price"]) - s))["symbol"]


@pytest.fixture
def trading_app(fresh_sim: SimulatorHandle, fresh_settings: Settings) -> Any:
    """The app on a private simulator with a fractional stock, an option and a resting
    limit order. ``build_services`` reuses the test's simulator through simulator_url."""
    with fresh_sim.client() as c:
        stock = {"symbol": "AAPL", "qty": "3.5", "side": "buy", "type": "market"}
        assert c.post("/v2/orders", json={**stock, "time_in_force": "day"}).status_code == 200
        option = _atm_call(c)
        body = {"symbol": option, "qty": "2", "side": "buy", "type": "market"}
        assert c.post("/v2/orders", json={**body, "time_in_force": "day"}).status_code == 200
        rest = {"symbol": "MSFT", "qty": "1", "side": "buy", "type": "limit"}
        r = c.post("/v2/orders", json={**rest, "limit_price": "1.00", "time_in_force": "day"})
        assert r.status_code == 200
    fresh_sim.advance(30)
    # A broker limit high enough that the rate budget never defers a refresh here: a
    # deferred read serves the last good value (as it should), which would hide the
    # faults these tests inject. The deferral has its own tests (data_loaders/test_budget).
    settings = fresh_settings.with_overrides(
        simulator_url=fresh_sim.url, cache_ttl_seconds=0.0, alpaca_rate_limit_per_minute=6000
    )
    services = build_services(settings)
    app = create_app(services=services)  # the callbacks are registered as they run here
    yield app, services, fresh_sim, option
    services.close()


def test_refresh_matches_the_broker(trading_app: Any) -> None:
    _app, services, sim, option = trading_app
    out = C.refresh_portfolio(services)
    below = C.refresh_orders(services)
    with sim.client() as c:
        acct = c.get("/v2/account").json()
        broker_positions = {p["symbol"]: p for p in c.get("/v2/positions").json()}
        broker_orders = c.get("/v2/orders", params={"status": "open"}).json()
    cards, rows, orders, fills = out["cards"], out["positions"], below["orders"], below["fills"]
    waterfall = out["waterfall"]
    texts = {}
    for col in cards:
        body = col.children.children.children
        texts[body[1].id] = (body[1].children, body[2].children)
    equity, last = Decimal(acct["equity"]), Decimal(acct["last_equity"])
    assert texts["portfolio-card-equity"][0] == f"${equity:,.2f}"
    pnl = equity - last
    sign = "+" if pnl > 0 else ("-" if pnl < 0 else "")
    assert texts["portfolio-card-day-pnl"][0] == f"{sign}${abs(pnl):,.2f}"
    assert texts["portfolio-card-day-pnl"][1] == f"{float(pnl / last * 100):+.2f}%"
    assert texts["portfolio-card-cash"][0] == f"${Decimal(acct['cash']):,.2f}"
    bp = Decimal(acct["options_buying_power"])
    assert texts["portfolio-card-options-bp"][0] == f"${bp:,.2f}"
    assert texts["portfolio-card-positions"][0] == "2"

    by_symbol = {r["symbol"]: r for r in rows}
    assert set(by_symbol) == set(broker_positions) == {"AAPL", option}
    for sym, bp_ in broker_positions.items():
        row = by_symbol[sym]
        assert row["qty"] == float(bp_["qty"])
        if sym == option:
            # Options are marked at the quote's mid (conventions.OPTION_MARK), as on the
            # Options tab; the simulated broker marks at the mid too, rounded to the cent.
            mid = C.option_marks(services, C.read_portfolio(services)[0])[option]
            assert row["current"] == mid
            assert row["current"] == pytest.approx(float(bp_["current_price"]), abs=0.0051)
            per_share = 100 * float(bp_["qty"])
            assert row["market_value"] == pytest.approx(mid * per_share)
            assert row["unrealized_pl"] == pytest.approx(
                float(bp_["unrealized_pl"]), abs=0.0051 * per_share
            )
            continue
        assert row["market_value"] == float(bp_["market_value"])
        assert row["unrealized_pl"] == float(bp_["unrealized_pl"])
        assert row["current"] == float(bp_["current_price"])
        assert row["unrealized_pct"] == pytest.approx(float(bp_["unrealized_plpc"]) * 100)
    assert by_symbol["AAPL"]["qty"] == 3.5
    assert by_symbol[option]["contract"].startswith("SPY ")
    assert by_symbol[option]["trend"]  # the underlying's day drawn as text

    assert [o["id"] for o in orders] == [o["id"] for o in broker_orders]
    assert {f["symbol"] for f in fills} == {"AAPL", option}
    assert waterfall.layout.meta["total"] == pytest.approx(float(pnl), abs=0.02)
    assert "fresh" in str(out["positions_status"].children[1].children)


def test_equity_curve_has_rebased_benchmark(trading_app: Any) -> None:
    _app, services, _sim, _option = trading_app
    fig, status = C.refresh_equity(services, "1D")
    names = [t.name for t in fig.data]
    assert names[0] == "equity" and "SPY (rebased)" in names and "drawdown %" in names
    eq = fig.data[0].y
    bench = fig.data[names.index("SPY (rebased)")].y
    assert bench[0] == pytest.approx(eq[0])  # same start
    assert fig.layout.uirevision == "equity-curve-1D"
    assert "fresh" in str(status.children[1].children)


def test_cancel_flow_cancels_at_the_broker(trading_app: Any) -> None:
    _app, services, sim, _option = trading_app
    [row] = C.refresh_orders(services)["orders"]
    is_open, _body, style, target, _res = C.cancel_dialog(services, [row])
    assert is_open and style == {"display": "none"}  # demo/paper: no typed confirmation
    assert target == {"id": row["id"], "symbol": "MSFT"}
    result, still_open, done = C.send_cancel(services, target, None)
    assert not still_open and done == row["id"]
    assert "Cancel sent" in str(result.children)
    with sim.client() as c:
        assert c.get(f"/v2/orders/{row['id']}").json()["status"] == "canceled"
    again, _, _ = C.send_cancel(services, target, None)
    assert "Cancel failed" in str(again.children)


def test_failed_account_read_marks_blocks_stale(trading_app: Any) -> None:
    _app, services, sim, _option = trading_app
    C.refresh_portfolio(services)
    sim.set_faults({"malformed_json": True, "routes": "/v2/account"})
    services.data.invalidate()  # past the TTL: the refresh reads the account again
    out = {**C.refresh_portfolio(services), **C.refresh_orders(services)}
    cards_text = str(out["cards_status"].children[1].children)
    assert cards_text.startswith("stale since"), cards_text
    # the waterfall uses the account; the orders do not
    assert str(out["waterfall_status"].children[1].children).startswith("stale since")
    assert str(out["orders_status"].children[1].children).startswith("fresh")
    assert len(out["positions"]) == 2  # positions still shown


def test_layout_ids(tmp_path: Path) -> None:
    ids = set()

    def walk(node: Any) -> None:
        if getattr(node, "id", None):
            ids.add(node.id)
        kids = getattr(node, "children", None)
        for k in kids if isinstance(kids, list) else [kids]:
            if k is not None and not isinstance(k, str):
                walk(k)

    walk(L.layout(SimpleNamespace()))  # type: ignore[arg-type]
    assert "portfolio-orders-grid" not in ids  # below the fold: in the lazy block
    walk(L.lower_layout())
    for needed in (
        "portfolio-cards",
        "portfolio-positions-grid",
        "portfolio-orders-grid",
        "portfolio-fills-grid",
        "portfolio-equity-chart",
        "portfolio-period",
        "portfolio-waterfall",
        "portfolio-cancel-modal",
        "portfolio-cancel-open",
        "portfolio-cancel-confirm",
    ):
        assert needed in ids, needed


def test_trend_bars_share_the_positions_round(trading_app: Any) -> None:
    _app, services, _sim, _option = trading_app
    C.build_portfolio_view(services)  # the first refresh learns what is held
    services.data.invalidate()
    events = record_rounds(services.data, ["fetch_portfolio_data", "fetch_bars_many"])
    view = C.build_portfolio_view(services)
    assert events.index("fetch_bars_many start") < events.index("fetch_portfolio_data done")
    assert events.count("fetch_bars_many start") == 1
    assert {r["symbol"] for r in view.position_rows} >= {"AAPL"}
    assert all(r["trend"] for r in view.position_rows)


def test_orders_and_fills_mount_below_the_first_screen(trading_app: Any) -> None:
    """The first screen's refresh renders no orders or fills; their own callback runs
    when the lazy block mounts (not prevent_initial_call) and with each refresh."""
    app, _services, _sim, _option = trading_app
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    top = next(d for d in deps if "portfolio-cards.children" in d["output"])
    assert "portfolio-orders-grid" not in top["output"] and top["prevent_initial_call"]
    below = next(d for d in deps if "portfolio-orders-grid.rowData" in d["output"])
    assert "portfolio-fills-grid.rowData" in below["output"]
    assert not below["prevent_initial_call"]
    assert {i["id"] for i in below["inputs"]} == {"portfolio-interval", "portfolio-cancel-done"}
