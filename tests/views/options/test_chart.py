"""Which setup the signal chart draws for a board row: its own (by the board's id), or the
latest one like it, said so."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.strat.board import signal_id
from dashboard.strat.signals import Level, Pattern, Setup, SetupStatus
from dashboard.views.options import chart as V


def _setup(bar: int, label: str = "2D-1-2U", direction: str = "long") -> Setup:
    p = Pattern(
        name="2-1-2",
        label=label,
        kind="reversal",
        direction=direction,  # type: ignore[arg-type]
        bar_indices=(bar - 1, bar),
        entry=Level(10.0 + bar, "setup-bar high + 1 tick"),
        stop=Level(9.0 + bar, "setup-bar low"),
        targets=(),
    )
    return Setup(
        pattern=p,
        status=SetupStatus.PENDING,
        end_index=bar + 1,
        setup_time=datetime(2026, 11, bar, 14, 30, tzinfo=UTC),
    )


def _signal(st: Setup) -> dict[str, object]:
    p = st.pattern
    return {
        "id": signal_id("SPY", "1Day", p, st.setup_time),
        "symbol": "SPY",
        "timeframe": "1Day",
        "label": p.label,
        "direction": p.direction,
    }


def test_the_board_rows_own_setup_is_found_by_its_id() -> None:
    setups = [_setup(3), _setup(5), _setup(7, "3-2U", "long")]
    chosen, note = V.selected_setup(setups, _signal(setups[0]))
    assert chosen is setups[0] and note is None  # not the later one with the same label
    assert V.other_setups(setups, chosen) == setups[1:]


def test_a_setup_no_longer_on_the_bars_is_replaced_by_the_latest_alike_and_said_so() -> None:
    gone = _setup(2)
    setups = [_setup(3), _setup(5), _setup(6, direction="short")]
    chosen, note = V.selected_setup(setups, _signal(gone))
    assert chosen is setups[1] and note is not None and "latest" in note
    chosen, note = V.selected_setup([_setup(4, "3-2U")], _signal(gone))
    assert chosen is None and note is not None and "no longer" in note


def test_title_names_the_signal_and_its_direction() -> None:
    title = V.signal_chart_title(
        {"symbol": "SPY", "timeframe": "1Day", "label": "3-2U", "direction": "long"}
    )
    assert title == "Signal chart · SPY 1Day · 3-2U ▲"


def test_left_signal_only_for_the_same_signal_once_unbound() -> None:
    from dashboard.views.options.chart import left_signal

    signal = {"id": "SPY|1Day|2-1-2U|long|1"}
    assert not left_signal(None, signal)
    assert not left_signal({"id": signal["id"], "state": "bound"}, signal)
    assert not left_signal({"id": signal["id"], "state": "sent"}, signal)
    assert not left_signal({"id": "other", "state": "unbound"}, signal)
    assert left_signal({"id": signal["id"], "state": "unbound"}, signal)


def test_chart_showing_names_what_the_signal_chart_draws() -> None:
    """A refresh tick redraws an idle chart only when this differs from what it shows."""
    from dashboard.views.options.chart import chart_showing

    signal = {"id": "SPY|1Day|2-1-2U|long|1"}
    assert chart_showing(None, None) == ""
    assert chart_showing(signal, None) == chart_showing(signal, {"state": "bound"})
    assert chart_showing(signal, None) == "signal:SPY|1Day|2-1-2U|long|1"
    left = {"id": signal["id"], "state": "unbound", "symbol": "QQQ"}
    assert chart_showing(signal, left).startswith("left:")
    assert chart_showing(signal, left) != chart_showing(signal, {**left, "symbol": "IWM"})
