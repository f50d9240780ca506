"""Options Trading tab: layout and callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dash import Dash, html

from dashboard.components.not_built import not_built_card
from dashboard.settings import Settings

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "options"
TITLE = "Options Trading"


def layout(settings: Settings) -> html.Div:
    return html.Div(
        not_built_card(
            TAB_ID,
            TITLE,
            "issue 8",
            "STRAT signals, the order ticket, active trades with progress to target, and the managed exit.",
        ),
        id=f"{TAB_ID}-root",
    )


def register_callbacks(app: Dash, services: Services) -> None:
    """No callbacks until this tab's issue lands."""
