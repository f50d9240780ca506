"""The signal board and loading a signal into the ticket: its layout and callbacks."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.status import loading_line, status_line
from dashboard.components.ui import data_grid, slow_loading
from dashboard.conventions import right_for_direction
from dashboard.data_loaders.loop import run_async
from dashboard.options.occ import format_strike
from dashboard.signal_scan import scan_signals
from dashboard.views.options.signals import (
    board_status,
    signal_grid_rows,
    signal_plan,
    signal_summary,
)
from dashboard.views.options.ticket import (
    chain_strikes,
    expiry_options,
    fill_from_chain,
    strike_options,
)

if TYPE_CHECKING:
    from dashboard.services import Services

SIGNAL_COLUMNS = [
    {"field": "symbol", "headerName": "Symbol", "width": 90, "pinned": "left"},
    {"field": "timeframe", "headerName": "TF", "width": 85},
    {"field": "label", "headerName": "Pattern", "width": 120},
    {"field": "direction", "headerName": "Dir", "width": 75},
    {"field": "status", "headerName": "Status", "width": 100},
    {"field": "entry", "headerName": "Entry", "width": 95, "type": "rightAligned"},
    {"field": "stop", "headerName": "Stop", "width": 95, "type": "rightAligned"},
    {"field": "target1", "headerName": "T1", "width": 95, "type": "rightAligned"},
    {"field": "rr", "headerName": "R:R", "width": 75, "type": "rightAligned"},
    {"field": "tfc", "headerName": "TFC", "width": 80},
    {"field": "magnitude", "headerName": "Move %", "width": 90, "type": "rightAligned"},
    {"field": "triggered", "headerName": "Triggered (ET)", "width": 150},
]


def board_card() -> dbc.Card:
    """The signal board: the watchlist's STRAT setups, by category."""
    categories = [
        {"label": "Pending", "value": "pending"},
        {"label": "Triggered", "value": "triggered"},
        {"label": "Low magnitude", "value": "low_magnitude"},
        {"label": "All", "value": "all"},
    ]
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    "STRAT signals ",
                    dbc.RadioItems(
                        id="options-signal-category",
                        options=categories,
                        value="all",
                        inline=True,
                        className="d-inline-block ms-2 small",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    slow_loading(
                        data_grid(
                            "options-signals-grid",
                            SIGNAL_COLUMNS,
                            "320px",
                            getRowId="params.data.id",
                            grid_options={
                                "rowSelection": {
                                    "mode": "singleRow",
                                    "enableClickSelection": True,
                                    "checkboxes": False,
                                }
                            },
                        ),
                    ),
                    html.Div(loading_line(), id="options-signals-status"),
                ]
            ),
        ],
        className="h-100",
    )


LOAD_OUTPUTS = {
    "symbol": Output("options-symbol", "value"),
    "direction": Output("options-direction", "value"),
    "entry": Output("options-entry", "value"),
    "target": Output("options-target", "value"),
    "stop": Output("options-stop", "value"),
    "expiry_options": Output("options-expiry", "options"),
    "expiry": Output("options-expiry", "value"),
    "strike_options": Output("options-strike", "options"),
    "strike": Output("options-strike", "value"),
    "limit": Output("options-limit", "value"),
    "why": Output("options-contract-why", "children"),
    "signal_text": Output("options-ticket-signal", "children"),
    "signal": Output("options-selected-signal", "data"),
}


def refresh_signals(services: Services, category: str | None) -> tuple[Any, Any]:
    board = run_async(scan_signals(services.data, services.settings.watchlist), timeout=60)
    result, partial = board_status(board)
    lines: list[Any] = [status_line(result, empty_text="no active setups on the watchlist")]
    if partial:
        lines.append(html.Div(partial, className="state-line state-line-stale"))
    return signal_grid_rows(board.rows, category or "all"), lines


def load_signal(
    reads: Reads, selected: list[dict[str, Any]] | None, current: dict[str, Any] | None
) -> dict[str, Any]:
    """The ticket filled from the selected signal: its levels, and the contract chosen
    from the chains of the expiries in its timeframe's DTE window."""
    if not selected:
        raise PreventUpdate
    row = selected[0]
    if current and current.get("id") == row.get("id"):
        raise PreventUpdate  # a refresh re-sent the same selection: keep the user's edits
    symbol, direction = row["symbol"], row["direction"]
    chain, now = reads.chain_for_signal(symbol, row["timeframe"])
    out: dict[str, Any] = {
        "symbol": symbol,
        "direction": direction,
        "entry": row["entry"],
        "target": row["target1"],
        "stop": row["stop"],
        "signal_text": html.Span(
            [dbc.Badge(row["label"], color="info", className="me-1"), signal_summary(row)],
            id="options-ticket-signal-text",
        ),
        "signal": signal_plan(row),
    }
    if chain.value is None:
        why = f"No option chain: {chain.error or 'unavailable'} ({chain.source})"
        return {
            **out,
            "expiry_options": [],
            "expiry": None,
            "strike_options": [],
            "strike": None,
            "limit": None,
            "why": why,
        }
    spot = chain.value.underlying_price or row.get("price")
    fill = fill_from_chain(chain.value, direction, row["timeframe"], now, spot)
    return {
        **out,
        "expiry_options": expiry_options(fill.expiries, now),
        "expiry": fill.expiry.isoformat() if fill.expiry else None,
        "strike_options": strike_options(fill.strikes, spot),
        "strike": format_strike(fill.strike) if fill.strike is not None else None,
        "limit": fill.limit,
        "why": html.Span(
            [fill.why, html.Span(f" · chain: {chain.value.source}", className="text-muted")]
        ),
    }


def strikes_for_expiry(
    reads: Reads, expiry: str | None, direction: str, symbol: str | None
) -> list[dict[str, str]]:
    if not expiry or not symbol or direction not in ("long", "short"):
        raise PreventUpdate
    chain = reads.chain_now(symbol.strip().upper(), expiry)
    if chain.value is None:
        return []
    strikes = chain_strikes(chain.value, date.fromisoformat(expiry), right_for_direction(direction))
    return strike_options(strikes, chain.value.underlying_price)


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        Output("options-signals-grid", "rowData"),
        Output("options-signals-status", "children"),
        Input("options-interval", "n_intervals"),
        Input("options-signal-category", "value"),
    )
    def _signals(_n: int | None, category: str | None) -> tuple[Any, Any]:
        return refresh_signals(services, category)

    @app.callback(
        output=LOAD_OUTPUTS,
        inputs=[Input("options-signals-grid", "selectedRows")],
        state=[State("options-selected-signal", "data")],
        prevent_initial_call=True,
    )
    def _load(selected: list[dict[str, Any]] | None, current: dict[str, Any] | None) -> Any:
        return load_signal(reads, selected, current)

    @app.callback(
        Output("options-strike", "options", allow_duplicate=True),
        Input("options-expiry", "value"),
        Input("options-direction", "value"),
        State("options-symbol", "value"),
        prevent_initial_call=True,
    )
    def _strikes(expiry: str | None, direction: str, symbol: str | None) -> Any:
        return strikes_for_expiry(reads, expiry, direction, symbol)
