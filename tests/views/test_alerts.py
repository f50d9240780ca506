"""The alerts' view data from hand-made stored alerts: the bell's text, history rows in
New York time with their delivery, toasts (capped, newest first), what a browser
notification gets, and the kind filter."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import StoredAlert
from dashboard.views.alerts import (
    MAX_TOASTS,
    bell_text,
    delivery_text,
    history_rows,
    kinds_for_filter,
    notification_payload,
    toasts,
)

AT = datetime(2025, 12, 1, 15, 30, 5, tzinfo=UTC)  # Monday 10:30:05 New York


def stored(i: int, kind: AlertKind = AlertKind.EXIT_FILLED, **over: object) -> StoredAlert:
    base: dict[str, object] = {
        "id": i,
        "key": f"k{i}",
        "kind": kind,
        "severity": "info",
        "at": AT,
        "created_at": AT,
        "title": f"Exit filled (stop hit): SPY {i}",
        "message": "Sold 2 at $2.10.",
        "symbol": "SPY",
        "trade_id": 7,
        "signal_id": None,
        "timeframe": "1Day",
        "condition": None,
        "values": {},
        "acknowledged_at": None,
        "delivery_status": "off",
        "delivery_attempts": 0,
        "delivery_error": None,
        "delivered_at": None,
    }
    base.update(over)
    return StoredAlert(**base)  # type: ignore[arg-type]


def test_bell_text() -> None:
    assert bell_text(0) == "" and bell_text(3) == "3" and bell_text(120) == "99+"
    assert bell_text(None) == "!"


def test_history_rows_in_new_york_time_with_delivery() -> None:
    (row,) = history_rows([stored(1, severity="critical")])
    assert row.when == "Mon Dec 01 10:30:05 ET"
    assert row.kind == "Exit filled" and row.colour == "danger" and row.unread
    assert row.delivery == "in app only"
    read = stored(2, acknowledged_at=AT)
    assert not history_rows([read])[0].unread
    sent = stored(3, delivery_status="sent", delivery_attempts=3, delivered_at=AT)
    assert delivery_text(sent) == "webhook sent 10:30:05 ET after 3 attempts"
    retry = stored(4, delivery_status="pending", delivery_attempts=1, delivery_error="HTTP 500")
    assert delivery_text(retry) == "webhook retrying (HTTP 500; 1 so far)"
    failed = stored(5, delivery_status="failed", delivery_attempts=5, delivery_error="timed out")
    assert delivery_text(failed) == "webhook failed (timed out; 5 attempts)"
    assert delivery_text(stored(6, delivery_status="pending")) == "webhook queued"


def test_toasts_newest_first_and_capped() -> None:
    (one,) = toasts([stored(1)])
    assert one.header == "Exit filled · 10:30:05 ET" and one.body.startswith("Exit filled")
    many = toasts([stored(i) for i in range(1, 9)])
    assert [t.id for t in many[:MAX_TOASTS]] == [8, 7, 6]
    assert many[-1].header == "5 more alerts" and len(many) == MAX_TOASTS + 1


def test_a_burst_of_routine_alerts_is_one_toast_and_warnings_keep_their_own() -> None:
    def signal(i: int, symbol: str) -> StoredAlert:
        return stored(i, AlertKind.SIGNAL_TRIGGERED, title=f"{symbol} in force", symbol=symbol)

    two = toasts([signal(1, "SPY"), signal(2, "QQQ")])  # a couple: each its own
    assert [t.id for t in two] == [2, 1]
    burst = [signal(i, s) for i, s in enumerate(["SPY", "QQQ", "SPY", "NVDA", "IWM"], 1)]
    near = stored(9, AlertKind.NEAR_STOP, severity="warning", title="Near stop")
    fill = stored(10, AlertKind.ENTRY_FILLED, title="Entry filled")
    shown = toasts([*burst, near, fill])
    assert [t.id for t in shown[:2]] == [10, 9]  # the fill and the warning, each alone
    (summary,) = shown[2:]
    assert summary.header == "5 more alerts" and summary.colour == "secondary"
    assert (
        summary.body
        == "Setup triggered (in force) ×5 · IWM, NVDA, SPY, QQQ. The bell has each one."
    )
    (only,) = toasts(burst)
    assert only.header == "5 alerts" and only.id == 5
    (capped,) = toasts(burst, complete=False)  # a full page read: there may be more
    assert capped.header == "5+ alerts"


def test_notifications_skip_quiet_info_alerts() -> None:
    quiet = stored(1, AlertKind.SIGNAL_PENDING)
    loud = stored(2, AlertKind.NEAR_STOP, severity="warning")
    fill = stored(3, AlertKind.EXIT_FILLED)
    assert [n["tag"] for n in notification_payload([fill, quiet, loud])] == ["k2", "k3"]


def test_kind_filter_groups_kinds_and_ignores_junk() -> None:
    assert kinds_for_filter(None) is None and kinds_for_filter([]) is None
    assert kinds_for_filter(["risk"]) == ["risk.daily_loss", "risk.heat_ok", "risk.heat_over"]
    assert kinds_for_filter(["trade.near_stop", "nonsense"]) == ["trade.near_stop"]
    assert kinds_for_filter(["nonsense"]) is None
