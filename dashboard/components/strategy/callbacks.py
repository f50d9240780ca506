"""Strategy Performance callbacks. Backtests run per strategy × symbol × timeframe in the
background (``backtest_jobs``) and are cached per trading day, so a callback only
collects finished results; while some still run, a 1 s poll is on and the widgets say
how many are pending. Everything follows the strategy selector and the date range."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from dash import Dash, Input, Output, State, html, no_update

from dashboard.analytics.edge import journal_option_frame
from dashboard.analytics.performance import SizingRule
from dashboard.analytics.strategy import StrategySpec, strategy_by_id
from dashboard.backtest_jobs import collect_runs
from dashboard.components.status import empty_line, loading_line, status_line
from dashboard.components.strategy.layout import (
    EQUITY_BLOCK,
    LOWER,
    equity_layout,
    lower_layout,
)
from dashboard.components.ui import register_lazy
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataResult, DataState
from dashboard.views.strategy import (
    DEFAULT_TIMEFRAMES,
    LOOKBACK,
    BacktestRun,
    DateRange,
    broker_day,
    combined_trades,
    edge_by_regime,
    journal_dte_rows,
    journal_in_range,
    journal_rows,
    parse_date_range,
    strategy_view,
    trades_csv,
)
from dashboard.views.strategy_equity import (
    DAILY_CURVE_NOTE,
    ROLLING_WINDOW,
    benchmark_rows,
    equity_view,
    has_daily_runs,
    method_lines,
    rolling_ratios,
)
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.portfolio_charts import create_equity_curve
from dashboard.visualizations.strategy_charts import (
    create_pattern_performance_chart,
    create_r_multiple_histogram,
    create_rolling_ratio_chart,
)
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services

STRATEGY_OUTPUTS = {
    "pattern_chart": Output("strategy-pattern-chart", "figure"),
    "r_histogram": Output("strategy-r-histogram", "figure"),
    "edge_rows": Output("strategy-edge-grid", "rowData"),
    "pattern_status": Output("strategy-pattern-status", "children"),
    "r_status": Output("strategy-r-status", "children"),
    "edge_status": Output("strategy-edge-status", "children"),
    "progress": Output("strategy-progress", "children"),
    "poll_off": Output("strategy-poll", "disabled"),
    "dates_status": Output("strategy-dates-status", "children"),
    "note": Output("strategy-note", "children"),
}
# Below the fold (``layout.lower_layout``), filled by a follower of their own.
TABLES_OUTPUTS = {
    "tfc_rows": Output("strategy-tfc-grid", "rowData"),
    "tfc_status": Output("strategy-tfc-status", "children"),
    "option_rows": Output("strategy-option-grid", "rowData"),
    "option_status": Output("strategy-option-status", "children"),
}
# What the user chose (timeframes, symbols, strategy, date range), as the State of the
# callbacks that follow a finished render; the render itself takes them as Inputs.
SELECTION = (
    State("strategy-timeframes", "value"),
    State("strategy-symbols", "value"),
    State("strategy-strategy", "value"),
    State("strategy-dates", "start_date"),
    State("strategy-dates", "end_date"),
)
NO_TRADES = "no closed backtest trades in this range"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Selection:
    """What the user chose on the tab, with the date range already parsed and valid."""

    timeframes: list[str] | None
    symbols: list[str] | None
    strategy_id: str | None
    dates: DateRange


SelectionUpdate = Callable[
    ["Services", list[str] | None, list[str] | None, str | None, str | None, str | None], T
]
Settled = Callable[..., bool]  # (services, *selection): nothing left for a callback to wait on


def date_guarded(
    blank: Callable[[str], Any],
) -> Callable[[Callable[[Services, Selection], T]], SelectionUpdate[T | Any]]:
    """The date-range guard every selection callback shares: while the range is invalid
    the update answers ``blank(error)`` (no change; the strategy render shows why under
    the date picker) and reads nothing; otherwise it gets the parsed ``Selection``."""

    def guard(update: Callable[[Services, Selection], T]) -> SelectionUpdate[T | Any]:
        @functools.wraps(update)
        def guarded(
            services: Services,
            timeframes: list[str] | None,
            symbols: list[str] | None,
            strategy_id: str | None,
            start: str | None,
            end: str | None,
        ) -> T | Any:
            dates = parse_date_range(start, end)
            if dates.error:
                return blank(dates.error)
            return update(services, Selection(timeframes, symbols, strategy_id, dates))

        return guarded

    return guard


def _dates_refused(error: str) -> dict[str, Any]:
    msg = html.Div(f"✕ {error}: nothing updated", className="text-danger small")
    return {**dict.fromkeys(STRATEGY_OUTPUTS, no_update), "dates_status": msg}


def broker_now(services: Services) -> datetime:
    """The broker's time (a cached clock read): every as-of on the tab is on its clock."""
    clock = run_async(services.data.fetch_clock(), timeout=10)
    return clock.value.timestamp if clock.value is not None else datetime.now(UTC)


def runs_for(
    services: Services,
    timeframes: list[str] | None,
    symbols: list[str] | None,
    strategy_id: str | None,
) -> tuple[list[str], list[BacktestRun], list[str], list[str]]:
    """The chosen timeframes and today's finished runs, pending pairs and errors."""
    tfs = [tf for tf in (timeframes or []) if tf in LOOKBACK] or list(DEFAULT_TIMEFRAMES)
    syms = [s.upper() for s in (symbols or [])]
    spec = strategy_by_id(strategy_id)
    now = broker_now(services)
    runs, pending, errors = collect_runs(
        services.jobs, services.data, syms, tfs, broker_day(now), spec.id
    )
    return tfs, runs, pending, errors


def render_strategy(
    runs: Sequence[BacktestRun],
    pending: Sequence[str],
    errors: Sequence[str],
    timeframes: Sequence[str],
    spec: StrategySpec | None = None,
    dates: DateRange | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Figures, rows and status lines from finished runs (no I/O); ``now`` is the broker's
    time, the as-of of an empty result."""
    spec = spec or strategy_by_id(None)
    v = strategy_view(
        runs, pending, errors, timeframes, spec, dates or DateRange(), now or datetime.now(UTC)
    )
    if v.state == "ready":
        line: Any = status_line(v.status, empty_text=NO_TRADES)
        chart = create_pattern_performance_chart(v.pattern_stats)
        hist = create_r_multiple_histogram(v.closed_r)
    elif v.state == "failed":
        line = status_line(v.status)
        chart = hist = empty_figure("Backtest failed", kind="error")
    else:
        line = loading_line("running the backtests…")
        chart = hist = empty_figure("Running the backtests…", kind="loading")
    if not spec.is_option:
        option_line: Any = empty_line(v.option_note)
    elif v.option_note:
        option_line = html.Div([line, html.Div(v.option_note, className="small text-muted")])
    else:
        option_line = line
    progress: list[Any] = [html.Div(v.progress, className="small text-muted")]
    if v.pending:
        progress.append(loading_line(f"{len(v.pending)} backtests running: {', '.join(v.pending)}"))
    return {
        "pattern_chart": chart,
        "r_histogram": hist,
        "edge_rows": v.edge_rows,
        "pattern_status": line,
        "r_status": line,
        "edge_status": line,
        "progress": progress,
        "poll_off": not v.pending,
        "tfc_rows": v.tfc_rows,
        "tfc_status": line,
        "option_rows": v.option_rows,
        "option_status": option_line,
    }


@date_guarded(_dates_refused)
def update_strategy(services: Services, sel: Selection) -> dict[str, Any]:
    spec = strategy_by_id(sel.strategy_id)
    if not sel.symbols:
        fig = empty_figure("Pick at least one symbol")
        note = empty_line("no symbols selected")
        return {
            "pattern_chart": fig,
            "r_histogram": fig,
            "edge_rows": [],
            "pattern_status": note,
            "r_status": note,
            "edge_status": note,
            "progress": note,
            "poll_off": True,
            "tfc_rows": [],
            "tfc_status": note,
            "option_rows": [],
            "option_status": note,
            "dates_status": None,
            "note": spec.description,
        }
    tfs, runs, pending, errors = runs_for(services, sel.timeframes, sel.symbols, spec.id)
    rendered = render_strategy(runs, pending, errors, tfs, spec, sel.dates, broker_now(services))
    return {**rendered, "dates_status": None, "note": spec.description}


@date_guarded(lambda _error: (no_update,) * len(TABLES_OUTPUTS))
def update_tables(services: Services, sel: Selection) -> tuple[Any, ...]:
    """The edge by TFC and by DTE/delta: the render's tables that sit below the fold."""
    spec = strategy_by_id(sel.strategy_id)
    if not sel.symbols:
        note = empty_line("no symbols selected")
        return [], note, [], note
    tfs, runs, pending, errors = runs_for(services, sel.timeframes, sel.symbols, spec.id)
    out = render_strategy(runs, pending, errors, tfs, spec, sel.dates, broker_now(services))
    return tuple(out[k] for k in TABLES_OUTPUTS)


def render_equity(
    runs: Sequence[BacktestRun],
    dates: DateRange,
    spec: StrategySpec | None = None,
    errors: Sequence[str] = (),
    *,
    sizing: SizingRule | None = None,
    synthetic: bool = False,
) -> tuple[Any, list[dict[str, Any]], Any, Any, Any]:
    """Equity vs buy-and-hold figure, their stats rows, the rolling-ratio figure, a status
    line and the method panel, from finished runs (no I/O)."""
    spec = spec or strategy_by_id(None)
    rev = "strategy-equity"
    if not runs:
        method: Any = empty_line("the method is listed once the backtests have run")
        if errors:
            err: DataResult[Any] = DataResult(
                None, "backtest", None, DataState.ERROR, "; ".join(errors)
            )
            fig = empty_figure("Backtest failed", kind="error", uirevision=rev)
            failed = empty_figure("Backtest failed", kind="error")
            return fig, [], failed, status_line(err), method
        fig = empty_figure("Running the backtests…", kind="loading", uirevision=rev)
        wait = empty_figure("Running the backtests…", kind="loading")
        return fig, [], wait, loading_line("running the backtests…"), method
    trades = combined_trades(runs, dates)
    view = equity_view(trades, runs, dates, sizing)
    method = method_panel(method_lines(runs, trades, view.account, synthetic=synthetic))
    if view.strategy.empty:
        msg = "No closed backtest trades in this range"
        return (
            empty_figure(msg, uirevision=rev),
            [],
            empty_figure(msg),
            empty_line(msg.lower()),
            method,
        )
    bench = view.benchmark if not view.benchmark.empty else None
    fig = create_equity_curve(view.strategy, bench, uirevision=rev)
    sharpe, sortino = rolling_ratios(view)
    rolling = create_rolling_ratio_chart(sharpe, sortino, window=ROLLING_WINDOW)
    as_of = max((r.data_as_of for r in runs if r.data_as_of), default=None)
    symbols = ", ".join(sorted({r.symbol for r in runs}))
    source = f"{runs[0].source} · {spec.label} vs buy & hold of {symbols}"
    if not has_daily_runs(runs):
        source += f" ({DAILY_CURVE_NOTE})"
    if bench is None:
        why = "no closes for the benchmark in this range"
        line = status_line(DataResult(view, source, as_of, DataState.STALE, why, as_of))
    elif errors:
        why = "; ".join(errors)
        line = status_line(DataResult(view, source, as_of, DataState.STALE, why, as_of))
    else:
        line = status_line(DataResult(view, source, as_of, DataState.FRESH))
    return fig, benchmark_rows(view), rolling, line, method


def method_panel(lines: Sequence[str]) -> html.Ul:
    return html.Ul([html.Li(line) for line in lines], className="small mb-0 strategy-method")


@date_guarded(lambda _error: (no_update,) * 5)
def update_equity(services: Services, sel: Selection) -> tuple[Any, ...]:
    _tfs, runs, _pending, errors = runs_for(services, sel.timeframes, sel.symbols, sel.strategy_id)
    settings = services.settings
    return render_equity(
        runs,
        sel.dates,
        strategy_by_id(sel.strategy_id),
        errors,
        sizing=SizingRule.from_heat_limit(settings.heat_limit_pct),
        synthetic=settings.mode == "demo",
    )


@date_guarded(lambda _error: (no_update, no_update))
def update_regime_edge(services: Services, sel: Selection) -> tuple[Any, ...]:
    snap = services.regime.snapshot()
    if snap.fit is None:
        return [], loading_line("waiting for the regime fit…")
    runs = runs_for(services, sel.timeframes, sel.symbols, sel.strategy_id)[1]
    rows = edge_by_regime(combined_trades(runs, sel.dates), snap.fit.result.series())
    state = DataState.FRESH if rows else DataState.EMPTY
    return rows, status_line(
        DataResult(rows, snap.as_result().source, snap.fit.fitted_at, state),
        empty_text=NO_TRADES,
    )


@date_guarded(lambda _error: no_update)
def export_trades(services: Services, sel: Selection) -> Any:
    spec = strategy_by_id(sel.strategy_id)
    runs = runs_for(services, sel.timeframes, sel.symbols, spec.id)[1]
    if not runs:
        return no_update
    dates = sel.dates
    span = f"{dates.start or 'start'}_{dates.end or 'latest'}"
    return {"content": trades_csv(runs, dates), "filename": f"strat-{spec.id}-{span}.csv"}


JOURNAL_DELTA_NOTE = (
    "R = realised P&L / premium paid. Grouped by DTE at entry; the journal records each "
    "fill's delta and IV from now on (trades entered earlier have none)."
)


def update_journal(services: Services, start: str | None, end: str | None) -> tuple[Any, ...]:
    dates = parse_date_range(start, end)
    if dates.error:
        return (no_update,) * 4
    try:
        trades = services.journal.list_trades(["closed"])
    except Exception as exc:  # show the failure, keep the page alive
        err = status_line(DataResult(None, "journal", None, DataState.ERROR, str(exc)))
        return [], err, [], err
    kept = journal_in_range(trades, dates)
    rows = journal_rows(kept)
    dte_rows = journal_dte_rows(journal_option_frame(kept))
    now = broker_now(services)
    line = status_line(
        DataResult(rows, "journal", now, DataState.FRESH if rows else DataState.EMPTY),
        empty_text="no closed trades in this range",
    )
    dte_state = DataState.FRESH if dte_rows else DataState.EMPTY
    dte_line = html.Div(
        [
            status_line(
                DataResult(dte_rows, "journal", now, dte_state),
                empty_text="no closed option trades in this range",
            ),
            html.Div(JOURNAL_DELTA_NOTE, className="small text-muted"),
        ]
    )
    return rows, line, dte_rows, dte_line


def symbol_options(services: Services, selected: list[str] | None) -> list[dict[str, str]]:
    """The symbols a backtest can run on: the stored watchlist (edited on the Options
    tab), plus any still selected that have left it."""
    symbols = [*watchlist_symbols(services), *(s.upper() for s in selected or [])]
    return [{"label": s, "value": s} for s in dict.fromkeys(symbols)]


EQUITY_OUTPUTS = (
    Output("strategy-equity-chart", "figure"),
    Output("strategy-benchmark-grid", "rowData"),
    Output("strategy-rolling-chart", "figure"),
    Output("strategy-equity-status", "children"),
    Output("strategy-method", "children"),
)
REGIME_EDGE_OUTPUTS = (
    Output("strategy-regime-grid", "rowData"),
    Output("strategy-regime-status", "children"),
)


def runs_settled(services: Services, *selection: Any) -> bool:
    """No backtest of the selection is still running (an invalid range waits for none)."""
    sel_tfs, sel_syms, strategy_id, start, end = selection
    if parse_date_range(start, end).error or not sel_syms:
        return True
    return not runs_for(services, sel_tfs, sel_syms, strategy_id)[2]


def regime_edge_settled(services: Services, *selection: Any) -> bool:
    """The runs are settled and the regime fit is there (or has failed)."""
    snap = services.regime.snapshot()
    waiting = snap.fit is None and snap.status != "error"
    return not waiting and runs_settled(services, *selection)


def _follow_runs(
    app: Dash,
    services: Services,
    outputs: Sequence[Output],
    update: SelectionUpdate[Any],
    poll_id: str,
    settled: Settled,
) -> None:
    """Bind ``update`` to the selection and to its own poll, which runs until it has drawn
    every run: it starts with the tab's render, not after it, and never waits on it.
    ``settled`` is read before the update, so a run finishing in between gets a tick."""

    @app.callback(
        *outputs,
        Output(poll_id, "disabled"),
        Input(poll_id, "n_intervals"),
        *[Input(s.component_id, s.component_property) for s in SELECTION],
    )
    def _follow(_tick: int | None, *selection: Any) -> Any:
        done = settled(services, *selection)
        return (*update(services, *selection), done)


def register(app: Dash, services: Services) -> None:
    @app.callback(
        Output("strategy-symbols", "options"),
        Input("strategy-interval", "n_intervals"),
        State("strategy-symbols", "value"),
    )
    def _symbol_options(_tick: int, selected: list[str] | None) -> Any:
        return symbol_options(services, selected)

    @app.callback(
        output=STRATEGY_OUTPUTS,
        inputs=[
            Input("strategy-poll", "n_intervals"),
            Input("strategy-timeframes", "value"),
            Input("strategy-symbols", "value"),
            Input("strategy-strategy", "value"),
            Input("strategy-dates", "start_date"),
            Input("strategy-dates", "end_date"),
        ],
    )
    def _strategy(_poll: int, *selection: Any) -> dict[str, Any]:
        out = update_strategy(services, *selection)
        return {k: out[k] for k in STRATEGY_OUTPUTS}

    register_lazy(app, EQUITY_BLOCK, lambda: equity_layout(services.settings))
    register_lazy(app, LOWER, lambda: lower_layout(services.settings))

    followers: tuple[tuple[Sequence[Output], SelectionUpdate[Any], str, Settled], ...] = (
        (EQUITY_OUTPUTS, update_equity, "strategy-equity-poll", runs_settled),
        (REGIME_EDGE_OUTPUTS, update_regime_edge, "strategy-regime-poll", regime_edge_settled),
        (tuple(TABLES_OUTPUTS.values()), update_tables, "strategy-tables-poll", runs_settled),
    )
    for outputs, update, poll_id, settled in followers:
        _follow_runs(app, services, outputs, update, poll_id, settled)

    @app.callback(
        Output("strategy-download", "data"),
        Input("strategy-export", "n_clicks"),
        *SELECTION,
        prevent_initial_call=True,
    )
    def _export(_n: int | None, *selection: Any) -> Any:
        return export_trades(services, *selection)

    @app.callback(
        Output("strategy-journal-grid", "rowData"),
        Output("strategy-journal-status", "children"),
        Output("strategy-journal-dte-grid", "rowData"),
        Output("strategy-journal-dte-status", "children"),
        Input("strategy-interval", "n_intervals"),
        Input("strategy-dates", "start_date"),
        Input("strategy-dates", "end_date"),
    )
    def _journal(_tick: int, start: str | None, end: str | None) -> tuple[Any, ...]:
        return update_journal(services, start, end)
