"""Sizing by risk: the default quantity is what the budget can lose at the stop.

The budget is ``DASHBOARD_RISK_PER_TRADE_DOLLARS`` or ``DASHBOARD_RISK_PER_TRADE_PCT`` of
equity; the loss per contract comes from the ticket's projection at the stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RiskSize", "risk_budget", "size_by_risk"]


@dataclass(frozen=True, slots=True)
class RiskSize:
    """The default quantity: the contracts whose projected loss at the stop fits the
    budget, capped by the max-contracts setting; 0 when not even one fits or the loss is
    unknown (the user then sizes by hand, and the text says why)."""

    contracts: int
    budget: float | None
    loss_per_contract: float | None
    capped: bool
    text: str


def risk_budget(
    equity: float | None, *, pct: float, dollars: float | None
) -> tuple[float | None, str]:
    """Dollars a trade may lose at its stop: the fixed amount when set, else ``pct`` % of
    equity; None (with why) when equity is unknown."""
    if dollars is not None:
        return dollars, f"${dollars:,.0f} per trade (DASHBOARD_RISK_PER_TRADE_DOLLARS)"
    if equity is None or not math.isfinite(equity) or equity <= 0:
        return None, "equity unavailable"
    budget = equity * pct / 100.0
    return (
        budget,
        f"{pct:g}% of equity ${equity:,.0f} = ${budget:,.0f} (DASHBOARD_RISK_PER_TRADE_PCT)",
    )


def size_by_risk(
    loss_per_contract: float | None,
    *,
    budget: float | None,
    max_contracts: int,
    budget_text: str = "",
) -> RiskSize:
    """floor(budget / loss per contract), capped at ``max_contracts``."""
    why = f" ({budget_text})" if budget_text else ""
    if budget is None:
        return RiskSize(
            0, None, loss_per_contract, False, f"Not sized: {budget_text or 'no budget'}."
        )
    if loss_per_contract is None or not math.isfinite(loss_per_contract) or loss_per_contract <= 0:
        return RiskSize(
            0,
            budget,
            None,
            False,
            "Not sized: the projection has no loss at the stop; size by hand.",
        )
    fit = math.floor(budget / loss_per_contract + 1e-9)
    n = min(fit, max_contracts)
    if n < 1:
        return RiskSize(
            0,
            budget,
            loss_per_contract,
            False,
            f"Not sized: one contract loses ${loss_per_contract:,.0f} at the stop, more than "
            f"the ${budget:,.0f} budget{why}.",
        )
    capped = fit > max_contracts
    tail = f", capped at {max_contracts} (DASHBOARD_MAX_CONTRACTS)" if capped else ""
    return RiskSize(
        n,
        budget,
        loss_per_contract,
        capped,
        f"Sized by risk: {n} × ${loss_per_contract:,.0f} loss at the stop = "
        f"${n * loss_per_contract:,.0f} of ${budget:,.0f}{why}{tail}.",
    )
