"""Refresh-cycle benchmark: server time of each interval callback of the Live Portfolio and
Options tabs with 10, 100 and 500 option positions, against the simulator with 0 and 100
ms injected latency per request. The simulator runs in its own process
(``bench._simproc``), so its pricing never shares the app's GIL.

Each callback is POSTed to ``/_dash-update-component`` through Flask's test client, with
the body dash-renderer sends, and its time is split (``bench._dashcall.PhaseTimer``) into
upstream wait (blocked in ``run_async``: HTTP, cache, parsing into records), computation
(the rest of the callback: core, figures, rows, journal reads), serialisation (dash's
``to_json``) and framework (Flask/Dash dispatch). The cache is emptied before every
refresh (``expire_tick``: everything but the day's expiry lists), so each one pays its
upstream reads: the worst tick of the steady state with 2 and 10 s TTLs under a 5 s
interval. A tab refresh is the tab's callbacks fired at once, as the browser does;
its wall time is the slowest of them. A tab's upstream rounds (``bench._rounds``) are the
longest chain of requests that waited for one another in any of its callbacks, each
traced alone.

Goals (issue 13): server time excluding upstream under 30 ms p95 with 100 positions; with
100 ms latency a refresh under 1.15 × one latency.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench._book import UNMETERED, open_book
from bench._dashcall import Phases, PhaseTimer, callback_key, post_callback, update_payload
from bench._rounds import RoundTracer, upstream_rounds
from bench._simproc import SimProcess
from dashboard.app import create_app
from dashboard.components.options import chain, chart, manage, reads, signals
from dashboard.components.options.ticket import send as ticket_send
from dashboard.components.portfolio import callbacks as portfolio_callbacks
from dashboard.data_loaders.loop import run_async
from dashboard.services import build_services, demo_settings
from dashboard.settings import load_settings
from dashboard.views.options.ticket import chain_expiries

BOOKS = (10, 100, 500)
QUICK_BOOKS = (10, 100)
LATENCIES_MS = (0.0, 100.0)
TABS: dict[str, dict[str, str]] = {
    "portfolio": {
        "refresh": "portfolio-cards.children",
        "equity": "portfolio-equity-chart.figure",
        "orders": "portfolio-orders-grid.rowData",  # once scrolled to (ui.lazy_block)
    },
    "options": {
        "signals": "options-signals-grid.rowData",
        "chart": "options-signal-chart.figure",
        "chain": "options-chain-grid.rowData",
        "flow": "options-flow-chart.figure",
        "trades": "options-active-trades.children",
        "book": "options-journal-grid.rowData",  # once scrolled to (ui.lazy_block)
    },
}
PARTS = ("total", "upstream", "compute", "serialise", "framework", "excl_upstream")


def page_values(data: Any) -> dict[str, Any]:
    """What a viewer's page holds: SPY chosen, a signal loaded, the nearest chain expiry."""
    option_chain = run_async(data.fetch_option_chain("SPY")).value
    now = run_async(data.fetch_clock()).value
    expiries = chain_expiries(option_chain, now.timestamp) if option_chain and now else []
    return {
        "portfolio-period.value": "1M",
        "options-signal-category.value": "all",
        "options-selected-signal.data": {"symbol": "SPY", "timeframe": "1Day", "label": "2-1-2U"},
        "options-chart-labels.value": ["labels"],
        "options-chain-expiry.value": expiries[0].isoformat() if expiries else None,
        "options-chain-moneyness.value": 5,
        "options-symbol.value": "SPY",
    }


# Reads one 5 s tick finds expired: the 2 s account family and the 10 s bars and chains
# (they expire every other tick, so the worst tick has them expired too). The listed
# expiries (300 s) stay, as they do between real ticks.
TICK_EXPIRED = (
    "account", "positions", "orders", "fills", "history", "clock", "quotes", "optquotes",
    "bars", "chain",
)  # fmt: skip


def expire_tick(data: Any) -> None:
    for prefix in TICK_EXPIRED:
        data.invalidate(prefix)


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def _one_book(n: int, repeats: int, out: dict[str, float]) -> None:
    tmp = tempfile.mkdtemp(prefix="bench-refresh-")
    sim = SimProcess(Path(tmp))
    # the modules whose run_async calls are the tabs' upstream waits
    timer = PhaseTimer([portfolio_callbacks, reads, signals, ticket_send, chart, chain, manage])
    tracer = RoundTracer()
    services = None
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": tmp}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(
            simulator_url=sim.url,
            data_dir=Path(tmp),
            # The budget is bench_load --deployment's subject; here it would defer reads.
            alpaca_rate_limit_per_minute=UNMETERED,
        )
        opener = build_services(settings, exit_monitor=False)
        try:
            t0 = time.perf_counter()
            filled = open_book(opener.data, opener.journal, n, sim.advance)
            out[f"book_{n}_filled"] = float(filled)
            out[f"book_{n}_seed_s"] = time.perf_counter() - t0
        finally:
            opener.close()
        # Fresh services for the app: opening the book spent the client's rate-limit
        # budget (180/min), which would otherwise throttle every measured refresh.
        services = build_services(settings, exit_monitor=False)
        app = create_app(services=services)
        values = page_values(services.data)
        keys = {
            (tab, name): callback_key(app, first) for tab, cbs in TABS.items()
            for name, first in cbs.items()
        }  # fmt: skip
        timer.install()
        tracer.install()
        clients = [app.server.test_client() for _ in range(max(len(c) for c in TABS.values()))]

        def call(tab: str, name: str, tick: int, client: Any) -> Phases:
            payload = update_payload(app, keys[(tab, name)], values, tick)
            with timer.measure() as ph:
                status, body = post_callback(client, payload)
            ph.status, ph.nbytes = status, len(body)
            return ph

        for lat in LATENCIES_MS:
            sim.set_faults({"latency_ms": lat} if lat else None)
            samples: dict[tuple[str, str], list[Phases]] = {k: [] for k in keys}
            walls: dict[str, list[float]] = {tab: [] for tab in TABS}
            rounds: dict[str, list[int]] = {tab: [] for tab in TABS}
            for it in range(repeats + 1):  # the first round warms connections and imports
                for tab, cbs in TABS.items():
                    for name in cbs:
                        expire_tick(services.data)
                        with tracer.recording() as spans:
                            ph = call(tab, name, it + 1, clients[0])
                        if it:
                            rounds[tab].append(upstream_rounds(spans))
                        if ph.status != 200:
                            raise RuntimeError(f"{tab}.{name} answered HTTP {ph.status}")
                        if it:
                            samples[(tab, name)].append(ph)
                for tab, cbs in TABS.items():
                    expire_tick(services.data)
                    with ThreadPoolExecutor(len(cbs)) as pool:
                        t0 = time.perf_counter()
                        futs = [
                            pool.submit(call, tab, name, it + 1, clients[i])
                            for i, name in enumerate(cbs)
                        ]
                        for f in futs:
                            f.result()
                        wall = time.perf_counter() - t0
                    if it:
                        walls[tab].append(wall)
            tag = f"{n}_{int(lat)}ms"
            for (tab, name), phs in samples.items():
                for part in PARTS:
                    xs = [getattr(p, part) * 1000 for p in phs]
                    out[f"cb_{tab}_{name}_{tag}_{part}_p50_ms"] = _pct(xs, 50)
                    out[f"cb_{tab}_{name}_{tag}_{part}_p95_ms"] = _pct(xs, 95)
                out[f"cb_{tab}_{name}_{tag}_bytes"] = float(np.median([p.nbytes for p in phs]))
            for tab, xs in walls.items():
                ms = [x * 1000 for x in xs]
                out[f"tab_{tab}_{tag}_wall_p50_ms"] = _pct(ms, 50)
                out[f"tab_{tab}_{tag}_wall_p95_ms"] = _pct(ms, 95)
                out[f"tab_{tab}_{tag}_upstream_rounds_max"] = float(max(rounds[tab]))
                if lat:
                    out[f"tab_{tab}_{tag}_wall_p50_x_latency"] = _pct(ms, 50) / lat
        if n == PROFILE_BOOK:
            _profile_slowest(n, out, lambda t, c: call(t, c, 1, clients[0]), services, sim)
    finally:
        timer.uninstall()
        tracer.uninstall()
        if services is not None:
            services.close()
        sim.stop()


PROFILE_BOOK = 100
PROFILED: dict[str, str] = {}  # the profiled callback and its file, for the report


def _profile_slowest(n: int, out: dict[str, float], call: Any, services: Any, sim: Any) -> None:
    """Profile the callback with the most server time excluding upstream (p95, 0 ms)."""
    from bench.profile_callback import profile_callback

    tag = f"{n}_0ms"
    tab, name = max(
        ((t, c) for t, cbs in TABS.items() for c in cbs),
        key=lambda k: out[f"cb_{k[0]}_{k[1]}_{tag}_excl_upstream_p95_ms"],
    )
    sim.set_faults(None)
    path = profile_callback(
        f"{tab}_{name}_{n}_positions", lambda: call(tab, name), lambda: expire_tick(services.data)
    )
    PROFILED.update(callback=f"{tab}.{name}", path=str(path), book=str(n))


def run(quick: bool = False) -> dict[str, float]:
    out: dict[str, float] = {"repeats": 5.0 if quick else 15.0}
    for n in QUICK_BOOKS if quick else BOOKS:
        _one_book(n, int(out["repeats"]), out)
    return out


if __name__ == "__main__":
    import sys

    for k, v in run(quick="--quick" in sys.argv).items():
        print(f"{k:60s} {v:12.2f}")
