"""Strategy tab: grid rows equal the pure backtest's edge table for the same bars."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from dash import Dash

from dashboard.analytics.strategy import backtest_patterns, edge_table
from dashboard.app import create_app
from dashboard.components import strategy as tab
from dashboard.data_loaders.loop import run_async
from dashboard.services import Services, build_services
from dashboard.simulator.testing import SimulatorHandle
from tests.conftest import settings_for


def _callback(app: Dash, output: str) -> Any:
    key = next(k for k in app.callback_map if output in k)
    fn = app.callback_map[key]["callback"]
    return getattr(fn, "__wrapped__", fn)


@pytest.fixture(scope="module")
def wired(
    sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dash, Services]]:
    settings = settings_for(sim, tmp_path_factory.mktemp("strategy-tab"), watchlist=("SPY", "QQQ"))
    services = build_services(settings)
    app = create_app(services=services)
    yield app, services
    services.close()


def test_edge_rows_format_the_edge_table() -> None:
    table = pd.DataFrame(
        [
            {
                "pattern": "2-1-2",
                "timeframe": "1Day",
                "trades": 4,
                "wins": 3,
                "win_rate": 0.75,
                "win_rate_low": 0.30059,
                "win_rate_high": 0.95442,
                "expectancy_r": 0.5,
                "expectancy_low": -1.2345,
                "expectancy_high": 2.2345,
                "profit_factor": 2.5,
                "avg_win_r": 1.0,
                "avg_loss_r": -1.0,
                "total_r": 2.0,
            }
        ]
    )
    (row,) = tab.edge_rows(table)
    assert row["id"] == "2-1-2|1Day"
    assert row["win_rate_pct"] == 75.0
    assert row["win_rate_ci"] == "30.1 … 95.4"
    assert row["expectancy_ci"] == "-1.23R … +2.23R"
    assert (row["expectancy_r"], row["profit_factor"], row["total_r"]) == (0.5, 2.5, 2.0)
    (stat,) = tab.pattern_stats(table, multi_timeframe=True)
    assert (stat.pattern, stat.trades, stat.wins, stat.expectancy_r) == ("2-1-2 · 1Day", 4, 3, 0.5)


def test_journal_rows_group_closed_trades() -> None:
    def t(status: str, pnl: str, pattern: str = "2-1-2") -> SimpleNamespace:
        return SimpleNamespace(
            status=status, pattern=pattern, timeframe="1Day", realized_pnl=Decimal(pnl)
        )

    rows = tab.journal_rows([t("closed", "120"), t("closed", "-80"), t("open", "999")])
    assert rows == [
        {
            "group": "2-1-2 · 1Day",
            "trades": 2,
            "wins": 1,
            "win_rate_pct": 50.0,
            "realized_pnl": 40.0,
        }
    ]


def test_callback_rows_equal_the_pure_backtest(wired: tuple[Dash, Services]) -> None:
    app, services = wired
    update = _callback(app, "strategy-edge-grid.rowData")
    deadline = time.monotonic() + 120
    out = update(0, ["1Month", "1Week"], ["SPY", "QQQ"])
    while not out[7] and time.monotonic() < deadline:  # poll until every backtest is in
        time.sleep(0.3)
        out = update(1, ["1Month", "1Week"], ["SPY", "QQQ"])
    chart, hist, rows, progress_disabled = out[0], out[1], out[2], out[7]
    assert progress_disabled

    trades = []
    for sym in ("SPY", "QQQ"):
        for tf in ("1Month", "1Week"):
            bars = run_async(services.data.fetch_bars(sym, tf, tab.LOOKBACK[tf])).value
            trades += backtest_patterns(bars, symbol=sym, timeframe=tf).trades
    want = edge_table(trades, by=("pattern", "timeframe"))
    assert rows == tab.edge_rows(want)
    assert len(rows) > 3

    closed = [t.r_multiple for t in trades if t.r_multiple is not None]
    assert hist.layout.meta["trades"] == len(closed)
    assert hist.layout.meta["expectancy_r"] == pytest.approx(sum(closed) / len(closed))
    bars_trace = next(tr for tr in chart.data if tr.name == "expectancy R")
    assert len(bars_trace.y) == int((want["trades"] > 0).sum())


def test_journal_callback(wired: tuple[Dash, Services]) -> None:
    app, services = wired
    rows, status = _callback(app, "strategy-journal-grid.rowData")(1)
    journal = services.extras.get("journal")
    if journal is None:
        assert rows == [] and "no journal" in str(status)
    else:
        assert rows == tab.journal_rows(journal.list_trades(["closed"]))
        assert ("no closed trades yet" in str(status)) == (rows == [])


def test_r_equity_compounds_one_percent_risk_per_trade_in_exit_order() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from dashboard.components.strategy import r_equity
    from dashboard.visualizations.enhanced_charts import create_equity_curve

    t = pd.Timestamp("2026-01-05", tz="UTC")
    trades = [
        SimpleNamespace(
            r_multiple=-1.0, exit_index=9, exit_time=t + pd.Timedelta(days=3), entry_index=5
        ),
        SimpleNamespace(r_multiple=2.0, exit_index=4, exit_time=t, entry_index=1),
        SimpleNamespace(r_multiple=None, exit_index=None, exit_time=None, entry_index=7),  # open
    ]
    equity = r_equity(trades)
    # +2 R at 1% of $100,000, then −1 R at 1% of $102,000
    assert equity.tolist() == pytest.approx([102_000.0, 100_980.0])
    fig = create_equity_curve(equity)
    assert len(fig.data) >= 2  # equity and its drawdown


def test_edge_by_regime_tags_each_trade_with_the_regime_known_on_its_entry_day() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from dashboard.components.strategy import edge_by_regime

    days = pd.date_range("2026-01-05", periods=4, freq="D", tz="UTC")
    regimes = pd.Series(["TREND_BULL", "TREND_BULL", "CRASH", "CRASH"], index=days)

    def trade(r: float | None, day: int, hour: int = 15) -> SimpleNamespace:
        when = days[day] + pd.Timedelta(hours=hour)
        return SimpleNamespace(r_multiple=r, entry_time=when.to_pydatetime())

    trades = [trade(2.0, 0), trade(-1.0, 1), trade(-1.0, 2), trade(None, 3), trade(1.5, 3)]
    rows = {r["id"]: r for r in edge_by_regime(trades, regimes)}
    assert rows["TREND_BULL"]["trades"] == 2
    assert rows["TREND_BULL"]["expectancy_r"] == 0.5  # (2 − 1) / 2
    assert rows["CRASH"]["trades"] == 2  # the open trade is left out
    assert rows["CRASH"]["expectancy_r"] == 0.25  # (−1 + 1.5) / 2
    assert rows["CRASH"]["regime"] == "Crash"
    assert edge_by_regime(trades, None) == []
