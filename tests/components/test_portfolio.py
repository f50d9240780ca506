"""Live Portfolio tab: pure view helpers on hand-worked values, and the callbacks against
the simulator's broker (its own JSON is the reference for every figure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from dashboard.app import create_app
from dashboard.components import portfolio as P
from dashboard.models import Account, Clock, Position
from dashboard.services import build_services
from dashboard.settings import Settings
from dashboard.simulator.testing import SimulatorHandle
from tests.components._rounds import record_rounds


def _account(equity: str, last: str) -> Account:
    return Account(
        account_number="A1",
        status="ACTIVE",
        currency="USD",
        cash=Decimal("5000"),
        equity=Decimal(equity),
        last_equity=Decimal(last),
        portfolio_value=Decimal(equity),
        buying_power=Decimal("10000"),
        options_buying_power=Decimal("5000"),
    )


def _position(symbol: str, cls: str, qty: str, intraday: str, **kw: Any) -> Position:
    return Position(
        symbol=symbol,
        asset_class=cls,  # type: ignore[arg-type]
        qty=Decimal(qty),
        side="long" if Decimal(qty) > 0 else "short",
        avg_entry_price=Decimal(kw.get("avg", "10")),
        current_price=Decimal(kw.get("cur", "11")),
        lastday_price=Decimal("10"),
        market_value=Decimal(kw.get("mv", "110")),
        cost_basis=Decimal("100"),
        unrealized_pl=Decimal(kw.get("upl", "10")),
        unrealized_plpc=Decimal(kw.get("uplpc", "0.1")),
        unrealized_intraday_pl=Decimal(intraday),
    )


# ------------------------------------------------------------------------------ pure helpers


def test_day_pnl_is_equity_minus_last_equity() -> None:
    pnl, pct = P.day_pnl(_account("101250.50", "100000"))
    assert pnl == pytest.approx(1250.50)
    assert pct == pytest.approx(1.2505)
    loss, loss_pct = P.day_pnl(_account("98000", "100000"))
    assert (loss, loss_pct) == (pytest.approx(-2000.0), pytest.approx(-2.0))
    _, new_account = P.day_pnl(_account("100", "0"))
    assert new_account != new_account  # NaN, not a ZeroDivisionError


def test_money_and_percent_formatting() -> None:
    assert P.format_money(1250.5, signed=True) == "+$1,250.50"
    assert P.format_money(-2000) == "-$2,000.00"
    assert P.format_money(Decimal("0.004")) == "$0.00"
    assert P.format_money(None) == "—"
    assert P.format_pct(1.2505) == "+1.25%"
    assert P.format_pct(-2.0) == "-2.00%"
    assert P.format_pct(float("nan")) == "—"
    assert P.format_pct(3.14159, signed=False, digits=1) == "3.1%"


def test_metrics_cards_values_and_tones() -> None:
    ts = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    clock = Clock(ts, True, ts + timedelta(days=1), ts + timedelta(hours=6))
    positions = [
        _position("AAPL", "us_equity", "3.5", "1"),
        _position("SPY261127C00505000", "us_option", "2", "1"),
    ]
    cards = {m.key: m for m in P.portfolio_metrics(_account("98000", "100000"), positions, clock)}
    assert cards["equity"].value == "$98,000.00"
    assert cards["day-pnl"].value == "-$2,000.00"
    assert cards["day-pnl"].sub == "-2.00%"
    assert cards["day-pnl"].tone == "bear"
    assert cards["cash"].value == "$5,000.00"
    assert cards["buying-power"].value == "$10,000.00"
    assert cards["options-bp"].value == "$5,000.00"
    assert cards["positions"].value == "2"
    assert cards["positions"].sub == "1 stock · 1 option"
    assert (cards["market"].value, cards["market"].sub) == ("OPEN", "closes in 6h 00m")
    missing = {m.key: m for m in P.portfolio_metrics(None, None, None)}
    assert missing["equity"].value == "—" and missing["positions"].value == "—"


def test_waterfall_parts_add_up_to_the_account_day_pnl() -> None:
    positions = [
        _position("AAPL", "us_equity", "10", "-120.25"),
        _position("SPY261127C00505000", "us_option", "2", "310"),
    ]
    parts = P.waterfall_parts(positions, _account("100250", "100000"))
    # 250 − (−120.25 + 310) = 60.25 realised today / other.
    assert parts == [
        ("AAPL", -120.25),
        ("SPY Nov 27 '26 $505 C", 310.0),
        ("Closed today & other", 60.25),
    ]
    # One cent of broker rounding is not a bar.
    exact = P.waterfall_parts(positions, _account("100189.76", "100000"))
    assert [k for k, _ in exact] == ["AAPL", "SPY Nov 27 '26 $505 C"]


def test_position_rows_fractional_qty_and_percent() -> None:
    p = _position(
        "AAPL", "us_equity", "0.123456789", "-1", avg="200", cur="190", mv="23.46", upl="-1.23"
    )
    [row] = P.position_rows([p], trends={"AAPL": "▁█"})
    assert row["qty"] == 0.123456789
    assert row["unrealized_pct"] == pytest.approx(10.0)
    assert row["trend"] == "▁█"
    assert row["pattern"] == "" and row["progress"] is None


def test_journal_link_shows_pattern_and_progress() -> None:
    trade = SimpleNamespace(
        contract_symbol="SPY261127C00505000",
        pattern="2-1-2U",
        timeframe="1Day",
        direction="long",
        entry_level=500.0,
        target_level=510.0,
        stop_level=495.0,
    )
    p = _position("SPY261127C00505000", "us_option", "1", "0")
    [row] = P.position_rows(
        [p], trades={trade.contract_symbol: trade}, underlying_prices={"SPY": 505.0}
    )
    assert row["pattern"] == "2-1-2U 1Day"
    assert row["progress"] == 50.0  # halfway from 500 to the 510 target
    assert P.trade_progress_pct(trade, 497.5) == -50.0  # halfway to the stop


def test_trend_text_scales_to_its_range() -> None:
    assert P.trend_text([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert P.trend_text([5, 5, 5]) == "▄▄▄"
    assert P.trend_text([1.0]) == ""


def test_cancel_needs_typed_symbol_only_on_live() -> None:
    paper = SimpleNamespace(is_live=False)
    live = SimpleNamespace(is_live=True)
    assert P.cancel_refusal(paper, "AAPL", None) is None  # type: ignore[arg-type]
    assert "type AAPL" in (P.cancel_refusal(live, "AAPL", "") or "")  # type: ignore[arg-type]
    assert P.cancel_refusal(live, "AAPL", " aapl ") is None  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ simulator


def _callback(app: Any, output_fragment: str) -> Any:
    for key, spec in app.callback_map.items():
        if output_fragment in key:
            return spec["callback"].__wrapped__
    raise KeyError(output_fragment)


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
    settings = fresh_settings.with_overrides(simulator_url=fresh_sim.url, cache_ttl_seconds=0.0)
    services = build_services(settings)
    app = create_app(services=services)
    yield app, services, fresh_sim, option
    services.close()


def test_refresh_matches_the_broker(trading_app: Any) -> None:
    app, _services, sim, option = trading_app
    out = _callback(app, "portfolio-positions-grid.rowData")(1, None)
    with sim.client() as c:
        acct = c.get("/v2/account").json()
        broker_positions = {p["symbol"]: p for p in c.get("/v2/positions").json()}
        broker_orders = c.get("/v2/orders", params={"status": "open"}).json()
    cards, rows, orders, fills, waterfall = out[0], out[2], out[5], out[7], out[9]
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
    assert "fresh" in str(out[3].children[1].children)


def test_equity_curve_has_rebased_benchmark(trading_app: Any) -> None:
    app, _services, _sim, _option = trading_app
    fig, status = _callback(app, "portfolio-equity-chart.figure")(1, "1D")
    names = [t.name for t in fig.data]
    assert names[0] == "equity" and "SPY (rebased)" in names and "drawdown %" in names
    eq = fig.data[0].y
    bench = fig.data[names.index("SPY (rebased)")].y
    assert bench[0] == pytest.approx(eq[0])  # same start
    assert fig.layout.uirevision == "equity-curve-1D"
    assert "fresh" in str(status.children[1].children)


def test_cancel_flow_cancels_at_the_broker(trading_app: Any) -> None:
    app, services, sim, _option = trading_app
    orders = _callback(app, "portfolio-positions-grid.rowData")(1, None)[5]
    [row] = orders
    is_open, _body, style, target, _res = P.cancel_dialog(services.settings, [row])
    assert is_open and style == {"display": "none"}  # demo/paper: no typed confirmation
    assert target == {"id": row["id"], "symbol": "MSFT"}
    result, still_open, done = P.send_cancel(services, target, None)
    assert not still_open and done == row["id"]
    assert "Cancel sent" in str(result.children)
    with sim.client() as c:
        assert c.get(f"/v2/orders/{row['id']}").json()["status"] == "canceled"
    again, _, _ = P.send_cancel(services, target, None)
    assert "Cancel failed" in str(again.children)


def test_failed_account_read_marks_blocks_stale(trading_app: Any) -> None:
    app, _services, sim, _option = trading_app
    refresh = _callback(app, "portfolio-positions-grid.rowData")
    refresh(1, None)
    sim.set_faults({"malformed_json": True, "routes": "/v2/account"})
    out = refresh(2, None)
    cards_text = str(out[1].children[1].children)
    assert cards_text.startswith("stale since"), cards_text
    assert str(out[10].children[1].children).startswith("stale since")  # waterfall uses it
    assert str(out[6].children[1].children).startswith("fresh")  # orders do not
    assert len(out[2]) == 2  # positions still shown


def test_layout_ids(tmp_path: Path) -> None:
    ids = set()

    def walk(node: Any) -> None:
        if getattr(node, "id", None):
            ids.add(node.id)
        kids = getattr(node, "children", None)
        for k in kids if isinstance(kids, list) else [kids]:
            if k is not None and not isinstance(k, str):
                walk(k)

    walk(P.layout(SimpleNamespace()))  # type: ignore[arg-type]
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
    P.build_portfolio_view(services)  # the first refresh learns what is held
    services.data.invalidate()
    events = record_rounds(services.data, ["fetch_portfolio_data", "fetch_bars_many"])
    view = P.build_portfolio_view(services)
    assert events.index("fetch_bars_many start") < events.index("fetch_portfolio_data done")
    assert events.count("fetch_bars_many start") == 1
    assert {r["symbol"] for r in view.position_rows} >= {"AAPL"}
    assert all(r["trend"] for r in view.position_rows)
