"""Projection by full repricing, its scenario grid and R in option dollars; payoff curves."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from dashboard.options.pricing import bs_greeks, bs_price
from dashboard.options.projection import (
    expected_hold_days,
    payoff_curve,
    project_quote,
    project_trade,
)
from tests.options._chains import make_quote

BASE = dict(spot=100.0, strike=100.0, years=30 / 365, iv=0.25, right="C", r=0.04)


def test_levels_are_full_bs_repricing_after_hold() -> None:
    p = project_trade(**BASE, stop=98.0, t1=104.0, t2=107.0, hold_days=3, contracts=2)
    t_after = (30 - 3) / 365
    for name, s in (("T1", 104.0), ("T2", 107.0), ("stop", 98.0)):
        lvl = p.levels[name]
        assert lvl.underlying == s
        assert lvl.value == pytest.approx(bs_price(s, 100, t_after, 0.04, 0.25, "C"), abs=1e-12)
        # P&L = (V − V_entry) × 100 × contracts, premium not subtracted again.
        assert lvl.pnl == pytest.approx((lvl.value - p.entry_price) * 200, abs=1e-9)
    assert p.entry_price == pytest.approx(bs_price(100, 100, 30 / 365, 0.04, 0.25, "C"))
    assert p.reward == pytest.approx(p.levels["T1"].pnl)
    assert p.risk == pytest.approx(-p.levels["stop"].pnl) and p.risk > 0
    assert p.r_multiple == pytest.approx(p.reward / p.risk)


def test_entry_premium_paid_sets_pnl_base() -> None:
    model = project_trade(**BASE, stop=98.0, t1=104.0, hold_days=3)
    paid = project_trade(
        **BASE, stop=98.0, t1=104.0, hold_days=3, entry_price=model.model_entry + 0.5
    )
    assert paid.levels["T1"].value == model.levels["T1"].value
    assert paid.reward == pytest.approx(model.reward - 50.0)
    assert any("differs from model" in n for n in paid.notes)


def test_scenario_grid() -> None:
    p = project_trade(**BASE, stop=98.0, t1=104.0, t2=107.0, hold_days=3)
    g = p.grid
    assert g.levels == ("T1", "T2", "stop")
    assert g.hold_days == (1.0, 3.0, 6.0)
    assert g.iv_shifts == (-0.05, 0.0, 0.05)
    assert g.values.shape == g.pnl.shape == (3, 3, 3)
    np.testing.assert_allclose(g.values[:, 1, 1], [p.levels[n].value for n in g.levels], atol=1e-12)
    # Corner check: stop, 6 days, IV + 5 points.
    assert g.values[2, 2, 2] == pytest.approx(
        bs_price(98, 100, 24 / 365, 0.04, 0.30, "C"), abs=1e-12
    )
    assert np.all(np.diff(g.values, axis=2) > 0)  # more IV, more value
    assert np.all(np.diff(g.values, axis=1) < 0)  # more time held, less value (long call)
    np.testing.assert_allclose(g.pnl, (g.values - p.entry_price) * 100)
    # Expected hold of 1 day collapses the duplicate.
    assert project_trade(**BASE, stop=98.0, hold_days=1).grid.hold_days == (1.0, 2.0)


def test_taylor_is_a_cross_check_that_degrades_with_move() -> None:
    small = project_trade(**BASE, stop=99.5, t1=100.5, hold_days=1)
    big = project_trade(**BASE, stop=85.0, t1=115.0, hold_days=1)
    g = bs_greeks(100, 100, 30 / 365, 0.04, 0.25, "C")
    ds = 0.5
    expected = float(g.price + g.delta * ds + 0.5 * g.gamma * ds**2 + g.theta * 1.0)
    assert small.levels["T1"].taylor_value == pytest.approx(expected, abs=1e-12)
    assert abs(small.levels["T1"].taylor_error) < 0.01
    assert abs(big.levels["T1"].taylor_error) > 10 * abs(small.levels["T1"].taylor_error)
    # The IV-change assumption enters the Taylor estimate through vega.
    crush = project_trade(**BASE, stop=99.5, t1=100.5, hold_days=1, iv_change=-0.03)
    assert crush.levels["T1"].taylor_value == pytest.approx(
        expected + float(g.vega) * -3.0, abs=1e-12
    )
    assert crush.levels["T1"].value == pytest.approx(
        bs_price(100.5, 100, 29 / 365, 0.04, 0.22, "C"), abs=1e-12
    )


def test_put_and_hold_past_expiry() -> None:
    p = project_trade(
        spot=100.0, strike=100.0, years=2 / 365, iv=0.3, right="P", stop=103.0, t1=95.0, hold_days=5
    )
    assert p.levels["T1"].value == pytest.approx(5.0)
    assert p.levels["stop"].value == 0.0
    assert p.risk == pytest.approx(p.entry_price * 100)
    assert any("expiry" in n for n in p.notes)


def test_no_t1_means_no_reward_and_bad_inputs_raise() -> None:
    p = project_trade(**BASE, stop=98.0, hold_days=3)
    assert p.reward is None and p.r_multiple is None and p.grid.levels == ("stop",)
    with pytest.raises(ValueError, match="iv"):
        project_trade(**{**BASE, "iv": 0.0}, stop=98.0, hold_days=3)
    with pytest.raises(ValueError, match="contracts"):
        project_trade(**BASE, stop=98.0, hold_days=3, contracts=0)


def test_expected_hold_days() -> None:
    assert expected_hold_days("1Hour") == 1
    assert expected_hold_days("D") == 3
    assert expected_hold_days("1Week") == 7
    assert expected_hold_days("1Month") == 21
    assert expected_hold_days("4h") == 2 and expected_hold_days("Q") == 63
    with pytest.raises(ValueError, match="no expected hold"):
        expected_hold_days("2Min")


def test_every_scanned_timeframe_has_a_hold_and_a_dte_window_that_covers_it() -> None:
    """A board row of any scanned timeframe can be ticketed: it has an expected hold, and
    its DTE window starts at two holds or more and never under the 5-DTE floor's reach."""
    from dashboard.options.selection import DEFAULT_DTE_BY_TIMEFRAME
    from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES

    ladder = ("15Min", "30Min", "1Hour", "4Hour", "1Day", "1Week", "1Month", "1Quarter")
    assert set(SIGNAL_TIMEFRAMES) == set(ladder)
    holds = [expected_hold_days(tf) for tf in ladder]
    assert holds == sorted(holds)  # longer bars, longer holds
    for tf, hold in zip(ladder, holds, strict=True):
        lo, hi = DEFAULT_DTE_BY_TIMEFRAME[tf]
        assert lo >= 2 * hold and hi > lo, tf


def test_project_quote_uses_ask_expiry_and_timeframe() -> None:
    now = datetime(2025, 11, 25, 15, 0, tzinfo=UTC)
    quote = make_quote(date(2025, 12, 19), "C", 600.0, spot=600.0, now=now, spread=0.20)
    p = project_quote(quote, spot=600.0, now=now, stop=595.0, t1=610.0, timeframe="1Day")
    assert p.entry_price == pytest.approx(quote.ask)
    assert p.hold_days == 3.0
    years = (24 + 6 / 24) / 365
    assert p.levels["T1"].value == pytest.approx(
        bs_price(610.0, 600, years - 3 / 365, 0.04, 0.25, "C"), abs=1e-9
    )
    no_iv = make_quote(date(2025, 12, 19), "C", 600.0, spot=600.0, now=now, with_iv=False)
    q = project_quote(no_iv, spot=600.0, now=now, stop=595.0, t1=610.0, hold_days=3, r=0.04)
    assert q.iv == pytest.approx(0.25, abs=1e-8)  # implied from the mid
    with pytest.raises(ValueError, match="hold_days or the signal timeframe"):
        project_quote(quote, spot=600.0, now=now, stop=595.0)


def test_payoff_curve_call() -> None:
    c = payoff_curve(
        right="C",
        strike=100,
        premium=2.5,
        contracts=2,
        prices=np.arange(80, 121, 1.0),
        years=30 / 365,
        iv=0.25,
        days_forward=10,
    )
    assert c.breakeven_at_expiry == 102.5
    assert c.max_loss == 500.0 and math.isinf(c.max_profit)
    i100, i110 = int(np.where(c.prices == 100)[0][0]), int(np.where(c.prices == 110)[0][0])
    assert c.pnl_at_expiry[0] == -500.0 and c.pnl_at_expiry[i100] == -500.0
    assert c.pnl_at_expiry[i110] == pytest.approx((10 - 2.5) * 200)
    assert c.pnl_at_time is not None and len(c.breakevens_at_time) == 1
    be = c.breakevens_at_time[0]
    # Linear interpolation on a $1 grid: the repriced option is worth ~ the premium there.
    assert bs_price(be, 100, 20 / 365, 0.04, 0.25, "C") == pytest.approx(2.5, abs=0.02)
    assert be < c.breakeven_at_expiry  # time value left lowers the breakeven
    assert np.all(c.pnl_at_time >= c.pnl_at_expiry - 1e-9)


def test_payoff_curve_put_defaults() -> None:
    p = payoff_curve(right="P", strike=50, premium=1.2, spot=50)
    assert p.prices[0] == pytest.approx(35) and p.prices[-1] == pytest.approx(65)
    assert p.breakeven_at_expiry == pytest.approx(48.8)
    assert p.max_profit == pytest.approx(48.8 * 100)
    assert p.pnl_at_time is None and p.breakevens_at_time == ()
    with pytest.raises(ValueError, match="years"):
        payoff_curve(right="P", strike=50, premium=1.2, spot=50, days_forward=3)
