"""Data service benchmark against the simulator with injected latency (one run).

Figures:
- sequential vs concurrent refresh of the portfolio (account, positions, open orders,
  clock, quotes): wall time of awaiting the five reads one by one against
  ``fetch_portfolio_data()``'s gather. Goal: ratio near 5 (one latency, not the sum).
- N viewers refreshing at once, without single flight (each calls the client itself)
  and with it (the service's cache): upstream calls and wall time. Goal: calls ratio N.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench._book import UNMETERED
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.loop import run_async
from dashboard.services import demo_settings
from dashboard.settings import load_settings
from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread

LATENCY_MS = 100.0
VIEWERS = 20


def _upstream_calls(svc: AsyncDataService) -> int:
    return sum(svc.alpaca.trading.calls.values()) + sum(svc.alpaca.data.calls.values())


def run() -> dict[str, float]:
    sim = start_simulator_thread(SimulatorConfig(seed=7, speed=0.0, port=0))
    tmp = tempfile.mkdtemp(prefix="bench-data-")
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": tmp}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(
            data_dir=Path(tmp),
            # The budget is bench_load --deployment's subject; here it would defer reads.
            alpaca_rate_limit_per_minute=UNMETERED,
        )
        svc = AsyncDataService.from_settings(settings.with_overrides(cache_ttl_seconds=0.0))
        run_async(svc.fetch_portfolio_data())  # warm connections
        sim.set_faults({"latency_ms": LATENCY_MS})

        async def sequential() -> None:
            await svc.fetch_account()
            await svc.fetch_positions()
            await svc.fetch_orders("open")
            await svc.fetch_clock()
            await svc.fetch_quotes(("SPY",))

        async def concurrent() -> None:
            await asyncio.gather(
                svc.fetch_account(),
                svc.fetch_positions(),
                svc.fetch_orders("open"),
                svc.fetch_clock(),
                svc.fetch_quotes(("SPY",)),
            )

        t0 = time.perf_counter()
        run_async(sequential())
        seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_async(concurrent())
        conc = time.perf_counter() - t0

        # N viewers without single flight: every viewer goes upstream itself.
        a = svc.alpaca

        async def viewer_direct() -> None:
            await asyncio.gather(
                a.get_account(),
                a.get_positions(),
                a.get_orders(),
                a.get_clock(),
                a.get_latest_quotes(["SPY"]),
            )

        async def all_direct() -> None:
            await asyncio.gather(*(viewer_direct() for _ in range(VIEWERS)))

        before = _upstream_calls(svc)
        t0 = time.perf_counter()
        run_async(all_direct())
        no_sf_time = time.perf_counter() - t0
        no_sf_calls = _upstream_calls(svc) - before
        svc.close_sync()

        shared = AsyncDataService.from_settings(settings.with_overrides(cache_ttl_seconds=5.0))
        run_async(shared.fetch_clock())  # warm connections and the disk cache, as above
        shared.invalidate()

        async def all_cached() -> None:
            await asyncio.gather(*(concurrent_on(shared) for _ in range(VIEWERS)))

        before = _upstream_calls(shared)
        t0 = time.perf_counter()
        run_async(all_cached())
        sf_time = time.perf_counter() - t0
        sf_calls = _upstream_calls(shared) - before
        shared.close_sync()
    finally:
        sim.stop()
    return {
        "latency_ms": LATENCY_MS,
        "sequential_refresh_s": seq,
        "concurrent_refresh_s": conc,
        "refresh_ratio": seq / conc,
        "viewers": float(VIEWERS),
        "no_single_flight_calls": float(no_sf_calls),
        "single_flight_calls": float(sf_calls),
        "calls_ratio": no_sf_calls / max(sf_calls, 1),
        "no_single_flight_s": no_sf_time,
        "single_flight_s": sf_time,
        "time_ratio": no_sf_time / sf_time,
    }


async def concurrent_on(svc: AsyncDataService) -> None:
    await asyncio.gather(
        svc.fetch_account(),
        svc.fetch_positions(),
        svc.fetch_orders("open"),
        svc.fetch_clock(),
        svc.fetch_quotes(("SPY",)),
    )


if __name__ == "__main__":
    r = run()
    print(f"injected latency: {r['latency_ms']:.0f} ms per request")
    print(
        f"refresh: sequential {r['sequential_refresh_s'] * 1000:.0f} ms, "
        f"concurrent {r['concurrent_refresh_s'] * 1000:.0f} ms, ratio {r['refresh_ratio']:.1f}x"
    )
    print(
        f"{int(r['viewers'])} viewers: without single flight {int(r['no_single_flight_calls'])} "
        f"calls in {r['no_single_flight_s'] * 1000:.0f} ms; with {int(r['single_flight_calls'])} "
        f"calls in {r['single_flight_s'] * 1000:.0f} ms; calls ratio {r['calls_ratio']:.0f}x, "
        f"time ratio {r['time_ratio']:.1f}x"
    )
