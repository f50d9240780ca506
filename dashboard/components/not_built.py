"""An honest placeholder for a tab whose issue has not landed: it says so plainly."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def not_built_card(tab_id: str, title: str, issue: str, what: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(f"{title}: not built yet", className="card-title"),
                html.P(what, className="mb-1"),
                html.Small(f"Tracked in {issue}. Nothing here is simulated or made up."),
            ]
        ),
        id=f"{tab_id}-not-built",
        className="not-built my-3",
    )
