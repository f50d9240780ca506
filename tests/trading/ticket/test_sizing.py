"""Sizing by risk: the budget, and how many contracts it can lose at the stop."""

from __future__ import annotations

import pytest

from dashboard.trading.ticket.sizing import risk_budget, size_by_risk


def test_risk_budget_is_a_share_of_equity_or_a_fixed_amount() -> None:
    assert risk_budget(100_000.0, pct=1.0, dollars=None)[0] == pytest.approx(1000.0)
    assert risk_budget(100_000.0, pct=1.0, dollars=500.0)[0] == 500.0
    assert risk_budget(None, pct=1.0, dollars=None) == (None, "equity unavailable")


def test_size_by_risk_floors_and_caps() -> None:
    s = size_by_risk(340.0, budget=1000.0, max_contracts=10)  # 1000 / 340 = 2.94
    assert (s.contracts, s.capped) == (2, False)
    assert s.text.startswith("Sized by risk: 2 × $340 loss at the stop = $680 of $1,000")
    capped = size_by_risk(45.0, budget=1000.0, max_contracts=10)  # 22 fit
    assert (capped.contracts, capped.capped) == (10, True) and "capped at 10" in capped.text
    assert size_by_risk(250.0, budget=1000.0, max_contracts=10).contracts == 4  # exactly 4
    none = size_by_risk(1200.0, budget=1000.0, max_contracts=10)
    assert none.contracts == 0 and "more than the $1,000 budget" in none.text
    assert size_by_risk(None, budget=1000.0, max_contracts=10).contracts == 0
    assert size_by_risk(100.0, budget=None, max_contracts=10, budget_text="x").contracts == 0
