"""``python -m bench.deploy_starts [--rounds 20]``: fresh starts of the Procfile deployment.

Each round is what a first deploy on Railway does: a new, empty Postgres database, an empty
Redis, and the Procfile's ``web`` (gunicorn, 2 workers) and ``worker`` started at the same
instant, with a login, against the simulator as the upstream. A round passes when both
gunicorn workers have answered ``/healthz``, the exit worker runs, the journal's schema is
at the current version with one instance id, no log holds a traceback, and SIGTERM then
stops every process. The suite runs one such start (tests/test_deployment.py) and 20
rounds of the schema race alone (tests/trading/test_journal_race.py); this runs the full
starts. Uses Debian's postgresql and redis-server (``make services``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._simproc import SimProcess
from dashboard.trading.journal import SCHEMA_VERSION
from tests._deployment import Deployment, journal_state, password_hash
from tests._servers import PostgresServer, RedisServer


def one_round(
    i: int, root: Path, pg: PostgresServer, redis: RedisServer, upstream: str, pw_hash: str
) -> tuple[bool, float, str]:
    database = pg.create_database()
    redis.flush()
    t0 = time.monotonic()
    dep = Deployment.start(
        root / f"round{i:02d}",
        database_url=database,
        redis_url=redis.url,
        upstream_url=upstream,
        pw_hash=pw_hash,
    )
    problem = ""
    try:
        dep.wait_ready()
        booted = time.monotonic() - t0
        state = journal_state(database)
        current = str(SCHEMA_VERSION)
        if state["meta"].get("schema_version") != current or not state["meta"].get("instance_id"):
            problem = f"journal meta {state['meta']}"
        elif "Traceback" in dep.log("web") + dep.log("worker"):
            problem = "a traceback in the logs"
    except AssertionError as exc:
        booted = time.monotonic() - t0
        problem = str(exc).splitlines()[0]
    finally:
        survivors = dep.stop()
        pg.drop_database(database)
    if survivors and not problem:
        problem = f"processes left after SIGTERM: {survivors}"
    return not problem, booted, problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deploy_starts", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="deploy-starts-"))
    pg, redis = PostgresServer.start(), RedisServer.start()
    (root / "sim").mkdir()
    sim = SimProcess(root / "sim", speed=0.0)
    results: list[tuple[bool, float, str]] = []
    try:
        pw_hash = password_hash()
        for i in range(args.rounds):
            ok, seconds, problem = one_round(i, root, pg, redis, sim.url, pw_hash)
            results.append((ok, seconds, problem))
            print(f"round {i + 1:2d}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s {problem}")
            sys.stdout.flush()
    finally:
        sim.stop()
        redis.stop()
        pg.stop()
    passed = sum(ok for ok, _, _ in results)
    times = [s for _, s, _ in results]
    print(
        f"{passed}/{len(results)} fresh starts succeeded; time to ready: median "
        f"{statistics.median(times):.1f} s, max {max(times):.1f} s (logs in {root})"
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
