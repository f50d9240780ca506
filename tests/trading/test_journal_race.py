"""First boot: many processes open one fresh journal at the same instant, 20 rounds, on
SQLite and on Postgres. Every opening must succeed and all must agree on the journal.

The processes are started once (from a forkserver that has already imported the journal,
so each costs a fork, not an import) and then, each round, released together by a
barrier onto a new, empty database.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from tests._servers import PostgresServer

pytestmark = pytest.mark.slow

PROCESSES = 4  # two gunicorn workers, the exit worker and one more
ROUNDS = 20


def _opener(conn: Connection, barrier: Any) -> None:
    from dashboard.trading.journal import Journal

    while True:
        url = conn.recv()
        if url is None:
            return
        barrier.wait()
        try:
            journal = Journal(url)
            trade_count = len(journal.list_trades())
            conn.send(("ok", journal.instance_id, trade_count))
            journal.close()
        except BaseException:
            conn.send(("error", traceback.format_exc(limit=4)[-800:], None))


class Openers:
    """PROCESSES processes that open a journal URL together when told to."""

    def __init__(self, n: int) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["dashboard.trading.journal"])
        self.barrier = ctx.Barrier(n, timeout=120)
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(n):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_opener, args=(theirs, self.barrier), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    def open_all(self, url: str) -> list[tuple[str, str, int | None]]:
        for pipe in self.pipes:
            pipe.send(url)
        return [
            pipe.recv() if pipe.poll(180) else ("error", "no answer", None) for pipe in self.pipes
        ]

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


@pytest.fixture(scope="module")
def openers() -> Iterator[Openers]:
    group = Openers(PROCESSES)
    yield group
    group.close()


def _rounds(openers: Openers, fresh_url: Callable[[int], str]) -> list[str]:
    failures = []
    for i in range(ROUNDS):
        results = openers.open_all(fresh_url(i))
        errors = [detail for state, detail, _ in results if state != "ok"]
        ids = {detail for state, detail, _ in results if state == "ok"}
        if errors or len(ids) != 1 or any(count != 0 for *_, count in results):
            failures.append(f"round {i}: ids {sorted(ids)}; errors {errors}")
    return failures


def test_concurrent_first_opens_of_a_sqlite_journal(openers: Openers, tmp_path: Path) -> None:
    failures = _rounds(openers, lambda i: f"sqlite:///{tmp_path / f'round{i}' / 'j.sqlite'}")
    assert failures == [], "\n".join(failures)


def test_concurrent_first_opens_of_a_postgres_journal(
    openers: Openers, postgres_server: PostgresServer
) -> None:
    urls: list[str] = []

    def fresh(_i: int) -> str:
        urls.append(postgres_server.create_schema())
        return urls[-1]

    try:
        failures = _rounds(openers, fresh)
    finally:
        for url in urls:
            postgres_server.drop_schema(url)
    assert failures == [], "\n".join(failures)
