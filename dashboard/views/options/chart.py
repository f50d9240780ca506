"""The signal chart's view: which of the chart's setups is the one the trader selected on
the board, and what the chart's header says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.strat.board import signal_id
from dashboard.strat.signals import Setup

OTHER_SETUPS_SHOWN = 6  # the most recent others, behind the chart's "other setups" switch


def selected_setup(
    setups: Sequence[Setup], signal: Mapping[str, Any]
) -> tuple[Setup | None, str | None]:
    """The setup the board's row names, and a note when it is not exactly that one.

    The board's row id is ``strat.board.signal_id`` of the setup (symbol, timeframe,
    label, direction, setup bar), so the same bars give the same id here. If the setup
    has left the chart's bars (resolved and aged out, or the bars moved on), the latest
    setup with the same label and direction stands in, and the note says so.
    """
    symbol, tf = str(signal.get("symbol") or ""), str(signal.get("timeframe") or "")
    wanted = signal.get("id")
    for st in setups:
        if signal_id(symbol, tf, st.pattern, st.setup_time) == wanted:
            return st, None
    label, direction = signal.get("label"), signal.get("direction")
    alike = [st for st in setups if st.pattern.label == label and st.pattern.direction == direction]
    if alike:
        return alike[-1], f"the selected {label} is no longer on these bars: the latest one shown"
    return None, f"the selected {label} is no longer on these bars"


def other_setups(setups: Sequence[Setup], chosen: Setup | None) -> list[Setup]:
    """The setups drawn faintly behind the chosen one: the most recent others."""
    return [st for st in setups if st is not chosen][-OTHER_SETUPS_SHOWN:]


def signal_chart_title(signal: Mapping[str, Any]) -> str:
    direction = signal.get("direction")
    arrow = {"long": " ▲", "short": " ▼"}.get(str(direction), "")
    return f"Signal chart · {signal['symbol']} {signal['timeframe']} · {signal.get('label')}{arrow}"


def left_signal(binding: Mapping[str, Any] | None, signal: Mapping[str, Any]) -> bool:
    """The ticket was bound to this signal and has since left it (another underlying or
    direction): the chart then stops drawing the signal's levels."""
    return bool(
        binding
        and binding.get("state") == "unbound"
        and binding.get("id") is not None
        and binding.get("id") == signal.get("id")
    )


def chart_showing(signal: Mapping[str, Any] | None, binding: Mapping[str, Any] | None) -> str:
    """What the signal chart draws for ``signal`` and the ticket's ``binding``: "" nothing,
    ``left:…`` the note that the ticket left the signal, ``signal:<id>`` its levels. A
    refresh tick with nothing new to draw redraws only when the chart shows something
    else: Dash drops a callback's answer when the callback is triggered again while in
    flight, so the answer that drew the note may never have arrived."""
    if not signal:
        return ""
    if left_signal(binding, signal):
        return "left:" + repr(sorted((binding or {}).items()))
    return f"signal:{signal.get('id')}"


def signal_name(signal: Mapping[str, Any]) -> str:
    """``SPY 1Day 2-1-2U``: the signal as the ticket names it."""
    return f"{signal.get('symbol')} {signal.get('timeframe')} {signal.get('label')}"
