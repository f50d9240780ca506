"""VaR and CVaR against hand-worked numbers, scipy.stats.norm, vollib and lognormal quantiles."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from vollib.black_scholes import black_scholes

from dashboard.analytics import var
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import parse_occ
from dashboard.options.pricing import bs_price
from tests.analytics._book import NY, now_for, pos

# ----------------------------------------------------------------- VaR

RETS = np.array([-0.05, -0.03] + [0.01] * 18)


def test_historical_var_cvar_hand_worked() -> None:
    # sorted: -0.05, -0.03, 0.01...; 5% quantile at position 19*0.05 = 0.95
    assert var.historical_var(RETS, 0.95) == pytest.approx(0.05 - 0.95 * 0.02)  # 0.031
    assert var.historical_var(RETS, 0.99) == pytest.approx(0.05 - 0.19 * 0.02)  # 0.0462
    # tail = int(19 * 0.05) + 1 = 1 worst return
    assert var.historical_cvar(RETS, 0.95) == pytest.approx(0.05)
    big = np.arange(-50, 50) / 1000.0  # -0.050 ... 0.049
    # tail = int(99 * 0.05) + 1 = 5 worst: mean(-0.050..-0.046) = -0.048
    assert var.historical_cvar(big, 0.95) == pytest.approx(0.048)


def test_parametric_var_cvar_vs_scipy() -> None:
    mu = 0.1 / 20  # (-0.08 + 0.18) / 20
    sd = float(np.sqrt(((RETS - mu) ** 2).sum() / 19))
    assert var.parametric_var(RETS, 0.95) == pytest.approx(-(mu + sd * norm.ppf(0.05)))
    assert var.parametric_var(RETS, 0.99) == pytest.approx(-norm.ppf(0.01, loc=mu, scale=sd))
    # ES of a normal: -mu + sd * pdf(z) / (1 - c)
    es = -mu + sd * norm.pdf(norm.ppf(0.99)) / 0.01
    assert var.parametric_cvar(RETS, 0.99) == pytest.approx(es)
    # cross-check ES by integrating the normal tail numerically
    q = norm.ppf(0.05, loc=mu, scale=sd)
    xs = np.linspace(mu - 12 * sd, q, 200_001)
    tail_mean = np.trapezoid(xs * norm.pdf(xs, mu, sd), xs) / 0.05
    assert var.parametric_cvar(RETS, 0.95) == pytest.approx(-tail_mean, rel=1e-6)


def test_var_report_rows_and_dollars() -> None:
    rep = var.var_report(RETS, equity=100_000)
    df = rep.frame()
    assert rep.observations == 20
    hist95 = df[(df.method == "historical") & (df.confidence == 0.95)].iloc[0]
    assert hist95["var_dollars"] == pytest.approx(3_100.0)
    assert hist95["cvar_dollars"] == pytest.approx(5_000.0)
    assert len(df) == 4


def test_portfolio_returns_from_exposures() -> None:
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    closes = pd.DataFrame({"A": [100.0, 110.0, 99.0], "B": [50.0, 50.0, 55.0]}, index=idx)
    r = var.portfolio_returns({"A": 10_000.0, "B": -5_000.0}, closes, equity=20_000.0)
    # day 1: 10k*10% = +1000 → 5%; day 2: 10k*-10% - 5k*10% = -1500 → -7.5%
    assert r.tolist() == pytest.approx([0.05, -0.075])
    with pytest.raises(ValueError, match="C"):
        var.portfolio_returns({"C": 1.0}, closes, equity=1.0)


# ----------------------------------------------------------------- full revaluation

SPY_CALL = "SPY251219C00100000"
V0_30D = 2.2871506280449694  # Black-Scholes S=K=100, 30/365 y, 20% vol, r=q=0 (below)


def _closes(**cols: list[float]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.date_range("2025-11-14", periods=n, freq="B"))


def test_full_revaluation_matches_a_hand_worked_three_scenario_book() -> None:
    """Two long SPY 100 calls, 30 days to expiry, spot 100, IV 20%, r = q = 0; closes
    100 → 90 → 90 → 94.5 give three scenarios: −10%, 0%, +5%, i.e. S = 90, 100, 105.

    Black-Scholes, d1 = (ln(S/K) + σ²T/2) / (σ√T), d2 = d1 − σ√T, C = S·N(d1) − K·N(d2):

    - now, T = 30/365 = 0.0821918, √T = 0.286691: d1 = 0.028669, d2 = −0.028669,
      N(d1) = 0.511436, N(d2) = 0.488564, C0 = 100 × 0.022872 = 2.287151;
    - one day later, T = 29/365 = 0.0794521, √T = 0.281872, σ√T = 0.0563745:
      - S = 90:  d1 = (−0.105361 + 0.001589) / 0.0563745 = −1.840753, d2 = −1.897127,
        N = 0.032829, 0.028906 → C = 2.954610 − 2.890566 = 0.064044;
      - S = 100: d1 = 0.028187, d2 = −0.028187, N = 0.511244, 0.488756 → C = 2.248719;
      - S = 105: d1 = 0.893653, d2 = 0.837278, N = 0.814246, 0.798782 → C = 5.617654.

    P&L = 2 × 100 × (C − C0) = −444.6214, −7.6864 (a day of time decay), +666.1006.
    Historical VaR (numpy's linear quantile over the 3 sorted values, position (n−1)(1−c)):
    95%: −(−444.6214 + 0.1 × (−7.6864 + 444.6214)) = 400.9279;
    99%: −(−444.6214 + 0.02 × 436.9350) = 435.8827.
    CVaR: the worst int((n−1)(1−c)) + 1 = 1 scenario at both levels: 444.6214.
    The premium at risk is 2 × 100 × 2.287151 = 457.4301, above all four.

    The delta approximation of the same book: dollar delta 2 × 100 × 0.511436 × 100 =
    10,228.71, so the −10% day loses 1,022.87, more than the whole premium, and the
    delta-normal 99% VaR (mean −0.01667 × 10,228.71, sd 0.07638 × 10,228.71) is about
    1,988: what the page used to show for a book that can lose at most 457.43.
    """
    hand_c = {90.0: 0.064044, 100.0: 2.248719, 105.0: 5.617654}
    for s, c in hand_c.items():  # the hand prices against vollib and our pricer
        assert black_scholes("c", s, 100.0, 29 / 365, 0.0, 0.2) == pytest.approx(c, abs=1e-6)
        assert bs_price(s, 100.0, 29 / 365, 0.0, 0.2, "C") == pytest.approx(c, abs=1e-6)
    assert black_scholes("c", 100.0, 100.0, 30 / 365, 0.0, 0.2) == pytest.approx(V0_30D)

    p = pos(SPY_CALL, 2, V0_30D, "us_option")
    rep = var.full_revaluation_var(
        [p],
        _closes(SPY=[100.0, 90.0, 90.0, 94.5]),
        equity=100_000.0,
        now=now_for(30 / 365),
        underlying_prices={"SPY": 100.0},
    )
    (line,) = rep.lines
    assert line.sigma == pytest.approx(0.2, abs=1e-8) and line.iv_source == "mark"
    assert rep.historical_pnl.tolist() == pytest.approx([-444.6214, -7.6864, 666.1006], abs=2e-3)
    full95 = rep.row("full_revaluation", "historical", 0.95)
    full99 = rep.row("full_revaluation", "historical", 0.99)
    assert full95.var_dollars == pytest.approx(400.9279, abs=2e-3)
    assert full99.var_dollars == pytest.approx(435.8827, abs=2e-3)
    assert full95.cvar_dollars == full99.cvar_dollars == pytest.approx(444.6214, abs=2e-3)
    assert full95.var_pct == pytest.approx(0.4009279, abs=1e-5)  # % of 100,000 equity
    assert full95.label == "Full revaluation · historical"
    assert rep.premium_at_risk == pytest.approx(457.4301, abs=1e-3)
    assert rep.max_loss == pytest.approx(rep.premium_at_risk)
    # Beside it, the labelled delta comparison: more than the book can lose.
    assert rep.dollar_delta["SPY"] == pytest.approx(10_228.71, abs=0.01)
    assert rep.delta_pnl.tolist() == pytest.approx([-1022.87, 0.0, 511.44], abs=0.01)
    normal99 = rep.row("delta", "parametric", 0.99)
    assert normal99.label == "Delta-normal"
    assert normal99.var_dollars == pytest.approx(1987.89, abs=0.05)
    assert normal99.var_dollars > rep.premium_at_risk
    for r in rep.rows:
        if r.model == "full_revaluation":
            assert r.var_dollars <= rep.premium_at_risk and r.cvar_dollars <= rep.premium_at_risk


_books = st.lists(
    st.tuples(
        st.sampled_from(["SPY", "QQQ"]),
        st.sampled_from(["C", "P"]),
        st.floats(0.7, 1.3),  # strike / spot
        st.integers(1, 120),  # days to expiry
        st.floats(0.08, 1.2),  # IV
        st.integers(1, 20),  # contracts
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(
    book=_books,
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 80),
    vol=st.floats(0.005, 0.2),
    horizon=st.sampled_from([1.0, 3.0]),
)
def test_a_long_option_book_never_shows_a_loss_beyond_its_premium(
    book: list[tuple[str, str, float, int, float, int]],
    seed: int,
    n: int,
    vol: float,
    horizon: float,
) -> None:
    """Any long-option book (calls and puts on two underlyings), any history of returns
    (fat-tailed, up to −95% / +200% days): full-revaluation VaR and CVaR at 95% and 99%,
    historical and parametric, never exceed the premium at risk, the most it can lose."""
    rng = np.random.default_rng(seed)
    spots = {"SPY": 600.0, "QQQ": 520.0}
    rets = np.clip(rng.standard_t(3, size=(n, 2)) * vol, -0.95, 2.0)
    closes = pd.DataFrame(
        {u: 100.0 * np.r_[1.0, np.cumprod(1 + rets[:, j])] for j, u in enumerate(spots)},
        index=pd.date_range("2025-01-01", periods=n + 1, freq="B"),
    )
    positions = []
    for under, right, moneyness, days, iv, qty in book:
        strike = round(spots[under] * moneyness)
        expiry = (now_for(0.0) + timedelta(days=days)).astimezone(NY).date()
        symbol = f"{under}{expiry:%y%m%d}{right}{strike * 1000:08d}"
        t = years_to_expiry(parse_occ(symbol).expiry, now_for(0.0))
        price = float(bs_price(spots[under], strike, t, 0.0, iv, right))
        positions.append(pos(symbol, qty, max(price, 0.01), "us_option"))
    rep = var.full_revaluation_var(
        positions,
        closes,
        equity=50_000.0,
        now=now_for(0.0),
        underlying_prices=spots,
        horizon_days=horizon,
        draws=3000,
        seed=seed,
    )
    premium = rep.premium_at_risk
    assert premium == pytest.approx(sum(float(p.market_value) for p in positions), rel=1e-6)
    assert rep.max_loss == pytest.approx(premium)
    assert rep.historical_pnl.min() >= -premium - 1e-6
    for r in rep.rows:
        if r.model == "full_revaluation":
            assert r.var_dollars <= premium + 1e-6, r
            assert r.cvar_dollars <= premium + 1e-6, r


def test_parametric_full_revaluation_of_a_stock_matches_the_lognormal_quantile() -> None:
    """100 shares at 200 under normal log returns (the sample mean and sd of the history):
    VaR = 100 × 200 × (1 − exp(μ + σ·Φ⁻¹(1 − c))), within Monte Carlo error."""
    rng = np.random.default_rng(3)
    closes = _closes(AAPL=list(150 * np.cumprod(np.r_[1.0, 1 + rng.normal(0, 0.02, 250)])))
    logs = np.log(closes["AAPL"]).diff().dropna()
    mu, sd = float(logs.mean()), float(logs.std(ddof=1))
    rep = var.full_revaluation_var(
        [pos("AAPL", 100, 200.0)],
        closes,
        equity=100_000.0,
        now=now_for(0.1),
        underlying_prices={"AAPL": 200.0},
        draws=20_000,
    )
    for c in (0.95, 0.99):
        exact = 100 * 200.0 * (1 - math.exp(mu + sd * norm.ppf(1 - c)))
        assert rep.row("full_revaluation", "parametric", c).var_dollars == pytest.approx(
            exact, rel=0.04
        )
    # A stock is linear: full revaluation and delta agree scenario by scenario.
    assert rep.historical_pnl == pytest.approx(rep.delta_pnl)
    assert rep.premium_at_risk == 0.0 and rep.max_loss == pytest.approx(20_000.0)


def test_grid_repricing_equals_exact_repricing() -> None:
    lines = var.book_lines(
        [pos(SPY_CALL, 3, V0_30D, "us_option"), pos("SPY", -50, 100.0)],
        now=now_for(30 / 365),
        underlying_prices={"SPY": 100.0},
    )
    prices = {"SPY": 100 * np.exp(np.random.default_rng(1).normal(0, 0.03, 5000))}
    exact = var.revalue_book(lines, prices)
    gridded = var.revalue_book(lines, prices, grid_nodes=513)
    assert np.abs(gridded - exact).max() < 0.01  # dollars, on a 300-share-delta book


def test_short_positions_have_no_bounded_max_loss_and_expiry_within_horizon() -> None:
    now = now_for(0.5 / 365)  # half a day to expiry: the 1-day horizon reaches it
    short = pos(SPY_CALL, -1, 1.0, "us_option")
    rep = var.full_revaluation_var(
        [short],
        _closes(SPY=[100.0, 103.0, 100.0]),
        equity=10_000.0,
        now=now,
        underlying_prices={"SPY": 100.0},
    )
    assert rep.max_loss is None and rep.premium_at_risk == 0.0
    # At expiry the call is worth its intrinsic value: max(103 − 100, 0) = 3 on the +3% day.
    v0 = rep.lines[0].value_now
    assert rep.historical_pnl[0] == pytest.approx(-100 * (3.0 - v0))


def test_an_option_marked_below_intrinsic_uses_the_quote_iv_and_says_so() -> None:
    p = pos(SPY_CALL, 1, 4.0, "us_option")  # intrinsic is 5 at spot 105
    (line,) = var.book_lines(
        [p], now=now_for(0.1), underlying_prices={"SPY": 105.0}, ivs={SPY_CALL: 0.25}
    )
    assert line.iv_source == "quote" and line.sigma == 0.25
    rep = var.full_revaluation_var(
        [p],
        _closes(SPY=[100.0, 101.0, 99.0]),
        equity=10_000.0,
        now=now_for(0.1),
        underlying_prices={"SPY": 105.0},
        ivs={SPY_CALL: 0.25},
    )
    assert rep.notes == (f"{SPY_CALL}: IV from the quote (the mark is at or below intrinsic)",)
    assert any("one trading day" in a for a in rep.assumptions)
    assert any("Delta rows are for comparison" in a for a in rep.assumptions)
    with pytest.raises(ValueError, match="no price history for SPY"):
        var.full_revaluation_var(
            [p],
            _closes(QQQ=[1.0, 2.0]),
            equity=1.0,
            now=now_for(0.1),
            underlying_prices={"SPY": 105.0},
        )


def test_an_empty_book_has_no_scenarios() -> None:
    rep = var.full_revaluation_var(
        [], _closes(SPY=[1.0, 2.0, 3.0]), equity=1_000.0, now=now_for(0.1), underlying_prices={}
    )
    assert rep.observations == 0 and rep.delta_pnl.size == 0 and rep.parametric_draws == 0
    assert all(math.isnan(r.var_dollars) for r in rep.rows)
    assert rep.max_loss == 0.0 and rep.premium_at_risk == 0.0
