"""The page-load baseline: a stock Dash page with one 200-bar candlestick ``dcc.Graph`` and
nothing else, on Dash's defaults (no compression, no assets), so dcc.Graph fetches the full
plotly.js itself. ``with_bundle=True`` gives the same page the dashboard's partial
plotly.js bundle through its assets folder, which separates plotly.js's share of a load
from the rest of Dash's.

``StockPage`` serves it with gunicorn on a free loopback port
(``gunicorn 'bench._stock_page:create_server()'``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench._simproc import free_port

ROOT = Path(__file__).resolve().parent.parent
BARS = 200
BUNDLE = "05-plotly-partial.min.js"


def candles(n: int = BARS, seed: int = 24) -> dict[str, Any]:
    """A seeded random walk of ``n`` daily OHLC bars as one candlestick trace."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = close + rng.normal(0, 0.5, n)
    high = np.maximum(open_, close) + rng.exponential(0.5, n)
    low = np.minimum(open_, close) - rng.exponential(0.5, n)
    x = pd.bdate_range("2025-01-02", periods=n)
    return {"type": "candlestick", "x": x, "open": open_, "high": high, "low": low, "close": close}


def create_server(with_bundle: bool = False) -> Any:
    """The stock page's Flask server (a gunicorn app factory)."""
    import plotly.graph_objects as go
    from dash import Dash, dcc, html

    app = Dash(
        __name__,
        assets_folder=str(ROOT / "dashboard" / "assets"),
        # Stock: no assets at all; with the bundle: that one file and nothing of the app's.
        assets_ignore=f"^(?!{re.escape(BUNDLE)}$)" if with_bundle else ".*",
    )
    fig = go.Figure(go.Candlestick(**{k: v for k, v in candles().items() if k != "type"}))
    fig.update_layout(title=f"{BARS} daily bars", xaxis_rangeslider_visible=False)
    app.layout = html.Div([html.H1("Stock Dash page"), dcc.Graph(id="candles", figure=fig)])
    return app.server


class StockPage:
    """``create_server(with_bundle)`` under gunicorn (1 worker, 4 threads) on loopback."""

    def __init__(self, log_dir: Path, *, with_bundle: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        name = "stock-bundle" if with_bundle else "stock"
        self.log = (log_dir / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                f"bench._stock_page:create_server(with_bundle={with_bundle})",
                "--workers", "1", "--threads", "4", "--worker-class", "gthread",
                "--bind", f"127.0.0.1:{self.port}",
            ],
            # Not from ROOT, whose gunicorn.conf.py is the dashboard's (gunicorn reads ./).
            cwd=log_dir,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))},
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stock page exited; see {self.log.name}")
            try:
                if httpx.get(self.url + "/", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the stock page did not answer within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
