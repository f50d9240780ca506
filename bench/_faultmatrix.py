"""The fault matrix: every upstream family × every fault, through the app's real callbacks.

Used by ``tests/test_fault_matrix.py`` (short deadlines, one callback set per family) and
by ``bench/bench_faults.py`` (every interval callback, production deadlines, more
rounds), which writes ``docs/reliability.md``.

One cell: a clean refresh (the baseline), then the fault is switched on at the simulator
and one refresh runs with it, then the fault is cleared and refreshes run until every
callback shows what it showed at baseline. A refresh is what an interval tick does: the
read cache's entries expire (``invalidate``; the worst tick, where every TTL has run
out) and each callback is POSTed to ``/_dash-update-component`` as the browser does.

Judged per cell:
- failed: a callback answered anything but 200/204 (or the request raised);
- stale shown: during the fault, the faulted family's widgets say stale/error/unavailable
  (ThetaData is exempt: the designed behaviour is a fresh chain from Alpaca instead);
- frozen fresh: any widget said "fresh … as of T" with T before the fault began;
- refreshes to recover: refreshes after the fault clears until the baseline returns.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._dashcall import update_payload
from dashboard.conventions import NEW_YORK


@dataclass(frozen=True)
class Family:
    routes: str  # simulator route globs
    callbacks: tuple[str, ...]  # first output ("id.prop") of each callback that reads it
    stale_expected: bool = True


FAMILIES: dict[str, Family] = {
    "account": Family("/v2/account", ("portfolio-cards.children", "risk-heat-chart.figure")),
    "positions": Family(
        "/v2/positions*", ("portfolio-cards.children", "options-active-trades.children")
    ),
    "orders": Family("/v2/orders*", ("portfolio-orders-grid.rowData",)),
    "bars": Family(
        "/v2/stocks/bars*,/v2/stocks/*/bars",
        ("options-signal-chart.figure", "portfolio-equity-chart.figure"),
    ),
    "clock": Family("/v2/clock", ("header-connection-badge.children", "portfolio-cards.children")),
    # Every chain source fails here; in "thetadata" only ThetaData does, and the chain
    # must come from Alpaca instead (fresh, so no stale label is expected).
    "option chains": Family(
        "/v1beta1/options/*,/v2/options/contracts*,/v3/*",
        ("options-chain-grid.rowData", "options-flow-chart.figure"),
    ),
    "thetadata": Family(
        "/v3/*",
        ("options-chain-grid.rowData", "options-flow-chart.figure"),
        stale_expected=False,
    ),
}

# Each fault as the simulator's FaultConfig; slow ones are well past the read deadline.
FAULTS: dict[str, dict[str, Any]] = {
    "429 + Retry-After": {"rate_limit": True, "retry_after": 0.2},
    "500": {"error_rate": 1.0, "status": 500},
    "503": {"error_rate": 1.0, "status": 503},
    "time-out": {"latency_ms": 0.0},  # set from the deadline by the runner
    "dropped connection": {"drop_connection": True},
    "malformed JSON": {"malformed_json": True},
    "trickled body": {"trickle_bytes_per_s": 40.0},
}

STALE_MARKERS = ("stale since", "(stale)", "error ·", "CLOCK UNAVAILABLE", "state-line-error")
_FRESH = re.compile(r"fresh · [^·\"]+ · as of (\d\d):(\d\d):(\d\d) ET")


@dataclass
class CellResult:
    family: str
    fault: str
    requests: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    stale_shown: bool = False
    frozen_fresh: list[str] = field(default_factory=list)
    refreshes_to_recover: int | None = None


def layout_values(app: Any) -> dict[str, Any]:
    """Every component prop's value in the full (validation) layout, by "id.prop"."""
    out: dict[str, Any] = {}
    for node in app.validation_layout._traverse():
        cid = getattr(node, "id", None)
        if not isinstance(cid, str):
            continue
        for prop in getattr(node, "_prop_names", ()):
            value = getattr(node, prop, None)
            if value is not None and prop != "children":
                out[f"{cid}.{prop}"] = value
    return out


def _text(resp_json: Any) -> str:
    return json.dumps(resp_json, ensure_ascii=False)


def markers(text: str) -> frozenset[str]:
    return frozenset(m for m in STALE_MARKERS if m in text)


def frozen_fresh(text: str, since: datetime) -> list[str]:
    """ "fresh … as of T" labels with T (New York time of day) before ``since``."""
    start = since.astimezone(NEW_YORK)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    floor = start.replace(microsecond=0)
    out = []
    for m in _FRESH.finditer(text):
        h, mi, s = (int(x) for x in m.groups())
        shown = day + timedelta(hours=h, minutes=mi, seconds=s)
        if shown > floor + timedelta(hours=12):  # the label is from before midnight
            shown -= timedelta(days=1)
        if shown < floor:
            out.append(m.group(0))
    return out


class Matrix:
    """Runs cells against one app whose services read from a simulator with faults."""

    def __init__(
        self,
        app: Any,
        services: Any,
        set_faults: Callable[[dict[str, Any] | None], None],
        values: Mapping[str, Any],
        *,
        read_deadline: float,
        pause: float,
        every_callback: bool = False,
        recovery_deadline: float | None = None,
    ) -> None:
        self.app = app
        self.services = services
        self.set_faults = set_faults
        self.values = dict(values)
        self.read_deadline = read_deadline
        self.pause = pause
        self.every_callback = every_callback
        # The read deadline while checking recovery (default: the same). A longer one keeps
        # a busy machine's slow reads from passing for a failure to recover; a slot still
        # held by the fault's slow load would still show, since that load never finishes.
        self.recovery_deadline = recovery_deadline or read_deadline
        self._baselines: dict[tuple[str, ...], dict[str, frozenset[str]]] = {}
        self._keys = {self._key(o): o for f in FAMILIES.values() for o in f.callbacks}

    def _key(self, first_output: str) -> str:
        for key in self.app.callback_map:
            if first_output in key:
                return key
        raise KeyError(first_output)

    def callbacks(self, family: Family) -> list[str]:
        if self.every_callback:
            return list(self._keys)
        return [self._key(o) for o in family.callbacks]

    def _post(self, key: str) -> tuple[bool, str, str]:
        body = update_payload(self.app, key, self.values)
        try:
            r = self.app.server.test_client().post("/_dash-update-component", json=body)
        except Exception as exc:  # a raising callback is exactly what is counted
            return False, "", f"{key[:60]}: {type(exc).__name__}: {exc}"
        text = _text(r.get_json(silent=True)) if r.status_code == 200 else ""
        return r.status_code in (200, 204), text, f"{key[:60]}: HTTP {r.status_code}"

    def refresh(self, keys: Sequence[str], result: CellResult | None) -> dict[str, str]:
        """One interval tick for ``keys``: expire the reads, then POST the callbacks all
        at once, as the browser does on a tick."""
        self.services.data.invalidate()
        with ThreadPoolExecutor(max_workers=max(1, len(keys))) as pool:
            answers = list(pool.map(self._post, keys))
        texts: dict[str, str] = {}
        for key, (ok, text, why) in zip(keys, answers, strict=True):
            texts[key] = text
            if result is not None:
                result.requests += 1
                if not ok:
                    result.failed += 1
                    result.failures.append(why)
        return texts

    def fault_config(self, fault: str, routes: str) -> dict[str, Any]:
        cfg = dict(FAULTS[fault])
        if fault == "time-out":
            cfg["latency_ms"] = (self.read_deadline + 1.0) * 1000.0
        return {**cfg, "routes": routes}

    def run_cell(self, family_name: str, fault: str, max_recovery: int = 3) -> CellResult:
        family = FAMILIES[family_name]
        keys = self.callbacks(family)
        result = CellResult(family_name, fault)
        data = self.services.data
        data._theta_skip_until = 0.0  # each cell starts with ThetaData trusted again
        self.set_faults(None)
        # The clean state to come back to: the previous cell's last refresh of these
        # callbacks (every cell ends recovered), or one clean refresh now.
        baseline = self._baselines.get(tuple(keys))
        if baseline is None:
            self.services.data.cache.read_deadline = self.recovery_deadline
            try:
                baseline = {k: markers(t) for k, t in self.refresh(keys, result).items()}
            finally:
                self.services.data.cache.read_deadline = self.read_deadline
            self._baselines[tuple(keys)] = baseline
        since = datetime.now(UTC)
        self.set_faults(self.fault_config(fault, family.routes))
        try:
            during = self.refresh(keys, result)
        finally:
            self.set_faults(None)
        own = {self._key(o) for o in family.callbacks}
        for key, text in during.items():
            result.frozen_fresh.extend(frozen_fresh(text, since))
            if key in own and markers(text):
                result.stale_shown = True
        wait = self.pause + float(FAULTS[fault].get("retry_after", 0.0))
        cache = self.services.data.cache
        cache.read_deadline = self.recovery_deadline
        try:
            for n in range(1, max_recovery + 1):
                time.sleep(wait)  # the time to the next tick (a 429's Retry-After is shorter)
                wait = self.pause
                after = self.refresh(keys, result)
                for text in after.values():
                    result.frozen_fresh.extend(frozen_fresh(text, since))
                if all(markers(t) <= baseline[k] for k, t in after.items()):
                    result.refreshes_to_recover = n
                    self._baselines[tuple(keys)] = {k: markers(t) for k, t in after.items()}
                    break
        finally:
            cache.read_deadline = self.read_deadline
        return result


def summary(results: Sequence[CellResult]) -> dict[str, float]:
    recovered = [r.refreshes_to_recover for r in results if r.refreshes_to_recover is not None]
    return {
        "cells": float(len(results)),
        "callback_requests": float(sum(r.requests for r in results)),
        "callbacks_failed": float(sum(r.failed for r in results)),
        "cells_without_stale_label": float(
            sum(1 for r in results if FAMILIES[r.family].stale_expected and not r.stale_shown)
        ),
        "frozen_fresh_labels": float(sum(len(r.frozen_fresh) for r in results)),
        "cells_not_recovered": float(sum(1 for r in results if r.refreshes_to_recover is None)),
        "max_refreshes_to_recover": float(max(recovered, default=0)),
    }
