"""Strategy equity: the trades taken as one account against buy-and-hold, by hand."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.analytics.performance import SizingRule
from dashboard.views import strategy_equity as eq
from dashboard.views.strategy import DateRange
from tests.views._backtests import DAYS, TRADES, _runs

STRATEGY = eq.strategy_name(SizingRule())


def test_equity_view_against_buy_and_hold_by_hand() -> None:
    view = eq.equity_view(TRADES, _runs(TRADES), DateRange())
    # Trade 1 enters Jan 2 risking 1% of 100,000 and exits Jan 3 at +2R: 102,000.
    # Trade 2 entered Jan 3 before that exit, so it was sized on 100,000: −1R on Jan 5
    # takes 1,000, not 1,020. (Trade 3 is still open: it holds risk, not P&L.)
    assert view.strategy.tolist() == pytest.approx([100_000, 102_000, 102_000, 101_000])
    assert view.account is not None and view.account.max_concurrent == 2
    assert view.account.skipped == 0
    # 50,000 in each: A 100 → 110 → 121 → 99, B 50 → 50 → 50 → 25.
    assert view.benchmark.tolist() == pytest.approx([100_000, 105_000, 110_500, 74_500])
    assert list(view.strategy.index) == list(DAYS) == list(view.benchmark.index)
    rows = {r["id"]: r for r in eq.benchmark_rows(view)}
    s, b = rows[STRATEGY], rows[eq.BENCHMARK_NAME]
    # drawdown: 102,000 → 101,000
    assert (s["total_return_pct"], s["max_drawdown_pct"], s["days"]) == (1.0, -0.98, 4)
    assert (b["total_return_pct"], b["max_drawdown_pct"]) == (-25.5, round(-36_000 / 1105, 2))

    later = eq.equity_view(TRADES, _runs(TRADES), DateRange(date(2024, 1, 3), None))
    # Both curves start at 100,000 on Jan 3: the strategy's −1,000 of Jan 5 is then
    # 1,000 / 102,000 of the account it is rebased from.
    assert later.strategy.tolist() == pytest.approx([100_000, 100_000, 100_000 * 101 / 102])
    assert later.benchmark.tolist() == pytest.approx([100_000, 105_000, 70_000])


def test_the_open_risk_cap_skips_a_trade_and_the_name_says_how_it_was_sized() -> None:
    tight = SizingRule(risk_per_trade=0.01, max_open_risk=0.01)  # one trade at a time
    view = eq.equity_view(TRADES, _runs(TRADES), DateRange(), tight)
    assert view.account is not None and view.account.skipped == 1  # trade 2: cap full
    assert view.strategy.tolist() == pytest.approx([100_000, 102_000, 102_000, 102_000])
    assert view.strategy.name == "strategy (1% risk/trade, ≤1% open)"


def test_method_lines_count_settlement_over_the_selected_trades() -> None:
    runs = _runs(TRADES)
    view = eq.equity_view(TRADES, runs, DateRange())
    lines = eq.method_lines(runs, TRADES, view.account, synthetic=True)
    assert lines[0].startswith("Same-bar order, 3 trades:")
    assert any(line.startswith("Sizing: 1.0% of equity at entry") for line in lines)
    assert any("At most 2 trades were open at once" in line for line in lines)
    assert lines[-1].startswith("Synthetic market:")
    real = eq.method_lines(runs, TRADES[:1], None, synthetic=False)
    assert real[0].startswith("Same-bar order, 1 trades:")
    assert not any(line.startswith("Synthetic") for line in real)
