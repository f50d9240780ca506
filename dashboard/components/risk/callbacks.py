"""Risk Management callbacks: read what is held and what depends on it in one round,
hand the records to ``views.risk``, render what it returns."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, html
from dash.development.base_component import Component

from dashboard.analytics.risk import RiskLimits
from dashboard.components.first_state import FirstState, of_outputs
from dashboard.components.risk.layout import LOWER, limits_panel, lower_layout
from dashboard.components.status import status_line
from dashboard.components.ui import register_lazy
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataResult, PortfolioHistory, PortfolioSnapshot, Position
from dashboard.options.occ import underlying_of
from dashboard.views.portfolio import trades_by_contract
from dashboard.views.read_notes import option_risk_positions
from dashboard.views.risk import (
    VAR_LOOKBACK,
    HeatChart,
    RiskInputs,
    RiskView,
    VarChart,
    risk_view,
)
from dashboard.views.states import Blank
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.inputs import GreeksExposure
from dashboard.visualizations.risk_charts import (
    create_greeks_exposure_chart,
    create_heat_chart,
    create_var_histogram,
)

if TYPE_CHECKING:
    from dashboard.services import Services

# The first screen: heat and limits (served in the layout, ``first_state``).
HEAT_OUTPUTS = {
    "heat_chart": Output("risk-heat-chart", "figure"),
    "heat_summary": Output("risk-heat-summary", "children"),
    "heat_note": Output("risk-heat-note", "children"),
    "heat_rows": Output("risk-heat-grid", "rowData"),
    "heat_status": Output("risk-heat-status", "children"),
    "limits": Output("risk-limits", "children"),
    "limits_status": Output("risk-limits-status", "children"),
}
# Below the fold (``layout.LOWER``, mounted when scrolled near): VaR, greeks, concentration.
EXPOSURE_OUTPUTS = {
    "var_chart": Output("risk-var-chart", "figure"),
    "var_rows": Output("risk-var-grid", "rowData"),
    "var_note": Output("risk-var-note", "children"),
    "var_status": Output("risk-var-status", "children"),
    "greeks_chart": Output("risk-greeks-chart", "figure"),
    "greeks_rows": Output("risk-greeks-grid", "rowData"),
    "greeks_note": Output("risk-greeks-note", "children"),
    "greeks_status": Output("risk-greeks-status", "children"),
    "concentration_rows": Output("risk-concentration-grid", "rowData"),
    "concentration_status": Output("risk-concentration-status", "children"),
}


def _held(positions: Sequence[Position]) -> tuple[list[str], list[str]]:
    """(option symbols, underlyings) of the positions the option risk models (crypto is
    left out: it has no option chain and no daily bars on the stock feed)."""
    modelled = option_risk_positions(positions)
    options = sorted(p.symbol for p in modelled if p.asset_class == "us_option")
    return options, sorted({underlying_of(p.symbol, p.asset_class) for p in modelled})


def gather_risk_inputs(services: Services) -> RiskInputs:
    """One concurrent round: what is held (and the year's equity) together with what
    depends on it (option snapshots and daily bars of every held underlying) for the last
    known holdings; only a changed holding costs a second round."""
    data = services.data

    def dependents(options: list[str], unders: list[str]) -> Awaitable[tuple[Any, Any]]:
        return asyncio.gather(
            data.fetch_option_quotes(options), data.fetch_bars_many(unders, ["1Day"], VAR_LOOKBACK)
        )

    guess = _held(data.positions_hint())

    async def read() -> tuple[PortfolioSnapshot, DataResult[PortfolioHistory], Any, Any]:
        snap, history, (oq, bars) = await asyncio.gather(
            data.fetch_portfolio_data(),
            data.fetch_portfolio_history("1A", "1D"),
            dependents(*guess),
        )
        held = _held(snap.positions.value or ())
        if held != guess:
            oq, bars = await dependents(*held)
        return snap, history, oq, bars

    snap, history, oq, bars = run_async(read())
    return RiskInputs(
        snapshot=snap,
        history=history,
        option_quotes=oq,
        bars={sym: res for (sym, _tf), res in bars.items()},
        trades=trades_by_contract(services.journal.active_trades()),
        read_at=datetime.now(UTC),
    )


def _blank(b: Blank, uirevision: str) -> go.Figure:
    return empty_figure(b.message, kind=b.kind, uirevision=uirevision)


def heat_figure(chart: HeatChart | Blank) -> go.Figure:
    if isinstance(chart, Blank):
        return _blank(chart, "risk-heat")
    return create_heat_chart(
        chart.bars, equity=chart.equity, limit_pct=chart.limit_pct, uirevision="risk-heat"
    )


def var_figure(chart: VarChart | Blank) -> go.Figure:
    if isinstance(chart, Blank):
        return _blank(chart, "risk-var")
    return create_var_histogram(
        chart.pnl,
        var=chart.var,
        cvar=chart.cvar,
        confidence=chart.confidence,
        title=f"1-day P&L distribution (historical {chart.confidence:.0%})",
        uirevision=f"risk-var-{chart.source}",
    )


def greeks_figure(chart: list[GreeksExposure] | Blank) -> go.Figure:
    if isinstance(chart, Blank):
        return _blank(chart, "risk-greeks")
    return create_greeks_exposure_chart(chart, uirevision="risk-greeks")


def _view(services: Services, var_source: str | None, *, exposure: bool) -> RiskView:
    limits = RiskLimits.from_settings(services.settings)
    return risk_view(gather_risk_inputs(services), limits, var_source or "", exposure=exposure)


def refresh_heat(services: Services) -> dict[str, Any]:
    """``HEAT_OUTPUTS`` rendered: heat and limits, without computing greeks or VaR."""
    v = _view(services, None, exposure=False)
    panel = limits_panel(v.limits) or [
        html.Div("Limits unknown: account or positions unavailable.", className="text-danger")
    ]
    return {
        "heat_chart": heat_figure(v.heat_chart),
        "heat_summary": v.heat_summary,
        "heat_note": v.heat_note,
        "heat_rows": v.heat_rows,
        "heat_status": status_line(v.heat_status, empty_text="no open positions"),
        "limits": panel,
        "limits_status": status_line(v.limits_status),
    }


def refresh_exposure(services: Services, var_source: str | None) -> dict[str, Any]:
    """``EXPOSURE_OUTPUTS`` rendered: VaR, greeks and concentration."""
    v = _view(services, var_source, exposure=True)
    return {
        "var_chart": var_figure(v.var_chart),
        "var_rows": v.var_rows,
        "var_note": v.var_note,
        "var_status": status_line(v.var_status, empty_text="no open positions"),
        "greeks_chart": greeks_figure(v.greeks_chart),
        "greeks_rows": v.greeks_rows,
        "greeks_note": v.greeks_note,
        "greeks_status": status_line(v.greeks_status, empty_text="no option positions"),
        "concentration_rows": v.concentration_rows,
        "concentration_status": status_line(v.concentration_status, empty_text="no open positions"),
    }


VAR_SOURCE = Input("risk-var-source", "value")


def first_state(services: Services, _layout: Component) -> FirstState:
    """What ``_heat`` answers first, for the layout that mounts the tab."""
    return of_outputs(HEAT_OUTPUTS, refresh_heat(services))


def register(app: Dash, services: Services) -> None:
    interval = Input("risk-interval", "n_intervals")

    @app.callback(output=HEAT_OUTPUTS, inputs=[interval], prevent_initial_call=True)
    def _heat(_n: int | None) -> dict[str, Any]:  # not on a load: served in the layout
        return refresh_heat(services)

    # Runs when the lower block mounts, then on each tick.
    @app.callback(output=EXPOSURE_OUTPUTS, inputs=[interval, VAR_SOURCE])
    def _exposure(_n: int | None, var_source: str | None) -> dict[str, Any]:
        return refresh_exposure(services, var_source)

    register_lazy(app, LOWER, lambda: lower_layout(services.settings))
