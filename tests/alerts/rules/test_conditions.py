"""Condition rules: heat and upstream episodes (raised once, cleared once), the daily loss
once per New York day, and the trade monitor's heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import (
    AlertEvent,
    ConditionState,
    Heartbeat,
    SignalSubscriptions,
    SourceHealth,
)
from dashboard.alerts.rules.conditions import (
    daily_loss_events,
    heartbeat_events,
    heat_events,
    stale_events,
)
from dashboard.alerts.rules.config import AlertConfig
from tests.alerts._fixtures import (
    NOW,
)

CONFIG = AlertConfig()
ALL_TFS = SignalSubscriptions(frozenset({"1Month", "1Week", "1Day", "1Hour"}))


# ---- conditions -------------------------------------------------------------------------------


def _heat(pct: float, state: ConditionState) -> list[AlertEvent]:
    return heat_events(
        pct, total_risk=pct * 1000, equity=100_000, state=state, at=NOW, config=CONFIG
    )


def test_heat_raises_once_per_episode_and_clears_with_hysteresis() -> None:
    assert _heat(8.0, ConditionState()) == []  # at the limit is not over it
    (up,) = _heat(8.5, ConditionState())
    assert up.kind is AlertKind.HEAT_OVER and up.key == "heat#1" and up.condition == "heat"
    assert _heat(9.5, ConditionState(1, 0)) == []  # still the same episode
    assert _heat(7.5, ConditionState(1, 0)) == []  # under the limit, above 90% of it
    (down,) = _heat(7.1, ConditionState(1, 0))
    assert down.kind is AlertKind.HEAT_OK and down.key == "heat#1:cleared"
    (again,) = _heat(8.4, ConditionState(1, 1))
    assert again.key == "heat#2"
    assert (
        heat_events(
            float("nan"), total_risk=0, equity=0, state=ConditionState(), at=NOW, config=CONFIG
        )
        == []
    )


def test_daily_loss_once_per_new_york_day() -> None:
    assert daily_loss_events(-2.99, -2990, 97_010, at=NOW, config=CONFIG) == []
    (e,) = daily_loss_events(-3.0, -3000, 97_000, at=NOW, config=CONFIG)
    assert e.key == "daily_loss:2025-12-01" and e.severity == "critical"
    late = NOW.replace(day=2, hour=2)  # 21:00 on Dec 1 in New York
    assert daily_loss_events(-4, -4000, 96_000, at=late, config=CONFIG)[0].key == e.key


def _beat(silent: float, interval: float = 5.0) -> tuple[Heartbeat, object]:
    return Heartbeat("host:1", NOW - timedelta(seconds=silent), interval), NOW


@pytest.mark.parametrize(
    ("silent", "watching", "state", "expected"),
    [
        (30.0, 60.0, ConditionState(), []),  # exactly 6 intervals of 5 s: not yet
        (30.5, 60.0, ConditionState(), ["heartbeat#1"]),
        (30.5, 20.0, ConditionState(), []),  # the watcher itself started 20 s ago
        (90.0, 99.0, ConditionState(1, 0), []),  # already raised for this outage
        (4.0, 99.0, ConditionState(1, 0), ["heartbeat#1:cleared"]),
        (4.0, 99.0, ConditionState(1, 1), []),
        (31.0, 99.0, ConditionState(1, 1), ["heartbeat#2"]),
    ],
)
def test_heartbeat_lost_after_n_intervals_and_recovered(
    silent: float, watching: float, state: ConditionState, expected: list[str]
) -> None:
    beat, now = _beat(silent)
    events = heartbeat_events(
        beat, machine_now=NOW, watching_for=watching, state=state, at=NOW, config=CONFIG
    )
    assert [e.key for e in events] == expected
    for e in events:
        assert e.kind in (AlertKind.HEARTBEAT_LOST, AlertKind.RECOVERED)
    assert now == NOW


def test_heartbeat_uses_the_monitors_own_interval_and_needs_a_beat() -> None:
    slow = Heartbeat("w", NOW - timedelta(seconds=100), 20.0)  # 6 × 20 s = 120 s allowed
    kw = {"machine_now": NOW, "watching_for": 500.0, "state": ConditionState(), "at": NOW}
    assert heartbeat_events(slow, config=CONFIG, **kw) == []  # type: ignore[arg-type]
    assert heartbeat_events(None, config=CONFIG, **kw) == []  # type: ignore[arg-type]
    (lost,) = heartbeat_events(slow, config=AlertConfig(heartbeat_intervals=4), **kw)  # type: ignore[arg-type]
    assert "80 s" not in lost.message and "100 s" in lost.message


def test_upstream_stale_once_per_outage_and_recovered() -> None:
    cfg = AlertConfig(stale_seconds=60)
    down = {"alpaca-data": SourceHealth("down", 59.0), "alpaca-trading": SourceHealth("connected")}
    assert stale_events(down, {}, at=NOW, config=cfg) == []
    down["alpaca-data"] = SourceHealth("down", 61.0)
    (e,) = stale_events(down, {}, at=NOW, config=cfg)
    assert e.key == "stale:alpaca-data#1" and e.kind is AlertKind.UPSTREAM_STALE
    active = {"stale:alpaca-data": ConditionState(1, 0)}
    assert stale_events(down, active, at=NOW, config=cfg) == []
    assert stale_events({"alpaca-data": SourceHealth("degraded")}, active, at=NOW, config=cfg) == []
    (r,) = stale_events({"alpaca-data": SourceHealth("connected")}, active, at=NOW, config=cfg)
    assert r.kind is AlertKind.RECOVERED and r.key == "stale:alpaca-data#1:cleared"
