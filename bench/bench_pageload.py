"""Page load in headless Chromium (/usr/bin/chromium, never a downloaded browser): each tab
of the app under gunicorn with the production config, side by side with a stock Dash page
(one 200-bar candlestick graph, the full plotly.js; ``bench/_stock_page.py``) in one run.

Every load is a fresh browser context (empty cache, as a first visit) opening one address:
a tab by its own address (``/regime``: only that tab mounts, in the first layout, as when
a user bookmarks or reloads it), or the stock page. Times run from the start of navigation:

- *first render*: dash-renderer has drawn the layout (the tab bar, or the stock graph's div);
- *drawn*: every graph on the page (the tab's pane) has its plotly SVG and none is still a
  placeholder (``empty_figure``'s "loading" kind: "loading…", "Fitting the regime model…");
  a pane with no graph on its first screen (Options: its charts mount when a signal is
  picked) counts as drawn when its grids are filled (below), its first picture;
- *grids filled*: "drawn", and every AG Grid on the page shows rows or says it has none
  (not "loading"): for Options the signal board, which "drawn" alone does not wait for;
- *callbacks answered*: the last callback response before "drawn", so the rest of "drawn"
  is the browser's own work (plotly.js, AG Grid, layout);
- *script s* / *task s*: Chromium's own ScriptDuration / TaskDuration (DevTools Performance
  metrics) up to "drawn": time its main thread spent running JavaScript / busy at all.

Bytes are the response bodies (as sent: compressed where the server compresses) and
headers of every request finished by "drawn", as Chromium reports them.
The day's regime fits are made before the server starts, and every page is loaded until it
has drawn once, so the server's per-day jobs (regime fit, backtests) are done, as for any
viewer after the first; then ``ROUNDS`` rounds, each loading every
page once in turn, so drift on a shared machine falls on all pages alike. Each figure is
the median over the rounds; ``<page>_x_stock`` is a page's median "drawn" over the stock
page's. ``stock_bundle`` is the stock page given the app's partial plotly.js bundle
(assets folder): the share of a load that is plotly.js's.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench._book import UNMETERED, open_book
from bench._server import Gunicorn
from bench._simproc import SimProcess
from bench._stock_page import StockPage
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.services import demo_settings
from dashboard.settings import load_settings
from dashboard.trading.journal import Journal

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ROUNDS = 5
WARM_UP_ATTEMPTS = 4  # loads of up to 180 s each, until the per-day jobs are done
TABS = (
    ("regime", "Regime Detection"),
    ("strategy", "Strategy Performance"),
    ("portfolio", "Live Portfolio"),
    ("risk", "Risk Management"),
    ("options", "Options Trading"),
)
STOCK = (
    ("stock", "Stock Dash page (full plotly.js)"),
    ("stock_bundle", "Stock Dash page with the partial bundle"),
)
DRAWN_JS = """(root) => {
  // The tab mounts after the first render: wait for its root, then for every graph in it.
  const pane = document.querySelector(root);
  if (!pane) return false;
  const graphs = pane.querySelectorAll('.dash-graph');
  if (!graphs.length) return 'none';  // its first picture is its grids (FILLED_JS)
  for (const g of graphs) {
    const gd = g.querySelector('.js-plotly-plot');
    if (!gd || !gd.querySelector('.main-svg')) return false;
    if (((gd.layout || {}).meta || {}).empty_kind === 'loading') return false;
  }
  return graphs.length;
}"""
FILLED_JS = """(root) => {
  const pane = document.querySelector(root);
  if (!pane) return false;
  for (const grid of pane.querySelectorAll('.ag-root-wrapper')) {
    if (grid.querySelector('.ag-center-cols-container .ag-row')) continue;
    if (grid.querySelector('.ag-overlay-no-rows-wrapper')) continue;
    return false;
  }
  return true;
}"""


LOAD_KEYS = (
    "first_render_s",
    "callbacks_answered_s",
    "drawn_s",
    "filled_s",
    "script_s",
    "task_s",
    "kb",
    "js_kb",
    "graphs",
)


def _load(browser: Any, url: str, root: str, first: str, timeout_ms: float) -> dict[str, float]:
    """Open ``url`` in a fresh context; wait for ``first`` (first render), then for every
    graph under ``root`` to be drawn."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")
    finished: list[tuple[float, int, bool]] = []  # (when, bytes, is a script)
    callbacks_done: list[float] = []  # when each callback response arrived

    def on_finished(req: Any) -> None:
        now = time.perf_counter() - t0
        if "_dash-update-component" in req.url:
            callbacks_done.append(now)
        try:
            s = req.sizes()
        except Exception:  # a request that failed has no sizes
            return
        size = int(s["responseBodySize"]) + int(s["responseHeadersSize"])
        finished.append((now, size, req.resource_type == "script"))

    page.on("requestfinished", on_finished)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_selector(first, timeout=timeout_ms)
    except PlaywrightTimeout:  # never rendered: not drawn either
        print(f"[bench] {url}: {first} not shown in {timeout_ms / 1000:.0f} s", flush=True)
        ctx.close()
        return dict.fromkeys(LOAD_KEYS, math.nan)
    first_s = time.perf_counter() - t0
    try:
        graphs = page.wait_for_function(DRAWN_JS, arg=root, timeout=timeout_ms, polling=50)
        drawn = time.perf_counter() - t0
        count = graphs.json_value()
        n_graphs = 0.0 if count == "none" else float(count)
    except PlaywrightTimeout:  # recorded as not drawn, so the other pages still count
        drawn, n_graphs = math.nan, math.nan
    filled = math.nan
    if not math.isnan(drawn):
        try:
            page.wait_for_function(FILLED_JS, arg=root, timeout=timeout_ms, polling=50)
            filled = time.perf_counter() - t0
        except PlaywrightTimeout:
            pass
        if n_graphs == 0:
            drawn = filled
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.wait_for_timeout(200)  # let "requestfinished" events of the last responses land
    ctx.close()
    by_then = [f for f in finished if math.isnan(drawn) or f[0] <= drawn]
    answered = [t for t in callbacks_done if t <= drawn]  # none when never drawn
    return {
        "first_render_s": first_s,
        "callbacks_answered_s": max(answered, default=math.nan),
        "drawn_s": drawn,
        "filled_s": filled,
        "script_s": metrics.get("ScriptDuration", math.nan),
        "task_s": metrics.get("TaskDuration", math.nan),
        "kb": sum(f[1] for f in by_then) / 1024,
        "js_kb": sum(f[1] for f in by_then if f[2]) / 1024,
        "graphs": n_graphs,
    }


def _fit_regimes(settings: Any) -> None:
    """Fit the day's regime models before the server starts, as tests/e2e does: the fits
    land in the data directory's disk cache, which the workers read instead of fitting
    (under load, two workers fitting at once while serving the page took many minutes)."""
    from dashboard.services import build_services

    services = build_services(settings, exit_monitor=False)
    try:
        regimes = services.regime
        regimes.wait(timeout=900)
        regimes.symbol_regimes(settings.watchlist)
        regimes.wait(timeout=900)
    finally:
        services.close()


def _median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def run(quick: bool = False) -> dict[str, float]:
    """``quick`` changes nothing: five rounds are the figure asked for, and they are cheap."""
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {"rounds": float(ROUNDS)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    sim = SimProcess(tmp)
    servers: list[Any] = []
    try:
        base = load_settings(env={"DASHBOARD_DATA_DIR": str(tmp)}, env_file=None)
        settings = demo_settings(base, sim.url).with_overrides(
            simulator_url=sim.url, alpaca_rate_limit_per_minute=UNMETERED
        )  # opening the book is set-up, not the subject
        data = AsyncDataService.from_settings(settings)
        journal = Journal.from_settings(settings)
        open_book(data, journal, 10, sim.advance)
        data.close_sync()
        journal.close()
        # Real time from the open (where open_book leaves the clock): a run stays inside one
        # session. At the demo's 60x a simulated day passes every 24 minutes, and a day
        # boundary reruns the per-day jobs (regime fit, backtests) mid-run: that is the
        # first viewer of a day, not the warm server measured here.
        sim.set_speed(1.0)
        _fit_regimes(settings)
        app = Gunicorn(tmp, sim.url)
        servers.append(app)
        stock = StockPage(tmp)
        servers.append(stock)
        stock_bundle = StockPage(tmp, with_bundle=True)
        servers.append(stock_bundle)
        # page name -> (address, root of its graphs, first-render selector)
        pages = {
            "stock": (stock.url + "/", "body", "#candles"),
            "stock_bundle": (stock_bundle.url + "/", "body", "#candles"),
            **{tab: (f"{app.url}/{tab}", f"#{tab}-root", "#main-tabs") for tab, _label in TABS},
        }
        loads: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                for name, (url, root, first) in pages.items():  # warm-up: jobs, imports
                    for _attempt in range(WARM_UP_ATTEMPTS):
                        if not math.isnan(_load(browser, url, root, first, 180_000)["drawn_s"]):
                            break
                    else:
                        raise RuntimeError(f"{name} was never drawn while warming up")
                for _ in range(ROUNDS):
                    for name, (url, root, first) in pages.items():
                        loads[name].append(_load(browser, url, root, first, 60_000))
            finally:
                browser.close()
    finally:
        for server in reversed(servers):
            server.stop()
        sim.stop()
    for name, runs in loads.items():
        for key in runs[0]:
            out[f"{name}_{key}"] = _median([r[key] for r in runs])
        out[f"{name}_timed_out"] = float(sum(math.isnan(r["drawn_s"]) for r in runs))
    for name in pages:
        out[f"{name}_x_stock"] = out[f"{name}_drawn_s"] / out["stock_drawn_s"]
        out[f"{name}_filled_x_stock"] = out[f"{name}_filled_s"] / out["stock_drawn_s"]
    return out


if __name__ == "__main__":
    import sys

    for k, v in run(quick="--quick" in sys.argv).items():
        print(f"{k:32s} {v:10.3f}")
