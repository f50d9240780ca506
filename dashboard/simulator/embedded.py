"""Run the simulator on its own event loop in a daemon thread: demo mode's embedded market
and broker, and the test bed.

``start_simulator_thread`` returns once the port is bound, so the first request never
races the server start; ``port=0`` picks a free loopback port.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web

from dashboard.simulator.faults import FaultConfig
from dashboard.simulator.server import build_app
from dashboard.simulator.simulation import Simulator, SimulatorConfig
from dashboard.simulator.thetadata_routes import THETADATA_TIERS

__all__ = ["SimulatorConfig", "SimulatorHandle", "start_simulator_thread"]


@dataclass
class SimulatorHandle:
    """A running simulator: its base URL, the in-process ``Simulator``, and ``stop()``."""

    url: str
    port: int
    sim: Simulator
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _runner: web.AppRunner = field(repr=False)
    _stopped: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """Alpaca auth headers the simulator accepts."""
        return {"APCA-API-KEY-ID": "sim-key", "APCA-API-SECRET-KEY": "sim-secret"}

    def now(self) -> datetime:
        return self.sim.now()

    def advance(self, minutes: float) -> datetime:
        return self.sim.advance(minutes)

    def advance_to_open(self) -> datetime:
        return self.sim.advance_to_open()

    def set_faults(
        self, faults: FaultConfig | dict[str, Any] | None, seed: int | None = None
    ) -> None:
        cfg = FaultConfig.from_json(faults) if isinstance(faults, dict) else faults
        self.sim.faults.set(cfg, seed=seed)

    def clear_faults(self) -> None:
        self.sim.faults.clear()

    def inject(self, kind: str, records: list[Any]) -> None:
        """Serve raw ``records`` ("positions", "orders" or "fills") beside the broker's."""
        self.sim.injected.set(kind, records)

    def clear_injected(self) -> None:
        self.sim.injected.clear()

    def set_thetadata_tier(self, tier: str) -> None:
        """The ThetaData subscription the Terminal routes emulate from now on."""
        if tier not in THETADATA_TIERS:
            raise ValueError(f"tier must be one of {', '.join(THETADATA_TIERS)}")
        self.sim.thetadata_tier = tier

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client pointed at the simulator with auth headers set."""
        return httpx.Client(base_url=self.url, headers=self.headers, **kwargs)

    def stop(self) -> None:
        """Stop serving, save the snapshot (if configured) and join the thread."""
        if self._stopped:
            return
        self._stopped = True
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            fut.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulator_thread(config: SimulatorConfig | None = None) -> SimulatorHandle:
    """Build the simulator, serve it on ``config.host:config.port`` and return a handle."""
    config = config or SimulatorConfig()
    sim = Simulator(config)
    app = build_app(sim)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
            loop.run_until_complete(site.start())
            server = site._server
            box["port"] = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            box["runner"] = runner
        except BaseException as exc:  # report start failures to the caller
            box["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="strat-simulator", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in box:
        raise RuntimeError(f"simulator failed to start: {box['error']}") from box["error"]
    if "port" not in box:
        raise RuntimeError("simulator did not start within 30 s")
    port = int(box["port"])
    return SimulatorHandle(
        url=f"http://{config.host}:{port}",
        port=port,
        sim=sim,
        _loop=loop,
        _thread=thread,
        _runner=box["runner"],
    )
