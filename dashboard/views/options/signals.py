"""The signal board as the tab shows it: grid rows from the scanner's rows, the board's
status, and the plan a selected row hands to the ticket."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.models import DataResult, DataState
from dashboard.strat.board import SignalRow
from dashboard.strat.watchlist import SignalBoard
from dashboard.views.formatting import format_et

# What a selected signal carries into the ticket (the dcc.Store "options-selected-signal").
SIGNAL_PLAN_FIELDS = ("id", "symbol", "timeframe", "label", "pattern")


def signal_grid_rows(rows: Iterable[SignalRow], category: str) -> list[dict[str, Any]]:
    """Grid rows from ``SignalRow``s; hidden fields carry what the ticket needs."""
    out: list[dict[str, Any]] = []
    for r in rows:
        if category != "all" and r.category != category:
            continue
        out.append(
            {
                "id": r.id,
                "category": r.category,
                "symbol": r.symbol,
                "timeframe": r.timeframe,
                "label": r.label,
                "pattern": r.pattern,
                "direction": r.direction,
                "status": r.status,
                "entry": round(r.entry, 2),
                "stop": round(r.stop, 2),
                "target1": None if r.target1 is None else round(r.target1, 2),
                "target2": None if r.target2 is None else round(r.target2, 2),
                "rr": None if r.reward_risk is None else round(r.reward_risk, 2),
                "tfc": r.tfc_text,
                "magnitude": None if r.magnitude_pct is None else round(r.magnitude_pct, 2),
                "triggered": format_et(r.triggered_at, "%m-%d %H:%M") if r.triggered_at else "",
                "price": round(r.price, 2),
                "entry_rule": r.entry_rule,
                "stop_rule": r.stop_rule,
                "target_rule": r.target_rule or "",
                "plan_tfc": r.tfc_label,  # journaled with the trade
                "plan_rules": r.rules_text,
            }
        )
    return out


def board_status(board: SignalBoard) -> tuple[DataResult[object], str | None]:
    """The board's status, and a second line naming failed frames when some rows still
    showed (a partial board is not an error, but it must not look complete)."""
    state = board.state if board.rows or board.state is not DataState.FRESH else DataState.EMPTY
    result: DataResult[object] = DataResult(
        board.rows if board.rows else None,
        board.source,
        board.as_of,
        state,
        error="; ".join(board.errors[:3]) or None,
    )
    partial = None
    if board.errors and board.rows:
        partial = f"{len(board.errors)} frame(s) failed: " + "; ".join(board.errors[:3])
    return result, partial


def signal_plan(row: Mapping[str, Any]) -> dict[str, Any]:
    """The selected row's plan for the ticket: which signal, and its direction and T2."""
    plan = {k: row.get(k) for k in SIGNAL_PLAN_FIELDS}
    plan.update(
        direction=row["direction"],
        target2=row.get("target2"),
        tfc=row.get("plan_tfc"),  # the journal keeps the signal's context with the trade
        rules=row.get("plan_rules"),
    )
    return plan


def signal_summary(row: Mapping[str, Any]) -> str:
    """One line: the signal's levels and the rule behind each."""
    return (
        f"{row['symbol']} {row['timeframe']} {row['direction']} · entry {row['entry']} "
        f"({row['entry_rule']}) · stop {row['stop']} ({row['stop_rule']}) · "
        f"T1 {row['target1']} ({row['target_rule']})"
    )
