"""The in-process simulator: clock + market + option chains + paper broker + snapshots.

The HTTP server is a thin skin over this object; tests may also drive it directly
(``advance``), which is why all state changes go through its lock.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.simulator.broker import PaperBroker, iso
from dashboard.simulator.calendar import SessionCalendar
from dashboard.simulator.chains import OptionChains
from dashboard.simulator.clock import SimClock
from dashboard.simulator.faults import FaultConfig, FaultInjector
from dashboard.simulator.injected import InjectedRecords
from dashboard.simulator.market import DEFAULT_UNIVERSE, Market, SymbolSpec
from dashboard.simulator.thetadata_routes import THETADATA_TIERS

__all__ = ["Simulator", "SimulatorConfig", "default_start"]

log = logging.getLogger(__name__)
_SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How to run the simulator. ``speed=0`` gives a manual clock (``advance`` only)."""

    seed: int = 7
    speed: float = 60.0
    start: datetime | None = None  # default: the most recent session open (real date)
    snapshot_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    starting_cash: float = 100_000.0
    minute_sessions: int = 40
    universe: tuple[SymbolSpec, ...] = DEFAULT_UNIVERSE
    faults: FaultConfig | None = None
    fault_seed: int = 0
    rate_limit: int = 200
    autosave_seconds: float = 15.0
    tick_seconds: float = 0.25
    # Closed hours pass this many times faster than open ones (speed > 0 only), so a demo
    # shows the close and the next open within minutes instead of sitting closed overnight.
    closed_speedup: float = 20.0
    # The ThetaData subscription the Terminal routes emulate (free | value | standard |
    # pro): routes above it are refused as the real Terminal refuses them.
    thetadata_tier: str = "pro"
    extra: dict[str, Any] = field(default_factory=dict)


def default_start(calendar: SessionCalendar, real_now: datetime | None = None) -> datetime:
    """The most recent session open at or before the real time (so a demo opens live)."""
    now = real_now or datetime.now(UTC)
    d = calendar.ny_date(now)
    if calendar.is_session(d) and now >= calendar.open_at(d):
        return calendar.open_at(d)
    return calendar.open_at(calendar.prev_session(d))


class Simulator:
    """Everything the server serves, behind one lock."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.calendar = SessionCalendar()
        self.lock = threading.RLock()
        snap = self._read_snapshot(config.snapshot_path)
        seed = int(snap["seed"]) if snap else config.seed
        if snap:
            start = datetime.fromisoformat(snap["start"])
            now = datetime.fromisoformat(snap["sim_time"])
        else:
            start = (config.start or default_start(self.calendar)).astimezone(UTC)
            now = start
        self.seed = seed
        self.start = start
        anchor = self.calendar.prev_session(self.calendar.ny_date(start))
        self.clock = SimClock(now, config.speed)
        self.market = Market(
            seed,
            anchor,
            universe=config.universe,
            minute_sessions=config.minute_sessions,
            calendar=self.calendar,
        )
        self.chains = OptionChains(self.market, seed)
        self.broker = PaperBroker(
            self.market,
            self.chains,
            created_at=start,
            starting_cash=config.starting_cash,
            seed=seed,
        )
        if snap:
            self.broker.load_state(snap["broker"])
        self.faults = FaultInjector(config.faults, seed=config.fault_seed)
        self.faults.rate.limit = config.rate_limit
        if config.thetadata_tier not in THETADATA_TIERS:
            raise ValueError(f"thetadata_tier must be one of {', '.join(THETADATA_TIERS)}")
        self.thetadata_tier = config.thetadata_tier
        self.injected = InjectedRecords()

    # ---- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def sync(self) -> datetime:
        """Bring the broker up to the current simulated time and return that time."""
        with self.lock:
            now = self.clock.now()
            self.market.ensure_horizon(self.calendar.ny_date(now) + timedelta(days=30))
            self.broker.advance_to(now)
            return now

    def advance(self, minutes: float) -> datetime:
        with self.lock:
            self.clock.advance(minutes)
            return self.sync()

    def compress_closed(self, real_seconds: float) -> datetime:
        """While the market is closed, move the clock on faster, never past the next open."""
        with self.lock:
            now = self.clock.now()
            speed = self.clock.speed
            if speed <= 0 or self.config.closed_speedup <= 1 or self.calendar.is_open(now):
                return now
            extra = timedelta(seconds=real_seconds * speed * (self.config.closed_speedup - 1))
            self.clock.jump_to(min(now + extra, self.calendar.next_open(now)))
            return self.clock.now()

    def advance_to_open(self) -> datetime:
        """Jump to the next session open (tests use this to get an open market)."""
        with self.lock:
            self.clock.jump_to(self.calendar.next_open(self.clock.now()))
            return self.sync()

    def state_json(self) -> dict[str, Any]:
        now = self.now()
        return {
            "sim_time": iso(now),
            "speed": self.clock.speed,
            "seed": self.seed,
            "start": iso(self.start),
            "is_open": self.calendar.is_open(now),
            "regime": self.market.regime_on(self.calendar.ny_date(now)),
            "anchor": self.market.anchor.isoformat(),
            "minute_start": self.market.minute_start.isoformat(),
            "faults": self.faults.config.to_json() if self.faults.config else None,
        }

    # ---- snapshots ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            now = self.sync()
            return {
                "version": _SNAPSHOT_VERSION,
                "seed": self.seed,
                "start": self.start.isoformat(),
                "sim_time": now.isoformat(),
                "broker": self.broker.to_state(),
            }

    def save(self, path: Path | None = None) -> Path | None:
        """Write the snapshot atomically (temp file + rename); no-op without a path."""
        target = path or self.config.snapshot_path
        if target is None:
            return None
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), separators=(",", ":")))
        os.replace(tmp, target)
        return target

    @staticmethod
    def _read_snapshot(path: Path | None) -> dict[str, Any] | None:
        if path is None or not Path(path).exists():
            return None
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            log.warning("simulator snapshot %s is unreadable; starting fresh", path)
            return None
        if data.get("version") != _SNAPSHOT_VERSION:
            log.warning("simulator snapshot %s has another version; starting fresh", path)
            return None
        return data
