"""Journal round trips, status lifecycle, crash safety, the leader lease and the schema steps,
each on a fresh SQLite file and on a fresh database of a real Postgres server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.engine import Connection

from dashboard.trading import journal as journal_module
from dashboard.trading.arming import ArmedEntry, ArmingStatus, DisarmReason
from dashboard.trading.journal import (
    ExitReason,
    Journal,
    JournalError,
    Migration,
    TradeStatus,
    add_column,
    create_table,
    exit_client_order_id,
)

from ._fixtures import NOW, ticket
from ._fixtures import order as make_order


@pytest.fixture
def journal(journal_url: str) -> Iterator[Journal]:
    j = Journal(journal_url)
    yield j
    j.close()


def test_intent_round_trip(journal: Journal) -> None:
    trade, created = journal.create_intent(
        ticket(tfc="3/4 ↑", target2=207.0), request_key="k1", now=NOW
    )
    assert created and trade.status is TradeStatus.PENDING_ENTRY
    assert trade.entry_client_order_id == f"sd-{journal.instance_id}-{trade.id}-entry"
    got = journal.get(trade.id)
    assert got == trade
    assert got.created_at == NOW and got.created_at.tzinfo is not None
    assert got.planned_limit == Decimal("2.50") and got.strike == Decimal(200)
    assert (got.entry_level, got.target_level, got.target2_level, got.stop_level) == (
        201.0,
        205.0,
        207.0,
        198.5,
    )
    assert got.tfc == "3/4 ↑" and got.pattern == "2-1-2" and got.qty == 2


def test_same_request_key_returns_first_trade(journal: Journal) -> None:
    a, created_a = journal.create_intent(ticket(), request_key="dbl", now=NOW)
    b, created_b = journal.create_intent(ticket(), request_key="dbl", now=NOW)
    assert created_a and not created_b and a.id == b.id
    assert len(journal.list_trades()) == 1


def test_concurrent_intents_with_one_key_make_one_row(journal: Journal) -> None:
    ids: list[int] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        t, _ = journal.create_intent(ticket(), request_key="race", now=NOW)
        ids.append(t.id)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(ids)) == 1 and len(journal.list_trades()) == 1


def test_intent_survives_a_failed_submit_and_a_restart(journal_url: str) -> None:
    url = journal_url
    j1 = Journal(url)
    trade, _ = j1.create_intent(ticket(), request_key="crash", now=NOW)
    # The process dies here, between submit and the result write.
    j1.engine.dispose()
    j2 = Journal(url)
    again = j2.active_trades()
    assert [t.id for t in again] == [trade.id]
    assert again[0].entry_client_order_id == trade.entry_client_order_id
    assert j2.instance_id == j1.instance_id
    j2.close()


def test_full_lifecycle_and_realised_pnl(journal: Journal) -> None:
    t, _ = journal.create_intent(ticket(), request_key="life", now=NOW)
    coid = t.entry_client_order_id
    t = journal.record_entry_order(t.id, make_order(coid, status="new"))
    assert t.status is TradeStatus.PENDING_ENTRY and t.entry_order_id == f"oid-{coid}"
    t = journal.record_entry_order(
        t.id, make_order(coid, status="filled", filled_qty="2", price="2.45")
    )
    assert (
        t.status is TradeStatus.OPEN and t.entry_fill_price == Decimal("2.45") and t.open_qty == 2
    )

    t = journal.begin_exit(t.id, ExitReason.TARGET, underlying_price=205.2, now=NOW)
    assert t is not None and t.status is TradeStatus.EXITING and t.exit_attempts == 1
    assert (
        t.exit_client_order_id == exit_client_order_id(coid, 1) == coid.replace("-entry", "-exit-1")
    )
    assert journal.begin_exit(t.id, ExitReason.STOP, now=NOW) is None  # never double-exits

    ex = make_order(
        t.exit_client_order_id, status="filled", filled_qty="2", price="4.10", side="sell"
    )
    t = journal.record_exit_order(t.id, ex)
    assert t.status is TradeStatus.CLOSED and t.exit_reason == "target"
    assert t.exit_price == Decimal("4.10")
    assert t.realized_pnl == Decimal("330.00")  # (4.10 − 2.45) × 100 × 2
    assert t.exit_underlying_price == 205.2


def test_unfilled_exit_returns_to_open_with_a_new_id_next_time(journal: Journal) -> None:
    t, _ = journal.create_intent(ticket(), request_key="retry", now=NOW)
    t = journal.record_entry_order(
        t.id, make_order(t.entry_client_order_id, status="filled", filled_qty="2", price="2.45")
    )
    t = journal.begin_exit(t.id, "stop", now=NOW)
    first = t.exit_client_order_id
    t = journal.record_exit_order(t.id, make_order(first, status="expired", side="sell"))
    assert t.status is TradeStatus.OPEN and t.exit_reason == "stop"
    t2 = journal.begin_exit(t.id, "stop", now=NOW)
    assert t2 is not None and t2.exit_client_order_id != first and t2.exit_attempts == 2


def test_partial_exit_keeps_the_rest_open(journal: Journal) -> None:
    t, _ = journal.create_intent(ticket(), request_key="part", now=NOW)
    t = journal.record_entry_order(
        t.id, make_order(t.entry_client_order_id, status="filled", filled_qty="2", price="2.00")
    )
    t = journal.begin_exit(t.id, "manual", now=NOW)
    t = journal.record_exit_order(
        t.id,
        make_order(
            t.exit_client_order_id, status="canceled", filled_qty="1", price="3.00", side="sell"
        ),
    )
    assert t.status is TradeStatus.OPEN and t.open_qty == 1 and t.realized_pnl == Decimal("100.00")


def test_rejected_and_illegal_transitions(journal: Journal) -> None:
    t, _ = journal.create_intent(ticket(), request_key="rej", now=NOW)
    t = journal.mark_rejected(t.id, "insufficient buying power")
    assert t.status is TradeStatus.REJECTED and t.status_message == "insufficient buying power"
    with pytest.raises(JournalError):
        journal.mark_canceled(t.id, "too late")
    assert journal.begin_exit(t.id, "manual") is None
    with pytest.raises(JournalError):
        journal.get(999) or journal.mark_rejected(999, "x")


def test_entry_expired_unfilled_is_canceled_partial_is_open(journal: Journal) -> None:
    a, _ = journal.create_intent(ticket(), request_key="a", now=NOW)
    a = journal.record_entry_order(a.id, make_order(a.entry_client_order_id, status="expired"))
    assert a.status is TradeStatus.CANCELED
    b, _ = journal.create_intent(ticket(), request_key="b", now=NOW)
    b = journal.record_entry_order(
        b.id, make_order(b.entry_client_order_id, status="expired", filled_qty="1", price="2.50")
    )
    assert b.status is TradeStatus.OPEN and b.open_qty == 1


def test_update_levels_checks_sides(journal: Journal) -> None:
    t, _ = journal.create_intent(ticket(), request_key="lv", now=NOW)
    t = journal.update_levels(t.id, target=206.5, stop=199.0)
    assert (t.target_level, t.stop_level) == (206.5, 199.0)
    with pytest.raises(JournalError, match="wrong side"):
        journal.update_levels(t.id, stop=202.0)


def test_list_filters_and_order(journal: Journal) -> None:
    a, _ = journal.create_intent(ticket(), request_key="1", now=NOW)
    b, _ = journal.create_intent(ticket(), request_key="2", now=NOW)
    journal.mark_rejected(a.id, "no")
    assert [t.id for t in journal.list_trades()] == [b.id, a.id]
    assert [t.id for t in journal.active_trades()] == [b.id]
    assert journal.by_client_order_id(b.entry_client_order_id).id == b.id


def test_lease_one_holder_until_expiry(journal: Journal) -> None:
    assert journal.acquire_lease("m", "A", 30, NOW)
    assert not journal.acquire_lease("m", "B", 30, NOW + timedelta(seconds=10))
    assert journal.acquire_lease("m", "A", 30, NOW + timedelta(seconds=20))  # renew
    assert journal.lease_holder("m", NOW + timedelta(seconds=40)) == "A"
    assert journal.acquire_lease("m", "B", 30, NOW + timedelta(seconds=51))  # A's lapsed
    journal.release_lease("m", "B")
    assert journal.acquire_lease("m", "A", 30, NOW + timedelta(seconds=52))


def test_lease_across_two_journals_on_one_database(journal_url: str) -> None:
    url = journal_url
    j1, j2 = Journal(url), Journal(url)
    wins = [j1.acquire_lease("m", "p1", 30, NOW), j2.acquire_lease("m", "p2", 30, NOW)]
    assert wins == [True, False]
    j1.close()
    j2.close()


def test_a_newer_schema_is_refused(journal_url: str) -> None:
    url = journal_url
    j = Journal(url)
    with j.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE journal_meta SET value='99' WHERE key='schema_version'")
    j.close()
    with pytest.raises(JournalError, match="schema version 99"):
        Journal(url)


def test_naive_timestamps_are_refused(journal: Journal) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        journal.create_intent(ticket(), request_key="n", now=NOW.replace(tzinfo=None))


# ---- schema steps ---------------------------------------------------------------------------


def _columns(journal: Journal, table: str) -> set[str]:
    return {c["name"] for c in sa_inspect(journal.engine).get_columns(table)}


def _version(journal: Journal) -> str:
    with journal.engine.connect() as conn:
        return conn.execute(
            text("SELECT value FROM journal_meta WHERE key = 'schema_version'")
        ).scalar_one()


# The version a next step would get: one past the newest step of the code.
NEXT = journal_module.SCHEMA_VERSION + 1


def _add_step_2(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Register a next step (``trades.notes`` and ``leases``, as a later version would
    add them); the list records each time it runs."""
    runs: list[str] = []

    def step_2(conn: Connection) -> None:
        runs.append(str(NEXT))
        add_column(conn, "trades", "notes")
        create_table(conn, "leases")

    steps = (*journal_module.MIGRATIONS, Migration(NEXT, "trades.notes, leases", step_2))
    monkeypatch.setattr(journal_module, "MIGRATIONS", steps)
    monkeypatch.setattr(journal_module, "SCHEMA_VERSION", NEXT)
    return runs


def test_a_fresh_database_gets_every_table_and_column_of_the_model(journal: Journal) -> None:
    assert _version(journal) == str(journal_module.SCHEMA_VERSION)
    for name, table in journal_module._Base.metadata.tables.items():
        assert _columns(journal, name) == {c.name for c in table.columns}


def test_a_new_step_runs_once_on_an_older_database(
    journal_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Journal(journal_url)
    trade, _ = old.create_intent(ticket(), request_key="kept", now=NOW)
    # Make the database look like one from before ``notes`` and ``leases`` existed.
    with old.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE trades DROP COLUMN notes")
        conn.exec_driver_sql("DROP TABLE leases")
    old.close()
    runs = _add_step_2(monkeypatch)

    upgraded = Journal(journal_url)
    again = Journal(journal_url)  # already at 2: the step does not run twice
    assert runs == [str(NEXT)]
    assert _version(upgraded) == str(NEXT) and "notes" in _columns(upgraded, "trades")
    assert upgraded.instance_id == again.instance_id
    kept = upgraded.get(trade.id)
    assert kept is not None and kept.notes is None and kept.request_key == "kept"
    assert upgraded.add_note(trade.id, "after the step").notes == "after the step"
    assert upgraded.acquire_lease("m", "A", 30, NOW)
    upgraded.close()
    again.close()


def test_every_step_is_idempotent_on_a_fresh_database(
    journal_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh database runs all steps; step 1 already made what step 2 adds."""
    runs = _add_step_2(monkeypatch)
    j = Journal(journal_url)
    assert _version(j) == str(NEXT) and runs == [str(NEXT)]
    j.close()


def test_a_failing_step_changes_nothing(journal_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Journal(journal_url).close()

    def broken(conn: Connection) -> None:
        add_column(conn, "trades", "status")  # exists: no-op
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("the next step failed half way")

    monkeypatch.setattr(
        journal_module, "MIGRATIONS", (*journal_module.MIGRATIONS, Migration(NEXT, "x", broken))
    )
    monkeypatch.setattr(journal_module, "SCHEMA_VERSION", NEXT)
    with pytest.raises(RuntimeError, match="half way"):
        Journal(journal_url)
    monkeypatch.undo()
    j = Journal(journal_url)  # still the old version; the half-made table was rolled back
    assert _version(j) == str(NEXT - 1)
    assert not sa_inspect(j.engine).has_table("half_done")
    j.close()


def test_a_step_cannot_add_a_required_column_without_a_default(journal: Journal) -> None:
    with journal.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE trades DROP COLUMN underlying")
        with pytest.raises(JournalError, match="must be nullable or have a server_default"):
            add_column(conn, "trades", "underlying")


# ---- watchlist ------------------------------------------------------------------------------


def test_the_watchlist_is_seeded_once_then_edited(journal_url: str) -> None:
    j = Journal(journal_url)
    assert j.watchlist(("spy", "QQQ", "SPY")) == ("SPY", "QQQ")
    assert j.watchlist_add("iwm", max_symbols=3, name="iShares Russell 2000") == (
        "SPY",
        "QQQ",
        "IWM",
    )
    with pytest.raises(JournalError, match="already on the watchlist"):
        j.watchlist_add("SPY", max_symbols=10)
    with pytest.raises(JournalError, match="limit of 3 symbols"):
        j.watchlist_add("AAPL", max_symbols=3)
    assert j.watchlist_remove("spy") == ("QQQ", "IWM")
    with pytest.raises(JournalError, match="not on the watchlist"):
        j.watchlist_remove("SPY")
    j.close()
    # Another process on the same database: the edits are kept, the seed is not re-stored.
    again = Journal(journal_url)
    assert again.watchlist(("SPY", "TSLA")) == ("QQQ", "IWM")
    again.watchlist_remove("QQQ")
    with pytest.raises(JournalError, match="at least one symbol"):
        again.watchlist_remove("IWM")
    assert again.watchlist() == ("IWM",)
    again.close()


def test_a_first_edit_stores_the_seed_before_it(journal: Journal) -> None:
    assert journal.watchlist_add("AAPL", max_symbols=5, seed=("SPY",)) == ("SPY", "AAPL")
    assert journal.watchlist(("NVDA",)) == ("SPY", "AAPL")


# ---- armed entries, fill context, broker stop (step 4) ---------------------------------------


def _armed(**over: object) -> ArmedEntry:
    from tests.trading.test_arming import entry

    return entry(**over)


def test_arm_round_trip_and_double_click(journal: Journal) -> None:
    e, created = journal.arm_entry(_armed(max_premium=Decimal("3.10")), request_key="a1", now=NOW)
    again, created_again = journal.arm_entry(_armed(), request_key="a1", now=NOW)
    assert created and not created_again and again == e
    assert e.status is ArmingStatus.ARMED and e.reason is None
    assert e.max_premium == Decimal("3.10") and e.strike == Decimal(200)
    assert e.armed_at == _armed().armed_at and e.expires_at.tzinfo is not None
    assert journal.active_armed() == [e]
    assert e.request_key == f"armed-{e.id}"


def test_armed_moves_are_compare_and_set(journal: Journal) -> None:
    e, _ = journal.arm_entry(_armed(), request_key="a2", now=NOW)
    first = journal.move_armed(
        e.id, ArmingStatus.ARMED, ArmingStatus.TRIGGERED, trigger_price=100.01, now=NOW
    )
    second = journal.move_armed(e.id, ArmingStatus.ARMED, ArmingStatus.TRIGGERED, now=NOW)
    assert first is not None and first.status is ArmingStatus.TRIGGERED
    assert first.trigger_price == 100.01
    assert second is None  # the other monitor lost the race
    assert journal.cancel_armed(e.id, NOW) is None  # triggered: too late to cancel
    with pytest.raises(JournalError, match="cannot go"):
        journal.move_armed(e.id, ArmingStatus.SENT, ArmingStatus.ARMED)
    sent = journal.move_armed(e.id, ArmingStatus.TRIGGERED, ArmingStatus.SENT, trade_id=3)
    assert sent is not None and sent.trade_id == 3 and not sent.is_active
    assert journal.active_armed() == []


def test_cancel_records_the_reason(journal: Journal) -> None:
    e, _ = journal.arm_entry(_armed(), request_key="a3", now=NOW)
    gone = journal.cancel_armed(e.id, NOW)
    assert gone is not None and gone.status is ArmingStatus.DISARMED
    assert gone.reason is DisarmReason.USER_CANCELLED


def test_active_for_signal_sees_trades_and_armings(journal: Journal) -> None:
    sig = "AAPL-1Day-2-1-2-long"
    assert journal.active_for_signal(sig) == ([], [])
    e, _ = journal.arm_entry(_armed(signal_id=sig), request_key="a4", now=NOW)
    trade, _ = journal.create_intent(ticket(signal_id=sig), request_key="t4", now=NOW)
    journal.create_intent(ticket(signal_id="other"), request_key="t5", now=NOW)
    trades, armed = journal.active_for_signal(sig)
    assert [t.id for t in trades] == [trade.id] and [a.id for a in armed] == [e.id]
    journal.cancel_armed(e.id, NOW)
    journal.mark_canceled(trade.id, "x", NOW)
    assert journal.active_for_signal(sig) == ([], [])


def _open_trade(journal: Journal, key: str) -> int:
    trade, _ = journal.create_intent(ticket(), request_key=key, now=NOW)
    filled = make_order(trade.entry_client_order_id, status="filled", filled_qty="2", price="2.50")
    return journal.record_entry_order(trade.id, filled, NOW).id


def test_fill_context_is_written_once(journal: Journal) -> None:
    tid = _open_trade(journal, "f1")
    got = journal.record_fill_context(tid, underlying_price=201.3, iv=0.25, delta=0.55)
    assert (got.fill_underlying_price, got.fill_iv, got.fill_delta) == (201.3, 0.25, 0.55)
    later = journal.record_fill_context(tid, underlying_price=205.0, iv=0.3, delta=0.7)
    assert (later.fill_underlying_price, later.fill_iv, later.fill_delta) == (201.3, 0.25, 0.55)


def test_broker_stop_fill_closes_the_trade_with_that_fill(journal: Journal) -> None:
    tid = _open_trade(journal, "bs1")
    t = journal.begin_broker_stop(tid, stop_price=Decimal("1.20"), limit_price=None, now=NOW)
    assert t is not None and t.broker_stop_client_order_id is not None
    assert t.broker_stop_client_order_id.endswith("-bstop-1")
    # A second stop while the first works is refused.
    assert journal.begin_broker_stop(tid, stop_price=Decimal("1.0"), limit_price=None) is None
    working = make_order(t.broker_stop_client_order_id, side="sell")
    assert journal.record_broker_stop(tid, working).broker_stop_status == "new"
    filled = make_order(
        t.broker_stop_client_order_id, status="filled", filled_qty="2", price="1.15", side="sell"
    )
    closed = journal.record_broker_stop(tid, filled, now=NOW)
    assert closed.status is TradeStatus.CLOSED and closed.exit_reason == "broker_stop"
    assert closed.realized_pnl == (Decimal("1.15") - Decimal("2.50")) * 100 * 2
    assert closed.exit_price == Decimal("1.15")
    # A software exit can no longer start.
    assert journal.begin_exit(tid, ExitReason.STOP, now=NOW) is None


def test_steps_4_and_5_upgrade_a_version_1_database(journal_url: str) -> None:
    """A version-1 database gets the armed entries, the fill context and the broker stop
    (step 4) and the watchlist (step 5), and keeps its trades."""
    old = Journal(journal_url)
    trade, _ = old.create_intent(ticket(), request_key="v1", now=NOW)
    with old.engine.begin() as conn:  # what a version-1 database looked like
        conn.exec_driver_sql("DROP TABLE armed_entries")
        conn.exec_driver_sql("DROP TABLE watchlist")
        for column in journal_module._V4_TRADE_COLUMNS:
            conn.exec_driver_sql(f"ALTER TABLE trades DROP COLUMN {column}")
        conn.exec_driver_sql("UPDATE journal_meta SET value='1' WHERE key='schema_version'")
    old.close()
    upgraded = Journal(journal_url)
    assert _version(upgraded) == str(journal_module.SCHEMA_VERSION)
    assert set(journal_module._V4_TRADE_COLUMNS) <= _columns(upgraded, "trades")
    kept = upgraded.get(trade.id)
    assert kept is not None and kept.fill_underlying_price is None
    e, created = upgraded.arm_entry(_armed(), request_key="after", now=NOW)
    assert created and upgraded.active_armed() == [e]
    assert upgraded.watchlist(("SPY",)) == ("SPY",)
    upgraded.close()
