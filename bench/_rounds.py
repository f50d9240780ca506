"""Sequential upstream rounds of a refresh, from the requests' own start and end times.

Wall-clock ratios against an injected latency drown in CPU noise on a shared 2-core
machine; the number of requests that had to wait for one another does not. While
``RoundTracer`` is recording, every ``AsyncHTTPClient.request`` is logged with its start
and end, and ``upstream_rounds`` finds the longest chain of requests in which each starts
after the one before it ended: 1 means everything ran in one concurrent round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dashboard.data_loaders.http import AsyncHTTPClient


def upstream_rounds(spans: Sequence[tuple[float, float]]) -> int:
    """Length of the longest chain of (start, end) spans, each starting after the previous
    one ended (0 for no spans)."""
    ordered = sorted(spans)
    depth: list[int] = []
    for i, (start, _end) in enumerate(ordered):
        before = [depth[j] for j in range(i) if ordered[j][1] <= start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


class RoundTracer:
    """Logs the spans of every upstream request while ``recording()`` is open."""

    def __init__(self) -> None:
        self._spans: list[tuple[float, float]] | None = None
        self._lock = threading.Lock()
        self._original: Any = None

    def install(self) -> None:
        original = AsyncHTTPClient.request
        tracer = self

        async def traced(client: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(client, *args, **kwargs)
            finally:
                with tracer._lock:
                    if tracer._spans is not None:
                        tracer._spans.append((start, time.perf_counter()))

        self._original = original
        AsyncHTTPClient.request = traced  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            AsyncHTTPClient.request = self._original  # type: ignore[method-assign]
            self._original = None

    @contextmanager
    def recording(self) -> Iterator[list[tuple[float, float]]]:
        spans: list[tuple[float, float]] = []
        with self._lock:
            self._spans = spans
        try:
            yield spans
        finally:
            with self._lock:
                self._spans = None
