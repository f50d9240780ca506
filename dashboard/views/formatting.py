"""Number, time and status formats shared by the tabs, so a dollar, a percent, a time or
a data state reads the same everywhere."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.conventions import format_new_york
from dashboard.models import DataResult, DataState
from dashboard.views.read_notes import result_note


def format_money(value: float | Decimal | None, *, signed: bool = False) -> str:
    """Dollars with thousands separators; ``signed`` forces a + on gains."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    x = float(value)
    text = f"${abs(x):,.2f}"
    if x < 0:
        return "-" + text
    return ("+" + text) if signed and x > 0 else text


def format_number(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators, or "—" when there is none (None, NaN, inf)."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.{digits}f}"


def format_pct(value: float | None, *, signed: bool = True, digits: int = 2) -> str:
    """A percentage that is already in percent units (1.5 → "+1.50%")."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.{digits}f}%" if signed else f"{value:.{digits}f}%"


def grid_number(x: Any, scale: float = 1.0, digits: int = 2) -> float | None:
    """A finite rounded number for a grid cell; None (a blank cell) for NaN or junk."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v * scale, digits) if math.isfinite(v) else None


def format_et(ts: datetime | None, fmt: str = "%H:%M:%S") -> str:
    """A timestamp in New York time with its zone, which is how traders read the session."""
    if ts is None:
        return "—"
    if ts.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return format_new_york(ts, fmt) + " ET"


def format_as_of(ts: datetime | None) -> str:
    """An as-of for a status line: the New York time, or, for a daily bar's stamp (its
    session's midnight, New York), that session's date, since "00:00:00 ET" would read
    as a time of day the data never had."""
    if ts is not None and ts.tzinfo is not None and format_new_york(ts, "%H%M%S%f") == "0" * 12:
        return format_new_york(ts, "%Y-%m-%d") + " session"
    return format_et(ts)


def status_text(result: DataResult[Any], empty_text: str = "nothing to show") -> str:
    """A block's source, as-of time and state as one line of text. "No data" and
    "broken" never read alike, and stale values say since when."""
    source = result.source
    note = result_note(result) if result.value is not None else ""
    tail = f" · {note}" if note else ""  # records not shown, greeks a subscription lacks
    if result.state is DataState.FRESH:
        return f"fresh · {source} · as of {format_as_of(result.as_of)}{tail}"
    if result.state is DataState.STALE:
        since = format_as_of(result.stale_since or result.as_of)
        return f"stale since {since} · {source} · {result.error or 'refresh failed'}{tail}"
    if result.state is DataState.EMPTY:
        return f"no data · {source} · {empty_text} · as of {format_as_of(result.as_of)}{tail}"
    return f"error · {source} · {result.error or 'unknown error'}"


_STATE_RANK = {DataState.ERROR: 3, DataState.STALE: 2, DataState.EMPTY: 1, DataState.FRESH: 0}


def worst_of(*results: DataResult[Any]) -> DataResult[Any]:
    """The least trustworthy of several results (a block is as good as its worst input).

    Among equals the first is kept, so the block's main source is named."""
    return max(results, key=lambda r: _STATE_RANK[r.state])
