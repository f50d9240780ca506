"""Risk Management callbacks: the whole tab against the simulator's broker with known
positions."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.analytics.risk import RiskLimits
from dashboard.app import create_app
from dashboard.components.risk import callbacks as C
from dashboard.components.risk.layout import limit_id
from dashboard.services import build_services
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.views.risk import VarChart, risk_view
from tests.components._rounds import record_rounds


def test_limit_ids() -> None:
    assert limit_id("position_size") == "risk-limit-position-size"


@pytest.fixture
def book(fresh_sim: SimulatorHandle, fresh_settings: Settings) -> Any:
    """10 AAPL and 2 near-the-money SPY calls on a private simulator."""
    with fresh_sim.client() as c:
        base = {"side": "buy", "type": "market", "time_in_force": "day"}
        assert c.post("/v2/orders", json={**base, "symbol": "AAPL", "qty": "10"}).is_success
        spot = c.get("/v2/stocks/trades/latest", params={"symbols": "SPY"}).json()
        s = spot["trades"]["SPY"]["p"]
        ks = c.get(
            "/v2/options/contracts",
            params={"underlying_symbols": "SPY", "type": "call", "limit": "1000"},
        ).json()["option_contracts"]
        first = min(k["expiration_date"] for k in ks)
        near = [k for k in ks if k["expiration_date"] == first]
        option = min(near, key=lambda k: abs(float(k["strike_price"]) - s))["symbol"]
        assert c.post("/v2/orders", json={**base, "symbol": option, "qty": "2"}).is_success
    fresh_sim.advance(15)
    services = build_services(fresh_settings.with_overrides(simulator_url=fresh_sim.url))
    yield services, fresh_sim, option
    services.close()


def test_risk_view_without_stops_counts_whole_values(book: Any) -> None:
    services, sim, _option = book
    view = risk_view(
        C.gather_risk_inputs(services), RiskLimits.from_settings(services.settings), "positions"
    )
    with sim.client() as c:
        acct = c.get("/v2/account").json()
        pos = {p["symbol"]: p for p in c.get("/v2/positions").json()}
        q = c.get("/v2/stocks/quotes/latest", params={"symbols": "AAPL"}).json()["quotes"]
    equity = float(acct["equity"])
    gross = sum(abs(float(p["market_value"])) for p in pos.values())
    risk = {r["symbol"]: r["risk"] for r in view.heat_rows}
    assert risk == {s: pytest.approx(float(p["market_value"])) for s, p in pos.items()}
    assert view.heat_summary.startswith(f"Heat {gross / equity * 100:.2f}% of equity")
    # The (empty) journal has no trade for either position: both fall back, on screen.
    assert "2 position(s) without a usable stop" in view.heat_note
    assert "AAPL: no journal stop" in view.heat_note
    # Net delta of the stock: 10 shares × the AAPL quote mid.
    mid = (q["AAPL"]["bp"] + q["AAPL"]["ap"]) / 2
    greeks = {r["underlying"]: r for r in view.greeks_rows}
    assert greeks["AAPL"]["dollar_delta"] == pytest.approx(10 * mid)
    assert greeks["SPY"]["theta_day"] < 0  # long calls bleed
    top = max(pos.values(), key=lambda p: abs(float(p["market_value"])))
    conc = view.concentration_rows[0]
    assert conc["pct_equity"] == pytest.approx(abs(float(top["market_value"])) / equity * 100)
    checks = {c.name: c for c in view.limits}
    heat_red = gross / equity * 100 >= services.settings.heat_limit_pct
    assert checks["heat"].breached is heat_red
    day_loss = max(0.0, (float(acct["last_equity"]) - equity) / float(acct["last_equity"]) * 100)
    assert checks["daily_loss"].value_pct == pytest.approx(day_loss)
    # Full revaluation first (95% and 99%, historical and parametric), then the delta
    # approximations as a labelled comparison.
    assert len(view.var_rows) == 8 and view.var_rows[0]["var_dollars"] > 0
    methods = [r["method"] for r in view.var_rows]
    assert methods[0].startswith("Full revaluation")
    assert all(m.startswith("Comparison: Delta") for m in methods[4:])
    assert view.var_note.startswith("Most this book can lose: $")  # both positions are long
    assert "Black-Scholes" in view.var_note and "trading day" in view.var_note
    full99 = next(r for r in view.var_rows if r["key"] == "full_revaluation-historical-0.99")
    bound = float(view.var_note.split("$")[1].split(".")[0].replace(",", ""))
    assert full99["var_dollars"] <= bound + 1  # never more than the book can lose
    assert isinstance(view.var_chart, VarChart) and len(view.var_chart.pnl) > 100
    assert C.var_figure(view.var_chart).data[0].type == "histogram"
    assert view.var_status.state.value == "fresh"


def test_journal_stop_prices_the_stock_risk(book: Any) -> None:
    services, sim, _option = book
    with sim.client() as c:
        aapl = next(p for p in c.get("/v2/positions").json() if p["symbol"] == "AAPL")
    price = float(aapl["current_price"])
    stop = round(price - 5.0, 2)
    # The journal gives option stops; a stock trade here checks the stock branch.
    trades = {"AAPL": SimpleNamespace(contract_symbol="AAPL", stop_level=stop)}
    inputs = replace(C.gather_risk_inputs(services), trades=trades)
    view = risk_view(inputs, RiskLimits.from_settings(services.settings), "positions")
    row = next(r for r in view.heat_rows if r["symbol"] == "AAPL")
    assert row["risk"] == pytest.approx(10 * (price - stop))
    assert row["basis"] == "journal stop"
    assert "1 position(s) without a usable stop" in view.heat_note


def test_refresh_callback_renders_limit_badges(book: Any) -> None:
    services, _sim, _option = book
    create_app(services=services)  # the wiring holds
    out = C.refresh_heat(services)
    badges = {row.children[0].id: row.children[0] for row in out["limits"]}
    assert set(badges) == {
        "risk-limit-heat",
        "risk-limit-position-size",
        "risk-limit-daily-loss",
        "risk-limit-drawdown",
    }
    assert all(b.children in ("GREEN", "AMBER", "RED") for b in badges.values())
    assert out["heat_chart"].layout.uirevision == "risk-heat"


def test_dependent_reads_share_the_positions_round(book: Any) -> None:
    """With the holdings known from the last refresh, option quotes and bars start before
    the positions read returns: one upstream round per refresh, not two."""
    services, _sim, option = book
    C.gather_risk_inputs(services)  # the first refresh learns what is held
    services.data.invalidate()
    events = record_rounds(
        services.data, ["fetch_portfolio_data", "fetch_option_quotes", "fetch_bars_many"]
    )
    inputs = C.gather_risk_inputs(services)
    snapshot_done = events.index("fetch_portfolio_data done")
    assert events.index("fetch_option_quotes start") < snapshot_done
    assert events.index("fetch_bars_many start") < snapshot_done
    assert events.count("fetch_bars_many start") == 1  # holdings unchanged: no second round
    assert option in (inputs.option_quotes.value or {})


def test_the_first_screen_skips_var_and_greeks_and_matches_the_full_view(book: Any) -> None:
    """The heat-and-limits callback (and the layout's first state) computes no VaR or
    greeks; what it does show is the full view's."""
    from dashboard.components.risk.layout import LOWER, layout, lower_layout
    from dashboard.views.states import Blank

    services, _sim, _option = book
    inputs = C.gather_risk_inputs(services)
    limits = RiskLimits.from_settings(services.settings)
    full = risk_view(inputs, limits, "positions")
    first = risk_view(inputs, limits, "positions", exposure=False)
    for field in ("heat_rows", "heat_summary", "heat_note", "limits", "concentration_rows"):
        assert getattr(first, field) == getattr(full, field), field
    assert full.var_rows and full.greeks_rows
    assert first.var_rows == [] and not first.greeks_rows
    assert first.var_chart == first.greeks_chart == Blank("not computed", "loading")
    # The first screen holds heat and limits; VaR, greeks and concentration mount below.
    heat = {o.component_id for o in C.HEAT_OUTPUTS.values()}
    exposure = {o.component_id for o in C.EXPOSURE_OUTPUTS.values()}
    first_ids = {getattr(c, "id", None) for c in layout(services.settings)._traverse()}
    lower_ids = {getattr(c, "id", None) for c in lower_layout(services.settings)._traverse()}
    assert heat <= first_ids and LOWER in first_ids
    assert exposure <= lower_ids and not lower_ids & heat
