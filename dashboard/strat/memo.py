"""A scan's memo: what a refresh can keep from the previous one.

Between two refreshes of the board a frame's closed bars do not change; only its live
bar moves, and mostly only its close. Everything the scanner derives from closed bars
alone (the patterns, the setups already settled on them, a bar's close time) is kept
here under a key made of the content it was computed from (``strat.scanner`` builds
the keys), so a revised bar or a changed parameter is a miss, never a stale answer.
So is what the live bar's open, high and low decide of those setups (``scanner._Live``),
and the board's price-independent share of a frame's ideas (``board._plan``, under
the very setups tuple it was worked out from).

The memo is the only state of the scanner, so it is an explicit object that the shell
owns (``signal_scan``: one per process) and passes in; ``memo=None`` scans cold. It is
bounded (least recently used entries go first) and safe to share between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

__all__ = ["DEFAULT_MAX_ENTRIES", "ScanMemo"]

# A full watchlist (30 × 8 frames) keeps about 960 entries (per frame: its closed-bar
# results, its live bar's, its board plan and its last bar's close time); this holds
# about four watchlists' worth.
DEFAULT_MAX_ENTRIES: Final = 4096


class ScanMemo:
    """A bounded, thread-safe LRU map from content keys to computed results.

    Values are opaque here: the scanner checks their type when it reads them, so a key
    that another user of the memo put under a colliding key can never be misread.
    """

    __slots__ = ("_data", "_lock", "_max", "hits", "misses")

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._data: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def max_entries(self) -> int:
        return self._max

    def get(self, key: Hashable) -> object | None:
        """The value kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: object) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond the bound."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data
