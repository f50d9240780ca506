"""Status-line text: as-of times on New York time, a daily bar's stamp as its session."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard.models import DataResult, DataState
from dashboard.views.formatting import format_as_of, status_text

NY = ZoneInfo("America/New_York")


def test_a_clock_reading_shows_its_new_york_time() -> None:
    assert format_as_of(datetime(2026, 11, 30, 14, 30, 5, tzinfo=UTC)) == "09:30:05 ET"
    assert format_as_of(None) == "—"


def test_a_daily_bar_stamp_shows_its_session_not_midnight() -> None:
    # Alpaca stamps daily bars at midnight New York: 05:00 UTC in winter, 04:00 in summer.
    assert format_as_of(datetime(2026, 11, 27, 5, 0, tzinfo=UTC)) == "2026-11-27 session"
    assert format_as_of(datetime(2026, 7, 2, 4, 0, tzinfo=UTC)) == "2026-07-02 session"
    assert format_as_of(datetime(2026, 11, 27, tzinfo=NY)) == "2026-11-27 session"
    # Midnight UTC is 19:00 the evening before in New York: a time, not a session.
    assert format_as_of(datetime(2026, 11, 27, tzinfo=UTC)) == "19:00:00 ET"


def test_status_lines_use_it_for_fresh_stale_and_empty() -> None:
    day = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    fresh = status_text(DataResult([1], "backtest", day, DataState.FRESH))
    assert fresh == "fresh · backtest · as of 2026-11-27 session"
    stale = status_text(DataResult([1], "backtest", day, DataState.STALE, "timed out", day))
    assert stale.startswith("stale since 2026-11-27 session")
    empty = status_text(DataResult(None, "journal", day, DataState.EMPTY), "no trades")
    assert empty.endswith("as of 2026-11-27 session")
