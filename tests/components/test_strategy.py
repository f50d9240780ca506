"""Strategy tab: grid rows equal the pure backtest's edge table for the same bars."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from dash import Dash, no_update

from dashboard.analytics.strategy import (
    BacktestResult,
    BacktestTrade,
    backtest_patterns,
    edge_table,
    journal_option_frame,
    run_strategy,
    strategy_by_id,
    trades_between,
)
from dashboard.app import create_app
from dashboard.components import strategy as tab
from dashboard.data_loaders.loop import run_async
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
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
    args = (["1Month", "1Week"], ["SPY", "QQQ"], "all", None, None)
    out = update(0, *args)
    while not out[7] and time.monotonic() < deadline:  # poll until every backtest is in
        time.sleep(0.3)
        out = update(1, *args)
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
    rows, status, dte_rows, dte_status = _callback(app, "strategy-journal-grid.rowData")(
        1, None, None
    )
    journal = services.extras.get("journal")
    if journal is None:
        assert rows == [] and "no journal" in str(status)
    else:
        closed = journal.list_trades(["closed"])
        assert rows == tab.journal_rows(closed)
        assert dte_rows == tab.journal_dte_rows(journal_option_frame(closed))
        assert ("no closed trades in this range" in str(status)) == (rows == [])
        assert "No delta" in str(dte_status)


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


def test_callback_follows_an_option_strategy_and_rejects_a_bad_range(
    wired: tuple[Dash, Services],
) -> None:
    app, services = wired
    update = _callback(app, "strategy-edge-grid.rowData")
    args = (["1Month"], ["SPY"], "opt30", "2012-01-01", None)
    deadline = time.monotonic() + 120
    out = update(0, *args)
    while not out[7] and time.monotonic() < deadline:
        time.sleep(0.3)
        out = update(1, *args)
    bars = run_async(services.data.fetch_bars("SPY", "1Month", tab.LOOKBACK["1Month"])).value
    res = run_strategy(bars, strategy_by_id("opt30"), symbol="SPY", timeframe="1Month")
    trades = trades_between(res.trades, date(2012, 1, 1), None)
    assert trades and all(t.instrument == "option" for t in trades)
    assert out[2] == tab.edge_rows(edge_table(trades, by=("pattern", "timeframe")))
    assert out[8] == tab.tfc_rows(trades)
    assert out[10] == tab.option_rows(trades) and out[10]
    assert "modelled" in str(out[11]) and "Black-Scholes" in str(out[13])
    assert out[12] is None  # no date-range message

    fig, bench_rows, rolling, status = _callback(app, "strategy-benchmark-grid.rowData")(
        None, *args
    )
    assert "fresh" in str(status)
    assert [r["curve"] for r in bench_rows] == [tab.STRATEGY_NAME, tab.BENCHMARK_NAME]
    assert pd.Timestamp(fig.data[0].x[0]) >= pd.Timestamp("2012-01-01")
    assert {t.name for t in rolling.data} >= {"Strategy Sharpe", "Buy & hold Sortino"}

    export = _callback(app, "strategy-download.data")
    csv = export(1, *args)
    frame = pd.read_csv(io.StringIO(csv["content"]))
    assert len(frame) == len(trades) and csv["filename"] == "strat-opt30-2012-01-01_latest.csv"
    assert {"dte_at_entry", "delta_at_entry", "tfc_aligned"} <= set(frame.columns)
    assert frame["r_multiple"].dropna().tolist() == pytest.approx(
        [t.r_multiple for t in trades if t.r_multiple is not None]
    )

    bad = update(2, ["1Month"], ["SPY"], "opt30", "2020-02-01", "2020-01-01")
    assert all(v is no_update for i, v in enumerate(bad) if i != 12)
    assert "after end" in str(bad[12])
    assert (
        _callback(app, "strategy-benchmark-grid.rowData")(
            None, ["1Month"], ["SPY"], "opt30", "2020-02-01", "2020-01-01"
        )
        == (no_update,) * 4
    )
    assert export(1, ["1Month"], ["SPY"], "opt30", "2020-02-01", "2020-01-01") is no_update


# ------------------------------------------------------------------ pure helpers, by hand

NY = "America/New_York"
DAYS = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])


def _trade(entry: str, exit_: str | None, r: float | None, i: int, **kw: Any) -> BacktestTrade:
    return BacktestTrade(
        symbol="A",
        timeframe="1Day",
        pattern="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction="long",
        setup_index=i - 1,
        entry_index=i,
        exit_index=None if exit_ is None else i + 1,
        setup_time=None,
        entry_time=pd.Timestamp(entry, tz=NY).to_pydatetime(),
        exit_time=None if exit_ is None else pd.Timestamp(exit_, tz="UTC").to_pydatetime(),
        entry_price=10.0,
        stop_price=9.0,
        target_price=12.0,
        exit_price=None,
        outcome="open" if r is None else "target",
        r_multiple=r,
        bars_held=None,
        **kw,
    )


def _runs(trades: list[BacktestTrade]) -> list[tab.BacktestRun]:
    a = pd.Series([100.0, 110.0, 121.0, 99.0], index=DAYS)
    b = pd.Series([50.0, 50.0, 50.0, 25.0], index=DAYS)
    res = BacktestResult(tuple(trades), 5, len(trades), 0, 0)
    empty = BacktestResult((), 0, 0, 0, 0)
    return [
        tab.BacktestRun("A", "1Day", res, "sim", 4, None, "all", a),
        tab.BacktestRun("B", "1Day", empty, "sim", 4, None, "all", b),
    ]


TRADES = [
    _trade("2024-01-02", "2024-01-03 15:00", 2.0, 1, tfc_aligned=True, tfc_score=3),
    _trade("2024-01-03", "2024-01-05 16:00", -1.0, 2, tfc_aligned=False, tfc_score=1),
    _trade("2024-01-04", None, None, 3, tfc_aligned=True, tfc_score=3),
]


def test_parse_date_range() -> None:
    assert tab.parse_date_range(None, None) == tab.DateRange()
    r = tab.parse_date_range("2024-01-02", "2024-01-05T00:00:00")
    assert (r.start, r.end, r.error) == (date(2024, 1, 2), date(2024, 1, 5), None)
    assert "after end" in (tab.parse_date_range("2024-02-01", "2024-01-01").error or "")
    assert "not a date" in (tab.parse_date_range("junk", None).error or "")


def test_equity_view_against_buy_and_hold_by_hand() -> None:
    view = tab.equity_view(TRADES, _runs(TRADES), tab.DateRange())
    # +2R at 1% of 100,000 on Jan 3, then −1R at 1% of 102,000 on Jan 5.
    assert view.strategy.tolist() == pytest.approx([100_000, 102_000, 102_000, 100_980])
    # 50,000 in each: A 100 → 110 → 121 → 99, B 50 → 50 → 50 → 25.
    assert view.benchmark.tolist() == pytest.approx([100_000, 105_000, 110_500, 74_500])
    assert list(view.strategy.index) == list(DAYS) == list(view.benchmark.index)
    rows = {r["id"]: r for r in tab.benchmark_rows(view)}
    s, b = rows[tab.STRATEGY_NAME], rows[tab.BENCHMARK_NAME]
    assert (s["total_return_pct"], s["max_drawdown_pct"], s["days"]) == (0.98, -1.0, 4)
    assert (b["total_return_pct"], b["max_drawdown_pct"]) == (-25.5, round(-36_000 / 1105, 2))

    later = tab.equity_view(TRADES, _runs(TRADES), tab.DateRange(date(2024, 1, 3), None))
    # Only the trade entered on Jan 3 counts; both curves start at 100,000 that day.
    assert later.strategy.tolist() == pytest.approx([100_000, 100_000, 99_000])
    assert later.benchmark.tolist() == pytest.approx([100_000, 105_000, 70_000])


def test_render_equity_figure_and_states() -> None:
    fig, rows, rolling, line = tab.render_equity(_runs(TRADES), tab.DateRange())
    assert [t.name for t in fig.data] == [
        "equity",
        "buy & hold (equal weight) (rebased)",
        "drawdown %",
    ]
    assert list(fig.data[0].y) == pytest.approx([100_000, 102_000, 102_000, 100_980])
    assert list(fig.data[1].y) == pytest.approx([100_000, 105_000, 110_500, 74_500])
    assert len(rows) == 2 and "fresh" in str(line)
    assert rolling.layout.meta["empty_kind"] == "empty"  # 4 days < the 63-day window
    loading = tab.render_equity([], tab.DateRange())
    assert loading[0].layout.meta["empty_kind"] == "loading"
    failed = tab.render_equity([], tab.DateRange(), errors=["SPY 1Day: boom"])
    assert failed[0].layout.meta["empty_kind"] == "error" and "boom" in str(failed[3])
    none = tab.render_equity(_runs(TRADES), tab.DateRange(date(2025, 1, 1), None))
    assert none[0].layout.meta["empty_kind"] == "empty" and none[1] == []


def test_render_strategy_follows_the_range_and_the_strategy_kind() -> None:
    runs = _runs(TRADES)
    out = tab.render_strategy(runs, [], [], ["1Day"], strategy_by_id("all"), tab.DateRange())
    tfc = {r["id"]: r for r in out[8]}
    assert tfc["Aligned: every higher TF agrees"]["trades"] == 1  # the open one has no R
    assert tfc["Not aligned"]["expectancy_r"] == -1.0
    assert out[10] == [] and "pick an option strategy" in str(out[11])
    ranged = tab.render_strategy(
        runs, [], [], ["1Day"], strategy_by_id("all"), tab.DateRange(date(2024, 1, 3), None)
    )
    assert [r["trades"] for r in ranged[2]] == [1]  # one closed trade entered from Jan 3
    assert ranged[2] == tab.edge_rows(edge_table(TRADES[1:], by=("pattern", "timeframe")))
    assert "2 triggered in range · 1 closed" in str(ranged[6])


def test_option_rows_bucket_dte_and_delta() -> None:
    opt = [
        _trade("2024-01-02", "2024-01-03 15:00", 0.8, 1, dte_at_entry=14, delta_at_entry=0.52),
        _trade("2024-01-03", "2024-01-05 16:00", -0.4, 2, dte_at_entry=35, delta_at_entry=-0.3),
        _trade("2024-01-03", "2024-01-05 16:00", -0.6, 4, dte_at_entry=14, delta_at_entry=0.45),
    ]
    rows = {r["id"]: r for r in tab.option_rows(opt)}
    assert rows["14–29 DTE"]["trades"] == 2 and rows["14–29 DTE"]["expectancy_r"] == 0.1
    assert rows["30–59 DTE"]["expectancy_r"] == -0.4
    assert rows["0.40–0.60"]["bucket"] == "|Δ| 0.40–0.60" and rows["0.40–0.60"]["trades"] == 2
    assert rows["0.20–0.40"]["win_rate"] == 0.0
    out = tab.render_strategy(_runs(opt), [], [], ["1Day"], strategy_by_id("opt50"), None)
    assert out[10] == tab.option_rows(opt) and "modelled" in str(out[11])


def test_journal_dte_rows() -> None:
    frame = pd.DataFrame(
        {
            "dte_bucket": ["14–29 DTE", "14–29 DTE", "0–6 DTE", None],
            "realized_pnl": [125.0, -50.0, -500.0, 10.0],
            "r_multiple": [0.25, -0.1, -1.0, 0.5],
        }
    )
    rows = {r["id"]: r for r in tab.journal_dte_rows(frame)}
    assert set(rows) == {"14–29 DTE", "0–6 DTE"}
    assert rows["14–29 DTE"] == {
        "id": "14–29 DTE",
        "bucket": "14–29 DTE",
        "trades": 2,
        "win_rate": 50.0,
        "expectancy_r": 0.07,
        "realized_pnl": 75.0,
    }


def test_trades_csv_follows_the_range() -> None:
    csv = tab.trades_csv(_runs(TRADES), tab.DateRange(None, date(2024, 1, 3)))
    frame = pd.read_csv(io.StringIO(csv))
    assert frame["entry_index"].tolist() == [1, 2]
    assert frame["tfc_aligned"].tolist() == [True, False]


def test_period_end_closes_date_a_bar_when_its_close_is_known() -> None:
    starts = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-01"], tz=NY)
    monthly = tab.period_end_closes(pd.Series([1.0, 2.0, 3.0], index=starts), "1Month")
    # January's close is known on Jan 31; the last (forming) bar keeps its start.
    assert monthly.index.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-02-29", "2024-03-01"]
    mondays = pd.DatetimeIndex(["2024-01-08", "2024-01-15"], tz=NY)
    weekly = tab.period_end_closes(pd.Series([1.0, 2.0], index=mondays), "1Week")
    assert weekly.index.strftime("%Y-%m-%d").tolist() == ["2024-01-12", "2024-01-15"]
    daily = tab.period_end_closes(pd.Series([1.0, 2.0], index=mondays), "1Day")
    assert daily.index.strftime("%Y-%m-%d").tolist() == ["2024-01-08", "2024-01-15"]
