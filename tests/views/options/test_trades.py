"""Active trades: progress and P&L by hand, the summary, which cards show, the journal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from dashboard.views.options.trades import (
    MARK_NOTE,
    armed_line,
    armed_view,
    attribution_line,
    cards_to_show,
    disarmed_line,
    journal_rows,
    pnl_summary,
    progress_inputs,
    r_line,
    trade_line,
    trade_view,
)


def _trade(**kw: object) -> SimpleNamespace:
    base = dict(
        id=1,
        direction="long",
        underlying="SPY",
        contract_symbol="SPY261218C00600000",
        entry_level=100.0,
        target_level=110.0,
        stop_level=95.0,
        entry_fill_price=Decimal("2.00"),
        open_qty=3,
        closed_qty=0,
        realized_pnl=Decimal(0),
        status="open",
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_trade_view_progress_and_pnl_by_hand() -> None:
    view = trade_view(_trade(), underlying=104.0, option_mid=2.50)
    assert view.progress == pytest.approx(0.4)  # 4 of 10 to target
    assert view.r_now == pytest.approx(0.8)  # 4 / 5 risk
    assert view.pnl == pytest.approx(150.0)  # (2.50 − 2.00) × 100 × 3
    assert view.pnl_pct == pytest.approx(25.0)
    short = trade_view(_trade(direction="short", target_level=90.0, stop_level=105.0), 102.5, 1.0)
    assert short.progress == pytest.approx(-0.5)  # half the risk gone
    assert short.pnl == pytest.approx(-300.0)
    unpriced = trade_view(_trade(), None, None)
    assert (unpriced.progress, unpriced.pnl) == (None, None)


def test_pnl_summary_splits_realised_and_unrealised() -> None:
    closed_win = _trade(status="closed", closed_qty=1, realized_pnl=Decimal("120.50"), open_qty=0)
    closed_loss = _trade(status="closed", closed_qty=2, realized_pnl=Decimal("-80"), open_qty=0)
    live = _trade()
    views = [trade_view(live, 104.0, 2.50)]
    s = pnl_summary([closed_win, closed_loss, live], views)
    assert s.realised == pytest.approx(40.5)
    assert s.unrealised == pytest.approx(150.0)
    assert s.total == pytest.approx(190.5)
    assert (s.wins, s.losses, s.best, s.worst) == (1, 1, 120.5, -80.0)


def test_cards_keep_order_under_the_cap_and_show_those_nearest_an_exit_past_it() -> None:
    prices = [101.0, 109.0, 96.0, None, 104.0]  # progress 0.1, 0.9, -0.8, none, 0.4
    views = [trade_view(_trade(id=i), p, 2.0) for i, p in enumerate(prices)]
    assert [v.trade.id for v in cards_to_show(views, cap=5)] == [0, 1, 2, 3, 4]
    assert [v.trade.id for v in cards_to_show(views, cap=3)] == [1, 2, 4]


def test_trade_line_and_progress_rows() -> None:
    view = trade_view(_trade(), 104.0, 2.50)
    line = trade_line(view)
    assert line == (
        "SPY 104.00 · entry 100.00 · T1 110.00 · stop 95.00 · fill $2.00"
        " · underlying at fill unknown: measured from the setup entry · mid 2.50"
        " · P&L +$150.00"
    )
    assert r_line(view) == (
        "underlying R +0.80 · R on premium +0.25 · option reward:risk — · 0% of the way to the stop"
    )
    unfilled = trade_line(trade_view(_trade(entry_fill_price=None), None, None))
    assert "fill unfilled" in unfilled and "mid —" in unfilled
    rows = progress_inputs([view, trade_view(_trade(), None, None)])
    assert [r.label for r in rows] == ["SPY Dec 18 '26 $600 C"]  # unpriced trades left out
    assert rows[0].progress_r == pytest.approx(0.4)


def test_journal_rows_show_new_york_time_and_realised_pnl() -> None:
    t = _trade(
        created_at=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        pattern="2-1-2U",
        timeframe="1Day",
        qty=3,
        exit_price=Decimal("2.40"),
        exit_reason="target",
        closed_qty=3,
        realized_pnl=Decimal("120"),
        entry_client_order_id="strat-1",
        status="closed",
    )
    [row] = journal_rows([t])
    assert row["opened"] == "11-24 10:00 ET"
    assert (row["signal"], row["pnl"], row["exit"]) == ("2-1-2U 1Day", 120.0, 2.4)


def test_r_and_progress_are_measured_from_the_underlying_at_the_fill() -> None:
    # Setup entry 100, stop 95, T1 110; the fill came late, with the underlying at 98.
    late = _trade(fill_underlying_price=98.0)
    view = trade_view(late, underlying=97.0, option_mid=1.80)
    assert view.base == 98.0 and view.base_is_fill
    assert view.r_now == pytest.approx(-1.0 / 3.0)  # 1 of the 3 from the fill to the stop
    assert view.to_stop_pct == pytest.approx(100.0 / 3.0)
    assert view.progress == pytest.approx(-1.0 / 3.0)
    assert view.pnl == pytest.approx(-60.0)  # (1.80 − 2.00) × 100 × 3
    assert "SPY at fill 98.00" in trade_line(view)
    assert "33% of the way to the stop" in r_line(view)
    # Toward T1 the fill-to-target distance is 12: at 104 the trade is half way.
    assert trade_view(late, 104.0, 2.5).progress == pytest.approx(0.5)
    # A short, mirrored: fill at 102 with stop 105 and T1 90.
    short = _trade(
        direction="short", target_level=90.0, stop_level=105.0, fill_underlying_price=102.0
    )
    sv = trade_view(short, 103.5, 1.0)
    assert sv.r_now == pytest.approx(-0.5) and sv.to_stop_pct == pytest.approx(50.0)
    assert "mid" in MARK_NOTE and "Live Portfolio" in MARK_NOTE


def test_attribution_since_the_fill_adds_up_and_option_rr_is_named() -> None:
    from dashboard.models import OptionContract, OptionQuote

    filled = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    now = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
    t = _trade(
        fill_underlying_price=100.0,
        fill_iv=0.30,
        entry_filled_at=filled,
        entry_filled_qty=3,
        expiry=date(2026, 12, 18),
        strike=Decimal(100),
        right="C",
        entry_fill_price=Decimal("4.00"),
    )
    c = OptionContract("SPY261218C00100000", "SPY", date(2026, 12, 18), "C", Decimal(100))
    q = OptionQuote(c, 4.9, 5.1, None, None, None, 0.31, None, None, None, None, now)
    view = trade_view(t, 102.0, q.mid, quote=q, now=now)
    a = view.attribution
    assert a is not None
    assert a.actual == pytest.approx((5.0 - 4.0) * 100 * 3)
    assert a.delta + a.gamma + a.theta + a.vega + a.rho + a.residual == pytest.approx(a.actual)
    assert a.delta > 0 and a.theta < 0 and a.vega > 0  # up 2, two days, IV +1 point
    line = attribution_line(view)
    assert line.startswith("Since the fill +$300.00 = delta +$") and "residual" in line
    # Option reward:risk from the fill: BS at T1 110 and stop 95, at IV 30 %, now.
    from dashboard.options.expiry import years_to_expiry
    from dashboard.options.pricing import bs_price

    yrs = years_to_expiry(date(2026, 12, 18), now)
    up = float(bs_price(110.0, 100.0, yrs, 0.04, 0.30, "C"))
    down = float(bs_price(95.0, 100.0, yrs, 0.04, 0.30, "C"))
    assert view.option_rr == pytest.approx((up - 4.0) / (4.0 - down))
    missing = trade_view(_trade(), 102.0, 2.0, quote=q, now=now)
    assert missing.attribution is None and "not filled" in attribution_line(missing)


def test_armed_entries_show_the_distance_to_the_trigger_and_disarm_reasons() -> None:
    from dashboard.trading.arming import ArmingStatus, DisarmReason
    from tests.trading.test_arming import entry

    e = entry()  # long AAPL, trigger 100.01, stop 98.49, window ends 11-18 16:00 ET
    line = armed_line(armed_view(e, 99.51))
    assert "trigger 100.01 · $0.50 (0.50%) to the trigger" in line
    assert "window ends 11-18 16:00 ET" in line and "no premium cap" in line
    assert "price" in armed_line(armed_view(e, None))
    gone = entry(
        status=ArmingStatus.DISARMED,
        reason=DisarmReason.STOP_FIRST,
        detail="AAPL traded 98.40 through the stop 98.49",
    )
    assert "stop traded before the trigger (AAPL traded 98.40" in disarmed_line(gone)
