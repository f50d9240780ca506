"""Webhook delivery against a real HTTP receiver on loopback: retried with backoff until
delivered once, digests past the rate limit, a refusal given up at once, Discord and Slack
payloads, a hung receiver never holding up a monitor pass, and no webhook URL in any log
line. Time moves by the injected clock (``run_once(now=…)``), never by sleeping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from dashboard.alerts.engine import AlertEngine, webhook_for
from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import AlertEvent
from dashboard.alerts.store import AlertStore
from dashboard.alerts.webhooks import (
    WebhookDelivery,
    backoff_seconds,
    format_payload,
    resolve_format,
)
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.settings import load_settings
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.exit_monitor import ExitMonitor
from dashboard.trading.journal import Journal
from tests.alerts._receiver import webhook_receiver
from tests.conftest import settings_for

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def event(key: str, kind: AlertKind = AlertKind.EXIT_FILLED) -> AlertEvent:
    return AlertEvent(
        key=key,
        kind=kind,
        severity="critical" if kind is AlertKind.HEAT_OVER else "info",
        at=T0,
        title=f"Exit filled (stop hit): SPY {key}",
        message=f"Sold 2 SPY at $2.10 ({key}).",
        symbol="SPY",
        values={"pnl": -580.0},
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(f"sqlite:///{tmp_path / 'journal.sqlite'}")
    yield j
    j.close()


def delivery(store: AlertStore, url: str, **kw: object) -> WebhookDelivery:
    fmt = kw.pop("fmt", "json")
    return WebhookDelivery(store, SecretStr(url), fmt, mode="paper", **kw)  # type: ignore[arg-type]


def test_500_twice_then_200_is_delivered_once_after_retries(journal: Journal) -> None:
    store = AlertStore.of(journal)
    with webhook_receiver([500, 500]) as hook:
        d = delivery(store, hook.url, backoff_base=2.0)
        store.record([event("stop:1")], deliver=True, now=T0)
        first = d.run_once(T0)
        assert (first.messages, first.retrying, first.sent) == (1, 1, 0)
        a = store.by_key("stop:1")
        assert a is not None and a.delivery_status == "pending" and a.delivery_attempts == 1
        assert a.delivery_error == "HTTP 500"
        # Not due again before its backoff (2 s after attempt 1, then 4 s).
        assert d.run_once(T0 + timedelta(seconds=1)).claimed == 0
        assert d.run_once(T0 + timedelta(seconds=2)).retrying == 1
        assert d.run_once(T0 + timedelta(seconds=5)).claimed == 0
        done = d.run_once(T0 + timedelta(seconds=6))
        assert done.sent == 1
        assert d.run_once(T0 + timedelta(seconds=60)).claimed == 0  # nothing left
        d.stop()
    assert hook.attempts() == [["stop:1"]] * 3
    assert hook.keys() == ["stop:1"]  # delivered once
    a = store.by_key("stop:1")
    assert a is not None and a.delivery_status == "sent" and a.delivery_attempts == 3
    assert a.delivered_at == T0 + timedelta(seconds=6) and a.delivery_error is None
    assert hook.received[-1].headers["Idempotency-Key"] == "stop:1"
    assert backoff_seconds(1, 2, 300) == 2 and backoff_seconds(3, 2, 300) == 8
    assert backoff_seconds(20, 2, 300) == 300


def test_gives_up_after_max_attempts_and_at_once_on_a_refusal(journal: Journal) -> None:
    store = AlertStore.of(journal)
    with webhook_receiver([503, 503, 404]) as hook:
        d = delivery(store, hook.url, max_attempts=2, backoff_base=1.0)
        store.record([event("a")], deliver=True, now=T0)
        d.run_once(T0)
        last = d.run_once(T0 + timedelta(seconds=1))
        assert last.failed == 1
        store.record([event("b")], deliver=True, now=T0)
        refused = d.run_once(T0 + timedelta(seconds=2))  # 404: not worth retrying
        assert refused.failed == 1 and refused.retrying == 0
        d.stop()
    a, b = store.by_key("a"), store.by_key("b")
    assert a is not None and a.delivery_status == "failed" and a.delivery_attempts == 2
    assert b is not None and b.delivery_status == "failed" and b.delivery_error == "HTTP 404"


def test_a_burst_past_the_rate_limit_goes_out_as_a_digest(journal: Journal) -> None:
    store = AlertStore.of(journal)
    with webhook_receiver() as hook:
        d = delivery(store, hook.url, per_minute=3)
        store.record([event(f"k{i}") for i in range(7)], deliver=True, now=T0)
        burst = d.run_once(T0)
        assert (burst.claimed, burst.messages, burst.sent) == (7, 3, 7)
        # The window (3 messages in 60 s) is full: the next alert waits for it to move.
        store.record([event("late")], deliver=True, now=T0)
        held = d.run_once(T0 + timedelta(seconds=30))
        assert held.waiting == 1 and held.messages == 0
        assert store.by_key("late").delivery_status == "pending"  # type: ignore[union-attr]
        assert d.run_once(T0 + timedelta(seconds=61)).sent == 1
        d.stop()
    assert hook.attempts() == [["k0"], ["k1"], ["k2", "k3", "k4", "k5", "k6"], ["late"]]
    digest = hook.received[2].body
    assert digest["type"] == "digest" and digest["count"] == 5
    assert digest["text"].startswith("STRAT dashboard (paper): 5 alerts")
    assert sorted(hook.keys()) == sorted([f"k{i}" for i in range(7)] + ["late"])


def test_discord_and_slack_payloads(journal: Journal) -> None:
    store = AlertStore.of(journal)
    stored = store.record([event(f"d{i}") for i in range(12)], deliver=True, now=T0)
    discord = format_payload(stored, "discord", mode="paper")
    assert len(discord["embeds"]) == 10  # Discord's limit; the rest as lines
    assert discord["allowed_mentions"] == {"parse": []}
    assert "d11" in discord["content"] and discord["embeds"][0]["title"].endswith("d0")
    assert discord["embeds"][0]["timestamp"] == "2026-01-05T15:00:00+00:00"
    assert "10:00:00" in discord["embeds"][0]["footer"]["text"]  # New York time
    slack = format_payload(stored[:1], "slack", mode="paper")
    assert slack["blocks"][1]["text"]["text"].startswith(":information_source: *Exit filled")
    assert resolve_format("auto", "https://discord.com/api/webhooks/1/abc") == "discord"
    assert resolve_format("auto", "https://hooks.slack.com/services/T/B/x") == "slack"
    assert resolve_format("auto", "https://example.com/hook") == "json"
    assert resolve_format("slack", "https://example.com/hook") == "slack"
    with webhook_receiver() as hook:
        d = delivery(store, hook.url, fmt="discord", per_minute=100)
        assert d.run_once(T0).messages == 12
        d.stop()
    assert len(hook.received) == 12 and hook.received[0].body["embeds"][0]["title"]


@pytest.mark.slow
def test_a_hung_webhook_never_holds_up_the_monitor_pass(
    sim: SimulatorHandle, tmp_path: Path, journal: Journal
) -> None:
    """The receiver holds every request (an injected, unbounded delay). With the delivery
    thread stuck inside its POST, a real monitor pass (against the simulator) still runs
    its alert hook to the end and records new alerts; the receiver has answered nothing."""
    gate = threading.Event()
    settings = settings_for(sim, tmp_path)
    data = AsyncDataService.from_settings(settings)
    store = AlertStore.of(journal)
    with webhook_receiver(gate=gate) as hook:
        d = delivery(store, hook.url, timeout=30.0, poll_seconds=0.05)
        engine = AlertEngine(data, journal, settings, store=store, delivery=d)
        monitor = ExitMonitor(data, journal, holder="A", interval=5, pass_hooks=[engine.on_pass])
        engine.start(watch=False)
        try:
            engine.record([event("first")])
            assert hook.arrived.wait(0) is False
            for _ in range(400):  # until the delivery thread is inside its POST
                row = store.by_key("first")
                if row is not None and row.delivery_status == "sending":
                    break
                gate.wait(0.05)
            assert store.by_key("first").delivery_status == "sending"  # type: ignore[union-attr]
            result = run_async(monitor.run_once(), timeout=60)
            assert result.leader
            done = engine.last_pass
            assert done is not None and done.at == result.at and "trades" in done.evaluated
            assert store.heartbeat() is not None and store.heartbeat().holder == engine.holder  # type: ignore[union-attr]
            assert [a.key for a in engine.record([event("second")])] == ["second"]
            assert not gate.is_set() and hook.received == []  # still holding the first POST
        finally:
            gate.set()
            engine.stop()
            data.close_sync()
    assert store.by_key("first").delivery_status == "sent"  # type: ignore[union-attr]


def test_no_webhook_url_or_token_in_any_log_line(
    journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = AlertStore.of(journal)
    with webhook_receiver([500, 500, 500], path="/api/webhooks/123/s3cr3t-T0KEN-xyz") as hook:
        settings = load_settings(
            env={
                "DASHBOARD_ALERT_WEBHOOK_URL": hook.url,
                "DASHBOARD_ALERT_WEBHOOK_ATTEMPTS": "2",
            },
            env_file=None,
        )
        d = webhook_for(settings, store, backoff_base=1.0)
        assert d is not None
        store.record([event("x"), event("y", AlertKind.HEAT_OVER)], deliver=True, now=T0)
        d.run_once(T0)
        d.run_once(T0 + timedelta(seconds=1))
        logging.getLogger("httpx").info("HTTP Request: POST %s", hook.url)  # as httpx logs
        text = "\n".join(
            [r.getMessage() for r in caplog.records] + [repr(d), repr(settings), str(settings)]
        )
        d.stop()
    assert "s3cr3t-T0KEN-xyz" not in text and "/api/webhooks/123" not in text
    assert "<webhook URL>" in text  # the httpx line was redacted, not dropped
    assert "gave up on" in text  # the failure itself is logged
    failed = store.by_key("x")
    assert failed is not None and "s3cr3t" not in (failed.delivery_error or "")


def test_the_webhook_url_setting_is_checked_without_echoing_it() -> None:
    from dashboard.settings import SettingsError

    with pytest.raises(SettingsError) as err:
        load_settings(
            env={"DASHBOARD_ALERT_WEBHOOK_URL": "http://hooks.example.com/s3cr3t-path"},
            env_file=None,
        )
    assert "https://" in str(err.value) and "s3cr3t-path" not in str(err.value)
    ok = load_settings(
        env={"DASHBOARD_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}, env_file=None
    )
    assert ok.alert_webhook_url is not None
