"""The alerts' callbacks with live services (simulator, journal): the first poll notes
where the page starts, later polls toast only new alerts, acknowledging clears the bell,
the history filters and shows its state, and the signal switches are stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import AlertEvent
from dashboard.alerts.store import AlertStore
from dashboard.components import alerts as ui
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.components._updates import UNCHANGED, post_update
from tests.conftest import settings_for

AT = datetime(2025, 12, 1, 15, 30, tzinfo=UTC)


def event(key: str, kind: AlertKind = AlertKind.EXIT_FILLED, symbol: str = "SPY") -> AlertEvent:
    return AlertEvent(key, kind, "warning", AT, f"title {key}", f"message {key}", symbol=symbol)


@pytest.fixture
def services(sim: SimulatorHandle, tmp_path: Path) -> Iterator[Services]:
    s = build_services(
        settings_for(sim, tmp_path).with_overrides(watchlist=("SPY", "QQQ")), exit_monitor=False
    )
    yield s
    s.close()


def test_poll_toasts_only_what_is_new_and_ack_clears_the_bell(services: Services) -> None:
    store = AlertStore.of(services.journal)
    store.record([event("old")], deliver=False)
    count, colour, toasts, seen, new = ui.poll(services, None)
    assert count == "1" and colour == "danger"
    assert toasts is ui.no_update and new is ui.no_update  # history, not news
    assert seen == store.latest_id()
    assert ui.poll(services, seen)[2] is ui.no_update
    store.record([event("a"), event("b", AlertKind.NEAR_STOP, "QQQ")], deliver=False)
    count, _, toasts, seen2, new = ui.poll(services, seen)
    assert count == "3" and seen2 == store.latest_id()
    assert [t.id["id"] for t in toasts] == [seen2, seen2 - 1]  # newest first
    assert [n["tag"] for n in new] == ["a", "b"]
    assert ui.acknowledge(services, {"type": "alerts-ack", "id": seen2}, 0) == 1
    assert ui.poll(services, seen2)[0] == "2"
    assert ui.acknowledge(services, "alerts-ack-all", 1) == 2
    count, colour, *_ = ui.poll(services, seen2)
    assert count == "" and colour == "secondary"


def test_history_filters_states_and_symbols(services: Services) -> None:
    assert ui.history(services, False, None, None, False) == (ui.no_update,) * 3
    rows, state, symbols = ui.history(services, True, None, None, False)
    assert rows == [] and "no data" in str(state) and "no alerts yet" in str(state)
    store = AlertStore.of(services.journal)
    store.record([event("a"), event("b", AlertKind.HEAT_OVER, "QQQ")], deliver=False)
    rows, state, symbols = ui.history(services, True, ["risk"], None, False)
    assert len(rows) == 1 and "title b" in str(rows[0])
    assert "fresh" in str(state) and "alerts table (journal database)" in str(state)
    assert " ET" in str(state)  # the broker's as-of, New York time
    assert symbols == [{"label": "QQQ", "value": "QQQ"}, {"label": "SPY", "value": "SPY"}]
    rows, state, _ = ui.history(services, True, None, "NVDA", False)
    assert rows == [] and "no alerts match the filter" in str(state)


def test_signal_switches_are_stored_per_symbol_and_timeframe(services: Services) -> None:
    options, value, _state, watched = ui.subscriptions(services, True)
    assert {"label": "SPY 1Day", "value": "SPY|1Day"} in options
    assert "SPY|1Hour" in value and "QQQ|1Month" in value  # every timeframe by default
    assert "no watched setups" in str(watched)
    off = [v for v in value if v != "QQQ|1Hour"]
    assert ui.save_subscriptions(services, off, options) == "saved 1 change(s)"
    assert ui.save_subscriptions(services, off, options) == ""
    store = AlertStore.of(services.journal)
    assert store.subscription_overrides() == {("QQQ", "1Hour"): False}
    _, value, _, _ = ui.subscriptions(services, True)
    assert "QQQ|1Hour" not in value and "SPY|1Hour" in value


def test_watching_a_signal_and_stopping(services: Services) -> None:
    from dashboard.alerts import watch_signal
    from tests.alerts._fixtures import signal_row

    row = signal_row(symbol="QQQ", timeframe="1Hour")
    assert watch_signal(services.journal, row, now=AT)
    assert not watch_signal(services.journal, row, now=AT)  # once
    _, _, _, watched = ui.subscriptions(services, True)
    assert "QQQ 1Hour 2-1-2U (long, trigger 600.00)" in str(watched)
    assert ui.unwatch(services, {"type": "alerts-unwatch", "id": row.id}) == "stopped watching it"
    assert ui.unwatch(services, {"type": "alerts-unwatch", "id": row.id}) == "it was not watched"
    assert "no watched setups" in str(ui.subscriptions(services, True)[3])


def test_clicks_that_are_not_for_a_row_and_closed_panels_change_nothing(
    services: Services,
) -> None:
    store = AlertStore.of(services.journal)
    store.record([event("a")], deliver=False)
    assert ui.acknowledge(services, {"type": "alerts-ack", "id": "seven"}, 3) is ui.no_update
    assert ui.acknowledge(services, "alerts-bell", 3) is ui.no_update
    assert store.unread_count() == 1  # neither marked anything read
    assert ui.subscriptions(services, False) == (ui.no_update,) * 4
    assert ui.unwatch(services, "alerts-ack-all") is ui.no_update
    assert ui.save_subscriptions(services, ["SPY|1Day"], None) is ui.no_update
    # A pair on a timeframe the scanner does not run is not stored.
    odd = [{"label": "SPY 5Min", "value": "SPY|5Min"}]
    assert ui.save_subscriptions(services, [], odd) == ""
    assert store.subscription_overrides() == {}


def test_the_panel_says_when_alerts_are_off(services: Services) -> None:
    on = str(ui.pieces(services.settings))
    assert "Every rule is on." in on
    off = str(ui.pieces(services.settings.with_overrides(alerts_enabled=False)))
    assert "Alerts are off (DASHBOARD_ALERTS=false)." in off


def test_a_database_fault_shows_on_the_bell_and_in_the_panel(services: Services) -> None:
    """The alerts' tables gone (a database fault): the bell turns to a warning, the
    history shows the error, the switches say they could not be read; no page error."""
    from sqlalchemy import text

    with services.journal.engine.begin() as conn:
        for table in ("alerts", "alert_subscriptions", "alert_watches"):
            conn.execute(text(f"DROP TABLE {table}"))
    count, colour, toasts, seen, new = ui.poll(services, 4)
    assert (colour, toasts, seen, new) == ("warning", ui.no_update, ui.no_update, ui.no_update)
    assert count == ui.bell_text(None)
    rows, state, symbols = ui.history(services, True, None, None, False)
    assert rows == [] and "error" in str(state) and "OperationalError" in str(state)
    assert symbols is ui.no_update
    options, value, why, watched = ui.subscriptions(services, True)
    assert (options, value, watched) == ([], [], ui.no_update)
    assert why == "could not read the switches: OperationalError"


def _post(app: Any, output: str, inputs: list[Any], changed: str, state: Any = ()) -> Any:
    return post_update(app, output, inputs, changed, state)[output]


def test_the_registered_callbacks_act_through_dash(services: Services) -> None:
    """Each callback bound in ``register`` answers a real update request with what its
    named function computes (the clicks go through Dash's callback context)."""
    from dashboard.alerts import watch_signal
    from dashboard.app import create_app
    from tests.alerts._fixtures import signal_row

    app = create_app(services=services)
    store = AlertStore.of(services.journal)
    store.record([event("a"), event("b")], deliver=False)
    fn = {k: v["callback"].__wrapped__ for k, v in app.callback_map.items() if "callback" in v}

    def call(fragment: str, *args: Any) -> Any:
        return next(f for k, f in fn.items() if fragment in k)(*args)

    assert call("alerts-bell-count.children", 1, 0, None, False) == (
        *ui.poll(services, None),
        ui.no_update,  # a first poll: nothing new for the history
    )
    seen = ui.poll(services, None)[3]
    store.record([event("c")], deliver=False)
    *_, tick_closed = call("alerts-bell-count.children", 2, 0, seen, False)
    *_, tick_open = call("alerts-bell-count.children", 2, 0, seen, True)
    assert tick_closed is ui.no_update and tick_open == seen + 1  # redraw only when open
    assert call("alerts-panel.is_open", 1, False) is True
    assert call("alerts-panel.is_open", 0, True) is True
    rows, _state, _symbols = call("alerts-history.children", True, None, None, False, 0, None)
    assert len(rows) == 3
    options, *_ = call("alerts-subscriptions.options", True, None)
    assert {"label": "SPY 1Day", "value": "SPY|1Day"} in options

    # Acknowledge every alert: a click on "Acknowledge all" (no rows rendered yet).
    all_clicked = [{"id": "alerts-ack-all", "property": "n_clicks", "value": 1}, []]
    acked = _post(
        app,
        "alerts-acked.data",
        all_clicked,
        "alerts-ack-all.n_clicks",
        [{"id": "alerts-acked", "property": "data", "value": 4}],
    )
    assert acked == 5 and store.unread_count() == 0
    # A row that appears (n_clicks 0) is not a click.
    appeared = [
        {"id": "alerts-ack-all", "property": "n_clicks", "value": 0},
        [{"id": {"type": "alerts-ack", "id": 1}, "property": "n_clicks", "value": 0}],
    ]
    changed = '{"id":1,"type":"alerts-ack"}.n_clicks'
    state = [{"id": "alerts-acked", "property": "data", "value": 5}]
    assert _post(app, "alerts-acked.data", appeared, changed, state) is UNCHANGED

    # A switch turned off is stored; the save answers with what it did.
    turn_off = [o["value"] for o in options if o["value"] != "QQQ|1Hour"]
    saved = _post(
        app,
        "alerts-subscriptions-state.children",
        [{"id": "alerts-subscriptions", "property": "value", "value": turn_off}],
        "alerts-subscriptions.value",
        [{"id": "alerts-subscriptions", "property": "options", "value": options}],
    )
    assert saved == "saved 1 change(s)"
    assert store.subscription_overrides() == {("QQQ", "1Hour"): False}

    # Stop watching a setup from its button.
    row = signal_row(symbol="QQQ", timeframe="1Hour")
    assert watch_signal(services.journal, row, now=AT)
    unwatch_id = {"type": "alerts-unwatch", "id": row.id}
    stopped = _post(
        app,
        "alerts-watches-state.children",
        [[{"id": unwatch_id, "property": "n_clicks", "value": 1}]],
        json.dumps(unwatch_id, sort_keys=True, separators=(",", ":")) + ".n_clicks",
    )
    assert stopped == "stopped watching it" and store.watches() == {}
