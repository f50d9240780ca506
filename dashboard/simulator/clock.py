"""Simulated time: real time scaled by ``speed`` plus manual advances.

``speed=0`` freezes the clock so tests move it only with ``advance``; any other speed
lets a demo show a live market (60 = one simulated minute per real second).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]


class SimClock:
    """Thread-safe scaled clock; ``now()`` never goes backwards."""

    def __init__(
        self,
        start: datetime,
        speed: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._mono = monotonic
        self._lock = threading.Lock()
        self._base = start.astimezone(UTC)
        self._real0 = self._mono()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        elapsed = (self._mono() - self._real0) * self._speed
        return self._base + timedelta(seconds=elapsed)

    def advance(self, minutes: float = 0.0, *, seconds: float = 0.0) -> datetime:
        """Jump forward; returns the new time."""
        delta = timedelta(minutes=minutes, seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base = self._now_locked() + delta
            self._real0 = self._mono()
            return self._base

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._base = self._now_locked()
            self._real0 = self._mono()
            self._speed = float(speed)

    def jump_to(self, t: datetime) -> datetime:
        """Move forward to ``t`` (no-op if ``t`` is in the past)."""
        with self._lock:
            now = self._now_locked()
            self._base = max(now, t.astimezone(UTC))
            self._real0 = self._mono()
            return self._base
