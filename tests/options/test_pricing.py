"""BSM prices/greeks against Hull's worked example and vollib; IV round trips; properties."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vollib.black_scholes_merton import black_scholes_merton as vl_price
from vollib.black_scholes_merton.greeks import analytical as vl

from dashboard.options.pricing import Greeks, bs_greeks, bs_price, implied_vol, is_call_mask


def test_hull_golden_call() -> None:
    g = bs_greeks(49, 50, 0.3846, 0.05, 0.2, "C")
    assert isinstance(g, Greeks)
    assert g.price == pytest.approx(2.4005, abs=5e-4)
    assert g.delta == pytest.approx(0.5216, abs=5e-5)
    assert g.gamma == pytest.approx(0.0655, abs=5e-5)
    assert g.theta * 365 == pytest.approx(-4.31, abs=5e-3)
    assert g.vega == pytest.approx(0.121, abs=5e-4)
    assert g.rho == pytest.approx(0.0891, abs=5e-5)
    assert isinstance(g.price, float) and isinstance(
        bs_price(49, 50, 0.3846, 0.05, 0.2, "C"), float
    )


def test_hull_put_by_parity() -> None:
    c = bs_price(49, 50, 0.3846, 0.05, 0.2, "C")
    p = bs_price(49, 50, 0.3846, 0.05, 0.2, "P")
    assert c - p == pytest.approx(49 - 50 * np.exp(-0.05 * 0.3846), abs=1e-12)
    gc, gp = bs_greeks(49, 50, 0.3846, 0.05, 0.2, "C"), bs_greeks(49, 50, 0.3846, 0.05, 0.2, "P")
    assert gc.delta - gp.delta == pytest.approx(1.0, abs=1e-12)
    assert gc.gamma == pytest.approx(gp.gamma) and gc.vega == pytest.approx(gp.vega)


GRID = list(
    itertools.product(
        ("c", "p"),
        (80.0, 100.0, 125.0),  # S
        (90.0, 100.0, 110.0),  # K
        (2 / 365, 0.25, 1.5),  # T
        (0.0, 0.05),  # r
        (0.08, 0.3, 1.2),  # sigma
        (0.0, 0.03),  # q
    )
)


def test_matches_vollib_across_grid() -> None:
    flags, S, K, T, r, sig, q = (np.array(col) for col in zip(*GRID, strict=True))
    rights = np.where(flags == "c", "C", "P")
    g = bs_greeks(S, K, T, r, sig, rights, q)
    for i, row in enumerate(GRID):
        assert g.price[i] == pytest.approx(vl_price(*row), abs=1e-6)
        assert g.delta[i] == pytest.approx(vl.delta(*row), abs=1e-6)
        assert g.gamma[i] == pytest.approx(vl.gamma(*row), abs=1e-6)
        assert g.theta[i] == pytest.approx(vl.theta(*row), abs=1e-6)
        assert g.vega[i] == pytest.approx(vl.vega(*row), abs=1e-6)
        assert g.rho[i] == pytest.approx(vl.rho(*row), abs=1e-6)


def test_broadcasting_shapes() -> None:
    S = np.linspace(90, 110, 5)[:, None]
    sig = np.array([0.1, 0.2, 0.3])[None, :]
    out = bs_price(S, 100, 0.5, 0.03, sig, "C")
    assert out.shape == (5, 3)
    assert out[2, 1] == pytest.approx(vl_price("c", 100.0, 100, 0.5, 0.03, 0.2, 0.0), abs=1e-10)


def test_expired_and_zero_vol_are_intrinsic_without_warnings() -> None:
    S = np.array([90.0, 100.0, 110.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        call = bs_greeks(S, 100, 0.0, 0.05, 0.2, "C")
        put = bs_greeks(S, 100, -0.01, 0.05, 0.2, "P")
        flat = bs_greeks(S, 100, 0.5, 0.05, 0.0, "C")
        assert np.isnan(implied_vol(1.0, 100, 100, 0.0, 0.05, "C"))
    np.testing.assert_allclose(call.price, [0, 0, 10])
    np.testing.assert_allclose(call.delta, [0, 0, 1])
    np.testing.assert_allclose(put.price, [10, 0, 0])
    np.testing.assert_allclose(put.delta, [-1, 0, 0])
    for g in (call, put):
        np.testing.assert_allclose(g.gamma, 0)
        np.testing.assert_allclose(g.vega, 0)
        np.testing.assert_allclose(g.theta, 0)
    # Zero vol, T > 0: discounted forward intrinsic, max(S − K e^{-rT}, 0).
    kf = 100 * np.exp(-0.05 * 0.5)
    np.testing.assert_allclose(flat.price, np.maximum(S - kf, 0))
    np.testing.assert_allclose(flat.delta, [0, 1, 1])
    assert not np.signbit(put.delta[1])  # no "-0.00" in the UI


def test_right_parsing() -> None:
    np.testing.assert_array_equal(
        is_call_mask(["C", "P", "call", "put"]), [True, False, True, False]
    )
    with pytest.raises(ValueError, match="'C' or 'P'"):
        bs_price(100, 100, 1, 0.0, 0.2, "X")
    with pytest.raises(ValueError, match="'C' or 'P'"):
        bs_price(100, 100, 1, 0.0, 0.2, np.array(["C", "Q"]))


def test_implied_vol_round_trip_random_grid() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    S = rng.uniform(20, 500, n)
    K = S * np.exp(rng.normal(0, 0.25, n))
    T = rng.uniform(1 / 365, 2.0, n)
    r = rng.uniform(0, 0.07, n)
    q = rng.uniform(0, 0.04, n)
    sig = rng.uniform(0.05, 2.0, n)
    right = np.where(rng.random(n) < 0.5, "C", "P")
    g = bs_greeks(S, K, T, r, sig, right, q)
    iv = implied_vol(g.price, S, K, T, r, right, q)
    informative = g.vega > 1e-3  # a cent of vega per 100 vol points or more
    assert not np.isnan(iv[informative]).any()
    np.testing.assert_allclose(iv[informative], sig[informative], atol=1e-7)
    # Wherever a vol is returned, it reprices the input.
    ok = ~np.isnan(iv)
    np.testing.assert_allclose(bs_price(S, K, T, r, iv, right, q)[ok], g.price[ok], atol=1e-7)


def test_implied_vol_agrees_with_vollib() -> None:
    from vollib.black_scholes_merton.implied_volatility import implied_volatility as vl_iv

    cases = [
        ("c", 100, 95, 0.2, 0.03, 0.01, 7.5),
        ("p", 100, 95, 0.2, 0.03, 0.01, 1.9),
        ("c", 50, 60, 1.0, 0.02, 0.0, 2.1),
    ]
    for flag, S, K, T, r, q, price in cases:
        ours = implied_vol(price, S, K, T, r, flag.upper(), q)
        assert ours == pytest.approx(vl_iv(price, S, K, T, r, q, flag), abs=1e-8)


def test_implied_vol_nan_where_no_solution() -> None:
    S, K, T, r = 100.0, 100.0, 0.5, 0.02
    upper_call = S
    iv = implied_vol([-1.0, 0.0, 1e-20, upper_call, 150.0, np.nan, 5.0], S, K, T, r, "C")
    assert np.isnan(iv[:6]).all()
    assert bs_price(S, K, T, r, iv[6], "C") == pytest.approx(5.0, abs=1e-10)
    # Below intrinsic (deep ITM call worth less than S − K e^{-rT}).
    assert np.isnan(implied_vol(19.0, 120, 100, 0.5, 0.02, "C"))
    # Scalar in, scalar out.
    assert isinstance(implied_vol(5.0, S, K, T, r, "C"), float)


finite = dict(allow_nan=False, allow_infinity=False)
spot = st.floats(10, 1000, **finite)
moneyness = st.floats(0.5, 2.0, **finite)
tenor = st.floats(1 / 365, 3.0, **finite)
rate = st.floats(0.0, 0.1, **finite)
vol = st.floats(0.02, 2.0, **finite)
div = st.floats(0.0, 0.06, **finite)


@settings(max_examples=200, deadline=None)
@given(spot, moneyness, tenor, rate, vol, div)
def test_put_call_parity(S: float, m: float, T: float, r: float, sig: float, q: float) -> None:
    K = S * m
    c = bs_price(S, K, T, r, sig, "C", q)
    p = bs_price(S, K, T, r, sig, "P", q)
    assert c - p == pytest.approx(S * np.exp(-q * T) - K * np.exp(-r * T), abs=1e-9 * S)


@settings(max_examples=100, deadline=None)
@given(spot, tenor, rate, vol, div, st.sampled_from(["C", "P"]))
def test_delta_monotone_in_spot(
    K: float, T: float, r: float, sig: float, q: float, right: str
) -> None:
    S = np.linspace(0.3 * K, 3 * K, 400)
    d = bs_greeks(S, K, T, r, sig, right, q).delta
    assert np.all(np.diff(d) >= -1e-12)
    assert np.all(np.abs(d) <= np.exp(-q * T) + 1e-12)


@settings(max_examples=100, deadline=None)
@given(spot, moneyness, tenor, rate, div, st.sampled_from(["C", "P"]))
def test_price_monotone_in_vol(
    S: float, m: float, T: float, r: float, q: float, right: str
) -> None:
    sig = np.linspace(0.01, 3.0, 300)
    price = bs_price(S, S * m, T, r, sig, right, q)
    assert np.all(np.diff(price) >= -1e-9 * S)
