"""The order ticket: bound to its signal, checked against the current price and the
journal, then review, confirm, send.

``assess`` is the one path every step takes (the form or the market may change between
review and send, so the send assesses again). Nothing is sent on an invalid ticket, on a
refused one (stop traded, T1 reached), on levels that belong to another symbol's signal,
or on a second order for a signal with a working or open trade unless the override is
ticked. Every time on the ticket is the broker's clock in New York time.

One module per step: ``assessment`` (the one read and the risk sizing), ``layout`` (the
card, the confirm modal, the stated rules, the projection table), ``binding`` (load,
leave, reset), ``check`` (the live check), ``send`` (review and send) and ``callbacks``
(``register``). This door re-exports what the tab and the tests use.
"""

from __future__ import annotations

from dashboard.components.options.ticket.assessment import assess
from dashboard.components.options.ticket.binding import BIND_OUTPUTS, on_binding_input
from dashboard.components.options.ticket.callbacks import register
from dashboard.components.options.ticket.check import CHECK_OUTPUTS, check_ticket
from dashboard.components.options.ticket.layout import confirm_modal, ticket_card
from dashboard.components.options.ticket.send import (
    RESET_FIELDS,
    SUBMIT_OUTPUTS,
    review,
    submit,
    submit_outputs,
)
from dashboard.views.options.ticket import FORM_FIELDS

__all__ = [
    "BIND_OUTPUTS",
    "CHECK_OUTPUTS",
    "FORM_FIELDS",
    "RESET_FIELDS",
    "SUBMIT_OUTPUTS",
    "assess",
    "check_ticket",
    "confirm_modal",
    "on_binding_input",
    "register",
    "review",
    "submit",
    "submit_outputs",
    "ticket_card",
]
