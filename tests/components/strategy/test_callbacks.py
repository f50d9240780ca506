"""Strategy Performance callbacks: grid rows equal the pure backtest's edge table for the
same bars, and the renders follow the strategy, the range and the job states."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import MappingProxyType, SimpleNamespace

import pandas as pd
import pytest
from dash import Dash, no_update

from dashboard.analytics.edge import edge_table, journal_option_frame, trades_between
from dashboard.analytics.performance import SizingRule
from dashboard.analytics.regime import RegimeResult
from dashboard.analytics.regime_fits import RegimeFit, RegimeSnapshot
from dashboard.analytics.regimes import Regime
from dashboard.analytics.strategy import backtest_patterns, run_strategy, strategy_by_id
from dashboard.app import create_app
from dashboard.components.strategy import callbacks as C
from dashboard.data_loaders.loop import run_async
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.views import strategy as tab
from dashboard.views import strategy_equity as eq
from tests.conftest import settings_for
from tests.views._backtests import TRADES, _runs


@pytest.fixture(scope="module")
def wired(
    sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dash, Services]]:
    settings = settings_for(sim, tmp_path_factory.mktemp("strategy-tab"), watchlist=("SPY", "QQQ"))
    services = build_services(settings)
    app = create_app(services=services)
    yield app, services
    services.close()


def _until_done(services: Services, *args: object) -> dict:
    deadline = time.monotonic() + 120
    out = C.update_strategy(services, *args)  # type: ignore[arg-type]
    while not out["poll_off"] and time.monotonic() < deadline:  # poll until every run is in
        time.sleep(0.3)
        out = C.update_strategy(services, *args)  # type: ignore[arg-type]
    return out


def test_callback_rows_equal_the_pure_backtest(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    out = _until_done(services, ["1Month", "1Week"], ["SPY", "QQQ"], "all", None, None)
    chart, hist, rows = out["pattern_chart"], out["r_histogram"], out["edge_rows"]
    assert out["poll_off"]

    trades = []
    for sym in ("SPY", "QQQ"):
        for tf in ("1Month", "1Week"):
            bars = run_async(services.data.fetch_bars(sym, tf, tab.LOOKBACK[tf])).value
            lower_tf = tab.MAGNIFIER[tf]  # the same lower bars the job magnifies with
            lower = run_async(services.data.fetch_bars(sym, lower_tf, tab.MAGNIFIER_LOOKBACK))
            magnifier = {lower_tf: lower.value} if lower.value is not None else {}
            res = backtest_patterns(bars, symbol=sym, timeframe=tf, lower_bars=magnifier)
            trades += res.trades
    want = edge_table(trades, by=("pattern", "timeframe"))
    assert rows == tab.edge_rows(want)
    assert len(rows) > 3

    closed = [t.r_multiple for t in trades if t.r_multiple is not None]
    assert hist.layout.meta["trades"] == len(closed)
    assert hist.layout.meta["expectancy_r"] == pytest.approx(sum(closed) / len(closed))
    bars_trace = next(tr for tr in chart.data if tr.name == "expectancy R")
    assert len(bars_trace.y) == int((want["trades"] > 0).sum())


def test_journal_callback(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    rows, status, dte_rows, dte_status = C.update_journal(services, None, None)
    closed = services.journal.list_trades(["closed"])
    assert rows == tab.journal_rows(closed)
    assert dte_rows == tab.journal_dte_rows(journal_option_frame(closed))
    assert ("no closed trades in this range" in str(status)) == (rows == [])
    assert "delta and IV" in str(dte_status)


def test_callback_follows_an_option_strategy_and_rejects_a_bad_range(
    wired: tuple[Dash, Services],
) -> None:
    _app, services = wired
    args = (["1Month"], ["SPY"], "opt30", "2012-01-01", None)
    out = _until_done(services, *args)
    bars = run_async(services.data.fetch_bars("SPY", "1Month", tab.LOOKBACK["1Month"])).value
    lower_tf = tab.MAGNIFIER["1Month"]  # the same lower bars the job magnifies with
    lower = run_async(services.data.fetch_bars("SPY", lower_tf, tab.MAGNIFIER_LOOKBACK)).value
    res = run_strategy(
        bars,
        strategy_by_id("opt30"),
        symbol="SPY",
        timeframe="1Month",
        lower_bars={lower_tf: lower} if lower is not None else {},
    )
    trades = trades_between(res.trades, date(2012, 1, 1), None)
    assert trades and all(t.instrument == "option" for t in trades)
    assert out["edge_rows"] == tab.edge_rows(edge_table(trades, by=("pattern", "timeframe")))
    assert out["tfc_rows"] == tab.tfc_rows(trades)
    assert out["option_rows"] == tab.option_rows(trades) and out["option_rows"]
    assert "modelled" in str(out["option_status"]) and "Black-Scholes" in str(out["note"])
    # The tables below the fold come from their own callback, with the same rows.
    tfc, tfc_status, options, option_status = C.update_tables(services, *args)
    assert (tfc, options) == (out["tfc_rows"], out["option_rows"])
    assert str(option_status) == str(out["option_status"])
    assert str(tfc_status) == str(out["tfc_status"])
    assert out["dates_status"] is None  # no date-range message

    fig, bench_rows, rolling, status, method = C.update_equity(services, *args)
    assert "fresh" in str(status)
    sizing = SizingRule.from_heat_limit(services.settings.heat_limit_pct)
    assert [r["curve"] for r in bench_rows] == [eq.strategy_name(sizing), eq.BENCHMARK_NAME]
    assert "Same-bar order" in str(method) and "Modelled options" in str(method)
    assert pd.Timestamp(fig.data[0].x[0], unit="ms") >= pd.Timestamp("2012-01-01")  # wall ms
    assert {t.name for t in rolling.data} >= {"Strategy Sharpe", "Buy & hold Sortino"}

    csv = C.export_trades(services, *args)
    frame = pd.read_csv(io.StringIO(csv["content"]))
    assert len(frame) == len(trades) and csv["filename"] == "strat-opt30-2012-01-01_latest.csv"
    assert {"dte_at_entry", "delta_at_entry", "tfc_aligned"} <= set(frame.columns)
    assert frame["r_multiple"].dropna().tolist() == pytest.approx(
        [t.r_multiple for t in trades if t.r_multiple is not None]
    )

    bad_args = (["1Month"], ["SPY"], "opt30", "2020-02-01", "2020-01-01")
    bad = C.update_strategy(services, *bad_args)
    assert all(v is no_update for k, v in bad.items() if k != "dates_status")
    assert "after end" in str(bad["dates_status"])
    assert C.update_equity(services, *bad_args) == (no_update,) * 5
    assert C.update_tables(services, *bad_args) == (no_update,) * 4
    assert C.export_trades(services, *bad_args) is no_update


def test_render_equity_figure_and_states() -> None:
    fig, rows, rolling, line, method = C.render_equity(_runs(TRADES), tab.DateRange())
    assert "Same-bar order, 3 trades" in str(method)
    assert [t.name for t in fig.data] == [
        "equity",
        "buy & hold (equal weight) (rebased)",
        "drawdown %",
    ]
    assert list(fig.data[0].y) == pytest.approx([100_000, 102_000, 102_000, 101_000])
    assert list(fig.data[1].y) == pytest.approx([100_000, 105_000, 110_500, 74_500])
    assert len(rows) == 2 and "fresh" in str(line)
    assert rolling.layout.meta["empty_kind"] == "empty"  # 4 days < the 63-day window
    loading = C.render_equity([], tab.DateRange())
    assert loading[0].layout.meta["empty_kind"] == "loading"
    failed = C.render_equity([], tab.DateRange(), errors=["SPY 1Day: boom"])
    assert failed[0].layout.meta["empty_kind"] == "error" and "boom" in str(failed[3])
    none = C.render_equity(_runs(TRADES), tab.DateRange(date(2025, 1, 1), None))
    assert none[0].layout.meta["empty_kind"] == "empty" and none[1] == []


def test_render_strategy_follows_the_range_and_the_strategy_kind() -> None:
    runs = _runs(TRADES)
    out = C.render_strategy(runs, [], [], ["1Day"], strategy_by_id("all"), tab.DateRange())
    tfc = {r["id"]: r for r in out["tfc_rows"]}
    assert tfc["Aligned: every higher TF agrees"]["trades"] == 1  # the open one has no R
    assert tfc["Not aligned"]["expectancy_r"] == -1.0
    assert out["option_rows"] == [] and "pick an option strategy" in str(out["option_status"])
    ranged = C.render_strategy(
        runs, [], [], ["1Day"], strategy_by_id("all"), tab.DateRange(date(2024, 1, 3), None)
    )
    rows = ranged["edge_rows"]
    assert [r["trades"] for r in rows] == [1]  # one closed trade entered from Jan 3
    assert rows == tab.edge_rows(edge_table(TRADES[1:], by=("pattern", "timeframe")))
    assert "2 triggered in range · 1 closed" in str(ranged["progress"])


def _fit(labels: dict[str, str]) -> RegimeFit:
    """A finished fit whose labels are the given New York days' regimes."""
    dates = pd.DatetimeIndex([pd.Timestamp(d) for d in labels])
    result = RegimeResult(
        dates=dates,
        labels=tuple(Regime[v] for v in labels.values()),
        states=tuple(0 for _ in labels),
        vix_override=tuple(False for _ in labels),
        features=pd.DataFrame(index=dates),
        thresholds=MappingProxyType({}),
        refit_dates=(),
        fitted_at=dates[-1],
        centers=(),
    )
    at = datetime(2024, 1, 8, 21, 0, tzinfo=UTC)
    close = pd.Series(1.0, index=dates)
    return RegimeFit("SPY", result, close, None, "simulator", date(2024, 1, 8), at, at)


class _Regime:
    def __init__(self, snap: RegimeSnapshot) -> None:
        self.snap = snap

    def snapshot(self) -> RegimeSnapshot:
        return self.snap


def test_regime_edge_waits_for_the_fit_then_groups_by_the_label_before_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(C, "runs_for", lambda *_a: (["1Day"], _runs(TRADES), [], []))
    sel = (["1Day"], ["A"], "all", None, None)

    waiting = SimpleNamespace(regime=_Regime(RegimeSnapshot("fitting", None, True)))
    rows, line = C.update_regime_edge(waiting, *sel)  # type: ignore[arg-type]
    assert rows == [] and "waiting for the regime fit" in str(line)

    # Trade 1 enters Jan 2 (label known: Jan 1's bull), trade 2 Jan 3 (Jan 2's bear).
    fit = _fit({"2024-01-01": "TREND_BULL", "2024-01-02": "TREND_BEAR", "2024-01-03": "CRASH"})
    ready = SimpleNamespace(regime=_Regime(RegimeSnapshot("ready", fit, False)))
    rows, line = C.update_regime_edge(ready, *sel)  # type: ignore[arg-type]
    by = {r["regime"]: r for r in rows}
    assert set(by) == {Regime.TREND_BULL.label, Regime.TREND_BEAR.label}  # the open one: none
    assert by[Regime.TREND_BULL.label]["trades"] == 1
    assert by[Regime.TREND_BULL.label]["expectancy_r"] == 2.0
    assert by[Regime.TREND_BEAR.label]["expectancy_r"] == -1.0
    assert "fresh" in str(line) and "jump model on SPY" in str(line)

    bad = (["1Day"], ["A"], "all", "2024-02-01", "2024-01-01")
    assert C.update_regime_edge(ready, *bad) == (no_update, no_update)  # type: ignore[arg-type]


def test_journal_failure_is_shown_and_the_page_stays_up() -> None:
    class _Broken:
        def list_trades(self, _statuses: list[str]) -> list[object]:
            raise RuntimeError("database is locked")

    services = SimpleNamespace(journal=_Broken())
    rows, line, dte_rows, dte_line = C.update_journal(services, None, None)  # type: ignore[arg-type]
    assert rows == [] and dte_rows == []
    assert "database is locked" in str(line) and "database is locked" in str(dte_line)
    assert C.update_journal(services, "2024-02-01", "2024-01-01") == (no_update,) * 4  # type: ignore[arg-type]


def test_registered_callbacks_call_the_named_functions(
    wired: tuple[Dash, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each closure bound in ``register`` hands its inputs to its named function."""
    app, services = wired
    seen: dict[str, tuple[object, ...]] = {}
    for name in (
        "update_strategy",
        "update_equity",
        "update_regime_edge",
        "update_tables",
        "export_trades",
        "update_journal",
    ):
        monkeypatch.setattr(
            C,
            name,
            lambda *a, _n=name: seen.__setitem__(_n, a) or _n,  # type: ignore[misc]
        )
    rendered = dict.fromkeys(C.STRATEGY_OUTPUTS, "update_strategy")
    monkeypatch.setattr(
        C, "update_strategy", lambda *a: seen.__setitem__("update_strategy", a) or rendered
    )
    monkeypatch.setattr(C, "runs_settled", lambda *_a: True)
    monkeypatch.setattr(C, "regime_edge_settled", lambda *_a: True)
    fresh = Dash(__name__)
    C.register(fresh, services)
    sel = (["1Day"], ["SPY"], "all", None, None)
    calls = {
        "strategy-progress.children": (0, *sel),
        "strategy-equity-chart.figure": ("p", *sel),
        "strategy-regime-grid.rowData": ("p", *sel),
        "strategy-tfc-grid.rowData": ("p", *sel),
        "strategy-download.data": (1, *sel),
        "strategy-journal-grid.rowData": (0, None, None),
    }
    for fragment, args in calls.items():
        key = next(k for k in fresh.callback_map if fragment in k)
        fresh.callback_map[key]["callback"].__wrapped__(*args)
    assert seen["update_strategy"] == (services, *sel)
    assert seen["update_equity"] == (services, *sel)
    assert seen["update_regime_edge"] == (services, *sel)
    assert seen["update_tables"] == (services, *sel)
    assert seen["export_trades"] == (services, *sel)
    assert seen["update_journal"] == (services, None, None)
    assert app.callback_map  # the real app registered the same callbacks


def test_equity_and_regime_edge_poll_until_their_runs_and_fit_are_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """They start with the tab's render (their own inputs, not its progress line), and
    each keeps its own poll on while anything it draws is still running."""
    pending: list[str] = ["SPY 1Day"]
    monkeypatch.setattr(C, "runs_for", lambda *_a: (["1Day"], _runs(TRADES), pending, []))
    sel = (["1Day"], ["SPY"], "all", None, None)
    fitting = SimpleNamespace(regime=_Regime(RegimeSnapshot("fitting", None, True)))
    failed = SimpleNamespace(regime=_Regime(RegimeSnapshot("error", None, False, "no bars")))
    fit = _fit({"2024-01-01": "TREND_BULL"})
    ready = SimpleNamespace(regime=_Regime(RegimeSnapshot("ready", fit, False)))

    assert not C.runs_settled(ready, *sel)  # a backtest is running
    assert not C.regime_edge_settled(ready, *sel)
    pending.clear()
    assert C.runs_settled(ready, *sel) and C.regime_edge_settled(ready, *sel)
    assert not C.regime_edge_settled(fitting, *sel)  # the fit is still running
    assert C.regime_edge_settled(failed, *sel)  # a failed fit is shown, not waited on
    pending.append("SPY 1Day")
    assert C.runs_settled(ready, ["1Day"], [], "all", None, None)  # no symbols: no runs
    assert C.runs_settled(ready, *sel[:3], "2024-02-01", "2024-01-01")  # refused range

    monkeypatch.setattr(C, "update_equity", lambda *_a: ("fig",))
    app = Dash(__name__)
    C.register(app, ready)  # type: ignore[arg-type]
    key = next(k for k in app.callback_map if "strategy-equity-chart.figure" in k)
    assert "strategy-equity-poll.disabled" in key
    deps = {i["id"] for i in app.callback_map[key]["inputs"]}
    assert "strategy-progress" not in deps and "strategy-equity-poll" in deps
    follow = app.callback_map[key]["callback"].__wrapped__
    assert follow(0, *sel) == ("fig", False)  # still running: the poll stays on
    pending.clear()
    assert follow(1, *sel) == ("fig", True)
