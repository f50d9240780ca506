"""Background jobs: a per-day result computed once and shared through the disk store."""

from __future__ import annotations

from pathlib import Path

from dashboard.jobs import DailyJobCache


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
