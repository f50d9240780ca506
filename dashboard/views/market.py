"""The market's state as the screens say it: open or closed, and the time to the next
bell, always from the broker's own clock (its timestamp, never the machine's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from dashboard.models import Clock

__all__ = ["MarketStatus", "format_countdown", "market_status"]


def format_countdown(delta: timedelta) -> str:
    """'2h 05m' / '3d 4h' / '45s': compact enough for a badge."""
    seconds = max(0, int(delta.total_seconds()))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True, slots=True)
class MarketStatus:
    """``state`` is "OPEN" or "CLOSED"; ``countdown_text`` e.g. "closes in 2h 05m"."""

    is_open: bool
    state: Literal["OPEN", "CLOSED"]
    countdown_text: str

    @property
    def tone(self) -> Literal["bull", "muted"]:
        return "bull" if self.is_open else "muted"

    @property
    def badge_text(self) -> str:
        return f"MARKET {self.state} · {self.countdown_text}"


def market_status(clock: Clock) -> MarketStatus:
    """Open or closed, and the time to the next close or open, by the broker's clock."""
    if clock.is_open:
        wait = format_countdown(clock.next_close - clock.timestamp)
        return MarketStatus(True, "OPEN", f"closes in {wait}")
    wait = format_countdown(clock.next_open - clock.timestamp)
    return MarketStatus(False, "CLOSED", f"opens in {wait}")
