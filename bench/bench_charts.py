"""STRAT chart benchmark: figure build time and JSON payload for 5,000 and 50,000 bars.

Goals (issue 7): a 5,000-bar STRAT chart built in under 150 ms and serialised in under
400 KB. The input is a cent-rounded random walk with the last 20 evaluated setups and a
regime series, which is what the Strategy tab draws. The payload is measured with
plotly's JSON engine, the path Dash uses.

It also times one Options refresh response (12 trade cards, the 100-trade progress chart
and 500 journal rows) through plotly's "json" and "orjson" engines in the same run: the
app sets "json" (``theme.install_theme``) because it measured faster.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.io as pio

from dashboard.strat import detect_patterns, evaluate_setups
from dashboard.visualizations.enhanced_charts import create_strat_candlestick_chart
from dashboard.visualizations.theme import install_theme

SIZES = (5_000, 50_000)
SETUPS_SHOWN = 20


def _bars(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Benchmark input only: 15-minute bars from a cent-rounded random walk."""
    close = np.round(100 + np.cumsum(rng.normal(0, 0.5, n)), 2)
    open_ = np.round(close + rng.normal(0, 0.3, n), 2)
    high = np.round(np.maximum(open_, close) + rng.exponential(0.3, n), 2)
    low = np.round(np.minimum(open_, close) - rng.exponential(0.3, n), 2)
    idx = pd.date_range("2024-01-02 14:30", periods=n, freq="15min", tz="UTC")
    vol = rng.integers(100, 100_000, n).astype(np.float64)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": vol}, index=idx
    )


def bench_size(n: int, repeat: int = 5) -> dict[str, float]:
    rng = np.random.default_rng(n)
    df = _bars(n, rng)
    patterns = detect_patterns(df["high"], df["low"], df["open"], df["close"], since=-200)
    setups = evaluate_setups(patterns, df["high"], df["low"], df["close"], df.index)
    shown = setups[-SETUPS_SHOWN:]
    regimes = np.where((np.arange(n) // 250) % 3 == 0, "TREND_BULL", "TREND_NEUTRAL")
    create_strat_candlestick_chart(df.iloc[:10])  # warm the validators once

    best_build = best_json = float("inf")
    payload = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        fig = create_strat_candlestick_chart(df, patterns=shown, regimes=regimes)
        t1 = time.perf_counter()
        payload = pio.to_json(fig, validate=False)
        t2 = time.perf_counter()
        best_build, best_json = min(best_build, t1 - t0), min(best_json, t2 - t1)
    return {
        f"strat_chart_{n}_build_ms": best_build * 1000,
        f"strat_chart_{n}_json_ms": best_json * 1000,
        f"strat_chart_{n}_payload_kb": len(payload.encode()) / 1024,
        f"strat_chart_{n}_setups_drawn": float(len(shown)),
    }


def _best_ms(fn: object, repeat: int = 7, inner: int = 10) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - t0) / inner)
    return best * 1000


def bench_serialise() -> dict[str, float]:
    """One Options refresh response through both of plotly's JSON engines."""
    from types import SimpleNamespace

    from plotly.io.json import to_json_plotly

    from dashboard.components.options.trades import active_trade_card
    from dashboard.views.options.trades import trade_view
    from dashboard.visualizations.enhanced_charts import create_trade_progress_chart
    from dashboard.visualizations.inputs import TradeProgress

    trade = SimpleNamespace(
        id=1, contract_symbol="SPY261204C00600000", underlying="SPY", direction="long",
        entry_level=100.0, target_level=110.0, stop_level=95.0, entry_fill_price=2.0,
        open_qty=1, closed_qty=0, qty=1, realized_pnl=0, status="open", pattern="2-1-2U",
        timeframe="1Day", status_message=None,
    )  # fmt: skip
    cards = [active_trade_card(trade_view(trade, 100 + i / 10, 2.5)) for i in range(12)]
    progress = create_trade_progress_chart(
        [
            TradeProgress(f"SPY C{i}", "long", 100, 100 + i / 20, 110, 95, 10.0, 5.0)
            for i in range(100)
        ]
    )
    rows = [
        {"id": i, "contract": f"SPY C{i}", "pnl": i * 1.5, "status": "open"} for i in range(500)
    ]
    response = {
        "multi": True,
        "response": {
            "options-active-trades": {"children": cards},
            "options-progress-chart": {"figure": progress},
            "options-journal-grid": {"rowData": rows},
        },
    }
    out = {
        f"serialise_{engine}_ms": _best_ms(lambda e=engine: to_json_plotly(response, engine=e))
        for engine in ("json", "orjson")
    }
    out["serialise_orjson_over_json"] = out["serialise_orjson_ms"] / out["serialise_json_ms"]
    return out


def run() -> dict[str, float]:
    install_theme()  # what create_app does: the template and JSON engine the app uses
    out: dict[str, float] = {"json_engine_orjson": float(_orjson_in_use())}
    out.update(bench_serialise())
    for n in SIZES:
        out.update(bench_size(n))
    out["strat_chart_5000_build_goal_met"] = float(out["strat_chart_5000_build_ms"] < 150)
    out["strat_chart_5000_payload_goal_met"] = float(out["strat_chart_5000_payload_kb"] < 400)
    return out


def _orjson_in_use() -> bool:
    engine = pio.json.config.default_engine
    if engine == "orjson":
        return True
    try:
        import orjson  # noqa: F401
    except ImportError:
        return False
    return engine == "auto"  # plotly's "auto" picks orjson when it is importable


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:36s} {value:,.2f}")
