"""The selected signal's STRAT chart and the ticket contract's payoff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, html

from dashboard.components.options.reads import Reads
from dashboard.components.status import empty_line, status_line
from dashboard.components.ui import fixed_graph, slow_loading
from dashboard.conventions import right_for_direction
from dashboard.models import DataState
from dashboard.options.occ import build_occ, display_occ
from dashboard.strat import classify_bars, detect_patterns, evaluate_setups
from dashboard.strat.timeframes import is_bar_closed
from dashboard.views.options.ticket import FORM_FIELDS, find_quote, parse_float, payoff_view
from dashboard.views.states import BlankKind
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.options_charts import create_payoff_chart
from dashboard.visualizations.strat_chart import create_strat_candlestick_chart

if TYPE_CHECKING:
    from dashboard.services import Services

CHART_BARS = 120
PATTERN_WINDOW = 30  # patterns are looked for in the last 30 closed bars


def signal_chart_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span("Signal chart ", id="options-signal-chart-title"),
                    dbc.Checklist(
                        id="options-chart-labels",
                        options=[{"label": "bar types", "value": "labels"}],
                        value=["labels"],
                        inline=True,
                        switch=True,
                        className="d-inline-block ms-2 small",
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    slow_loading(fixed_graph("options-signal-chart", 420)),
                    html.Div(id="options-signal-chart-status"),
                ]
            ),
        ],
        className="h-100",
    )


def payoff_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Payoff and projection for the ticket's contract"),
            dbc.CardBody(
                [
                    slow_loading(fixed_graph("options-payoff-chart", 420)),
                    html.Div(id="options-payoff-status"),
                ]
            ),
        ],
        className="h-100",
    )


def signal_chart(
    services: Services, reads: Reads, signal: dict[str, Any] | None, labels: list[str] | None
) -> tuple[go.Figure, str, Any]:
    if not signal:
        fig = empty_figure("Select a signal to chart it", uirevision="signal-chart")
        return fig, "Signal chart ", empty_line("no signal selected")
    symbol, tf = signal["symbol"], signal["timeframe"]
    bars, now = reads.with_now(services.data.fetch_bars(symbol, tf, lookback=CHART_BARS))
    if bars.value is None or len(bars.value) == 0:
        kind: BlankKind = "error" if bars.state is DataState.ERROR else "empty"
        return empty_figure(bars.error or "No bars", kind=kind), symbol, status_line(bars)
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
    chosen = [st for st in setups if st.pattern.label == signal.get("label")][-3:]
    others = [st for st in setups if st not in chosen][-6:]
    fig = create_strat_candlestick_chart(
        df,
        bar_types=classify_bars(h, lo),
        patterns=[*others, *chosen],
        show_labels="labels" in (labels or []),
        title=None,
        uirevision=f"signal-{symbol}-{tf}",
    )
    title = f"Signal chart · {symbol} {tf} · {signal.get('label')} "
    return fig, title, status_line(bars)


def payoff(
    reads: Reads, values: dict[str, Any], signal: dict[str, Any] | None
) -> tuple[go.Figure, Any]:
    symbol, expiry, strike = values.get("symbol"), values.get("expiry"), values.get("strike")
    direction = values.get("direction")
    if not (symbol and expiry and strike) or direction not in ("long", "short"):
        return empty_figure("Fill the ticket to see the payoff", uirevision="payoff"), ""
    sym = symbol.strip().upper()
    try:
        contract = build_occ(
            sym, date.fromisoformat(expiry), right_for_direction(direction), Decimal(str(strike))
        )
    except (ValueError, ArithmeticError) as exc:
        return empty_figure(f"Not a valid contract: {exc}", kind="error"), ""
    chain, now = reads.with_now(reads.chain(sym, expiry))
    quote = find_quote(chain.value, contract) if chain.value else None
    if quote is None:
        msg = f"{display_occ(contract)} is not in the chain"
        return empty_figure(msg, kind="error", uirevision="payoff"), status_line(chain)
    premium = parse_float(values.get("limit")) or quote.mid
    spot = chain.value.underlying_price
    if premium is None or spot is None or quote.iv is None:
        return empty_figure("No price or IV for this contract", kind="error"), status_line(chain)
    tf = (signal or {}).get("timeframe") if (signal or {}).get("symbol") == sym else None
    view = payoff_view(
        quote,
        premium=premium,
        spot=spot,
        iv=quote.iv,
        now=now,
        timeframe=tf,
        contracts=int(parse_float(values.get("contracts")) or 1),
    )
    fig = create_payoff_chart(
        view.curve,
        today=view.today,
        spot=spot,
        entry=parse_float(values.get("entry")),
        target=parse_float(values.get("target")),
        stop=parse_float(values.get("stop")),
        iv_band=view.band,
        title=f"{display_occ(contract)} · {view.contracts}× @ {premium:.2f} · hold {view.hold:.1f} d",
        uirevision=f"payoff-{contract}",
    )
    return fig, status_line(chain)


def register(app: Dash, services: Services, reads: Reads) -> None:
    @app.callback(
        Output("options-signal-chart", "figure"),
        Output("options-signal-chart-title", "children"),
        Output("options-signal-chart-status", "children"),
        Input("options-selected-signal", "data"),
        Input("options-chart-labels", "value"),
        Input("options-interval", "n_intervals"),
    )
    def _signal_chart(signal: dict[str, Any] | None, labels: list[str], _n: int | None) -> Any:
        return signal_chart(services, reads, signal, labels)

    @app.callback(
        Output("options-payoff-chart", "figure"),
        Output("options-payoff-status", "children"),
        *[Input(f"options-{f}", "value") for f in FORM_FIELDS],
        State("options-selected-signal", "data"),
    )
    def _payoff(*args: Any) -> tuple[go.Figure, Any]:
        values = dict(zip(FORM_FIELDS, args[: len(FORM_FIELDS)], strict=True))
        return payoff(reads, values, args[len(FORM_FIELDS)])
