"""Headless Chromium (Debian's, never a downloaded one) against the app on a free port."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class ServedApp:
    url: str
    app: object
    _server: object = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()


def serve(app, host: str = "127.0.0.1") -> ServedApp:
    """Serve a Dash app with werkzeug in a daemon thread on a free port."""
    server = make_server(host, 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return ServedApp(url=f"http://{host}:{server.server_port}", app=app, _server=server)


@dataclass
class PageWatch:
    """Console errors and failed Dash callbacks seen by a page."""

    console_errors: list[str] = field(default_factory=list)
    failed_callbacks: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # loaded to run (not prefetches)

    def assert_clean(self) -> None:
        assert not self.console_errors, f"browser console errors: {self.console_errors}"
        assert not self.failed_callbacks, f"failed callbacks: {self.failed_callbacks}"


def open_page(
    browser, url: str, *, width: int = 1400, height: int = 1000
) -> tuple[object, PageWatch]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = PageWatch()
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))

    def on_response(resp) -> None:
        watch.responses.append((resp.url, resp.status))
        if resp.request.resource_type == "script":
            watch.scripts.append(resp.url)
        if "/_dash-update-component" in resp.url and resp.status >= 400 and resp.status != 204:
            watch.failed_callbacks.append(
                f"{resp.status} {resp.request.post_data[:200] if resp.request.post_data else ''}"
            )

    page.on("response", on_response)
    page.goto(url)
    return page, watch


def screenshot(page, name: str) -> Path:
    """The whole page, taken with the viewport as tall as the page: AG Grid draws its
    cells with ``content-visibility: auto``, so a grid far outside the viewport would be
    captured blank."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("document.documentElement.scrollHeight")
    if size and tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(300)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if size:
            page.set_viewport_size(size)
    return path


@pytest.fixture
def page_factory(browser) -> Iterator:
    contexts = []

    def make(url: str, **kw):
        page, watch = open_page(browser, url, **kw)
        contexts.append(page.context)
        return page, watch

    yield make
    for c in contexts:
        c.close()


# ----------------------------------------------------------------------------- live apps

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TAB_IDS = ("regime", "strategy", "portfolio", "risk", "options")
# A short watchlist keeps the background regime fits and backtests to seconds.
E2E_WATCHLIST = ("SPY", "QQQ")
# A fixed session open (a Monday, 09:30 ET): without it the simulator opens at the most
# recent real session, so the seeded market, and which setups are pending, change with
# the day and hour the suite runs.
E2E_START = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


def e2e_simulator_config() -> Any:
    from dashboard.simulator.embedded import SimulatorConfig

    return SimulatorConfig(seed=7, speed=0, port=0, start=E2E_START)


# werkzeug logs every request at INFO; the browser makes hundreds.
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@dataclass
class LiveApp:
    """A simulator, the services built against it, and the app served on loopback."""

    handle: Any
    services: Any
    served: ServedApp
    settings: Any

    @property
    def url(self) -> str:
        return self.served.url

    def sim_get(self, path: str, **params: Any) -> Any:
        with self.handle.client(timeout=10) as c:
            r = c.get(path, params=params or None)
            r.raise_for_status()
            return r.json()

    def stop(self) -> None:
        self.served.stop()
        self.services.close()
        self.handle.stop()


def start_live_app(
    data_dir: Path, handle: Any = None, *, warm_regime: bool = False, **overrides: Any
) -> LiveApp:
    """Build services and the app for a private manual-clock simulator.

    ``simulator_url`` is always set, so ``build_services`` never starts a second simulator
    and the test owns the clock and the faults.
    """
    from dashboard.app import create_app
    from dashboard.services import build_services
    from dashboard.simulator.embedded import start_simulator_thread
    from tests.conftest import settings_for

    handle = handle or start_simulator_thread(e2e_simulator_config())
    # 5% of the simulated account's equity per trade: at the default 1% the first board
    # row's contract (a monthly NVDA or SPY setup) risks more than that at its stop, and the
    # ticket rightly leaves the quantity blank; these tests load a row and send it.
    overrides = {
        "simulator_url": handle.url,
        "watchlist": E2E_WATCHLIST,
        "risk_per_trade_pct": 5.0,
        **overrides,
    }
    settings = settings_for(handle, data_dir).with_overrides(**overrides)
    services = build_services(settings)
    if warm_regime:
        # Fit before the browser opens: the fit thread shares the GIL with every callback,
        # and under a page's refreshes a cold fit takes minutes instead of seconds.
        regimes = services.regime
        regimes.wait(timeout=180)
        regimes.symbol_regimes(settings.watchlist)
        regimes.wait(timeout=180)
    app = create_app(services=services)
    return LiveApp(handle=handle, services=services, served=serve(app), settings=settings)


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.25, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what or predicate}: {last!r}"
    )


def show_tab(page: Any, tab: str) -> None:
    page.click(f"#tab-{tab}-tab")
    page.wait_for_selector(f"#{tab}-root", state="visible")


def show_lazy(page: Any, block: str, inside: str) -> None:
    """Scroll to a block that mounts when it comes near (ui.lazy_block), and wait for
    ``inside`` (a selector in what it mounts)."""
    page.locator(f"#{block}").scroll_into_view_if_needed()
    page.wait_for_selector(inside, state="attached", timeout=30_000)


def show_chain(page: Any) -> None:
    """Scroll to the option chain, which mounts when it comes near (ui.lazy_block)."""
    page.locator("#options-chain-body").scroll_into_view_if_needed()
    page.wait_for_selector("#options-chain-grid .ag-root-wrapper", timeout=30_000)
    page.locator("#options-chain-grid").scroll_into_view_if_needed()


# Everything a tab shows, read in one round trip. Plotly draws scatter/bar/histogram as
# ``g.trace`` and heatmaps as ``g.hm``; ``gd.data`` is what the figure asked for.
TAB_SNAPSHOT_JS = """(tab) => {
  const root = document.getElementById(tab + '-root');
  const plots = {};
  for (const gd of root.querySelectorAll('.js-plotly-plot')) {
    const id = gd.parentElement.id || gd.id;
    plots[id] = {drawn: gd.querySelectorAll('g.trace, g.hm').length, data: (gd.data || []).length};
  }
  const grids = {};
  for (const g of root.querySelectorAll('.ag-root-wrapper')) {
    grids[g.closest('[id]').id] = g.querySelectorAll('.ag-center-cols-container .ag-row').length;
  }
  const states = [...root.querySelectorAll('.state-line')].map(e => e.innerText);
  return {plots, grids, states};
}"""


def tab_snapshot(page: Any, tab: str) -> dict[str, Any]:
    return page.evaluate(TAB_SNAPSHOT_JS, tab)


def save_tab_screenshot(page: Any, name: str, *, docs: bool = True) -> Path:
    """Screenshot into test-artifacts; with UPDATE_SCREENSHOTS=1 also refresh the copy in
    docs/screenshots that the README links (ordinary test runs leave the tree clean)."""
    path = screenshot(page, name)
    if docs and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
    return path
