"""The alert engine: the shell that gathers the rules' inputs, runs them and records what
they raise.

It runs in the trade monitor's process, as one of the monitor's pass hooks: at the end
of every pass made while that process holds the monitor's lease (``on_pass``), so alerts
fire with no page open and one process evaluates them. Each pass it reads the journal's
trades and the underlyings' quotes (every pass), the watchlist's signal board and the
account's risk (every ``scan_seconds``, the first one interval after start), and the data
service's health; the pure rules (``alerts.rules``) turn them into events, and the store
keeps one row per event key.
Webhook delivery runs in its own thread (``alerts.webhooks``) and never in the pass.

A dead monitor cannot say it is dead, so the heartbeat it writes each pass is judged by
a watcher thread (``start(watch=True)``) in every web process: that is where "heartbeat
lost" and its recovery come from.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dashboard.alerts.kinds import AlertKind
from dashboard.alerts.records import (
    AlertEvent,
    ConditionState,
    SignalSubscriptions,
    SourceHealth,
    StoredAlert,
)
from dashboard.alerts.rules import (
    AlertConfig,
    daily_loss_events,
    heartbeat_events,
    heat_events,
    signal_events,
    stale_events,
    trade_events,
)
from dashboard.alerts.store import AlertStore
from dashboard.alerts.webhooks import WebhookDelivery, resolve_format
from dashboard.analytics.risk import portfolio_heat
from dashboard.models import DataState
from dashboard.signal_scan import scan_signals
from dashboard.trading.records import JournalTrade, TradeStatus
from dashboard.views.portfolio import trades_by_contract
from dashboard.views.read_notes import option_risk_positions
from dashboard.views.risk import journal_stops, underlying_prices

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.settings import Settings
    from dashboard.trading.exit_monitor import MonitorPass
    from dashboard.trading.journal import Journal

__all__ = ["AlertEngine", "AlertPass", "alert_config", "webhook_for"]

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=2)  # closed trades older than this are history, not news
_SIGNAL_KINDS = (AlertKind.SIGNAL_PENDING, AlertKind.SIGNAL_TRIGGERED)
_RISK_KINDS = (AlertKind.HEAT_OVER, AlertKind.DAILY_LOSS)
_NO_STATE = ConditionState()


def alert_config(settings: Settings) -> AlertConfig:
    """The rules' thresholds and switches from the ``DASHBOARD_ALERT_*`` settings."""
    return AlertConfig(
        off=settings.alert_rules_off,
        near_stop_pct=settings.alert_near_stop_pct,
        expiry_days=settings.alert_expiry_days,
        heat_limit_pct=settings.heat_limit_pct,
        daily_loss_limit_pct=settings.daily_loss_limit_pct,
        heartbeat_intervals=settings.alert_heartbeat_intervals,
        stale_seconds=settings.alert_stale_seconds,
        signal_timeframes=settings.alert_signal_timeframes,
    )


def webhook_for(settings: Settings, store: AlertStore, **kwargs: Any) -> WebhookDelivery | None:
    """The webhook delivery the settings configure, or None without a URL."""
    url = settings.alert_webhook_url
    if url is None:
        return None
    fmt = resolve_format(settings.alert_webhook_format, url.get_secret_value())
    return WebhookDelivery(
        store,
        url,
        fmt,
        mode=settings.mode_label,
        per_minute=settings.alert_webhook_per_minute,
        max_attempts=settings.alert_webhook_attempts,
        **kwargs,
    )


@dataclass(frozen=True, slots=True)
class AlertPass:
    """What one engine pass did."""

    at: datetime  # the monitor pass's time (machine clock)
    broker_at: datetime | None
    recorded: tuple[StoredAlert, ...] = ()
    evaluated: tuple[str, ...] = ()  # rule groups that ran: trades, signals, risk, system
    skipped: tuple[str, ...] = ()  # "signals: board stale", …
    errors: tuple[str, ...] = field(default=())


class AlertEngine:
    """Evaluates the alert rules each monitor pass and records new alerts, once each."""

    def __init__(
        self,
        data: AsyncDataService,
        journal: Journal,
        settings: Settings | None = None,
        *,
        store: AlertStore | None = None,
        delivery: WebhookDelivery | None = None,
        monitor_interval: float | None = None,
        watchlist: Callable[[], Sequence[str]] | None = None,
        machine_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.data = data
        self.journal = journal
        self.settings = settings or data.settings
        self.enabled = self.settings.alerts_enabled
        self.config = alert_config(self.settings)
        self.store = store or AlertStore.of(journal)
        self.delivery = delivery
        self.monitor_interval = float(monitor_interval or self.settings.refresh_seconds)
        self.scan_seconds = self.settings.alert_scan_seconds
        self._watchlist = watchlist or (lambda: self.settings.watchlist)
        self._machine_clock = machine_clock
        self._monotonic = monotonic
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._down_since: dict[str, float] = {}
        self._last_scan: float | None = None
        self._since: datetime | None = None
        self._watch_started: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_pass: AlertPass | None = None

    # ---- recording (also for other code: the trade monitor's armed entries) -----------------
    def record(self, events: Iterable[AlertEvent]) -> list[StoredAlert]:
        """Store new events (once per key), log them, and wake the webhook delivery."""
        new = self.store.record(events, deliver=self.delivery is not None)
        for a in new:
            log.info("alert %s: %s", a.kind.value, a.title)
        if new and self.delivery is not None:
            self.delivery.wake()
        return new

    # ---- the monitor's pass hook -------------------------------------------------------------
    async def on_pass(self, monitor_pass: MonitorPass) -> AlertPass:
        """Write the heartbeat, then evaluate every rule that is due; never raises for I/O."""
        now = monitor_pass.at
        errors: list[str] = []
        try:
            await asyncio.to_thread(self.store.beat, self.holder, now, self.monitor_interval)
        except Exception as exc:
            errors.append(f"heartbeat not written: {type(exc).__name__}: {exc}")
        if not self.enabled:
            out = AlertPass(
                at=now, broker_at=None, skipped=("alerts are off",), errors=tuple(errors)
            )
            self.last_pass = out
            return out
        try:
            out = await self._evaluate(now, errors)
        except Exception as exc:  # one bad pass must not stop the monitor's next one
            log.exception("alert pass failed")
            out = AlertPass(
                at=now, broker_at=None, errors=(*errors, f"{type(exc).__name__}: {exc}")
            )
        self.last_pass = out
        return out

    async def _evaluate(self, now: datetime, errors: list[str]) -> AlertPass:
        evaluated: list[str] = []
        skipped: list[str] = []
        mono = self._monotonic()
        if self._last_scan is None:
            # The first scan waits one scan interval: a process that just started lets the
            # pages' first reads have the request budget before the watchlist scan.
            self._last_scan = mono
        scan_due = mono - self._last_scan >= self.scan_seconds
        if self._since is None:
            self._since = await asyncio.to_thread(self.store.since)
        horizon = max(now - LOOKBACK, self._since) if self._since else now - LOOKBACK

        active, recent, clock, states = await asyncio.gather(
            asyncio.to_thread(self.journal.active_trades),
            asyncio.to_thread(self.journal.list_trades, updated_since=horizon),
            self.data.fetch_clock(),
            asyncio.to_thread(self.store.condition_states),
        )
        trades = list({t.id: t for t in [*recent, *active]}.values())
        broker = clock.value
        at = broker.timestamp if broker is not None else now
        events: list[AlertEvent] = []

        # Trades: every pass. Price rules only on fresh quotes while the market is open.
        prices: dict[str, float] = {}
        watched = sorted(
            {t.underlying for t in trades if t.status in (TradeStatus.OPEN, TradeStatus.EXITING)}
        )
        if watched and broker is not None and broker.is_open:
            quotes = await self.data.fetch_quotes(watched)
            if quotes.state is DataState.FRESH and quotes.value:
                prices = {s: q.mid for s, q in quotes.value.items() if q.bid > 0 and q.ask > 0}
            else:
                skipped.append(f"trade prices: quotes {quotes.state.value}")
        events += trade_events(trades, prices, at, self.config)
        evaluated.append("trades")

        if scan_due:
            self._last_scan = mono
            sig, risk = await asyncio.gather(
                self._signal_events(at, skipped), self._risk_events(at, active, states, skipped)
            )
            events += sig + risk
            evaluated += ["signals", "risk"]

        events += stale_events(self._health(mono), states, at=at, config=self.config)
        evaluated.append("system")
        recorded = await asyncio.to_thread(self.record, events)
        return AlertPass(
            at=now,
            broker_at=broker.timestamp if broker is not None else None,
            recorded=tuple(recorded),
            evaluated=tuple(evaluated),
            skipped=tuple(skipped),
            errors=tuple(errors),
        )

    async def _signal_events(self, at: datetime, skipped: list[str]) -> list[AlertEvent]:
        watches = await asyncio.to_thread(self.store.watches)
        if not watches and all(not self.config.on(k) for k in _SIGNAL_KINDS):
            return []
        overrides = await asyncio.to_thread(self.store.subscription_overrides)
        subs = SignalSubscriptions(frozenset(self.config.signal_timeframes), overrides)
        symbols = list(dict.fromkeys([*self._watchlist(), *(w.symbol for w in watches.values())]))
        if not symbols:
            return []
        board = await scan_signals(self.data, symbols)
        if board.state not in (DataState.FRESH, DataState.STALE) or board.as_of is None:
            skipped.append(f"signals: board {board.state.value}")
            return []
        return signal_events(board.rows, subs, watches, board.as_of, self.config)

    async def _risk_events(
        self,
        at: datetime,
        active: Sequence[JournalTrade],
        states: dict[str, ConditionState],
        skipped: list[str],
    ) -> list[AlertEvent]:
        if all(not self.config.on(k) for k in _RISK_KINDS):
            return []
        snap = await self.data.fetch_portfolio_data()
        account, held = snap.account, snap.positions
        if (
            account.value is None
            or held.value is None
            or DataState.STALE
            in (
                account.state,
                held.state,
            )
        ):
            skipped.append("risk: account or positions not fresh")
            return []
        equity = float(account.value.equity)
        out = daily_loss_events(
            account.value.day_pnl_pct,
            float(account.value.day_pnl),
            equity,
            at=at,
            config=self.config,
        )
        positions = option_risk_positions(held.value)
        prices = underlying_prices(positions, snap.quotes.value or {})
        options = [p.symbol for p in positions if p.asset_class == "us_option"]
        oq = (await self.data.fetch_option_quotes(options)).value or {} if options else {}
        stops, missing = journal_stops(positions, trades_by_contract(list(active)), prices)
        report = portfolio_heat(
            positions,
            equity=equity,
            now=at,
            stops=stops,
            underlying_prices=prices,
            ivs={s: q.iv for s, q in oq.items() if q.iv},
        )
        note = (
            f"{len(missing)} position(s) without a usable stop count at their whole value."
            if missing
            else ""
        )
        out += heat_events(
            report.heat_pct,
            total_risk=report.total_risk,
            equity=equity,
            state=states.get("heat") or _NO_STATE,
            at=at,
            config=self.config,
            note=note,
        )
        return out

    def _health(self, mono: float) -> dict[str, SourceHealth]:
        """Each upstream's state and how long it has been down in this process."""
        out: dict[str, SourceHealth] = {}
        for source, state in self.data.health().items():
            if state == "down":
                since = self._down_since.setdefault(source, mono)
                out[source] = SourceHealth(state, mono - since)
            else:
                self._down_since.pop(source, None)
                out[source] = SourceHealth(state, None)
        return out

    # ---- the heartbeat watcher (every web process) --------------------------------------------
    def check_heartbeat(self, machine_now: datetime | None = None) -> list[StoredAlert]:
        """Judge the monitor's last heartbeat; record "lost" or "recovered" when due."""
        if not self.enabled:
            return []
        machine_now = machine_now or self._machine_clock()
        mono = self._monotonic()
        if self._watch_started is None:
            self._watch_started = mono
        watching_for = mono - self._watch_started
        beat = self.store.heartbeat()
        if beat is None:
            return []
        states = self.store.condition_states()

        def judge(at: datetime) -> list[AlertEvent]:
            return heartbeat_events(
                beat,
                machine_now=machine_now,
                watching_for=watching_for,
                state=states.get("heartbeat") or _NO_STATE,
                at=at,
                config=self.config,
            )

        if not judge(machine_now):
            return []
        return self.record(judge(self._broker_now(machine_now)))

    def _broker_now(self, fallback: datetime) -> datetime:
        """The broker's time for an event raised outside a pass (its clock may be far from
        the machine's, as the simulator's is); the machine's if the broker is unreachable."""
        from dashboard.data_loaders.loop import run_async

        try:
            clock = run_async(self.data.fetch_clock(), timeout=5.0)
        except Exception:
            return fallback
        return clock.value.timestamp if clock.value is not None else fallback

    def start(self, *, watch: bool = True) -> None:
        """Start webhook delivery and (``watch``) the heartbeat watcher thread."""
        if not self.enabled:
            return
        if self.delivery is not None:
            self.delivery.start()
        if watch and (self._thread is None or not self._thread.is_alive()):
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="alert-watch", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.delivery is not None:
            self.delivery.stop(timeout)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_heartbeat()
            except Exception as exc:  # the database is away: judge again next time
                log.warning("heartbeat check failed: %s", type(exc).__name__)
            self._stop.wait(self.monitor_interval)
