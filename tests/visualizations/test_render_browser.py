"""Every chart renders in headless Chromium with no console or page errors.

The figures are embedded in one static page with the plotly.js bundled in the plotly
package (no network), rendered with ``Plotly.newPlot``, and each must produce its SVG.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs

from dashboard.models import OptionContract, OptionQuote
from dashboard.options.projection import payoff_curve
from dashboard.strat import detect_patterns, evaluate_setups
from dashboard.visualizations import enhanced_charts as ec
from dashboard.visualizations.inputs import (
    GreeksExposure,
    PatternStats,
    PositionRisk,
    RegimeCell,
    TradeProgress,
)

pytestmark = pytest.mark.e2e


def _figures() -> dict[str, object]:
    rng = np.random.default_rng(5)
    n = 600
    close = np.round(100 + np.cumsum(rng.normal(0, 0.5, n)), 2)
    open_ = np.round(close + rng.normal(0, 0.3, n), 2)
    high = np.round(np.maximum(open_, close) + rng.exponential(0.3, n), 2)
    low = np.round(np.minimum(open_, close) - rng.exponential(0.3, n), 2)
    idx = pd.date_range("2024-01-02 14:30", periods=n, freq="15min", tz="UTC")
    df = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1000.0}, index=idx
    )
    setups = evaluate_setups(
        detect_patterns(high, low, open_, close, since=-60), high, low, close, idx
    )
    regimes = pd.Series(np.where(np.arange(n) // 150 % 2, "TREND_BULL", "CRASH"), index=idx)
    contract = OptionContract("SPY261218C00600000", "SPY", date(2026, 12, 18), "call", Decimal(600))
    quote = OptionQuote(contract, 2.0, 2.2, None, 10, None, None, None, None, None, None, None)
    curve = payoff_curve(
        right="call", strike=100, premium=2.5, spot=100, years=0.1, iv=0.25, days_forward=5
    )
    return {
        "strat": ec.create_strat_candlestick_chart(df, patterns=setups[-10:], regimes=regimes),
        "strat_empty": ec.create_strat_candlestick_chart(df.iloc[:0]),
        "strat_one": ec.create_strat_candlestick_chart(df.iloc[:1]),
        "error": ec.empty_figure("upstream failed", kind="error"),
        "heatmap": ec.create_regime_heatmap([RegimeCell("SPY", "1Day", "TREND_BULL", "FTFC up")]),
        "timeline": ec.create_regime_timeline(regimes, df["close"]),
        "features": ec.create_feature_evolution(df[["close"]], {"close": 100.0}),
        "waterfall": ec.create_pnl_waterfall({"delta": 10.0, "theta": -3.0}),
        "flow": ec.create_options_flow_chart([quote], spot=598.0),
        "progress": ec.create_trade_progress_chart(
            [TradeProgress("SPY C", "long", 100, 102, 104, 98, 50.0, 12.0)]
        ),
        "equity": ec.create_equity_curve(df["close"] * 100, df["open"].rename("SPY")),
        "payoff": ec.create_payoff_chart(curve, entry=101, target=104, stop=98),
        "heat": ec.create_heat_chart([PositionRisk("SPY", 200)], equity=10_000, limit_pct=8),
        "var": ec.create_var_histogram(rng.normal(0, 100, 500), var=160, cvar=200),
        "greeks": ec.create_greeks_exposure_chart([GreeksExposure("SPY", 50, 2, -10, 30)]),
        "patterns": ec.create_pattern_performance_chart([PatternStats("2-1-2", 10, 6, 0.4)]),
        "rmult": ec.create_r_multiple_histogram(rng.normal(0.2, 1.2, 100)),
    }


def test_every_chart_renders_without_console_errors(tmp_path, browser):
    figs = _figures()
    specs = {name: json.loads(pio.to_json(fig)) for name, fig in figs.items()}
    divs = "".join(f'<div id="{k}" style="width:800px;height:400px"></div>' for k in specs)
    page_html = (
        f"<html><head><meta charset='utf-8'><script>{get_plotlyjs()}</script></head>"
        f"<body>{divs}<script>window.SPECS = {json.dumps(specs)};"
        "window.DONE = Promise.all(Object.entries(window.SPECS).map(([k, f]) =>"
        " Plotly.newPlot(k, f.data, f.layout))).then(() => true);</script></body></html>"
    )
    path = tmp_path / "charts.html"
    path.write_text(page_html, encoding="utf-8")
    errors: list[str] = []
    page = browser.new_page()
    try:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        assert page.evaluate("window.DONE") is True
        rendered = page.evaluate(
            "Object.keys(window.SPECS).filter(k => document.querySelector('#' + k + ' .main-svg'))"
        )
        candles = page.evaluate("document.querySelectorAll('#strat .trace.boxes').length")
        shown_text = page.inner_text("#error")
    finally:
        page.close()
    assert errors == []
    assert sorted(rendered) == sorted(specs)
    assert candles >= 4  # one candlestick trace per STRAT type drawn
    assert "upstream failed" in shown_text
