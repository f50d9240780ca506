"""The trade journal: every option trade, from intent to realised P&L, in SQL.

SQLAlchemy 2.x on SQLite by default (a file in the data folder) or Postgres (psycopg 3)
through ``DATABASE_URL``. Opening a journal brings its schema up to date with the ordered
steps in ``MIGRATIONS``, under a lock (a Postgres advisory lock, an exclusive SQLite
transaction), so any number of processes can open a fresh database at once; a database
newer than the code is refused, never misread. Crash safety comes from the order of writes: the intent,
with its deterministic ``client_order_id``, is committed *before* the order is sent, so a
crash after sending leaves a row that reconciliation can look up at the broker by that id.

Status lifecycle::

    pending_entry ─▶ open ─▶ exiting ─▶ closed
         │  │          ▲        │
         │  └▶ rejected└────────┘ (exit order failed: back to open, a new attempt id)
         └▶ canceled

The UI only ever gets ``JournalTrade`` dataclasses, never ORM rows. The same database
also holds the exit-monitor lease, so one monitor acts however many processes run.

Its size is one concept: the schema, its migrations and every transaction on it, so each
status move stays a compare-and-set next to the rows it guards.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.schema import CreateColumn

from dashboard.conventions import CONTRACT_MULTIPLIER
from dashboard.models import Order
from dashboard.trading.arming import (
    ACTIVE_ARMING,
    ARMING_MOVES,
    ArmedEntry,
    ArmingStatus,
    DisarmReason,
)
from dashboard.trading.records import (
    ACTIVE_STATUSES,
    ALLOWED_MOVES,
    ExitReason,
    JournalError,
    JournalTrade,
    TradeStatus,
    broker_stop_client_order_id,
    exit_client_order_id,
)
from dashboard.trading.ticket import TradeTicket

if TYPE_CHECKING:
    from dashboard.settings import Settings

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ExitReason",
    "Journal",
    "JournalError",
    "JournalTrade",
    "Migration",
    "TradeStatus",
    "UTCDateTime",
    "add_column",
    "create_table",
]

_FILLED = "filled"
# Broker statuses after which an order will never fill (more).
_TERMINAL_ORDER = frozenset(
    {"filled", "canceled", "expired", "rejected", "done_for_day", "stopped"}
)


# ---- column types that behave the same on SQLite and Postgres -------------------------------


class _DecimalText(TypeDecorator[Decimal]):
    """Exact decimals as text: SQLite has no decimal type and would round through float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else format(Decimal(value), "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class _UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite drops the offset otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("journal timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTCDateTime = _UTCDateTime  # for tables kept beside their own code (alerts.store)


class _Base(DeclarativeBase):
    pass


class _TradeRow(_Base):
    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    request_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    # The signal behind the trade.
    signal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pattern: Mapped[str | None] = mapped_column(String(40), nullable=True)
    timeframe: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tfc: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rules: Mapped[str | None] = mapped_column(Text, nullable=True)
    underlying: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(5))
    entry_level: Mapped[float] = mapped_column(Float)
    target_level: Mapped[float] = mapped_column(Float)
    target2_level: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_level: Mapped[float] = mapped_column(Float)
    dte_floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_loss_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The contract and the entry order.
    contract_symbol: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[date] = mapped_column(Date)
    strike: Mapped[Decimal] = mapped_column(_DecimalText)
    right: Mapped[str] = mapped_column(String(1))
    qty: Mapped[int] = mapped_column(Integer)
    planned_limit: Mapped[Decimal] = mapped_column(_DecimalText)
    entry_client_order_id: Mapped[str] = mapped_column(String(128), unique=True)
    entry_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entry_order_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    entry_filled_qty: Mapped[int] = mapped_column(Integer, default=0)
    entry_fill_price: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    entry_filled_at: Mapped[datetime | None] = mapped_column(_UTCDateTime, nullable=True)
    # The exit.
    exit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    exit_client_order_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    exit_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    exit_order_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    exit_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    exit_requested_at: Mapped[datetime | None] = mapped_column(_UTCDateTime, nullable=True)
    exit_underlying_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_qty: Mapped[int] = mapped_column(Integer, default=0)
    exit_price: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    exit_filled_at: Mapped[datetime | None] = mapped_column(_UTCDateTime, nullable=True)
    realized_pnl: Mapped[Decimal] = mapped_column(_DecimalText, default=Decimal(0))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # At the entry fill (step 4): the underlying's price, and the contract's IV and delta.
    fill_underlying_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    fill_iv: Mapped[float | None] = mapped_column(Float, nullable=True)
    fill_delta: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The optional broker-held protective stop on the option (step 4).
    broker_stop_client_order_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    broker_stop_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    broker_stop_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    broker_stop_price: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    broker_stop_limit: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)


class _ArmedRow(_Base):
    """An armed entry (``trading.arming``): waits for the trigger, fires one trade."""

    __tablename__ = "armed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    request_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    signal_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    symbol: Mapped[str] = mapped_column(String(16))
    timeframe: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str | None] = mapped_column(String(40), nullable=True)
    direction: Mapped[str] = mapped_column(String(5))
    trigger: Mapped[float] = mapped_column(Float)
    stop: Mapped[float] = mapped_column(Float)
    target1: Mapped[float] = mapped_column(Float)
    target2: Mapped[float | None] = mapped_column(Float, nullable=True)
    opposite: Mapped[float | None] = mapped_column(Float, nullable=True)
    contract: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[date] = mapped_column(Date)
    strike: Mapped[Decimal] = mapped_column(_DecimalText)
    right: Mapped[str] = mapped_column(String(1))
    contract_rule: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    max_premium: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    max_slippage: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    projected_premium: Mapped[Decimal | None] = mapped_column(_DecimalText, nullable=True)
    armed_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    tfc: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rules: Mapped[str | None] = mapped_column(Text, nullable=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    triggered_at: Mapped[datetime | None] = mapped_column(_UTCDateTime, nullable=True)
    trigger_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    trade_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class _MetaRow(_Base):
    __tablename__ = "journal_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class _LeaseRow(_Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(_UTCDateTime)


class _WatchlistRow(_Base):
    """The scanner's symbols (DASHBOARD_WATCHLIST only seeds them, once)."""

    __tablename__ = "watchlist"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    added_at: Mapped[datetime] = mapped_column(_UTCDateTime)
    position: Mapped[int] = mapped_column(Integer)  # display order: order of adding


# ---- schema migrations ------------------------------------------------------------------------
#
# How to change the schema: change the model above, then append a step below with the next
# version number. A step must be idempotent (``add_column`` / ``create_table`` check first),
# because a fresh database runs every step in order and step 1 creates its tables from the
# current model, columns added later included. Columns added to an existing table must be
# nullable or have a ``server_default``, since rows already there get no value. Steps run in
# one transaction under the journal's lock; ``tests/trading/test_journal.py`` runs every
# step on SQLite and Postgres, from empty and from each older version.


@dataclass(frozen=True, slots=True)
class Migration:
    """One ordered, idempotent schema step; ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def create_table(conn: Connection, name: str) -> None:
    """Create the model's table ``name`` (with its indexes) unless it exists."""
    _Base.metadata.tables[name].create(conn, checkfirst=True)


def add_column(conn: Connection, table: str, column: str) -> None:
    """Add the model's ``table.column`` to an existing table unless it is there already."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    if column in present:
        return
    col = _Base.metadata.tables[table].c[column]
    if not col.nullable and col.server_default is None:
        raise JournalError(
            f"{table}.{column}: a column added by a migration must be nullable "
            "or have a server_default"
        )
    ddl = CreateColumn(col).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {ddl}")


def _v1_base_tables(conn: Connection) -> None:
    for name in ("trades", "journal_meta", "leases"):
        create_table(conn, name)


def _v3_alerts(conn: Connection) -> None:
    # The alert tables live with their code; alerts about trades start from this step.
    from dashboard.alerts.store import create_alert_tables

    create_alert_tables(conn)
    if conn.execute(select(_MetaRow.key).where(_MetaRow.key == "alerts_since")).first() is None:
        conn.execute(insert(_MetaRow).values(key="alerts_since", value=_now().isoformat()))


_V4_TRADE_COLUMNS = (
    "fill_underlying_price",
    "fill_iv",
    "fill_delta",
    "broker_stop_client_order_id",
    "broker_stop_order_id",
    "broker_stop_status",
    "broker_stop_price",
    "broker_stop_limit",
)


def _v4_arming_and_fill_context(conn: Connection) -> None:
    create_table(conn, "armed_entries")
    for column in _V4_TRADE_COLUMNS:
        add_column(conn, "trades", column)


def _v5_watchlist(conn: Connection) -> None:
    create_table(conn, "watchlist")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "trades, journal_meta and leases", _v1_base_tables),
    Migration(3, "alerts, alert subscriptions and watches, monitor heartbeats", _v3_alerts),
    Migration(
        4,
        "armed_entries; trades: fill underlying price, IV and delta; broker stop",
        _v4_arming_and_fill_context,
    ),
    Migration(5, "watchlist: the scanner's editable symbols", _v5_watchlist),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
# Any 64-bit constant: the Postgres advisory lock that serialises schema changes.
_MIGRATION_LOCK_KEY = 0x5354_5241_545F_4A31  # "STRAT_J1"
_WAL_ATTEMPTS = 500  # about 20 s of retries
_WATCHLIST_SEEDED = "watchlist_seeded"  # journal_meta key: the seed was stored once


def _to_record(row: _TradeRow) -> JournalTrade:
    values = {name: getattr(row, name) for name in JournalTrade.__dataclass_fields__}
    values["status"] = TradeStatus(row.status)
    return JournalTrade(**values)


_RECORD_FIELDS: tuple[str, ...] = tuple(JournalTrade.__dataclass_fields__)
_STATUS_AT = _RECORD_FIELDS.index("status")


def _tuple_record(values: Sequence[Any]) -> JournalTrade:
    fields = list(values)
    fields[_STATUS_AT] = TradeStatus(fields[_STATUS_AT])
    return JournalTrade(*fields)


_ARMED_FIELDS: tuple[str, ...] = tuple(ArmedEntry.__dataclass_fields__)


def _armed_record(row: _ArmedRow) -> ArmedEntry:
    values = {name: getattr(row, name) for name in _ARMED_FIELDS}
    values["status"] = ArmingStatus(row.status)
    values["reason"] = DisarmReason(row.reason) if row.reason else None
    return ArmedEntry(**values)


def _apply_exit_fill(row: _TradeRow, px: Decimal, filled: int, at: datetime) -> None:
    """Book ``filled`` contracts sold at ``px``: closed quantity, average exit price and
    realised P&L ``(exit − entry) × 100 × qty`` (whichever order sold them)."""
    entry_px = row.entry_fill_price or Decimal(0)
    prev = row.closed_qty
    row.closed_qty = prev + filled
    prev_px = row.exit_price or Decimal(0)
    row.exit_price = ((prev_px * prev + px * filled) / row.closed_qty).quantize(Decimal("0.0001"))
    row.exit_filled_at = at
    row.realized_pnl = (row.realized_pnl or Decimal(0)) + (
        (px - entry_px) * CONTRACT_MULTIPLIER * filled
    )


def _now() -> datetime:
    return datetime.now(UTC)


class Journal:
    """Transactional access to the trade journal. Thread-safe (one session per call)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if not path or path == ":memory:":
                kwargs["poolclass"] = StaticPool  # one shared connection, or each is empty
        else:
            kwargs["pool_pre_ping"] = True
            if url.startswith("postgresql"):  # an unreachable server fails start-up, not hangs
                kwargs["connect_args"] = {"connect_timeout": 10}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.instance_id = self._init_schema()

    @classmethod
    def from_settings(cls, settings: Settings) -> Journal:
        return cls(settings.database_url)

    def close(self) -> None:
        self.engine.dispose()

    # ---- schema ------------------------------------------------------------------------------
    def _init_schema(self) -> str:
        """Bring the schema up to ``SCHEMA_VERSION`` and return this journal's id.

        Safe when many processes open a fresh database at once: the steps run under a
        lock, and each process re-reads the version once it holds it. The instance id goes
        into every ``client_order_id``, so two journals (say a wiped SQLite file) on one
        broker account never reuse an id the broker has seen.
        """
        try:
            with self.engine.connect() as conn:
                version, instance = _read_meta(conn)
            if version == SCHEMA_VERSION and instance is not None:
                return instance  # the common case: nothing to do, no lock taken
            with self._migration_tx() as conn:
                return _migrate(conn, self.engine.url)
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise JournalError(
                f"cannot open the journal at {self.engine.url!r}: {reason}"
            ) from None

    @contextmanager
    def _migration_tx(self) -> Iterator[Connection]:
        """One transaction that holds the schema lock until it commits."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
                yield conn
            return
        if self.engine.dialect.name != "sqlite" or isinstance(self.engine.pool, StaticPool):
            with self.engine.begin() as conn:  # in-memory: one connection, nobody to race
                yield conn
            return
        # SQLite: BEGIN EXCLUSIVE on a private engine whose driver leaves transactions to us
        # (pysqlite's own implicit BEGIN would be DEFERRED and not hold the lock for DDL).
        locker = create_engine(
            self.engine.url,
            poolclass=NullPool,
            connect_args={"check_same_thread": False, "timeout": 60},
        )

        @event.listens_for(locker, "connect")
        def _manual(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            _sqlite_pragmas(dbapi_conn, _record)

        @event.listens_for(locker, "begin")
        def _exclusive(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")

        try:
            with locker.begin() as conn:
                yield conn
        finally:
            locker.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def _row(self, s: Session, trade_id: int) -> _TradeRow:
        row = s.get(_TradeRow, trade_id)
        if row is None:
            raise JournalError(f"no trade {trade_id} in the journal")
        return row

    @staticmethod
    def _move(row: _TradeRow, to: TradeStatus, now: datetime, message: str | None = None) -> None:
        current = TradeStatus(row.status)
        if to not in ALLOWED_MOVES[current]:
            raise JournalError(f"trade {row.id}: cannot go from {current} to {to}")
        row.status = to.value
        row.updated_at = now
        if message is not None:
            row.status_message = message

    # ---- reads -------------------------------------------------------------------------------
    def get(self, trade_id: int) -> JournalTrade | None:
        with self._sessions() as s:
            row = s.get(_TradeRow, trade_id)
            return _to_record(row) if row is not None else None

    def by_request_key(self, key: str) -> JournalTrade | None:
        with self._sessions() as s:
            row = s.scalars(select(_TradeRow).where(_TradeRow.request_key == key)).first()
            return _to_record(row) if row is not None else None

    def by_client_order_id(self, client_order_id: str) -> JournalTrade | None:
        with self._sessions() as s:
            row = s.scalars(
                select(_TradeRow).where(
                    (_TradeRow.entry_client_order_id == client_order_id)
                    | (_TradeRow.exit_client_order_id == client_order_id)
                )
            ).first()
            return _to_record(row) if row is not None else None

    def list_trades(
        self,
        statuses: Iterable[TradeStatus | str] | None = None,
        *,
        limit: int | None = None,
        updated_since: datetime | None = None,
    ) -> list[JournalTrade]:
        """Trades, newest first; optionally only some statuses, or only those changed since
        a time (the alert engine's look-back)."""
        # Plain column rows on a Core connection, not ORM objects: this runs on every
        # Options refresh, and identity-mapped entities cost several times more per row.
        columns = [_TradeRow.__table__.c[name] for name in _RECORD_FIELDS]
        stmt = select(*columns).order_by(_TradeRow.id.desc())
        if statuses is not None:
            stmt = stmt.where(_TradeRow.status.in_([TradeStatus(x).value for x in statuses]))
        if updated_since is not None:
            stmt = stmt.where(_TradeRow.updated_at >= updated_since)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [_tuple_record(r) for r in conn.execute(stmt)]

    def active_trades(self) -> list[JournalTrade]:
        return self.list_trades(ACTIVE_STATUSES)

    # ---- writes: entry -----------------------------------------------------------------------
    def entry_client_order_id(self, trade_id: int) -> str:
        return f"sd-{self.instance_id}-{trade_id}-entry"

    def create_intent(
        self, ticket: TradeTicket, *, request_key: str, now: datetime | None = None
    ) -> tuple[JournalTrade, bool]:
        """Record the intent to buy *before* the order is sent; (trade, created).

        ``request_key`` identifies one user action (e.g. one confirmation dialog). A
        second call with the same key returns the first trade and ``False``, which is
        what turns a double click into one order.
        """
        now = now or _now()
        existing = self.by_request_key(request_key)
        if existing is not None:
            return existing, False
        # A placeholder id first keeps the unique column valid until the row id exists.
        placeholder = "pending-" + hashlib.sha1(request_key.encode()).hexdigest()
        try:
            with self._tx() as s:
                row = _TradeRow(
                    created_at=now,
                    updated_at=now,
                    request_key=request_key,
                    status=TradeStatus.PENDING_ENTRY.value,
                    live=ticket.live,
                    signal_id=ticket.signal_id,
                    pattern=ticket.pattern,
                    timeframe=ticket.timeframe,
                    tfc=ticket.tfc,
                    rules=ticket.rules,
                    underlying=ticket.symbol,
                    direction=ticket.direction,
                    entry_level=ticket.entry,
                    target_level=ticket.target,
                    target2_level=ticket.target2,
                    stop_level=ticket.stop,
                    dte_floor=ticket.dte_floor,
                    max_loss_pct=ticket.max_loss_pct,
                    contract_symbol=ticket.contract,
                    expiry=ticket.expiry,
                    strike=ticket.strike,
                    right=ticket.right,
                    qty=ticket.contracts,
                    planned_limit=ticket.limit,
                    entry_client_order_id=placeholder,
                    entry_filled_qty=0,
                    exit_attempts=0,
                    closed_qty=0,
                    realized_pnl=Decimal(0),
                )
                s.add(row)
                s.flush()
                row.entry_client_order_id = self.entry_client_order_id(row.id)
                record = _to_record(row)
        except IntegrityError:
            # Another thread/process inserted the same request key first.
            existing = self.by_request_key(request_key)
            if existing is None:
                raise
            return existing, False
        return record, True

    def record_entry_order(
        self, trade_id: int, order: Order, now: datetime | None = None
    ) -> JournalTrade:
        """Apply the broker's view of the entry order (ids, status, fills)."""
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            if row.entry_client_order_id != order.client_order_id:
                raise JournalError(
                    f"trade {trade_id}: order {order.client_order_id} is not its entry order"
                )
            row.entry_order_id = order.id
            row.entry_order_status = order.status
            row.updated_at = now
            filled = int(order.filled_qty or 0)
            if filled > 0 and order.filled_avg_price is not None:
                row.entry_filled_qty = filled
                row.entry_fill_price = order.filled_avg_price
                row.entry_filled_at = order.filled_at or now
            status = TradeStatus(row.status)
            if status is TradeStatus.PENDING_ENTRY:
                if order.status == _FILLED or (filled > 0 and order.status in _TERMINAL_ORDER):
                    self._move(row, TradeStatus.OPEN, now, f"entry {order.status}")
                elif order.status == "rejected":
                    self._move(row, TradeStatus.REJECTED, now, "rejected by the broker")
                elif order.status in _TERMINAL_ORDER:
                    self._move(row, TradeStatus.CANCELED, now, f"entry order {order.status}")
            return _to_record(row)

    def mark_rejected(
        self, trade_id: int, message: str, now: datetime | None = None
    ) -> JournalTrade:
        with self._tx() as s:
            row = self._row(s, trade_id)
            row.entry_order_status = "rejected"
            self._move(row, TradeStatus.REJECTED, now or _now(), message)
            return _to_record(row)

    def mark_canceled(
        self, trade_id: int, message: str, now: datetime | None = None
    ) -> JournalTrade:
        with self._tx() as s:
            row = self._row(s, trade_id)
            self._move(row, TradeStatus.CANCELED, now or _now(), message)
            return _to_record(row)

    def set_message(self, trade_id: int, message: str, now: datetime | None = None) -> JournalTrade:
        with self._tx() as s:
            row = self._row(s, trade_id)
            row.status_message = message
            row.updated_at = now or _now()
            return _to_record(row)

    def update_levels(
        self,
        trade_id: int,
        *,
        target: float | None = None,
        stop: float | None = None,
        now: datetime | None = None,
    ) -> JournalTrade:
        """Modify target/stop of an active trade; they must stay on the right side of entry."""
        with self._tx() as s:
            row = self._row(s, trade_id)
            if TradeStatus(row.status) not in (TradeStatus.PENDING_ENTRY, TradeStatus.OPEN):
                raise JournalError(f"trade {trade_id} is {row.status}; its levels are fixed")
            new_target = row.target_level if target is None else float(target)
            new_stop = row.stop_level if stop is None else float(stop)
            up = row.direction == "long"
            if not (new_target > row.entry_level if up else new_target < row.entry_level):
                raise JournalError(f"target {new_target} is on the wrong side of the entry")
            if not (new_stop < row.entry_level if up else new_stop > row.entry_level):
                raise JournalError(f"stop {new_stop} is on the wrong side of the entry")
            row.target_level, row.stop_level = new_target, new_stop
            row.updated_at = now or _now()
            return _to_record(row)

    def add_note(self, trade_id: int, note: str, now: datetime | None = None) -> JournalTrade:
        with self._tx() as s:
            row = self._row(s, trade_id)
            row.notes = f"{row.notes}\n{note}" if row.notes else note
            row.updated_at = now or _now()
            return _to_record(row)

    # ---- writes: exit ------------------------------------------------------------------------
    def begin_exit(
        self,
        trade_id: int,
        reason: ExitReason | str,
        *,
        underlying_price: float | None = None,
        now: datetime | None = None,
    ) -> JournalTrade | None:
        """Compare-and-set open → exiting with a fresh exit id; None if not open.

        The conditional UPDATE is atomic in SQLite and Postgres, so two monitors (or a
        monitor and a Close click) racing on one trade produce exactly one exit.
        """
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            if row.status != TradeStatus.OPEN.value or row.entry_filled_qty - row.closed_qty <= 0:
                return None
            attempt = row.exit_attempts + 1
            result = s.execute(
                update(_TradeRow)
                .where(_TradeRow.id == trade_id, _TradeRow.status == TradeStatus.OPEN.value)
                .where(_TradeRow.exit_attempts == row.exit_attempts)
                .values(
                    status=TradeStatus.EXITING.value,
                    exit_attempts=attempt,
                    exit_client_order_id=exit_client_order_id(row.entry_client_order_id, attempt),
                    exit_order_id=None,
                    exit_order_status=None,
                    exit_reason=ExitReason(reason).value,
                    exit_requested_at=now,
                    exit_underlying_price=underlying_price,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            s.expire(row)
            return _to_record(s.get(_TradeRow, trade_id))  # type: ignore[arg-type]

    def record_exit_order(
        self, trade_id: int, order: Order, now: datetime | None = None
    ) -> JournalTrade:
        """Apply the broker's view of the current exit order; closes the trade when done.

        A fill adds ``(exit − entry) × 100 × qty`` to realised P&L; an exit order that
        ends unfilled returns the trade to open so the monitor can try again.
        """
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            if row.exit_client_order_id != order.client_order_id:
                raise JournalError(
                    f"trade {trade_id}: order {order.client_order_id} is not its current exit"
                )
            row.exit_order_id = order.id
            row.exit_order_status = order.status
            row.updated_at = now
            if TradeStatus(row.status) is not TradeStatus.EXITING:
                return _to_record(row)
            filled = int(order.filled_qty or 0)
            if (
                order.status in _TERMINAL_ORDER
                and filled > 0
                and order.filled_avg_price is not None
            ):
                _apply_exit_fill(row, order.filled_avg_price, filled, order.filled_at or now)
                if row.closed_qty >= row.entry_filled_qty:
                    self._move(row, TradeStatus.CLOSED, now, f"closed ({row.exit_reason})")
                else:
                    self._move(row, TradeStatus.OPEN, now, "exit partly filled; remainder open")
            elif order.status in _TERMINAL_ORDER:
                self._move(row, TradeStatus.OPEN, now, f"exit order {order.status}; will retry")
            return _to_record(row)

    def exit_failed(self, trade_id: int, message: str, now: datetime | None = None) -> JournalTrade:
        """The exit order was refused or never reached the broker: back to open."""
        with self._tx() as s:
            row = self._row(s, trade_id)
            row.exit_order_status = "rejected"
            self._move(row, TradeStatus.OPEN, now or _now(), message)
            return _to_record(row)

    def close_expired(
        self, trade_id: int, settlement: Decimal, now: datetime | None = None
    ) -> JournalTrade:
        """The contract expired while held: close at its settlement value."""
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            qty = row.entry_filled_qty - row.closed_qty
            entry_px = row.entry_fill_price or Decimal(0)
            row.realized_pnl = (row.realized_pnl or Decimal(0)) + (
                (settlement - entry_px) * CONTRACT_MULTIPLIER * qty
            )
            row.closed_qty = row.entry_filled_qty
            row.exit_price = settlement
            row.exit_reason = ExitReason.EXPIRY.value
            row.exit_filled_at = now
            self._move(row, TradeStatus.CLOSED, now, "expired while held")
            return _to_record(row)

    # ---- watchlist -------------------------------------------------------------------------
    @staticmethod
    def _watch_rows(s: Session) -> list[_WatchlistRow]:
        return list(s.scalars(select(_WatchlistRow).order_by(_WatchlistRow.position)))

    def watchlist(self, seed: Sequence[str] = ()) -> tuple[str, ...]:
        """The stored watchlist, oldest first. A journal that never had one stores
        ``seed`` on this first read (once: removing every seeded symbol later does not
        bring them back)."""
        with self._sessions() as s:
            seeded = s.get(_MetaRow, _WATCHLIST_SEEDED) is not None
            if seeded:
                return tuple(r.symbol for r in self._watch_rows(s))
        try:
            with self._tx() as s:
                if s.get(_MetaRow, _WATCHLIST_SEEDED) is None:
                    have = {r.symbol for r in self._watch_rows(s)}
                    now = _now()
                    for i, sym in enumerate(dict.fromkeys(x.strip().upper() for x in seed)):
                        if sym and sym not in have:
                            s.add(_WatchlistRow(symbol=sym, added_at=now, position=i))
                    s.add(_MetaRow(key=_WATCHLIST_SEEDED, value="1"))
        except IntegrityError:
            pass  # another process seeded it at the same moment
        with self._sessions() as s:
            return tuple(r.symbol for r in self._watch_rows(s))

    def watchlist_add(
        self,
        symbol: str,
        *,
        max_symbols: int,
        name: str | None = None,
        seed: Sequence[str] = (),
        now: datetime | None = None,
    ) -> tuple[str, ...]:
        """Append ``symbol``; refused (``JournalError``) when it is there already or the
        list holds ``max_symbols``. Returns the new list. The limit is checked in the
        transaction; two adds racing past it at once can overshoot it by one."""
        sym = symbol.strip().upper()
        self.watchlist(seed)  # a first edit comes after the seed, never before it
        with self._tx() as s:
            rows = self._watch_rows(s)
            if any(r.symbol == sym for r in rows):
                raise JournalError(f"{sym} is already on the watchlist")
            if len(rows) >= max_symbols:
                raise JournalError(
                    f"the watchlist holds its limit of {max_symbols} symbols; remove one first"
                )
            position = max((r.position for r in rows), default=-1) + 1
            s.add(
                _WatchlistRow(
                    symbol=sym, name=(name or None), added_at=now or _now(), position=position
                )
            )
        return self.watchlist()

    def watchlist_remove(self, symbol: str, *, seed: Sequence[str] = ()) -> tuple[str, ...]:
        """Remove ``symbol``; the last symbol cannot go (the tabs scan the watchlist)."""
        sym = symbol.strip().upper()
        self.watchlist(seed)
        with self._tx() as s:
            rows = self._watch_rows(s)
            row = next((r for r in rows if r.symbol == sym), None)
            if row is None:
                raise JournalError(f"{sym} is not on the watchlist")
            if len(rows) == 1:
                raise JournalError("the watchlist needs at least one symbol")
            s.delete(row)
        return self.watchlist()

    # ---- fill context and the broker-held stop ------------------------------------------------
    def record_fill_context(
        self,
        trade_id: int,
        *,
        underlying_price: float | None,
        iv: float | None,
        delta: float | None,
        now: datetime | None = None,
    ) -> JournalTrade:
        """Keep the underlying's price and the contract's IV and delta at the entry fill;
        written once (a later call fills only what is still missing)."""
        with self._tx() as s:
            row = self._row(s, trade_id)
            if row.fill_underlying_price is None:
                row.fill_underlying_price = underlying_price
            if row.fill_iv is None:
                row.fill_iv = iv
            if row.fill_delta is None:
                row.fill_delta = delta
            row.updated_at = now or _now()
            return _to_record(row)

    def begin_broker_stop(
        self,
        trade_id: int,
        *,
        stop_price: Decimal,
        limit_price: Decimal | None,
        now: datetime | None = None,
    ) -> JournalTrade | None:
        """Record the intent to place a protective stop (before it is sent); None when the
        trade is not open or already has a working one."""
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            if row.status != TradeStatus.OPEN.value or row.entry_filled_qty - row.closed_qty <= 0:
                return None
            if row.broker_stop_client_order_id is not None and (
                row.broker_stop_status is None or row.broker_stop_status not in _TERMINAL_ORDER
            ):
                return None
            attempt = int((row.broker_stop_client_order_id or "-0").rsplit("-", 1)[1]) + 1
            row.broker_stop_client_order_id = broker_stop_client_order_id(
                row.entry_client_order_id, attempt
            )
            row.broker_stop_order_id = None
            row.broker_stop_status = None
            row.broker_stop_price = stop_price
            row.broker_stop_limit = limit_price
            row.updated_at = now
            return _to_record(row)

    def record_broker_stop(
        self,
        trade_id: int,
        order: Order | None,
        *,
        status: str | None = None,
        now: datetime | None = None,
    ) -> JournalTrade:
        """Apply the broker's view of the protective stop. A filled stop closes the trade
        with that fill (exit reason ``broker_stop``): the broker's exit was the one exit."""
        now = now or _now()
        with self._tx() as s:
            row = self._row(s, trade_id)
            if order is None:
                row.broker_stop_status = status
                row.updated_at = now
                return _to_record(row)
            if row.broker_stop_client_order_id != order.client_order_id:
                raise JournalError(
                    f"trade {trade_id}: order {order.client_order_id} is not its broker stop"
                )
            row.broker_stop_order_id = order.id
            row.broker_stop_status = order.status
            row.updated_at = now
            filled = int(order.filled_qty or 0)
            current = TradeStatus(row.status)
            if (
                filled > 0
                and order.filled_avg_price is not None
                and order.status in _TERMINAL_ORDER
                and current in (TradeStatus.OPEN, TradeStatus.EXITING)
                and row.closed_qty < row.entry_filled_qty
            ):
                _apply_exit_fill(row, order.filled_avg_price, filled, order.filled_at or now)
                row.exit_reason = ExitReason.BROKER_STOP.value
                if row.closed_qty >= row.entry_filled_qty:
                    self._move(row, TradeStatus.CLOSED, now, "closed by the broker-held stop")
            return _to_record(row)

    # ---- armed entries -----------------------------------------------------------------------
    def arm_entry(
        self, entry: ArmedEntry, *, request_key: str, now: datetime | None = None
    ) -> tuple[ArmedEntry, bool]:
        """Record an armed entry (``entry.id`` and status are ignored); (entry, created).
        A repeated ``request_key`` (a double click) returns the first arming."""
        now = now or _now()
        existing = self._armed_by_key(request_key)
        if existing is not None:
            return existing, False
        values = {
            name: getattr(entry, name)
            for name in _ARMED_FIELDS
            if name not in ("id", "created_at", "updated_at", "status", "reason")
        }
        try:
            with self._tx() as s:
                row = _ArmedRow(
                    **values,
                    created_at=now,
                    updated_at=now,
                    request_key=request_key,
                    status=ArmingStatus.ARMED.value,
                )
                s.add(row)
                s.flush()
                record = _armed_record(row)
        except IntegrityError:
            found = self._armed_by_key(request_key)
            if found is None:
                raise
            return found, False
        return record, True

    def _armed_by_key(self, key: str) -> ArmedEntry | None:
        with self._sessions() as s:
            row = s.scalars(select(_ArmedRow).where(_ArmedRow.request_key == key)).first()
            return _armed_record(row) if row is not None else None

    def armed_entry(self, entry_id: int) -> ArmedEntry | None:
        with self._sessions() as s:
            row = s.get(_ArmedRow, entry_id)
            return _armed_record(row) if row is not None else None

    def armed_entries(
        self, statuses: Iterable[ArmingStatus | str] | None = None, *, limit: int | None = None
    ) -> list[ArmedEntry]:
        """Armed entries, newest first; optionally only some statuses."""
        stmt = select(_ArmedRow).order_by(_ArmedRow.id.desc())
        if statuses is not None:
            stmt = stmt.where(_ArmedRow.status.in_([ArmingStatus(x).value for x in statuses]))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._sessions() as s:
            return [_armed_record(r) for r in s.scalars(stmt)]

    def active_armed(self) -> list[ArmedEntry]:
        return self.armed_entries(ACTIVE_ARMING)

    def move_armed(
        self,
        entry_id: int,
        expected: ArmingStatus,
        to: ArmingStatus,
        *,
        reason: DisarmReason | None = None,
        detail: str | None = None,
        trigger_price: float | None = None,
        triggered_at: datetime | None = None,
        trade_id: int | None = None,
        now: datetime | None = None,
    ) -> ArmedEntry | None:
        """Compare-and-set ``expected`` → ``to``; None when another process moved it first.

        This atomic UPDATE is what makes an armed entry fire once: of two monitors that
        both see the trigger, only one moves it armed → triggered.
        """
        if to not in ARMING_MOVES[expected]:
            raise JournalError(f"armed entry {entry_id}: cannot go from {expected} to {to}")
        now = now or _now()
        values: dict[str, Any] = {"status": to.value, "updated_at": now}
        if reason is not None:
            values["reason"] = reason.value
        if detail is not None:
            values["detail"] = detail
        if trigger_price is not None:
            values["trigger_price"] = trigger_price
        if triggered_at is not None:
            values["triggered_at"] = triggered_at
        if trade_id is not None:
            values["trade_id"] = trade_id
        with self._tx() as s:
            result = s.execute(
                update(_ArmedRow)
                .where(_ArmedRow.id == entry_id, _ArmedRow.status == expected.value)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
        return self.armed_entry(entry_id)

    def link_armed_trade(self, entry_id: int, trade_id: int, now: datetime | None = None) -> None:
        """Remember the trade a triggered entry created (before its order is sent)."""
        with self._tx() as s:
            row = s.get(_ArmedRow, entry_id)
            if row is None:
                raise JournalError(f"no armed entry {entry_id} in the journal")
            row.trade_id = trade_id
            row.updated_at = now or _now()

    def cancel_armed(self, entry_id: int, now: datetime | None = None) -> ArmedEntry | None:
        """The user's Cancel: armed → disarmed; None when it has already triggered or ended."""
        return self.move_armed(
            entry_id,
            ArmingStatus.ARMED,
            ArmingStatus.DISARMED,
            reason=DisarmReason.USER_CANCELLED,
            detail="cancelled by the user",
            now=now,
        )

    def active_for_signal(self, signal_id: str) -> tuple[list[JournalTrade], list[ArmedEntry]]:
        """What a signal already has working: its active trades (working entry, open,
        exiting) and its active armed entries. The ticket's duplicate guard asks this."""
        trades = [t for t in self.active_trades() if t.signal_id == signal_id]
        with self._sessions() as s:
            armed = [
                _armed_record(r)
                for r in s.scalars(
                    select(_ArmedRow)
                    .where(_ArmedRow.signal_id == signal_id)
                    .where(_ArmedRow.status.in_([a.value for a in ACTIVE_ARMING]))
                    .order_by(_ArmedRow.id.desc())
                )
            ]
        return trades, armed

    # ---- lease (exit-monitor leader) ---------------------------------------------------------
    def acquire_lease(
        self, name: str, holder: str, ttl_seconds: float, now: datetime | None = None
    ) -> bool:
        """Take or renew a named lease; True if ``holder`` holds it until now + ttl.

        One conditional UPDATE (or INSERT for a new name): atomic, so two processes
        cannot both win.
        """
        now = now or _now()
        until = now + timedelta(seconds=ttl_seconds)
        with self._tx() as s:
            result = s.execute(
                update(_LeaseRow)
                .where(_LeaseRow.name == name)
                .where((_LeaseRow.holder == holder) | (_LeaseRow.expires_at < now))
                .values(holder=holder, expires_at=until)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with self._tx() as s:
                if s.get(_LeaseRow, name) is not None:
                    return False
                s.execute(insert(_LeaseRow).values(name=name, holder=holder, expires_at=until))
        except IntegrityError:
            return False
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with self._tx() as s:
            s.execute(
                update(_LeaseRow)
                .where(_LeaseRow.name == name, _LeaseRow.holder == holder)
                .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
                .execution_options(synchronize_session=False)
            )

    def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        now = now or _now()
        with self._sessions() as s:
            row = s.get(_LeaseRow, name)
            if row is None or row.expires_at < now:
                return None
            return row.holder


def _read_meta(conn: Connection) -> tuple[int | None, str | None]:
    """(schema version, instance id) as stored, or (None, None) for an empty database."""
    if not inspect(conn).has_table("journal_meta"):
        return None, None
    rows = dict(
        conn.execute(
            select(_MetaRow.key, _MetaRow.value).where(
                _MetaRow.key.in_(("schema_version", "instance_id"))
            )
        ).all()
    )
    raw = rows.get("schema_version")
    try:
        version = int(raw) if raw is not None else None
    except ValueError:
        raise JournalError(f"journal schema version {raw!r} is not a number") from None
    return version, rows.get("instance_id")


def _set_meta(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(update(_MetaRow).where(_MetaRow.key == key).values(value=value))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        conn.execute(insert(_MetaRow).values(key=key, value=value))


def _migrate(conn: Connection, url: Any) -> str:
    """Run the steps this database has not had (caller holds the lock); its instance id."""
    version, instance = _read_meta(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise JournalError(
            f"journal schema version {version} at {url!r} is newer than this code "
            f"({SCHEMA_VERSION}); upgrade the app or point DATABASE_URL elsewhere"
        )
    for step in MIGRATIONS:
        if version is None or step.version > version:
            step.apply(conn)
            _set_meta(conn, "schema_version", str(step.version))
    if instance is None:
        instance = uuid.uuid4().hex[:10]
        _set_meta(conn, "instance_id", instance)
    return instance


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets readers (the UI) run while the monitor writes; busy_timeout waits for locks."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA busy_timeout=30000")
        # Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked"
        # at once, without its busy handler, when several processes open the file together.
        for attempt in range(_WAL_ATTEMPTS):
            try:
                cur.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 + 0.03 * random.random())
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()
