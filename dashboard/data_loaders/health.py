"""Connection health per upstream, derived from recent call outcomes (no I/O).

The header badge and ``/healthz`` read this on every refresh, so it must be cheap and
must never itself call the network: it only looks at what real calls already saw.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["HealthTracker", "Outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    at: float  # monotonic seconds
    ok: bool
    retried: bool = False


class HealthTracker:
    """Per-source rolling outcomes → "connected" | "degraded" | "down" | "unknown".

    - no calls yet → unknown;
    - the last call failed and nothing succeeded within ``window`` → down;
    - any failure or retried call within ``window`` → degraded;
    - otherwise connected.
    """

    def __init__(
        self,
        sources: Iterable[str] = (),
        *,
        window: float = 30.0,
        keep: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._clock = clock
        self._keep = keep
        self._outcomes: dict[str, deque[Outcome]] = {s: deque(maxlen=keep) for s in sources}

    def record(self, source: str, ok: bool, *, retried: bool = False) -> None:
        with self._lock:
            q = self._outcomes.setdefault(source, deque(maxlen=self._keep))
            q.append(Outcome(self._clock(), ok, retried))

    def state(self, source: str) -> str:
        with self._lock:
            q = list(self._outcomes.get(source, ()))
        if not q:
            return "unknown"
        now = self._clock()
        recent = [o for o in q if now - o.at <= self._window]
        last = q[-1]
        if not last.ok and not any(o.ok for o in recent):
            return "down"
        if any((not o.ok) or o.retried for o in recent):
            return "degraded"
        return "connected" if last.ok else "degraded"

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            names = list(self._outcomes)
        return {name: self.state(name) for name in names}
