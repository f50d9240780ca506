"""Trade progress to target, measured on the underlying (strat.md §4.3).

Progress is read in *underlying* terms because the option's price also moves with theta
and IV; showing the two side by side is what exposes option lag. The two sides of the
entry are scaled separately: 0 at entry, 1 at the target, -1 at the stop, since the
target and stop distances are rarely equal and one linear scale would hide the stop.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["long", "short"]

__all__ = ["progress_to_target", "r_multiple_now"]


def _signed(direction: Direction) -> float:
    if direction == "long":
        return 1.0
    if direction == "short":
        return -1.0
    raise ValueError(f"direction must be 'long' or 'short', got {direction!r}")


def _check_levels(direction: Direction, entry: float, target: float, stop: float) -> float:
    """Refuse inverted levels: a long needs stop < entry < target (mirrored for a short)."""
    sgn = _signed(direction)
    if not sgn * (target - entry) > 0:
        raise ValueError(f"{direction} target {target} is not beyond entry {entry}")
    if not sgn * (entry - stop) > 0:
        raise ValueError(f"{direction} stop {stop} is not on the losing side of entry {entry}")
    return sgn


def progress_to_target(
    direction: Direction,
    entry: float,
    current: float,
    target: float,
    stop: float,
    *,
    lower: float = -1.0,
    upper: float = 1.5,
) -> float:
    """Fraction of the way from entry to target: 0 at entry, 1 at target, -1 at the stop.

    Toward the target the scale is ``move / (target - entry)``; toward the stop it is
    ``move / (entry - stop)``, so -0.5 means half the risk is gone. The result is clipped
    to ``[lower, upper]`` (default -1 … 1.5) so a run past the target still shows as
    "beyond" without stretching a progress bar.
    """
    sgn = _check_levels(direction, entry, target, stop)
    move = sgn * (current - entry)
    span = target - entry if move >= 0 else entry - stop
    frac = move / (sgn * span)
    return float(min(max(frac, lower), upper))


def r_multiple_now(direction: Direction, entry: float, current: float, stop: float) -> float:
    """Open profit in units of the initial risk (entry to stop); unclipped."""
    sgn = _signed(direction)
    risk = sgn * (entry - stop)
    if not risk > 0:
        raise ValueError(f"{direction} stop {stop} is not on the losing side of entry {entry}")
    return float(sgn * (current - entry) / risk)
