"""The trade monitor: one loop for armed entries and managed exits (imperative shell
around ``arming.evaluate_arming`` and ``exits.evaluate_exits``).

Each pass (every ``settings.refresh_seconds``): take or renew the leader lease in the
journal database, sync entry, exit and broker-stop orders with the broker, and — while
the market is open and prices are fresh — send the entries and exits the pure rules ask
for. Both are safe to fire twice:

- an exit: the journal moves a trade open → exiting atomically before sending, and the
  exit's ``client_order_id`` is derived from the trade id and attempt number;
- an armed entry: the journal moves it armed → triggered atomically, its one trade is
  created under the request key ``armed-<id>`` (a repeat finds the same trade), and that
  trade's ``client_order_id`` is derived from its id, so the broker refuses a second order.

The lease only saves work; it is not what makes orders unique. Arming windows are closed
even while the market is shut. After every pass it makes as leader, the monitor calls
its ``pass_hooks`` (the alert engine) with the pass's record.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dashboard.data_loaders.budget import Priority, budget_priority
from dashboard.models import DataState
from dashboard.trading.arming import ArmedEntry, ArmingDecision
from dashboard.trading.entries import EntryPass, evaluate_armed_entries
from dashboard.trading.exits import ExitConfig, ExitDecision, evaluate_exits
from dashboard.trading.journal import Journal, JournalTrade, TradeStatus
from dashboard.trading.orders import (
    PlaceResult,
    place_exit,
    record_fill_context,
    sync_broker_stop,
    sync_trade,
)

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.settings import Settings

__all__ = ["LEASE_NAME", "ExitMonitor", "MonitorPass", "PassHook", "TradeMonitor", "evaluate_exits"]

log = logging.getLogger(__name__)
LEASE_NAME = "exit-monitor"


@dataclass(frozen=True, slots=True)
class MonitorPass:
    """What one pass did (for logs, tests and a status line)."""

    at: datetime
    leader: bool
    synced: int = 0
    market_open: bool | None = None
    skipped: str | None = None  # why no exits were evaluated
    decisions: tuple[ExitDecision, ...] = ()
    results: tuple[PlaceResult, ...] = ()
    repriced: tuple[int, ...] = ()  # trades whose unfilled exit limit was canceled
    errors: tuple[str, ...] = field(default=())
    armed: int = 0  # armed entries looked at
    entry_decisions: tuple[ArmingDecision, ...] = ()
    entry_results: tuple[PlaceResult, ...] = ()


# Called after every pass with its record (sync or async); an error is logged, not raised.
PassHook = Callable[[MonitorPass], Any]  # sync, or returns an awaitable


def exit_config_for(settings: Settings) -> ExitConfig:
    """The monitor's rules from the settings: the Penny list in force
    (``DASHBOARD_PENNY_FILE``, ``DASHBOARD_PENNY_SYMBOLS``) prices exits and armed entries,
    as it does the ticket."""
    return ExitConfig(ticks=settings.tick_table())


class ExitMonitor:
    """Armed entries and software OCO exits for option trades; one instance per process,
    one leader overall (``TradeMonitor`` is the same class)."""

    def __init__(
        self,
        data: AsyncDataService,
        journal: Journal,
        *,
        interval: float | None = None,
        config: ExitConfig | None = None,
        holder: str | None = None,
        lease_seconds: float | None = None,
        reprice_after: timedelta = timedelta(seconds=30),
        pass_hooks: Sequence[PassHook] = (),
    ) -> None:
        self.data = data
        self.journal = journal
        self.interval = float(interval if interval is not None else data.settings.refresh_seconds)
        self.config = config or ExitConfig()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_seconds = lease_seconds or max(3.0 * self.interval, 15.0)
        self.reprice_after = reprice_after
        self.last_pass: MonitorPass | None = None
        self.pass_hooks: list[PassHook] = list(pass_hooks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- one pass -----------------------------------------------------------------------------
    async def run_once(self, now: datetime | None = None) -> MonitorPass:
        """One pass, then (as leader) the pass hooks, each isolated from the others.

        The pass's reads draw from the request budget's order class: under pressure
        interval refreshes yield to the monitor, never the other way round. The hooks (the
        alert engine) run after it, at the refresh class."""
        with budget_priority(Priority.ORDER):
            result = await self._run_once(now)
        if result.leader:  # the hooks (alerts) act once, in the process that leads
            await self._call_hooks(result)
        return result

    def add_pass_hook(self, hook: PassHook) -> None:
        """Run ``hook(pass)`` after every pass this process makes as leader."""
        self.pass_hooks.append(hook)

    async def _call_hooks(self, result: MonitorPass) -> None:
        for hook in list(self.pass_hooks):
            try:
                out = hook(result)
                if inspect.isawaitable(out):
                    await out
            except Exception:  # a hook must never cost the monitor its next pass
                log.exception("monitor pass hook %r failed", hook)

    async def _run_once(self, now: datetime | None) -> MonitorPass:
        """Lease → sync → (market open, fresh prices) evaluate → exit. Never raises for I/O."""
        now = now or datetime.now(UTC)
        leader = await asyncio.to_thread(
            self.journal.acquire_lease, LEASE_NAME, self.holder, self.lease_seconds, now
        )
        if not leader:
            result = MonitorPass(at=now, leader=False, skipped="another monitor holds the lease")
            self.last_pass = result
            return result
        errors: list[str] = []
        trades = await asyncio.to_thread(self.journal.active_trades)
        synced: list[JournalTrade] = []
        for trade in trades:
            trade = await sync_trade(self.data, self.journal, trade, now=now)
            trade = await sync_broker_stop(self.data, self.journal, trade, now=now)
            synced.append(trade)
        repriced = await self._cancel_stale_exits(synced, now, errors)
        open_trades = [t for t in synced if t.status is TradeStatus.OPEN and t.open_qty > 0]
        armed = await asyncio.to_thread(self.journal.active_armed)
        if not open_trades and not armed:
            return self._done(now, len(trades), None, "no open trades", errors, repriced)

        clock = await self.data.fetch_clock()
        if clock.value is None or clock.state is not DataState.FRESH:
            return self._done(
                now, len(trades), None, f"clock unavailable ({clock.error})", errors, repriced
            )
        market_now = clock.value.timestamp
        if not clock.value.is_open:
            # Arming windows still end while the market is shut; nothing trades.
            entries = await evaluate_armed_entries(
                self.data,
                self.journal,
                armed,
                market_now,
                market_open=False,
                now=now,
                ticks=self.config.ticks,
            )
            errors.extend(entries.errors)
            return self._done(
                now, len(trades), False, "market closed", errors, repriced, armed, entries
            )

        entries = await evaluate_armed_entries(
            self.data,
            self.journal,
            armed,
            market_now,
            market_open=True,
            now=now,
            ticks=self.config.ticks,
        )
        errors.extend(entries.errors)
        if not open_trades:
            return self._done(
                now, len(trades), True, "no open trades", errors, repriced, armed, entries
            )

        underlyings = sorted({t.underlying for t in open_trades})
        quotes = await self.data.fetch_quotes(underlyings)
        if quotes.state is not DataState.FRESH or not quotes.value:
            # Never act on a stale price: a stale "target hit" could sell at the wrong time.
            return self._done(
                now,
                len(trades),
                True,
                f"underlying prices not fresh ({quotes.error})",
                errors,
                repriced,
                armed,
                entries,
            )
        prices = {s: q.mid for s, q in quotes.value.items() if q.bid > 0 and q.ask > 0}
        options = await self.data.fetch_option_quotes(
            sorted({t.contract_symbol for t in open_trades})
        )
        option_quotes = options.value if options.state is DataState.FRESH and options.value else {}
        for t in open_trades:
            if t.fill_underlying_price is None:
                await record_fill_context(
                    self.journal, t, prices.get(t.underlying), option_quotes.get(t.contract_symbol)
                )

        # Expiry rules run on the broker's clock: the simulator's day is not the wall clock's.
        decisions = evaluate_exits(open_trades, prices, option_quotes, market_now, self.config)
        results = []
        for d in decisions:
            log.info("exit trade %s: %s (%s)", d.trade_id, d.reason, d.detail)
            res = await place_exit(
                self.data,
                self.journal,
                d.trade_id,
                d.reason,
                limit=d.limit_price,
                underlying_price=d.underlying_price,
                now=now,
            )
            if not res.ok:
                errors.append(res.message)
            results.append(res)
        out = MonitorPass(
            at=now,
            leader=True,
            synced=len(trades),
            market_open=True,
            decisions=tuple(decisions),
            results=tuple(results),
            repriced=tuple(repriced),
            errors=tuple(errors),
            armed=len(armed),
            entry_decisions=entries.decisions,
            entry_results=entries.results,
        )
        self.last_pass = out
        return out

    def _done(
        self,
        now: datetime,
        synced: int,
        market_open: bool | None,
        skipped: str,
        errors: list[str],
        repriced: list[int],
        armed: list[ArmedEntry] | None = None,
        entries: EntryPass | None = None,
    ) -> MonitorPass:
        out = MonitorPass(
            at=now,
            leader=True,
            synced=synced,
            market_open=market_open,
            skipped=skipped,
            repriced=tuple(repriced),
            errors=tuple(errors),
            armed=len(armed or ()),
            entry_decisions=entries.decisions if entries is not None else (),
            entry_results=entries.results if entries is not None else (),
        )
        self.last_pass = out
        return out

    async def _cancel_stale_exits(
        self, trades: list[JournalTrade], now: datetime, errors: list[str]
    ) -> list[int]:
        """Cancel exit limits that have not filled for a while; the next pass re-prices them."""
        out = []
        for t in trades:
            if (
                t.status is TradeStatus.EXITING
                and t.exit_order_id
                and t.exit_order_status in ("new", "accepted", "pending_new", "partially_filled")
                and t.exit_requested_at is not None
                and now - t.exit_requested_at >= self.reprice_after
            ):
                try:
                    await self.data.cancel_order(t.exit_order_id)
                    out.append(t.id)
                except Exception as exc:  # filled meanwhile, or the broker is away
                    errors.append(f"trade {t.id}: cancel of stale exit failed: {exc}")
        return out

    def release(self) -> None:
        self.journal.release_lease(LEASE_NAME, self.holder)

    # ---- background thread --------------------------------------------------------------------
    def start(self) -> None:
        """Run passes every ``interval`` seconds in a daemon thread (in-process mode)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="exit-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            self.release()
        except Exception:
            log.exception("could not release the exit-monitor lease")

    def _run(self) -> None:
        from dashboard.data_loaders.loop import run_async

        while not self._stop.is_set():
            try:
                run_async(self.run_once(), timeout=max(60.0, 4 * self.interval))
            except Exception:  # one bad pass must not end the monitor
                log.exception("exit monitor pass failed")
            self._stop.wait(self.interval)


# The monitor watches entries as well as exits; both names are the same class.
TradeMonitor = ExitMonitor
