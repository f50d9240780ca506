"""The Dash app factory and the gunicorn entry point.

``create_app(settings)`` builds everything from settings (or takes injected services).
``server`` is resolved lazily through a module ``__getattr__``: importing this module has
no side effects, and ``gunicorn dashboard.app:server`` builds the app when it asks for it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from flask import Flask, has_request_context, jsonify, request

from dashboard.components import first_state, header, options, portfolio, regime, risk, strategy
from dashboard.plotly_bundle import BUNDLE as PLOTLY_BUNDLE
from dashboard.plotly_bundle import LAZY_PATH, install_plotly_bundle
from dashboard.refresh_memo import RefreshMemo, install_refresh_memo, render_slots_for
from dashboard.services import Services, build_services
from dashboard.settings import Settings, load_settings
from dashboard.static_compression import install_static_compression
from dashboard.views.header import refresh_interval_ms
from dashboard.visualizations.theme import install_theme

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"

# Order is the order of the tabs on screen.
TABS = (
    (regime, "Regime Detection"),
    (strategy, "Strategy Performance"),
    (portfolio, "Live Portfolio"),
    (risk, "Risk Management"),
    (options, "Options Trading"),
)


DEFAULT_TAB = "options"

# The async chunk dash-renderer fetches once a component of this (namespace, type) first
# renders: a serial round after the layout. A page's HTML carries, as scripts, the chunks
# of the components in its first layout (``first_paint_scripts``); webpack registers a
# chunk that ran before it is asked for, and then does not fetch it.
SUITES = "_dash-component-suites/"  # where Dash serves component bundles and chunks
GRAPH = ("dash_core_components", "Graph")
ASYNC_CHUNKS = {
    GRAPH: "dash/dcc/async-graph.js",
    ("dash_core_components", "Dropdown"): "dash/dcc/async-dropdown.js",
    ("dash_core_components", "DatePickerRange"): "dash/dcc/async-datepicker.js",
    ("dash_core_components", "DatePickerSingle"): "dash/dcc/async-datepicker.js",
    ("dash_ag_grid", "AgGrid"): "dash_ag_grid/async-community.js",
}


def first_paint_scripts(layout: Any) -> tuple[str, ...]:
    """What ``layout``'s components need before they render, as paths under the app's
    prefix (lazy and shown blocks are placeholders): plotly.js if it has a graph, and
    the async chunks of its components."""
    kinds = {(getattr(c, "_namespace", ""), getattr(c, "_type", "")) for c in layout._traverse()}
    chunks = sorted({ASYNC_CHUNKS[k] for k in kinds if k in ASYNC_CHUNKS})
    plotly = [LAZY_PATH] if GRAPH in kinds else []
    return (*plotly, *(SUITES + c for c in chunks))


# The page's first script, in its head: moves an older /#tab address onto the path and
# preloads the layout and callback graph (kept out of the assets Dash adds at the end).
FIRST_REQUESTS = "first-requests.js"


class TabPagesDash(Dash):
    """Dash whose page HTML starts what the page will ask for. dash-renderer asks for the
    layout and the callback graph only once every script has loaded and run (a second
    or more); the page preloads them (``FIRST_REQUESTS``), so the server builds the
    layout (with the tab's first state) while the scripts load, and the renderer's own
    fetch takes the preloaded response. The page for a tab's address also runs that
    tab's first-paint scripts (``first_paint_scripts``); a page that draws no graph at
    first prefetches plotly.js instead of running it."""

    def __init__(self, *args: Any, page_scripts: dict[str, tuple[str, ...]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page_scripts = page_scripts

    def interpolate_index(
        self,
        metas: Any = "",
        title: Any = "",
        css: Any = "",
        config: Any = "",
        scripts: Any = "",
        app_entry: Any = "",
        favicon: Any = "",
        renderer: Any = "",
    ) -> Any:
        paths = self.page_scripts.get(tab_for_address(request.path), ())
        tags = "".join(f'<script src="{self.get_relative_path(f"/{p}")}"></script>' for p in paths)
        first = (
            f'<script src="{self.get_asset_url(FIRST_REQUESTS)}"'
            f' data-prefix="{self.config.requests_pathname_prefix}"></script>'
        )
        if LAZY_PATH not in paths:  # fetched while idle, run when a graph first mounts
            for path in (LAZY_PATH, SUITES + ASYNC_CHUNKS[GRAPH]):
                href = self.get_relative_path(f"/{path}")
                first += f'<link rel="prefetch" href="{href}" as="script">'
        return super().interpolate_index(
            metas, title, css + first, config, tags + scripts, app_entry, favicon, renderer
        )


def _pane(
    module: Any,
    settings: Settings,
    *,
    mounted: bool,
    lazy: bool = False,
    services: Services | None = None,
) -> html.Div:
    waiting = html.Div("Opening the tab…", className="state-line state-line-loading mt-3")
    if not mounted:
        return html.Div(waiting, id=f"{module.TAB_ID}-pane")
    # The validation layout also holds what lazy blocks mount (``ui.lazy_block``).
    extra: list[Any] = getattr(module, "lazy_layouts", lambda _s: [])(settings) if lazy else []
    content = mount_tab(module, services) if services is not None else module.build_layout(settings)
    return html.Div([content, *extra], id=f"{module.TAB_ID}-pane")


def mount_tab(module: Any, services: Services) -> Any:
    """The tab's layout in its first state (``components.first_state``): what a page load
    or a first visit mounts, so the tab arrives drawn rather than asking for it."""
    layout = module.build_layout(services.settings)
    reader = getattr(module, "first_state", None)
    state = first_state.read(module.TAB_ID, reader and (lambda: reader(services, layout)))
    return first_state.apply(layout, state)


def tab_for_address(url: str | None) -> str:
    """The tab an address names by its last path segment (``/risk``, ``/app/risk``), else
    ``DEFAULT_TAB``: what the first layout mounts, so a bookmarked tab needs no extra
    round trip. Old ``/#risk`` addresses are moved onto the path in the browser before
    the page asks for its layout (assets/first-requests.js)."""
    segment = urlsplit(url or "").path.rstrip("/").rsplit("/", 1)[-1].lower()
    return segment if segment in {m.TAB_ID for m, _ in TABS} else DEFAULT_TAB


def _requested_tab() -> str:
    # dash-renderer fetches /_dash-layout from the page, so the Referer is the page's
    # address (the security headers send it to the same origin). Outside a request (Dash's
    # start-up check of the layout) it is the default tab.
    return tab_for_address(request.referrer if has_request_context() else None)


def _layout_for_request(settings: Settings, services: Services) -> html.Div:
    tab = _requested_tab()
    # Dash also calls the layout function at start-up to check it: no reads then.
    reads = has_request_context() and request.path.endswith("/_dash-layout")
    return build_layout(settings, tab=tab, services=services if reads else None)


def build_layout(
    settings: Settings,
    *,
    tab: str = DEFAULT_TAB,
    mount_all: bool = False,
    services: Services | None = None,
) -> html.Div:
    """The shell with ``tab`` mounted and shown. Other tabs mount on their first visit
    (``tab_switch``); a mounted tab stays mounted and hidden when inactive, so switching
    keeps its state while a page load runs only the visible tab's callbacks.
    ``mount_all`` builds every tab and its lazy blocks (the validation layout);
    ``services`` reads the shown tab's first state into it (``mount_tab``)."""
    layout = html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="tab-hash-sink"),
            header.layout(settings),
            dbc.Container(
                [
                    dbc.Tabs(
                        [
                            dbc.Tab(
                                _pane(
                                    module,
                                    settings,
                                    mounted=mount_all or tab == module.TAB_ID,
                                    lazy=mount_all,
                                    services=None if mount_all else services,
                                ),
                                label=label,
                                tab_id=f"tab-{module.TAB_ID}",
                                id=f"tab-{module.TAB_ID}-tab",
                            )
                            for module, label in TABS
                        ],
                        id="main-tabs",
                        active_tab=f"tab-{tab}",
                        className="mt-2",
                    ),
                    dcc.Store(id="session-store", storage_type="session", data=None),
                    dcc.Store(id="mounted-tabs", data=[tab]),
                    *[
                        dcc.Interval(
                            id=f"{module.TAB_ID}-interval",
                            interval=int(settings.refresh_seconds * 1000),
                            disabled=tab != module.TAB_ID,
                        )
                        for module, _label in TABS
                    ],
                ],
                fluid=True,
                className="pb-4",
                id="main-content",
            ),
        ]
    )
    if services is not None and not mount_all:
        state = first_state.read("header", lambda: header.first_state(services, layout))
        first_state.apply(layout, state)
    return layout


def tab_switch(active_tab: str | None, mounted: list[str] | None) -> tuple[str | None, str | None]:
    """(tab to mount, tab whose refresh to restart) when ``active_tab`` is shown.

    A tab shown for the first time is mounted, and mounting runs its callbacks; a tab
    shown again is refreshed at once by resetting its interval's counter.
    """
    tab = (active_tab or "").removeprefix("tab-")
    if tab not in {m.TAB_ID for m, _ in TABS}:
        return None, None
    if tab in (mounted or []):
        return None, tab
    return tab, None


def tab_refresh_state(
    active_tab: str | None, enabled: bool, seconds: str | float | None, default: float
) -> tuple[list[bool], int]:
    """Which tab intervals run, and how often: only the visible tab refreshes.

    A visited tab stays mounted and hidden when inactive, so without this each hidden tab
    would keep polling the broker and computing figures nobody sees.
    """
    disabled = [not enabled or active_tab != f"tab-{m.TAB_ID}" for m, _ in TABS]
    return disabled, refresh_interval_ms(seconds, default)


def _register_tab_refresh(app: Dash, services: Services) -> None:
    settings = services.settings
    ids = [m.TAB_ID for m, _ in TABS]

    # "#risk" typed on an open page opens Risk (assets/20-tabs.js). Not on a load: the
    # page has moved a hash address onto its path before Dash asked for the layout.
    app.clientside_callback(
        ClientsideFunction(namespace="tabs", function_name="fromHash"),
        Output("main-tabs", "active_tab"),
        Input("url", "hash"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        ClientsideFunction(namespace="tabs", function_name="remember"),
        Output("tab-hash-sink", "data"),
        Input("main-tabs", "active_tab"),
    )

    # How the intervals run follows the tab and the header's settings, from the first
    # load (the settings persist per session). Mounting and the immediate refresh follow
    # tab switches only: a first-load call would hold back every callback that reads an
    # interval's counter until it had answered.
    # The header's own interval (badges, alerts) follows the same settings, in the same
    # callback: one fewer for every page load.
    @app.callback(
        *[Output(f"{i}-interval", "disabled") for i in ids],
        *[Output(f"{i}-interval", "interval") for i in ids],
        Output("global-interval", "disabled"),
        Output("global-interval", "interval"),
        Input("main-tabs", "active_tab"),
        Input("header-autorefresh", "value"),
        Input("header-refresh-seconds", "value"),
    )
    def set_tab_refresh(active: str | None, enabled: bool, seconds: str | None) -> tuple:
        disabled, ms = tab_refresh_state(active, enabled, seconds, settings.refresh_seconds)
        return (*disabled, *([ms] * len(ids)), not enabled, ms)

    @app.callback(
        *[Output(f"{i}-interval", "n_intervals") for i in ids],
        *[Output(f"{i}-pane", "children") for i in ids],
        Output("mounted-tabs", "data"),
        Input("main-tabs", "active_tab"),
        State("mounted-tabs", "data"),
        prevent_initial_call=True,
    )
    def switch_tab(active: str | None, mounted: list[str] | None) -> tuple:
        mount, restart = tab_switch(active, mounted)
        panes = [mount_tab(m, services) if mount == m.TAB_ID else no_update for m, _ in TABS]
        counters = [0 if i == restart else no_update for i in ids]
        new_mounted = [*(mounted or []), mount] if mount else no_update
        return (*counters, *panes, new_mounted)


def _register_health(server: Flask, services: Services) -> None:
    @server.get("/healthz")
    def healthz() -> Any:
        sources = services.data.health()
        worst = "ok" if all(v in ("connected", "unknown") for v in sources.values()) else "degraded"
        return jsonify(
            status=worst,
            mode=services.settings.mode_label,
            sources=sources,
            budget=services.data.budget_usage(),
        )


def _install_security(app: Dash, settings: Settings, *, production: bool) -> None:
    from dashboard.security.auth import configure_session_cookies, install_login, login_stores
    from dashboard.security.headers import install_security_headers

    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    configure_session_cookies(app.server, secret_key=secret, secure=production)
    install_security_headers(app, https=production)
    if settings.auth_required:
        assert settings.username and settings.password_hash  # guaranteed by Settings
        install_login(
            app.server,
            username=settings.username,
            password_hash=settings.password_hash.get_secret_value(),
            mode_label=settings.mode_label,
            **login_stores(settings),
        )


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    production: bool = False,
) -> Dash:
    """Build the Dash app. Tests inject ``services``; production builds them from settings.

    ``production`` (the gunicorn entry) marks cookies Secure and sends HSTS, since the
    app is then served behind an HTTPS proxy.
    """
    install_theme()
    if services is None:
        services = build_services(settings or load_settings())
    settings = services.settings
    app = TabPagesDash(
        __name__,
        title="STRAT Options Dashboard",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=False,
        update_title=None,  # type: ignore[arg-type]  # Dash accepts None: no title flicker
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        serve_locally=True,
        # In the head (FIRST_REQUESTS), and only on pages that draw a graph (BUNDLE).
        assets_ignore=f"{re.escape(FIRST_REQUESTS)}|{re.escape(PLOTLY_BUNDLE)}",
        compress=True,  # flask-compress: layouts and callbacks shrink on the wire
        page_scripts={
            m.TAB_ID: first_paint_scripts(build_layout(settings, tab=m.TAB_ID)) for m, _ in TABS
        },
    )
    app.layout = lambda: _layout_for_request(settings, services)
    routes = app.config.routes_pathname_prefix
    install_plotly_bundle(app.server, routes, ASSETS)
    install_static_compression(
        app.server,
        (f"{routes}{SUITES}", f"{routes}{app.config.assets_url_path.strip('/')}/"),
    )
    app.validation_layout = build_layout(settings, mount_all=True)  # type: ignore[assignment]
    header.register(app, services)
    _register_tab_refresh(app, services)
    for module, _label in TABS:
        module.register(app, services)
    _register_health(app.server, services)
    _install_security(app, settings, production=production)
    from dashboard.security.requests import install_request_guards

    install_request_guards(app)  # after the login: strangers are refused before parsing
    install_refresh_memo(  # after the login check: only signed-in viewers share renders
        app.server,
        RefreshMemo(
            settings.cache_ttl_seconds,
            lambda: services.data.generation,
            slow_outputs={o: services.data.bars_ttl for o in options.BARS_PACED_OUTPUTS},
            render_slots=render_slots_for(settings.gunicorn_threads),
        ),
    )
    app.server.extensions["dashboard_services"] = services
    _set_up_before_serving(app)
    return app


def _set_up_before_serving(app: Dash) -> None:
    """Run Dash's once-per-process set-up now, before the server takes a request.

    Dash runs it as a ``before_request`` hook that marks itself done before it registers
    the component bundles (plotly/dash#3971). Under threads (gunicorn's gthread, the dev
    server) the first page's concurrent script requests then find no bundle registered
    and fail with 500, and the page stays blank until a reload."""
    with app.server.test_request_context("/"):
        app._setup_server()


def services_of(app: Dash) -> Services:
    return app.server.extensions["dashboard_services"]


_server: Flask | None = None


def __getattr__(name: str) -> Any:
    """``dashboard.app.server``: the Flask app for gunicorn, built on first access."""
    global _server
    if name != "server":
        raise AttributeError(name)
    if _server is None:
        from dashboard.security.startup import check_production_settings

        _server = create_app(check_production_settings(), production=True).server
    return _server
