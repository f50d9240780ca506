"""Fault injection: latency, 5xx errors, 429s, dropped connections, bad JSON, slow bodies.

Faults exist so the app's retry, timeout, stale-data and rate-limit paths can be
exercised against a real socket. One ``FaultConfig`` is active at a time; it applies to
request paths matching ``routes`` (comma-separated globs) and never to ``/_sim/*``.
Random choices come from one seeded generator, so a given request sequence always meets
the same faults.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = ["FaultConfig", "FaultDecision", "FaultInjector", "RateCounter"]


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """What to break.  ``error_rate`` is the probability that a matching request fails.

    The failure is a 429 with ``Retry-After`` when ``rate_limit``, a dropped connection
    when ``drop_connection``, a truncated JSON body when ``malformed_json``, and otherwise
    an HTTP ``status`` (500/502/503/504) error. With ``error_rate`` 0 and one of those
    three flags set, every matching request fails that way. ``count`` limits the faults to
    the next N matching requests (handy for "fail twice, then succeed" retry tests).
    ``rate_limit_per_minute`` enforces Alpaca's per-account limit for real: a request on an
    Alpaca route that finds that many Alpaca requests (refused ones included) in the last
    60 s gets 429 with ``Retry-After`` until the oldest leaves the window. ThetaData's
    routes never count: the Terminal is another server with no such limit.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    status: int = 500
    rate_limit: bool = False
    retry_after: float = 1.0
    drop_connection: bool = False
    malformed_json: bool = False
    trickle_bytes_per_s: float = 0.0
    routes: str = "*"
    count: int | None = None
    rate_limit_per_minute: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        """Validate a JSON body (unknown keys and bad values raise ValueError)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        cfg = cls(**data)
        if not 0.0 <= cfg.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if cfg.latency_ms < 0 or cfg.latency_jitter_ms < 0 or cfg.trickle_bytes_per_s < 0:
            raise ValueError("latency and trickle must be >= 0")
        if not 400 <= int(cfg.status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if cfg.count is not None and cfg.count < 0:
            raise ValueError("count must be >= 0")
        return cfg

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def failure_probability(self) -> float:
        if self.error_rate > 0:
            return self.error_rate
        return 1.0 if (self.rate_limit or self.drop_connection or self.malformed_json) else 0.0

    def matches(self, path: str) -> bool:
        if path.startswith("/_sim"):
            return False
        return any(
            fnmatch.fnmatchcase(path, g.strip()) for g in self.routes.split(",") if g.strip()
        )


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one request."""

    delay_s: float = 0.0
    action: str | None = None  # None | "status" | "rate_limit" | "drop" | "malformed"
    status: int = 500
    retry_after: float = 1.0
    trickle_bytes_per_s: float = 0.0


_NONE = FaultDecision()


class FaultInjector:
    """Holds the active ``FaultConfig`` and decides per request (thread-safe, seeded)."""

    def __init__(self, config: FaultConfig | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(seed)
        self._seed = seed
        self.rate = RateCounter()

    @property
    def config(self) -> FaultConfig | None:
        return self._config

    def set(self, config: FaultConfig | None, seed: int | None = None) -> None:
        with self._lock:
            self._config = config
            if seed is not None:
                self._seed = seed
            self._rng = random.Random(self._seed)

    def clear(self) -> None:
        self.set(None)

    def decide(self, path: str, *, rate_counted: bool = True) -> FaultDecision:
        """The fault for one request; ``rate_counted`` is False for routes outside the
        broker's per-minute limit (ThetaData)."""
        with self._lock:
            cfg = self._config
            if cfg is None or not cfg.matches(path):
                return _NONE
            if cfg.count is not None:
                if cfg.count <= 0:
                    self._config = None
                    return _NONE
                self._config = replace(cfg, count=cfg.count - 1)
            delay = cfg.latency_ms / 1000.0
            if cfg.latency_jitter_ms:
                delay += self._rng.random() * cfg.latency_jitter_ms / 1000.0
            action = None
            p = cfg.failure_probability
            if p > 0 and self._rng.random() < p:
                if cfg.rate_limit:
                    action = "rate_limit"
                elif cfg.drop_connection:
                    action = "drop"
                elif cfg.malformed_json:
                    action = "malformed"
                else:
                    action = "status"
            retry_after = cfg.retry_after
            if (
                action is None
                and rate_counted
                and cfg.rate_limit_per_minute is not None
                and self.rate.used() > cfg.rate_limit_per_minute
            ):
                action = "rate_limit"
                self.rate.refused += 1
                retry_after = max(0.1, self.rate.seconds_until_free(cfg.rate_limit_per_minute))
            return FaultDecision(
                delay_s=delay,
                action=action,
                status=int(cfg.status),
                retry_after=retry_after,
                trickle_bytes_per_s=cfg.trickle_bytes_per_s,
            )


class RateCounter:
    """Alpaca requests in the last 60 s (a sliding window), for ``X-RateLimit-*`` headers
    and ``rate_limit_per_minute`` enforcement. ``refused`` counts the 429s it caused."""

    WINDOW = 60.0

    def __init__(self, limit: int = 200, clock: Any = time.time) -> None:
        self.limit = limit
        self.refused = 0
        self.total = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.WINDOW:
            self._times.popleft()

    def hit(self) -> tuple[int, int, int]:
        """Count one request; returns (limit, remaining, reset epoch seconds)."""
        with self._lock:
            now = self._clock()
            self._trim(now)
            self._times.append(now)
            self.total += 1
            reset = self._times[0] + self.WINDOW
            return self.limit, max(0, self.limit - len(self._times)), math.ceil(reset)

    def used(self) -> int:
        with self._lock:
            self._trim(self._clock())
            return len(self._times)

    def seconds_until_free(self, limit: int) -> float:
        """When the window will hold fewer than ``limit`` requests again."""
        with self._lock:
            now = self._clock()
            self._trim(now)
            excess = len(self._times) - limit
            if excess < 0:
                return 0.0
            return max(0.0, self._times[excess] + self.WINDOW - now)

    def busiest_window(self) -> int:
        """Requests in the last 60 s (what a fair window check sees now)."""
        return self.used()
