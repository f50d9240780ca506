"""Words for what a read left out or lacks, for the status lines under the blocks.

Pure (records in, text out; no Dash), so each tab's layout only places the text:

- ``skipped_note``: the records a list read could not use ("2 records not shown:
  unknown asset class 'x'"), from ``DataResult.report`` or ``OptionChain.report``;
- ``greeks_note`` / ``chain_note``: the ThetaData subscription behind a chain and what it
  lacks ("ThetaData Standard · gamma needs a ThetaData Pro subscription");
- ``option_risk_positions`` / ``outside_option_risk_note``: the positions the option
  risk models (US stocks and options) and a note for the rest (crypto);
- ``asset_class_label``, ``order_contract_label``, ``order_side_label``,
  ``order_confirm_symbol``, ``order_leg_rows``: how an order, multi-leg ones included,
  reads in the Open orders grid and its cancel dialog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dashboard.models import (
    AssetClass,
    DataResult,
    GreeksCoverage,
    OptionChain,
    Order,
    OrderLeg,
    ParseReport,
    Position,
)
from dashboard.options.occ import contract_label, underlying_of

__all__ = [
    "OPTION_RISK_CLASSES",
    "asset_class_label",
    "chain_note",
    "greeks_note",
    "option_risk_positions",
    "order_confirm_symbol",
    "order_contract_label",
    "order_leg_rows",
    "order_side_label",
    "outside_option_risk_note",
    "result_note",
    "skipped_note",
]

# What the option risk (heat, VaR, greeks, concentration) can price: US stocks and the
# options on them. Crypto has no underlying quote, stop or chain in this app.
OPTION_RISK_CLASSES: frozenset[str] = frozenset({"us_equity", "us_option"})

_ASSET_LABELS: dict[str, str] = {
    "us_equity": "stock",
    "us_option": "option",
    "crypto": "crypto",
    "crypto_perp": "crypto perp",
}
_TIER_LABELS = {"pro": "Pro", "standard": "Standard", "value": "Value"}


def _records(n: int) -> str:
    return f"{n} record{'s' if n != 1 else ''}"


def skipped_note(report: ParseReport) -> str:
    """ "" when nothing was left out; else how many records and why, most common first.

    >>> from dashboard.models import ParseReport, Skipped
    >>> skipped_note(ParseReport(5, (Skipped("position", "unknown asset class 'x'", 2),)))
    "2 records not shown: unknown asset class 'x'"
    """
    if report.clean:
        return ""
    groups = sorted(report.skipped, key=lambda s: (-s.count, s.reason))
    if len(groups) == 1:
        return f"{_records(groups[0].count)} not shown: {groups[0].reason}"
    reasons = ", ".join(f"{s.reason} ({s.count})" for s in groups)
    return f"{_records(report.skipped_count)} not shown: {reasons}"


def result_note(result: DataResult[Any]) -> str:
    """The note for a block's status line: its records not shown (``skipped_note``),
    plus, for a chain, the greeks its source's subscription lacks (``chain_note``)."""
    if isinstance(result.value, OptionChain):
        return chain_note(result.value)
    return skipped_note(result.report)


def greeks_note(coverage: GreeksCoverage | None) -> str:
    """The subscription behind a chain's greeks and what it lacks; "" when nothing is
    missing or the source always sends every greek (Alpaca)."""
    if coverage is None:
        return ""
    tier = _TIER_LABELS.get(coverage.tier or "")
    if not coverage.missing:
        return f"ThetaData {tier}" if tier else ""
    if tier is None:
        return coverage.reason
    return f"ThetaData {tier} · {coverage.reason}" if coverage.reason else f"ThetaData {tier}"


def chain_note(chain: OptionChain) -> str:
    """Everything a chain's status line adds to source and time: tier and rows left out."""
    return " · ".join(x for x in (greeks_note(chain.greeks), skipped_note(chain.report)) if x)


def asset_class_label(asset_class: str | None) -> str:
    """A grid's Class column: stock, option, crypto, crypto perp ("spread" for an mleg)."""
    if asset_class is None:
        return "spread"
    return _ASSET_LABELS.get(asset_class, asset_class)


def option_risk_positions(positions: Iterable[Position]) -> tuple[Position, ...]:
    """The positions the option risk models (US stocks and options)."""
    return tuple(p for p in positions if p.asset_class in OPTION_RISK_CLASSES)


def outside_option_risk_note(positions: Sequence[Position]) -> str:
    """A note naming held positions the option risk leaves out, or "".

    >>> from decimal import Decimal as D
    >>> p = Position("BTCUSD", "crypto", D(1), "long", D(1), D(1), D(1), D(1), D(1), D(0),
    ...              D(0), D(0))
    >>> outside_option_risk_note([p])
    '1 crypto position (BTCUSD) not in the option risk, which covers US stocks and options'
    """
    outside = [p for p in positions if p.asset_class not in OPTION_RISK_CLASSES]
    if not outside:
        return ""
    by_class: dict[AssetClass, list[str]] = {}
    for p in outside:
        by_class.setdefault(p.asset_class, []).append(p.symbol)
    parts = []
    for cls, symbols in by_class.items():
        noun = f"{asset_class_label(cls)} position{'s' if len(symbols) != 1 else ''}"
        parts.append(f"{len(symbols)} {noun} ({', '.join(sorted(symbols))})")
    return f"{'; '.join(parts)} not in the option risk, which covers US stocks and options"


def _leg_text(leg: OrderLeg) -> str:
    sign = "+" if leg.side == "buy" else "−"
    ratio = format(leg.ratio_qty.normalize(), "f")
    return f"{sign}{ratio} {contract_label(leg.symbol, leg.asset_class)}"


def order_contract_label(order: Order) -> str:
    """What an order trades: the contract, or for a multi-leg order its legs with signed
    ratios (``+1 SPY Dec 19 '25 $600 C / −1 SPY Dec 19 '25 $610 C``)."""
    if order.is_multileg:
        return " / ".join(_leg_text(leg) for leg in order.legs)
    return contract_label(order.symbol or "", order.asset_class)


def order_side_label(order: Order) -> str:
    """buy / sell; a multi-leg order has no side of its own: ``2-leg spread``."""
    if order.side is not None:
        return order.side
    return f"{len(order.legs)}-leg spread" if order.legs else "—"


def order_confirm_symbol(order: Order) -> str:
    """What a live cancel asks the user to type: the symbol, or for a multi-leg order its
    legs' common underlying (the leg contracts are long), else the order id."""
    if order.symbol:
        return order.symbol
    roots = {underlying_of(leg.symbol, leg.asset_class) for leg in order.legs}
    return roots.pop() if len(roots) == 1 else order.id


def order_leg_rows(order: Order) -> list[dict[str, Any]]:
    """One grid row per leg (shown under its order; the cancel acts on the order)."""
    return [
        {
            "order_id": order.id,
            "leg_id": leg.id,
            "symbol": leg.symbol,
            "contract": contract_label(leg.symbol, leg.asset_class),
            "side": leg.side,
            "ratio_qty": float(leg.ratio_qty),
            "qty": float(leg.ratio_qty * order.qty) if order.qty is not None else None,
            "position_intent": leg.position_intent or "",
            "status": leg.status,
            "filled_qty": float(leg.filled_qty),
        }
        for leg in order.legs
    ]
