"""Signal rules: in-force detection per timeframe with TFC, subscriptions per symbol and
timeframe, watches, and low-magnitude setups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from dashboard.alerts.kinds import AlertKind, parse_rules_off
from dashboard.alerts.records import (
    SignalSubscriptions,
    SignalWatch,
)
from dashboard.alerts.rules.config import AlertConfig
from dashboard.alerts.rules.signals import (
    signal_events,
)
from tests.alerts._fixtures import (
    NOW,
    Store,
    signal_row,
    tfc,
)

CONFIG = AlertConfig()
ALL_TFS = SignalSubscriptions(frozenset({"1Month", "1Week", "1Day", "1Hour"}))


# ---- signals ----------------------------------------------------------------------------------


def test_in_force_detection_per_timeframe_with_tfc() -> None:
    day_pending = signal_row()
    hour_pending = signal_row(id="sig-spy-1h", timeframe="1Hour", label="3-1-2U")
    store = Store()
    store.add(signal_events([day_pending, hour_pending], ALL_TFS, {}, NOW, CONFIG))
    day_in_force = replace(
        day_pending, category="triggered", status="triggered", triggered_at=NOW, price=600.4
    )
    later = NOW + timedelta(minutes=5)
    store.add(signal_events([day_in_force, hour_pending], ALL_TFS, {}, later, CONFIG))
    store.add(signal_events([day_in_force, hour_pending], ALL_TFS, {}, later, CONFIG))
    assert store.kinds() == {
        "signal.pending": ["signal:sig-spy-1d:pending", "signal:sig-spy-1h:pending"],
        "signal.triggered": ["signal:sig-spy-1d:triggered"],
    }
    fired = store.kept["signal:sig-spy-1d:triggered"]
    assert fired.timeframe == "1Day" and fired.title == "SPY 1Day 2-1-2U in force"
    assert "TFC aligned 4/4 with the long" in fired.message
    assert fired.values["tfc_agrees"] is True and fired.values["tfc"] == "aligned 4/4"
    against = signal_events(
        [replace(day_in_force, id="x", tfc=tfc("against", 0, 4))], ALL_TFS, {}, NOW, CONFIG
    )
    assert "TFC against 0/4 with the long" in against[0].message
    assert against[0].values["tfc_agrees"] is False


def test_a_setup_first_seen_in_force_raises_only_the_trigger() -> None:
    row = signal_row(category="triggered", status="triggered", triggered_at=NOW)
    assert [e.kind for e in signal_events([row], ALL_TFS, {}, NOW, CONFIG)] == [
        AlertKind.SIGNAL_TRIGGERED
    ]


def test_subscriptions_per_symbol_and_timeframe_and_watches() -> None:
    day = signal_row()
    hour = signal_row(id="h", timeframe="1Hour")
    qqq = signal_row(id="q", symbol="QQQ")
    subs = SignalSubscriptions(
        frozenset({"1Day", "1Week"}), {("QQQ", "1Day"): False, ("SPY", "1Hour"): True}
    )
    events = signal_events([day, hour, qqq], subs, {}, NOW, CONFIG)
    assert sorted(e.signal_id or "" for e in events) == ["h", "sig-spy-1d"]
    # QQQ 1Day is off: its pending setup is silent, but a watch makes its trigger alert.
    watch = SignalWatch("q", "QQQ", "1Day", "2-1-2U", "long", 600.0, NOW)
    in_force = replace(qqq, category="triggered", status="triggered", triggered_at=NOW)
    (e,) = signal_events([in_force], subs, {"q": watch}, NOW, CONFIG)
    assert e.kind is AlertKind.SIGNAL_TRIGGERED and e.severity == "warning"
    assert e.values["watched"] is True and "asked to be told" in e.message
    # Even with signal alerts turned off altogether.
    off = AlertConfig(off=parse_rules_off(["signal"]))
    assert signal_events([in_force], subs, {"q": watch}, NOW, off)
    assert signal_events([in_force], subs, {}, NOW, off) == []


def test_low_magnitude_setups_alert_only_when_watched() -> None:
    small = signal_row(category="low_magnitude")
    assert signal_events([small], ALL_TFS, {}, NOW, CONFIG) == []
    small_in_force = replace(small, status="triggered", triggered_at=NOW)
    watch = SignalWatch(small.id, "SPY", "1Day", "2-1-2U", "long", 600.0, NOW)
    assert len(signal_events([small_in_force], ALL_TFS, {small.id: watch}, NOW, CONFIG)) == 1
