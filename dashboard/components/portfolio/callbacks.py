"""Live Portfolio callbacks: read the broker in one round, hand the records to
``views.portfolio``, render what it returns.

Each callback is a named function of ``services`` and its inputs (tests call them
directly); ``register`` only binds them to the app's ids.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from dashboard.components.first_state import FirstState, combine, of_outputs, values_in
from dashboard.components.portfolio.layout import LOWER, lower_layout, metric_card
from dashboard.components.status import status_line
from dashboard.components.ui import register_lazy, register_zoom
from dashboard.data_loaders.errors import UpstreamError
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import DataResult, PortfolioSnapshot
from dashboard.views.formatting import worst_of
from dashboard.views.portfolio import (
    BAR_TIMEFRAME,
    BENCH_MARGIN,
    BENCHMARK,
    FILLS_DAYS,
    FILLS_SHOWN,
    HISTORY_TIMEFRAME,
    PERIOD_DAYS,
    TREND_LOOKBACK,
    TREND_TIMEFRAME,
    PortfolioView,
    Waterfall,
    cancel_refusal,
    equity_view,
    held_underlyings,
    history_series,
    orders_view,
    portfolio_view,
)
from dashboard.visualizations.figures import apply_zoom, empty_figure
from dashboard.visualizations.portfolio_charts import create_equity_curve, create_pnl_waterfall

if TYPE_CHECKING:
    from dashboard.services import Services

REFRESH_OUTPUTS = {
    "cards": Output("portfolio-cards", "children"),
    "cards_status": Output("portfolio-cards-status", "children"),
    "positions": Output("portfolio-positions-grid", "rowData"),
    "positions_status": Output("portfolio-positions-status", "children"),
    "journal_note": Output("portfolio-journal-note", "children"),
    "waterfall": Output("portfolio-waterfall", "figure"),
    "waterfall_status": Output("portfolio-waterfall-status", "children"),
}
# Below the first screen (layout.LOWER, a lazy block): their own callback, which runs
# when the block mounts.
ORDERS_OUTPUTS = {
    "orders": Output("portfolio-orders-grid", "rowData"),
    "orders_status": Output("portfolio-orders-status", "children"),
    "fills": Output("portfolio-fills-grid", "rowData"),
    "fills_status": Output("portfolio-fills-status", "children"),
}


PERIOD = Input("portfolio-period", "value")
EQUITY_OUTPUTS = [
    Output("portfolio-equity-chart", "figure"),
    Output("portfolio-equity-status", "children"),
]


def read_portfolio(
    services: Services,
) -> tuple[PortfolioSnapshot, dict[str, pd.DataFrame | None]]:
    """Account, positions, orders, clock and quotes, and the held underlyings' trend
    bars, in one round: the trend bars of the last known holdings ride along, and only a
    changed holding costs a second round."""
    data = services.data

    async def gather() -> tuple[PortfolioSnapshot, Any]:
        guess = data.held_underlyings_hint()
        bars_read = data.fetch_bars_many(guess, [TREND_TIMEFRAME], TREND_LOOKBACK)
        snap, bars = await asyncio.gather(data.fetch_portfolio_data(), bars_read)
        held = held_underlyings(snap.positions.value)
        if held and set(held) != set(guess):
            bars = await data.fetch_bars_many(held, [TREND_TIMEFRAME], TREND_LOOKBACK)
        return snap, bars

    snap, bars = run_async(gather())
    return snap, {sym: res.value for (sym, _tf), res in bars.items()}


def option_marks(services: Services, snap: PortfolioSnapshot) -> dict[str, float]:
    """Mids of the held option contracts: the one mark the Options tab uses too."""
    held = sorted(p.symbol for p in snap.positions.value or () if p.asset_class == "us_option")
    if not held:
        return {}
    quotes = run_async(services.data.fetch_option_quotes(held))
    return {s: q.mid for s, q in (quotes.value or {}).items() if q.mid is not None}


def build_portfolio_view(services: Services) -> PortfolioView:
    snap, trend_bars = read_portfolio(services)
    return portfolio_view(
        snap,
        trend_bars,
        services.journal.active_trades(),
        option_marks=option_marks(services, snap),
    )


def waterfall_figure(w: Waterfall) -> go.Figure:
    if w.error:
        return empty_figure(w.error, kind="error", uirevision="pnl-waterfall")
    if w.empty:
        return empty_figure(w.empty, uirevision="pnl-waterfall")
    return create_pnl_waterfall(
        w.parts,
        expected_total=w.total,
        tolerance=w.tolerance,
        title=w.title,
        uirevision="pnl-waterfall",
    )


def refresh_portfolio(services: Services) -> dict[str, Any]:
    v = build_portfolio_view(services)
    return {
        "cards": [metric_card(m) for m in v.metrics],
        "cards_status": status_line(v.cards_status),
        "positions": v.position_rows,
        "positions_status": status_line(v.positions_status, empty_text="no open positions"),
        "journal_note": v.journal_note,
        "waterfall": waterfall_figure(v.waterfall),
        "waterfall_status": status_line(v.waterfall_status),
    }


def refresh_orders(services: Services) -> dict[str, Any]:
    """The open orders and recent fills, in one round (the orders read is the one the
    first screen's refresh makes, cached for the same tick)."""
    data = services.data
    orders, fills = run_all(data.fetch_orders("open"), data.fetch_fills(FILLS_DAYS, FILLS_SHOWN))
    v = orders_view(orders, fills)
    return {
        "orders": v.order_rows,
        "orders_status": status_line(v.orders_status, empty_text="no open orders"),
        "fills": v.fill_rows,
        "fills_status": status_line(v.fills_status, empty_text=f"no fills in {FILLS_DAYS} days"),
    }


def build_equity_figure(services: Services, period: str) -> tuple[go.Figure, DataResult[Any]]:
    """Equity for ``period`` with drawdown, and SPY rebased to the first equity point."""
    if period not in HISTORY_TIMEFRAME:
        raise ValueError(f"unknown period {period!r}")
    tf = HISTORY_TIMEFRAME[period]
    data = services.data
    bar_tf = BAR_TIMEFRAME[tf]
    # The benchmark starts from the last known history's start, in the same round.
    hint = data.portfolio_history_start_hint(period, tf)
    bench_from = hint - BENCH_MARGIN if hint is not None else None
    hist, bench_res = run_all(
        data.fetch_portfolio_history(period, tf),
        data.fetch_bars_history(BENCHMARK, bar_tf, bench_from) if bench_from else None,
    )
    if hist.value is None:
        return empty_figure("equity history unavailable", kind="error"), hist
    equity = history_series(hist.value)
    if not equity.empty:
        start = equity.index[0].to_pydatetime() - BENCH_MARGIN  # a bar at or before t0
        if bench_res is None or bench_from is None or bench_from > start:
            bench_res = run_async(data.fetch_bars_history(BENCHMARK, bar_tf, start))
    view = equity_view(hist.value, bench_res.value if bench_res is not None else None, period)
    if view.empty:
        return empty_figure(view.empty, uirevision="equity-curve"), hist
    fig = create_equity_curve(
        view.equity,
        view.benchmark,
        title=view.title,
        uirevision=f"equity-curve-{period}",
        period_days=PERIOD_DAYS[period],
    )
    return fig, worst_of(hist, bench_res) if bench_res is not None else hist


def refresh_equity(
    services: Services, period: str | None, zoom: dict[str, Any] | None = None
) -> tuple[go.Figure, Any]:
    """The equity figure at the trader's zoom (kept for the same period), and its status."""
    fig, res = build_equity_figure(services, period or "1M")
    return apply_zoom(fig, zoom), status_line(res, empty_text="no equity history yet")


def first_state(services: Services, layout: Component) -> FirstState:
    """What ``_refresh`` and ``_equity`` answer first, for the layout that mounts the tab."""
    (period,) = values_in(layout, [PERIOD])
    return combine(
        lambda: of_outputs(REFRESH_OUTPUTS, refresh_portfolio(services)),
        lambda: of_outputs(EQUITY_OUTPUTS, refresh_equity(services, period)),
    )


def cancel_dialog(services: Services, selected: Any) -> tuple[Any, ...]:
    """(is_open, body, live-input style, target, result) for the cancel button."""
    settings = services.settings
    if not selected:
        alert = dbc.Alert("Select an open order first.", color="warning", className="py-1 small")
        return False, no_update, no_update, None, alert
    row = selected[0]
    body = html.Div(
        [
            dbc.Badge(
                settings.mode_label,
                color="danger" if settings.is_live else "info",
                className="me-2",
            ),
            html.Span(
                f"Cancel {row['side']} {row.get('qty') or ''} {row['contract']} "
                f"({row['type']}, {row['status']})?"
            ),
            html.Div(f"order id {row['id']}", className="small text-muted"),
        ]
    )
    style = {"display": "block"} if settings.is_live else {"display": "none"}
    target = {"id": row["id"], "symbol": row["symbol"]}
    return True, body, style, target, None


def send_cancel(services: Services, target: Any, confirmation: str | None) -> tuple[Any, ...]:
    """Cancel the targeted order; the result names the broker's answer."""
    if not target:
        return no_update, False, no_update
    refusal = cancel_refusal(services.settings.is_live, target["symbol"], confirmation)
    if refusal:
        return dbc.Alert(refusal, color="warning", className="py-1 small"), True, no_update
    try:
        run_async(services.data.cancel_order(target["id"]))
    except UpstreamError as exc:
        msg = f"Cancel failed: {exc.message}"
        return dbc.Alert(msg, color="danger", className="py-1 small"), False, target["id"]
    msg = f"Cancel sent for {target['symbol']} (order {target['id']})."
    return dbc.Alert(msg, color="success", className="py-1 small"), False, target["id"]


def register(app: Dash, services: Services) -> None:
    @app.callback(
        output=REFRESH_OUTPUTS,
        inputs=[Input("portfolio-interval", "n_intervals"), Input("portfolio-cancel-done", "data")],
        prevent_initial_call=True,  # the layout is served in its first state
    )
    def _refresh(_n: int | None, _done: Any) -> dict[str, Any]:
        return refresh_portfolio(services)

    register_lazy(app, LOWER, lower_layout)

    @app.callback(
        output=ORDERS_OUTPUTS,
        inputs=[Input("portfolio-interval", "n_intervals"), Input("portfolio-cancel-done", "data")],
        # Runs when the block mounts, then with the tab's refresh and after a cancel.
    )
    def _orders(_n: int | None, _done: Any) -> dict[str, Any]:
        return refresh_orders(services)

    @app.callback(
        *EQUITY_OUTPUTS,
        Input("portfolio-interval", "n_intervals"),
        PERIOD,
        State("portfolio-equity-chart-zoom", "data"),
        prevent_initial_call=True,  # the layout is served in its first state
    )
    def _equity(_n: int | None, period: str | None, zoom: dict[str, Any] | None) -> Any:
        return refresh_equity(services, period, zoom)

    register_zoom(app, "portfolio-equity-chart")

    @app.callback(
        Output("portfolio-cancel-modal", "is_open"),
        Output("portfolio-cancel-body", "children"),
        Output("portfolio-cancel-live-wrap", "style"),
        Output("portfolio-cancel-target", "data"),
        Output("portfolio-cancel-result", "children", allow_duplicate=True),
        Input("portfolio-cancel-open", "n_clicks"),
        Input("portfolio-cancel-dismiss", "n_clicks"),
        State("portfolio-orders-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def _open_cancel(clicks: int | None, _dismiss: int | None, selected: Any) -> tuple[Any, ...]:
        if ctx.triggered_id == "portfolio-cancel-open" and not clicks:
            # The button mounted with its block (scrolled to); Dash calls this then, since
            # the modal was already on the page. Not a click.
            raise PreventUpdate
        if ctx.triggered_id != "portfolio-cancel-open":
            return False, no_update, no_update, None, no_update
        return cancel_dialog(services, selected)

    @app.callback(
        Output("portfolio-cancel-result", "children"),
        Output("portfolio-cancel-modal", "is_open", allow_duplicate=True),
        Output("portfolio-cancel-done", "data"),
        Input("portfolio-cancel-confirm", "n_clicks"),
        State("portfolio-cancel-target", "data"),
        State("portfolio-cancel-live-confirm", "value"),
        prevent_initial_call=True,
    )
    def _confirm_cancel(_n: int | None, target: Any, confirmation: str | None) -> tuple[Any, ...]:
        return send_cancel(services, target, confirmation)
