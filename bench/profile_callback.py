"""pyinstrument profile of one callback, called as the browser calls it (Flask test client).

``bench_refresh`` calls ``profile_callback`` on the slowest callback (server time excluding
upstream, p95, 100 positions) with no injected latency and the cache emptied before each
call, and saves the text under ``docs/profiles/``. The callback runs on the calling
thread, so the profile shows its own work; the data layer's time on the event-loop
thread appears as waiting in ``run_async``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

PROFILES = Path(__file__).resolve().parent.parent / "docs" / "profiles"


def profile_callback(
    name: str, call: Callable[[], Any], before: Callable[[], Any], repeats: int = 10
) -> Path:
    """Profile ``repeats`` calls of ``call`` (``before`` runs unprofiled before each)."""
    profiler = Profiler(interval=0.001)
    for _ in range(repeats):
        before()
        profiler.start()
        call()
        profiler.stop()
    PROFILES.mkdir(parents=True, exist_ok=True)
    path = PROFILES / f"{name}.txt"
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    path.write_text(text)
    return path
