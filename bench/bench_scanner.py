"""STRAT scanner benchmark against the simulator (issue 25; one run).

Figures:
- one cold refresh of the board's bars for the simulator's 8 equities × the 8 scan
  timeframes, batched (``fetch_bars_many``: one multi-symbol request per served
  timeframe, concurrently; 4Hour rides on 30Min, 1Quarter on 1Month) against the
  sequential version (one ``fetch_bars`` per symbol and timeframe, awaited one by one),
  with ``LATENCY_MS`` injected on every simulator reply: upstream requests and wall time
  of each, and their ratios. Goal: at most one request per timeframe.
- the planned requests per cold refresh for a full watchlist (``MAX_WATCHLIST_SYMBOLS``
  × 8 timeframes) on Alpaca's free IEX feed and in the simulator
  (``data_loaders.bars.requests_per_refresh``), and per minute at one cold scan per
  bars TTL. Goal: one per timeframe, well inside 200 a minute.
- scan compute (``strat.watchlist.board_from_bars``: scan, ideas, TFC, ranking) for 30
  symbols × 8 timeframes: the simulator's bars of its 8 equities, relabelled to 30
  names (the simulator lists no more), judged during the session: at a broker time
  5 minutes into the newest 15-minute bar, so every frame's last bar is live (the
  simulator's clock stands at the next open, where no bar would move between two
  refreshes). ``scan_compute_cold_ms``: a scan without a memo. ``scan_compute_ms``
  (the goal figure): a refresh, i.e. a scan with the memo warm from the previous scan
  (``strat.memo.ScanMemo``, as ``signal_scan`` keeps one per process) after every
  frame's live bar has moved by a tick (its close, and its high when the close passes
  it); the moved bars are built before timing, as the loader builds its frames (one
  float block), and refreshes alternate between two such sets. Best of ``REPEAT`` each, timed after the simulator and the clients have
  stopped (their threads would take the GIL). Goal: under 50 ms per refresh.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from bench._book import UNMETERED
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.data_loaders.bars import requests_per_refresh
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataResult
from dashboard.services import demo_settings
from dashboard.settings import load_settings
from dashboard.signal_scan import LOOKBACK_BARS
from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread
from dashboard.strat.memo import ScanMemo
from dashboard.strat.timeframes import is_bar_closed
from dashboard.strat.watchlist import SIGNAL_LOOKBACKS, SIGNAL_TIMEFRAMES, board_from_bars
from dashboard.watchlist_store import MAX_WATCHLIST_SYMBOLS

LATENCY_MS = 50.0
SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN")
REPEAT = 20  # best of: the machine is shared, and one scan now takes a fraction of a second


def _bars_requests(svc: AsyncDataService) -> int:
    return sum(n for k, n in svc.alpaca.data.calls.items() if "stocks/bars" in k)


def run() -> dict[str, float]:
    sim = start_simulator_thread(SimulatorConfig(seed=7, speed=0.0, port=0))
    tmp = tempfile.mkdtemp(prefix="bench-scanner-")
    services: list[AsyncDataService] = []
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": tmp}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(
            data_dir=Path(tmp), alpaca_rate_limit_per_minute=UNMETERED
        )

        def cold() -> AsyncDataService:
            svc = AsyncDataService.from_settings(settings)
            services.append(svc)
            run_async(svc.fetch_clock())  # warm the connection and the broker clock
            return svc

        lookbacks = dict(SIGNAL_LOOKBACKS)
        sim.set_faults({"latency_ms": LATENCY_MS})

        seq_svc = cold()

        async def sequential() -> None:
            for sym in SYMBOLS:
                for tf in SIGNAL_TIMEFRAMES:
                    await seq_svc.fetch_bars(sym, tf, lookback=lookbacks[tf])

        t0 = time.perf_counter()
        run_async(sequential(), timeout=600)
        seq_s = time.perf_counter() - t0
        seq_requests = _bars_requests(seq_svc)

        batch_svc = cold()
        t0 = time.perf_counter()
        bars = run_async(
            batch_svc.fetch_bars_many(
                SYMBOLS, SIGNAL_TIMEFRAMES, lookback=LOOKBACK_BARS, lookbacks=lookbacks
            ),
            timeout=600,
        )
        batch_s = time.perf_counter() - t0
        batch_requests = _bars_requests(batch_svc)
        sim.clear_faults()
        now = run_async(batch_svc.fetch_clock()).value
        assert now is not None

        iex = requests_per_refresh(MAX_WATCHLIST_SYMBOLS, lookbacks, feed="iex")
        sim_plan = requests_per_refresh(MAX_WATCHLIST_SYMBOLS, lookbacks, feed=None)
        ttl = batch_svc.bars_ttl  # at most one cold scan per bars TTL
        figures = {
            "latency_ms": LATENCY_MS,
            "symbols_fetched": float(len(SYMBOLS)),
            "timeframes": float(len(SIGNAL_TIMEFRAMES)),
            "sequential_requests": float(seq_requests),
            "batched_requests": float(batch_requests),
            "requests_ratio": seq_requests / batch_requests,
            "sequential_seconds": seq_s,
            "batched_seconds": batch_s,
            "wall_ratio": seq_s / batch_s,
            "planned_requests_30x8_iex": float(iex),
            "planned_requests_30x8_simulator": float(sim_plan),
            "bars_ttl_seconds": ttl,
            "planned_requests_per_minute_iex": iex * 60.0 / ttl,
        }
    finally:
        for svc in services:
            svc.close_sync()
        sim.stop()
    # Compute is timed with the simulator and the clients stopped, so their threads do
    # not take the GIL from the scan.
    return {**figures, **_scan_compute(bars)}


Bars = Mapping[tuple[str, str], DataResult[pd.DataFrame]]


def _moved(bars: Bars, ticks: int) -> dict[tuple[str, str], DataResult[pd.DataFrame]]:
    """Every frame's last bar moved: close up ``ticks`` cents, the high with it. Each
    frame is built from a dict of columns, as the loader builds it (one float block;
    ``DataFrame.assign`` would leave a block per column, which reads slower)."""
    out: dict[tuple[str, str], DataResult[pd.DataFrame]] = {}
    for key, res in bars.items():
        assert res.value is not None
        cols = {c: res.value[c].to_numpy(copy=True) for c in res.value.columns}
        close, high = cols["close"], cols["high"]
        close[-1] = round(close[-1] + 0.01 * ticks, 2)
        high[-1] = max(high[-1], close[-1])
        out[key] = dataclasses.replace(res, value=pd.DataFrame(cols, index=res.value.index))
    return out


def _best_ms(scans: list[Bars], now: datetime, memo: ScanMemo | None) -> float:
    best = float("inf")
    for i in range(REPEAT):
        t0 = time.perf_counter()
        board_from_bars(scans[i % len(scans)], now, SIGNAL_TIMEFRAMES, memo=memo)
        best = min(best, time.perf_counter() - t0)
    return best * 1000.0


def _scan_compute(bars: Bars) -> dict[str, float]:
    """Cold scans and refreshes for 30 names over the simulator's 8 equities' bars."""
    names = [f"{SYMBOLS[i % len(SYMBOLS)]}{i:02d}" for i in range(MAX_WATCHLIST_SYMBOLS)]
    wide = {
        (name, tf): bars[(SYMBOLS[i % len(SYMBOLS)], tf)]
        for i, name in enumerate(names)
        for tf in SIGNAL_TIMEFRAMES
    }
    last = {k: r.value.index[-1] for k, r in wide.items() if r.value is not None}
    now = max(t for (_s, tf), t in last.items() if tf == "15Min") + timedelta(minutes=5)
    now = now.to_pydatetime()
    live = sum(not is_bar_closed(k[1], t.to_pydatetime(), now) for k, t in last.items())
    first, second = _moved(wide, 0), _moved(wide, 1)
    rows, errors, scanned = board_from_bars(first, now, SIGNAL_TIMEFRAMES)
    assert not errors and scanned == len(wide)
    cold_ms = _best_ms([first], now, None)
    memo = ScanMemo()
    board_from_bars(first, now, SIGNAL_TIMEFRAMES, memo=memo)  # the previous refresh
    refresh_ms = _best_ms([second, first], now, memo)  # each scan moves every live bar
    warm = board_from_bars(second, now, SIGNAL_TIMEFRAMES, memo=memo)
    assert warm == board_from_bars(second, now, SIGNAL_TIMEFRAMES)  # the memo changes nothing
    return {
        "scan_frames": float(len(wide)),
        "scan_live_frames": float(live),
        "scan_ideas": float(len(rows)),
        "scan_compute_cold_ms": cold_ms,
        "scan_compute_ms": refresh_ms,
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:34s} {value:,.3f}")
