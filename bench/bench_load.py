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
import concurrent.futures
import contextlib
import json
import math
import multiprocessing
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench._book import UNMETERED, open_book
from bench._server import ExitWorker, Gunicorn, cpu_seconds, rss_mb
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
        # Opening the book is set-up, not the subject: unmetered (the workers use the budget).
        data = AsyncDataService.from_settings(
            settings.with_overrides(alpaca_rate_limit_per_minute=UNMETERED)
        )
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


# ---- the deployment under the broker's rate limit (issue 23) --------------------------------

DEPLOY_VIEWERS = 50
DEPLOY_SECONDS = 180.0
DEPLOY_QUICK_SECONDS = 60.0
BROKER_LIMIT = 200  # the simulator enforces Alpaca's per-account limit over any 60 s
ORDER_EVERY_S = 15.0
STALE_MARKERS = ("stale since", "(stale)")


def _ticket_values(data: AsyncDataService) -> dict[str, Any]:
    """A valid ticket: 1 SPY call nearest the money, nearest expiry from tomorrow."""
    from datetime import timedelta
    from decimal import Decimal

    from dashboard.data_loaders.loop import run_async
    from dashboard.trading.ticket import round_to_tick

    clock = run_async(data.fetch_clock()).value
    assert clock is not None
    expiries = [e for e in run_async(data.listed_expiries("SPY")) if e > clock.timestamp.date()]
    expiry = next(e for e in expiries if e >= clock.timestamp.date() + timedelta(days=2))
    chain = run_async(data.fetch_option_chain("SPY", expiry)).value
    assert chain is not None and chain.underlying_price is not None
    spot = chain.underlying_price
    calls = [q for q in chain.quotes if q.contract.right == "C" and q.ask and q.contract.tradable]
    q = min(calls, key=lambda c: abs(float(c.contract.strike) - spot))
    limit = round_to_tick("SPY", Decimal(str(q.ask)), down=False)
    return {
        "options-symbol.value": "SPY",
        "options-direction.value": "long",
        "options-contracts.value": "1",
        "options-expiry.value": expiry.isoformat(),
        "options-strike.value": str(q.contract.strike),
        "options-limit.value": str(limit),
        "options-entry.value": f"{spot + 0.05:.2f}",
        "options-target.value": f"{spot * 1.02:.2f}",
        "options-stop.value": f"{spot * 0.99:.2f}",
    }


def _submit_body(deps: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The body the browser sends when Submit is clicked in the confirmation dialog."""
    spec = next(d for d in deps if d["output"].startswith("..options-toast.is_open"))
    key = spec["output"]

    def val(i: dict[str, Any]) -> dict[str, Any]:
        k = f"{i['id']}.{i['property']}"
        v = 1 if k == "options-submit.n_clicks" else values.get(k)
        return {"id": i["id"], "property": i["property"], "value": v}

    return {
        "output": key,
        "outputs": [
            dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
            for p in key[2:-2].split("...")
        ],
        "inputs": [val(i) for i in spec["inputs"]],
        "state": [val(s) for s in spec.get("state", [])],
        "changedPropIds": ["options-submit.n_clicks"],
    }


async def _deployment_viewers(
    url: str,
    n: int,
    seconds: float,
    payloads: list[dict[str, Any]],
    order_body: dict[str, Any],
) -> dict[str, Any]:
    lat: list[float] = []
    errors = stale = 0
    memo: dict[str, int] = {}  # X-Refresh-Memo: hit, miss, stale (previous render), yield (204)
    limits = httpx.Limits(max_connections=min(6 * n + 6, 600), max_keepalive_connections=6 * n)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:
        end = time.monotonic() + seconds

        async def one(body: dict[str, Any]) -> None:
            nonlocal errors, stale
            t0 = time.perf_counter()
            try:
                r = await client.post("/_dash-update-component", json=body)
                ok = r.status_code in (200, 204)
                stale += any(m in r.text for m in STALE_MARKERS)
                how = r.headers.get("X-Refresh-Memo", "none")
                memo[how] = memo.get(how, 0) + 1
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

        # The trader is another process, as a trader's browser is another machine: the
        # viewers' event loop here runs hot, and its lag is not the app's latency.
        with concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            trades = asyncio.get_running_loop().run_in_executor(
                pool, _trader, url, seconds, order_body
            )
            _, orders = await asyncio.gather(asyncio.gather(*(viewer() for _ in range(n))), trades)
    return {"lat": lat, "errors": errors, "stale": stale, "orders": orders, "memo": memo}


def _trader(url: str, seconds: float, order_body: dict[str, Any]) -> list[tuple[float, bool, str]]:
    """An order every ``ORDER_EVERY_S`` through the submit callback: (seconds, sent, text)."""
    import uuid

    orders: list[tuple[float, bool, str]] = []
    end = time.monotonic() + seconds
    time.sleep(ORDER_EVERY_S / 2)
    with httpx.Client(base_url=url, timeout=60.0) as client:
        while time.monotonic() < end:
            body = json.loads(json.dumps(order_body))
            for s in body["state"]:
                if s["id"] == "options-ticket-nonce":
                    s["value"] = uuid.uuid4().hex  # each order its own request key
            t0 = time.perf_counter()
            try:
                r = client.post("/_dash-update-component", json=body)
                text = r.text
                sent = r.status_code == 200 and "Order sent" in text
            except httpx.HTTPError as exc:
                sent, text = False, type(exc).__name__
            orders.append((time.perf_counter() - t0, sent, text[:300]))
            time.sleep(ORDER_EVERY_S)
    return orders


def run_deployment(
    quick: bool = False, viewers: int = DEPLOY_VIEWERS, seconds: float | None = None
) -> dict[str, float]:
    """The Procfile deployment (gunicorn's 2 workers + the exit worker, one data directory,
    so one shared budget in diskcache) with ``viewers`` viewers on the Options tab and an
    order every ``ORDER_EVERY_S`` s, against a simulator that refuses past 200 Alpaca
    requests in any 60 s."""
    import threading

    seconds = seconds or (DEPLOY_QUICK_SECONDS if quick else DEPLOY_SECONDS)
    out: dict[str, float] = {"viewers": float(viewers), "duration_s": seconds}
    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    sim = SimProcess(tmp)
    server = worker = None
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": str(tmp)}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(simulator_url=sim.url)
        # Opening the book is set-up, not the subject: unmetered (the workers use the budget).
        data = AsyncDataService.from_settings(
            settings.with_overrides(alpaca_rate_limit_per_minute=UNMETERED)
        )
        journal = Journal.from_settings(settings)
        open_book(data, journal, BOOK, sim.advance)
        values = page_values(data)
        ticket = _ticket_values(data)
        data.close_sync()
        journal.close()
        sim.set_speed(60.0)
        sim.set_faults({"rate_limit_per_minute": BROKER_LIMIT})
        server = Gunicorn(tmp, sim.url)
        worker = ExitWorker(tmp, sim.url, {})
        deps = httpx.get(server.url + "/_dash-dependencies", timeout=30).json()
        payloads = _payloads(deps, values)
        order_body = _submit_body(deps, {**values, **ticket})
        out["callbacks_per_tick"] = float(len(payloads))
        time.sleep(65.0)  # the set-up's requests leave the simulator's 60 s window
        rate0 = sim.rate()
        samples: list[int] = []
        done = threading.Event()

        def sample() -> None:
            with httpx.Client(base_url=sim.url, timeout=10) as c:
                while not done.wait(1.0):
                    with contextlib.suppress(httpx.HTTPError):
                        samples.append(int(c.get("/_sim/rate").json()["last_60s"]))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        res = asyncio.run(_deployment_viewers(server.url, viewers, seconds, payloads, order_body))
        wall = time.monotonic() - t0
        health = httpx.get(server.url + "/healthz", timeout=30).json()
        done.set()
        sampler.join(5)
        rate1 = sim.rate()
        sent = rate1["total"] - rate0["total"]
        refused = rate1["refused_429"] - rate0["refused_429"]
        ms = np.asarray(res["lat"]) * 1000 if res["lat"] else np.asarray([np.nan])
        order_ms = np.asarray([o[0] for o in res["orders"]] or [np.nan]) * 1000
        out.update(
            {
                "upstream_requests": float(sent),
                "upstream_per_min": sent * 60.0 / wall,
                "busiest_60s": float(max(samples, default=0)),
                "refused_429": float(refused),
                "refused_pct": 100.0 * refused / max(sent, 1),
                "callbacks": float(len(res["lat"])),
                "callback_errors": float(res["errors"]),
                "callback_p50_ms": float(np.percentile(ms, 50)),
                "callback_p95_ms": float(np.percentile(ms, 95)),
                "callbacks_showing_stale_pct": 100.0 * res["stale"] / max(len(res["lat"]), 1),
                "ticks_rendered_pct": 100.0 * res["memo"].get("miss", 0) / max(len(res["lat"]), 1),
                "ticks_shared_pct": 100.0 * res["memo"].get("hit", 0) / max(len(res["lat"]), 1),
                "ticks_previous_pct": 100.0 * res["memo"].get("stale", 0) / max(len(res["lat"]), 1),
                "ticks_no_update_pct": 100.0
                * res["memo"].get("yield", 0)
                / max(len(res["lat"]), 1),
                "orders": float(len(res["orders"])),
                "orders_sent": float(sum(1 for o in res["orders"] if o[1])),
                "order_p50_ms": float(np.percentile(order_ms, 50)),
                "order_max_ms": float(np.nanmax(order_ms)),
                "budget_sent_last_minute": float(health["budget"]["sent_last_minute"]),
                "budget_yielded_last_minute": float(
                    health["budget"]["refreshes_yielded_last_minute"]
                ),
                "budget_per_minute": float(health["budget"]["budget_per_minute"]),
                "budget_window_bound": float(health["budget"]["window_bound"]),
            }
        )
        DETAILS["deployment_orders_not_sent"] = "; ".join(
            o[2][:120] for o in res["orders"] if not o[1]
        )[:600]
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        sim.stop()
    return out


if __name__ == "__main__":
    import sys

    for k, v in run(quick="--quick" in sys.argv).items():
        print(f"{k:32s} {v:12.2f}")
