"""Number formats shared by the tabs, so a dollar or a percent reads the same everywhere."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def format_money(value: float | Decimal | None, *, signed: bool = False) -> str:
    """Dollars with thousands separators; ``signed`` forces a + on gains."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    x = float(value)
    text = f"${abs(x):,.2f}"
    if x < 0:
        return "-" + text
    return ("+" + text) if signed and x > 0 else text


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
