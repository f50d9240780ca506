"""The order ticket: raw form fields in, a validated ``TradeTicket`` or per-field messages out.

Pure: no I/O. This package's namespace is the ticket's public API; its modules each hold
one part of it, so a caller that rounds a premium or sizes a trade reads only that part:

- ``records``: ``TradeTicket`` (the validated order) and ``TicketValidation``;
- ``validation``: ``validate_ticket``, every rule of the form, all messages at once;
- ``fields``: the bounded parsers for the form's raw fields (``parse_bounded``);
- ``ticks``: the Penny Interval Program's tick grids and ``round_to_tick``;
- ``guards``: the ticket against the current price, and the duplicate-signal guard;
- ``sizing``: the default quantity from the risk budget.
"""

from __future__ import annotations

from dashboard.trading.ticket.fields import parse_bounded
from dashboard.trading.ticket.guards import (
    EntryLimits,
    PriceCheck,
    active_for_signal,
    check_against_price,
)
from dashboard.trading.ticket.records import TicketValidation, TradeTicket
from dashboard.trading.ticket.sizing import RiskSize, risk_budget, size_by_risk
from dashboard.trading.ticket.ticks import (
    TickTable,
    option_tick,
    parse_tick_table,
    round_to_tick,
    shipped_tick_table,
    tick_table_for,
)
from dashboard.trading.ticket.validation import FIELDS, validate_ticket

__all__ = [
    "FIELDS",
    "EntryLimits",
    "PriceCheck",
    "RiskSize",
    "TickTable",
    "TicketValidation",
    "TradeTicket",
    "active_for_signal",
    "check_against_price",
    "option_tick",
    "parse_bounded",
    "parse_tick_table",
    "risk_budget",
    "round_to_tick",
    "shipped_tick_table",
    "size_by_risk",
    "tick_table_for",
    "validate_ticket",
]
