"""The signal board's rows, status and the plan a selected row carries."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.models import DataState
from dashboard.strat.watchlist import SignalBoard
from dashboard.views.options.signals import (
    board_status,
    signal_grid_rows,
    signal_plan,
    signal_summary,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "SPY|1Day|x",
        "symbol": "SPY",
        "timeframe": "1Day",
        "label": "2D-2U",
        "pattern": "2-2",
        "direction": "long",
        "entry": 600.5,
        "stop": 595.0,
        "target1": 610.0,
        "target2": 615.0,
        "entry_rule": "prior high",
        "stop_rule": "prior low",
        "target_rule": "2 bars back high",
    }
    base.update(kw)
    return base


def test_plan_and_summary_of_a_selected_row() -> None:
    row = _row()
    plan = signal_plan(row)
    assert plan == {
        "id": "SPY|1Day|x",
        "symbol": "SPY",
        "timeframe": "1Day",
        "label": "2D-2U",
        "pattern": "2-2",
        "direction": "long",
        "target2": 615.0,
        "tfc": None,
        "rules": None,
    }
    assert signal_summary(row) == (
        "SPY 1Day long · entry 600.5 (prior high) · stop 595.0 (prior low) · "
        "T1 610.0 (2 bars back high)"
    )


def test_board_status_empty_partial_and_failed() -> None:
    empty = SignalBoard((), (), "sim", NOW, DataState.FRESH, 4)
    result, partial = board_status(empty)
    assert result.state is DataState.EMPTY and partial is None
    failed = SignalBoard((), ("SPY 1Day: boom",), "sim", NOW, DataState.ERROR, 0)
    result, partial = board_status(failed)
    assert result.state is DataState.ERROR and result.error == "SPY 1Day: boom"
    assert signal_grid_rows((), "all") == []
