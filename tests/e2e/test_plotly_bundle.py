"""The partial plotly.js bundle (dashboard/assets/05-plotly-partial.min.js) in headless
Chromium: it draws every trace type it lists and every chart of the app, and the served app
uses it (as a page script, or where dcc.Graph loads plotly.js from) instead of the full
plotly.js."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs_version

from dashboard.plotly_bundle import LAZY_PATH
from tests.e2e.conftest import TAB_IDS, LiveApp, open_page, show_tab, start_live_app, wait_until
from tests.visualizations._plotly_bundle import BUNDLE, bundled_traces

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

# One small figure per trace type the app has drawn or draws, and the element plotly.js
# draws for that type's data (a point, a box, a heatmap image), which exists only if the
# trace module did its work. A type added to the bundle needs a sample here.
SAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "scatter": (
        {"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3], "mode": "lines+markers"},
        ".scatterlayer .trace.scatter path.point",
    ),
    "bar": ({"type": "bar", "x": ["a", "b"], "y": [1, -2]}, ".barlayer .trace.bars .point path"),
    "histogram": (
        {"type": "histogram", "x": [1, 1, 2, 3, 3, 3]},
        ".barlayer .trace.bars .point path",
    ),
    "waterfall": (
        {"type": "waterfall", "x": ["a", "b", "c"], "y": [3, -1, 2]},
        ".waterfalllayer .trace.bars .point path",
    ),
    "candlestick": (
        {
            "type": "candlestick",
            "x": ["2026-01-02", "2026-01-05"],
            "open": [10, 11],
            "high": [12, 12.5],
            "low": [9, 10.5],
            "close": [11, 10.8],
        },
        ".boxlayer .trace.boxes path.box",
    ),
    "heatmap": ({"type": "heatmap", "z": [[1, 2], [3, 4]]}, ".heatmaplayer .hm image"),
    "indicator": (
        {"type": "indicator", "mode": "number+delta", "value": 42, "delta": {"reference": 40}},
        ".indicatorlayer .trace text.number",
    ),
}

RENDER_JS = """async (specs) => {
  const drawn = {};
  for (const [id, f] of Object.entries(specs)) {
    const div = document.createElement('div');
    div.id = id;
    div.style.cssText = 'width:700px;height:360px';
    document.body.appendChild(div);
    await Plotly.newPlot(div, f.data, f.layout || {});
    drawn[id] = !!div.querySelector('.main-svg');
  }
  return drawn;
}"""


@pytest.fixture
def bundle_page(browser) -> Iterator[tuple[Any, list[str]]]:
    """A blank page with nothing but the committed bundle loaded."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content("<html><head><meta charset='utf-8'></head><body></body></html>")
    page.add_script_tag(path=str(BUNDLE))
    yield page, errors
    page.close()


def test_the_bundle_draws_one_figure_of_each_trace_type_it_lists(bundle_page) -> None:
    page, errors = bundle_page
    listed = bundled_traces()
    assert listed <= set(SAMPLES), f"give {sorted(listed - set(SAMPLES))} a sample in SAMPLES"
    assert page.evaluate("Plotly.version") == get_plotlyjs_version()
    # The bundle registers exactly the listed trace types: it is partial, and complete.
    assert set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")) == listed
    specs = {f"t-{kind}": {"data": [SAMPLES[kind][0]]} for kind in sorted(listed)}
    assert page.evaluate(RENDER_JS, specs) == dict.fromkeys(specs, True)
    drawn = {kind: page.locator(f"#t-{kind} {SAMPLES[kind][1]}").count() for kind in listed}
    assert all(n > 0 for n in drawn.values()), drawn
    assert errors == []


def test_the_bundle_draws_every_chart_of_the_app(bundle_page) -> None:
    from tests.visualizations.test_render_browser import _figures

    page, errors = bundle_page
    specs = {f"c-{name}": json.loads(pio.to_json(fig)) for name, fig in _figures().items()}
    assert page.evaluate(RENDER_JS, specs) == dict.fromkeys(specs, True)
    assert page.locator("#c-strat .boxlayer .trace.boxes").count() >= 4  # a trace per STRAT type
    assert page.locator("#c-heatmap .heatmaplayer .hm image").count() == 1
    assert errors == []


# ----------------------------------------------------------------------------- the app

GRAPHS_JS = """(tab) => {
  const graphs = [...document.querySelectorAll('#' + tab + '-root .js-plotly-plot')];
  return {
    // drawn, and past the placeholders (empty_figure's "loading" kind)
    drawn: graphs.filter(g => g.querySelector('.main-svg')
      && ((g.layout || {}).meta || {}).empty_kind !== 'loading').length,
    total: document.querySelectorAll('#' + tab + '-root .dash-graph').length,
    types: [...new Set(graphs.flatMap(g => (g.data || []).map(t => t.type || 'scatter')))],
  };
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    # Fitted before the browser opens, as in test_tabs.py: a cold fit under the page's
    # refreshes takes minutes.
    app = start_live_app(
        tmp_path_factory.mktemp("e2e-bundle"), refresh_seconds=5.0, warm_regime=True
    )
    try:
        yield app
    finally:
        app.stop()


def test_the_app_draws_with_the_bundle_and_never_fetches_the_full_plotly(
    browser, live: LiveApp
) -> None:
    page, watch = open_page(browser, live.url)
    try:
        page.wait_for_selector("#options-signals-grid .ag-center-cols-container .ag-row")
        # Options draws no graph until a signal is picked, so its page runs no plotly.js.
        assert page.evaluate(GRAPHS_JS, "options")["total"] == 0
        assert page.evaluate("typeof window.Plotly") == "undefined"
        page.click("#options-signals-grid .ag-center-cols-container .ag-row .ag-cell")
        types: set[str] = set()
        for tab in TAB_IDS:
            show_tab(page, tab)
            snap = wait_until(
                lambda tab=tab: (
                    (s := page.evaluate(GRAPHS_JS, tab))["total"] and s["drawn"] == s["total"] and s
                ),
                timeout=180,
                what=f"every graph of the {tab} tab to draw",
            )
            types |= set(snap["types"])
        version = page.evaluate("window.Plotly && window.Plotly.version")
        registered = set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)"))
    finally:
        page.context.close()
    urls = [url for url, _status in watch.responses]
    # The signal chart's mount loaded plotly.js from dcc.Graph's address, which serves the
    # bundle: it registers exactly the bundle's trace types (the full one has 49).
    assert registered == bundled_traces()
    plotly = [u.split("?")[0] for u in urls if "plotly" in u.lower()]
    assert plotly and set(plotly) == {f"{live.url}/{LAZY_PATH}"}, plotly
    assert not any("async-plotlyjs" in u for u in urls)
    # The page's first-paint chunks (app.first_paint_scripts) ran as page scripts, so
    # webpack never loads them again; the others are loaded once, when first needed (the
    # graph's chunk and plotly.js from the page's prefetches).
    scripts = [u.split("?")[0] for u in watch.scripts]
    assert scripts.count(f"{live.url}/{LAZY_PATH}") == 1
    chunks = Counter(u.rsplit("/", 1)[-1] for u in scripts if "/async-" in u)
    assert {"async-graph.js", "async-community.js", "async-dropdown.js"} <= set(chunks)
    assert all(n == 1 for n in chunks.values()), chunks
    # The page preloads its layout and callback graph; dash-renderer takes those answers.
    for resource in ("/_dash-layout", "/_dash-dependencies"):
        assert sum(u.split("?")[0].endswith(resource) for u in urls) == 1, resource
    assert version == get_plotlyjs_version()
    assert types and types <= bundled_traces(), sorted(types)
    watch.assert_clean()  # no console errors: the CSP (script-src 'self') lets the asset run


def test_a_page_that_draws_a_graph_at_once_runs_the_bundle_as_a_page_script(
    browser, live: LiveApp
) -> None:
    page, watch = open_page(browser, f"{live.url}/risk")
    try:
        page.wait_for_selector("#risk-root .js-plotly-plot .main-svg")
        registered = set(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)"))
        scripts = page.evaluate("[...document.scripts].map(s => s.src)")
    finally:
        page.context.close()
    assert registered == bundled_traces()
    assert f"{live.url}/{LAZY_PATH}" in scripts  # in the page, before dash-renderer
    watch.assert_clean()
