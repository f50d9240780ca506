"""Hand-made records for the alert tests: journal trades at any step of their life, and
signal board rows (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dashboard.alerts.records import AlertEvent
from dashboard.strat.board import SignalRow, SignalTfc
from dashboard.strat.continuity import TimeframeState
from dashboard.trading.records import JournalTrade, TradeStatus

NOW = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)  # Monday 10:00 New York
EXPIRY = date(2025, 12, 19)


def journal_trade(direction: str = "long", **over: Any) -> JournalTrade:
    """A trade just journaled (pending entry): long SPY 600 C, entry 600, stop 596, T1 608;
    a short mirrors it (600 P, stop 604, T1 592)."""
    long = direction == "long"
    base: dict[str, Any] = {
        "id": 7,
        "created_at": NOW,
        "updated_at": NOW,
        "request_key": "k-7",
        "status": TradeStatus.PENDING_ENTRY,
        "status_message": None,
        "live": False,
        "signal_id": "sig-7",
        "pattern": "2-1-2U" if long else "2-1-2D",
        "timeframe": "1Day",
        "tfc": None,
        "rules": None,
        "underlying": "SPY",
        "direction": direction,
        "entry_level": 600.0,
        "target_level": 608.0 if long else 592.0,
        "target2_level": None,
        "stop_level": 596.0 if long else 604.0,
        "dte_floor": None,
        "max_loss_pct": None,
        "contract_symbol": "SPY251219C00600000" if long else "SPY251219P00600000",
        "expiry": EXPIRY,
        "strike": Decimal(600),
        "right": "C" if long else "P",
        "qty": 2,
        "planned_limit": Decimal("5.00"),
        "entry_client_order_id": "sd-x-7-entry",
        "entry_order_id": None,
        "entry_order_status": None,
        "entry_filled_qty": 0,
        "entry_fill_price": None,
        "entry_filled_at": None,
        "exit_attempts": 0,
        "exit_client_order_id": None,
        "exit_order_id": None,
        "exit_order_status": None,
        "exit_reason": None,
        "exit_requested_at": None,
        "exit_underlying_price": None,
        "closed_qty": 0,
        "exit_price": None,
        "exit_filled_at": None,
        "realized_pnl": Decimal(0),
        "notes": None,
    }
    base.update(over)
    return JournalTrade(**base)


def filled(t: JournalTrade, qty: int | None = None, price: str = "5.00") -> JournalTrade:
    q = t.qty if qty is None else qty
    return replace(
        t,
        status=TradeStatus.OPEN if q == t.qty else TradeStatus.PENDING_ENTRY,
        entry_order_id="o-entry",
        entry_order_status="filled" if q == t.qty else "partially_filled",
        entry_filled_qty=q,
        entry_fill_price=Decimal(price),
        entry_filled_at=NOW + timedelta(minutes=1),
    )


def exiting(t: JournalTrade, reason: str, under: float, attempt: int = 1) -> JournalTrade:
    return replace(
        t,
        status=TradeStatus.EXITING,
        exit_attempts=attempt,
        exit_client_order_id=f"sd-x-7-exit-{attempt}",
        exit_order_id=f"o-exit-{attempt}",
        exit_order_status="new",
        exit_reason=reason,
        exit_underlying_price=under,
    )


def closed(t: JournalTrade, price: str) -> JournalTrade:
    px = Decimal(price)
    assert t.entry_fill_price is not None
    return replace(
        t,
        status=TradeStatus.CLOSED,
        exit_order_status="filled",
        closed_qty=t.entry_filled_qty,
        exit_price=px,
        exit_filled_at=NOW + timedelta(hours=1),
        realized_pnl=(px - t.entry_fill_price) * 100 * t.entry_filled_qty,
    )


def signal_row(**over: Any) -> SignalRow:
    base: dict[str, Any] = {
        "id": "sig-spy-1d",
        "category": "pending",
        "symbol": "SPY",
        "timeframe": "1Day",
        "pattern": "2-1-2",
        "label": "2-1-2U",
        "direction": "long",
        "status": "pending",
        "price": 599.0,
        "entry": 600.0,
        "stop": 596.0,
        "target1": 608.0,
        "target2": None,
        "reward_risk": 2.0,
        "magnitude_pct": 1.3,
        "magnitude_atr": 1.1,
        "tfc": tfc("aligned", 4, 0),
        "setup_time": NOW - timedelta(days=1),
        "triggered_at": None,
        "entry_rule": "inside bar high + 0.01",
        "stop_rule": "inside bar low - 0.01",
        "target_rule": "previous bar high",
        "trigger_pct": 0.17,
        "to_t1_pct": 1.5,
        "to_stop_pct": 0.5,
        "rr_now": 3.0,
    }
    base.update(over)
    return SignalRow(**base)


def tfc(stance: str, agree: int, against: int) -> SignalTfc:
    """Continuity over D, W, M and Q with ``agree`` of them up and ``against`` down."""
    dirs = [1] * agree + [-1] * against + [0] * (4 - agree - against)
    states = tuple(
        TimeframeState(tf, 100.0, 100.0 + d, d, float(d))
        for tf, d in zip("DWMQ", dirs, strict=True)
    )
    return SignalTfc(stance, agree, against, states)  # type: ignore[arg-type]


def by_kind(events: list[AlertEvent]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        out.setdefault(e.kind.value, []).append(e.key)
    return out


class Store:
    """What the alerts table does with keys: the first event per key is kept."""

    def __init__(self) -> None:
        self.kept: dict[str, AlertEvent] = {}

    def add(self, events: list[AlertEvent]) -> list[AlertEvent]:
        new = [e for e in events if e.key not in self.kept]
        for e in new:
            self.kept[e.key] = e
        return new

    def kinds(self) -> dict[str, list[str]]:
        return by_kind(list(self.kept.values()))
