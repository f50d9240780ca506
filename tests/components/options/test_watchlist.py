"""The watchlist editor's callbacks against the simulator's asset records: an add or a
remove redraws the chips and the count, a bad symbol gets its message and changes
nothing, and the periodic refresh redraws only when another viewer changed the list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.app import create_app
from dashboard.components.options import watchlist as W
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.strat.timeframes import SCAN_TIMEFRAMES
from dashboard.watchlist_store import MAX_WATCHLIST_SYMBOLS, add_symbol, watchlist_symbols
from tests.components._updates import UNCHANGED, post_update
from tests.conftest import settings_for

SEED = ("SPY", "QQQ")


@pytest.fixture
def wired(sim: SimulatorHandle, tmp_path: Path) -> Iterator[tuple[Dash, Services]]:
    services = build_services(settings_for(sim, tmp_path, watchlist=SEED), exit_monitor=False)
    app = create_app(services=services)
    yield app, services
    services.close()


def _chip_symbols(chips: list[Any]) -> list[str]:
    return [chip.children[0].children for chip in chips]


def _remove_ids(chips: list[Any]) -> list[dict[str, str]]:
    return [part.id for chip in chips for part in chip.children[1:]]


def count_text(n: int) -> str:
    return f"{n} of {MAX_WATCHLIST_SYMBOLS} symbols · scanned on {len(SCAN_TIMEFRAMES)} timeframes"


def test_chips_have_a_remove_button_each_except_the_last_symbol() -> None:
    two = W.chips(("SPY", "AMZN"))
    assert _chip_symbols(two) == ["SPY", "AMZN"]
    assert _remove_ids(two) == [
        {"type": W.REMOVE, "symbol": "SPY"},
        {"type": W.REMOVE, "symbol": "AMZN"},
    ]
    assert [c.id for c in two] == ["options-watchlist-SPY", "options-watchlist-AMZN"]
    one = W.chips(("SPY",))
    assert _chip_symbols(one) == ["SPY"] and _remove_ids(one) == []  # the list keeps one


def test_adding_a_listed_symbol_redraws_and_counts(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    out = W.edit_watchlist(services, "options-watchlist-add", " amzn ", 4)
    assert _chip_symbols(out["chips"]) == ["SPY", "QQQ", "AMZN"]
    assert out["count"] == count_text(3)
    assert isinstance(out["message"], html.Span)
    assert out["message"].children == "Added AMZN (Amazon.com, Inc.)."
    assert out["message"].className == "text-bull"
    assert out["input"] == "" and out["version"] == 5
    assert out["symbols"] == ["SPY", "QQQ", "AMZN"] == list(watchlist_symbols(services))
    # Enter in the input adds too.
    enter = W.edit_watchlist(services, "options-watchlist-input", "AMZN", 5)
    assert enter["message"].children == "AMZN is already on the watchlist."


def test_a_bad_symbol_gets_its_message_and_changes_nothing(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    out = W.edit_watchlist(services, "options-watchlist-add", "zzzzq", 2)
    assert out["message"].children == "The broker lists no asset ZZZZQ."
    assert out["message"].className == "text-bear"
    assert out["input"] is no_update and out["version"] is no_update  # the typing stays
    assert out["symbols"] == list(SEED) == list(watchlist_symbols(services))


def test_a_chip_click_removes_and_a_redraw_is_not_a_click(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    trigger = {"type": W.REMOVE, "symbol": "QQQ"}
    with pytest.raises(PreventUpdate):
        W.edit_watchlist(services, trigger, None, 1, clicks=0)  # chips redrawn, no click
    assert watchlist_symbols(services) == SEED
    out = W.edit_watchlist(services, trigger, None, 1, clicks=1)
    assert out["message"].children == "Removed QQQ." and out["version"] == 2
    assert _chip_symbols(out["chips"]) == ["SPY"] and _remove_ids(out["chips"]) == []
    assert out["count"] == count_text(1)


def test_a_refresh_shows_the_stored_list_and_never_touches_the_input(
    wired: tuple[Dash, Services],
) -> None:
    _app, services = wired
    assert add_symbol(services, "AMZN").ok  # another viewer's add
    out = W.edit_watchlist(services, None, "AAP", None)
    assert out["symbols"] == ["SPY", "QQQ", "AMZN"] and out["count"] == count_text(3)
    assert out["message"] is no_update and out["input"] is no_update
    assert out["version"] is no_update
    with pytest.raises(PreventUpdate):
        W.refresh_chips(services, ["SPY", "QQQ", "AMZN"])  # unchanged: chips stay
    chips, count, symbols = W.refresh_chips(services, ["SPY", "QQQ"])
    assert _chip_symbols(chips) == symbols == ["SPY", "QQQ", "AMZN"]
    assert count == count_text(3)


def test_the_editor_lays_out_its_controls() -> None:
    editor = W.watchlist_editor()
    ids = {getattr(node, "id", None) for node in editor._traverse()}
    assert {
        "options-watchlist-input",
        "options-watchlist-add",
        "options-watchlist-chips",
        "options-watchlist-count",
        "options-watchlist-message",
        "options-watchlist-version",
        "options-watchlist-symbols",
    } <= ids


def test_the_registered_callbacks_act_through_dash(wired: tuple[Dash, Services]) -> None:
    """The edit callback reads which control fired from Dash's callback context: an Add
    click and a chip's reported click go through a real update request; the refresh is
    bound to ``refresh_chips``."""
    app, services = wired

    def edit(text: str | None, removed: dict[str, Any] | None, changed: str) -> dict[str, Any]:
        inputs = [
            {"id": "options-watchlist-add", "property": "n_clicks", "value": 1},
            {"id": "options-watchlist-input", "property": "n_submit", "value": 0},
            {"id": "options-watchlist-removed", "property": "data", "value": removed},
        ]
        state = [
            {"id": "options-watchlist-input", "property": "value", "value": text},
            {"id": "options-watchlist-version", "property": "data", "value": 0},
        ]
        return post_update(app, "options-watchlist-message.children", inputs, changed, state)

    added = edit("amzn", None, "options-watchlist-add.n_clicks")
    assert added["options-watchlist-symbols.data"] == ["SPY", "QQQ", "AMZN"]
    assert added["options-watchlist-input.value"] == ""
    assert added["options-watchlist-version.data"] == 1
    # A chip's click, as the browser's "removed" store reports it (assets/20-tabs.js).
    removed = edit(None, {"symbol": "SPY", "at": 1}, "options-watchlist-removed.data")
    assert removed["options-watchlist-symbols.data"] == ["QQQ", "AMZN"]
    assert removed["options-watchlist-input.value"] == ""
    assert removed["options-watchlist-message.children"] is not UNCHANGED
    assert watchlist_symbols(services) == ("QQQ", "AMZN")

    refresh = next(
        v["callback"].__wrapped__
        for k, v in app.callback_map.items()
        if "options-watchlist-count.children@" in k and "callback" in v
    )
    chips, count, symbols = refresh(3, ["SPY"])
    assert _chip_symbols(chips) == symbols == ["QQQ", "AMZN"] and count == count_text(2)
