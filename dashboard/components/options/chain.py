"""The option chain (click a price to load that contract) and the options flow: their
layout and callbacks."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.status import empty_line, status_line
from dashboard.components.ui import data_grid, fixed_graph, slow_loading
from dashboard.conventions import direction_for_right
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataState
from dashboard.options.occ import display_occ
from dashboard.views.formatting import format_number
from dashboard.views.options.chain import FLOW_EXPIRIES, chain_rows, flow_rows
from dashboard.views.options.ticket import (
    chain_expiries,
    expiry_options,
    find_quote,
    suggested_limit,
)
from dashboard.views.states import BlankKind
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.options_charts import create_options_flow_chart
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services


CHAIN_COLUMNS = [
    {"field": "c_delta", "headerName": "Δ", "width": 70, "type": "rightAligned"},
    {"field": "c_iv", "headerName": "IV %", "width": 75, "type": "rightAligned"},
    {"field": "c_oi", "headerName": "OI", "width": 80, "type": "rightAligned"},
    {"field": "c_volume", "headerName": "Vol", "width": 75, "type": "rightAligned"},
    {"field": "c_last", "headerName": "Last", "width": 75, "type": "rightAligned"},
    {"field": "c_bid", "headerName": "Bid", "width": 75, "type": "rightAligned"},
    {"field": "c_ask", "headerName": "Ask", "width": 75, "type": "rightAligned"},
    {"field": "c_mid", "headerName": "Mid", "width": 75, "type": "rightAligned"},
    {"field": "strike", "headerName": "Strike", "width": 90, "pinned": "left"},
    {"field": "p_mid", "headerName": "Mid", "width": 75, "type": "rightAligned"},
    {"field": "p_bid", "headerName": "Bid", "width": 75, "type": "rightAligned"},
    {"field": "p_ask", "headerName": "Ask", "width": 75, "type": "rightAligned"},
    {"field": "p_last", "headerName": "Last", "width": 75, "type": "rightAligned"},
    {"field": "p_volume", "headerName": "Vol", "width": 75, "type": "rightAligned"},
    {"field": "p_oi", "headerName": "OI", "width": 80, "type": "rightAligned"},
    {"field": "p_iv", "headerName": "IV %", "width": 75, "type": "rightAligned"},
    {"field": "p_delta", "headerName": "Δ", "width": 70, "type": "rightAligned"},
    {"field": "c_gamma", "headerName": "Γ call", "width": 80, "type": "rightAligned"},
    {"field": "c_theta", "headerName": "Θ call", "width": 80, "type": "rightAligned"},
    {"field": "c_vega", "headerName": "Vega call", "width": 85, "type": "rightAligned"},
    {"field": "p_gamma", "headerName": "Γ put", "width": 80, "type": "rightAligned"},
    {"field": "p_theta", "headerName": "Θ put", "width": 80, "type": "rightAligned"},
    {"field": "p_vega", "headerName": "Vega put", "width": 85, "type": "rightAligned"},
]

FLOW_COLUMNS = [
    {"field": "contract", "headerName": "Contract", "width": 190},
    {"field": "right", "headerName": "C/P", "width": 65},
    {"field": "volume", "headerName": "Volume", "width": 90, "type": "rightAligned"},
    {"field": "open_interest", "headerName": "OI", "width": 90, "type": "rightAligned"},
    {"field": "vol_oi", "headerName": "Vol/OI", "width": 85, "type": "rightAligned"},
    {"field": "premium", "headerName": "Premium $", "width": 110, "type": "rightAligned"},
    {"field": "side", "headerName": "Side", "width": 80},
]


def grid(id_: str, columns: list[dict[str, Any]], height: str = "300px", **kw: Any) -> Any:
    options = kw.pop("dashGridOptions", None)
    return data_grid(id_, columns, height, grid_options=options, **kw)


def chain_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Option chain ", id="options-chain-title"),
                    html.Span(
                        [
                            dbc.Label("Expiry", className="small ms-2 me-1"),
                            dbc.Select(
                                id="options-chain-expiry",
                                options=[],
                                size="sm",
                                className="d-inline-block w-auto",
                            ),
                            dbc.Label("Moneyness ±%", className="small ms-2 me-1"),
                            dbc.Select(
                                id="options-chain-moneyness",
                                options=[
                                    {"label": str(v), "value": str(v)} for v in (2, 5, 10, 20)
                                ],
                                value="5",
                                size="sm",
                                className="d-inline-block w-auto",
                            ),
                        ],
                        className="d-inline-flex align-items-center flex-wrap",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    slow_loading(
                        grid(
                            "options-chain-grid",
                            CHAIN_COLUMNS,
                            "360px",
                            getRowId="params.data.strike_key",
                            dashGridOptions={
                                "rowSelection": {
                                    "mode": "singleRow",
                                    "enableClickSelection": True,
                                    "checkboxes": False,
                                },
                            },
                            rowClassRules={"chain-atm": "params.data.atm === true"},
                        ),
                    ),
                    html.Div(
                        "Click a call or put price to load that contract into the ticket.",
                        className="small text-muted",
                    ),
                    html.Div(id="options-chain-status"),
                ]
            ),
        ],
        className="mb-3",
    )


def flow_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Options flow (volume by strike and expiry; calls vs puts)"),
            dbc.CardBody(
                dbc.Row(
                    [
                        dbc.Col(slow_loading(fixed_graph("options-flow-chart", 380)), lg=7),
                        dbc.Col(grid("options-flow-grid", FLOW_COLUMNS, "380px"), lg=5),
                    ]
                )
            ),
            dbc.CardFooter(html.Div(id="options-flow-status")),
        ],
        className="mb-3",
    )


def chain_expiries_for(
    reads: Reads, symbol: str | None, ticket_expiry: str | None
) -> tuple[list[dict[str, str]], str | None]:
    if not symbol:
        return [], None
    chain, now = reads.with_now(reads.chain(symbol.strip().upper()))
    if chain.value is None:
        return [], None
    expiries = chain_expiries(chain.value, now)
    value = ticket_expiry or (expiries[0].isoformat() if expiries else None)
    return expiry_options(expiries, now), value


def chain_grid(
    reads: Reads, expiry: str | None, moneyness: str | None, symbol: str | None
) -> tuple[list[dict[str, Any]], str, Any]:
    if not symbol:
        return [], "Option chain ", empty_line("no underlying chosen")
    sym = symbol.strip().upper()
    chain = reads.chain_now(sym, expiry)
    if chain.value is None or not expiry:
        return [], f"Option chain · {sym} ", status_line(chain, empty_text="no contracts")
    rows, spot = chain_rows(chain.value, date.fromisoformat(expiry), float(moneyness or 5))
    title = f"Option chain · {sym} {format_number(spot)} · {chain.value.source} "
    return rows, title, status_line(chain, empty_text="no contracts near the money")


def pick_from_chain(
    reads: Reads,
    cell: dict[str, Any] | None,
    rows: list[dict[str, Any]] | None,
    expiry: str | None,
    symbol: str | None,
) -> tuple[Any, ...]:
    """Clicking a call or put cell loads that contract into the ticket."""
    if not cell or not rows or not symbol:
        raise PreventUpdate
    col = str(cell.get("colId", ""))
    if not col.startswith(("c_", "p_")):
        raise PreventUpdate
    row = next((r for r in rows if r.get("strike_key") == cell.get("rowId")), None)
    if row is None:
        raise PreventUpdate
    right = "C" if col.startswith("c_") else "P"
    chain = reads.chain_now(symbol.strip().upper(), expiry).value
    quote = find_quote(chain, row.get(col[:2] + "symbol", "")) if chain else None
    if quote is None:
        raise PreventUpdate
    why = f"Picked from the chain: {display_occ(quote.contract.symbol)}"
    return direction_for_right(right), expiry, row["strike_key"], suggested_limit(quote), why


def flow(services: Services, symbol: str | None) -> tuple[Any, list[dict[str, Any]], Any]:
    sym = (symbol or watchlist_symbols(services)[0]).strip().upper()
    chains = run_async(services.data.fetch_option_chains(sym, FLOW_EXPIRIES))
    chain = chains[0]
    if chain.value is None or not chain.value.quotes:
        kind: BlankKind = "error" if chain.state is DataState.ERROR else "empty"
        fig = empty_figure(chain.error or f"No option activity for {sym}", kind=kind)
        return fig, [], status_line(chain, empty_text="no contracts")
    quotes = [q for c in chains if c.value is not None for q in c.value.quotes]
    fig = create_options_flow_chart(
        quotes, spot=chain.value.underlying_price, title=f"{sym} flow", uirevision=f"flow-{sym}"
    )
    return fig, flow_rows(quotes), status_line(chain, empty_text="no volume yet")


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        Output("options-chain-expiry", "options"),
        Output("options-chain-expiry", "value"),
        Input("options-symbol", "value"),
        Input("options-expiry", "value"),
    )
    def _expiries(symbol: str | None, ticket_expiry: str | None) -> Any:
        return chain_expiries_for(reads, symbol, ticket_expiry)

    @app.callback(
        Output("options-chain-grid", "rowData"),
        Output("options-chain-title", "children"),
        Output("options-chain-status", "children"),
        Input("options-chain-expiry", "value"),
        Input("options-chain-moneyness", "value"),
        Input("options-interval", "n_intervals"),
        State("options-symbol", "value"),
    )
    def _grid(expiry: str | None, moneyness: str | None, _n: int | None, symbol: str | None) -> Any:
        return chain_grid(reads, expiry, moneyness, symbol)

    @app.callback(
        Output("options-direction", "value", allow_duplicate=True),
        Output("options-expiry", "value", allow_duplicate=True),
        Output("options-strike", "value", allow_duplicate=True),
        Output("options-limit", "value", allow_duplicate=True),
        Output("options-contract-why", "children", allow_duplicate=True),
        Input("options-chain-grid", "cellClicked"),
        State("options-chain-grid", "rowData"),
        State("options-chain-expiry", "value"),
        State("options-symbol", "value"),
        prevent_initial_call=True,
    )
    def _pick(cell: Any, rows: Any, expiry: str | None, symbol: str | None) -> Any:
        return pick_from_chain(reads, cell, rows, expiry, symbol)

    @app.callback(
        Output("options-flow-chart", "figure"),
        Output("options-flow-grid", "rowData"),
        Output("options-flow-status", "children"),
        Input("options-symbol", "value"),
        Input("options-interval", "n_intervals"),
    )
    def _flow(symbol: str | None, _n: int | None) -> Any:
        return flow(services, symbol)
