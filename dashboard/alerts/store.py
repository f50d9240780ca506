"""The alerts' tables in the journal database, and every read and write of them.

SQLAlchemy Core on the journal's engine (SQLite or Postgres, like the journal). The
tables are created by the journal's schema step 3 (``trading/journal.py``, ``MIGRATIONS``)
and live here beside the code that uses them:

- ``alerts``: one row per event key (unique), so recording the same event twice, from a
  restart, a second process or a retry, is a no-op; plus its acknowledgement and its
  webhook delivery (status, attempts, next attempt, the delivering process's claim);
- ``alert_subscriptions``: signal alerts switched on or off per (symbol, timeframe);
- ``alert_watches``: "alert when this pending setup triggers", per signal id;
- ``monitor_heartbeats``: the trade monitor's last pass, which the web process watches.

A delivery is claimed with a conditional UPDATE (like the monitor's lease), so two
processes never post the same alert at once; a claim that outlives its process expires.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from dashboard.alerts.kinds import CLEAR_OF, AlertKind
from dashboard.alerts.records import (
    AlertEvent,
    ConditionState,
    DeliveryStatus,
    Heartbeat,
    SignalWatch,
    StoredAlert,
    Value,
)
from dashboard.trading.journal import UTCDateTime

if TYPE_CHECKING:
    from dashboard.trading.journal import Journal

__all__ = ["MONITOR_HEARTBEAT", "AlertStore", "create_alert_tables", "metadata"]

MONITOR_HEARTBEAT = "trade-monitor"
_ERROR_CHARS = 300

metadata = MetaData()

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False, index=True),
    Column("severity", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # the broker's clock
    Column("created_at", UTCDateTime, nullable=False),  # when recorded (machine clock)
    Column("title", String(300), nullable=False),
    Column("message", Text, nullable=False),
    Column("symbol", String(16), nullable=True, index=True),
    Column("trade_id", Integer, nullable=True),
    Column("signal_id", String(64), nullable=True),
    Column("timeframe", String(16), nullable=True),
    Column("condition", String(80), nullable=True, index=True),
    Column("values_json", Text, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("delivery_status", String(10), nullable=False, index=True),
    Column("delivery_attempts", Integer, nullable=False),
    Column("delivery_next_at", UTCDateTime, nullable=True),
    Column("delivery_claim", String(128), nullable=True),
    Column("delivery_claim_until", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True, index=True),
    Column("delivery_batch", String(220), nullable=True),
    Column("delivery_error", String(_ERROR_CHARS), nullable=True),
)

alert_subscriptions = Table(
    "alert_subscriptions",
    metadata,
    Column("symbol", String(16), primary_key=True),
    Column("timeframe", String(16), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

alert_watches = Table(
    "alert_watches",
    metadata,
    Column("signal_id", String(64), primary_key=True),
    Column("symbol", String(16), nullable=False),
    Column("timeframe", String(16), nullable=False),
    Column("label", String(40), nullable=False),
    Column("direction", String(5), nullable=False),
    Column("entry", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

monitor_heartbeats = Table(
    "monitor_heartbeats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),  # machine clock: only ages are read
    Column("interval_seconds", Float, nullable=False),
)


def create_alert_tables(conn: Connection) -> None:
    """Create every alert table (with indexes) that does not exist yet (idempotent)."""
    metadata.create_all(conn, checkfirst=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _clean(value: Any) -> Value:
    """A JSON-safe scalar: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _to_alert(row: RowMapping) -> StoredAlert:
    try:
        values = json.loads(row["values_json"] or "{}")
    except ValueError:
        values = {}
    return StoredAlert(
        id=row["id"],
        key=row["key"],
        kind=AlertKind(row["kind"]),
        severity=row["severity"],
        at=row["at"],
        created_at=row["created_at"],
        title=row["title"],
        message=row["message"],
        symbol=row["symbol"],
        trade_id=row["trade_id"],
        signal_id=row["signal_id"],
        timeframe=row["timeframe"],
        condition=row["condition"],
        values=values if isinstance(values, dict) else {},
        acknowledged_at=row["acknowledged_at"],
        delivery_status=cast(DeliveryStatus, row["delivery_status"]),
        delivery_attempts=row["delivery_attempts"],
        delivery_error=row["delivery_error"],
        delivered_at=row["delivered_at"],
    )


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    """Webhook messages sent in the rate window, and when the oldest of them leaves it."""

    sent: int
    oldest: datetime | None


class AlertStore:
    """Reads and writes of the alert tables; thread-safe (a connection per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def of(cls, journal: Journal) -> AlertStore:
        return cls(journal.engine)

    # ---- recording --------------------------------------------------------------------------
    def _insert_new(self, conn: Connection, row: dict[str, Any]) -> bool:
        """Insert unless the key exists; True when this call made the row."""
        name = conn.dialect.name
        if name in ("sqlite", "postgresql"):
            dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
            stmt = (
                dialect_insert(alerts)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(alerts.c.id)  # psycopg reports no rowcount for a skipped row
            )
            return conn.execute(stmt).first() is not None
        try:  # other databases: a savepoint keeps the transaction usable after a duplicate
            with conn.begin_nested():
                conn.execute(insert(alerts).values(**row))
            return True
        except IntegrityError:
            return False

    def record(
        self, events: Iterable[AlertEvent], *, deliver: bool, now: datetime | None = None
    ) -> list[StoredAlert]:
        """Store the events whose keys are new; returns only those (in event order).

        ``deliver`` says whether a webhook is configured: new rows are then ``pending``
        delivery, else ``off``. Keys already stored are skipped without a write, so a
        pass that sees the same facts again costs one read.
        """
        batch = list({e.key: e for e in events}.values())
        if not batch:
            return []
        now = now or _now()
        with self.engine.begin() as conn:
            known: set[str] = set(
                conn.execute(
                    select(alerts.c.key).where(alerts.c.key.in_([e.key for e in batch]))
                ).scalars()
            )
            made: list[str] = []
            for e in batch:
                if e.key in known:
                    continue
                row = {
                    "key": e.key,
                    "kind": e.kind.value,
                    "severity": e.severity,
                    "at": e.at,
                    "created_at": now,
                    "title": e.title[:300],
                    "message": e.message,
                    "symbol": e.symbol,
                    "trade_id": e.trade_id,
                    "signal_id": e.signal_id,
                    "timeframe": e.timeframe,
                    "condition": e.condition,
                    "values_json": json.dumps(
                        {k: _clean(v) for k, v in e.values.items()}, sort_keys=True
                    ),
                    "acknowledged_at": None,
                    "delivery_status": "pending" if deliver else "off",
                    "delivery_attempts": 0,
                    "delivery_next_at": None,
                }
                if self._insert_new(conn, row):
                    made.append(e.key)
            if not made:
                return []
            rows = conn.execute(select(alerts).where(alerts.c.key.in_(made))).mappings().all()
        by_key = {r["key"]: _to_alert(r) for r in rows}
        return [by_key[k] for k in made if k in by_key]

    # ---- reads for the UI -------------------------------------------------------------------
    def history(
        self,
        *,
        kinds: Sequence[str] | None = None,
        symbol: str | None = None,
        unread_only: bool = False,
        limit: int = 200,
    ) -> list[StoredAlert]:
        """Alerts newest first, optionally of some kinds, one symbol, or unread only."""
        stmt = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if kinds:
            stmt = stmt.where(alerts.c.kind.in_(list(kinds)))
        if symbol:
            stmt = stmt.where(alerts.c.symbol == symbol.strip().upper())
        if unread_only:
            stmt = stmt.where(alerts.c.acknowledged_at.is_(None))
        with self.engine.connect() as conn:
            return [_to_alert(r) for r in conn.execute(stmt).mappings()]

    def after(self, alert_id: int, *, limit: int = 50) -> list[StoredAlert]:
        """Alerts newer than ``alert_id``, oldest first (what a page has not shown yet)."""
        stmt = select(alerts).where(alerts.c.id > alert_id).order_by(alerts.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_to_alert(r) for r in conn.execute(stmt).mappings()]

    def by_key(self, key: str) -> StoredAlert | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(alerts).where(alerts.c.key == key)).mappings().first()
        return _to_alert(row) if row is not None else None

    def latest_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(alerts.c.id), 0))).scalar_one())

    def unread_count(self) -> int:
        stmt = select(func.count()).select_from(alerts).where(alerts.c.acknowledged_at.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def symbols(self) -> list[str]:
        stmt = select(alerts.c.symbol).where(alerts.c.symbol.is_not(None)).distinct()
        with self.engine.connect() as conn:
            found: list[str | None] = list(conn.execute(stmt).scalars())
        return sorted(s for s in found if s)

    def acknowledge(self, ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
        """Mark alerts read (all unread ones when ``ids`` is None); how many changed."""
        stmt = update(alerts).where(alerts.c.acknowledged_at.is_(None))
        if ids is not None:
            wanted = [int(i) for i in ids]
            if not wanted:
                return 0
            stmt = stmt.where(alerts.c.id.in_(wanted))
        with self.engine.begin() as conn:
            result = conn.execute(stmt.values(acknowledged_at=now or _now()))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def since(self) -> datetime | None:
        """When alerts started in this database (schema step 3): trade changes before it
        are history, not news."""
        with self.engine.connect() as conn:
            raw = conn.execute(
                text("SELECT value FROM journal_meta WHERE key = 'alerts_since'")
            ).scalar()
        try:
            return datetime.fromisoformat(str(raw)) if raw else None
        except ValueError:
            return None

    # ---- conditions and the heartbeat -------------------------------------------------------
    def condition_states(self) -> dict[str, ConditionState]:
        """Raised and cleared counts per condition, from the alerts stored."""
        clears = [k.value for k in CLEAR_OF]
        stmt = (
            select(alerts.c.condition, alerts.c.kind, func.count())
            .where(alerts.c.condition.is_not(None))
            .group_by(alerts.c.condition, alerts.c.kind)
        )
        raised: dict[str, int] = {}
        cleared: dict[str, int] = {}
        with self.engine.connect() as conn:
            for condition, kind, count in conn.execute(stmt):
                target = cleared if str(kind) in clears else raised
                name = str(condition)
                target[name] = target.get(name, 0) + int(str(count))
        return {
            c: ConditionState(raised.get(c, 0), cleared.get(c, 0))
            for c in set(raised) | set(cleared)
        }

    def beat(self, holder: str, at: datetime, interval_seconds: float) -> None:
        """The monitor passed (upsert of its heartbeat row)."""
        values = {"holder": holder, "beat_at": at, "interval_seconds": float(interval_seconds)}
        with self.engine.begin() as conn:
            done = conn.execute(
                update(monitor_heartbeats)
                .where(monitor_heartbeats.c.name == MONITOR_HEARTBEAT)
                .values(**values)
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(monitor_heartbeats).values(name=MONITOR_HEARTBEAT, **values)
                        )
                except IntegrityError:  # another process inserted it first: update that
                    conn.execute(
                        update(monitor_heartbeats)
                        .where(monitor_heartbeats.c.name == MONITOR_HEARTBEAT)
                        .values(**values)
                    )

    def heartbeat(self) -> Heartbeat | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(monitor_heartbeats).where(monitor_heartbeats.c.name == MONITOR_HEARTBEAT)
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Heartbeat(row["holder"], row["beat_at"], float(row["interval_seconds"]))

    # ---- subscriptions and watches -----------------------------------------------------------
    def subscription_overrides(self) -> dict[tuple[str, str], bool]:
        stmt = select(
            alert_subscriptions.c.symbol,
            alert_subscriptions.c.timeframe,
            alert_subscriptions.c.enabled,
        )
        with self.engine.connect() as conn:
            return {(str(s), str(tf)): bool(on) for s, tf, on in conn.execute(stmt)}

    def set_subscription(
        self, symbol: str, timeframe: str, enabled: bool, *, now: datetime | None = None
    ) -> None:
        """Switch signal alerts for one (symbol, timeframe) on or off."""
        key = {"symbol": symbol.strip().upper(), "timeframe": timeframe}
        values = {"enabled": bool(enabled), "updated_at": now or _now()}
        with self.engine.begin() as conn:
            done = conn.execute(
                update(alert_subscriptions)
                .where(
                    alert_subscriptions.c.symbol == key["symbol"],
                    alert_subscriptions.c.timeframe == timeframe,
                )
                .values(**values)
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                try:
                    with conn.begin_nested():
                        conn.execute(insert(alert_subscriptions).values(**key, **values))
                except IntegrityError:
                    pass  # set by another request at the same moment; theirs stands

    def watches(self) -> dict[str, SignalWatch]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_watches).order_by(alert_watches.c.created_at))
            return {
                r["signal_id"]: SignalWatch(
                    signal_id=r["signal_id"],
                    symbol=r["symbol"],
                    timeframe=r["timeframe"],
                    label=r["label"],
                    direction=r["direction"],
                    entry=float(r["entry"]),
                    created_at=r["created_at"],
                )
                for r in rows.mappings()
            }

    def add_watch(self, watch: SignalWatch) -> bool:
        """Watch one signal for its trigger; False when it was watched already."""
        try:
            with self.engine.begin() as conn:
                if conn.execute(
                    select(alert_watches.c.signal_id).where(
                        alert_watches.c.signal_id == watch.signal_id
                    )
                ).first():
                    return False
                conn.execute(
                    insert(alert_watches).values(
                        signal_id=watch.signal_id,
                        symbol=watch.symbol,
                        timeframe=watch.timeframe,
                        label=watch.label[:40],
                        direction=watch.direction,
                        entry=float(watch.entry),
                        created_at=watch.created_at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def remove_watch(self, signal_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(alert_watches).where(alert_watches.c.signal_id == signal_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- webhook delivery --------------------------------------------------------------------
    def window(self, now: datetime, seconds: float = 60.0) -> DeliveryWindow:
        """Messages (single alerts or digests) delivered in the last ``seconds``."""
        start = now - timedelta(seconds=seconds)
        stmt = (
            select(alerts.c.delivery_batch, func.min(alerts.c.delivered_at))
            .where(alerts.c.delivered_at >= start, alerts.c.delivery_batch.is_not(None))
            .group_by(alerts.c.delivery_batch)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        oldest = min((r[1] for r in rows), default=None)
        return DeliveryWindow(len(rows), oldest)

    def next_due(self) -> datetime | None:
        """When the earliest waiting delivery falls due (None: nothing waits)."""
        stmt = select(
            func.min(func.coalesce(alerts.c.delivery_next_at, alerts.c.created_at))
        ).where(alerts.c.delivery_status == "pending")
        with self.engine.connect() as conn:
            value = conn.execute(stmt).scalar()
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def claim_due(
        self, holder: str, now: datetime, *, limit: int, claim_seconds: float
    ) -> list[StoredAlert]:
        """Claim up to ``limit`` alerts due for delivery (oldest first) for ``holder``.

        Due: pending with no later retry time, or claimed by a process whose claim expired
        (it died mid-delivery). The conditional UPDATE lets one claimer win each row.
        """
        due = or_(
            and_(
                alerts.c.delivery_status == "pending",
                or_(alerts.c.delivery_next_at.is_(None), alerts.c.delivery_next_at <= now),
            ),
            and_(alerts.c.delivery_status == "sending", alerts.c.delivery_claim_until < now),
        )
        with self.engine.begin() as conn:
            ids: list[int] = list(
                conn.execute(
                    select(alerts.c.id).where(due).order_by(alerts.c.id).limit(limit)
                ).scalars()
            )
            if not ids:
                return []
            conn.execute(
                update(alerts)
                .where(alerts.c.id.in_(ids), due)
                .values(
                    delivery_status="sending",
                    delivery_claim=holder,
                    delivery_claim_until=now + timedelta(seconds=claim_seconds),
                )
            )
            rows = conn.execute(
                select(alerts)
                .where(
                    alerts.c.id.in_(ids),
                    alerts.c.delivery_claim == holder,
                    alerts.c.delivery_status == "sending",
                )
                .order_by(alerts.c.id)
            ).mappings()
            return [_to_alert(r) for r in rows]

    def release(self, ids: Sequence[int], holder: str) -> None:
        """Hand claimed alerts back unchanged (the rate window was full)."""
        self._finish(ids, holder, {"delivery_status": "pending"}, count_attempt=False)

    def mark_sent(self, ids: Sequence[int], holder: str, *, now: datetime, batch: str) -> None:
        self._finish(
            ids,
            holder,
            {
                "delivery_status": "sent",
                "delivered_at": now,
                "delivery_batch": batch[:220],
                "delivery_error": None,
                "delivery_next_at": None,
            },
        )

    def mark_retry(self, ids: Sequence[int], holder: str, *, next_at: datetime, error: str) -> None:
        self._finish(
            ids,
            holder,
            {
                "delivery_status": "pending",
                "delivery_next_at": next_at,
                "delivery_error": error[:_ERROR_CHARS],
            },
        )

    def mark_failed(self, ids: Sequence[int], holder: str, *, error: str) -> None:
        self._finish(
            ids,
            holder,
            {"delivery_status": "failed", "delivery_error": error[:_ERROR_CHARS]},
        )

    def _finish(
        self,
        ids: Sequence[int],
        holder: str,
        values: Mapping[str, Any],
        *,
        count_attempt: bool = True,
    ) -> None:
        if not ids:
            return
        extra: dict[str, Any] = {"delivery_claim": None, "delivery_claim_until": None}
        if count_attempt:
            extra["delivery_attempts"] = alerts.c.delivery_attempts + 1
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(
                    alerts.c.id.in_(list(ids)),
                    alerts.c.delivery_claim == holder,
                    alerts.c.delivery_status == "sending",
                )
                .values(**values, **extra)
            )
