"""The app's plotly.js: the partial bundle in ``assets/``, at the one address dcc.Graph
loads plotly.js from.

A page whose first layout has a graph carries the bundle as a script, so
``window.Plotly`` exists before the graph mounts. A page without one (Options, until a
signal is picked) leaves it out: 1.2 MB of script its first screen does not run. When a
graph then mounts, dcc.Graph finds no ``window.Plotly`` and adds a script from
``window._dashPlotlyJSURL``, which dash-renderer sets to the plotly package's full
plotly.js (4.8 MB) under ``LAZY_PATH``. That address serves the partial bundle here, so
plotly.js reaches the page only as the bundle, whichever way it is asked for.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, send_file

BUNDLE = "05-plotly-partial.min.js"  # in assets/, built by `make plotly-bundle`
# Where dash-renderer points dcc.Graph when serving locally (window._dashPlotlyJSURL).
LAZY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"


def install_plotly_bundle(server: Flask, routes_prefix: str, assets: Path) -> None:
    """Serve ``assets/BUNDLE`` at ``LAZY_PATH`` (a static rule: it wins over Dash's
    component-suite route, which would serve the full plotly.js)."""
    bundle = assets / BUNDLE

    def plotly_bundle() -> Response:
        # Revalidated on each use (ETag): the address carries no version.
        return send_file(bundle, mimetype="application/javascript", conditional=True, max_age=0)

    server.add_url_rule(
        f"{routes_prefix}{LAZY_PATH}", endpoint="plotly_bundle", view_func=plotly_bundle
    )
