"""The STRAT scanner (the signal board: watchlist editor, filters, ranked grid) and
loading a signal into the ticket: its layout and callbacks."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from dashboard.analytics.regimes import Regime
from dashboard.components.first_state import FirstState, of_outputs, values_in
from dashboard.components.options.reads import Reads
from dashboard.components.options.watchlist import watchlist_editor
from dashboard.components.status import loading_line, status_line
from dashboard.components.ui import data_grid, grid_theme, slow_loading
from dashboard.conventions import right_for_direction
from dashboard.data_loaders.loop import run_async
from dashboard.options.occ import format_strike
from dashboard.signal_scan import scan_signals
from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES
from dashboard.views.options.signals import (
    DIRECTION_CHOICES,
    PATTERN_FAMILIES,
    SignalFilters,
    board_status,
    filter_rows,
    regime_codes,
    shown_text,
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
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services

_PCT = {"function": "params.value == null ? '' : d3.format('+.2f')(params.value) + '%'"}
_NUM = {"function": "params.value == null ? '' : d3.format(',.2f')(params.value)"}
_ATR = {"function": "params.value == null ? '' : d3.format('.1f')(params.value)"}
_SIGNED = {"text-bull": "params.value > 0", "text-bear": "params.value < 0"}
_TF_ORDER = {"function": "nodeA.data.tf_order - nodeB.data.tf_order"}


def _col(
    field: str, header: str, tip: str, min_width: int, priority: int, **extra: Any
) -> dict[str, Any]:
    """A board column: its header tooltip, a minimum width the grid may not squeeze it
    under, and a priority class (sig-p1 key … sig-p3 least; no style hides any yet)."""
    return {
        "field": field,
        "headerName": header,
        "headerTooltip": tip,
        "minWidth": min_width,
        "flex": min_width,
        "headerClass": f"sig-p{priority}",
        "cellClass": f"sig-p{priority}",
        # The board has its own filters above the grid; the header keeps its width
        # for the header's words.
        "suppressHeaderFilterButton": True,
        "suppressHeaderMenuButton": True,
        **extra,
    }


def _num(field: str, header: str, tip: str, min_width: int, priority: int, **extra: Any) -> Any:
    return _col(
        field, header, tip, min_width, priority, type="rightAligned",
        filter="agNumberColumnFilter", **extra,
    )  # fmt: skip


# Every header says what it means (browser tooltips), and so does every cell that needs
# more than its value (levels, continuity per timeframe, where T1 came from).
SIGNAL_COLUMNS: list[dict[str, Any]] = [
    _num("rank", "#", "Readiness rank. In force with TFC aligned and room to T1 first, then "
         "pending setups nearest their trigger, then the rest (README: Signal board).",
         44, 1, tooltipField="status_tip"),
    _col("symbol", "Symbol", "The underlying.", 66, 1, pinned="left", width=72, flex=None),
    _col("timeframe", "TF", "Timeframe of the setup bar (4Hour: 09:30 and 13:30 New York "
         "bars; 1Quarter: calendar quarters).", 62, 1, comparator=_TF_ORDER),
    _col("pattern_text", "Pattern", "The bar sequence and the break it waits for; "
         "+Hammer / +Shooter marks an actionable candle on the same trade.", 112, 1),
    _col("direction_text", "Dir", "Trade direction. 'both' is an outside or inside bar "
         "that can break either way; the row shows the leg in force or nearest.", 66, 1),
    _col("status_text", "Status", "pending: waiting for the trigger; in force: price has "
         "traded through it; broke both ways: through the long and the short trigger.",
         76, 1, tooltipField="status_tip"),
    _num("price", "Last", "The symbol's last price in the scanned bars.", 64, 1,
         valueFormatter=_NUM),
    _num("trigger_pct", "Trigger %", "Pending: how far price must still move to trade "
         "through the trigger. In force: how far price is past the trigger (negative: "
         "back behind it). Hover a cell for the levels and their rules.", 70, 1,
         valueFormatter=_PCT, tooltipField="levels_tip"),
    _num("to_t1_pct", "To T1 %", "How far price must move from here to reach T1 "
         "(negative: already past it).", 64, 1, valueFormatter=_PCT, cellClassRules=_SIGNED,
         tooltipField="levels_tip"),
    _num("to_stop_pct", "To stop %", "How far price is from the stop (the cushion left; "
         "negative: through it).", 66, 1, valueFormatter=_PCT, tooltipField="levels_tip"),
    _col("tfc", "TFC", "Timeframe continuity relative to the trade: ✓ every higher "
         "timeframe's candle agrees with the direction, ✗ every one is against, mixed "
         "otherwise (k/N agree). Hover a cell for each timeframe.", 72, 1,
         tooltipField="tfc_tip",
         cellClassRules={"text-bull": "params.data.tfc_stance == 'aligned'",
                         "text-bear": "params.data.tfc_stance == 'against'"}),
    _num("magnitude", "Move %", "Magnitude: the move from entry to T1 in percent of the "
         "entry.", 60, 2, valueFormatter=_NUM),
    _num("magnitude_atr", "Move ATR", "Magnitude in ATR: the move from entry to T1 over "
         "the timeframe's 14-bar average true range.", 62, 2, valueFormatter=_ATR),
    _col("target_origin", "T1 from", "Where T1 came from: a structural level (the prior "
         "bar's or mother bar's extreme) or the entry ± 1.5R fallback when that level is "
         "not beyond the entry. Hover for the rule.", 78, 2, tooltipField="target_rule"),
    _num("rr", "R:R", "Reward to T1 over risk to the stop, from the entry.", 50, 3,
         valueFormatter=_NUM),
    _col("setup_iso", "Setup bar", "When the setup bar opened, New York time (the bar "
         "whose extreme is the trigger).", 96, 2,
         valueFormatter={"function": "params.data.setup_text"}),
    _col("regime", "Regime", "The symbol's market regime from the regime model's own fit "
         "on its daily closes (Regime tab); — while fitting.", 76, 2),
]  # fmt: skip


def filter_controls() -> dbc.Row:
    """Direction, TFC, timeframe, pattern family, minimum move and regime filters."""
    small = "small"
    return dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="options-signal-direction",
                    options=[{"label": c, "value": c} for c in DIRECTION_CHOICES],
                    value="any",
                    inline=True,
                    className=small,
                ),
                xs=12, md="auto",
            ),
            dbc.Col(
                dbc.Checklist(
                    id="options-signal-tfc",
                    options=[{"label": "TFC aligned only", "value": "aligned"}],
                    value=[],
                    switch=True,
                    inline=True,
                    className=small,
                ),
                xs=12, md="auto",
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="options-signal-timeframes",
                    options=[{"label": tf, "value": tf} for tf in SIGNAL_TIMEFRAMES],
                    value=[],
                    multi=True,
                    placeholder="All timeframes",
                    className=small,
                ),
                xs=12, md=3,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="options-signal-families",
                    options=[{"label": f, "value": f} for f in PATTERN_FAMILIES],
                    value=[],
                    multi=True,
                    placeholder="All patterns",
                    className=small,
                ),
                xs=12, md=2,
            ),
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.InputGroupText("Move ≥"),
                        dbc.Input(
                            id="options-signal-min-move",
                            type="number",
                            min=0,
                            step=0.1,
                            placeholder="0",
                            debounce=True,
                        ),
                        dbc.InputGroupText("%"),
                    ],
                    size="sm",
                ),
                xs=6, md=2,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="options-signal-regimes",
                    options=[{"label": r.label, "value": str(r)} for r in Regime],
                    value=[],
                    multi=True,
                    placeholder="Any regime",
                    className=small,
                ),
                xs=6, md=2,
            ),
        ],
        className="g-2 align-items-center mb-2 signal-filters",
    )  # fmt: skip


def board_card() -> dbc.Card:
    """The STRAT scanner: the watchlist's ideas on 8 timeframes, ranked by readiness."""
    categories = [
        {"label": "All", "value": "all"},
        {"label": "Pending", "value": "pending"},
        {"label": "In force", "value": "triggered"},
        {"label": "Low magnitude", "value": "low_magnitude"},
    ]
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    "STRAT scanner ",
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
                    watchlist_editor(),
                    filter_controls(),
                    slow_loading(
                        data_grid(
                            "options-signals-grid",
                            SIGNAL_COLUMNS,
                            "420px",
                            getRowId="params.data.id",
                            grid_options={
                                # 17 columns: narrower cell padding than the other grids.
                                "theme": grid_theme(5),
                                "rowSelection": {
                                    "mode": "singleRow",
                                    "enableClickSelection": True,
                                    "checkboxes": False,
                                },
                                "enableBrowserTooltips": True,
                                "tooltipShowMode": "whenTruncated",
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


def refresh_signals(
    services: Services,
    category: str | None = "all",
    direction: str | None = "any",
    tfc: list[str] | None = None,
    timeframes: list[str] | None = None,
    families: list[str] | None = None,
    min_move: Any = None,
    regimes: list[str] | None = None,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Scan the stored watchlist (bars cached for the bars TTL), rank, filter."""
    symbols = watchlist_symbols(services)
    board = run_async(scan_signals(services.data, symbols), timeout=60)
    codes = regime_codes(services.regime.symbol_regimes(symbols))
    filters = SignalFilters.from_inputs(
        category, direction, tfc, timeframes, families, min_move, regimes
    )
    shown = filter_rows(board.rows, filters, codes)
    result, partial = board_status(board)
    lines: list[Any] = [status_line(result, empty_text="no active setups on the watchlist")]
    if board.rows:
        text = shown_text(len(shown), len(board.rows), len(symbols), len(SIGNAL_TIMEFRAMES))
        lines.append(html.Div(text, className="state-line", id="options-signals-shown"))
    if partial:
        lines.append(html.Div(partial, className="state-line state-line-stale"))
    return signal_grid_rows(shown, codes), lines


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
    ticks = reads.data.settings.tick_table()
    fill = fill_from_chain(chain.value, direction, row["timeframe"], now, spot, ticks)
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


FILTER_INPUTS = (
    Input("options-signal-category", "value"),
    Input("options-signal-direction", "value"),
    Input("options-signal-tfc", "value"),
    Input("options-signal-timeframes", "value"),
    Input("options-signal-families", "value"),
    Input("options-signal-min-move", "value"),
    Input("options-signal-regimes", "value"),
)


BOARD_OUTPUTS = [
    Output("options-signals-grid", "rowData"),
    Output("options-signals-status", "children"),
]


def first_state(services: Services, layout: Component) -> FirstState:
    """The board a page starts with, under the filters' first values."""
    return of_outputs(BOARD_OUTPUTS, refresh_signals(services, *values_in(layout, FILTER_INPUTS)))


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        *BOARD_OUTPUTS,
        Input("options-interval", "n_intervals"),
        Input("options-watchlist-version", "data"),
        *FILTER_INPUTS,
        prevent_initial_call=True,  # the layout is served with the board (``first_state``)
    )
    def _signals(_n: int | None, _version: int | None, *filters: Any) -> tuple[Any, Any]:
        return refresh_signals(services, *filters)

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
