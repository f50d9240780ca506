"""Page load in headless Chromium (/usr/bin/chromium, never a downloaded browser) against
gunicorn with the production config, for each tab.

For each tab a fresh browser context opens the tab's own address (``/#regime``: only
that tab mounts, as when a user bookmarks or reloads it), waits for the first render (the
tab bar is in the DOM: dash-renderer has drawn the layout), and waits until every graph
in the active pane has drawn: a plotly SVG and no placeholder ("loading…",
"Fitting the regime model…"; the 1 s job polls keep some component always loading, so
that flag is not used). All times run from the start of navigation; "callbacks answered"
is when the last callback response before the drawing arrived, so the rest of "drawn" is
the browser's own work (plotly.js, AG Grid, layout). Bytes are
the response bodies and headers of every request finished by then, as Chromium reports
them.
One warm-up load first, so the server's per-day jobs (regime fit, backtests) are done, as
for any viewer after the first.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench._book import UNMETERED, open_book
from bench._server import Gunicorn
from bench._simproc import SimProcess
from dashboard.data_loaders.async_data_service import AsyncDataService
from dashboard.services import demo_settings
from dashboard.settings import load_settings
from dashboard.trading.journal import Journal

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
TABS = (
    ("regime", "Regime Detection"),
    ("strategy", "Strategy Performance"),
    ("portfolio", "Live Portfolio"),
    ("risk", "Risk Management"),
    ("options", "Options Trading"),
)
DRAWN_JS = """(tab) => {
  // The tab mounts after the first render: wait for its root, then for every graph in it.
  const pane = document.getElementById(tab + '-root');
  if (!pane) return false;
  const graphs = pane.querySelectorAll('.dash-graph');
  if (!graphs.length) return false;
  for (const g of graphs) {
    if (!g.querySelector('.main-svg')) return false;
    if ((g.textContent || '').includes('…')) return false;  // "loading…", "Fitting…"
  }
  return true;
}"""


def _load(browser: Any, url: str, tab: str, timeout_ms: float) -> dict[str, float]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    sizes: list[int] = []
    callbacks_done: list[float] = []  # when each callback response arrived

    def on_finished(req: Any) -> None:
        if "_dash-update-component" in req.url:
            callbacks_done.append(time.perf_counter() - t0)
        try:
            s = req.sizes()
            sizes.append(int(s["responseBodySize"]) + int(s["responseHeadersSize"]))
        except Exception:  # a request that failed has no sizes
            pass

    page.on("requestfinished", on_finished)
    t0 = time.perf_counter()
    page.goto(f"{url}/#{tab}", wait_until="commit")  # the tab's own address
    page.wait_for_selector("#main-tabs", timeout=timeout_ms)
    first = time.perf_counter() - t0
    try:
        page.wait_for_function(DRAWN_JS, arg=tab, timeout=timeout_ms, polling=50)
        drawn = time.perf_counter() - t0
    except PlaywrightTimeout:  # recorded as not drawn, so the other tabs still count
        drawn = float("nan")
    graphs = page.evaluate(
        "(tab) => document.querySelectorAll('#' + tab + '-root .dash-graph').length", tab
    )
    ctx.close()
    answered = [t for t in callbacks_done if drawn != drawn or t <= drawn]
    return {
        "first_render_s": first,
        "callbacks_answered_s": max(answered, default=float("nan")),
        "drawn_s": drawn,
        "timed_out": float(drawn != drawn),
        "kb": sum(sizes) / 1024,
        "graphs": graphs,
    }


def run(quick: bool = False) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    sim = SimProcess(tmp)
    server = None
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
        sim.set_speed(60.0)
        server = Gunicorn(tmp, sim.url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                for tab, _label in TABS:  # warm-up: per-day jobs finish, workers import
                    _load(browser, server.url, tab, 180_000)
                for tab, _label in TABS:
                    for k, v in _load(browser, server.url, tab, 60_000).items():
                        out[f"{tab}_{k}"] = float(v)
            finally:
                browser.close()
    finally:
        if server is not None:
            server.stop()
        sim.stop()
    return out


if __name__ == "__main__":
    import sys

    for k, v in run(quick="--quick" in sys.argv).items():
        print(f"{k:28s} {v:10.3f}")
