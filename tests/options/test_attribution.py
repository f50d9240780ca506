"""Greek P&L attribution: parts add up to the actual P&L; each greek explains its own move."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.options.attribution import OptionState, attribute_pnl
from dashboard.options.pricing import bs_greeks, bs_price

K = 100.0


def state(spot: float, days: float, iv: float, rate: float = 0.04, right: str = "C") -> OptionState:
    years = days / 365
    return OptionState(spot, years, iv, float(bs_price(spot, K, years, rate, iv, right)), rate)


def test_parts_sum_exactly_and_match_greeks() -> None:
    entry, now = state(100, 30, 0.25), state(103, 27, 0.23)
    a = attribute_pnl(entry, now, strike=K, right="C", qty=2)
    g = bs_greeks(100, K, 30 / 365, 0.04, 0.25, "C")
    assert a.actual == pytest.approx((now.price - entry.price) * 200)
    assert a.delta == pytest.approx(g.delta * 3 * 200)
    assert a.gamma == pytest.approx(0.5 * g.gamma * 9 * 200)
    assert a.theta == pytest.approx(g.theta * 3 * 200)
    assert a.vega == pytest.approx(g.vega * -2 * 200)
    assert a.rho == 0.0
    assert a.explained + a.residual == a.actual
    assert sum(a.parts.values()) == pytest.approx(a.actual, abs=1e-9)
    assert abs(a.residual) < 0.05 * abs(a.actual)


def test_single_driver_dominates() -> None:
    decay = attribute_pnl(state(100, 30, 0.25), state(100, 29, 0.25), strike=K, right="C")
    assert decay.theta == pytest.approx(decay.actual, rel=0.02)
    assert decay.delta == 0 and decay.vega == 0
    vol = attribute_pnl(state(100, 30, 0.25), state(100, 30, 0.26), strike=K, right="P")
    assert vol.vega == pytest.approx(vol.actual, rel=0.01)
    move = attribute_pnl(
        state(100, 30, 0.25, right="P"), state(99, 30, 0.25, right="P"), strike=K, right="P"
    )
    assert move.delta > 0  # a put gains as spot falls
    assert move.delta + move.gamma == pytest.approx(move.actual, rel=0.01)


def test_market_price_gap_lands_in_residual() -> None:
    entry = state(100, 30, 0.25)
    now = state(100, 30, 0.25)
    widened = OptionState(now.spot, now.years, now.iv, now.price - 0.10, now.rate)
    a = attribute_pnl(entry, widened, strike=K, right="C")
    assert a.actual == pytest.approx(-10.0)
    assert a.residual == pytest.approx(-10.0)


def test_rejects_bad_entry_iv() -> None:
    with pytest.raises(ValueError, match="IV"):
        attribute_pnl(OptionState(100, 0.1, 0.0, 2.0), state(100, 30, 0.25), strike=K, right="C")


@settings(max_examples=300, deadline=None)
@given(
    st.floats(50, 150),
    st.floats(50, 150),
    st.floats(2, 200),
    st.floats(0, 2),
    st.floats(0.05, 1.0),
    st.floats(0.05, 1.0),
    st.floats(0.0, 0.08),
    st.floats(0.0, 0.08),
    st.sampled_from(["C", "P"]),
    st.integers(-20, 20).filter(bool),
)
def test_parts_always_sum_exactly(
    s0: float,
    s1: float,
    d0: float,
    dd: float,
    v0: float,
    v1: float,
    r0: float,
    r1: float,
    right: str,
    qty: int,
) -> None:
    entry = state(s0, d0, v0, r0, right)
    now = state(s1, max(d0 - dd, 0.0), v1, r1, right)
    a = attribute_pnl(entry, now, strike=K, right=right, qty=qty)
    # Exact up to float rounding: within a few ulps of the largest term.
    scale = max(abs(v) for v in (*a.parts.values(), a.actual, 1.0))
    assert abs(a.explained + a.residual - a.actual) <= 4 * math.ulp(scale)
