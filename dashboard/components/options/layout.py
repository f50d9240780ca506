"""The Options Trading tab's page: the features' blocks in their places, the tab's
stores and its toast. Each block's layout lives with its callbacks (``signals``,
``ticket``, ``chart``, ``chain``, ``trades``, ``manage``); ids are ``options-<thing>``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.options.arming import arming_card
from dashboard.components.options.chain import chain_card, flow_card
from dashboard.components.options.chart import charts_strip, payoff_col, signal_chart_col
from dashboard.components.options.manage import close_modal
from dashboard.components.options.signals import board_card
from dashboard.components.options.ticket import confirm_modal, ticket_card
from dashboard.components.options.trades import active_trades_card, book_block
from dashboard.settings import Settings

TAB_ID = "options"


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            # The scanner takes the full width: its key columns fit at 1400 px.
            dbc.Row(dbc.Col(board_card(), className="mb-3")),
            charts_strip(),
            dbc.Row(
                [
                    # The wrapper lets the ticket card keep its height and the arming
                    # controls sit under it, inside the column.
                    dbc.Col(
                        [html.Div(ticket_card(settings)), arming_card()], lg=5, className="mb-3"
                    ),
                    signal_chart_col(lg=7),
                ]
            ),
            dbc.Row(payoff_col()),
            chain_card(),
            flow_card(),
            active_trades_card(),
            book_block(),
            confirm_modal(),
            close_modal(),
            dbc.Toast(
                id="options-toast",
                header="Order",
                is_open=False,
                dismissable=True,
                duration=8000,
                style={
                    "position": "fixed",
                    "top": 70,
                    "right": 10,
                    "zIndex": 2000,
                    "minWidth": "18rem",
                },
            ),
            # data=None: with nothing kept in the session, dcc.Store then stays quiet on a
            # load instead of reporting a change that runs the ticket's callbacks.
            dcc.Store(id="options-selected-signal", storage_type="session", data=None),
            dcc.Store(id="options-ticket-nonce", storage_type="memory"),
            dcc.Store(id="options-trades-version", storage_type="memory"),
            dcc.Store(id="options-manage-trade", storage_type="memory"),
        ],
        id=f"{TAB_ID}-root",
    )
