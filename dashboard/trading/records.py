"""The journal's records and rules as plain data: a trade's status lifecycle, exit reasons,
the trade record the UI and the monitors see, and the deterministic exit order id.

Pure (no SQL): the trading rules (``exits``) and the views import these, and only the
journal (``journal.py``) knows how they are stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dashboard.conventions import CONTRACT_MULTIPLIER

__all__ = [
    "ACTIVE_STATUSES",
    "ALLOWED_MOVES",
    "ExitReason",
    "JournalError",
    "JournalTrade",
    "TradeStatus",
    "broker_stop_client_order_id",
    "exit_client_order_id",
]


class TradeStatus(enum.StrEnum):
    PENDING_ENTRY = "pending_entry"
    OPEN = "open"
    EXITING = "exiting"
    CLOSED = "closed"
    CANCELED = "canceled"
    REJECTED = "rejected"


class ExitReason(enum.StrEnum):
    TARGET = "target"
    STOP = "stop"
    MANUAL = "manual"
    EXPIRY = "expiry"
    DTE_FLOOR = "dte_floor"
    MAX_LOSS = "max_loss"
    BROKER_STOP = "broker_stop"  # the broker-held protective stop filled


ACTIVE_STATUSES = (TradeStatus.PENDING_ENTRY, TradeStatus.OPEN, TradeStatus.EXITING)
# Which status may follow which (the lifecycle in journal.py's docstring).
ALLOWED_MOVES: dict[TradeStatus, frozenset[TradeStatus]] = {
    TradeStatus.PENDING_ENTRY: frozenset(
        {TradeStatus.PENDING_ENTRY, TradeStatus.OPEN, TradeStatus.CANCELED, TradeStatus.REJECTED}
    ),
    TradeStatus.OPEN: frozenset({TradeStatus.OPEN, TradeStatus.EXITING, TradeStatus.CLOSED}),
    TradeStatus.EXITING: frozenset({TradeStatus.EXITING, TradeStatus.OPEN, TradeStatus.CLOSED}),
    TradeStatus.CLOSED: frozenset(),
    TradeStatus.CANCELED: frozenset(),
    TradeStatus.REJECTED: frozenset(),
}


class JournalError(RuntimeError):
    """A journal invariant would break (unknown trade, illegal status change, bad schema)."""


@dataclass(frozen=True, slots=True)
class JournalTrade:
    """One journal row as a plain record (what the UI and the exit monitor see)."""

    id: int
    created_at: datetime
    updated_at: datetime
    request_key: str
    status: TradeStatus
    status_message: str | None
    live: bool
    signal_id: str | None
    pattern: str | None
    timeframe: str | None
    tfc: str | None
    rules: str | None
    underlying: str
    direction: str
    entry_level: float
    target_level: float
    target2_level: float | None
    stop_level: float
    dte_floor: int | None
    max_loss_pct: float | None
    contract_symbol: str
    expiry: date
    strike: Decimal
    right: str
    qty: int
    planned_limit: Decimal
    entry_client_order_id: str
    entry_order_id: str | None
    entry_order_status: str | None
    entry_filled_qty: int
    entry_fill_price: Decimal | None
    entry_filled_at: datetime | None
    exit_attempts: int
    exit_client_order_id: str | None
    exit_order_id: str | None
    exit_order_status: str | None
    exit_reason: str | None
    exit_requested_at: datetime | None
    exit_underlying_price: float | None
    closed_qty: int
    exit_price: Decimal | None
    exit_filled_at: datetime | None
    realized_pnl: Decimal
    notes: str | None
    fill_underlying_price: float | None = None
    fill_iv: float | None = None
    fill_delta: float | None = None
    broker_stop_client_order_id: str | None = None
    broker_stop_order_id: str | None = None
    broker_stop_status: str | None = None
    broker_stop_price: Decimal | None = None
    broker_stop_limit: Decimal | None = None

    @property
    def open_qty(self) -> int:
        """Contracts held now: filled on entry minus sold on exit."""
        return self.entry_filled_qty - self.closed_qty

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def entry_cost(self) -> Decimal | None:
        if self.entry_fill_price is None:
            return None
        return self.entry_fill_price * CONTRACT_MULTIPLIER * self.entry_filled_qty


def broker_stop_client_order_id(entry_client_order_id: str, attempt: int = 1) -> str:
    """Deterministic id of a trade's broker-held protective stop (one per attempt)."""
    return f"{entry_client_order_id.removesuffix('-entry')}-bstop-{attempt}"


def exit_client_order_id(entry_client_order_id: str, attempt: int) -> str:
    """Deterministic exit id: a repeat of the same attempt can never make a second order."""
    return f"{entry_client_order_id.removesuffix('-entry')}-exit-{attempt}"
