"""Strategy Performance tab: STRAT edge analytics from the pattern backtest, and the
realised results of the user's own trades from the journal.

Backtests (``analytics.strategy.backtest_patterns``) run per symbol × timeframe on a
background thread and are cached per trading day (``regime_service.DailyJobCache``), so
a callback only collects finished results; while some still run, a 1 s poll is on and
the widgets say how many are pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.analytics.performance import grouped_trade_stats, trade_stats
from dashboard.analytics.strategy import (
    BacktestResult,
    BacktestTrade,
    backtest_patterns,
    edge_table,
    r_equity_curve,
    trades_frame,
)
from dashboard.components.formatting import grid_number as _num
from dashboard.components.grids import data_grid
from dashboard.components.status import loading_line, status_line
from dashboard.models import DataResult, DataState
from dashboard.regime_service import DailyJobCache, Job, compute_off_process, get_daily_jobs
from dashboard.settings import Settings
from dashboard.visualizations.enhanced_charts import (
    create_equity_curve,
    create_pattern_performance_chart,
    create_r_multiple_histogram,
    empty_figure,
)
from dashboard.visualizations.inputs import PatternStats

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "strategy"
TITLE = "Strategy Performance"
NEW_YORK = ZoneInfo("America/New_York")

# Bars per backtest: ~10 years of days, 20 of weeks and months, what intraday data has.
LOOKBACK: Mapping[str, int] = {
    "1Month": 240,
    "1Week": 1040,
    "1Day": 2520,
    "1Hour": 2000,
    "15Min": 2000,
}
TIMEFRAMES: tuple[str, ...] = tuple(LOOKBACK)
DEFAULT_TIMEFRAMES: tuple[str, ...] = ("1Day",)
CACHE_VERSION = "v1"

EDGE_COLUMNS: list[dict[str, Any]] = [
    {"field": "pattern", "headerName": "Pattern", "pinned": "left", "minWidth": 120},
    {"field": "timeframe", "headerName": "TF", "maxWidth": 90},
    {"field": "trades", "headerName": "Trades", "type": "numericColumn"},
    {"field": "win_rate_pct", "headerName": "Win %", "type": "numericColumn"},
    {"field": "win_rate_ci", "headerName": "Win % 95% CI"},
    {"field": "expectancy_r", "headerName": "Exp. R", "type": "numericColumn"},
    {"field": "expectancy_ci", "headerName": "Exp. R 95% CI"},
    {"field": "profit_factor", "headerName": "PF", "type": "numericColumn"},
    {"field": "avg_win_r", "headerName": "Avg win R", "type": "numericColumn"},
    {"field": "avg_loss_r", "headerName": "Avg loss R", "type": "numericColumn"},
    {"field": "total_r", "headerName": "Total R", "type": "numericColumn"},
]
JOURNAL_COLUMNS: list[dict[str, Any]] = [
    {"field": "group", "headerName": "Pattern · TF", "minWidth": 140},
    {"field": "trades", "headerName": "Closed", "type": "numericColumn"},
    {"field": "wins", "headerName": "Wins", "type": "numericColumn"},
    {"field": "win_rate_pct", "headerName": "Win %", "type": "numericColumn"},
    {"field": "realized_pnl", "headerName": "Realised $", "type": "numericColumn"},
]


# ------------------------------------------------------------------ pure view helpers


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """One symbol × timeframe backtest with where its bars came from."""

    symbol: str
    timeframe: str
    result: BacktestResult
    source: str
    bars: int
    data_as_of: datetime | None


def _interval(lo: Any, hi: Any, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    a, b = _num(lo, scale, digits), _num(hi, scale, digits)
    if a is None or b is None:
        return "—"
    return f"{a:+.{digits}f}{unit} … {b:+.{digits}f}{unit}" if unit else f"{a:g} … {b:g}"


def edge_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``edge_table`` rows for the grid: win rate in percent, R to two decimals, and each
    confidence interval as text (the sample size sits next to it)."""
    rows = []
    for r in table.to_dict("records"):
        rows.append(
            {
                "id": f"{r['pattern']}|{r['timeframe']}",
                "pattern": r["pattern"],
                "timeframe": r["timeframe"],
                "trades": int(r["trades"]),
                "win_rate_pct": _num(r["win_rate"], 100.0, 1),
                "win_rate_ci": _interval(r["win_rate_low"], r["win_rate_high"], 100.0, 1),
                "expectancy_r": _num(r["expectancy_r"]),
                "expectancy_ci": _interval(r["expectancy_low"], r["expectancy_high"], 1.0, 2, "R"),
                "profit_factor": _num(r["profit_factor"]),
                "avg_win_r": _num(r["avg_win_r"]),
                "avg_loss_r": _num(r["avg_loss_r"]),
                "total_r": _num(r["total_r"], 1.0, 1),
            }
        )
    return rows


def pattern_stats(table: pd.DataFrame, multi_timeframe: bool) -> list[PatternStats]:
    """Chart inputs from the edge table; the timeframe joins the name when several show."""
    out = []
    for r in table.to_dict("records"):
        name = f"{r['pattern']} · {r['timeframe']}" if multi_timeframe else str(r["pattern"])
        out.append(PatternStats(name, int(r["trades"]), int(r["wins"]), float(r["expectancy_r"])))
    return out


def combined_trades(runs: Sequence[BacktestRun]) -> list[BacktestTrade]:
    return [t for run in runs for t in run.result.trades]


def journal_rows(trades: Sequence[Any]) -> list[dict[str, Any]]:
    """Closed journal trades grouped by pattern and timeframe: count, wins (realised
    P&L > 0) and realised dollars. R is not shown: the journal keeps option dollars,
    not the planned dollar risk an R needs."""
    closed = [t for t in trades if str(getattr(t, "status", "")) == "closed"]
    groups: dict[str, list[float]] = {}
    for t in closed:
        key = f"{t.pattern or '—'} · {t.timeframe or '—'}"
        groups.setdefault(key, []).append(float(t.realized_pnl))
    rows = []
    for key, pnl in sorted(groups.items()):
        s = trade_stats(pnl)  # on dollars: wins and counts only
        rows.append(
            {
                "group": key,
                "trades": s.trades,
                "wins": s.wins,
                "win_rate_pct": _num(s.win_rate, 100.0, 1),
                "realized_pnl": _num(s.total_r),
            }
        )
    return rows


def broker_day(now: datetime) -> date:
    return now.astimezone(NEW_YORK).date()


def job_key(symbol: str, timeframe: str, day: date) -> str:
    return f"bt:{CACHE_VERSION}:{symbol}:{timeframe}:{LOOKBACK[timeframe]}:{day.isoformat()}"


# ------------------------------------------------------------------ layout


def _card(title: str, body: list[Any]) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3")


def layout(settings: Settings) -> html.Div:
    symbols = [s.upper() for s in settings.watchlist]
    controls = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-timeframes",
                    options=[{"label": tf, "value": tf} for tf in TIMEFRAMES],
                    value=list(DEFAULT_TIMEFRAMES),
                    multi=True,
                    clearable=False,
                    persistence=True,
                    persistence_type="session",
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-symbols",
                    options=[{"label": s, "value": s} for s in symbols],
                    value=symbols,
                    multi=True,
                    persistence=True,
                    persistence_type="session",
                ),
                xs=12,
                md=8,
            ),
        ],
        className="g-2 mb-2",
    )
    waiting = "Running the backtests…"
    return html.Div(
        [
            controls,
            html.Div(loading_line("waiting for backtests…"), id="strategy-progress"),
            dcc.Interval(id="strategy-poll", interval=1000, n_intervals=0, disabled=False),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Edge by pattern (backtest, R multiples)",
                            [
                                dcc.Graph(
                                    id="strategy-pattern-chart",
                                    figure=empty_figure(waiting, kind="loading"),
                                    config={"displaylogo": False},
                                ),
                                loading_line(id="strategy-pattern-status"),
                            ],
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        _card(
                            "R-multiple distribution",
                            [
                                dcc.Graph(
                                    id="strategy-r-histogram",
                                    figure=empty_figure(waiting, kind="loading"),
                                    config={"displaylogo": False},
                                ),
                                loading_line(id="strategy-r-status"),
                            ],
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            _card(
                "Pattern statistics with 95% confidence intervals",
                [
                    data_grid(
                        "strategy-edge-grid",
                        EDGE_COLUMNS,
                        height="340px",
                        getRowId="params.data.id",
                    ),
                    loading_line(id="strategy-edge-status"),
                ],
            ),
            _card(
                "Backtest equity risking 1% per trade (compounded), with drawdown",
                [
                    dcc.Graph(
                        id="strategy-equity-chart",
                        figure=empty_figure(waiting, kind="loading"),
                        config={"displaylogo": False},
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                "Download trades (CSV)",
                                id="strategy-export",
                                size="sm",
                                color="secondary",
                                outline=True,
                            ),
                            dcc.Download(id="strategy-download"),
                        ],
                        className="mt-1",
                    ),
                ],
            ),
            _card(
                "Edge by market regime at entry",
                [
                    data_grid(
                        "strategy-regime-grid",
                        REGIME_COLUMNS,
                        height="200px",
                        getRowId="params.data.id",
                    ),
                    html.Div(id="strategy-regime-status"),
                ],
            ),
            _card(
                "Your closed trades (journal)",
                [
                    data_grid(
                        "strategy-journal-grid",
                        JOURNAL_COLUMNS,
                        height="220px",
                        getRowId="params.data.group",
                    ),
                    html.Div(id="strategy-journal-status"),
                ],
            ),
        ],
        id=f"{TAB_ID}-root",
        className="strategy-tab",
    )


# ------------------------------------------------------------------ callbacks


def _backtest(bars: pd.DataFrame, symbol: str, timeframe: str) -> Any:
    return backtest_patterns(bars, symbol=symbol, timeframe=timeframe)


def run_backtest(services: Services, symbol: str, timeframe: str) -> BacktestRun:
    """Fetch bars and backtest them (runs on the job thread, never on a request)."""
    from dashboard.data_loaders.loop import run_async

    res = run_async(services.data.fetch_bars(symbol, timeframe, LOOKBACK[timeframe]), timeout=120)
    if res.value is None:
        raise RuntimeError(f"no {timeframe} bars for {symbol}: {res.error or res.state}")
    bars = res.value
    result = compute_off_process(_backtest, bars, symbol, timeframe)
    last = pd.Timestamp(bars.index[-1]).to_pydatetime() if len(bars) else None
    return BacktestRun(symbol, timeframe, result, res.source, len(bars), last)


def collect_runs(
    jobs: DailyJobCache,
    services: Services,
    symbols: Sequence[str],
    timeframes: Sequence[str],
    day: date,
) -> tuple[list[BacktestRun], list[str], list[str]]:
    """Finished runs, pending pair names and error texts; submits what is missing."""
    runs: list[BacktestRun] = []
    pending: list[str] = []
    errors: list[str] = []
    for sym in symbols:
        for tf in timeframes:
            job: Job[BacktestRun] = jobs.get(
                job_key(sym, tf, day), lambda s=sym, t=tf: run_backtest(services, s, t)
            )
            if job.status == "ready" and job.value is not None:
                runs.append(job.value)
            elif job.status == "error":
                errors.append(f"{sym} {tf}: {job.error}")
            else:
                pending.append(f"{sym} {tf}")
    return runs, pending, errors


RISK_PER_TRADE = 0.01  # equity fraction risked per trade when turning R into an equity curve


def r_equity(trades: Sequence[BacktestTrade], start: float = 100_000.0) -> pd.Series:
    """Equity from closed trades in exit order, risking ``RISK_PER_TRADE`` of the equity
    at the time on each one (compounded, so thousands of trades stay meaningful)."""
    cum_r = r_equity_curve(trades)
    r = cum_r.diff().fillna(cum_r.iloc[0] if len(cum_r) else 0.0)
    return start * (1.0 + RISK_PER_TRADE * r).cumprod()


REGIME_COLUMNS = [
    {"field": "regime", "headerName": "Regime at entry (SPY)", "width": 190},
    {"field": "trades", "headerName": "Trades", "width": 90, "type": "rightAligned"},
    {"field": "win_rate", "headerName": "Win %", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_r", "headerName": "Exp. R", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_ci", "headerName": "Exp. R 95% CI", "width": 150},
    {"field": "profit_factor", "headerName": "PF", "width": 80, "type": "rightAligned"},
]


def edge_by_regime(
    trades: Sequence[BacktestTrade], regimes: pd.Series | None
) -> list[dict[str, Any]]:
    """Closed trades grouped by the market regime on their entry day (online labels, so a
    trade is only tagged with what was known then)."""
    closed = [t for t in trades if t.r_multiple is not None and t.entry_time is not None]
    if regimes is None or regimes.empty or not closed:
        return []
    labels = regimes.copy()
    labels.index = pd.DatetimeIndex(labels.index).tz_convert("UTC").normalize()
    labels = labels[~labels.index.duplicated(keep="last")].sort_index()
    days = pd.DatetimeIndex([pd.Timestamp(t.entry_time) for t in closed]).tz_convert("UTC")
    tagged = labels.reindex(days.normalize(), method="ffill")
    frame = pd.DataFrame(
        {
            "regime": tagged.fillna("before the model").to_numpy(),
            "r_multiple": [t.r_multiple for t in closed],
        }
    )
    table = grouped_trade_stats(frame, "regime")
    return [
        {
            "id": row["regime"],
            "regime": str(row["regime"]).replace("_", " ").title(),
            "trades": int(row["trades"]),
            "win_rate": _num(row["win_rate"], 100, 1),
            "expectancy_r": _num(row["expectancy_r"]),
            "expectancy_ci": _interval(row["expectancy_low"], row["expectancy_high"]),
            "profit_factor": _num(row["profit_factor"]),
        }
        for _, row in table.iterrows()
    ]


def trades_csv(runs: Sequence[BacktestRun]) -> str:
    """Every backtest trade of the finished runs as CSV, for the export button."""
    return trades_frame(combined_trades(runs)).to_csv(index=False)


def render_strategy(
    runs: Sequence[BacktestRun],
    pending: Sequence[str],
    errors: Sequence[str],
    timeframes: Sequence[str],
) -> tuple[Any, ...]:
    """Figures, rows and status lines from finished runs (no I/O)."""
    trades = combined_trades(runs)
    table = edge_table(trades, by=("pattern", "timeframe"))
    closed_r = [t.r_multiple for t in trades if t.r_multiple is not None]
    multi = len(set(timeframes)) > 1
    source = runs[0].source if runs else "backtest"
    as_of = max((r.data_as_of for r in runs if r.data_as_of), default=None)
    if errors and not runs:
        result: DataResult[object] = DataResult(
            None, source, as_of, DataState.ERROR, "; ".join(errors)
        )
    elif errors:
        result = DataResult(trades, source, as_of, DataState.STALE, "; ".join(errors), as_of)
    elif not closed_r:
        result = DataResult(None, source, as_of or datetime.now(UTC), DataState.EMPTY)
    else:
        result = DataResult(trades, source, as_of, DataState.FRESH)
    if runs:
        line: Any = status_line(result, empty_text="no closed backtest trades")
        chart = create_pattern_performance_chart(pattern_stats(table, multi))
        hist = create_r_multiple_histogram(closed_r)
    elif errors:
        line = status_line(result)
        chart = hist = empty_figure("Backtest failed", kind="error")
    else:
        line = loading_line("running the backtests…")
        chart = hist = empty_figure("Running the backtests…", kind="loading")
    found = sum(r.result.patterns_found for r in runs)
    progress_text = (
        f"{len(runs)} backtests done · {found:,} patterns · {len(trades):,} triggered · "
        f"{len(closed_r):,} closed"
    )
    progress: list[Any] = [html.Div(progress_text, className="small text-muted")]
    if pending:
        progress.append(loading_line(f"{len(pending)} backtests running: {', '.join(pending)}"))
    return (chart, hist, edge_rows(table), line, line, line, progress, not pending)


def register_callbacks(app: Dash, services: Services) -> None:
    from dashboard.data_loaders.loop import run_async

    jobs = get_daily_jobs(services)

    def runs_for(
        timeframes: list[str] | None, symbols: list[str] | None
    ) -> tuple[list[str], list[BacktestRun], list[str], list[str]]:
        """The chosen timeframes and today's finished runs, pending pairs and errors."""
        tfs = [tf for tf in (timeframes or []) if tf in LOOKBACK] or list(DEFAULT_TIMEFRAMES)
        syms = [s.upper() for s in (symbols or [])]
        clock = run_async(services.data.fetch_clock(), timeout=10)
        now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
        runs, pending, errors = collect_runs(jobs, services, syms, tfs, broker_day(now))
        return tfs, runs, pending, errors

    @app.callback(
        Output("strategy-pattern-chart", "figure"),
        Output("strategy-r-histogram", "figure"),
        Output("strategy-edge-grid", "rowData"),
        Output("strategy-pattern-status", "children"),
        Output("strategy-r-status", "children"),
        Output("strategy-edge-status", "children"),
        Output("strategy-progress", "children"),
        Output("strategy-poll", "disabled"),
        Input("strategy-poll", "n_intervals"),
        Input("strategy-timeframes", "value"),
        Input("strategy-symbols", "value"),
    )
    def update_strategy(
        _poll: int, timeframes: list[str] | None, symbols: list[str] | None
    ) -> tuple[Any, ...]:
        if not symbols:
            msg = empty_figure("Pick at least one symbol")
            note = html.Div("no symbols selected", className="state-line state-line-empty")
            return (msg, msg, [], note, note, note, note, True)
        tfs, runs, pending, errors = runs_for(timeframes, symbols)
        return render_strategy(runs, pending, errors, tfs)

    def finished_runs(timeframes: list[str] | None, symbols: list[str] | None) -> list:
        return runs_for(timeframes, symbols)[1]

    @app.callback(
        Output("strategy-equity-chart", "figure"),
        Input("strategy-progress", "children"),
        State("strategy-timeframes", "value"),
        State("strategy-symbols", "value"),
    )
    def update_equity(_progress: Any, timeframes: list[str] | None, symbols: list[str] | None):
        runs = finished_runs(timeframes, symbols)
        equity = r_equity(combined_trades(runs))
        if equity.empty:
            return empty_figure("No closed backtest trades yet", uirevision="strategy-equity")
        return create_equity_curve(equity, uirevision="strategy-equity")

    @app.callback(
        Output("strategy-regime-grid", "rowData"),
        Output("strategy-regime-status", "children"),
        Input("strategy-progress", "children"),
        State("strategy-timeframes", "value"),
        State("strategy-symbols", "value"),
    )
    def update_regime_edge(_p: Any, timeframes: list[str] | None, symbols: list[str] | None):
        from dashboard.regime_service import get_regime_service

        snap = get_regime_service(services).snapshot()
        if snap.fit is None:
            return [], loading_line("waiting for the regime fit…")
        rows = edge_by_regime(
            combined_trades(finished_runs(timeframes, symbols)), snap.fit.result.series()
        )
        state = DataState.FRESH if rows else DataState.EMPTY
        return rows, status_line(
            DataResult(rows, snap.as_result().source, snap.fit.fitted_at, state),
            empty_text="no closed backtest trades yet",
        )

    @app.callback(
        Output("strategy-download", "data"),
        Input("strategy-export", "n_clicks"),
        State("strategy-timeframes", "value"),
        State("strategy-symbols", "value"),
        prevent_initial_call=True,
    )
    def export(_n: int | None, timeframes: list[str] | None, symbols: list[str] | None):
        runs = finished_runs(timeframes, symbols)
        if not runs:
            return no_update
        return {"content": trades_csv(runs), "filename": "strat-backtest-trades.csv"}

    @app.callback(
        Output("strategy-journal-grid", "rowData"),
        Output("strategy-journal-status", "children"),
        Input("strategy-interval", "n_intervals"),
    )
    def update_journal(_tick: int) -> tuple[list[dict[str, Any]], Any]:
        journal = services.extras.get("journal")
        if journal is None:
            return [], html.Div(
                "○ no journal configured in this process: your own trades will appear here",
                className="state-line state-line-empty",
            )
        try:
            trades = journal.list_trades(["closed"])
        except Exception as exc:  # show the failure, keep the page alive
            err = DataResult(None, "journal", None, DataState.ERROR, str(exc))
            return [], status_line(err)
        rows = journal_rows(trades)
        state = DataState.FRESH if rows else DataState.EMPTY
        return rows, status_line(
            DataResult(rows, "journal", datetime.now(UTC), state),
            empty_text="no closed trades yet",
        )
