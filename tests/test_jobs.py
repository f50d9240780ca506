"""Background jobs: a per-day result computed once and shared through the disk store, and
a compute process that never outlives the process that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.jobs import DailyJobCache
from tests._procs import children, cmdline, wait_for, wait_until_gone


def test_daily_job_cache_computes_once_and_shares_on_disk(tmp_path: Path) -> None:
    calls: list[int] = []

    def work() -> dict[str, int]:
        calls.append(1)
        return {"answer": 42}

    jobs = DailyJobCache(tmp_path)
    assert jobs.get("k:2024-01-02", work).status in ("pending", "ready")
    done = jobs.wait("k:2024-01-02", timeout=10)
    assert done is not None and done.status == "ready" and done.value == {"answer": 42}
    assert jobs.get("k:2024-01-02", work).value == {"answer": 42}
    jobs.close()

    def boom() -> dict[str, int]:
        raise AssertionError("must come from disk")

    again = DailyJobCache(tmp_path)
    again.get("k:2024-01-02", boom)
    hit = again.wait("k:2024-01-02", timeout=10)
    assert hit is not None and hit.value == {"answer": 42}
    assert calls == [1]

    def fails() -> int:
        raise ValueError("no bars")

    again.get("bad", fails)
    err = again.wait("bad", timeout=10)
    assert err is not None and err.status == "error" and "no bars" in (err.error or "")
    assert again.get("bad", fails).status == "error"  # not retried at once
    again.close()


_PARENT = """
import sys, threading
from dashboard.jobs import compute_off_process
from tests._procs import touch_then_sleep
threading.Thread(
    target=compute_off_process, args=(touch_then_sleep, sys.argv[1], 600), daemon=True
).start()
threading.Event().wait()
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_compute_process_and_resource_tracker_exit_with_their_parent(
    tmp_path: Path, sig: signal.Signals
) -> None:
    marker = tmp_path / "task-running"
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(marker)], cwd=Path(__file__).resolve().parents[1]
    )
    started: list[int] = []
    try:
        assert wait_for(marker.exists, 180), "the compute task never started"
        started = children(parent.pid)
        kinds = " ".join(cmdline(p) for p in started)
        assert "spawn_main" in kinds and "resource_tracker" in kinds, kinds
        os.kill(parent.pid, sig)  # mid-task, no chance to shut the pool down
        parent.wait(30)
        assert wait_until_gone(started, 30) == [], [cmdline(p) for p in started]
    finally:
        for pid in [parent.pid, *started]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a failed run leaves no orphans either
        parent.wait(10)
