"""A page's layout, built while the browser loads the page's scripts.

The browser asks for a page's HTML, then spends a second or more fetching and running
the scripts before dash-renderer asks for ``/_dash-layout``. The layout carries the
tab's first state (``components.first_state``), whose reads take a round of upstream
requests. ``LayoutReadAhead`` starts that build when the HTML is asked for, so the
layout request usually finds it done.

A build read ahead is handed to one layout request only, and only while it is younger
than ``max_age`` (the refresh period: no older than what a viewer sees between ticks,
and each block shows its reads' own as-of time) and the data service's generation has
not moved (an order or a cancel invalidates what it read). Otherwise the layout request
builds its own, as it would without this.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pending:
    started: float
    generation: int
    build: Future[Any]


class LayoutReadAhead:
    def __init__(
        self,
        build: Callable[[str], Any],
        generation: Callable[[], int],
        max_age: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        workers: int = 2,
    ) -> None:
        self._build = build
        self._generation = generation
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        # Threads start on the first submit, so building the app starts none.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-ahead")

    def start(self, key: str) -> None:
        """Build ``key``'s layout in the background, unless a fresh build of it is
        already waiting for its layout request."""
        now = self._clock()
        with self._lock:
            waiting = self._pending.get(key)
            if waiting is not None and self._usable(waiting, now):
                return
            self._pending[key] = _Pending(
                now, self._generation(), self._pool.submit(self._build, key)
            )

    def take(self, key: str) -> Any | None:
        """The build read ahead for ``key`` if it is still usable (waiting for it to
        finish), else None; either way it is not handed out again."""
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is None or not self._usable(pending, self._clock()):
            return None
        try:
            return pending.build.result(timeout=max(0.0, self.max_age))
        except Exception:
            log.exception("the %s layout read ahead failed; building it afresh", key)
            return None

    def _usable(self, pending: _Pending, now: float) -> bool:
        return now - pending.started < self.max_age and pending.generation == self._generation()
