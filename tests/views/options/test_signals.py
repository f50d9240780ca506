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


# ---- filters and the words of a row ---------------------------------------------------------


def _signal(name: str, **kw: object):  # a SignalRow
    from dashboard.strat.board import SignalRow, SignalTfc

    base: dict[str, object] = {
        "id": name, "category": "triggered", "symbol": name, "timeframe": "1Day",
        "pattern": "2-2", "label": "2D-2U", "direction": "long", "status": "triggered",
        "price": 100.0, "entry": 100.0, "stop": 98.0, "target1": 104.0, "target2": None,
        "reward_risk": 2.0, "magnitude_pct": 4.0, "magnitude_atr": 1.0,
        "tfc": SignalTfc("aligned", 3, 0, ()), "setup_time": None, "triggered_at": None,
        "entry_rule": "e", "stop_rule": "s", "target_rule": "C2 high", "trigger_pct": 0.0,
        "to_t1_pct": 4.0, "to_stop_pct": 2.0, "rr_now": 2.0,
    }  # fmt: skip
    base.update(kw)
    return SignalRow(**base)  # type: ignore[arg-type]


def test_filters_keep_what_they_say() -> None:
    from dataclasses import replace

    from dashboard.strat.board import SignalTfc
    from dashboard.views.options.signals import SignalFilters, filter_rows

    mixed = SignalTfc("mixed", 1, 1, ())
    short_leg = _signal("OUT", label="3-2D", pattern="3-2", direction="short", tfc=mixed)
    both = replace(
        _signal("OUT", label="3-2U", pattern="3-2", directions=("long", "short")), alt=short_leg
    )
    rows = [
        _signal("AAA"),
        _signal("BBB", direction="short", label="2U-2D", tfc=mixed),
        _signal("CCC", timeframe="4Hour", tags=("Hammer",), magnitude_pct=0.8),
        both,
    ]
    regimes = {"AAA": "TREND_BULL", "BBB": "TREND_BEAR", "CCC": None, "OUT": "TREND_BULL"}

    def keep(**kw: object) -> list[tuple[str, str]]:
        f = SignalFilters.from_inputs(**kw)  # type: ignore[arg-type]
        return [(r.symbol, r.direction) for r in filter_rows(rows, f, regimes)]

    everything = [("AAA", "long"), ("BBB", "short"), ("CCC", "long"), ("OUT", "long")]
    assert keep() == everything
    # A both-ways idea shows the leg the direction asks for.
    assert keep(direction="short") == [("BBB", "short"), ("OUT", "short")]
    assert keep(direction="long", tfc=["aligned"]) == [("AAA", "long"), ("CCC", "long"),
                                                       ("OUT", "long")]  # fmt: skip
    assert keep(timeframes=["4Hour", "2Day"]) == [("CCC", "long")]  # unknown ignored
    assert keep(families=["Hammer"]) == [("CCC", "long")]  # a tag counts as its family
    assert keep(families=["3-2"]) == [("OUT", "long")]
    assert keep(min_magnitude="1") == [("AAA", "long"), ("BBB", "short"), ("OUT", "long")]
    assert keep(min_magnitude="abc") == keep(min_magnitude=-2) == everything  # read as any
    assert keep(regimes=["TREND_BEAR"]) == [("BBB", "short")]
    assert keep(regimes=["no such regime"]) == everything


def test_grid_row_words_for_tfc_status_and_target_origin() -> None:
    from dashboard.strat.board import SignalTfc
    from dashboard.strat.continuity import TimeframeState
    from dashboard.views.options.signals import signal_grid_rows as grid

    states = (
        TimeframeState("1Week", 100.0, 101.0, 1, 1.0),
        TimeframeState("1Month", 102.0, 101.0, -1, -1.0),
    )
    row = _signal(
        "AAA",
        tfc=SignalTfc("mixed", 1, 1, states),
        target_rule="entry + 1.5R (T1 not beyond entry)",
        broke_both=True,
        status="broke both ways",
        directions=("long", "short"),
        other_leg="3-2D short stopped",
    )
    (g,) = grid([row])
    assert g["tfc"] == "mixed 1/2" and g["tfc_stance"] == "mixed"
    assert g["tfc_tip"].startswith("long on 1Day: 1 of 2 higher timeframes agree, 1 against")
    assert "1Week ↑ green" in g["tfc_tip"] and "1Month ↓ red" in g["tfc_tip"]
    assert g["target_origin"] == "1.5R fallback"
    assert g["status_text"] == "broke both ways" and g["direction_text"] == "both, long ↑"
    assert "other way: 3-2D short stopped" in g["status_tip"]
    assert g["plan_tfc"] == "mixed 1/2 W,M"
    three = tuple(
        TimeframeState(tf, 100.0, 101.0, 1, 1.0) for tf in ("1Week", "1Month", "1Quarter")
    )
    (aligned,) = grid([_signal("BBB", tfc=SignalTfc("aligned", 3, 0, three))])
    assert aligned["tfc"] == "✓ 3/3" and aligned["target_origin"] == "structure"
    assert aligned["tier"] == 0 and aligned["rank"] == 1
