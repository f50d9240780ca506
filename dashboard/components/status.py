"""The one way every widget shows its source, as-of time and state (the text is
``views.formatting.status_text``).

"No data" and "broken" must never look alike, so each state has its own icon, colour
and wording, and stale values say since when.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.models import DataResult, DataState
from dashboard.views.formatting import status_text

_ICON = {
    DataState.FRESH: "●",
    DataState.STALE: "◐",
    DataState.ERROR: "✕",
    DataState.EMPTY: "○",
}


def status_line(
    result: DataResult[Any], *, id: str | None = None, empty_text: str = "nothing to show"
) -> html.Div:
    """A small line under a widget: icon, state, source and as-of time."""
    kwargs: dict[str, Any] = {"id": id} if id else {}
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
    kwargs: dict[str, Any] = {"id": id} if id else {}
    return html.Div(
        [html.Span("… ", className="state-empty"), html.Span(text)],
        className="state-line state-line-loading",
        **kwargs,
    )


def empty_line(text: str, *, id: str | None = None) -> html.Div:
    """A state line for "nothing here yet, and why" when there is no read to describe
    (no symbol chosen, nothing selected): the empty look, never the error one."""
    kwargs: dict[str, Any] = {"id": id} if id else {}
    return html.Div(
        f"{_ICON[DataState.EMPTY]} {text}", className="state-line state-line-empty", **kwargs
    )
