"""Guards between a valid ticket and the broker: the price now, and the duplicate check.

A ticket can pass every form rule and still be wrong to send: the underlying may have
traded through the stop or reached T1 since the scan (refused), may be late or offer a
poor reward:risk from here (warned, per ``EntryLimits``), or the signal may already have a
working or open trade in the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.conventions import Direction
from dashboard.trading.records import JournalTrade

__all__ = ["EntryLimits", "PriceCheck", "active_for_signal", "check_against_price"]


@dataclass(frozen=True, slots=True)
class EntryLimits:
    """When a ticket warns (settings; the page states them)."""

    late_share: float = 0.5  # price more than this share of the way from entry to stop
    min_remaining_rr: float = 1.0  # reward:risk left from the current price, T1 vs stop


@dataclass(frozen=True, slots=True)
class PriceCheck:
    """Where the underlying is now against the signal's trigger, T1 and stop.

    Shares are fractions of the setup's own distances: ``to_stop`` is how far price has
    gone from the entry toward the stop (0 at or beyond the entry on the trade's side,
    1 at the stop), ``to_target`` how far from the entry toward T1 (negative while price
    is on the stop's side of the entry). ``remaining_rr`` is (T1 − price) / (price − stop)
    for a long, mirrored for a short: the reward:risk of entering at the current price.
    """

    direction: Direction
    price: float
    entry: float
    stop: float
    target: float
    triggered: bool
    to_stop: float
    to_target: float
    setup_rr: float | None
    remaining_rr: float | None
    refusal: str | None
    warnings: tuple[str, ...]

    @property
    def pending(self) -> bool:
        return not self.triggered


def check_against_price(
    direction: Direction,
    *,
    price: float,
    entry: float,
    stop: float,
    target: float,
    scan_triggered: bool,
    limits: EntryLimits = EntryLimits(),
) -> PriceCheck:
    """Refuse a ticket whose stop has traded or whose T1 has been reached at ``price``;
    warn on a late entry or a poor reward:risk from here.

    ``scan_triggered`` is the signal board's status; price beyond the trigger now also
    counts as triggered (the trigger traded since the scan). Levels must already be on
    the right sides of the entry (``validate_ticket`` checks that).
    """
    sign = 1.0 if direction == "long" else -1.0
    risk = sign * (entry - stop)  # > 0
    reward = sign * (target - entry)  # > 0
    triggered = scan_triggered or sign * (price - entry) >= 0
    to_stop = max(sign * (entry - price), 0.0) / risk if risk > 0 else 0.0
    to_target = sign * (price - entry) / reward if reward > 0 else 0.0
    setup_rr = reward / risk if risk > 0 and reward > 0 else None
    left_reward, left_risk = sign * (target - price), sign * (price - stop)
    remaining = left_reward / left_risk if left_risk > 0 and left_reward > 0 else None
    refusal = None
    warnings: list[str] = []
    if left_risk <= 0:
        side = "below" if direction == "long" else "above"
        refusal = (
            f"Refused: price {price:,.2f} is at or {side} the stop {stop:,.2f}, so the stop "
            "has already traded and the setup is invalidated."
        )
    elif left_reward <= 0:
        refusal = (
            f"Refused: price {price:,.2f} has already reached T1 {target:,.2f}; the move "
            "this trade plans is spent."
        )
    else:
        if triggered and to_stop > limits.late_share:
            warnings.append(
                f"Late entry: price {price:,.2f} is {to_stop:.0%} of the way from the entry "
                f"{entry:,.2f} to the stop {stop:,.2f} (warns above {limits.late_share:.0%})."
            )
        if remaining is not None and remaining < limits.min_remaining_rr:
            warnings.append(
                f"Reward:risk from the current price {price:,.2f} is {remaining:.2f} "
                f"(T1 {target:,.2f}, stop {stop:,.2f}), below the {limits.min_remaining_rr:.2f} "
                "floor."
            )
    return PriceCheck(
        direction,
        price,
        entry,
        stop,
        target,
        triggered,
        to_stop,
        to_target,
        setup_rr,
        remaining,
        refusal,
        tuple(warnings),
    )


def active_for_signal(trades: Iterable[JournalTrade], signal_id: str | None) -> list[JournalTrade]:
    """The journal's working, armed or open trades from this signal (the duplicate guard)."""
    if not signal_id:
        return []
    return [t for t in trades if t.signal_id == signal_id and t.is_active]
