"""The signal board and loading a signal into the ticket, against the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from dash.exceptions import PreventUpdate

from dashboard.components.options import signals as S
from tests.components.options.conftest import OptionsTab


def _board(tab: OptionsTab) -> list[dict[str, Any]]:
    rows, status = S.refresh_signals(tab.services, "all")
    assert "fresh" in str(status) or "stale" in str(status)
    return rows


def test_board_rows_and_category_filter(tab: OptionsTab) -> None:
    rows = _board(tab)
    assert rows, "the seeded market has setups"
    pending, _ = S.refresh_signals(tab.services, "pending")
    assert all(r["category"] == "pending" for r in pending)
    # Every pending row is an idea of the whole board (a both-ways idea may show its
    # other, pending leg, with that leg's own id).
    idea = lambda r: (r["symbol"], r["timeframe"], r["pattern"], r["setup_iso"])  # noqa: E731
    assert {idea(r) for r in pending} <= {idea(r) for r in rows}


def test_loading_a_signal_fills_the_ticket_from_its_levels_and_chain(tab: OptionsTab) -> None:
    row = next(r for r in _board(tab) if r["category"] != "low_magnitude")
    out = S.load_signal(tab.reads, [row], None)
    assert set(out) == set(S.LOAD_OUTPUTS)
    assert (out["symbol"], out["direction"]) == (row["symbol"], row["direction"])
    assert (out["entry"], out["target"], out["stop"]) == (row["entry"], row["target1"], row["stop"])
    assert out["signal"]["id"] == row["id"] and out["signal"]["direction"] == row["direction"]
    assert row["label"] in str(out["signal_text"])
    if out["strike"] is not None:  # a contract was suggested from the chain
        assert out["expiry"] in {o["value"] for o in out["expiry_options"]}
        assert out["strike"] in {o["value"] for o in out["strike_options"]}
        assert out["limit"] > 0 and "Suggested" in str(out["why"])
    with pytest.raises(PreventUpdate):  # the same selection again keeps the user's edits
        S.load_signal(tab.reads, [row], out["signal"])
    with pytest.raises(PreventUpdate):
        S.load_signal(tab.reads, [], None)


def test_strikes_follow_the_expiry_and_the_direction(tab: OptionsTab) -> None:
    values = tab.ticket()
    calls = S.strikes_for_expiry(tab.reads, values["expiry"], "long", "SPY")
    puts = S.strikes_for_expiry(tab.reads, values["expiry"], "short", "SPY")
    assert calls and puts and values["strike"] in {o["value"] for o in calls}
    with pytest.raises(PreventUpdate):
        S.strikes_for_expiry(tab.reads, None, "long", "SPY")
    with pytest.raises(PreventUpdate):
        S.strikes_for_expiry(tab.reads, values["expiry"], "sideways", "SPY")
