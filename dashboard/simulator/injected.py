"""Account records the simulator cannot produce, served beside its own (a test tool).

The simulated broker trades US stocks and single-leg options. A real Alpaca account can
also hold crypto, rest a multi-leg (``mleg``) order, report a ``sell_short`` fill, or
send a record the app cannot read. Tests inject such records, written as Alpaca sends
them, to check that the app lists every other row and says what it left out. Like
faults, injection is only reachable through ``/_sim/records`` or the test handle, and is
not saved in snapshots. An injected open order can be cancelled (DELETE
``/v2/orders/{id}``), which cancels its legs too, as Alpaca cancels a whole spread.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime
from typing import Any

from dashboard.simulator.broker import OPEN_STATUSES

__all__ = ["INJECTABLE", "InjectedRecords"]

INJECTABLE = ("positions", "orders", "fills")


def _epoch(stamp: Any) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0  # an unreadable time sorts last (newest first), as junk should


class InjectedRecords:
    """Raw JSON records by kind (positions, orders, fills), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, list[Any]] = {k: [] for k in INJECTABLE}

    def set(self, kind: str, records: list[Any]) -> None:
        if kind not in INJECTABLE:
            raise ValueError(f"kind must be one of {', '.join(INJECTABLE)}")
        if not isinstance(records, list):
            raise ValueError("records must be a JSON list")
        with self._lock:
            self._records[kind] = copy.deepcopy(records)

    def clear(self) -> None:
        with self._lock:
            self._records = {k: [] for k in INJECTABLE}

    def to_json(self) -> dict[str, list[Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def positions(self) -> list[Any]:
        with self._lock:
            return copy.deepcopy(self._records["positions"])

    def orders(self, status: str) -> list[Any]:
        """Injected orders matching ``status`` (open / closed / all) by their own status;
        a record without a readable status is served under every filter."""
        with self._lock:
            rows = copy.deepcopy(self._records["orders"])

        def keep(o: Any) -> bool:
            if status == "all" or not isinstance(o, dict) or "status" not in o:
                return True
            return (o["status"] in OPEN_STATUSES) == (status == "open")

        return [o for o in rows if keep(o)]

    def fill_activities(self) -> list[dict[str, Any]]:
        """Injected fills as activities (``_ts`` for the broker's ordering and paging)."""
        with self._lock:
            rows = copy.deepcopy(self._records["fills"])
        out = []
        for r in rows:
            if isinstance(r, dict):
                out.append({"activity_type": "FILL", **r, "_ts": _epoch(r.get("transaction_time"))})
        return out

    def get_order(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            for o in self._records["orders"]:
                if isinstance(o, dict) and o.get("id") == order_id:
                    return copy.deepcopy(o)
        return None

    def cancel(self, order_id: str, stamp: str) -> str | None:
        """Cancel an injected order; None if there is no such order, else its status
        before (so the caller can refuse one that was not open)."""
        with self._lock:
            for o in self._records["orders"]:
                if isinstance(o, dict) and o.get("id") == order_id:
                    before = str(o.get("status"))
                    if before in OPEN_STATUSES:
                        for part in [o, *(o.get("legs") or [])]:
                            if isinstance(part, dict):
                                part.update(status="canceled", canceled_at=stamp, updated_at=stamp)
                    return before
        return None
