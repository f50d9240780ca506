"""Record the order in which a data service's reads start and finish, to check that
reads which depend on the holdings start in the same round as the positions read."""

from __future__ import annotations

from typing import Any


def record_rounds(data: Any, names: list[str]) -> list[str]:
    """Wrap ``data``'s ``names`` methods to append "<name> start"/"<name> done" events."""
    events: list[str] = []
    for name in names:
        original = getattr(data, name)

        def wrapped(*args: Any, _n: str = name, _f: Any = original, **kwargs: Any) -> Any:
            async def run() -> Any:
                events.append(f"{_n} start")
                try:
                    return await _f(*args, **kwargs)
                finally:
                    events.append(f"{_n} done")

            return run()

        setattr(data, name, wrapped)
    return events
