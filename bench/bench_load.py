"""Load test: N simulated viewers on loopback against gunicorn with its production config.

Each viewer does what a page open on the Options tab does on every tick: it POSTs every
callback driven by the header's or the Options tab's interval (only the visible tab
refreshes) to ``/_dash-update-component`` at once, then waits for the next 5 s tick; viewers start at
random phases. The client is a bounded asyncio httpx client (at most 6 connections per
viewer, as a browser). The book holds 10 option positions opened through the journal.

Figures per N: p50/p95/p99 callback latency, error rate (non-200 or time-out), CPU (cores
used) and the largest RSS of the gunicorn workers from /proc, and the upstream calls per
minute counted by the simulator (``bench._simproc``) in total and for the busiest read.
"One upstream call per endpoint per TTL" is judged per read key against its TTL (2 s;
10 s for bars and chains): calls over the most expiries the window can hold
(floor(window / TTL) + 1).
"""

from __future__ import annotations

import asyncio
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench._book import open_book
from bench._server import Gunicorn, cpu_seconds, rss_mb
from bench._simproc import SimProcess
from bench.bench_refresh import page_values
from dashboard.data_loaders.async_data_service import (
    BARS_TTL_FLOOR,
    EXPIRIES_TTL,
    AsyncDataService,
)
from dashboard.services import demo_settings
from dashboard.settings import load_settings
from dashboard.trading.journal import Journal

VIEWERS = (1, 10, 50, 200)
QUICK_VIEWERS = (1, 10, 50)
PERIOD_S = 5.0
BOOK = 10
INTERVALS = ("global-interval.n_intervals", "options-interval.n_intervals")


def gunicorn_threads() -> int:
    """The thread count gunicorn.conf.py gives each worker (its env default)."""
    import os

    return int(os.environ.get("GUNICORN_THREADS", "8"))


def _payloads(deps: list[dict[str, Any]], values: dict[str, Any]) -> list[dict[str, Any]]:
    """One request body per interval callback, from the app's ``/_dash-dependencies``."""
    out = []
    for d in deps:
        ins = [f"{i['id']}.{i['property']}" for i in d["inputs"]]
        if not set(ins) & set(INTERVALS):
            continue

        def val(i: dict[str, Any]) -> dict[str, Any]:
            k = f"{i['id']}.{i['property']}"
            v = 1 if k in INTERVALS else values.get(k)
            return {"id": i["id"], "property": i["property"], "value": v}

        key = d["output"]
        if key.startswith(".."):
            outputs: Any = [
                dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
                for p in key[2:-2].split("...")
            ]
        else:
            outputs = dict(zip(("id", "property"), key.rsplit(".", 1), strict=True))
        out.append(
            {
                "output": key,
                "outputs": outputs,
                "inputs": [val(i) for i in d["inputs"]],
                "state": [val(s) for s in d.get("state", [])],
                "changedPropIds": [k for k in ins if k in INTERVALS],
            }
        )
    return out


async def _viewers(
    url: str, n: int, seconds: float, payloads: list[dict[str, Any]]
) -> tuple[list[float], int, int]:
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=min(6 * n, 600), max_keepalive_connections=6 * n)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        end = time.monotonic() + seconds

        async def one(body: dict[str, Any]) -> None:
            nonlocal errors
            t0 = time.perf_counter()
            try:
                r = await client.post("/_dash-update-component", json=body)
                ok = r.status_code in (200, 204)
            except httpx.HTTPError:
                ok = False
            lat.append(time.perf_counter() - t0)
            errors += not ok

        async def viewer() -> None:
            await asyncio.sleep(random.uniform(0, PERIOD_S))
            while time.monotonic() < end:
                t0 = time.monotonic()
                await asyncio.gather(*(one(b) for b in payloads))
                await asyncio.sleep(max(0.0, PERIOD_S - (time.monotonic() - t0)))

        await asyncio.gather(*(viewer() for _ in range(n)))
    return lat, errors, len(lat)


def _ttl_of(key: str, ttl: float) -> float:
    """The data service's TTL for the read behind one upstream key."""
    path = key.split(" ", 1)[1].split("?", 1)[0]
    if path.startswith("/v2/options/contracts"):
        return EXPIRIES_TTL
    slow = ("/bars", "/options/snapshots/", "/v3/", "/v2/bulk", "/v2/list", "/v2/hist")
    return max(ttl, BARS_TTL_FLOOR) if any(x in path for x in slow) else ttl


DETAILS: dict[str, str] = {}  # the busiest read per level, for the report


def run(quick: bool = False) -> dict[str, float]:
    levels = QUICK_VIEWERS if quick else VIEWERS
    seconds = 15.0 if quick else 30.0
    out: dict[str, float] = {"duration_s": seconds, "period_s": PERIOD_S, "book": float(BOOK)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    sim = SimProcess(tmp)
    server = None
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": str(tmp)}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(simulator_url=sim.url)
        ttl = settings.cache_ttl_seconds
        data = AsyncDataService.from_settings(settings)
        journal = Journal.from_settings(settings)
        open_book(data, journal, BOOK, sim.advance)
        values = page_values(data)
        data.close_sync()
        journal.close()
        sim.set_speed(60.0)  # the production demo's clock
        server = Gunicorn(tmp, sim.url)
        deps = httpx.get(server.url + "/_dash-dependencies", timeout=30).json()
        payloads = _payloads(deps, values)
        out["callbacks_per_tick"] = float(len(payloads))
        asyncio.run(_viewers(server.url, 1, PERIOD_S * 2, payloads))  # warm both workers
        for n in levels:
            workers = server.workers()
            cpu0 = sum(cpu_seconds(p) for p in workers)
            sim_cpu0 = cpu_seconds(sim.pid)
            calls0 = sim.counts()
            t0 = time.monotonic()
            lat, errors, total = asyncio.run(_viewers(server.url, n, seconds, payloads))
            wall = time.monotonic() - t0
            calls = sim.counts() - calls0
            ms = np.asarray(lat) * 1000 if lat else np.asarray([np.nan])
            tag = f"n{n}"
            out[f"{tag}_requests"] = float(total)
            out[f"{tag}_p50_ms"] = float(np.percentile(ms, 50))
            out[f"{tag}_p95_ms"] = float(np.percentile(ms, 95))
            out[f"{tag}_p99_ms"] = float(np.percentile(ms, 99))
            out[f"{tag}_error_rate"] = errors / max(total, 1)
            out[f"{tag}_cpu_cores"] = (sum(cpu_seconds(p) for p in workers) - cpu0) / wall
            out[f"{tag}_sim_cpu_cores"] = (cpu_seconds(sim.pid) - sim_cpu0) / wall
            out[f"{tag}_rss_max_mb"] = max((rss_mb(p) for p in workers), default=0.0)
            per_min = {k: v * 60.0 / wall for k, v in calls.items()}
            out[f"{tag}_upstream_per_min"] = sum(per_min.values())
            out[f"{tag}_upstream_endpoints"] = float(len(per_min))
            busiest = max(per_min.items(), key=lambda kv: kv[1], default=("", 0.0))
            out[f"{tag}_busiest_per_min"] = busiest[1]
            DETAILS[f"{tag}_busiest"] = busiest[0]
            # A window of W seconds holds at most floor(W / TTL) + 1 expiries of one read
            # (one at the start, then one per TTL), so that many calls is "one per TTL".
            per_ttl = {k: v / (math.floor(wall / _ttl_of(k, ttl)) + 1) for k, v in calls.items()}
            worst = max(per_ttl.items(), key=lambda kv: kv[1], default=("", 0.0))
            out[f"{tag}_max_calls_per_ttl"] = worst[1]
            DETAILS[f"{tag}_max_calls_per_ttl_read"] = worst[0]
            time.sleep(3.0)
        out["workers"] = float(len(server.workers()))
        out["threads"] = float(gunicorn_threads())
    finally:
        if server is not None:
            server.stop()
        sim.stop()
    return out


if __name__ == "__main__":
    import sys

    for k, v in run(quick="--quick" in sys.argv).items():
        print(f"{k:32s} {v:12.2f}")
