"""The ticket's card, its confirm modal, the rules the page states and the projection
table: layout and formatting only (what they show is ``assessment``'s and the views').
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.ui import form_field, number_input
from dashboard.settings import Settings
from dashboard.views.formatting import format_number
from dashboard.views.options.ticket import ProjectionView

# What an empty ticket says; the layout starts with it, so the check need not run on a load.
START_TEXT = "Pick a signal, or type an underlying to start."


def rules_text(settings: Settings) -> str:
    """The ticket's thresholds and lists, as the page states them."""
    table = settings.tick_table()
    sizing = (
        f"${settings.risk_per_trade_dollars:,.0f}"
        if settings.risk_per_trade_dollars is not None
        else f"{settings.risk_per_trade_pct:g}% of equity"
    )
    return (
        f"Refuses a ticket whose stop has traded or whose T1 has been reached at the current "
        f"price. Warns when price is over {settings.late_entry_share:.0%} of the way from "
        f"the entry to the stop (DASHBOARD_LATE_ENTRY_SHARE), when reward:risk from the "
        f"current price is below {settings.min_remaining_rr:.2f} "
        f"(DASHBOARD_MIN_REMAINING_RR), or when the spread is over "
        f"{settings.max_spread_pct:g}% of the mark (DASHBOARD_MAX_SPREAD_PCT). Quantity "
        f"defaults to the contracts whose projected loss at the stop fits {sizing}, at most "
        f"{settings.max_contracts} (DASHBOARD_MAX_CONTRACTS). Mark = mid. Ticks: "
        f"{table.caption} ({table.source})."
    )


def projection_table(view: ProjectionView) -> html.Div:
    """Projected option value at T1/T2/stop after the expected hold, and the max loss."""
    if view.projection is None:
        return html.Div(view.missing, className="small")
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(format_number(lv.underlying)),
                html.Td(format_number(lv.value)),
                html.Td(
                    f"{lv.pnl:+,.0f}", className="text-success" if lv.pnl >= 0 else "text-danger"
                ),
            ]
        )
        for name, lv in view.projection.levels.items()
    ]
    head = html.Thead(
        html.Tr([html.Th("Level"), html.Th("Underlying"), html.Th("Option"), html.Th("P&L $")])
    )
    return html.Div(
        [
            dbc.Table(
                [head, html.Tbody(rows)],
                size="sm",
                className="mb-1 small",
                id="options-projection-table",
            ),
            html.Div(
                view.summary + (" (option reward:risk)" if view.projection.r_multiple else ""),
                className="small text-muted",
                id="options-max-loss",
            ),
        ]
    )


def ticket_card(settings: Settings) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [
                    "Order ticket",
                    dbc.Button(
                        "Reset to signal",
                        id="options-ticket-reset",
                        color="secondary",
                        outline=True,
                        size="sm",
                        className="float-end py-0",
                        disabled=True,
                    ),
                ]
            ),
            dbc.CardBody(
                [
                    html.Div(id="options-ticket-signal", className="small mb-1"),
                    html.Div(id="options-ticket-binding-text", className="small mb-2"),
                    dbc.Row(
                        [
                            form_field(
                                "Underlying",
                                dbc.Input(
                                    id="options-symbol", type="text", size="sm", debounce=True
                                ),
                                "options-symbol-error",
                                4,
                            ),
                            form_field(
                                "Direction",
                                dbc.Select(
                                    id="options-direction",
                                    options=[
                                        {"label": "Long (buy call)", "value": "long"},
                                        {"label": "Short (buy put)", "value": "short"},
                                    ],
                                    value="long",
                                    size="sm",
                                ),
                                "options-direction-error",
                                4,
                            ),
                            form_field(
                                f"Contracts (max {settings.max_contracts})",
                                number_input("options-contracts", 1, 1),
                                "options-contracts-error",
                                4,
                            ),
                            form_field(
                                "Expiry",
                                dbc.Select(id="options-expiry", options=[], size="sm"),
                                "options-expiry-error",
                                4,
                            ),
                            form_field(
                                "Strike",
                                dbc.Select(id="options-strike", options=[], size="sm"),
                                "options-strike-error",
                                4,
                            ),
                            form_field(
                                "Limit $",
                                number_input("options-limit", 0.01, 0),
                                "options-limit-error",
                                4,
                            ),
                            form_field(
                                "Underlying entry",
                                number_input("options-entry"),
                                "options-entry-error",
                                4,
                            ),
                            form_field(
                                "Target (T1)",
                                number_input("options-target"),
                                "options-target-error",
                                4,
                            ),
                            form_field(
                                "Stop", number_input("options-stop"), "options-stop-error", 4
                            ),
                        ],
                        className="g-2",
                    ),
                    html.Div(id="options-contract-why", className="small text-muted mb-2"),
                    html.Div(id="options-ticket-quote", className="small mb-1"),
                    html.Div(id="options-ticket-price", className="small mb-2"),
                    html.Div(id="options-ticket-sizing", className="small text-muted mb-2"),
                    html.Div(id="options-projection", className="mb-2"),
                    html.Div(id="options-form-error", className="text-danger small mb-2"),
                    html.Div(id="options-ticket-warnings", className="text-warning small mb-2"),
                    html.Div(
                        [
                            html.Div(id="options-dup-text", className="small text-warning"),
                            dbc.Checkbox(
                                id="options-dup-override",
                                label="Send another order for this signal anyway",
                                value=False,
                                className="small",
                            ),
                        ],
                        id="options-dup-wrap",
                        style={"display": "none"},
                        className="mb-2",
                    ),
                    dbc.Button(
                        "Review order",
                        id="options-review",
                        color="primary",
                        size="sm",
                        disabled=True,
                        className="me-2",
                    ),
                    # "Arm at trigger" (components/options/arming.py) sits here.
                    html.Span(id="options-arming-slot", className="me-2"),
                    html.Span(START_TEXT, id="options-ticket-state", className="small text-muted"),
                    html.Div(
                        rules_text(settings),
                        id="options-ticket-rules",
                        className="small text-muted mt-2",
                    ),
                    dcc.Store(id="options-ticket-binding", storage_type="session", data=None),
                ]
            ),
        ],
        id="options-ticket-card",
        className="h-100",
    )


def confirm_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Confirm order")),
            dbc.ModalBody(
                [
                    html.Div(id="options-confirm-body"),
                    html.Div(
                        [
                            dbc.Label(
                                "LIVE account: type the contract symbol to confirm",
                                className="small text-warning",
                            ),
                            dbc.Input(id="options-live-confirm", type="text", size="sm"),
                        ],
                        id="options-live-confirm-wrap",
                        style={"display": "none"},
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="options-confirm-cancel", color="secondary", size="sm"),
                    dbc.Button("Send order", id="options-submit", color="success", size="sm"),
                ]
            ),
        ],
        id="options-confirm-modal",
        is_open=False,
    )
