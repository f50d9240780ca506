"""``python -m dashboard.simulator``: serve the simulated Alpaca/ThetaData APIs standalone."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import datetime
from pathlib import Path

from aiohttp import web

from dashboard.simulator.faults import FaultConfig
from dashboard.simulator.server import build_app
from dashboard.simulator.simulation import Simulator, SimulatorConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m dashboard.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--speed", type=float, default=60.0, help="sim seconds per real second; 0 = manual"
    )
    p.add_argument(
        "--start", default=None, help="sim start, ISO 8601 with offset (default: last open)"
    )
    p.add_argument(
        "--snapshot", type=Path, default=None, help="JSON file to restore from and save to"
    )
    p.add_argument("--cash", type=float, default=100_000.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--latency-jitter-ms", type=float, default=0.0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--error-status", type=int, default=500)
    p.add_argument("--rate-limit", action="store_true", help="answer failures with 429")
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--drop-connection", action="store_true")
    p.add_argument("--malformed-json", action="store_true")
    p.add_argument("--trickle-bytes-per-s", type=float, default=0.0)
    p.add_argument("--fault-routes", default="*")
    p.add_argument(
        "--rate-limit-per-minute",
        type=int,
        default=None,
        help="enforce Alpaca's per-account limit: 429 past N Alpaca requests in any 60 s",
    )
    p.add_argument("--fault-seed", type=int, default=0)
    p.add_argument(
        "--thetadata-tier",
        default="pro",
        choices=("free", "value", "standard", "pro"),
        help="ThetaData subscription the Terminal routes emulate",
    )
    return p.parse_args(argv)


def config_from_args(ns: argparse.Namespace) -> SimulatorConfig:
    faults = FaultConfig.from_json(
        {
            "latency_ms": ns.latency_ms,
            "latency_jitter_ms": ns.latency_jitter_ms,
            "error_rate": ns.error_rate,
            "status": ns.error_status,
            "rate_limit": ns.rate_limit,
            "retry_after": ns.retry_after,
            "drop_connection": ns.drop_connection,
            "malformed_json": ns.malformed_json,
            "trickle_bytes_per_s": ns.trickle_bytes_per_s,
            "routes": ns.fault_routes,
            "rate_limit_per_minute": ns.rate_limit_per_minute,
        }
    )
    active = faults != FaultConfig(routes=ns.fault_routes)
    return SimulatorConfig(
        seed=ns.seed,
        speed=ns.speed,
        start=datetime.fromisoformat(ns.start) if ns.start else None,
        snapshot_path=ns.snapshot,
        host=ns.host,
        port=ns.port,
        starting_cash=ns.cash,
        faults=faults if active else None,
        fault_seed=ns.fault_seed,
        thetadata_tier=ns.thetadata_tier,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = config_from_args(parse_args(argv))
    sim = Simulator(config)
    state = sim.state_json()
    print(
        f"simulator on http://{config.host}:{config.port}  sim time {state['sim_time']}  speed {config.speed:g}"
    )
    web.run_app(build_app(sim), host=config.host, port=config.port, print=None, access_log=None)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    main()
