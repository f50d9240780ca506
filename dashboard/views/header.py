"""The header's badges as text and colour: connection, market clock and regime. The
refresh choices the header offers are here too (they are a rule, not a layout)."""

from __future__ import annotations

from datetime import datetime

from dashboard.analytics.regimes import Regime
from dashboard.models import Clock, DataResult, DataState
from dashboard.views.formatting import format_et
from dashboard.views.market import market_status

REFRESH_CHOICES = (5, 10, 30, 60)  # below 5 s slow refreshes would be dropped by the next tick
MODE_COLOURS = {"DEMO": "info", "PAPER": "primary", "LIVE": "danger"}


def refresh_interval_ms(seconds: str | float | None, default: float) -> int:
    """The refresh dropdown's value in ms (the settings' default if unreadable), ≥ 1 s."""
    try:
        ms = int(float(seconds or default) * 1000)
    except ValueError:
        ms = int(default * 1000)
    return max(ms, 1000)


def clock_badge_text(clock: Clock) -> tuple[str, str]:
    """Badge text and colour from the broker's clock (its own timestamp, not ours)."""
    status = market_status(clock)
    return status.badge_text, "success" if status.is_open else "secondary"


def clock_badge(result: DataResult[Clock]) -> tuple[str, str, str]:
    """(text, colour, title) of the clock badge; a stale clock says so."""
    if result.value is None:
        return "CLOCK UNAVAILABLE", "danger", result.error or ""
    text, colour = clock_badge_text(result.value)
    if result.state is DataState.STALE:
        text += " (stale)"
        colour = "warning"
    title = (
        f"Broker clock {format_et(result.value.timestamp, '%Y-%m-%d %H:%M:%S')} · {result.source}"
    )
    return text, colour, title


def connection_badge(health: dict[str, str]) -> tuple[str, str]:
    """Worst state across sources: connected, degraded or down."""
    # A source not used yet ("unknown") says nothing about the connection.
    states = set(health.values()) - {"unknown"} or set(health.values())
    if not states:
        return "CONNECTING…", "secondary"
    if states <= {"connected"}:
        return "CONNECTED", "success"
    if "connected" in states or "degraded" in states:
        return "DEGRADED", "warning"
    if states <= {"unknown"}:
        return "CONNECTING…", "secondary"
    return "DOWN", "danger"


def regime_badge(current: tuple[str, datetime] | None) -> tuple[str, str, str]:
    """(text, colour, title) of the regime badge: the regime's own name and colour."""
    if current is None:
        return "REGIME —", "secondary", "The regime model has not produced a label yet"
    code, as_of = current
    regime = Regime.parse(code)
    if regime is None:
        return f"REGIME {code}", "secondary", f"as of {as_of:%Y-%m-%d}"
    return f"REGIME {regime.label}", regime.colour, f"as of {as_of:%Y-%m-%d}"
