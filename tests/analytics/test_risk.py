"""Risk tab maths against hand-worked numbers, scipy.stats.norm and vollib."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from vollib.black_scholes import black_scholes

from dashboard.analytics import risk
from dashboard.models import OptionContract, OptionQuote
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import parse_occ
from dashboard.options.pricing import bs_price
from tests.analytics._book import EXPIRY_CLOSE, OPT, now_for, pos

# ----------------------------------------------------------------- heat


def test_years_to_expiry() -> None:
    assert years_to_expiry(parse_occ(OPT).expiry, now_for(0.2)) == pytest.approx(0.2)
    assert years_to_expiry(parse_occ(OPT).expiry, EXPIRY_CLOSE + timedelta(days=1)) == 0.0


def test_stock_risk_to_stop_long_and_short() -> None:
    now = now_for(0.1)
    long_ = risk.position_risk(pos("AAPL", 100, 150.0), equity=50_000, now=now, stop=145.0)
    assert long_.risk_dollars == pytest.approx(500.0)
    assert long_.risk_pct == pytest.approx(1.0)
    assert long_.basis == "stop"
    short = risk.position_risk(pos("TSLA", -50, 200.0), equity=50_000, now=now, stop=210.0)
    assert short.risk_dollars == pytest.approx(500.0)
    crossed = risk.position_risk(pos("AAPL", 100, 140.0), equity=50_000, now=now, stop=145.0)
    assert crossed.risk_dollars == 0.0


def test_option_risk_reprices_at_stop_vs_vollib() -> None:
    now = now_for(0.2)
    p = pos(OPT, 2, 3.57, "us_option")
    r = risk.position_risk(
        p, equity=100_000, now=now, stop=95.0, underlying_price=100.0, iv=0.2, rate=0.0
    )
    at_stop = black_scholes("c", 95.0, 100.0, 0.2, 0.0, 0.2)
    assert r.value_at_stop == pytest.approx(at_stop, rel=1e-9)
    assert r.risk_dollars == pytest.approx((3.57 - at_stop) * 2 * 100)
    assert r.underlying == "SPY"


def test_option_risk_implies_iv_from_price() -> None:
    now = now_for(0.2)
    price = bs_price(100.0, 100.0, 0.2, 0.01, 0.25, "C")
    p = pos(OPT, 1, round(price, 6), "us_option")
    r = risk.position_risk(p, equity=100_000, now=now, stop=97.0, underlying_price=100.0, rate=0.01)
    assert r.value_at_stop == pytest.approx(bs_price(97.0, 100.0, 0.2, 0.01, 0.25, "C"), rel=1e-5)


def test_option_without_stop_risks_whole_premium() -> None:
    r = risk.position_risk(pos(OPT, 3, 2.0, "us_option"), equity=60_000, now=now_for(0.1))
    assert r.risk_dollars == pytest.approx(600.0)
    assert r.risk_pct == pytest.approx(1.0)
    assert r.basis == "no_stop_premium"
    short = risk.position_risk(pos(OPT, -1, 2.0, "us_option"), equity=60_000, now=now_for(0.1))
    assert "unbounded" in short.note


def test_portfolio_heat_sums_positions() -> None:
    now = now_for(0.2)
    positions = [pos("AAPL", 100, 150.0), pos("TSLA", -50, 200.0), pos(OPT, 1, 2.0, "us_option")]
    h = risk.portfolio_heat(
        positions,
        equity=40_000,
        now=now,
        stops={"AAPL": 145.0, "TSLA": 210.0},  # the option has no stop: whole premium
        underlying_prices={"AAPL": 150.0, "TSLA": 200.0, "SPY": 100.0},
    )
    assert h.total_risk == pytest.approx(500 + 500 + 200)
    assert h.heat_pct == pytest.approx(3.0)
    assert [p.symbol for p in h.positions] == ["AAPL", "TSLA", OPT]


def test_position_size() -> None:
    assert risk.position_size(50_000, 1.0, 2.5) == 200.0
    assert risk.position_size(50_000, 1.0, 2.5, max_units=150) == 150.0
    assert risk.position_size(50_000, 1.0, 150.0) == 3.0  # options: $150 per contract
    assert risk.position_size(50_000, 1.0, 150.0, fractional=True) == pytest.approx(10 / 3)
    with pytest.raises(ValueError):
        risk.position_size(50_000, 1.0, 0.0)


# ----------------------------------------------------------------- greeks


def _quote(delta: float, gamma: float, theta: float, vega: float) -> OptionQuote:
    c = OptionContract(OPT, "SPY", EXPIRY_CLOSE.date(), "C", Decimal(100))
    return OptionQuote(c, 1.0, 1.1, None, None, None, 0.2, delta, gamma, theta, vega, None)


def test_greeks_exposure_from_quote_and_stock() -> None:
    rows = risk.greeks_exposure(
        [pos(OPT, 2, 3.0, "us_option"), pos("SPY", -50, 100.0)],
        underlying_prices={"SPY": 100.0},
        now=now_for(0.1),
        quotes={OPT: _quote(0.5, 0.05, -0.1, 0.2)},
    )
    opt, stock = rows
    assert opt.source == "quote"
    assert (opt.delta_shares, opt.dollar_delta) == pytest.approx((100.0, 10_000.0))
    assert (opt.gamma_shares, opt.theta_day, opt.vega) == pytest.approx((10.0, -20.0, 40.0))
    assert (stock.delta_shares, stock.dollar_delta) == pytest.approx((-50.0, -5_000.0))
    agg = risk.greeks_by_underlying(rows)
    spy = agg[agg.underlying == "SPY"].iloc[0]
    assert spy["dollar_delta"] == pytest.approx(5_000.0)
    assert spy["delta_shares"] == pytest.approx(50.0)
    total = agg[agg.underlying == "TOTAL"].iloc[0]
    assert total["theta_day"] == pytest.approx(-20.0)


def test_greeks_exposure_model_hull_example() -> None:
    # Hull: S=49, K=50, r=5%, T=0.3846, σ=20%: delta 0.5216, theta/yr -4.31, vega 0.121/pt
    sym = "XYZ251219C00050000"
    rows = risk.greeks_exposure(
        [pos(sym, 1, 2.4, "us_option")],
        underlying_prices={"XYZ": 49.0},
        now=now_for(0.3846),
        ivs={sym: 0.2},
        rate=0.05,
    )
    g = rows[0]
    assert g.source == "model"
    assert g.delta_shares == pytest.approx(52.16, abs=0.01)
    assert g.theta_day * 365 / 100 == pytest.approx(-4.31, abs=0.01)
    assert g.vega == pytest.approx(12.1, abs=0.05)
    assert g.gamma_shares == pytest.approx(6.55, abs=0.01)


# ----------------------------------------------------------------- concentration & limits


def test_concentration() -> None:
    df = risk.concentration(
        [pos("AAPL", 10, 200.0), pos(OPT, 2, 5.0, "us_option"), pos("SPY", -5, 100.0)], 10_000
    )
    assert df.iloc[0]["underlying"] == "AAPL"
    assert df.iloc[0]["pct_equity"] == pytest.approx(20.0)
    assert df.iloc[0]["pct_gross"] == pytest.approx(2000 / 3500 * 100)
    assert set(zip(df.underlying, df.asset_class, strict=True)) == {
        ("AAPL", "us_equity"),
        ("SPY", "us_option"),
        ("SPY", "us_equity"),
    }


class _Settings:
    heat_limit_pct = 8.0
    max_position_pct = 5.0
    daily_loss_limit_pct = 3.0
    max_drawdown_pct = 25.0


def test_limits_green_amber_red() -> None:
    limits = risk.RiskLimits.from_settings(_Settings())
    checks = {
        c.name: c
        for c in risk.check_limits(
            heat_pct=6.5,  # ≥ 0.8 × 8 → amber
            largest_position_pct=5.0,  # at the limit → red
            equity=97_500.0,
            last_equity=100_000.0,  # down 2.5% → amber (≥ 2.4)
            high_water_mark=110_000.0,  # down 11.36% → green
            limits=limits,
            largest_position="AAPL",
        )
    }
    assert checks["heat"].status is risk.LimitStatus.AMBER
    assert checks["position_size"].status is risk.LimitStatus.RED
    assert checks["position_size"].breached
    assert "AAPL" in checks["position_size"].message and "BREACH" in checks["position_size"].message
    assert checks["daily_loss"].value_pct == pytest.approx(2.5)
    assert checks["daily_loss"].status is risk.LimitStatus.AMBER
    assert checks["drawdown"].value_pct == pytest.approx(
        2_500 / 110_000 * 100 + 10_000 / 110_000 * 100
    )
    assert checks["drawdown"].status is risk.LimitStatus.GREEN
    assert not checks["drawdown"].breached


def test_limits_gain_day_and_unknown_value() -> None:
    checks = risk.check_limits(
        heat_pct=math.nan,
        largest_position_pct=1.0,
        equity=101_000.0,
        last_equity=100_000.0,
        high_water_mark=100_000.0,
        limits=risk.RiskLimits(),
    )
    by = {c.name: c for c in checks}
    assert by["daily_loss"].value_pct == 0.0 and by["daily_loss"].status is risk.LimitStatus.GREEN
    assert by["drawdown"].value_pct == 0.0  # new high: the mark moves up
    assert by["heat"].status is risk.LimitStatus.RED  # unknown is not safe


def test_gamma_stays_per_underlying_in_shares_per_dollar() -> None:
    """Gamma is summed within an underlying (shares of delta per $1 of that underlying),
    never across: the book total carries only the greeks that add."""
    rows = [
        risk.GreeksRow("SPY_A", "SPY", 600.0, 50.0, 30_000.0, 4.0, -20.0, 60.0, "model"),
        risk.GreeksRow("SPY_B", "SPY", 600.0, -10.0, -6_000.0, 1.5, -5.0, 10.0, "model"),
        risk.GreeksRow("NVDA", "NVDA", 140.0, 100.0, 14_000.0, 0.0, 0.0, 0.0, "stock"),
        risk.GreeksRow("NVDA_C", "NVDA", 140.0, 40.0, 5_600.0, 3.0, -8.0, 12.0, "quote"),
    ]
    per = {g.underlying: g for g in risk.greeks_per_underlying(rows)}
    assert list(per) == ["NVDA", "SPY"]
    assert per["SPY"].gamma_shares == 5.5 and per["NVDA"].gamma_shares == 3.0
    assert per["SPY"].delta_shares == 40.0 and per["SPY"].positions == 2
    assert per["NVDA"].spot == 140.0
    total = risk.book_greeks(rows)
    assert total == risk.BookGreeks(dollar_delta=43_600.0, theta_day=-33.0, vega=82.0)
    assert not hasattr(total, "gamma_shares")
