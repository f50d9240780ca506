"""Realised and unrealised P&L of option positions, in exact decimals.

One rule everywhere: P&L = (V_exit_or_now − V_entry) × 100 × qty − fees. The premium
paid is already inside V_entry, so it is never subtracted a second time (the ATLAS
``calculate_pnl_with_greeks`` bug, strat.md §4.3). Realised P&L matches closing fills
against open lots first-in first-out, for long and short (sell-to-open) positions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

from dashboard.conventions import CONTRACT_MULTIPLIER

__all__ = [
    "ClosedLot",
    "FifoResult",
    "FillLike",
    "OpenLot",
    "fifo_pnl",
    "pnl_percent",
    "unrealized_pnl",
]

_MULTIPLIER = Decimal(CONTRACT_MULTIPLIER)  # exact money: the convention as a Decimal
Number = Decimal | int | float | str


class FillLike(Protocol):
    """What FIFO needs from a fill; ``dashboard.models.Fill`` satisfies it.

    A ``fee`` attribute (total for the fill, dollars) is used when present.
    """

    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal


def _d(x: Number) -> Decimal:
    """Exact Decimal; floats go through their shortest repr (0.1 stays 0.1)."""
    return x if isinstance(x, Decimal) else Decimal(str(x))


@dataclass(frozen=True, slots=True)
class OpenLot:
    qty: Decimal  # signed: > 0 long, < 0 short
    price: Decimal  # per share
    fee_per_contract: Decimal  # opening fee still attached to the open part
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClosedLot:
    qty: Decimal  # signed size of the closed lot as it was held (> 0 was long)
    open_price: Decimal
    close_price: Decimal
    fees: Decimal  # opening + closing fees allocated to this piece
    pnl: Decimal  # (close − open) × 100 × qty − fees
    open_time: datetime | None = None
    close_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class FifoResult:
    realized: Decimal  # net of all fees on closed quantity
    closed: tuple[ClosedLot, ...]
    open_lots: tuple[OpenLot, ...]
    position: Decimal  # signed open contracts
    fees: Decimal  # every fee seen, open or closed

    @property
    def avg_open_price(self) -> Decimal | None:
        if self.position == 0:
            return None
        total = sum((lot.qty * lot.price for lot in self.open_lots), Decimal(0))
        return total / self.position

    def unrealized(self, mark: Number, multiplier: Number = _MULTIPLIER) -> Decimal:
        """Open lots marked at ``mark`` per share, net of their opening fees."""
        m, mult = _d(mark), _d(multiplier)
        parts = (
            (m - lot.price) * mult * lot.qty - lot.fee_per_contract * abs(lot.qty)
            for lot in self.open_lots
        )
        return sum(parts, Decimal(0))


def unrealized_pnl(
    entry_price: Number,
    current_price: Number,
    qty: Number,
    *,
    fees: Number = 0,
    multiplier: Number = _MULTIPLIER,
) -> Decimal:
    """(current − entry) × multiplier × qty − fees; qty is signed (negative = short)."""
    return (_d(current_price) - _d(entry_price)) * _d(multiplier) * _d(qty) - _d(fees)


def pnl_percent(
    pnl: Number, entry_price: Number, qty: Number, multiplier: Number = _MULTIPLIER
) -> Decimal | None:
    """P&L as a fraction of the premium at risk (None when nothing was paid)."""
    basis = abs(_d(entry_price) * _d(multiplier) * _d(qty))
    return None if basis == 0 else _d(pnl) / basis


def fifo_pnl(fills: Iterable[FillLike], multiplier: Number = _MULTIPLIER) -> FifoResult:
    """Match fills first-in first-out for one contract symbol.

    A fill against the open side closes the oldest lots; any excess opens a new lot on the
    other side (a flip). Fees are spread per contract so a partly closed lot keeps the
    right share of its opening fee.
    """
    mult = _d(multiplier)
    lots: deque[OpenLot] = deque()
    closed: list[ClosedLot] = []
    realized = Decimal(0)
    total_fees = Decimal(0)
    for fill in fills:
        qty = _d(fill.qty)
        if qty <= 0:
            raise ValueError(f"fill quantity must be positive, got {qty}")
        side = str(fill.side).lower()
        if side not in ("buy", "sell"):
            raise ValueError(f"fill side must be 'buy' or 'sell', got {fill.side!r}")
        sign = Decimal(1) if side == "buy" else Decimal(-1)
        price = _d(fill.price)
        fee = _d(getattr(fill, "fee", None) or 0)
        total_fees += fee
        fee_each = fee / qty
        when = getattr(fill, "transaction_time", None)
        remaining = qty
        while remaining > 0 and lots and (lots[0].qty > 0) != (sign > 0):
            lot = lots[0]
            take = min(remaining, abs(lot.qty))
            held = take if lot.qty > 0 else -take
            piece_fees = (lot.fee_per_contract + fee_each) * take
            pnl = (price - lot.price) * mult * held - piece_fees
            closed.append(ClosedLot(held, lot.price, price, piece_fees, pnl, lot.time, when))
            realized += pnl
            remaining -= take
            left = abs(lot.qty) - take
            if left == 0:
                lots.popleft()
            else:
                lots[0] = OpenLot(
                    left if lot.qty > 0 else -left, lot.price, lot.fee_per_contract, lot.time
                )
        if remaining > 0:
            lots.append(OpenLot(sign * remaining, price, fee_each, when))
    position = sum((lot.qty for lot in lots), Decimal(0))
    return FifoResult(realized, tuple(closed), tuple(lots), position, total_fees)
