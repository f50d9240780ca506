"""The header: app name, live badges (mode, connection, market clock, regime) and refresh controls.

Every badge is computed: mode from settings, connection from the data service's recent
results, the clock from the broker's ``/v2/clock``, the regime from the regime model.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from dashboard.models import Clock, DataState
from dashboard.settings import Settings

if TYPE_CHECKING:
    from dashboard.services import Services

REFRESH_CHOICES = (5, 10, 30, 60)  # below 5 s slow refreshes would be dropped by the next tick


def refresh_interval_ms(seconds: str | float | None, default: float) -> int:
    """The refresh dropdown's value in ms (the settings' default if unreadable), ≥ 1 s."""
    try:
        ms = int(float(seconds or default) * 1000)
    except ValueError:
        ms = int(default * 1000)
    return max(ms, 1000)


def format_countdown(delta: timedelta) -> str:
    """'2h 05m' / '3d 4h' / '45s': compact enough for a badge."""
    seconds = max(0, int(delta.total_seconds()))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def clock_badge_text(clock: Clock) -> tuple[str, str]:
    """Badge text and colour from the broker's clock (its own timestamp, not ours)."""
    if clock.is_open:
        return (
            f"MARKET OPEN · closes in {format_countdown(clock.next_close - clock.timestamp)}",
            "success",
        )
    return (
        f"MARKET CLOSED · opens in {format_countdown(clock.next_open - clock.timestamp)}",
        "secondary",
    )


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


def _mode_color(label: str) -> str:
    return {"DEMO": "info", "PAPER": "primary", "LIVE": "danger"}[label]


def layout(settings: Settings) -> html.Header:
    interval_ms = int(settings.refresh_seconds * 1000)
    choices = sorted({*REFRESH_CHOICES, int(settings.refresh_seconds)})
    return html.Header(
        dbc.Container(
            [
                html.Div(
                    [
                        html.Span("STRAT Options Dashboard", className="app-title me-3"),
                        dbc.Badge(
                            settings.mode_label,
                            id="header-mode-badge",
                            color=_mode_color(settings.mode_label),
                            className="me-2",
                            title="Trading environment",
                        ),
                        dbc.Badge(
                            "CONNECTING…",
                            id="header-connection-badge",
                            color="secondary",
                            className="me-2",
                        ),
                        dbc.Badge(
                            "CLOCK …", id="header-clock-badge", color="secondary", className="me-2"
                        ),
                        dbc.Badge(
                            "REGIME —",
                            id="header-regime-badge",
                            color="secondary",
                            className="me-2",
                        ),
                        *(
                            [
                                dbc.Badge(
                                    "KEYS MISMATCH",
                                    id="header-keys-badge",
                                    color="danger",
                                    className="me-2",
                                    title=settings.key_mismatch,
                                )
                            ]
                            if settings.key_mismatch
                            else []
                        ),
                    ],
                    className="d-flex flex-wrap align-items-center gap-1",
                ),
                html.Div(
                    [
                        dbc.Switch(
                            id="header-autorefresh",
                            label="Auto-refresh",
                            value=True,
                            className="me-2 mb-0",
                            persistence=True,
                            persistence_type="session",
                        ),
                        dbc.Select(
                            id="header-refresh-seconds",
                            options=[{"label": f"{c}s", "value": str(c)} for c in choices],
                            value=str(int(settings.refresh_seconds)),
                            size="sm",
                            style={"width": "5.5rem"},
                            persistence=True,
                            persistence_type="session",
                        ),
                        dcc.Interval(id="global-interval", interval=interval_ms, n_intervals=0),
                    ],
                    className="d-flex align-items-center",
                ),
            ],
            fluid=True,
            className="d-flex flex-wrap justify-content-between align-items-center gap-2 py-2",
        ),
        className="app-header",
    )


def register_callbacks(app: Dash, services: Services) -> None:
    from dashboard.data_loaders.loop import run_async

    @app.callback(
        Output("global-interval", "disabled"),
        Output("global-interval", "interval"),
        Input("header-autorefresh", "value"),
        Input("header-refresh-seconds", "value"),
    )
    def set_refresh(enabled: bool, seconds: str | None) -> tuple[bool, int]:
        return (not enabled, refresh_interval_ms(seconds, services.settings.refresh_seconds))

    @app.callback(
        Output("header-connection-badge", "children"),
        Output("header-connection-badge", "color"),
        Output("header-clock-badge", "children"),
        Output("header-clock-badge", "color"),
        Output("header-clock-badge", "title"),
        Input("global-interval", "n_intervals"),
    )
    def update_badges(_n: int) -> tuple[str, str, str, str, str]:
        clock_result = run_async(services.data.fetch_clock(), timeout=10)
        conn_text, conn_color = connection_badge(services.data.health())
        if clock_result.value is None:
            return conn_text, conn_color, "CLOCK UNAVAILABLE", "danger", clock_result.error or ""
        text, color = clock_badge_text(clock_result.value)
        if clock_result.state is DataState.STALE:
            text += " (stale)"
            color = "warning"
        title = f"Broker clock {clock_result.value.timestamp:%Y-%m-%d %H:%M:%S %Z} · {clock_result.source}"
        return conn_text, conn_color, text, color, title

    @app.callback(
        Output("header-regime-badge", "children"),
        Output("header-regime-badge", "color"),
        Output("header-regime-badge", "title"),
        Input("global-interval", "n_intervals"),
    )
    def update_regime_badge(_n: int) -> tuple[str, str, str]:
        regime = services.current_regime()
        if regime is None:
            return "REGIME —", "secondary", "The regime model has not produced a label yet"
        label, as_of = regime
        color = {
            "TREND_BULL": "success",
            "TREND_NEUTRAL": "secondary",
            "TREND_BEAR": "warning",
            "CRASH": "danger",
        }
        return (
            f"REGIME {label.replace('_', ' ')}",
            color.get(label, "secondary"),
            f"as of {as_of:%Y-%m-%d}",
        )
