from datetime import UTC, datetime, timedelta

from dashboard.components.header import clock_badge_text, connection_badge, format_countdown
from dashboard.models import Clock


def test_countdown_formats() -> None:
    assert format_countdown(timedelta(seconds=42)) == "42s"
    assert format_countdown(timedelta(minutes=5, seconds=3)) == "5m 03s"
    assert format_countdown(timedelta(hours=2, minutes=5)) == "2h 05m"
    assert format_countdown(timedelta(days=2, hours=17, minutes=30)) == "2d 17h"
    assert format_countdown(timedelta(seconds=-5)) == "0s"


def test_clock_badge_uses_broker_timestamp_not_local_time() -> None:
    ts = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 ET
    open_clock = Clock(ts, True, ts + timedelta(days=1), ts + timedelta(hours=6))
    text, color = clock_badge_text(open_clock)
    assert text == "MARKET OPEN · closes in 6h 00m"
    assert color == "success"
    closed = Clock(ts, False, ts + timedelta(hours=17, minutes=30), ts + timedelta(days=1))
    assert clock_badge_text(closed) == ("MARKET CLOSED · opens in 17h 30m", "secondary")


def test_connection_badge_is_worst_state() -> None:
    assert connection_badge({}) == ("CONNECTING…", "secondary")
    assert connection_badge({"alpaca": "connected", "options": "connected"})[0] == "CONNECTED"
    assert connection_badge({"alpaca": "connected", "options": "down"})[0] == "DEGRADED"
    assert connection_badge({"alpaca": "down", "options": "down"}) == ("DOWN", "danger")


def test_unused_sources_do_not_degrade_the_badge() -> None:
    assert connection_badge({"alpaca": "connected", "thetadata": "unknown"})[0] == "CONNECTED"
    assert connection_badge({"alpaca": "unknown", "thetadata": "unknown"})[0] == "CONNECTING…"
    assert connection_badge({"alpaca": "down", "thetadata": "unknown"})[0] == "DOWN"
