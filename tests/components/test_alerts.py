"""The alerts' callbacks with live services (simulator, journal): the first poll notes
where the page starts, later polls toast only new alerts, acknowledging clears the bell,
the history filters and shows its state, and the signal switches are stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import AlertEvent
from dashboard.alerts.store import AlertStore
from dashboard.components import alerts as ui
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
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
