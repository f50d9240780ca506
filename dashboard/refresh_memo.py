"""One response per refresh tick for every viewer.

Every viewer of the dashboard sees the same broker account, so an interval tick's
callback response depends only on the callback's other inputs and on the data, which
the read cache already holds for ``cache_ttl_seconds``. Without this, N viewers polling
every 5 s cost N renders and N JSON serialisations of the same figures per tick, which on
two cores is what made 50 viewers wait seconds (issue 13). With it, a tick that finds a
response for the same callback and inputs made within the TTL gets those bytes back, and
a tick that arrives while another request re-renders an expired response gets the
previous one instead of waiting (stale while revalidate).

Only pure refreshes are shared: requests whose triggers are all ``*-interval``
``n_intervals`` props. Clicks, form edits and order results always run their callback.
The key also carries the data service's generation, which moves on every invalidation
(an order, a manual refresh), so nothing older than the last write is served.

Ticks never wait, so people's actions keep a lane of their own (issue 23). A tick that
finds its render in progress, or every render slot taken (``render_slots``: the worker's
threads less the ones kept for clicks and orders), gets the previous render if it is
recent, else 204 "no update": the page keeps what it shows, with its own as-of times,
and its next tick gets the new render. Before this, the viewers' ticks after an order
(a new generation, so no previous render) held every worker thread waiting for one
render, and the next order queued behind them for seconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request

__all__ = ["RefreshMemo", "install_refresh_memo", "refresh_key"]

UPDATE_PATH = "_dash-update-component"
HEADER = "X-Refresh-Memo"
STALE_MAX_SECONDS = 15.0  # a previous render older than this is never served


def _is_tick(prop_id: str) -> bool:
    target, _, prop = prop_id.rpartition(".")
    return prop == "n_intervals" and target.endswith("-interval")


def refresh_key(body: bytes, generation: int) -> str | None:
    """The memo key of a callback request, or None when it is not a pure refresh tick."""
    tick = refresh_tick(body, generation)
    return tick[0] if tick is not None else None


def refresh_tick(body: bytes, generation: int) -> tuple[str, str] | None:
    """(memo key, the callback's output spec) of a pure refresh tick, else None."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    changed = payload.get("changedPropIds") or []
    if not changed or not all(isinstance(c, str) and _is_tick(c) for c in changed):
        return None

    def strip(items: Any) -> list[Any]:
        out = []
        for item in items or []:
            if isinstance(item, dict) and _is_tick(f"{item.get('id')}.{item.get('property')}"):
                item = {**item, "value": None}  # each viewer's own tick count
            out.append(item)
        return out

    canonical = json.dumps(
        [payload.get("output"), strip(payload.get("inputs")), strip(payload.get("state"))],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    key = hashlib.sha256(f"{generation}|{canonical}".encode()).hexdigest()
    return key, str(payload.get("output") or "")


@dataclass(frozen=True, slots=True)
class _Stored:
    body: bytes
    mimetype: str
    made_at: float
    ttl: float


class RefreshMemo:
    """Responses by key for ``ttl`` seconds, with one render in flight per key.

    ``slow_outputs`` maps component ids to a longer TTL for callbacks that only show data
    cached that long (bars and chains): re-rendering them sooner draws the same data.
    ``render_slots`` caps the ticks rendering at once in this process (None: no cap).
    """

    def __init__(
        self,
        ttl: float,
        generation: Callable[[], int],
        *,
        slow_outputs: Mapping[str, float] | None = None,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
        render_slots: int | None = None,
    ) -> None:
        if render_slots is not None and render_slots < 1:
            raise ValueError("render_slots must be at least 1 (or None for no cap)")
        self.ttl = ttl
        self.render_slots = render_slots
        self._slots = threading.BoundedSemaphore(render_slots) if render_slots is not None else None
        self.slow_outputs = dict(slow_outputs or {})
        self.generation = generation
        self.max_entries = max_entries
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self.stale = 0
        self.yielded = 0  # ticks answered 204: their render was in progress or no slot free
        self._entries: OrderedDict[str, _Stored] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def ttl_for(self, output: str) -> float:
        """The TTL of a callback's response, from its output spec ("id.prop" or
        "..id.prop...id2.prop..")."""
        first = output.strip(".").split("...")[0].rpartition(".")[0]
        return max(self.ttl, self.slow_outputs.get(first, self.ttl))

    def get(self, key: str, *, max_age: float | None = None) -> _Stored | None:
        """The response for ``key`` made within ``max_age`` seconds (default: its TTL)."""
        with self._guard:
            hit = self._entries.get(key)
            if hit is None:
                return None
            limit = hit.ttl if max_age is None else max(max_age, hit.ttl)
            if self.clock() - hit.made_at >= limit:
                return None
            return hit

    def put(self, key: str, body: bytes, mimetype: str, ttl: float | None = None) -> None:
        with self._guard:
            self._entries[key] = _Stored(
                body, mimetype, self.clock(), self.ttl if ttl is None else ttl
            )
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def take_slot(self) -> bool:
        """A render slot for a tick, without waiting; False when all are taken."""
        return self._slots is None or self._slots.acquire(blocking=False)

    def free_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()


def render_slots_for(threads: int, kept_for_people: int = 2) -> int:
    """The tick renders a worker of ``threads`` threads may run at once: the rest are
    kept for clicks and orders (at least one slot for ticks)."""
    return max(1, threads - kept_for_people)


def install_refresh_memo(server: Flask, memo: RefreshMemo) -> None:
    """Serve repeated refresh ticks from ``memo``. Install after the login check, so a
    memoised response is only ever returned to a signed-in viewer."""
    if memo.ttl <= 0:
        return

    @server.before_request
    def _serve_memo() -> Response | None:
        if request.method != "POST" or not request.path.endswith(UPDATE_PATH):
            return None
        tick = refresh_tick(request.get_data(cache=True), memo.generation())
        if tick is None:
            return None
        key, output = tick
        hit = memo.get(key)
        if hit is not None:
            memo.hits += 1
            return Response(hit.body, mimetype=hit.mimetype, headers={HEADER: "hit"})
        lock = memo.lock_for(key)
        if not lock.acquire(blocking=False):
            # Another request is rendering this tick: never hold a worker thread for it.
            return _instead_of_render(memo, key)
        hit = memo.get(key)  # rendered between the look above and the lock
        if hit is not None:
            lock.release()
            memo.hits += 1
            return Response(hit.body, mimetype=hit.mimetype, headers={HEADER: "hit"})
        if not memo.take_slot():
            lock.release()
            return _instead_of_render(memo, key)
        memo.misses += 1
        g.refresh_memo = (key, lock, memo.ttl_for(output))
        return None

    @server.after_request
    def _store_memo(response: Response) -> Response:
        pending = g.pop("refresh_memo", None)
        if pending is None:
            return response
        key, lock, ttl = pending
        try:
            if response.status_code == 200 and not response.direct_passthrough:
                memo.put(key, response.get_data(), response.mimetype or "application/json", ttl)
                response.headers[HEADER] = "miss"
        finally:
            lock.release()
            memo.free_slot()
        return response

    @server.teardown_request
    def _release(_exc: BaseException | None) -> None:
        pending = g.pop("refresh_memo", None)
        if pending is not None:
            pending[1].release()
            memo.free_slot()


def _instead_of_render(memo: RefreshMemo, key: str) -> Response:
    """A tick that may not render now: the previous render if recent, else "no update"."""
    previous = memo.get(key, max_age=STALE_MAX_SECONDS)
    if previous is not None:
        # Its status lines carry their own as-of times: nothing claims to be newer.
        memo.stale += 1
        return Response(previous.body, mimetype=previous.mimetype, headers={HEADER: "stale"})
    memo.yielded += 1
    return Response(status=204, headers={HEADER: "yield"})
