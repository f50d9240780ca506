"""The simulator in its own process, counting the upstream requests it serves.

Benchmarks run the simulator apart from the app so that its pricing work never shares
the app's GIL or counts as the app's time. The child adds one aiohttp middleware that
counts each request by method, path and query (time-window parameters dropped, so one
cached read is one key) and rewrites the counts to a JSON file every half second.
``python -m bench._simproc --port N --counts FILE`` is the child; ``SimProcess`` the parent.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

import httpx

_TIME_PARAMS = {"start", "end", "page_token", "after", "until", "date", "expiration_gte"}


def endpoint_key(method: str, path: str, query: str) -> str:
    """``GET /v2/stocks/bars?symbols=SPY&timeframe=1Day``: one key per cached read."""
    q = sorted((k, v) for k, v in parse_qsl(query) if k not in _TIME_PARAMS)
    return f"{method} {path}" + (f"?{urlencode(q)}" if q else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child(argv: list[str] | None = None) -> None:
    from aiohttp import web

    from dashboard.simulator.server import build_app
    from dashboard.simulator.simulation import Simulator, SimulatorConfig

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--counts", type=Path, required=True)
    p.add_argument("--cash", type=float, default=1e9)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--speed", type=float, default=0.0)
    ns = p.parse_args(argv)
    sim = Simulator(
        SimulatorConfig(seed=ns.seed, speed=ns.speed, port=ns.port, starting_cash=ns.cash)
    )
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/_sim"):
            with lock:
                counts[endpoint_key(request.method, request.path, request.query_string)] += 1
        return await handler(request)

    def dump() -> None:
        tmp = ns.counts.with_suffix(".tmp")
        while True:
            with lock:
                snap = dict(counts)
            tmp.write_text(json.dumps(snap))
            os.replace(tmp, ns.counts)
            time.sleep(0.5)

    threading.Thread(target=dump, daemon=True).start()
    app = build_app(sim)
    app.middlewares.insert(0, count)
    web.run_app(app, host="127.0.0.1", port=ns.port, print=None, access_log=None)


class SimProcess:
    """A simulator child process: its URL, fault and clock controls, and request counts."""

    headers: ClassVar[dict[str, str]] = {
        "APCA-API-KEY-ID": "sim-key",
        "APCA-API-SECRET-KEY": "sim-secret",
    }

    def __init__(self, workdir: Path, *, speed: float = 0.0, cash: float = 1e9) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.counts_path = workdir / "sim-counts.json"
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "bench._simproc", "--port", str(self.port),
                "--counts", str(self.counts_path), "--speed", str(speed), "--cash", str(cash),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._http = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self._http.get("/_sim/state").is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the benchmark simulator did not start")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def set_faults(self, faults: dict[str, Any] | None) -> None:
        if faults:
            self._http.post("/_sim/faults", json=faults).raise_for_status()
        else:
            self._http.delete("/_sim/faults").raise_for_status()

    def rate(self) -> dict[str, Any]:
        """Alpaca requests served (total), in the last 60 s, and refused with 429."""
        return dict(self._http.get("/_sim/rate").json())

    def set_speed(self, speed: float) -> None:
        self._http.post("/_sim/speed", json={"speed": speed}).raise_for_status()

    def advance(self, *, minutes: float = 0.0, to_open: bool = False) -> Any:
        body: dict[str, Any] = {"to_open": True} if to_open else {"minutes": minutes}
        return self._http.post("/_sim/advance", json=body).json()

    def counts(self) -> Counter[str]:
        time.sleep(0.6)  # let the child write its latest counts
        try:
            return Counter(json.loads(self.counts_path.read_text()))
        except (OSError, ValueError):
            return Counter()

    def stop(self) -> None:
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


if __name__ == "__main__":
    _child()
