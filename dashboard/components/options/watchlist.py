"""The watchlist editor on the signal board: add a symbol (checked with the broker),
remove one; the list lives in the journal database (``watchlist_store``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from dashboard.components.first_state import FirstState, of_outputs, values_in
from dashboard.conventions import TICKER_MAX_LEN
from dashboard.views.options.signals import watchlist_text
from dashboard.watchlist_store import (
    MAX_WATCHLIST_SYMBOLS,
    WatchlistEdit,
    add_symbol,
    remove_symbol,
    watchlist_symbols,
)

if TYPE_CHECKING:
    from dashboard.services import Services

REMOVE = "options-watchlist-remove"

OUTPUTS = {
    "chips": Output("options-watchlist-chips", "children"),
    "count": Output("options-watchlist-count", "children"),
    "message": Output("options-watchlist-message", "children"),
    "input": Output("options-watchlist-input", "value"),
    "version": Output("options-watchlist-version", "data"),
    "symbols": Output("options-watchlist-symbols", "data"),
}


def watchlist_editor() -> html.Div:
    """Input and Add button, the symbols as chips with a remove button each."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span("Watchlist", className="fw-semibold me-2"),
                    html.Span(id="options-watchlist-count", className="small text-muted"),
                ],
                className="mb-1",
            ),
            html.Div(id="options-watchlist-chips", className="watchlist-chips mb-1"),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id="options-watchlist-input",
                        placeholder="Add a symbol, e.g. AMZN",
                        maxLength=TICKER_MAX_LEN + 6,
                        type="text",
                        autoComplete="off",
                        n_submit=0,
                    ),
                    dbc.Button("Add", id="options-watchlist-add", color="secondary", n_clicks=0),
                ],
                size="sm",
                className="watchlist-add",
            ),
            html.Div(id="options-watchlist-message", className="small mt-1", role="status"),
            dcc.Store(id="options-watchlist-version", storage_type="memory", data=0),
            dcc.Store(id="options-watchlist-removed", storage_type="memory"),
            dcc.Store(id="options-watchlist-symbols", storage_type="memory", data=[]),
        ],
        className="watchlist-editor mb-2",
    )


def chips(symbols: tuple[str, ...]) -> list[html.Span]:
    """One chip per symbol; the last one has no remove button (the list keeps one)."""
    out: list[html.Span] = []
    for sym in symbols:
        parts: list[Any] = [html.Span(sym, className="watchlist-symbol")]
        if len(symbols) > 1:
            parts.append(
                html.Button(
                    "×",
                    # The type spelled out: tests/test_wiring.py finds it in the source.
                    id={"type": "options-watchlist-remove", "symbol": sym},
                    n_clicks=0,
                    title=f"Remove {sym} from the watchlist",
                    className="watchlist-remove",
                    **cast(Any, {"aria-label": f"Remove {sym}"}),
                )
            )
        out.append(html.Span(parts, className="watchlist-chip", id=f"options-watchlist-{sym}"))
    return out


def _message(edit: WatchlistEdit) -> html.Span:
    return html.Span(edit.message, className="text-bull" if edit.ok else "text-bear")


def edit_watchlist(
    services: Services,
    trigger: Any,
    text: str | None,
    version: int | None,
    clicks: int | None = None,
) -> dict[str, Any]:
    """What the editor shows after ``trigger``: an add (button or Enter), a remove (a
    chip's button, ``{"type": REMOVE, "symbol": …}``, with its ``clicks``), or a refresh
    (anything else: the stored list, which another viewer may have changed)."""
    version = int(version or 0)
    edit: WatchlistEdit | None = None
    if trigger in ("options-watchlist-add", "options-watchlist-input"):
        edit = add_symbol(services, text)
    elif isinstance(trigger, Mapping) and trigger.get("type") == REMOVE:
        if not clicks:
            raise PreventUpdate  # the chips were redrawn; nobody clicked
        edit = remove_symbol(services, str(trigger.get("symbol", "")))
    if edit is None:
        symbols = watchlist_symbols(services)
        return {
            "chips": chips(symbols),
            "count": watchlist_text(symbols, MAX_WATCHLIST_SYMBOLS),
            "message": no_update,
            "input": no_update,  # never overwrite what the user is typing
            "version": no_update,
            "symbols": list(symbols),
        }
    return {
        "chips": chips(edit.symbols),
        "count": watchlist_text(edit.symbols, MAX_WATCHLIST_SYMBOLS),
        "message": _message(edit),
        "input": "" if edit.ok else no_update,
        "version": version + 1 if edit.ok else no_update,
        "symbols": list(edit.symbols),
    }


def refresh_chips(services: Services, shown: list[str] | None) -> tuple[Any, Any, Any]:
    """The stored list on a refresh, when another viewer changed it; else nothing, so
    the chips (whose remove buttons are the edit callback's inputs) are not redrawn."""
    symbols = watchlist_symbols(services)
    if list(symbols) == list(shown or []):
        raise PreventUpdate
    return chips(symbols), watchlist_text(symbols, MAX_WATCHLIST_SYMBOLS), list(symbols)


CHIPS_OUTPUTS = [
    Output("options-watchlist-chips", "children", allow_duplicate=True),
    Output("options-watchlist-count", "children", allow_duplicate=True),
    Output("options-watchlist-symbols", "data", allow_duplicate=True),
]
SHOWN = State("options-watchlist-symbols", "data")


def first_state(services: Services, layout: Component) -> FirstState:
    """The chips a page starts with (the refresh's first answer)."""
    try:
        return of_outputs(CHIPS_OUTPUTS, refresh_chips(services, *values_in(layout, [SHOWN])))
    except PreventUpdate:
        return {}


def register(app: Dash, services: Services) -> None:
    # Edits and the periodic refresh are separate callbacks, and the refresh redraws the
    # chips only when the list changed: Dash drops the answer of a callback re-triggered
    # while in flight, so a redraw during the broker's asset check would swallow the add's
    # message. The refresh draws the first chips; edits never run on a page load, since
    # their version output would hold back the signal board until they answered.
    app.clientside_callback(  # a remove button's click, or nothing (assets/20-tabs.js)
        ClientsideFunction(namespace="watchlist", function_name="removed"),
        Output("options-watchlist-removed", "data"),
        Input({"type": REMOVE, "symbol": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        output=OUTPUTS,
        inputs=[
            Input("options-watchlist-add", "n_clicks"),
            Input("options-watchlist-input", "n_submit"),
            Input("options-watchlist-removed", "data"),
        ],
        state=[
            State("options-watchlist-input", "value"),
            State("options-watchlist-version", "data"),
        ],
        prevent_initial_call=True,
    )
    def _edit(_add: Any, _submit: Any, removed: Any, text: Any, version: Any) -> dict[str, Any]:
        if ctx.triggered_id == "options-watchlist-removed":
            symbol = removed.get("symbol") if isinstance(removed, Mapping) else None
            return edit_watchlist(services, {"type": REMOVE, "symbol": symbol}, text, version, 1)
        return edit_watchlist(services, ctx.triggered_id, text, version)

    @app.callback(
        *CHIPS_OUTPUTS,
        Input("options-interval", "n_intervals"),
        SHOWN,
        prevent_initial_call=True,  # the layout is served with the chips (``first_state``)
    )
    def _refresh(_n: int | None, shown: list[str] | None) -> tuple[Any, Any, Any]:
        return refresh_chips(services, shown)
