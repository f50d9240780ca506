"""The one way every widget shows its source, as-of time and state.

"No data" and "broken" must never look alike, so each state has its own icon, colour
and wording, and stale values say since when.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html

from dashboard.models import DataResult, DataState

NEW_YORK = ZoneInfo("America/New_York")

_ICON = {
    DataState.FRESH: "●",
    DataState.STALE: "◐",
    DataState.ERROR: "✕",
    DataState.EMPTY: "○",
}


def format_et(ts: datetime | None, fmt: str = "%H:%M:%S") -> str:
    """A timestamp in New York time, which is how traders read the session."""
    if ts is None:
        return "—"
    if ts.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return ts.astimezone(NEW_YORK).strftime(fmt) + " ET"


def status_text(result: DataResult[object], empty_text: str = "nothing to show") -> str:
    """The status as plain text (for tests and for titles)."""
    source = result.source
    if result.state is DataState.FRESH:
        return f"fresh · {source} · as of {format_et(result.as_of)}"
    if result.state is DataState.STALE:
        since = format_et(result.stale_since or result.as_of)
        return f"stale since {since} · {source} · {result.error or 'refresh failed'}"
    if result.state is DataState.EMPTY:
        return f"no data · {source} · {empty_text} · as of {format_et(result.as_of)}"
    return f"error · {source} · {result.error or 'unknown error'}"


def status_line(
    result: DataResult[object], *, id: str | None = None, empty_text: str = "nothing to show"
) -> html.Div:
    """A small line under a widget: icon, state, source and as-of time."""
    kwargs = {"id": id} if id else {}
    return html.Div(
        [
            html.Span(_ICON[result.state] + " ", className=f"state-{result.state.value}"),
            html.Span(status_text(result, empty_text)),
        ],
        className=f"state-line state-line-{result.state.value}",
        title=result.error or "",
        **kwargs,
    )


def loading_line(text: str = "loading…", *, id: str | None = None) -> html.Div:
    kwargs = {"id": id} if id else {}
    return html.Div(
        [html.Span("… ", className="state-empty"), html.Span(text)],
        className="state-line state-line-loading",
        **kwargs,
    )


def empty_line(text: str, *, id: str | None = None) -> html.Div:
    """A state line for "nothing here yet, and why" when there is no read to describe
    (no symbol chosen, nothing selected): the empty look, never the error one."""
    kwargs = {"id": id} if id else {}
    return html.Div(
        f"{_ICON[DataState.EMPTY]} {text}", className="state-line state-line-empty", **kwargs
    )
