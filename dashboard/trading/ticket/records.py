"""The order ticket's records: the validated order and the form's verdict on it.

Kept apart from the rules that build them, because the journal, the order sender and the
entry worker take a ``TradeTicket`` without needing any of the form's parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dashboard.conventions import CONTRACT_MULTIPLIER, Direction, Right
from dashboard.models import OptionQuote
from dashboard.options.occ import display_occ

__all__ = ["TicketValidation", "TradeTicket"]


@dataclass(frozen=True, slots=True)
class TradeTicket:
    """A fully validated single-leg long option order plus the STRAT plan behind it.

    ``direction`` is the view on the underlying: long buys a call, short buys a put.
    ``entry``, ``target``, ``target2`` and ``stop`` are underlying prices; ``limit`` is the
    option premium per share.
    """

    symbol: str  # underlying
    direction: Direction
    contract: str  # OCC compact symbol
    contracts: int
    expiry: date
    strike: Decimal
    right: Right
    limit: Decimal
    entry: float
    target: float
    stop: float
    target2: float | None = None
    pattern: str | None = None
    timeframe: str | None = None
    signal_id: str | None = None
    tfc: str | None = None  # e.g. "3/4 ↑", as shown on the signal board
    rules: str | None = None  # the level rules, e.g. "entry: setup-bar high + 1 tick; ..."
    dte_floor: int | None = None  # managed exit when DTE falls to this
    max_loss_pct: float | None = None  # managed exit when the premium has lost this %
    live: bool = False

    @property
    def cost(self) -> Decimal:
        """Premium paid for the whole order in dollars (fees are taken as zero)."""
        return self.limit * CONTRACT_MULTIPLIER * self.contracts

    @property
    def display(self) -> str:
        """The exact order, as the confirmation step shows it."""
        return (
            f"BUY TO OPEN {self.contracts} × {display_occ(self.contract)} "
            f"({self.contract}) LIMIT ${self.limit:.2f} DAY — ${self.cost:,.2f}"
        )


@dataclass(frozen=True, slots=True)
class TicketValidation:
    """Per-field messages (``field -> message``), and the ticket when there are none."""

    errors: Mapping[str, str]
    ticket: TradeTicket | None
    cost: Decimal | None = None
    quote: OptionQuote | None = None  # the chain row of the contract, when found
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors and self.ticket is not None
