"""The option chain (click a price to load that contract) and the options flow: their
layout and callbacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.status import empty_line, status_line
from dashboard.components.ui import (
    COMPACT_GRID_THEME,
    data_grid,
    fixed_graph,
    lazy_block,
    num_col,
    register_lazy,
    slow_loading,
)
from dashboard.conventions import right_for_direction
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataState
from dashboard.views.formatting import format_number
from dashboard.views.options.chain import (
    FLOW_EXPIRIES,
    ChainRefusal,
    chain_click,
    chain_rows,
    flow_rows,
)
from dashboard.views.options.ticket import chain_expiries, expiry_options
from dashboard.views.states import BlankKind
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.options_charts import create_options_flow_chart
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services


def _chain_col(
    side: str, key: str, header: str, fmt: str, width: int, tooltip: str
) -> dict[str, Any]:
    """One call ("c") or put ("p") column: a number in a d3 format, right-aligned; the
    ticket's contract's cell is marked on its own side."""
    return num_col(
        f"{side}_{key}",
        header,
        fmt,
        minWidth=width,
        flex=width,
        filter=False,
        headerTooltip=f"{'Call' if side == 'c' else 'Put'} {tooltip}",
        cellClassRules={"chain-ticket-cell": f"params.data.ticket === '{side.upper()}'"},
    )


# Per side, from the outside in: greeks, then activity, then the prices next to the
# strike (calls mirrored, so both sides' bid/ask sit by the strike).
_SIDE = (
    ("delta", "Δ", ".2f", 54, "delta per $1 of the underlying (per share)"),
    ("gamma", "Γ", ".4f", 62, "gamma: change of delta per $1 (per share)"),
    ("theta", "Θ $/day", ",.2f", 66, "theta: dollars per calendar day, one contract (×100)"),
    ("vega", "Vega $/pt", ",.2f", 66, "vega: dollars per vol point, one contract (×100)"),
    ("iv", "IV %", ".1f", 52, "implied volatility, percent"),
    ("oi", "OI", ",.0f", 62, "open interest, contracts"),
    ("volume", "Vol", ",.0f", 54, "volume today, contracts"),
    ("bid", "Bid", ".2f", 54, "bid, per share"),
    ("mid", "Mid", ".2f", 54, "mid of bid and ask, per share"),
    ("ask", "Ask", ".2f", 54, "ask, per share"),
)
CHAIN_COLUMNS: list[dict[str, Any]] = [
    {
        "headerName": "CALLS",
        "headerClass": "chain-group chain-calls",
        "children": [_chain_col("c", *spec) for spec in _SIDE],
    },
    {
        "field": "strike",
        "headerName": "Strike",
        "minWidth": 72,
        "flex": 72,
        "cellClass": "chain-strike",
        "headerClass": "chain-strike-header",
        "headerTooltip": "Strike; the row nearest spot is outlined, the ticket's is lit",
        "valueFormatter": {"function": "d3.format(',')(params.value)"},
    },
    {
        "headerName": "PUTS",
        "headerClass": "chain-group chain-puts",
        "children": [_chain_col("p", *spec) for spec in reversed(_SIDE)],
    },
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


CHAIN_BODY = "options-chain-body"


def chain_body() -> html.Div:
    """The chain's controls, grid and messages, mounted when the card is scrolled near."""
    controls = html.Div(
        [
            html.Span("Option chain ", id="options-chain-title", className="me-2"),
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
                        options=[{"label": str(v), "value": str(v)} for v in (2, 5, 10, 20)],
                        value="5",
                        size="sm",
                        className="d-inline-block w-auto",
                    ),
                ],
                className="d-inline-flex align-items-center flex-wrap",
            ),
        ],
        className="d-flex flex-wrap align-items-center mb-2",
    )
    return html.Div(
        [
            controls,
            slow_loading(
                data_grid(
                    "options-chain-grid",
                    CHAIN_COLUMNS,
                    "360px",
                    getRowId="params.data.strike_key",
                    grid_options={
                        "theme": COMPACT_GRID_THEME,
                        "rowSelection": {
                            "mode": "singleRow",
                            "enableClickSelection": True,
                            "checkboxes": False,
                        },
                        "tooltipShowDelay": 300,
                    },
                    column_defaults={
                        "filter": False,
                        "suppressHeaderMenuButton": True,
                        "wrapHeaderText": True,
                        "autoHeaderHeight": True,
                    },
                    rowClassRules={
                        "chain-atm": "params.data.atm === true",
                        "chain-ticket": "params.data.ticket != null",
                    },
                ),
            ),
            html.Div(
                "Click a call or put's Bid, Mid or Ask to load that contract into"
                " the ticket with a buy limit at that price (any other cell of it:"
                " at its mid); its row is lit. A contract against the ticket's"
                " signal (a put for a long) is refused. Δ, Γ and prices are per"
                " share; Θ and vega are dollars for one contract (100 shares).",
                className="small text-muted",
            ),
            html.Div(id="options-chain-pick", role="status"),
            dcc.Store(id="options-chain-scroll-sink"),
            html.Div(id="options-chain-status"),
        ]
    )


def chain_card() -> dbc.Card:
    # Below the fold: its grid and reads wait until the trader scrolls near it.
    return dbc.Card(
        [
            dbc.CardHeader("Option chain (calls | strike | puts)"),
            dbc.CardBody(lazy_block(CHAIN_BODY, "The chain loads as you scroll to it.")),
        ],
        className="mb-3",
    )


FLOW_BODY = "options-flow-body"


def flow_body() -> html.Div:
    """The flow's chart, grid and status, mounted when the card is scrolled near."""
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(slow_loading(fixed_graph("options-flow-chart", 380)), lg=7),
                    dbc.Col(grid("options-flow-grid", FLOW_COLUMNS, "380px"), lg=5),
                ]
            ),
            html.Div(id="options-flow-status"),
        ]
    )


def flow_card() -> dbc.Card:
    # Below the fold: its chart, grid and reads wait until the trader scrolls near it.
    return dbc.Card(
        [
            dbc.CardHeader("Options flow (volume by strike and expiry; calls vs puts)"),
            dbc.CardBody(lazy_block(FLOW_BODY, "The flow loads as you scroll to it.")),
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


def ticket_contract(
    expiry: str | None, ticket: dict[str, Any] | None
) -> tuple[str, Decimal] | None:
    """(right, strike) of the ticket's contract when it is in the chain shown (same
    expiry), for the grid to light its row."""
    t = ticket or {}
    if not t.get("strike") or t.get("expiry") != expiry:
        return None
    if t.get("direction") not in ("long", "short"):
        return None
    try:
        strike = Decimal(str(t["strike"]))
    except ArithmeticError:
        return None
    return right_for_direction(t["direction"]), strike


def chain_grid(
    reads: Reads,
    expiry: str | None,
    moneyness: str | None,
    symbol: str | None,
    ticket: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str, Any]:
    """The chain's rows for ``expiry``; ``ticket`` (the ticket's direction, expiry and
    strike) lights its contract's row."""
    if not symbol:
        return [], "Option chain ", empty_line("no underlying chosen")
    sym = symbol.strip().upper()
    chain = reads.chain_now(sym, expiry)
    if chain.value is None or not expiry:
        return [], f"Option chain · {sym} ", status_line(chain, empty_text="no contracts")
    rows, spot = chain_rows(
        chain.value,
        date.fromisoformat(expiry),
        float(moneyness or 5),
        ticket_contract(expiry, ticket),
    )
    title = f"Option chain · {sym} {format_number(spot)} · {chain.value.source} "
    return rows, title, status_line(chain, empty_text="no contracts near the money")


PICK_OUTPUTS = {
    "direction": Output("options-direction", "value", allow_duplicate=True),
    "expiry": Output("options-expiry", "value", allow_duplicate=True),
    "strike": Output("options-strike", "value", allow_duplicate=True),
    "limit": Output("options-limit", "value", allow_duplicate=True),
    "why": Output("options-contract-why", "children", allow_duplicate=True),
    "message": Output("options-chain-pick", "children"),
}


def pick_from_chain(
    cell: dict[str, Any] | None,
    rows: list[dict[str, Any]] | None,
    expiry: str | None,
    direction: str | None,
    signal: dict[str, Any] | None,
) -> dict[str, Any]:
    """Clicking a call or put cell loads that contract into the ticket, with a buy limit at
    the price clicked (``views.options.chain.chain_click``). A contract against the signal
    the ticket holds is refused: only the chain's message line changes."""
    if not cell or not rows or not expiry:
        raise PreventUpdate
    row = next((r for r in rows if r.get("strike_key") == cell.get("rowId")), None)
    if row is None:
        raise PreventUpdate
    held = direction if signal else None
    pick = chain_click(row, str(cell.get("colId", "")), cell.get("value"), held)
    if pick is None:
        raise PreventUpdate
    if isinstance(pick, ChainRefusal):
        refused = html.Div(pick.message, className="text-warning small", role="alert")
        return {**dict.fromkeys(PICK_OUTPUTS, no_update), "message": refused}
    return {
        # Under a signal the direction already is the contract's: leave it untouched.
        "direction": no_update if pick.direction == direction else pick.direction,
        "expiry": expiry,
        "strike": pick.strike,
        "limit": pick.limit,
        "why": pick.why,
        "message": html.Div(f"{pick.why}: loaded into the ticket.", className="text-info small"),
    }


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
        Input("options-direction", "value"),
        Input("options-strike", "value"),
        State("options-symbol", "value"),
        State("options-expiry", "value"),
    )
    def _grid(
        expiry: str | None,
        moneyness: str | None,
        _n: int | None,
        direction: str | None,
        strike: str | None,
        symbol: str | None,
        ticket_expiry: str | None,
    ) -> Any:
        ticket = {"direction": direction, "strike": strike, "expiry": ticket_expiry}
        return chain_grid(reads, expiry, moneyness, symbol, ticket)

    # The ticket's contract (else the strike nearest spot) scrolled into view when the
    # chain or the contract changes (assets/20-tabs.js).
    app.clientside_callback(
        ClientsideFunction(namespace="options", function_name="chainScroll"),
        Output("options-chain-scroll-sink", "data"),
        Input("options-chain-grid", "rowData"),
    )

    @app.callback(
        output=PICK_OUTPUTS,
        inputs=[Input("options-chain-grid", "cellClicked")],
        state=[
            State("options-chain-grid", "rowData"),
            State("options-chain-expiry", "value"),
            State("options-direction", "value"),
            State("options-selected-signal", "data"),
        ],
        prevent_initial_call=True,
    )
    def _pick(cell: Any, rows: Any, expiry: Any, direction: Any, signal: Any) -> Any:
        return pick_from_chain(cell, rows, expiry, direction, signal)

    register_lazy(app, CHAIN_BODY, chain_body)
    register_lazy(app, FLOW_BODY, flow_body)

    @app.callback(
        Output("options-flow-chart", "figure"),
        Output("options-flow-grid", "rowData"),
        Output("options-flow-status", "children"),
        Input("options-symbol", "value"),
        Input("options-interval", "n_intervals"),
    )
    def _flow(symbol: str | None, _n: int | None) -> Any:
        return flow(services, symbol)
