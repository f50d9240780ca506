"""Alerts in the page: the header's bell with the unread count, toasts for new alerts on
any tab, the alert history (filter by kind and symbol, acknowledge), browser
notifications after the user opts in (``assets/30-alerts.js``), and the signal alerts'
per-symbol, per-timeframe switches and watches.

Layout and callbacks only: the rows, toasts and texts are ``views.alerts``'s; the reads
and writes are ``alerts.store``'s. The alerts are raised by the trade monitor's process,
never here, so they fire with no page open; this module only shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.development.base_component import Component

from dashboard.components.first_state import FirstState, of_outputs
from dashboard.components.status import empty_line, status_line
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataResult, DataState
from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES
from dashboard.views.alerts import (
    HISTORY_SOURCE,
    bell_text,
    history_rows,
    kind_filter_options,
    kinds_for_filter,
    notification_payload,
    toasts,
)
from dashboard.views.formatting import format_et

if TYPE_CHECKING:
    from dashboard.alerts.store import AlertStore
    from dashboard.services import Services

POLL_MS = 5000  # new alerts reach an open page within this, whatever the tab's refresh
HISTORY_LIMIT = 200

TOAST_PAGE = 50  # new alerts read per poll; a full page is counted as "50+"


def _attrs(values: dict[str, str]) -> dict[str, Any]:
    """Hyphenated HTML attributes (aria-*, data-*) as keyword arguments."""
    return dict(values)


def bell() -> html.Button:
    """The header's bell: opens the history; its badge is the unread count."""
    return html.Button(
        [
            html.Img(src="/assets/alerts-bell.svg", alt="", className="alerts-bell-icon"),
            dbc.Badge(
                "", id="alerts-bell-count", color="danger", pill=True, className="alerts-bell-badge"
            ),
        ],
        id="alerts-bell",
        n_clicks=0,
        className="btn btn-sm btn-outline-secondary alerts-bell me-2",
        title="Alerts",
        **_attrs({"aria-label": "Alerts"}),
    )


def _rules_text(services_settings: Any) -> str:
    off = sorted(k.value for k in services_settings.alert_rules_off)
    if not services_settings.alerts_enabled:
        return "Alerts are off (DASHBOARD_ALERTS=false)."
    return "Every rule is on." if not off else f"Turned off: {', '.join(off)}."


def pieces(settings: Any) -> html.Div:
    """The toasts' corner, the history panel, and the poll's interval and stores."""
    timeframes = settings.alert_signal_timeframes
    return html.Div(
        [
            dcc.Interval(id="alerts-interval", interval=POLL_MS, n_intervals=0),
            dcc.Store(id="alerts-seen"),  # the newest alert id this page has shown
            dcc.Store(id="alerts-history-tick"),  # new alerts while the panel is open
            dcc.Store(id="alerts-new"),  # what the browser's notifications get
            dcc.Store(id="alerts-acked", data=0),
            dcc.Store(id="alerts-notify-sink"),
            html.Div(id="alerts-toasts", className="alerts-toasts"),
            dbc.Offcanvas(
                [
                    html.Div(
                        [
                            dcc.Dropdown(
                                id="alerts-filter-kind",
                                options=kind_filter_options(),  # type: ignore[arg-type]
                                multi=True,
                                placeholder="Every kind",
                                className="alerts-filter mb-2",
                            ),
                            dcc.Dropdown(
                                id="alerts-filter-symbol",
                                options=[],
                                placeholder="Every symbol",
                                className="alerts-filter mb-2",
                            ),
                            html.Div(
                                [
                                    dbc.Switch(
                                        id="alerts-unread-only",
                                        label="Unread only",
                                        value=False,
                                        className="mb-0 me-3",
                                    ),
                                    dbc.Button(
                                        "Mark all read",
                                        id="alerts-ack-all",
                                        size="sm",
                                        color="secondary",
                                        n_clicks=0,
                                    ),
                                ],
                                className="d-flex align-items-center mb-2",
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                "Turn on browser notifications",
                                id="alerts-notify-btn",
                                size="sm",
                                color="outline-info",
                                n_clicks=0,
                                className="me-2",
                            ),
                            dbc.Switch(
                                id="alerts-sound",
                                label="Sound",
                                value=False,
                                className="mb-0 d-inline-block",
                                persistence=True,
                                persistence_type="local",
                            ),
                            html.Div(id="alerts-notify-status", className="state-line mt-1"),
                        ],
                        className="mb-2",
                    ),
                    html.Div(id="alerts-history-state"),
                    html.Div(id="alerts-history", className="alerts-history"),
                    html.Hr(),
                    html.H6("Signal alerts", className="mt-2"),
                    html.Div(
                        "A setup forming (pending) and triggering (in force) on the watchlist "
                        "alerts per symbol and timeframe; untick a pair to silence it.",
                        className="state-line mb-1",
                    ),
                    dcc.Checklist(
                        id="alerts-subscriptions",
                        options=[],
                        value=[],
                        inline=True,
                        className="alerts-subscriptions",
                        inputClassName="me-1",
                        labelClassName="me-3",
                    ),
                    html.Div(id="alerts-subscriptions-state", className="state-line"),
                    html.H6("Watched setups", className="mt-3"),
                    html.Div(id="alerts-watches"),
                    html.Div(id="alerts-watches-state", className="state-line"),
                    html.Div(
                        [
                            html.Div(_rules_text(settings)),
                            html.Div(
                                "Webhook: "
                                + (
                                    "configured (DASHBOARD_ALERT_WEBHOOK_URL)"
                                    if settings.alert_webhook_url is not None
                                    else "none (set DASHBOARD_ALERT_WEBHOOK_URL)"
                                )
                            ),
                            html.Div(
                                "Signal timeframes by default: "
                                + (", ".join(timeframes) or "none")
                                + "."
                            ),
                        ],
                        className="state-line mt-3",
                    ),
                ],
                id="alerts-panel",
                title="Alerts",
                placement="end",
                is_open=False,
                scrollable=True,
                className="alerts-panel",
            ),
        ]
    )


# ---- callbacks (named functions of ``services``; ``register`` binds them) -----------------


def _store(services: Services) -> AlertStore:
    from dashboard.alerts.store import AlertStore

    return AlertStore.of(services.journal)


def poll(services: Services, seen: int | None) -> tuple[Any, Any, Any, Any, Any]:
    """Every few seconds on any tab: the bell's count, toasts for alerts newer than the
    page's last one, and those alerts for browser notifications. A page's first poll only
    notes where it starts: older alerts are in the history and the count, not toasted."""
    try:
        store = _store(services)
        unread = store.unread_count()
        if seen is None:
            return bell_text(unread), _bell_colour(unread), no_update, store.latest_id(), no_update
        new = store.after(int(seen), limit=TOAST_PAGE)
    except Exception:  # the database is away: say so on the bell, keep the page
        return bell_text(None), "warning", no_update, no_update, no_update
    if not new:
        return bell_text(unread), _bell_colour(unread), no_update, no_update, no_update
    items = [
        dbc.Toast(
            t.body,
            header=t.header,
            icon=t.colour,
            dismissable=True,
            duration=None if t.colour in ("danger", "warning") else 60000,
            is_open=True,
            className=f"alerts-toast border-{t.colour}",
            id={"type": "alerts-toast", "id": t.id},
        )
        for t in toasts(new, complete=len(new) < TOAST_PAGE)
    ]
    return (
        bell_text(unread),
        _bell_colour(unread),
        items,
        max(a.id for a in new),
        notification_payload(new),
    )


def _bell_colour(unread: int) -> str:
    return "danger" if unread else "secondary"


def history(
    services: Services,
    is_open: bool,
    kinds: list[str] | None,
    symbol: str | None,
    unread_only: bool,
) -> tuple[Any, Any, Any]:
    """The history panel's rows, its state line and the symbol filter's choices."""
    if not is_open:
        return no_update, no_update, no_update
    clock = run_async(services.data.fetch_clock(), timeout=10)
    as_of = clock.value.timestamp if clock.value is not None else None
    try:
        store = _store(services)
        alerts = store.history(
            kinds=kinds_for_filter(kinds),
            symbol=symbol or None,
            unread_only=bool(unread_only),
            limit=HISTORY_LIMIT,
        )
        symbols = store.symbols()
    except Exception as exc:
        error: DataResult[list[Any]] = DataResult(
            None, HISTORY_SOURCE, as_of, DataState.ERROR, f"{type(exc).__name__}"
        )
        return [], status_line(error, id="alerts-history-status"), no_update
    options = [{"label": s, "value": s} for s in symbols]
    filtered = bool(kinds or symbol or unread_only)
    if not alerts:
        why = "no alerts match the filter" if filtered else "no alerts yet"
        empty: DataResult[list[Any]] = DataResult(None, HISTORY_SOURCE, as_of, DataState.EMPTY)
        return [], status_line(empty, id="alerts-history-status", empty_text=why), options
    result: DataResult[list[Any]] = DataResult(alerts, HISTORY_SOURCE, as_of, DataState.FRESH)
    body = [
        html.Div(
            [
                html.Div(
                    [
                        dbc.Badge(r.kind, color=r.colour, className="me-2"),
                        html.Span(r.symbol, className="me-2 fw-semibold"),
                        html.Span(r.when, className="state-line"),
                    ],
                    className="d-flex align-items-center flex-wrap",
                ),
                html.Div(r.title, className="alerts-row-title"),
                html.Div(r.message, className="alerts-row-message"),
                html.Div(
                    [
                        html.Span(r.delivery, className="state-line me-2"),
                        dbc.Button(
                            "Acknowledge",
                            id={"type": "alerts-ack", "id": r.id},
                            size="sm",
                            color="link",
                            n_clicks=0,
                            className="p-0",
                        )
                        if r.unread
                        else html.Span("read", className="state-line"),
                    ],
                    className="d-flex align-items-center",
                ),
            ],
            className="alerts-row" + (" alerts-row-unread" if r.unread else ""),
            **_attrs({"data-alert-id": str(r.id)}),
        )
        for r in history_rows(alerts)
    ]
    line = status_line(result, id="alerts-history-status")
    return body, line, options


def acknowledge(services: Services, triggered: Any, acked: int | None) -> int | Any:
    """Mark one alert (its row's button) or every unread one read."""
    store = _store(services)
    if triggered == "alerts-ack-all":
        store.acknowledge()
    elif isinstance(triggered, dict) and triggered.get("type") == "alerts-ack":
        try:
            store.acknowledge([int(triggered["id"])])
        except (TypeError, ValueError):
            return no_update
    else:
        return no_update
    return int(acked or 0) + 1


def subscriptions(services: Services, is_open: bool) -> tuple[Any, Any, Any, Any]:
    """The (symbol, timeframe) switches for the watchlist, and the watched setups."""
    if not is_open:
        return no_update, no_update, no_update, no_update
    settings = services.settings
    try:
        store = _store(services)
        overrides = store.subscription_overrides()
        watches = store.watches()
    except Exception as exc:
        return [], [], f"could not read the switches: {type(exc).__name__}", no_update
    from dashboard.alerts.records import SignalSubscriptions

    subs = SignalSubscriptions(frozenset(settings.alert_signal_timeframes), overrides)
    symbols = list(dict.fromkeys([*settings.watchlist, *(s for s, _ in overrides)]))
    options = [
        {"label": f"{s} {tf}", "value": f"{s}|{tf}"} for s in symbols for tf in SIGNAL_TIMEFRAMES
    ]
    value = [o["value"] for o in options if subs.is_on(*o["value"].split("|"))]
    state = "" if settings.alerts_enabled else "alerts are off"
    watched = (
        [
            html.Div(
                [
                    html.Span(
                        f"{w.symbol} {w.timeframe} {w.label} ({w.direction}, trigger "
                        f"{w.entry:,.2f}) · since {format_et(w.created_at, '%b %d %H:%M')}",
                        className="me-2",
                    ),
                    dbc.Button(
                        "Stop watching",
                        id={"type": "alerts-unwatch", "id": w.signal_id},
                        size="sm",
                        color="link",
                        n_clicks=0,
                        className="p-0",
                    ),
                ],
                className="state-line",
            )
            for w in watches.values()
        ]
        if watches
        else empty_line("no watched setups")
    )
    return options, value, state, watched


def unwatch(services: Services, triggered: Any) -> Any:
    """Stop watching one setup (its button in the panel)."""
    if not (isinstance(triggered, dict) and triggered.get("type") == "alerts-unwatch"):
        return no_update
    removed = _store(services).remove_watch(str(triggered.get("id", "")))
    return "stopped watching it" if removed else "it was not watched"


def save_subscriptions(
    services: Services, value: list[str] | None, options: list[dict[str, str]] | None
) -> Any:
    """Store each pair's switch (only pairs that changed from what the page showed)."""
    if not options:
        return no_update
    store = _store(services)
    chosen = set(value or [])
    known = store.subscription_overrides()
    defaults = frozenset(services.settings.alert_signal_timeframes)
    changed = 0
    for o in options:
        symbol, _, tf = o["value"].partition("|")
        if tf not in SIGNAL_TIMEFRAMES:
            continue
        want = o["value"] in chosen
        current = known.get((symbol, tf), tf in defaults)
        if want != current:
            store.set_subscription(symbol, tf, want)
            changed += 1
    return f"saved {changed} change(s)" if changed else ""


POLL_OUTPUTS = [
    Output("alerts-bell-count", "children"),
    Output("alerts-bell-count", "color"),
    Output("alerts-toasts", "children"),
    Output("alerts-seen", "data"),
    Output("alerts-new", "data"),
]


def first_state(services: Services, _layout: Component) -> FirstState:
    """A page's first poll, served in its layout: the bell, and where the page starts."""
    return of_outputs(POLL_OUTPUTS, poll(services, None))


def register(app: Dash, services: Services) -> None:
    @app.callback(
        *POLL_OUTPUTS,
        Output("alerts-history-tick", "data"),
        Input("alerts-interval", "n_intervals"),
        Input("alerts-acked", "data"),
        State("alerts-seen", "data"),
        State("alerts-panel", "is_open"),
        prevent_initial_call=True,  # the layout is served with the first poll
    )
    def _poll(_n: int, _acked: int, seen: int | None, is_open: bool | None) -> tuple[Any, ...]:
        out = poll(services, seen)
        # The history redraws for new alerts only while it is open (opening it draws it).
        arrived = seen is not None and out[3] is not no_update
        return (*out, out[3] if is_open and arrived else no_update)

    @app.callback(
        Output("alerts-panel", "is_open"),
        Input("alerts-bell", "n_clicks"),
        State("alerts-panel", "is_open"),
        prevent_initial_call=True,
    )
    def _toggle(n: int, is_open: bool) -> bool:
        return not is_open if n else is_open

    @app.callback(
        Output("alerts-history", "children"),
        Output("alerts-history-state", "children"),
        Output("alerts-filter-symbol", "options"),
        Input("alerts-panel", "is_open"),
        Input("alerts-filter-kind", "value"),
        Input("alerts-filter-symbol", "value"),
        Input("alerts-unread-only", "value"),
        Input("alerts-acked", "data"),
        Input("alerts-history-tick", "data"),
        prevent_initial_call=True,  # the panel starts closed: nothing to draw on a load
    )
    def _history(
        is_open: bool,
        kinds: list[str] | None,
        symbol: str | None,
        unread: bool,
        _acked: int,
        _seen: int | None,
    ) -> tuple[Any, Any, Any]:
        return history(services, is_open, kinds, symbol, unread)

    @app.callback(
        Output("alerts-acked", "data"),
        Input("alerts-ack-all", "n_clicks"),
        Input({"type": "alerts-ack", "id": ALL}, "n_clicks"),
        State("alerts-acked", "data"),
        prevent_initial_call=True,
    )
    def _ack(_all: int, clicks: list[int | None], acked: int | None) -> Any:
        if not ctx.triggered or not any(t.get("value") for t in ctx.triggered):
            return no_update  # a row appeared (n_clicks 0), nobody clicked
        return acknowledge(services, ctx.triggered_id, acked)

    @app.callback(
        Output("alerts-subscriptions", "options"),
        Output("alerts-subscriptions", "value"),
        Output("alerts-subscriptions-state", "children"),
        Output("alerts-watches", "children"),
        Input("alerts-panel", "is_open"),
        Input("alerts-watches-state", "children"),
        prevent_initial_call=True,  # the panel starts closed
    )
    def _subs(is_open: bool, _changed: Any) -> tuple[Any, Any, Any, Any]:
        return subscriptions(services, is_open)

    @app.callback(
        Output("alerts-subscriptions-state", "children", allow_duplicate=True),
        Input("alerts-subscriptions", "value"),
        State("alerts-subscriptions", "options"),
        prevent_initial_call=True,
    )
    def _save(value: list[str] | None, options: list[dict[str, str]] | None) -> Any:
        if ctx.triggered_id != "alerts-subscriptions":
            return no_update
        return save_subscriptions(services, value, options)

    @app.callback(
        Output("alerts-watches-state", "children"),
        Input({"type": "alerts-unwatch", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _unwatch(_clicks: list[int | None]) -> Any:
        if not ctx.triggered or not any(t.get("value") for t in ctx.triggered):
            return no_update
        return unwatch(services, ctx.triggered_id)

    app.clientside_callback(
        ClientsideFunction(namespace="alerts", function_name="notify"),
        Output("alerts-notify-sink", "data"),
        Input("alerts-new", "data"),
        State("alerts-sound", "value"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="alerts", function_name="permission"),
        Output("alerts-notify-status", "children"),
        Input("alerts-notify-btn", "n_clicks"),
    )
