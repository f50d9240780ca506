"""Active trades: progress and P&L by hand, the summary, which cards show, the journal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from dashboard.views.options.trades import (
    cards_to_show,
    journal_rows,
    pnl_summary,
    progress_inputs,
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
        "SPY 104.00 · entry 100.00 · T1 110.00 · stop 95.00 · fill $2.00 · mid 2.50"
        " · P&L +$150.00 (+25.0%) · +0.80R"
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
