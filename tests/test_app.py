"""The app factory, its services and the production entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import brotli

from dashboard.data_loaders.loop import run_async
from dashboard.services import build_services
from dashboard.settings import load_settings
from tests.conftest import settings_for


def test_import_has_no_side_effects() -> None:
    """Importing the app must not build services, start threads or touch the network."""
    code = (
        "import threading, dashboard.app as a; "
        "assert a._server is None; "
        "print(threading.active_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "1"


def test_factory_builds_five_tabs_and_health(sim, tmp_path: Path) -> None:
    from dashboard.app import create_app, services_of

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        app = create_app(services=services)
        assert services_of(app) is services
        client = app.server.test_client()
        layout = client.get("/_dash-layout").get_json()
        text = str(layout)
        for tab in ("regime", "strategy", "portfolio", "risk", "options"):
            assert f"tab-{tab}" in text
        health = client.get("/healthz").get_json()
        assert health["mode"] == "DEMO"
        run_async(services.data.fetch_account())
        health = client.get("/healthz").get_json()
        assert health["sources"]["alpaca-trading"] == "connected"
        assert health["status"] == "ok"
    finally:
        services.close()


def test_demo_broker_state_survives_a_restart(tmp_path: Path) -> None:
    """The embedded simulator saves next to the journal, so both agree after a restart."""
    settings = load_settings(env={"DASHBOARD_DATA_DIR": str(tmp_path)}, env_file=None)
    first = build_services(settings, exit_monitor=False)
    try:
        reply = first.simulator.client().post(
            "/v2/orders",
            json={
                "symbol": "SPY",
                "qty": "3",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
            },
        )
        assert reply.status_code == 200
    finally:
        first.close()
    assert (tmp_path / "simulator-snapshot.json").exists()
    second = build_services(settings, exit_monitor=False)
    try:
        positions = run_async(second.data.fetch_positions()).value
        assert [(p.symbol, int(p.qty)) for p in positions] == [("SPY", 3)]
    finally:
        second.close()


def test_only_the_visible_tab_refreshes() -> None:
    from dashboard.app import TABS, tab_refresh_state

    ids = [m.TAB_ID for m, _ in TABS]
    disabled, ms = tab_refresh_state("tab-risk", True, "10", 5.0)
    assert ms == 10_000
    assert [i for i, off in zip(ids, disabled, strict=True) if not off] == ["risk"]
    disabled, _ = tab_refresh_state("tab-risk", False, "10", 5.0)
    assert all(disabled)  # auto-refresh off stops every tab
    _, ms = tab_refresh_state("tab-options", True, "0.2", 5.0)
    assert ms == 1000  # never faster than a second


def test_a_page_load_mounts_only_the_tab_it_shows_and_others_mount_once() -> None:
    from dashboard.app import TABS, build_layout, tab_switch

    settings = load_settings(env={}, env_file=None)
    full = str(build_layout(settings, mount_all=True).to_plotly_json())
    for module, _label in TABS:
        shown = build_layout(settings, tab=module.TAB_ID)
        text = str(shown.to_plotly_json())
        assert f"{module.TAB_ID}-root" in text and f"{module.TAB_ID}-root" in full
        others = [m.TAB_ID for m, _ in TABS if m is not module]
        assert all(f"{o}-pane" in text and f"{o}-root" not in text for o in others)
        assert f"tab-{module.TAB_ID}" == _find(shown, "main-tabs").active_tab
        assert _find(shown, "mounted-tabs").data == [module.TAB_ID]
        assert [m.TAB_ID for m, _ in TABS if not _find(shown, f"{m.TAB_ID}-interval").disabled] == [
            module.TAB_ID
        ]  # only the shown tab refreshes
    assert tab_switch("tab-options", ["options"]) == (None, "options")  # already mounted
    assert tab_switch("tab-risk", ["options"]) == ("risk", None)  # first visit: mount
    assert tab_switch("tab-risk", ["options", "risk"]) == (None, "risk")  # again: refresh
    assert tab_switch("tab-nope", ["options"]) == (None, None)


def _find(layout: Any, ident: str) -> Any:
    """The component with id ``ident`` in a layout."""
    return next(c for c in layout._traverse() if getattr(c, "id", None) == ident)


def test_a_tab_address_is_its_last_path_segment() -> None:
    from dashboard.app import DEFAULT_TAB, tab_for_address

    assert tab_for_address("http://host:8050/risk") == "risk"
    assert tab_for_address("https://host/app/Strategy/") == "strategy"
    assert tab_for_address("http://host/regime?x=1#options") == "regime"  # the path decides
    for unknown in (None, "", "http://host/", "http://host/login", "http://host/risk/x"):
        assert tab_for_address(unknown) == DEFAULT_TAB


def test_the_first_layout_mounts_the_tab_the_page_address_names(sim, tmp_path: Path) -> None:
    """dash-renderer asks for /_dash-layout from the page: its Referer names the tab."""
    from dashboard.app import create_app

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        client = create_app(services=services).server.test_client()
        risk = str(client.get("/_dash-layout", headers={"Referer": "http://x/risk"}).get_json())
        assert "risk-root" in risk and "options-root" not in risk
        plain = str(client.get("/_dash-layout").get_json())
        assert "options-root" in plain and "risk-root" not in plain
        assert client.get("/risk").status_code == 200  # the address serves the page
    finally:
        services.close()


def test_the_first_requests_of_a_fresh_server_all_find_the_bundles(sim, tmp_path: Path) -> None:
    """A page's first burst of script requests, at once, on a threaded server that has
    served nothing yet: every bundle is there (Dash's own set-up registers them on the
    first request and, under threads, marks itself done first: plotly/dash#3971)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        app = create_app(services=services)
        assert {"dash", "dash_ag_grid", "dash_bootstrap_components"} <= set(app.registered_paths)
        http = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{http.server_port}/_dash-component-suites"
            bundles = [
                "dash/deps/react@18.3.1.min.js",
                "dash/dash-renderer/build/dash_renderer.min.js",
                "dash_ag_grid/dash_ag_grid.min.js",
                "dash_bootstrap_components/_components/dash_bootstrap_components.min.js",
            ] * 6
            with ThreadPoolExecutor(len(bundles)) as pool:
                codes = list(
                    pool.map(lambda b: httpx.get(f"{base}/{b}", timeout=30).status_code, bundles)
                )
            assert codes == [200] * len(bundles)
        finally:
            http.shutdown()
    finally:
        services.close()


def _by_id(node: Any) -> dict[str, dict[str, Any]]:
    """Every component with a string id in a served layout's JSON, by id."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found[props["id"]] = props
        for value in node.values():
            found |= _by_id(value)
    elif isinstance(node, list):
        for value in node:
            found |= _by_id(value)
    return found


# (tab, a component the tab's refresh fills, its property) for the tabs served drawn.
FIRST_STATE = (
    ("options", "options-signals-grid", "rowData"),
    ("portfolio", "portfolio-positions-grid", "rowData"),
    ("risk", "risk-heat-chart", "figure"),
)


def test_a_page_layout_arrives_in_its_first_state_and_its_callbacks_skip_the_load(
    sim, tmp_path: Path
) -> None:
    """The layout request reads the tab's first state (``components.first_state``), so
    those callbacks are ``prevent_initial_call`` and wait for the tab's first tick."""
    from dashboard.app import build_layout, create_app

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        client = create_app(services=services).server.test_client()
        deps = client.get("/_dash-dependencies").get_json()
        for tab, ident, prop in FIRST_STATE:
            served = _by_id(
                client.get("/_dash-layout", headers={"Referer": f"http://x/{tab}"}).get_json()
            )
            assert served[ident].get(prop) is not None, (tab, ident)
            assert (
                _find(build_layout(settings, tab=tab), ident).to_plotly_json()["props"].get(prop)
                != served[ident][prop]
            ), (tab, ident)  # without services: its loading state
            assert served["header-clock-badge"]["children"] != "CLOCK …", tab  # header too
            writer = next(d for d in deps if f"{ident}.{prop}" in d["output"])
            assert writer["prevent_initial_call"] is True, writer["output"]
    finally:
        services.close()


def test_a_tab_page_carries_the_scripts_of_its_first_layout(sim, tmp_path: Path) -> None:
    """dash-renderer fetches a grid's, graph's, dropdown's or date picker's code only when
    one first renders: a serial round after the layout, unless the page already ran it.
    plotly.js runs only on pages that draw a graph at first; Options (no graph until a
    signal is picked) prefetches it instead."""
    from dashboard.app import create_app
    from dashboard.plotly_bundle import LAZY_PATH

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        client = create_app(services=services).server.test_client()
        suites = "/_dash-component-suites/"
        grid, graph = "dash_ag_grid/async-community.js", "dash/dcc/async-graph.js"
        dates = "dash/dcc/async-datepicker.js"
        plotly = f'<script src="/{LAZY_PATH}"></script>'
        prefetch = f'<link rel="prefetch" href="/{LAZY_PATH}" as="script">'
        graph_prefetch = f'<link rel="prefetch" href="{suites}{graph}" as="script">'
        for address, wanted, unwanted, draws in (
            ("/", (grid, "dash/dcc/async-dropdown.js"), (graph, dates), False),
            ("/regime", (grid, graph, dates), (), True),
            ("/strategy", (grid, graph, dates), (), True),
            ("/risk", (grid, graph), (dates,), True),
        ):
            html = client.get(address).get_data(as_text=True)
            for chunk in wanted:
                assert f'<script src="{suites}{chunk}"></script>' in html, (address, chunk)
            assert not any(f'<script src="{suites}{c}"' in html for c in unwanted), address
            assert "async-markdown" not in html and "async-mathjax" not in html
            assert (plotly in html, prefetch in html) == (draws, not draws), address
            assert (graph_prefetch in html) == (not draws), address
            assert "05-plotly-partial" not in html, address  # not among the assets
    finally:
        services.close()


def test_plotly_js_is_the_partial_bundle_wherever_it_is_asked_for(sim, tmp_path: Path) -> None:
    """dcc.Graph loads plotly.js from the plotly package's address when a graph mounts
    on a page without it; that address serves the bundle, not the 4.8 MB full one."""
    from dashboard.app import ASSETS, create_app
    from dashboard.plotly_bundle import BUNDLE, LAZY_PATH

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        client = create_app(services=services).server.test_client()
        plain = client.get(f"/{LAZY_PATH}", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.mimetype == "application/javascript"
        assert plain.get_data() == (ASSETS / BUNDLE).read_bytes()
        etag = plain.headers["ETag"]
        again = client.get(f"/{LAZY_PATH}", headers={"If-None-Match": etag})
        assert again.status_code == 304  # revalidated, not sent again
        packed = client.get(f"/{LAZY_PATH}", headers={"Accept-Encoding": "br"})
        assert packed.headers["Content-Encoding"] == "br"  # compressed once, like bundles
        assert brotli.decompress(packed.get_data()) == plain.get_data()
    finally:
        services.close()


def test_a_page_preloads_its_layout_and_callback_graph(sim, tmp_path: Path) -> None:
    """So the layout (with the tab's first state) is built while the scripts load. The
    preloads are made by the head's first script (after it moves /#tab onto the path,
    so the layout request's Referer names the tab), not by the other assets."""
    from dashboard.app import FIRST_REQUESTS, create_app

    settings = settings_for(sim, tmp_path).with_overrides(simulator_url=sim.url)
    services = build_services(settings, exit_monitor=False)
    try:
        client = create_app(services=services).server.test_client()
        page = client.get("/risk").get_data(as_text=True)
        head, body = page.split("</head>")
        first = f'<script src="/assets/{FIRST_REQUESTS}" data-prefix="/"></script>'
        assert first in head and FIRST_REQUESTS not in body  # once, in the head
        script = client.get(f"/assets/{FIRST_REQUESTS}").get_data(as_text=True)
        for needed in ('"_dash-layout"', '"_dash-dependencies"', "replaceState", "anonymous"):
            assert needed in script, needed
    finally:
        services.close()
