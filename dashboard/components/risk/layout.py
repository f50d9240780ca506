"""The Risk Management tab's layout: ids are ``risk-<thing>``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.analytics.risk import LimitCheck, LimitStatus
from dashboard.components.ui import card, data_grid, graph, lazy_block, money_col, num_col
from dashboard.settings import Settings
from dashboard.views.risk import VAR_SOURCES

TAB_ID = "risk"

_LIMIT_COLOUR = {
    LimitStatus.GREEN: "success",
    LimitStatus.AMBER: "warning",
    LimitStatus.RED: "danger",
}

HEAT_COLUMNS = [
    {"field": "contract", "headerName": "Position", "minWidth": 150, "pinned": "left"},
    num_col("qty", "Qty", ",.4~f", width=80),
    money_col("market_value", "Mkt value", width=110),
    num_col("stop", "Stop (und.)", ",.2f", width=100),
    money_col("value_at_stop", "Value at stop", width=115),
    money_col("risk", "Risk $", width=105, sort="desc"),
    num_col("risk_pct", "Risk % eq.", ".2f", width=100),
    {"field": "basis", "headerName": "Basis", "minWidth": 170},
]
VAR_COLUMNS = [
    {"field": "method", "headerName": "Method", "width": 110},
    {"field": "confidence", "headerName": "Conf.", "width": 80},
    num_col("var_pct", "VaR %", ".2f", width=90),
    money_col("var_dollars", "VaR $", width=110),
    num_col("cvar_pct", "CVaR %", ".2f", width=90),
    money_col("cvar_dollars", "CVaR $", width=110),
]
GREEKS_COLUMNS = [
    {"field": "underlying", "headerName": "Underlying", "width": 110},
    money_col("spot", "Spot", width=95),
    {"field": "positions", "headerName": "Pos.", "type": "rightAligned", "width": 70},
    num_col("delta_shares", "Δ shares", ",.1f", width=100),
    money_col("dollar_delta", "$ delta", width=115),
    num_col(
        "gamma_shares",
        "Γ shares per $1",
        ",.2f",
        width=120,
        headerTooltip="Shares of delta gained per $1 rise of this underlying; never added "
        "across underlyings",
    ),
    money_col("theta_day", "Θ $/day", width=105),
    money_col("vega", "Vega $/vol pt", width=115),
]
CONC_COLUMNS = [
    {"field": "underlying", "headerName": "Underlying", "width": 110},
    {"field": "asset_class", "headerName": "Class", "width": 85},
    money_col("market_value", "Gross value", width=120),
    num_col("pct_equity", "% equity", ".2f", width=100, sort="desc"),
    num_col("pct_gross", "% of book", ".2f", width=100),
]


def limit_id(name: str) -> str:
    return "risk-limit-" + name.replace("_", "-")


def limits_panel(checks: Sequence[LimitCheck]) -> list[Any]:
    """One line per limit: a coloured badge (computed status) and the sentence why."""
    out = []
    for c in checks:
        value = f"{c.value_pct:.2f}%" if math.isfinite(c.value_pct) else "—"
        out.append(
            html.Div(
                [
                    dbc.Badge(
                        c.status.value.upper(),
                        color=_LIMIT_COLOUR[c.status],
                        id=limit_id(c.name),
                        className="me-2",
                    ),
                    html.Strong(f"{c.label}: {value} / {c.limit_pct:g}%", className="me-2"),
                    html.Span(c.message, className="small text-muted"),
                ],
                className="mb-2",
            )
        )
    return out


def layout(settings: Settings) -> html.Div:
    heat = card(
        f"Portfolio heat to stops (limit {settings.heat_limit_pct:g}%)",
        [
            html.Div(id="risk-heat-summary", className="fw-semibold"),
            html.Div(id="risk-heat-note", className="small text-warning"),
            graph("risk-heat-chart", "280px"),
            data_grid("risk-heat-grid", HEAT_COLUMNS, "220px", getRowId="params.data.symbol"),
        ],
        status_id="risk-heat-status",
    )
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(heat, xs=12, lg=7),
                    dbc.Col(
                        card("Limits", html.Div(id="risk-limits"), status_id="risk-limits-status"),
                        xs=12,
                        lg=5,
                    ),
                ],
                className="mt-2",
            ),
            lazy_block(LOWER, "VaR, greeks exposure and concentration load as you scroll."),
        ],
        id=f"{TAB_ID}-root",
    )


LOWER = "risk-lower"


def lower_layout(_settings: Settings) -> html.Div:
    """Below the fold (mounted when scrolled near, ``ui.lazy_block``): value at risk, the
    greeks exposure and the concentration by underlying."""
    var_source = dbc.Select(
        id="risk-var-source",
        options=[{"label": v, "value": k} for k, v in VAR_SOURCES.items()],
        value="positions",
        size="sm",
        style={"maxWidth": "20rem"},
    )
    var = card(
        "Value at risk (1 day, full revaluation)",
        [
            html.Div(id="risk-var-note", className="small text-muted"),
            graph("risk-var-chart", "280px"),
            data_grid("risk-var-grid", VAR_COLUMNS, "180px", getRowId="params.data.key"),
        ],
        status_id="risk-var-status",
        extra=var_source,
    )
    greeks = card(
        "Greeks exposure",
        [
            html.Div(id="risk-greeks-note", className="small text-muted"),
            graph("risk-greeks-chart", "280px"),
            data_grid(
                "risk-greeks-grid", GREEKS_COLUMNS, "180px", getRowId="params.data.underlying"
            ),
        ],
        status_id="risk-greeks-status",
    )
    concentration = card(
        "Concentration by underlying",
        data_grid("risk-concentration-grid", CONC_COLUMNS, "220px", getRowId="params.data.key"),
        status_id="risk-concentration-status",
    )
    return html.Div(
        [dbc.Row([dbc.Col(var, xs=12, lg=6), dbc.Col(greeks, xs=12, lg=6)]), concentration]
    )
