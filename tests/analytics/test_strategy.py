"""STRAT backtest on hand-built bar sequences: exact entries, exits and R."""

from __future__ import annotations

import dataclasses
import math
import statistics
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics.edge import r_equity_curve, trades_frame
from dashboard.analytics.strategy import backtest_patterns
from tests.analytics._bars import GOLDEN, PREFIX, TFC_DAYS, make_bars, tfc_bars


def by_label(trades):
    return {t.label: t for t in trades}


def test_golden_sequence_trades() -> None:
    res = backtest_patterns(make_bars(GOLDEN), symbol="XYZ", timeframe="1D")
    # Patterns: 2D-2U @1, 2D-1-2U and 2D-1-2D @2, 1-2U-2D @3, 2U-2D @4, 2D-2U @5.
    assert (res.patterns_found, res.triggered, res.expired, res.pending) == (6, 4, 1, 1)
    t = by_label(res.trades)
    assert set(t) == {"2D-2U", "2D-1-2U", "1-2U-2D", "2U-2D"}

    # 2-1-2 reversal long: entry inside high + 1c = 10.01, stop inside low 9.30,
    # T1 = 2D bar high 10.40; triggers on bar 3, T1 on bar 4.
    a = t["2D-1-2U"]
    assert (a.setup_index, a.entry_index, a.exit_index, a.bars_held) == (2, 3, 4, 1)
    assert (a.entry_price, a.stop_price, a.target_price, a.exit_price) == (
        10.01,
        9.30,
        10.40,
        10.40,
    )
    assert a.outcome == "target"
    assert a.r_multiple == pytest.approx(0.39 / 0.71)
    assert a.entry_time == pd.Timestamp("2024-01-04", tz="UTC")

    # 1-2-2 RevStrat short from bar 3 (2U after the inside bar): entry 9.84, stop 10.20,
    # T1 the mother bar's low 9.00 (bar 1, before the inside bar). Bar 5 (O 10.30 H 10.35
    # L 9.80 C 9.90) opens nearer its high, so the path rule runs O→H→L→C: the 10.35 high
    # comes before the 9.84 entry and stops nothing; the close 9.90 is under the stop.
    # The trade is open. (The old expectation, stopped at −1R, scored the part of the
    # bar before the entry against the stop: the defect of issue 21.)
    b = t["1-2U-2D"]
    assert (b.entry_index, b.exit_index, b.entry_price, b.target_price) == (5, None, 9.84, 9.00)
    assert b.outcome == "open" and b.r_multiple is None
    assert b.settlement == "path rule"
    assert any("path rule (O→H→L→C)" in n for n in b.notes)

    # 2-2 reversal short from bar 4: entry 10.09, stop 10.45, T1 bar-3 low 9.85; bar 5
    # reaches 9.80 without the stop → target on the trigger bar, R = 0.24 / 0.36.
    c = t["2U-2D"]
    assert (c.entry_index, c.exit_index, c.exit_price, c.bars_held) == (5, 5, 9.85, 0)
    assert c.r_multiple == pytest.approx(2 / 3)

    # 2-2 reversal long from bar 1: entry 10.41 (trigger on bar 4), T1 10.50, stop 9.00:
    # neither is reached by the end, so it is open with no R.
    d = t["2D-2U"]
    assert (d.entry_index, d.entry_price, d.outcome, d.r_multiple) == (4, 10.41, "open", None)

    # Closed trades in exit order: +0.549R, +0.667R.
    curve = r_equity_curve(res.trades)
    a_r = 0.39 / 0.71
    assert curve.tolist() == pytest.approx([a_r, a_r + 2 / 3])
    assert {x.label: str(x.settlement) for x in res.trades} == {
        "2D-1-2U": "exact",
        "1-2U-2D": "path rule",
        "2U-2D": "exact",
        "2D-2U": "exact",
    }
    assert res.method.settlement_counts == {
        "exact": 3,
        "magnified": 0,
        "path rule": 1,
        "ambiguous": 0,
    }


def test_no_look_ahead_prefix() -> None:
    """Trades decided by bar k are identical when later bars are added."""
    full = backtest_patterns(make_bars(GOLDEN))
    for k in range(3, len(GOLDEN) + 1):
        part = backtest_patterns(make_bars(GOLDEN[:k]))
        full_by = {(t.label, t.setup_index): t for t in full.trades}
        for t in part.trades:
            ft = full_by[(t.label, t.setup_index)]
            assert (t.entry_index, t.entry_price) == (ft.entry_index, ft.entry_price)
            if t.outcome != "open":
                assert t == ft


def test_gap_fills_entry_and_stop() -> None:
    rows = [
        (10.0, 10.5, 9.5, 10.0),
        (10.3, 10.4, 9.0, 9.2),  # 2D
        (9.5, 10.0, 9.3, 9.8),  # inside: long entry 10.01, stop 9.30, T1 10.40
        (10.10, 10.20, 10.05, 10.15),  # gaps above 10.01: fill at the open 10.10
        (9.00, 9.10, 8.80, 8.90),  # gaps below the 9.30 stop: exit at the open 9.00
    ]
    t = by_label(backtest_patterns(make_bars(rows)).trades)["2D-1-2U"]
    assert (t.entry_price, t.exit_price, t.outcome) == (10.10, 9.00, "stop")
    assert t.r_multiple == pytest.approx((9.00 - 10.10) / (10.10 - 9.30))
    assert len(t.notes) == 2
    plain = by_label(backtest_patterns(make_bars(rows), gap_fills=False).trades)["2D-1-2U"]
    assert (plain.entry_price, plain.exit_price) == (10.01, 9.30)
    assert plain.r_multiple == pytest.approx(-1.0)


def test_time_exit() -> None:
    rows = [
        (10.0, 10.5, 9.5, 10.0),
        (10.3, 10.4, 9.0, 9.2),
        (9.5, 10.0, 9.3, 9.8),  # long entry 10.01, stop 9.30, T1 10.40
        (9.9, 10.2, 9.85, 10.15),  # trigger
        (10.1, 10.19, 10.0, 10.1),  # inside, nothing hit
        (10.1, 10.18, 10.02, 10.12),  # inside, nothing hit → time exit at this close
        (10.1, 10.5, 10.0, 10.45),  # would hit T1, but too late
    ]
    res = backtest_patterns(make_bars(rows), max_hold_bars=2, patterns=["2-1-2"])
    t = by_label(res.trades)["2D-1-2U"]
    assert (t.outcome, t.exit_index, t.exit_price, t.bars_held) == ("time", 5, 10.12, 2)
    assert t.r_multiple == pytest.approx(0.11 / 0.71)
    assert all(x.pattern == "2-1-2" for x in res.trades)


def test_short_bar_series_is_empty() -> None:
    res = backtest_patterns(make_bars(GOLDEN[:2]))
    assert res.trades == () and res.patterns_found == 0


def test_trade_is_frozen() -> None:
    t = backtest_patterns(make_bars(GOLDEN)).trades[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.entry_price = 1.0  # type: ignore[misc]


# ------------------------------------------------------------------ TFC at entry


# Three December bars (an outside bar, then two inside bars) in front of GOLDEN, so the
# GOLDEN bars fall in the *second* week and month of the data (both opens are known).
# GOLDEN runs Tue 2024-01-02 … Tue 2024-01-09: the week of Jan 1 opens at 10.00 (GOLDEN
# bar 0), the week of Jan 8 at 10.20 (bar 4), January at 10.00 (bar 0).
def by_key(trades):
    return {(t.label, t.setup_index): t for t in trades}


def test_tfc_at_entry_golden_weekly_and_monthly() -> None:
    res = backtest_patterns(tfc_bars(), symbol="XYZ", timeframe="1D", tfc_timeframes=("W", "M"))
    t = by_key(res.trades)
    # 2D-1-2U long, trigger Fri Jan 5 at 10.01: week open 10.00 and month open 10.00 are
    # both below the fill → both green, with the long → +2, aligned.
    a = t[("2D-1-2U", 5)]
    assert (a.entry_price, a.tfc_score, a.tfc_aligned, a.tfc_timeframes) == (10.01, 2, True, "W,M")
    # The 2D-2U long (after the prefix, GOLDEN bar 0 is an inside bar, so it reads
    # 1-2D-2U RevStrat), trigger Mon Jan 8 at 10.41: week open 10.20 (that Monday's open)
    # and month open 10.00 → +2, aligned.
    d = t[("1-2D-2U", 4)]
    assert (d.entry_price, d.tfc_score, d.tfc_aligned) == (10.41, 2, True)
    # 2U-2D short, trigger Tue Jan 9 at 10.09: week red (10.09 < 10.20) agrees (+1),
    # month green (10.09 > 10.00) disagrees (−1) → 0, not aligned.
    c = t[("2U-2D", 7)]
    assert (c.entry_price, c.tfc_score, c.tfc_aligned) == (10.09, 0, False)
    # 1-2U-2D short at 9.84: below both opens → +2, aligned.
    b = t[("1-2U-2D", 6)]
    assert (b.entry_price, b.tfc_score, b.tfc_aligned) == (9.84, 2, True)


def test_tfc_first_period_of_the_data_is_unknown() -> None:
    # Without the December prefix the trades sit in the first week/month of the data:
    # those candles' true opens are before the data, so the TFC is None, not a guess.
    bars = tfc_bars(GOLDEN)
    bars.index = TFC_DAYS[3:]
    res = backtest_patterns(bars, timeframe="1Day", tfc_timeframes=("W", "M"))
    jan8 = [t for t in res.trades if t.entry_time >= pd.Timestamp("2024-01-08", tz="UTC")]
    first_week = [t for t in res.trades if t not in jan8]
    assert first_week and all(t.tfc_score is None for t in first_week)
    # Mon Jan 8 starts the second week, but January is still the data's first month.
    assert all(t.tfc_aligned is None for t in jan8)
    only_w = by_key(backtest_patterns(bars, timeframe="1Day", tfc_timeframes=("W",)).trades)
    assert only_w[("2U-2D", 4)].tfc_score == 1  # short at 10.09 under the 10.20 week open
    assert only_w[("2D-2U", 1)].tfc_aligned is True  # long at 10.41 over 10.20


def test_tfc_at_entry_has_no_look_ahead() -> None:
    full = by_key(backtest_patterns(tfc_bars(), timeframe="1Day").trades)
    for k in range(5, len(PREFIX + GOLDEN) + 1):
        part = backtest_patterns(tfc_bars((PREFIX + GOLDEN)[:k]), timeframe="1Day")
        for t in part.trades:
            ft = full[(t.label, t.setup_index)]
            assert (t.tfc_score, t.tfc_aligned) == (ft.tfc_score, ft.tfc_aligned)


def test_default_higher_timeframes_per_timeframe() -> None:
    from dashboard.analytics.strategy import HIGHER_TIMEFRAMES

    assert HIGHER_TIMEFRAMES["1Day"] == ("W", "M", "Q")
    assert HIGHER_TIMEFRAMES["1Hour"] == ("D", "W")
    assert HIGHER_TIMEFRAMES["1Week"] == ("M",)
    res = backtest_patterns(tfc_bars(), timeframe="1D")
    assert {t.tfc_timeframes for t in res.trades} == {"W,M,Q"}
    # The data's first quarter is 2023 Q4; January is Q1, whose open is GOLDEN bar 0 too.
    assert by_key(res.trades)[("2D-1-2U", 5)].tfc_score == 3


# ------------------------------------------------------------------ named strategies


def test_strategy_specs_filter_and_time_stop() -> None:
    from dashboard.analytics.strategy import STRATEGIES, run_strategy, strategy_by_id

    bars = tfc_bars()
    ids = [s.id for s in STRATEGIES]
    assert ids[:5] == ["all", "reversals", "continuations", "time5", "tfc"]
    assert strategy_by_id("nope").id == "all" and strategy_by_id(None).id == "all"
    every = run_strategy(bars, strategy_by_id("all"), timeframe="1Day")
    assert every.trades == backtest_patterns(bars, timeframe="1Day").trades
    rev = run_strategy(bars, strategy_by_id("reversals"), timeframe="1Day")
    assert rev.trades and all(t.kind == "reversal" for t in rev.trades)
    cont = run_strategy(bars, strategy_by_id("continuations"), timeframe="1Day")
    assert all(t.kind == "continuation" for t in cont.trades)
    assert len(rev.trades) + len(cont.trades) <= len(every.trades)
    aligned = run_strategy(bars, strategy_by_id("tfc"), timeframe="1Day")
    want = {(t.label, t.setup_index) for t in every.trades if t.tfc_aligned}
    assert {(t.label, t.setup_index) for t in aligned.trades} == want
    assert aligned.triggered == len(want) and ("2U-2D", 7) not in want
    assert strategy_by_id("time5").max_hold_bars == 5


# ------------------------------------------------------------------ option variants


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _bs(s: float, k: float, t: float, r: float, sig: float, call: bool) -> float:
    """Black-Scholes written out by hand (no scipy), to check the project's pricer."""
    if t <= 0:
        return max(s - k, 0.0) if call else max(k - s, 0.0)
    d1 = (math.log(s / k) + (r + 0.5 * sig * sig) * t) / (sig * math.sqrt(t))
    d2 = d1 - sig * math.sqrt(t)
    if call:
        return s * _norm_cdf(d1) - k * math.exp(-r * t) * _norm_cdf(d2)
    return k * math.exp(-r * t) * _norm_cdf(-d2) - s * _norm_cdf(-d1)


# 21 closes (20 log returns) before the trigger bar at index 21, then a few more bars.
VOL_CLOSES = [100.0 * math.exp(0.01 * ((-1) ** i) * (1 + (i % 3))) for i in range(21)]


def _vol_fixture(n_after: int = 6) -> tuple[np.ndarray, pd.DatetimeIndex]:
    closes = np.array(VOL_CLOSES + [101.0 + i for i in range(n_after)])
    times = pd.date_range("2024-03-01", periods=closes.size, freq="D", tz="America/New_York")
    return closes, times


def test_realised_volatility_uses_only_bars_before_the_trigger() -> None:
    from dashboard.analytics.option_backtest import realised_volatility

    closes, _ = _vol_fixture()
    logs = [math.log(VOL_CLOSES[i + 1] / VOL_CLOSES[i]) for i in range(20)]
    want = statistics.stdev(logs) * math.sqrt(252)
    assert realised_volatility(closes, 21, 20, 252) == pytest.approx(want, rel=1e-12)
    bumped = closes.copy()
    bumped[21:] *= 3  # the trigger bar's close and later are unknown at entry
    assert realised_volatility(bumped, 21, 20, 252) == pytest.approx(want, rel=1e-12)
    assert math.isnan(realised_volatility(closes, 20, 20, 252))  # only 19 returns


def test_option_leg_golden_against_hand_black_scholes() -> None:
    from dashboard.analytics.option_backtest import OptionCosts, OptionSpec, price_option_leg

    closes, times = _vol_fixture()
    logs = [math.log(VOL_CLOSES[i + 1] / VOL_CLOSES[i]) for i in range(20)]
    sig = statistics.stdev(logs) * math.sqrt(252)
    # No costs and no implied-over-realised premium: plain Black-Scholes on realised vol.
    spec = OptionSpec(
        target_delta=0.50,
        dte_windows={"1Day": (14, 14)},
        risk_free_rate=0.04,
        iv_premium=0.0,
        costs=OptionCosts(0.0, 0.0),
    )
    # Long trade: fill 100.40 on bar 21, exit at T1 103.10 on bar 24 (3 days later).
    leg = price_option_leg(
        direction="long",
        entry_index=21,
        entry_price=100.40,
        exit_index=24,
        exit_price=103.10,
        closes=closes,
        times=times,
        timeframe="1Day",
        spec=spec,
    )
    assert leg is not None
    t0 = 14 / 365
    # Strike for a 0.50 call delta: d1 = 0 → K = S·exp((r + σ²/2)T), on the $1 grid.
    k = round(100.40 * math.exp((0.04 + 0.5 * sig * sig) * t0 - NormalDist().inv_cdf(0.5)))
    assert leg.strike == k and leg.right == "C" and leg.dte_at_entry == 14
    d1 = (math.log(100.40 / k) + (0.04 + 0.5 * sig * sig) * t0) / (sig * math.sqrt(t0))
    assert leg.delta_at_entry == pytest.approx(_norm_cdf(d1), abs=1e-12)
    entry = _bs(100.40, k, t0, 0.04, sig, call=True)
    exit_ = _bs(103.10, k, 11 / 365, 0.04, sig, call=True)
    assert leg.volatility == pytest.approx(sig, rel=1e-12)
    assert leg.premium_entry == pytest.approx(entry, rel=1e-10)
    assert leg.premium_exit == pytest.approx(exit_, rel=1e-10)
    assert leg.r_multiple == pytest.approx((exit_ - entry) / entry, rel=1e-10)
    assert leg.cost_r == pytest.approx(0.0, abs=1e-12)
    assert not leg.expired_first and leg.exit_index == 24


def test_option_leg_costs_iv_premium_and_delta_at_the_trigger() -> None:
    from dashboard.analytics.option_backtest import OptionCosts, OptionSpec, price_option_leg

    closes, times = _vol_fixture()
    logs = [math.log(VOL_CLOSES[i + 1] / VOL_CLOSES[i]) for i in range(20)]
    rv = statistics.stdev(logs) * math.sqrt(252)
    spec = OptionSpec(
        target_delta=0.50,
        dte_windows={"1Day": (14, 14)},
        risk_free_rate=0.04,
        iv_premium=0.25,
        costs=OptionCosts(spread_share=0.10, fee_per_contract=1.00),
    )
    # The trigger was 99.00 but the bar gapped: filled at 100.40. The contract is the one
    # chosen at the trigger price; it is paid for at the fill.
    leg = price_option_leg(
        direction="long",
        entry_index=21,
        entry_price=100.40,
        exit_index=24,
        exit_price=103.10,
        closes=closes,
        times=times,
        timeframe="1Day",
        spec=spec,
        trigger_price=99.00,
    )
    assert leg is not None
    iv = rv * 1.25
    assert 0.10 < iv < 1.0 and leg.volatility == pytest.approx(iv, rel=1e-12)
    assert leg.realised_vol == pytest.approx(rv, rel=1e-12)
    t0 = 14 / 365
    k = round(99.00 * math.exp((0.04 + 0.5 * iv * iv) * t0))
    assert leg.strike == k
    d1 = (math.log(99.00 / k) + (0.04 + 0.5 * iv * iv) * t0) / (iv * math.sqrt(t0))
    assert leg.delta_at_entry == pytest.approx(_norm_cdf(d1), abs=1e-12)
    mid_in = _bs(100.40, k, t0, 0.04, iv, call=True)
    mid_out = _bs(103.10, k, 11 / 365, 0.04, iv, call=True)
    # Buy at mid + 5% (half the 10% spread) plus $1.00 / 100 shares; sell at mid − 5%
    # less the fee again.
    cash_in = mid_in * 1.05 + 0.01
    cash_out = mid_out * 0.95 - 0.01
    assert leg.cash_entry == pytest.approx(cash_in, rel=1e-10)
    assert leg.cash_exit == pytest.approx(cash_out, rel=1e-10)
    assert leg.r_multiple == pytest.approx((cash_out - cash_in) / cash_in, rel=1e-10)
    assert leg.cost_r == pytest.approx((mid_out - mid_in) / mid_in - leg.r_multiple, rel=1e-10)
    assert leg.cost_r > 0


def test_dte_is_drawn_from_the_live_window() -> None:
    from dashboard.analytics.option_backtest import OptionSpec, draw_dte
    from dashboard.options.selection import SelectionConfig

    spec = OptionSpec()
    # The live contract selection's windows, floors included, are the model's.
    for tf in ("1Hour", "1Day", "1Week", "1Month", "15Min"):
        assert spec.dte_window(tf) == SelectionConfig().dte_window(tf)
    assert spec.dte_window("D") == (14, 45)
    draws = [draw_dte((14, 45), f"SPY|2024-01-{d:02d}") for d in range(1, 29)]
    assert all(14 <= d <= 45 for d in draws) and len(set(draws)) > 10
    # The same trade always draws the same expiry; another seed draws others.
    assert draws == [draw_dte((14, 45), f"SPY|2024-01-{d:02d}") for d in range(1, 29)]
    assert draws != [draw_dte((14, 45), f"SPY|2024-01-{d:02d}", seed=1) for d in range(1, 29)]
    assert draw_dte((7, 7), "x") == 7
    with pytest.raises(ValueError):
        draw_dte((9, 7), "x")


def test_option_leg_put_exits_before_expiry_when_the_trade_outlives_it() -> None:
    from dashboard.analytics.option_backtest import OptionCosts, OptionSpec, price_option_leg

    closes, times = _vol_fixture(n_after=12)  # bars 21 … 32, one a day
    logs = [math.log(VOL_CLOSES[i + 1] / VOL_CLOSES[i]) for i in range(20)]
    sig = statistics.stdev(logs) * math.sqrt(252)
    spec = OptionSpec(
        target_delta=0.30,
        dte_windows={"1Day": (5, 5)},
        risk_free_rate=0.0,
        iv_premium=0.0,
        costs=OptionCosts(0.0, 0.0),
    )
    leg = price_option_leg(
        direction="short",
        entry_index=21,
        entry_price=99.0,
        exit_index=30,  # the trade exits 9 days later, after the 5-day expiry
        exit_price=95.0,
        closes=closes,
        times=times,
        timeframe="1Day",
        spec=spec,
    )
    assert leg is not None and leg.right == "P" and leg.expired_first
    # Expiry is day 26 (21 + 5 days); the last bar before it is 25: 1 day left.
    assert leg.exit_index == 25 and leg.exit_underlying == closes[25]
    k = leg.strike
    entry = _bs(99.0, k, 5 / 365, 0.0, sig, call=False)
    exit_ = _bs(float(closes[25]), k, 1 / 365, 0.0, sig, call=False)
    assert leg.premium_entry == pytest.approx(entry, rel=1e-10)
    assert leg.r_multiple == pytest.approx((exit_ - entry) / entry, rel=1e-10)
    assert -0.45 < leg.delta_at_entry < -0.15  # a ~0.30Δ put on the $1 grid
    # Neither exit nor expiry inside the data: still open, no R.
    short = price_option_leg(
        direction="short",
        entry_index=21,
        entry_price=99.0,
        exit_index=None,
        exit_price=None,
        closes=closes[:24],
        times=times[:24],
        timeframe="1Day",
        spec=spec,
    )
    assert short is not None and short.r_multiple is None and short.premium_exit is None


def test_option_strategy_reprices_each_trade() -> None:
    from dashboard.analytics.option_backtest import OptionSpec, price_option_leg
    from dashboard.analytics.strategy import MODEL_NOTE, run_strategy, strategy_by_id

    # 22 quiet bars (inside the first one), then GOLDEN: the 2-1-2 long triggers with
    # 20 returns of history behind it.
    quiet = [(10.0, 10.6, 9.4, 10.0 + 0.02 * ((-1) ** i)) for i in range(22)]
    rows = quiet + GOLDEN
    bars = make_bars(rows)
    spec = strategy_by_id("opt50")
    assert spec.is_option and "modelled" in spec.label
    assert "× 1.20" in MODEL_NOTE and "5% of the mid" in MODEL_NOTE and "$0.65" in MODEL_NOTE
    res = run_strategy(bars, spec, timeframe="1Day")
    opt = by_key(res.trades)
    und = by_key(backtest_patterns(bars, timeframe="1Day").trades)
    a, u = opt[("2D-1-2U", 24)], und[("2D-1-2U", 24)]
    leg = price_option_leg(
        direction="long",
        entry_index=u.entry_index,
        entry_price=u.entry_price,
        exit_index=u.exit_index,
        exit_price=u.exit_price,
        closes=bars["close"].to_numpy(),
        times=bars.index,
        timeframe="1Day",
        spec=OptionSpec(target_delta=0.50),
        trigger_price=u.trigger_price,
        key=f"{u.symbol}|{u.entry_time}",
    )
    assert leg is not None
    assert a.instrument == "option" and a.underlying_r == pytest.approx(0.39 / 0.71)
    assert (a.option_right, a.strike, a.dte_at_entry) == ("C", leg.strike, leg.dte_at_entry)
    assert 14 <= a.dte_at_entry <= 45
    assert a.r_multiple == pytest.approx(leg.r_multiple)
    assert a.delta_at_entry == pytest.approx(leg.delta_at_entry)
    assert a.option_cost_r == pytest.approx(leg.cost_r) and a.option_cost_r > 0
    assert res.method.option == spec.option
    lines = res.method.lines()
    assert "Modelled options (there are no historical option quotes):" in lines
    assert any("R = option P&L after costs / cash paid" in line for line in lines)
    assert any(line.startswith("Costs: bid-ask spread 5% of the mid") for line in lines)
    assert any("1Day 14–45" in line for line in lines)
    frame = trades_frame(opt.values())
    assert {"dte_at_entry", "delta_at_entry", "tfc_aligned", "premium_entry"} <= set(frame)
    assert {"settlement", "tags", "trigger_price", "option_cost_r"} <= set(frame)
    assert set(frame["settlement"]) <= {"exact", "magnified", "path rule", "ambiguous"}


# ------------------------------------------------------------------ same-bar settlement
#
# Hand-made daily bars whose intrabar order is known, then the same days with hourly
# bars that settle them the other way. Shorts are the exact mirror (price → 200 − price).
#
# 0 (102, 105, 100, 102) · 1 2D (103, 104, 98, 100) · 2 inside (100, 103, 99, 101):
# 2D-1-2U long: entry 103.01, stop 99.00, T1 104.00 (C2 high).

SETUP = [(102.0, 105.0, 100.0, 102.0), (103.0, 104.0, 98.0, 100.0), (100.0, 103.0, 99.0, 101.0)]
# A: the trigger bar opens nearer its low: O→L→H→C. Its 98.50 low (under the stop) comes
# before the 103.01 entry, so no position existed yet: the breakout is in force.
STOP_BEFORE_ENTRY = (99.5, 103.5, 98.5, 103.2)
# Hourly bars of that day with the other order: up through the entry first, then the stop.
STOP_AFTER_ENTRY_HOURS = [
    (99.5, 100.5, 99.4, 100.4),
    (100.4, 103.5, 100.3, 103.0),  # entry 103.01 (low above the stop: exact)
    (103.0, 103.1, 98.5, 99.0),  # then the stop
    (99.0, 103.2, 99.0, 103.2),
]
# B: a clean trigger bar, then a bar that reaches T1 and the stop. It opens nearer its
# high: O→H→L→C, so T1 (104) comes first.
CLEAN_TRIGGER = (101.0, 103.5, 100.0, 103.2)
TARGET_BEFORE_STOP = (103.6, 104.5, 98.8, 99.5)
# Hourly bars of that day with the other order: the stop first, then T1.
STOP_BEFORE_TARGET_HOURS = [
    (103.6, 103.7, 98.8, 99.2),
    (99.2, 104.5, 99.1, 99.5),
]
DAYS = pd.DatetimeIndex(
    ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
).tz_localize("America/New_York")


def _mirror(rows, k: float = 200.0):
    return [(k - o, k - lo, k - h, k - c) for o, h, lo, c in rows]


def _daily(rows, mirror: bool = False) -> pd.DataFrame:
    rows = _mirror(rows) if mirror else rows
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=DAYS[: len(rows)])
    df["volume"] = 1000.0
    return df


def _hours(day: int, rows, mirror: bool = False) -> pd.DataFrame:
    rows = _mirror(rows) if mirror else rows
    start = DAYS[day] + pd.Timedelta(hours=9)
    idx = pd.date_range(start, periods=len(rows), freq="h")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx)


def _the_trade(daily: pd.DataFrame, mirror: bool, **kw) -> object:
    label = "2U-1-2D" if mirror else "2D-1-2U"
    res = backtest_patterns(daily, timeframe="1Day", tfc_timeframes=(), **kw)
    (t,) = [x for x in res.trades if x.label == label and x.setup_index == 2]
    return t


@pytest.mark.parametrize("mirror", [False, True], ids=["long", "short"])
def test_golden_stop_before_the_entry_does_not_stop_the_trade(mirror: bool) -> None:
    daily = _daily([*SETUP, STOP_BEFORE_ENTRY], mirror)
    t = _the_trade(daily, mirror)
    assert (t.entry_index, t.outcome, t.r_multiple) == (3, "open", None)
    assert t.entry_price == (96.99 if mirror else 103.01)
    assert t.settlement == "path rule"
    # The conservative option still scores it as a stop, and says why.
    c = _the_trade(daily, mirror, intrabar="conservative")
    assert (c.outcome, c.r_multiple, c.settlement) == ("stop", pytest.approx(-1.0), "ambiguous")
    # Hourly bars that put the entry before the stop settle it the other way: stopped.
    hours = {"1Hour": _hours(3, STOP_AFTER_ENTRY_HOURS, mirror)}
    m = _the_trade(daily, mirror, lower_bars=hours)
    assert (m.outcome, m.exit_index, m.r_multiple) == ("stop", 3, pytest.approx(-1.0))
    assert m.settlement == "magnified"
    assert any("settled on 1Hour bars" in n for n in m.notes)


@pytest.mark.parametrize("mirror", [False, True], ids=["long", "short"])
def test_golden_target_before_the_stop_in_one_bar(mirror: bool) -> None:
    daily = _daily([*SETUP, CLEAN_TRIGGER, TARGET_BEFORE_STOP], mirror)
    t = _the_trade(daily, mirror)
    assert (t.entry_index, t.exit_index, t.outcome) == (3, 4, "target")
    assert t.exit_price == (96.0 if mirror else 104.0)
    assert t.r_multiple == pytest.approx(0.99 / 4.01)
    assert t.settlement == "path rule"
    c = _the_trade(daily, mirror, intrabar="conservative")
    assert (c.outcome, c.settlement) == ("stop", "ambiguous")
    hours = {"1Hour": _hours(4, STOP_BEFORE_TARGET_HOURS, mirror)}
    m = _the_trade(daily, mirror, lower_bars=hours)
    assert (m.outcome, m.exit_index, m.r_multiple) == ("stop", 4, pytest.approx(-1.0))
    assert m.settlement == "magnified"


def test_magnifier_recurses_to_the_next_lower_timeframe() -> None:
    # The hourly bar that holds both T1 and the stop is itself ambiguous (opens nearer
    # its high, so the path rule alone would say T1); its 15-minute bars show the stop
    # came first.
    daily = _daily([*SETUP, CLEAN_TRIGGER, TARGET_BEFORE_STOP])
    hours = _hours(4, [(103.6, 104.5, 98.8, 99.5)])
    quarter_start = DAYS[4] + pd.Timedelta(hours=9)
    quarters = pd.DataFrame(
        [(103.6, 103.7, 98.8, 99.0), (99.0, 104.5, 99.0, 104.0), (104.0, 104.1, 99.4, 99.5)],
        columns=["open", "high", "low", "close"],
        index=pd.date_range(quarter_start, periods=3, freq="15min"),
    )
    only_hours = _the_trade(daily, False, lower_bars={"1Hour": hours})
    assert (only_hours.outcome, only_hours.settlement) == ("target", "path rule")
    assert any("magnified on 1Hour bars, then the OHLC path rule" in n for n in only_hours.notes)
    both = _the_trade(daily, False, lower_bars={"1Hour": hours, "15Min": quarters})
    assert (both.outcome, both.settlement) == ("stop", "magnified")
    assert any("settled on 1Hour then 15Min bars" in n for n in both.notes)
    assert _the_trade(daily, False, lower_bars={"15Min": quarters}).outcome == "stop"


def test_lower_bars_that_disagree_with_the_bar_are_not_used() -> None:
    daily = _daily([*SETUP, CLEAN_TRIGGER, TARGET_BEFORE_STOP])
    # An extended-hours bar outside the daily range: the feeds disagree, so the path
    # rule decides instead.
    wide = _hours(4, [(103.6, 103.7, 97.0, 99.2), (99.2, 104.5, 99.1, 99.5)])
    t = _the_trade(daily, False, lower_bars={"1Hour": wide})
    assert (t.outcome, t.settlement) == ("target", "path rule")
    res = backtest_patterns(daily, timeframe="1Day", lower_bars={"1Hour": wide})
    assert res.method.magnifier_timeframes == ("1Hour",)


def test_method_record_lines() -> None:
    from dashboard.analytics.edge import trade_equity
    from dashboard.analytics.performance import SizingRule
    from dashboard.analytics.strategy import combine_methods

    daily = _daily([*SETUP, CLEAN_TRIGGER, TARGET_BEFORE_STOP])
    hours = {"1Hour": _hours(4, STOP_BEFORE_TARGET_HOURS)}
    a = backtest_patterns(daily, timeframe="1Day", lower_bars=hours)
    b = backtest_patterns(_daily([*SETUP, STOP_BEFORE_ENTRY]), timeframe="1Day")
    eq = trade_equity([*a.trades, *b.trades], SizingRule(0.01, 0.02), 100_000.0)
    m = combine_methods(
        [a.method, b.method], equity=eq, data_sources=["alpaca-data"], synthetic=True
    )
    counts = {k: a.method.settlement_counts[k] + b.method.settlement_counts[k] for k in
              a.method.settlement_counts}  # fmt: skip
    assert m.settlement_counts == counts and counts["magnified"] == 1
    assert m.trades == len(a.trades) + len(b.trades)
    lines = m.lines()
    assert lines[0].startswith(f"Same-bar order, {m.trades} trades: ")
    assert f"{counts['magnified']} from lower-timeframe bars (1Hour)" in lines[0]
    assert "OHLC path rule (TradingView's broker emulator)" in lines[1]
    assert any(line.startswith("Sizing: 1.0% of equity at entry per trade, total open risk "
                               "capped at 2%") for line in lines)  # fmt: skip
    assert any(f"At most {eq.max_concurrent} trades were open at once" in x for x in lines)
    assert "Data: alpaca-data bars." in lines
    assert lines[-1].startswith("Synthetic market:")
    assert any(line.startswith("Costs: none on the underlying") for line in lines)


# ------------------------------------------------------------------ known paths


def _scored(walk, **kw):
    """(backtest R, path-true R, trade) for every trade closed in both."""
    from dashboard.strat.patterns import LevelConfig
    from tests.analytics.paths import true_trade

    res = backtest_patterns(
        walk.bars, timeframe="1Day", tfc_timeframes=(), config=LevelConfig(max_targets=1), **kw
    )
    out = []
    for t in res.trades:
        if t.r_multiple is None:
            continue
        bar, r = true_trade(
            walk, t.direction, t.setup_index, t.trigger_price, t.stop_price, t.target_price
        )
        assert bar == t.entry_index  # the trigger bar is an OHLC fact
        if r is not None:
            out.append((t.r_multiple, r, t))
    return out


def test_driftless_walk_expectancy_matches_the_path_truth() -> None:
    from tests.analytics.paths import random_walk

    walk = random_walk(6800, seed=21)
    scored = _scored(walk)
    assert len(scored) >= 5000
    bt = np.array([a for a, _, _ in scored])
    truth = np.array([b for _, b, _ in scored])
    assert abs(bt.mean() - truth.mean()) < 0.03
    # Every trade the bars settle exactly gets exactly its true R.
    exact = [(a, b) for a, b, t in scored if t.settlement == "exact"]
    assert len(exact) > 0.6 * len(scored)
    assert all(a == pytest.approx(b, abs=1e-9) for a, b in exact)
    # The old stop-first rule is far off on the same trades (the defect of issue 21).
    cons = _scored(walk, intrabar="conservative")
    cons_mean = np.mean([a for a, _, _ in cons])
    assert cons_mean < truth.mean() - 0.1


def test_magnified_trades_get_their_true_r() -> None:
    """Hourly bars cut from the same path settle every same-bar case exactly."""
    from tests.analytics.paths import random_walk

    walk = random_walk(600, steps=24, seed=5)
    pts = walk.points.reshape(walk.n_bars, 6, 4)  # six 4-point "hours" per day
    starts = [d + pd.Timedelta(hours=9 + k) for d in walk.bars.index for k in range(6)]
    hours = pd.DataFrame(
        {
            "open": pts[:, :, 0].ravel() / 100,
            "high": pts.max(axis=2).ravel() / 100,
            "low": pts.min(axis=2).ravel() / 100,
            "close": pts[:, :, -1].ravel() / 100,
        },
        index=pd.DatetimeIndex(starts),
    )
    scored = _scored(walk, lower_bars={"1Hour": hours})
    magnified = [(a, b) for a, b, t in scored if t.settlement == "magnified"]
    assert len(magnified) > 20
    assert all(a == pytest.approx(b, abs=1e-9) for a, b in magnified)
    assert all(a == pytest.approx(b, abs=1e-9) for a, b, t in scored if t.settlement == "exact")


def test_positive_drift_favours_longs() -> None:
    from tests.analytics.paths import random_walk

    walk = random_walk(2500, seed=7, drift_ticks=0.8)
    scored = _scored(walk)
    longs = [a for a, _, t in scored if t.direction == "long"]
    shorts = [a for a, _, t in scored if t.direction == "short"]
    assert len(longs) > 500 and len(shorts) > 500
    assert np.mean(longs) > np.mean(shorts) + 0.1


# ------------------------------------------------------------------ one trade, one count


def test_hammer_is_a_tag_not_a_second_trade() -> None:
    # Bar 1 is a 2D hammer: the 2D-2U reversal and the Hammer are one trade.
    rows = [
        (99.0, 100.0, 98.0, 99.0),
        (99.3, 99.5, 97.0, 99.4),  # 2D; lower wick 2.3 of 2.5 → hammer
        (99.4, 100.5, 99.0, 100.4),  # triggers 99.51, reaches T1 100
    ]
    res = backtest_patterns(make_bars(rows), timeframe="1Day", tfc_timeframes=())
    (t,) = [x for x in res.trades if x.direction == "long"]
    assert (t.label, t.tags, t.outcome) == ("2D-2U", ("Hammer",), "target")
    assert res.method.merged_actionable == 1
    assert not any(x.pattern == "Hammer" for x in res.trades)


# ------------------------------------------------------------------ regime and portfolio


def test_conservative_strategy_is_selectable() -> None:
    from dashboard.analytics.strategy import run_strategy, strategy_by_id

    spec = strategy_by_id("conservative")
    assert spec.intrabar == "conservative" and strategy_by_id("all").intrabar == "path"
    daily = _daily([*SETUP, STOP_BEFORE_ENTRY])
    res = run_strategy(daily, spec, timeframe="1Day")
    (t,) = [x for x in res.trades if x.label == "2D-1-2U"]
    assert (t.outcome, t.settlement) == ("stop", "ambiguous")
    assert res.method.intrabar_rule == "conservative"
    assert "scored as the stop" in res.method.lines()[1]
