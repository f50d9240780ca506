"""The selected signal's STRAT chart and the ticket contract's payoff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.components.options.reads import Reads
from dashboard.components.status import empty_line, status_line
from dashboard.components.ui import (
    fixed_graph,
    register_lazy,
    register_zoom,
    shown_block,
    slow_loading,
    zoom_memory,
)
from dashboard.conventions import right_for_direction
from dashboard.models import DataState
from dashboard.options.occ import build_occ, display_occ
from dashboard.strat import classify_bars, detect_patterns, evaluate_setups
from dashboard.strat.signals import Setup
from dashboard.strat.timeframes import is_bar_closed
from dashboard.views.options.chart import (
    chart_showing,
    left_signal,
    other_setups,
    selected_setup,
    signal_chart_title,
    signal_name,
)
from dashboard.views.options.ticket import FORM_FIELDS, find_quote, parse_float, payoff_view
from dashboard.views.states import BlankKind
from dashboard.visualizations.figures import apply_zoom, empty_figure
from dashboard.visualizations.options_charts import PAYOFF_HEIGHT, create_payoff_chart
from dashboard.visualizations.strat_chart import create_strat_candlestick_chart

if TYPE_CHECKING:
    from dashboard.services import Services

# The blocks the two charts mount into the first time they are shown (``ui.shown_block``).
SIGNAL_CHART_BLOCK = "options-signal-chart-block"
PAYOFF_BLOCK = "options-payoff-block"

CHART_BARS = 120
PATTERN_WINDOW = 30  # patterns are looked for in the last 30 closed bars
SIGNAL_CHART_HEIGHT = 420

# The switches in the signal chart's header, and their defaults.
CHART_SWITCHES = [
    {"label": "bar types", "value": "labels"},
    {"label": "other setups", "value": "others"},
]


def no_signal_figure() -> go.Figure:
    return empty_figure("Select a signal to chart it", uirevision="signal-chart")


def no_contract_figure() -> go.Figure:
    return empty_figure("Fill the ticket to see the payoff", uirevision="payoff")


def names_contract(values: dict[str, Any]) -> bool:
    """The ticket names a contract: the payoff has something to draw."""
    return bool(
        values.get("symbol")
        and values.get("expiry")
        and values.get("strike")
        and values.get("direction") in ("long", "short")
    )


def signal_chart_card() -> dbc.Card:
    """Mounted when a signal is first selected; its callback draws at once (a skeleton
    until then)."""
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Signal chart ", id="options-signal-chart-title"),
                    dbc.Checklist(
                        id="options-chart-labels",
                        options=CHART_SWITCHES,
                        value=["labels"],
                        inline=True,
                        switch=True,
                        className="d-inline-block ms-2 small",
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-1",
            ),
            dbc.CardBody(
                [
                    slow_loading(fixed_graph("options-signal-chart", SIGNAL_CHART_HEIGHT)),
                    zoom_memory("options-signal-chart"),
                    dcc.Store(id="options-signal-chart-shows", data=""),
                    html.Div(
                        "Candles coloured by STRAT type: 1 inside grey, 2U green, 2D red,"
                        " 3 outside yellow. Tags on the right: the setup's entry, stop and"
                        " targets, and the last price (New York time on the axis).",
                        className="small text-muted",
                    ),
                    html.Div(id="options-signal-chart-status"),
                ]
            ),
        ],
        className="h-100",
    )


def payoff_card() -> dbc.Card:
    """Mounted when the ticket first names a contract; its callback draws at once."""
    return dbc.Card(
        [
            dbc.CardHeader(html.Span("Payoff of the ticket's contract", id="options-payoff-title")),
            dbc.CardBody(
                [
                    slow_loading(fixed_graph("options-payoff-chart", PAYOFF_HEIGHT)),
                    dcc.Store(id="options-payoff-shows", data=False),
                    html.Div(
                        "P&L in dollars for the position at expiry, today and after the"
                        " expected hold; the band is the hold curve at IV ± 5 vol points"
                        " (Black-Scholes, sticky strike).",
                        className="small text-muted",
                    ),
                    html.Div(id="options-payoff-status"),
                ]
            ),
        ],
        className="h-100",
    )


_HIDDEN = {"display": "none"}


def charts_strip() -> html.Div:
    """One line saying how to fill the charts, shown until they have something to draw
    (a selected signal; a contract in the ticket), so the first screen is the board and
    the ticket, not two empty boxes. The charts are not in the page until then, so a
    load draws no graph and needs no plotly.js (``plotly_bundle``)."""
    return html.Div(
        [
            dcc.Store(id="options-cards-sink"),
            html.Div(
                [
                    html.Span("▦", className="me-2"),
                    "Select a signal on the board (or a contract in the chain) to chart the"
                    " setup and the payoff of the ticket's contract.",
                ],
                id="options-charts-strip",
                className="select-strip mb-3",
            ),
        ]
    )


def signal_chart_col(**col: Any) -> dbc.Col:
    """The signal chart's column, hidden and empty until a signal is selected."""
    return dbc.Col(
        shown_block(SIGNAL_CHART_BLOCK),
        className="mb-3",
        id="options-signal-chart-col",
        style=_HIDDEN,
        **col,
    )


def payoff_col(**col: Any) -> dbc.Col:
    """The payoff's column, hidden and empty until the ticket names a contract."""
    return dbc.Col(
        shown_block(PAYOFF_BLOCK), className="mb-3", id="options-payoff-col", style=_HIDDEN, **col
    )


def _bars_setups(
    services: Services, reads: Reads, symbol: str, tf: str
) -> tuple[Any, Any, list[Setup]]:
    """The chart's bars, their read result and the setups on them (the board's rules)."""
    bars, now = reads.with_now(services.data.fetch_bars(symbol, tf, lookback=CHART_BARS))
    if bars.value is None or len(bars.value) == 0:
        return bars, None, []
    df = bars.value
    closed = is_bar_closed(tf, df.index[-1].to_pydatetime(), now)
    n_closed = len(df) if closed else len(df) - 1
    h, lo, o, c = (df[k].to_numpy() for k in ("high", "low", "open", "close"))
    pats = detect_patterns(
        h[:n_closed], lo[:n_closed], o[:n_closed], c[:n_closed],
        since=max(0, n_closed - PATTERN_WINDOW), symbol=symbol, timeframe=tf,
    )  # fmt: skip
    # The same settlement as the board: the bars' opens decide a same-bar trigger and stop.
    setups = evaluate_setups(
        pats, h, lo, c, df.index, 3, last_bar_closed=closed, open=o, timeframe=tf
    )
    return bars, df, setups


def signal_chart(
    services: Services,
    reads: Reads,
    signal: dict[str, Any] | None,
    switches: list[str] | None,
    binding: dict[str, Any] | None = None,
) -> tuple[go.Figure, str, Any]:
    if not signal:
        return no_signal_figure(), "Signal chart ", empty_line("no signal selected")
    if left_signal(binding, signal):
        # The chart follows the ticket: once the form leaves the signal, its levels are not
        # the ticket's any more, and drawing them would invite trading them.
        now_holds = (binding or {}).get("left_to") or "another underlying"
        msg = f"The ticket left {signal_name(signal)}; it now holds {now_holds}"
        fig = empty_figure(msg, uirevision="signal-chart")
        return fig, "Signal chart ", empty_line("Reset to signal, or pick one on the board")
    symbol, tf = signal["symbol"], signal["timeframe"]
    bars, df, setups = _bars_setups(services, reads, symbol, tf)
    if df is None:
        kind: BlankKind = "error" if bars.state is DataState.ERROR else "empty"
        return empty_figure(bars.error or "No bars", kind=kind), symbol, status_line(bars)
    chosen, note = selected_setup(setups, signal)
    shown = switches or []
    h, lo = df["high"].to_numpy(), df["low"].to_numpy()
    fig = create_strat_candlestick_chart(
        df,
        bar_types=classify_bars(h, lo),
        patterns=other_setups(setups, chosen) if "others" in shown else None,
        selected=chosen,
        show_labels="labels" in shown,
        title=None,
        uirevision=f"signal-{symbol}-{tf}-{signal.get('id')}",
        height=SIGNAL_CHART_HEIGHT,
    )
    status = status_line(bars)
    if note:
        status = html.Div([status, html.Div(note, className="small text-warning")])
    return fig, signal_chart_title(signal) + " ", status


def payoff(
    reads: Reads, values: dict[str, Any], signal: dict[str, Any] | None
) -> tuple[go.Figure, str, Any]:
    """The payoff figure, the card's title (contract, size, premium, hold) and status."""
    title = "Payoff of the ticket's contract"
    symbol, expiry, strike = values.get("symbol"), values.get("expiry"), values.get("strike")
    direction = values.get("direction")
    if not (symbol and expiry and strike) or direction not in ("long", "short"):
        return no_contract_figure(), title, ""
    sym = symbol.strip().upper()
    try:
        contract = build_occ(
            sym, date.fromisoformat(expiry), right_for_direction(direction), Decimal(str(strike))
        )
    except (ValueError, ArithmeticError) as exc:
        return empty_figure(f"Not a valid contract: {exc}", kind="error"), title, ""
    chain, now = reads.with_now(reads.chain(sym, expiry))
    quote = find_quote(chain.value, contract) if chain.value else None
    if quote is None:
        msg = f"{display_occ(contract)} is not in the chain"
        return empty_figure(msg, kind="error", uirevision="payoff"), title, status_line(chain)
    premium = parse_float(values.get("limit")) or quote.mid
    spot = chain.value.underlying_price
    if premium is None or spot is None or quote.iv is None:
        fig = empty_figure("No price or IV for this contract", kind="error")
        return fig, title, status_line(chain)
    same = (signal or {}).get("symbol") == sym
    tf = (signal or {}).get("timeframe") if same else None
    entry, target, stop = (parse_float(values.get(k)) for k in ("entry", "target", "stop"))
    target2 = parse_float((signal or {}).get("target2")) if same else None
    view = payoff_view(
        quote,
        premium=premium,
        spot=spot,
        iv=quote.iv,
        now=now,
        timeframe=tf,
        contracts=int(parse_float(values.get("contracts")) or 1),
        levels=(entry, target, target2, stop),
    )
    fig = create_payoff_chart(
        view.curve,
        today=view.today,
        spot=spot,
        entry=entry,
        target=target,
        target2=target2,
        stop=stop,
        iv_band=view.band,
        uirevision=f"payoff-{contract}",
        height=PAYOFF_HEIGHT,
    )
    title = (
        f"Payoff · {display_occ(contract)} · {view.contracts}× @ {premium:.2f}"
        f" · hold {view.hold:.1f} d"
    )
    return fig, title, status_line(chain)


def register(app: Dash, services: Services, reads: Reads) -> None:
    # Shows the columns, and the first time each is shown, mounts its card.
    app.clientside_callback(
        ClientsideFunction(namespace="options", function_name="chartRow"),
        Output("options-charts-strip", "style"),
        Output("options-signal-chart-col", "style"),
        Output("options-payoff-col", "style"),
        Output(f"{SIGNAL_CHART_BLOCK}-seen", "data"),
        Output(f"{PAYOFF_BLOCK}-seen", "data"),
        Input("options-selected-signal", "data"),
        Input("options-symbol", "value"),
        Input("options-expiry", "value"),
        Input("options-strike", "value"),
        State(f"{SIGNAL_CHART_BLOCK}-seen", "data"),
        State(f"{PAYOFF_BLOCK}-seen", "data"),
    )
    register_lazy(app, SIGNAL_CHART_BLOCK, signal_chart_card)
    register_lazy(app, PAYOFF_BLOCK, payoff_card)
    # Phones: the signal board's rows as cards (assets/20-tabs.js; the CSS shows them
    # below 576 px). Redrawn when the board's rows or its selection change.
    app.clientside_callback(
        ClientsideFunction(namespace="options", function_name="signalCards"),
        Output("options-cards-sink", "data"),
        Input("options-signals-grid", "rowData"),
        Input("options-signals-grid", "selectedRows"),
    )

    @app.callback(
        Output("options-signal-chart", "figure"),
        Output("options-signal-chart-title", "children"),
        Output("options-signal-chart-status", "children"),
        Output("options-signal-chart-shows", "data"),
        Input("options-selected-signal", "data"),
        Input("options-chart-labels", "value"),
        Input("options-interval", "n_intervals"),
        Input("options-ticket-binding", "data"),
        State("options-signal-chart-zoom", "data"),
        State("options-signal-chart-shows", "data"),
        # Runs when the card mounts (the first selected signal), then on its inputs.
    )
    def _signal_chart(
        signal: dict[str, Any] | None,
        switches: list[str],
        _n: int | None,
        binding: dict[str, Any] | None,
        zoom: dict[str, Any] | None,
        shows: str | None,
    ) -> Any:
        idle = not signal or left_signal(binding, signal)
        showing = chart_showing(signal, binding)
        # Only a refresh tick (a tick and a binding change can arrive in one request).
        tick = set(ctx.triggered_prop_ids) == {"options-interval.n_intervals"}
        if idle and tick and shows == showing:
            raise PreventUpdate  # nothing to chart: a refresh has nothing to redraw
        if not signal and not shows and ctx.triggered_id is not None:
            raise PreventUpdate  # nothing selected, and nothing drawn to clear
        fig, title, status = signal_chart(services, reads, signal, switches, binding)
        return apply_zoom(fig, zoom), title, status, showing

    register_zoom(app, "options-signal-chart")

    @app.callback(
        Output("options-payoff-chart", "figure"),
        Output("options-payoff-title", "children"),
        Output("options-payoff-status", "children"),
        Output("options-payoff-shows", "data"),
        *[Input(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-selected-signal", "data"),
        State("options-payoff-shows", "data"),
        # Runs when the card mounts (the ticket's first contract), then on the form.
    )
    def _payoff(*args: Any) -> tuple[go.Figure, str, Any, bool]:
        values = dict(zip(FORM_FIELDS, args[: len(FORM_FIELDS)], strict=True))
        signal, shows = args[len(FORM_FIELDS) :]
        named = names_contract(values)
        if not named and not shows and ctx.triggered_id is not None:
            raise PreventUpdate  # no contract, and nothing drawn to clear (the mount draws)
        return (*payoff(reads, values, signal), named)
