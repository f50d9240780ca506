from datetime import UTC, datetime, timedelta

from dashboard.models import Clock
from dashboard.views.header import clock_badge, clock_badge_text, connection_badge, regime_badge
from dashboard.views.market import format_countdown


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


def test_clock_badge_title_is_on_new_york_time_and_a_stale_clock_says_so() -> None:
    from dashboard.models import DataResult, DataState

    ts = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    clock = Clock(ts, True, ts + timedelta(days=1), ts + timedelta(hours=6))
    text, colour, title = clock_badge(DataResult(clock, "alpaca", ts, DataState.FRESH))
    assert (text, colour) == ("MARKET OPEN · closes in 6h 00m", "success")
    assert title == "Broker clock 2026-11-24 10:00:00 ET · alpaca"
    stale = clock_badge(DataResult(clock, "alpaca", ts, DataState.STALE, "boom", ts))
    assert stale[0].endswith("(stale)") and stale[1] == "warning"
    missing = clock_badge(DataResult(None, "alpaca", None, DataState.ERROR, "down"))
    assert missing == ("CLOCK UNAVAILABLE", "danger", "down")


def test_regime_badge_uses_the_regimes_own_name_and_colour() -> None:
    from dashboard.analytics.regimes import Regime

    as_of = datetime(2026, 11, 23, tzinfo=UTC)
    assert regime_badge(None)[0] == "REGIME —"
    text, colour, title = regime_badge(("TREND_BULL", as_of))
    assert (text, colour, title) == (
        "REGIME Bull trend",
        Regime.TREND_BULL.colour,
        "as of 2026-11-23",
    )
    assert regime_badge(("SOMETHING", as_of))[0] == "REGIME SOMETHING"
