"""Performance maths against hand-worked values and empyrical."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from dashboard.analytics import performance as pf

R = np.array([0.01, -0.02, 0.03, -0.01, 0.02])


def test_simple_returns_and_equity_curve() -> None:
    prices = pd.Series([100.0, 110.0, 99.0, 108.9])
    r = pf.simple_returns(prices)
    assert r.tolist() == pytest.approx([0.10, -0.10, 0.10])
    eq = pf.equity_curve(r, 1000.0)
    assert eq.tolist() == pytest.approx([1100.0, 990.0, 1089.0])


def test_drawdown_series_hand_worked() -> None:
    eq = pd.Series([100.0, 120.0, 90.0, 110.0, 130.0, 65.0])
    dd = pf.drawdown_series(eq)
    assert dd.tolist() == pytest.approx([0.0, 0.0, -0.25, 110 / 120 - 1, 0.0, -0.5])


def test_max_drawdown_hand_worked() -> None:
    # 100 → 110 → 88 → 96.8: peak 110, trough 88 → -20%
    assert pf.max_drawdown([0.10, -0.20, 0.10]) == pytest.approx(-0.20)
    assert pf.max_drawdown(R) == pytest.approx(empyrical.max_drawdown(R))


def test_sharpe_hand_worked_and_empyrical() -> None:
    mean, sd = R.mean(), R.std(ddof=1)  # 0.006, 0.020736
    assert mean == pytest.approx(0.006)
    expected = 0.006 / math.sqrt(0.00043) * math.sqrt(252)
    assert pf.sharpe_ratio(R) == pytest.approx(expected)
    assert pf.sharpe_ratio(R) == pytest.approx(mean / sd * math.sqrt(252))
    assert pf.sharpe_ratio(R) == pytest.approx(empyrical.sharpe_ratio(R))


def test_sortino_hand_worked() -> None:
    # downside deviation = sqrt(mean(min(r,0)^2)) over all 5 = sqrt((4e-4 + 1e-4)/5) = 0.01
    expected = 0.006 * 252 / (0.01 * math.sqrt(252))
    assert pf.sortino_ratio(R) == pytest.approx(expected)
    assert pf.sortino_ratio(R) == pytest.approx(empyrical.sortino_ratio(R))


def test_cagr_hand_worked() -> None:
    # 504 daily returns that compound to 1.21: two years → 10% a year
    r = np.full(504, 1.21 ** (1 / 504) - 1)
    assert pf.cagr(r) == pytest.approx(0.10)
    assert pf.cagr(R) == pytest.approx(empyrical.cagr(R))


def test_annual_volatility() -> None:
    assert pf.annual_volatility(R) == pytest.approx(math.sqrt(0.00043) * math.sqrt(252))


def test_rolling_ratios_match_full_window() -> None:
    s = pd.Series(R)
    assert pf.rolling_sharpe(s, window=5).iloc[-1] == pytest.approx(pf.sharpe_ratio(R))
    assert pf.rolling_sortino(s, window=5).iloc[-1] == pytest.approx(pf.sortino_ratio(R))
    assert pf.rolling_sharpe(s, window=5).iloc[:4].isna().all()


def test_normalise_to_same_start() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    bench = pd.Series([400.0, 404.0, 396.0, 420.0], index=idx)
    equity = pd.Series([10_000.0, 10_100.0, 10_050.0], index=idx[1:])
    out = pf.normalise_to(bench, equity)
    assert out.index[0] == idx[1]
    assert out.tolist() == pytest.approx([10_000.0, 10_000.0 * 396 / 404, 10_000.0 * 420 / 404])


def test_trade_stats_hand_worked() -> None:
    r = [2.0, -1.0, 1.5, -1.0, 0.0]
    s = pf.trade_stats(r)
    assert (s.trades, s.wins, s.losses, s.breakeven) == (5, 2, 2, 1)
    assert s.win_rate == pytest.approx(0.4)
    assert s.avg_win_r == pytest.approx(1.75)
    assert s.avg_loss_r == pytest.approx(-1.0)
    assert s.expectancy_r == pytest.approx(0.3)
    assert s.profit_factor == pytest.approx(1.75)
    assert s.total_r == pytest.approx(1.5)
    assert (s.largest_win_r, s.largest_loss_r) == (2.0, -1.0)
    # t interval: sd² = (1.7² + 1.3² + 1.2² + 1.3² + 0.3²)/4 = 7.8/4; t(0.975, 4) = 2.7764451
    half = 2.7764451 * math.sqrt(1.95) / math.sqrt(5)
    assert (s.expectancy_low, s.expectancy_high) == pytest.approx((0.3 - half, 0.3 + half))


def test_trade_stats_no_losses_and_empty() -> None:
    assert pf.trade_stats([1.0, 2.0]).profit_factor == math.inf
    e = pf.trade_stats([])
    assert e.trades == 0 and math.isnan(e.win_rate) and math.isnan(e.profit_factor)


def test_wilson_interval_hand_worked() -> None:
    # 8 of 10 at 95% (z = 1.959964): centre (0.8 + z²/20)/(1 + z²/10)
    z = 1.959963985
    denom = 1 + z * z / 10
    centre = (0.8 + z * z / 20) / denom
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / denom
    lo, hi = pf.wilson_interval(8, 10)
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert lo == pytest.approx(0.4901625, abs=1e-6)
    assert hi == pytest.approx(0.9433178, abs=1e-6)
    lo0, hi0 = pf.wilson_interval(0, 5)
    assert lo0 == 0.0 and 0 < hi0 < 0.5


def test_grouped_trade_stats() -> None:
    df = pd.DataFrame(
        {
            "pattern": ["2-1-2", "2-1-2", "3-1-2", "2-1-2"],
            "timeframe": ["1D", "1D", "1D", "1H"],
            "r_multiple": [1.0, -1.0, 2.0, 0.5],
        }
    )
    g = pf.grouped_trade_stats(df, ["pattern", "timeframe"])
    first = g.iloc[0]
    assert (first["pattern"], first["timeframe"], first["trades"]) == ("2-1-2", "1D", 2)
    assert first["expectancy_r"] == pytest.approx(0.0)
    row = g[(g["pattern"] == "3-1-2")].iloc[0]
    assert row["win_rate"] == 1.0 and row["expectancy_r"] == 2.0


def test_r_distribution_bins() -> None:
    d = pf.r_distribution([-1.0, -1.0, 0.2, 1.0, 1.4, 2.1], bin_width=0.5)
    assert d["left"].tolist() == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
    assert d["count"].tolist() == [2, 0, 1, 0, 2, 0, 1]
    assert d["count"].sum() == 6


# ------------------------------------------------------------------ benchmark comparison


def test_daily_closes_take_the_last_bar_of_each_new_york_day() -> None:
    idx = pd.DatetimeIndex(
        ["2024-01-02 14:30", "2024-01-02 20:30", "2024-01-03 02:00", "2024-01-03 15:00"],
        tz="UTC",
    )
    out = pf.daily_closes(pd.Series([1.0, 2.0, 3.0, 4.0], index=idx))
    # 2024-01-03 02:00 UTC is still Jan 2 (21:00) in New York.
    assert out.index.tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert out.tolist() == [3.0, 4.0]


def test_buy_and_hold_equal_weight_hand_worked() -> None:
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    a = pd.Series([100.0, 110.0, 121.0, 99.0], index=days)
    b = pd.Series([50.0, 50.0, np.nan, 25.0], index=days)  # a missing day carries forward
    out = pf.buy_and_hold({"A": a, "B": b}, 1000.0, start=days[1])
    # From Jan 3: A 110 → 121 → 99, B 50 → 50 → 25; 500 in each.
    assert out.index.tolist() == list(days[1:])
    assert out.tolist() == pytest.approx(
        [1000.0, 500 * 121 / 110 + 500.0, 500 * 99 / 110 + 500 * 25 / 50]
    )
    late = pd.Series([10.0, 20.0], index=days[2:])
    # Starts on the first day every symbol has a price.
    assert pf.buy_and_hold({"A": a, "L": late}, 100.0).index[0] == days[2]
    assert pf.buy_and_hold({}, 100.0).empty


def test_daily_equity_steps_forward_and_starts_at_capital() -> None:
    exits = pd.Series(
        [101_000.0, 99_990.0, 102_989.7],
        index=pd.DatetimeIndex(
            ["2024-01-03 15:00", "2024-01-03 19:00", "2024-01-05 16:00"], tz="UTC"
        ),
    )
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    out = pf.daily_equity(exits, pd.DatetimeIndex(days), 100_000.0)
    assert out.tolist() == [100_000.0, 99_990.0, 99_990.0, 102_989.7]
    assert pf.daily_equity(exits.iloc[0:0], pd.DatetimeIndex(days), 5.0).tolist() == [5.0] * 4


def test_curve_stats_hand_worked() -> None:
    eq = pd.Series([100.0, 110.0, 99.0, 108.9, 119.79])
    st = pf.curve_stats(eq)
    r = np.array([0.10, -0.10, 0.10, 0.10])
    assert st.total_return == pytest.approx(0.1979)
    assert st.max_drawdown == pytest.approx(-0.10)
    assert st.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    down = math.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    assert st.sortino == pytest.approx(r.mean() / down * math.sqrt(252))
    assert st.cagr == pytest.approx(1.1979 ** (252 / 4) - 1)
    assert st.days == 5
    assert math.isnan(pf.curve_stats(eq.iloc[:1]).sharpe)


def test_rolling_ratios_against_a_loop() -> None:
    rng = np.random.default_rng(3)
    r = pd.Series(rng.normal(0.0005, 0.01, 150))
    window = 63
    sharpe = pf.rolling_sharpe(r, window)
    sortino = pf.rolling_sortino(r, window)
    assert sharpe.iloc[: window - 1].isna().all() and sortino.iloc[: window - 1].isna().all()
    for end in (window, 100, 150):
        w = r.iloc[end - window : end].to_numpy()
        want_sh = w.mean() / w.std(ddof=1) * math.sqrt(252)
        want_so = w.mean() / math.sqrt(np.mean(np.minimum(w, 0.0) ** 2)) * math.sqrt(252)
        assert sharpe.iloc[end - 1] == pytest.approx(want_sh, rel=1e-9)
        assert sortino.iloc[end - 1] == pytest.approx(want_so, rel=1e-9)


# ------------------------------------------------------------------ portfolio equity


def test_portfolio_equity_hand_worked() -> None:
    from dashboard.analytics.performance import SizingRule, portfolio_equity

    d = pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC")
    # (entry, exit, R). 1% risk per trade, open risk capped at 2% of equity.
    trades = [
        (d[0], d[2], 2.0),  # A
        (d[1], d[3], -1.0),  # B
        (d[1], d[4], 1.0),  # C: A and B already hold 2% → skipped
        (d[2], d[2], 1.0),  # D: enters before A's exit on the same bar is counted → skipped
        (d[3], d[5], -1.0),  # E: B still open (entries first): 1000 + 1020 ≤ 2040 → taken
        (d[6], None, None),  # F: still open at the end
    ]
    eq = portfolio_equity(
        [t[0] for t in trades],
        [t[1] for t in trades],
        [t[2] for t in trades],
        SizingRule(risk_per_trade=0.01, max_open_risk=0.02),
        100_000.0,
    )
    # A +2R of 1000 → 102000; B −1R of 1000 → 101000; E −1R of 1% of 102000 → 99980.
    assert eq.equity.tolist() == pytest.approx([102_000.0, 101_000.0, 99_980.0])
    assert list(eq.equity.index) == [d[2], d[3], d[5]]
    assert (eq.taken, eq.skipped, eq.max_concurrent, eq.open_at_end) == (4, 2, 2, 1)
    assert eq.max_open_risk == pytest.approx(0.02)


def test_portfolio_equity_without_overlap_is_plain_compounding() -> None:
    from dashboard.analytics.performance import SizingRule, portfolio_equity

    d = pd.date_range("2024-01-01", periods=8, freq="D", tz="UTC")
    r = [1.0, -1.0, 2.0, 0.5]
    eq = portfolio_equity(d[0::2], d[1::2], r, SizingRule(), 1.0)
    want = np.cumprod([1 + 0.01 * x for x in r])
    assert eq.equity.to_numpy() == pytest.approx(want)
    assert (eq.max_concurrent, eq.skipped) == (1, 0)


def test_sizing_rule_checks_and_settings() -> None:
    from dashboard.analytics.performance import SizingRule
    from dashboard.settings import Settings

    assert SizingRule().max_positions == 8  # 1% each under the 8% heat limit
    assert "capped at 8%" in SizingRule().describe()
    with pytest.raises(ValueError):
        SizingRule(risk_per_trade=0.05, max_open_risk=0.02)
    s = Settings(heat_limit_pct=5.0)
    assert SizingRule.from_heat_limit(s.heat_limit_pct).max_open_risk == pytest.approx(0.05)
    assert Settings().heat_limit_pct / 100 == SizingRule().max_open_risk


def _compound_one_event_at_a_time(
    trades: list[tuple[pd.Timestamp, pd.Timestamp | None, float | None]], risk: float, cap: float
) -> tuple[list[pd.Timestamp], list[float], int, int]:
    """The sizing rule stated plainly, on pandas stamps: events by (time, entries first,
    trade order); each entry risks ``risk`` of the equity unless the open risk would pass
    ``cap`` of it; each exit adds its risk × R."""
    events = sorted(
        [(e, 0, i) for i, (e, _, _) in enumerate(trades)]
        + [(x, 1, i) for i, (_, x, r) in enumerate(trades) if x is not None and r is not None]
    )
    equity, open_risk, held, times, values, skipped = 1.0, 0.0, {}, [], [], 0
    for t, kind, i in events:
        if kind == 0:
            if open_risk + risk * equity > cap * equity * (1 + 1e-12):
                skipped += 1
                continue
            held[i] = risk * equity
            open_risk += held[i]
        elif i in held:
            open_risk -= held[i]
            equity += held.pop(i) * float(trades[i][2] or 0.0)
            times.append(t)
            values.append(equity)
    return times, values, len(trades) - skipped, skipped


@pytest.mark.parametrize("seed", range(15))
def test_portfolio_equity_matches_the_rule_on_random_books(seed: int) -> None:
    """Overlapping trades with shared bars (ties), open trades and missing R, against the
    rule applied to pandas stamps one event at a time."""
    from dashboard.analytics.performance import SizingRule, portfolio_equity

    rng = np.random.default_rng(seed)
    bars = pd.date_range("2024-01-02 14:30", periods=40, freq="h", tz="UTC")
    trades = []
    for _ in range(60):
        a = int(rng.integers(0, 35))
        exit_ = bars[a + int(rng.integers(0, 5))] if rng.random() > 0.1 else None
        r = None if exit_ is None else float(rng.normal(0.3, 1.5))
        trades.append((bars[a], exit_, r))
    eq = portfolio_equity(
        [t[0] for t in trades],
        [t[1] for t in trades],
        [t[2] for t in trades],
        SizingRule(risk_per_trade=0.01, max_open_risk=0.05),
        1.0,
    )
    times, values, taken, skipped = _compound_one_event_at_a_time(trades, 0.01, 0.05)
    assert list(eq.equity.index) == times
    assert eq.equity.tolist() == pytest.approx(values, rel=1e-12)
    assert (eq.taken, eq.skipped) == (taken, skipped)
    assert str(eq.equity.index.tz) == "UTC"
