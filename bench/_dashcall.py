"""Calling Dash callbacks the way the browser does, and timing where their time goes.

``update_payload`` builds the JSON body that dash-renderer POSTs to
``/_dash-update-component``. ``PhaseTimer`` patches, for the current thread, the three
places a callback spends server time: the data layer (``run_async`` as the tab modules
call it), the user function (``dash._callback._invoke_callback``) and the response
serialisation (``dash._callback.to_json``, plotly's JSON engine). Benchmarks only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import dash._callback as dash_callback
from dash import Dash

INTERVAL_INPUTS = ("global-interval.n_intervals", "options-interval.n_intervals")


def callback_key(app: Dash, first_output: str) -> str:
    """The callback_map key whose outputs include ``first_output`` ("id.prop")."""
    for key in app.callback_map:
        outs = _split(key)
        outs = outs if isinstance(outs, list) else [outs]
        if any(f"{o['id']}.{o['property']}" == first_output for o in outs):
            return key
    raise KeyError(first_output)


def interval_callbacks(app: Dash) -> list[str]:
    """Every callback a browser fires on each interval tick (all tabs are rendered)."""
    out = []
    for key, spec in app.callback_map.items():
        ins = {f"{i['id']}.{i['property']}" for i in spec["inputs"]}
        if ins & set(INTERVAL_INPUTS):
            out.append(key)
    return out


def _split(key: str) -> list[dict[str, str]] | dict[str, str]:
    def one(part: str) -> dict[str, str]:
        cid, prop = part.rsplit(".", 1)
        return {"id": cid, "property": prop}

    if key.startswith(".."):
        return [one(p) for p in key[2:-2].split("...")]
    return one(key)


def update_payload(app: Dash, key: str, values: Mapping[str, Any], tick: int = 1) -> dict[str, Any]:
    """The body dash-renderer sends for callback ``key`` after an interval tick.

    ``values`` maps "id.prop" to the current value of an input or state; interval inputs
    get ``tick``; anything else is None (never set in the page yet).
    """
    spec = app.callback_map[key]

    def value(i: dict[str, Any]) -> dict[str, Any]:
        k = f"{i['id']}.{i['property']}"
        v = tick if k in INTERVAL_INPUTS else values.get(k)
        return {"id": i["id"], "property": i["property"], "value": v}

    inputs = [value(i) for i in spec["inputs"]]
    changed = [f"{i['id']}.{i['property']}" for i in inputs if i["id"].endswith("interval")]
    return {
        "output": key,
        "outputs": _split(key),
        "inputs": inputs,
        "state": [value(s) for s in spec["state"]],
        "changedPropIds": changed,
    }


@dataclass
class Phases:
    """Server time of one callback request, in seconds."""

    total: float = 0.0
    upstream: float = 0.0  # blocked in run_async: HTTP, cache, parsing into records
    invoke: float = 0.0  # the callback function, including ``upstream``
    serialise: float = 0.0  # dash's to_json of the response (plotly JSON engine)
    status: int = 0
    nbytes: int = 0

    @property
    def compute(self) -> float:
        return max(0.0, self.invoke - self.upstream)

    @property
    def framework(self) -> float:
        """Flask/Dash dispatch and output checks: total − callback − serialisation."""
        return max(0.0, self.total - self.invoke - self.serialise)

    @property
    def excl_upstream(self) -> float:
        return max(0.0, self.total - self.upstream)


class PhaseTimer:
    """Thread-local phase accounting through patched module attributes (see module doc)."""

    def __init__(self, modules: Sequence[ModuleType]) -> None:
        self._modules = modules
        self._local = threading.local()
        self._saved: list[tuple[Any, str, Any]] = []

    def _acc(self) -> Phases | None:
        return getattr(self._local, "phases", None)

    def _wrap(self, fn: Any, field: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            acc = self._acc()
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if acc is not None:
                    setattr(acc, field, getattr(acc, field) + time.perf_counter() - t0)

        return timed

    def install(self) -> None:
        # A tab module that reads through another (the Options chart reads via ``reads``)
        # has no run_async of its own; its reads are timed where they are made.
        targets = [(m, "run_async", "upstream") for m in self._modules if hasattr(m, "run_async")]
        targets += [
            (dash_callback, "_invoke_callback", "invoke"),
            (dash_callback, "to_json", "serialise"),
        ]
        for obj, name, field in targets:
            orig = getattr(obj, name)
            self._saved.append((obj, name, orig))
            setattr(obj, name, self._wrap(orig, field))

    def uninstall(self) -> None:
        for obj, name, orig in reversed(self._saved):
            setattr(obj, name, orig)
        self._saved.clear()

    @contextmanager
    def measure(self) -> Iterator[Phases]:
        p = Phases()
        self._local.phases = p
        t0 = time.perf_counter()
        try:
            yield p
        finally:
            p.total = time.perf_counter() - t0
            self._local.phases = None


def post_callback(client: Any, payload: dict[str, Any]) -> tuple[int, bytes]:
    r = client.post("/_dash-update-component", json=payload)
    return r.status_code, r.get_data()
