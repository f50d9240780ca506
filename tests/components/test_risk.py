"""Risk Management tab: adapters on hand-worked values, and the whole view against the
simulator's broker with known positions."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics.risk import GreeksRow, var_report
from dashboard.app import create_app
from dashboard.components import risk as R
from dashboard.models import PortfolioHistory, Position, Quote
from dashboard.services import build_services
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from tests.components._rounds import record_rounds


def _stock(symbol: str, qty: str, price: str) -> Position:
    q, p = Decimal(qty), Decimal(price)
    return Position(
        symbol, "us_equity", q, "long", p, p, p, q * p, q * p, Decimal(0), Decimal(0), Decimal(0)
    )


def test_var_rows_on_a_fixed_series() -> None:
    # 20 returns: -5%..-1% then 15 × +1%. Historical 95% VaR = -quantile(0.05) = 4.05%.
    r = np.array([-0.05, -0.04, -0.03, -0.02, -0.01] + [0.01] * 15)
    rows = {row["key"]: row for row in R.var_rows(var_report(r, 100_000.0))}
    h95 = rows["historical-0.95"]
    assert h95["var_pct"] == pytest.approx(4.05)
    assert h95["var_dollars"] == pytest.approx(4050.0)
    # CVaR tail = int(19 × 0.05) + 1 = 1 worst return → 5%.
    assert h95["cvar_pct"] == pytest.approx(5.0)
    # Parametric: mean 0, sample sd; VaR = 1.6449 × sd.
    sd = float(np.std(r, ddof=1))
    assert rows["parametric-0.95"]["var_pct"] == pytest.approx(1.6448536 * sd * 100, rel=1e-6)
    nan_rows = R.var_rows(var_report([], 1.0))
    assert all(row["var_pct"] is None for row in nan_rows)  # JSON-safe blanks


def test_underlying_prices_and_journal_stops() -> None:
    opt = Position(
        "SPY261127C00505000", "us_option", Decimal(1), "long", Decimal(5), Decimal(5),
        Decimal(5), Decimal(500), Decimal(500), Decimal(0), Decimal(0), Decimal(0),
    )  # fmt: skip
    stock = _stock("AAPL", "2", "100")
    quotes = {"SPY": Quote("SPY", 99.0, 101.0, 1, 1, pd.Timestamp.now(tz="UTC"))}
    prices = R.underlying_prices([opt, stock], quotes)
    assert prices == {"SPY": 100.0, "AAPL": 100.0}
    trade = SimpleNamespace(contract_symbol=opt.symbol, stop_level=495.0)
    stops, notes = R.journal_stops([opt, stock], {opt.symbol: trade}, prices)
    assert stops == {opt.symbol: 495.0}
    assert notes == ["AAPL: no journal stop"]
    stops2, notes2 = R.journal_stops([opt], {opt.symbol: trade}, {})
    assert stops2 == {} and "no SPY price" in notes2[0]
    assert "not connected" in R.fallback_note(["x"], journal_connected=False)
    assert R.fallback_note([], journal_connected=True) == ""


def test_closes_frame_and_exposures() -> None:
    idx = pd.DatetimeIndex(["2026-11-23 05:00", "2026-11-24 05:00"], tz="UTC")
    df = pd.DataFrame({"close": [10.0, 11.0]}, index=idx)
    frame = R.closes_frame({"AAA": df, "BBB": None})
    assert list(frame.columns) == ["AAA"]
    assert [d.day for d in frame.index] == [23, 24]
    rows = [
        GreeksRow("AAA", "AAA", 10, 5, 50.0, 0, 0, 0, "stock"),
        GreeksRow("AAA261127C00010000", "AAA", 10, 30, 300.0, 1, -2, 3, "quote"),
    ]
    assert R.exposures_by_underlying(rows) == {"AAA": 350.0}


def test_high_water_mark_from_history() -> None:
    ts = tuple(pd.date_range("2026-01-01", periods=3, tz="UTC").to_pydatetime())
    h = PortfolioHistory(ts, (0.0, 120.0, 110.0), (0, 0, 0), (0, 0, 0), 100.0, "1D")
    assert R.high_water_mark(h, 105.0) == 120.0
    assert R.high_water_mark(h, 130.0) == 130.0
    assert R.high_water_mark(None, 90.0) == 90.0
    assert R.limit_id("position_size") == "risk-limit-position-size"


# ------------------------------------------------------------------------------ simulator


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
    view = R.build_risk_view(R.gather_risk_inputs(services), services.settings, "positions")
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
    assert len(view.var_rows) == 4 and view.var_rows[0]["var_dollars"] > 0
    assert view.var_figure.data[0].type == "histogram"
    assert view.var_status.state.value == "fresh"


def test_journal_stop_prices_the_stock_risk(book: Any) -> None:
    services, sim, _option = book
    with sim.client() as c:
        aapl = next(p for p in c.get("/v2/positions").json() if p["symbol"] == "AAPL")
    price = float(aapl["current_price"])
    stop = round(price - 5.0, 2)
    # The journal gives option stops; a stock trade here checks the stock branch.
    trades = {"AAPL": SimpleNamespace(contract_symbol="AAPL", stop_level=stop)}
    services.extras["journal"] = SimpleNamespace(active_trades=lambda: list(trades.values()))
    view = R.build_risk_view(R.gather_risk_inputs(services), services.settings, "positions")
    row = next(r for r in view.heat_rows if r["symbol"] == "AAPL")
    assert row["risk"] == pytest.approx(10 * (price - stop))
    assert row["basis"] == "journal stop"
    assert "1 position(s) without a usable stop" in view.heat_note


def test_refresh_callback_renders_limit_badges(book: Any) -> None:
    services, _sim, _option = book
    app = create_app(services=services)
    key = next(k for k in app.callback_map if "risk-limits.children" in k)
    out = app.callback_map[key]["callback"].__wrapped__(1, "positions")
    badges = {row.children[0].id: row.children[0] for row in out[15]}
    assert set(badges) == {
        "risk-limit-heat",
        "risk-limit-position-size",
        "risk-limit-daily-loss",
        "risk-limit-drawdown",
    }
    assert all(b.children in ("GREEN", "AMBER", "RED") for b in badges.values())
    assert out[0].layout.uirevision == "risk-heat"


def test_dependent_reads_share_the_positions_round(book: Any) -> None:
    """With the holdings known from the last refresh, option quotes and bars start before
    the positions read returns: one upstream round per refresh, not two."""
    services, _sim, option = book
    R.gather_risk_inputs(services)  # the first refresh learns what is held
    services.data.invalidate()
    events = record_rounds(
        services.data, ["fetch_portfolio_data", "fetch_option_quotes", "fetch_bars_many"]
    )
    inputs = R.gather_risk_inputs(services)
    snapshot_done = events.index("fetch_portfolio_data done")
    assert events.index("fetch_option_quotes start") < snapshot_done
    assert events.index("fetch_bars_many start") < snapshot_done
    assert events.count("fetch_bars_many start") == 1  # holdings unchanged: no second round
    assert option in (inputs.option_quotes.value or {})
