"""Option premium ticks: the Penny Interval Program's grids, and rounding onto them.

The rules come from a list shipped as data with its effective date and source
(``data/penny_program.json`` in ``dashboard.trading``, read lazily on first use): SPY, QQQ
and IWM quote in $0.01 at every premium; the program's other classes in $0.01 below $3.00
and $0.05 from $3.00; classes outside the program in $0.05 below $3.00 and $0.10 from
$3.00. ``DASHBOARD_PENNY_FILE`` replaces the list and ``DASHBOARD_PENNY_SYMBOLS`` adds
classes to it (``tick_table_for``). A limit on its class's grid is never refused.

Its own module because the order sender, the exit rules and the arming rules round prices
onto the grid without validating a ticket.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "CENT",
    "PENNY_FILE",
    "TickTable",
    "option_tick",
    "parse_tick_table",
    "round_to_tick",
    "shipped_tick_table",
    "tick_table_for",
]

PENNY_FILE = "data/penny_program.json"  # inside dashboard.trading
_PACKAGE = "dashboard.trading"
CENT = Decimal("0.01")  # a premium is quoted to the cent, whatever its tick
_NICKEL = Decimal("0.05")
_DIME = Decimal("0.10")
_THREE = Decimal(3)


@dataclass(frozen=True, slots=True)
class TickTable:
    """The Penny Interval Program's classes as of ``effective``, and where the list came
    from (shown on the ticket, so a trader can see which list priced a limit)."""

    penny_all_prices: frozenset[str]  # $0.01 at every premium (SPY, QQQ, IWM)
    program: frozenset[str]  # $0.01 below $3.00, $0.05 from $3.00
    effective: date
    source: str
    added: frozenset[str] = frozenset()  # classes a setting added to the shipped list

    def band(self, underlying: str) -> str:
        """Which of the three grids ``underlying`` is priced on, in words."""
        name = underlying.strip().upper()
        if name in self.penny_all_prices:
            return "penny program, $0.01 at every price"
        if name in self.program:
            return "penny program, $0.01 below $3.00 and $0.05 from $3.00"
        return "outside the penny program, $0.05 below $3.00 and $0.10 from $3.00"

    @property
    def caption(self) -> str:
        extra = f" + {len(self.added)} added by DASHBOARD_PENNY_SYMBOLS" if self.added else ""
        return f"Penny Interval Program list effective {self.effective:%Y-%m-%d}{extra}"


def _symbols(raw: Any, what: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"{what} must be a list of ticker symbols")
    out = {x.strip().upper() for x in raw}
    bad = sorted(x for x in out if not x.replace(".", "").isalnum() or len(x) > 10)
    if bad:
        raise ValueError(f"{what}: {', '.join(bad[:3])} is not a ticker symbol")
    return frozenset(out)


def parse_tick_table(data: Mapping[str, Any]) -> TickTable:
    """A ``TickTable`` from the JSON's fields (ValueError, naming the field, when bad)."""
    if not isinstance(data, Mapping):
        raise ValueError("the penny program list must be a JSON object")
    try:
        effective = date.fromisoformat(str(data.get("effective", "")))
    except ValueError:
        raise ValueError("'effective' must be a date like 2026-07-01") from None
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("'source' must say where the list comes from")
    return TickTable(
        penny_all_prices=_symbols(data.get("penny_all_prices"), "'penny_all_prices'"),
        program=_symbols(data.get("program_classes"), "'program_classes'"),
        effective=effective,
        source=source.strip(),
    )


def _read_table(path: Path | None) -> TickTable:
    if path is None:
        text = resources.files(_PACKAGE).joinpath(PENNY_FILE)
        return parse_tick_table(json.loads(text.read_text(encoding="utf-8")))
    try:
        return parse_tick_table(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None


@functools.cache
def shipped_tick_table() -> TickTable:
    """The list shipped with the package (read once, on first use)."""
    return _read_table(None)


@functools.cache
def tick_table_for(path: Path | None = None, added: Iterable[str] = ()) -> TickTable:
    """The shipped list, or the one at ``path`` (``DASHBOARD_PENNY_FILE``), plus the
    ``added`` classes (``DASHBOARD_PENNY_SYMBOLS``). ``added`` must be hashable (a tuple)."""
    table = shipped_tick_table() if path is None else _read_table(path)
    extra = frozenset(s.strip().upper() for s in added if s.strip()) - table.program
    if not extra:
        return table
    return TickTable(
        table.penny_all_prices,
        table.program | extra,
        table.effective,
        table.source,
        added=extra - table.penny_all_prices,
    )


def option_tick(underlying: str, price: Decimal, table: TickTable | None = None) -> Decimal:
    """Minimum premium increment for ``underlying`` at ``price`` (see the module docstring)."""
    t = table or shipped_tick_table()
    name = underlying.strip().upper()
    if name in t.penny_all_prices:
        return CENT
    if name in t.program:
        return CENT if price < _THREE else _NICKEL
    return _NICKEL if price < _THREE else _DIME


def round_to_tick(
    underlying: str, price: Decimal, *, down: bool, table: TickTable | None = None
) -> Decimal:
    """Round a premium onto its tick grid, down (sell limits) or up (buy limits). A price
    already on the grid is returned unchanged."""
    tick = option_tick(underlying, price, table)
    steps = price / tick
    whole = math.floor(steps) if down else math.ceil(steps)
    out = Decimal(whole) * tick
    # Crossing $3 on the way up/down can change the tick; one re-check is enough.
    tick2 = option_tick(underlying, out, table)
    if tick2 != tick:
        steps = out / tick2
        out = Decimal(math.floor(steps) if down else math.ceil(steps)) * tick2
    return out.quantize(CENT)
