"""The alert tables on SQLite and a real Postgres: one row per key under concurrent
writers, reads for the UI, acknowledgement, condition counts, the heartbeat,
subscriptions and watches, and delivery claims that one claimer wins."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from dashboard.alerts import record
from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import AlertEvent, ConditionState, SignalWatch
from dashboard.alerts.store import AlertStore, metadata
from dashboard.settings import load_settings
from dashboard.trading.journal import MIGRATIONS, SCHEMA_VERSION, Journal, _v3_alerts
from tests.alerts._fixtures import NOW

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def event(key: str, kind: AlertKind = AlertKind.ENTRY_FILLED, **over: object) -> AlertEvent:
    base: dict[str, object] = {
        "key": key,
        "kind": kind,
        "severity": "info",
        "at": NOW,
        "title": f"title {key}",
        "message": f"message {key}",
        "symbol": "SPY",
        "values": {"pnl": 12.5, "nan": float("nan"), "text": "x"},
    }
    base.update(over)
    return AlertEvent(**base)  # type: ignore[arg-type]


@pytest.fixture
def journal(journal_url: str):
    j = Journal(journal_url)
    yield j
    j.close()


@pytest.fixture
def store(journal: Journal) -> AlertStore:
    return AlertStore.of(journal)


def test_schema_step_3_makes_every_alert_table_and_column(journal: Journal) -> None:
    inspector = sa_inspect(journal.engine)
    for name, table in metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == {c.name for c in table.columns}
    assert AlertStore.of(journal).since() is not None  # alerts start when the step ran
    with journal.engine.connect() as conn:
        version: str = conn.execute(
            text("SELECT value FROM journal_meta WHERE key = 'schema_version'")
        ).scalar_one()
    assert version == str(SCHEMA_VERSION)
    assert any(step.apply is _v3_alerts for step in MIGRATIONS)


def test_record_keeps_one_row_per_key_and_returns_only_new_ones(store: AlertStore) -> None:
    first = store.record([event("a"), event("b"), event("a")], deliver=True, now=T0)
    assert [a.key for a in first] == ["a", "b"]
    again = store.record([event("b"), event("c")], deliver=False, now=T0)
    assert [a.key for a in again] == ["c"]
    a = store.by_key("a")
    assert a is not None and a.delivery_status == "pending" and a.delivery_attempts == 0
    assert a.values == {"pnl": 12.5, "nan": None, "text": "x"}  # NaN stored as null
    assert a.at == NOW and a.kind is AlertKind.ENTRY_FILLED
    assert store.by_key("c").delivery_status == "off"  # type: ignore[union-attr]


def test_two_journals_racing_on_the_same_events_make_one_row_each(journal_url: str) -> None:
    journals = [Journal(journal_url) for _ in range(4)]
    made: list[list[str]] = []
    start = threading.Barrier(len(journals))

    def write(j: Journal) -> None:
        start.wait()
        events = [event(f"k{i}") for i in range(20)]
        made.append([a.key for a in AlertStore.of(j).record(events, deliver=True)])

    threads = [threading.Thread(target=write, args=(j,)) for j in journals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(k for keys in made for k in keys) == sorted(f"k{i}" for i in range(20))
    assert len(AlertStore.of(journals[0]).history(limit=100)) == 20
    for j in journals:
        j.close()


def test_history_filters_unread_and_acknowledge(store: AlertStore) -> None:
    store.record(
        [
            event("1", AlertKind.NEAR_STOP, symbol="SPY"),
            event("2", AlertKind.EXIT_FILLED, symbol="QQQ"),
            event("3", AlertKind.HEAT_OVER, symbol=None),
        ],
        deliver=False,
    )
    assert [a.key for a in store.history()] == ["3", "2", "1"]
    assert [a.key for a in store.history(kinds=["trade.near_stop", "risk.heat_over"])] == ["3", "1"]
    assert [a.key for a in store.history(symbol="qqq")] == ["2"]
    assert store.symbols() == ["QQQ", "SPY"]
    assert store.unread_count() == 3
    first = store.history()[-1]
    assert store.acknowledge([first.id]) == 1
    assert store.acknowledge([first.id]) == 0  # already read
    assert store.unread_count() == 2
    assert [a.key for a in store.history(unread_only=True)] == ["3", "2"]
    assert store.acknowledge() == 2 and store.unread_count() == 0
    latest = store.latest_id()
    assert [a.key for a in store.after(latest - 2)] == ["2", "3"]
    assert store.after(latest) == []


def test_condition_states_count_raises_and_clears(store: AlertStore) -> None:
    store.record(
        [
            event("heat#1", AlertKind.HEAT_OVER, condition="heat"),
            event("heat#1:cleared", AlertKind.HEAT_OK, condition="heat"),
            event("heat#2", AlertKind.HEAT_OVER, condition="heat"),
            event("heartbeat#1", AlertKind.HEARTBEAT_LOST, condition="heartbeat"),
        ],
        deliver=False,
    )
    assert store.condition_states() == {
        "heat": ConditionState(2, 1),
        "heartbeat": ConditionState(1, 0),
    }


def test_heartbeat_upsert(store: AlertStore) -> None:
    assert store.heartbeat() is None
    store.beat("A", T0, 5.0)
    store.beat("B", T0 + timedelta(seconds=5), 10.0)
    beat = store.heartbeat()
    assert beat is not None and beat.holder == "B" and beat.interval_seconds == 10.0
    assert beat.beat_at == T0 + timedelta(seconds=5)


def test_subscriptions_and_watches(store: AlertStore) -> None:
    store.set_subscription("spy", "1Hour", False, now=T0)
    store.set_subscription("SPY", "1Hour", True, now=T0)
    store.set_subscription("QQQ", "1Day", False, now=T0)
    assert store.subscription_overrides() == {("SPY", "1Hour"): True, ("QQQ", "1Day"): False}
    w = SignalWatch("sig-1", "SPY", "1Day", "2-1-2U", "long", 600.0, T0)
    assert store.add_watch(w) and not store.add_watch(w)
    assert store.watches() == {"sig-1": w}
    assert store.remove_watch("sig-1") and not store.remove_watch("sig-1")
    assert store.watches() == {}


def test_delivery_claims_one_winner_and_records_outcomes(journal_url: str) -> None:
    a, b = Journal(journal_url), Journal(journal_url)
    sa, sb = AlertStore.of(a), AlertStore.of(b)
    sa.record([event(f"d{i}") for i in range(3)], deliver=True, now=T0)
    got_a = sa.claim_due("A", T0, limit=10, claim_seconds=60)
    got_b = sb.claim_due("B", T0, limit=10, claim_seconds=60)
    assert len(got_a) == 3 and got_b == []
    ids = [x.id for x in got_a]
    sb.mark_sent(ids, "B", now=T0, batch="x")  # not B's claim: nothing changes
    assert sa.by_key("d0").delivery_status == "sending"  # type: ignore[union-attr]
    sa.mark_sent(ids[:1], "A", now=T0, batch="d0")
    sa.mark_retry(ids[1:2], "A", next_at=T0 + timedelta(seconds=4), error="HTTP 500")
    sa.mark_failed(ids[2:], "A", error="HTTP 404")
    sent, retry, failed = (sa.by_key(f"d{i}") for i in range(3))
    assert sent.delivery_status == "sent" and sent.delivery_attempts == 1  # type: ignore[union-attr]
    assert sent.delivered_at == T0  # type: ignore[union-attr]
    assert retry.delivery_status == "pending" and retry.delivery_error == "HTTP 500"  # type: ignore[union-attr]
    assert failed.delivery_status == "failed"  # type: ignore[union-attr]
    assert sb.claim_due("B", T0 + timedelta(seconds=3), limit=10, claim_seconds=60) == []
    assert sa.next_due() == T0 + timedelta(seconds=4)
    (later,) = sb.claim_due("B", T0 + timedelta(seconds=4), limit=10, claim_seconds=60)
    assert later.key == "d1" and later.delivery_attempts == 1
    # B dies mid-delivery: its claim expires and A takes the alert over.
    assert sa.claim_due("A", T0 + timedelta(seconds=30), limit=10, claim_seconds=60) == []
    (taken,) = sa.claim_due("A", T0 + timedelta(seconds=65), limit=10, claim_seconds=60)
    assert taken.key == "d1"
    assert sa.window(T0 + timedelta(seconds=30)).sent == 1
    assert sa.window(T0 + timedelta(seconds=61)).sent == 0
    a.close()
    b.close()


def test_record_helper_for_other_code(journal: Journal) -> None:
    settings = load_settings(env={}, env_file=None)
    hooked = settings.with_overrides(
        alert_webhook_url=load_settings(
            env={"DASHBOARD_ALERT_WEBHOOK_URL": "https://example.com/hook/secret-token"},
            env_file=None,
        ).alert_webhook_url
    )
    (one,) = record(journal, event("armed:1:sent", AlertKind.ARMED_ENTRY_SENT), settings=settings)
    assert one.delivery_status == "off"
    (two,) = record(journal, [event("armed:2:sent")], settings=hooked)
    assert two.delivery_status == "pending"
    assert record(journal, event("armed:1:sent"), settings=hooked) == []


def test_stored_alert_is_a_plain_record(store: AlertStore) -> None:
    (a,) = store.record([event("p")], deliver=False)
    assert not a.acknowledged
    assert replace(a, acknowledged_at=T0).acknowledged
