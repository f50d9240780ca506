"""Process trees from /proc (Linux; psutil is not a dependency): who a process started,
whether it still runs, and waiting for processes to be gone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return out


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_until_gone(pids: Iterable[int], seconds: float) -> list[int]:
    """The pids still running after waiting up to ``seconds`` for all to end."""
    pending = list(pids)
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if alive(p)]
        if pending:
            time.sleep(0.1)
    return [p for p in pending if alive(p)]


def wait_for(predicate, seconds: float, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; that value, or None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def touch_then_sleep(path: str, seconds: float) -> None:
    """A compute task that says it has started (a file), then stays busy."""
    Path(path).touch()
    time.sleep(seconds)
