"""Risk Management view: the adapters between the broker's records and the risk maths,
on hand-worked values."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics.risk import GreeksRow
from dashboard.analytics.var import var_report
from dashboard.models import PortfolioHistory, Position, Quote
from dashboard.views import risk as R


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


def test_high_water_mark_from_history() -> None:
    ts = tuple(pd.date_range("2026-01-01", periods=3, tz="UTC").to_pydatetime())
    h = PortfolioHistory(ts, (0.0, 120.0, 110.0), (0, 0, 0), (0, 0, 0), 100.0, "1D")
    assert R.high_water_mark(h, 105.0) == 120.0
    assert R.high_water_mark(h, 130.0) == 130.0
    assert R.high_water_mark(None, 90.0) == 90.0


def test_crypto_is_named_not_priced_by_the_option_risk() -> None:
    """A crypto holding has no stop, chain or stock bars here: heat, greeks and VaR leave
    it out and say so; concentration (by value) keeps it."""
    from datetime import UTC, datetime

    from dashboard.analytics.risk import RiskLimits
    from dashboard.models import Account, Clock, DataResult, DataState, PortfolioSnapshot

    now = datetime(2025, 6, 3, 15, 0, tzinfo=UTC)

    def ok(value: object) -> DataResult:
        return DataResult(value, "simulator", now, DataState.FRESH)

    spy = _stock("SPY", "10", "600")
    btc = Position("BTCUSD", "crypto", Decimal("0.5"), "long", Decimal(60000), Decimal(60000),
                   Decimal(60000), Decimal(30000), Decimal(30000), Decimal(0), Decimal(0),
                   Decimal(0))  # fmt: skip
    account = Account("A", "ACTIVE", "USD", Decimal(70000), Decimal(100000), Decimal(100000),
                      Decimal(100000), Decimal(100000), Decimal(100000))  # fmt: skip
    rng = np.random.default_rng(5)
    days = pd.date_range("2024-06-03", periods=120, freq="B", tz="America/New_York")
    closes = 600 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    bars = pd.DataFrame({"close": closes}, index=days.tz_convert("UTC"))
    snap = PortfolioSnapshot(
        account=ok(account),
        positions=ok((spy, btc)),
        open_orders=ok(()),
        clock=ok(Clock(now, True, now, now)),
        quotes=ok({"SPY": Quote("SPY", 599.9, 600.1, 1, 1, now)}),
    )
    inputs = R.RiskInputs(
        snapshot=snap,
        history=DataResult(None, "simulator", None, DataState.ERROR, "x"),
        option_quotes=ok({}),
        bars={"SPY": ok(bars)},
        trades=None,
        read_at=now,
    )
    view = R.risk_view(inputs, RiskLimits(), "positions")
    note = "1 crypto position (BTCUSD) not in the option risk, which covers US stocks and options"
    assert [r["symbol"] for r in view.heat_rows] == ["SPY"]
    assert note in view.heat_note and note in view.greeks_note and note in view.var_note
    assert {r["underlying"] for r in view.greeks_rows} == {"SPY", R.TOTAL_ROW}
    assert len(view.var_rows) == 8  # VaR of the SPY book, not broken by the crypto
    conc = {r["underlying"]: r for r in view.concentration_rows}
    assert conc["BTCUSD"]["asset_class"] == "crypto" and conc["SPY"]["asset_class"] == "stock"
    assert conc["BTCUSD"]["market_value"] == 30000.0


def test_greeks_rows_per_underlying_and_a_total_without_gamma() -> None:
    rows = [
        GreeksRow("AAA", "AAA", 10, 5, 50.0, 0, 0, 0, "stock"),
        GreeksRow("AAA261127C00010000", "AAA", 10, 30, 300.0, 1, -2, 3, "quote"),
    ]
    *per_underlying, total = R.greeks_rows(rows)
    (aaa,) = per_underlying
    assert (aaa["underlying"], aaa["positions"], aaa["dollar_delta"]) == ("AAA", 2, 350.0)
    assert aaa["gamma_shares"] == 1.0 and aaa["theta_day"] == -2.0 and aaa["vega"] == 3.0
    assert total["underlying"] == R.TOTAL_ROW and total["dollar_delta"] == 350.0
    assert "gamma_shares" not in total and "delta_shares" not in total  # never added up
    (bar,) = R.greeks_chart_inputs(rows)
    assert (bar.label, bar.delta, bar.gamma) == ("AAA", 350.0, 1.0)


def test_horizon_spans_the_weekend() -> None:
    from datetime import UTC, datetime

    friday = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 15:00 New York
    monday_open = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    assert R.horizon_days(friday, monday_open) == 3.0
    assert R.horizon_days(friday, None) == 1.0
    assert R.horizon_days(monday_open, datetime(2026, 12, 1, 14, 30, tzinfo=UTC)) == 1.0
