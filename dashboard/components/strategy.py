"""Strategy Performance tab: STRAT edge analytics from the pattern backtest, and the
realised results of the user's own trades from the journal.

Backtests (``analytics.strategy.run_strategy``) run per strategy × symbol × timeframe on
a background thread and are cached per trading day (``regime_service.DailyJobCache``),
so a callback only collects finished results; while some still run, a 1 s poll is on and
the widgets say how many are pending. Everything on the tab follows the strategy
selector and the date range (trades by entry date; the benchmark over the same days).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.analytics.performance import (
    buy_and_hold,
    curve_stats,
    daily_closes,
    daily_equity,
    grouped_trade_stats,
    rolling_sharpe,
    rolling_sortino,
    simple_returns,
    trade_stats,
)
from dashboard.analytics.strategy import (
    DEFAULT_STRATEGY,
    MODEL_NOTE,
    STRATEGIES,
    BacktestResult,
    BacktestTrade,
    StrategySpec,
    delta_bucket,
    dte_bucket,
    edge_by,
    edge_table,
    journal_option_frame,
    r_equity_curve,
    run_strategy,
    strategy_by_id,
    tfc_bucket,
    trades_between,
    trades_frame,
)
from dashboard.components.formatting import grid_number as _num
from dashboard.components.grids import data_grid
from dashboard.components.status import empty_line, loading_line, status_line
from dashboard.models import DataResult, DataState
from dashboard.regime_service import DailyJobCache, Job, compute_off_process, get_daily_jobs
from dashboard.settings import Settings
from dashboard.visualizations.enhanced_charts import (
    create_equity_curve,
    create_pattern_performance_chart,
    create_r_multiple_histogram,
    create_rolling_ratio_chart,
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
CACHE_VERSION = "v2"  # v2: strategy id in the key, TFC and option fields on trades
START_CAPITAL = 100_000.0
ROLLING_WINDOW = 63  # trading days (a quarter) for the rolling Sharpe and Sortino
# Which run's closes stand for a symbol's daily price: the daily bars first.
_CLOSE_PREFERENCE = ("1Day", "1Hour", "15Min", "1Week", "1Month")
_DAILY_TIMEFRAMES = frozenset({"1Day", "1Hour", "15Min"})

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
    """One strategy × symbol × timeframe backtest with where its bars came from, and the
    bars' daily closes (the buy-and-hold benchmark is built from the same bars)."""

    symbol: str
    timeframe: str
    result: BacktestResult
    source: str
    bars: int
    data_as_of: datetime | None
    strategy_id: str = DEFAULT_STRATEGY
    daily_close: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


@dataclass(frozen=True, slots=True)
class DateRange:
    """The date picker's range; ``error`` is set (and nothing else used) when invalid."""

    start: date | None = None
    end: date | None = None
    error: str | None = None


def parse_date_range(start: str | None, end: str | None) -> DateRange:
    """Dates from the picker ("YYYY-MM-DD", possibly with a time part); either may be
    empty (open end). Start after end is an error the tab shows instead of updating."""
    try:
        a = date.fromisoformat(start[:10]) if start else None
        b = date.fromisoformat(end[:10]) if end else None
    except ValueError:
        return DateRange(error=f"not a date: {start!r} – {end!r}")
    if a is not None and b is not None and a > b:
        return DateRange(a, b, f"start {a.isoformat()} is after end {b.isoformat()}")
    return DateRange(a, b)


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


def combined_trades(
    runs: Sequence[BacktestRun], dates: DateRange | None = None
) -> list[BacktestTrade]:
    """Every run's trades, kept to those entered inside ``dates`` when given."""
    trades = [t for run in runs for t in run.result.trades]
    if dates is None or (dates.start is None and dates.end is None):
        return trades
    return trades_between(trades, dates.start, dates.end)


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


def job_key(symbol: str, timeframe: str, day: date, strategy_id: str = DEFAULT_STRATEGY) -> str:
    return (
        f"bt:{CACHE_VERSION}:{strategy_id}:{symbol}:{timeframe}:{LOOKBACK[timeframe]}:"
        f"{day.isoformat()}"
    )


# ------------------------------------------------------------------ pure view helpers (2)

STAT_COLUMNS: list[dict[str, Any]] = [
    {"field": "trades", "headerName": "Trades", "width": 90, "type": "rightAligned"},
    {"field": "win_rate", "headerName": "Win %", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_r", "headerName": "Exp. R", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_ci", "headerName": "Exp. R 95% CI", "width": 150},
    {"field": "profit_factor", "headerName": "PF", "width": 80, "type": "rightAligned"},
]
REGIME_COLUMNS: list[dict[str, Any]] = [
    {"field": "regime", "headerName": "Regime at entry (SPY)", "width": 190},
    *STAT_COLUMNS,
]
TFC_COLUMNS: list[dict[str, Any]] = [
    {"field": "tfc", "headerName": "TFC at entry", "width": 240},
    *STAT_COLUMNS,
]
OPTION_COLUMNS: list[dict[str, Any]] = [
    {"field": "bucket", "headerName": "Bucket at entry", "width": 150},
    *STAT_COLUMNS,
]
JOURNAL_DTE_COLUMNS: list[dict[str, Any]] = [
    {"field": "bucket", "headerName": "DTE at entry", "width": 130},
    {"field": "trades", "headerName": "Closed", "width": 90, "type": "rightAligned"},
    {"field": "win_rate", "headerName": "Win %", "width": 90, "type": "rightAligned"},
    {"field": "expectancy_r", "headerName": "Avg R (on premium)", "width": 160},
    {"field": "realized_pnl", "headerName": "Realised $", "width": 120, "type": "rightAligned"},
]
BENCHMARK_COLUMNS: list[dict[str, Any]] = [
    {"field": "curve", "headerName": "", "width": 200},
    {"field": "total_return_pct", "headerName": "Total return %", "type": "rightAligned"},
    {"field": "cagr_pct", "headerName": "CAGR %", "type": "rightAligned"},
    {"field": "max_drawdown_pct", "headerName": "Max DD %", "type": "rightAligned"},
    {"field": "sharpe", "headerName": "Sharpe", "type": "rightAligned"},
    {"field": "sortino", "headerName": "Sortino", "type": "rightAligned"},
    {"field": "days", "headerName": "Days", "type": "rightAligned"},
]
STRATEGY_NAME = "strategy (1% risk/trade)"
BENCHMARK_NAME = "buy & hold (equal weight)"


def stat_rows(table: pd.DataFrame, key: str, label: Callable[[Any], str]) -> list[dict[str, Any]]:
    """``grouped_trade_stats`` rows for a small edge grid: the group label under ``key``."""
    return [
        {
            "id": str(row["group"]),
            key: label(row["group"]),
            "trades": int(row["trades"]),
            "win_rate": _num(row["win_rate"], 100, 1),
            "expectancy_r": _num(row["expectancy_r"]),
            "expectancy_ci": _interval(row["expectancy_low"], row["expectancy_high"]),
            "profit_factor": _num(row["profit_factor"]),
        }
        for _, row in table.iterrows()
    ]


def tfc_rows(trades: Sequence[BacktestTrade]) -> list[dict[str, Any]]:
    """Closed trades by TFC at entry: aligned (every higher TF agrees) vs not."""
    table = edge_by(trades, lambda t: tfc_bucket(t.tfc_aligned))
    return stat_rows(table, "tfc", str)


def option_rows(trades: Sequence[BacktestTrade]) -> list[dict[str, Any]]:
    """Closed option trades by DTE bucket, then by |delta| bucket, at entry."""
    dte = edge_by(trades, lambda t: dte_bucket(t.dte_at_entry))
    delta = edge_by(trades, lambda t: delta_bucket(t.delta_at_entry))
    return stat_rows(dte, "bucket", str) + stat_rows(delta, "bucket", lambda g: f"|Δ| {g}")


def journal_dte_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Closed journal trades by DTE at entry: count, win rate, mean R on the premium and
    realised dollars (``journal_option_frame`` rows)."""
    rows: list[dict[str, Any]] = []
    known = frame[frame["dte_bucket"].notna()] if not frame.empty else frame
    if known.empty:
        return rows
    table = grouped_trade_stats(known, "dte_bucket")
    pnl = known.groupby("dte_bucket")["realized_pnl"].sum()
    for _, row in table.iterrows():
        rows.append(
            {
                "id": str(row["dte_bucket"]),
                "bucket": str(row["dte_bucket"]),
                "trades": int(row["trades"]),
                "win_rate": _num(row["win_rate"], 100, 1),
                "expectancy_r": _num(row["expectancy_r"]),
                "realized_pnl": _num(pnl[row["dte_bucket"]]),
            }
        )
    return rows


def period_end_closes(close: pd.Series, timeframe: str) -> pd.Series:
    """Daily closes (New York dates) of bars of ``timeframe``. A weekly or monthly bar is
    stamped at its period's start but its close is only known at the period's end, so
    every bar but the last (the current, possibly forming one) moves to its period's
    last day: the benchmark never shows a price before it was known."""
    if close.empty:
        return close.astype(float)
    daily = daily_closes(close)
    if timeframe not in ("1Week", "1Month") or len(daily) < 2:
        return daily
    idx = daily.index
    ends = idx + pd.Timedelta(days=4) if timeframe == "1Week" else idx + pd.offsets.MonthEnd(0)
    moved = ends[:-1].append(idx[-1:])
    return pd.Series(daily.to_numpy(), index=moved)


def benchmark_closes(runs: Sequence[BacktestRun]) -> dict[str, pd.Series]:
    """Per symbol, the daily closes of its runs, daily bars first (a finer run fills
    dates the preferred one lacks)."""
    order = {tf: i for i, tf in enumerate(_CLOSE_PREFERENCE)}
    out: dict[str, pd.Series] = {}
    for run in sorted(runs, key=lambda r: order.get(r.timeframe, len(order))):
        if run.daily_close is None or run.daily_close.empty:
            continue
        prev = out.get(run.symbol)
        out[run.symbol] = run.daily_close if prev is None else prev.combine_first(run.daily_close)
    return out


def _market_days(runs: Sequence[BacktestRun], start: pd.Timestamp, end: pd.Timestamp) -> Any:
    """Trading days to evaluate on: the dates of the daily-or-finer bars, else weekdays."""
    daily = [r.daily_close.index for r in runs if r.timeframe in _DAILY_TIMEFRAMES]
    if daily:
        days = daily[0]
        for idx in daily[1:]:
            days = days.union(idx)
        return days[(days >= start) & (days <= end)]
    return pd.bdate_range(start, end)


@dataclass(frozen=True, slots=True)
class EquityView:
    """Daily strategy equity and buy-and-hold over the same days, from the same capital."""

    strategy: pd.Series
    benchmark: pd.Series


def equity_view(
    trades: Sequence[BacktestTrade],
    runs: Sequence[BacktestRun],
    dates: DateRange,
    start_value: float = START_CAPITAL,
) -> EquityView:
    """Compounded strategy equity (1% risk per trade) sampled daily, and the equal-weight
    buy-and-hold of the runs' symbols, both starting at ``start_value`` on the first
    day both exist. The window is the date range; an open start begins at the first
    trade's entry day, an open end at the last close.
    """
    empty = pd.Series(dtype=float)
    closes = benchmark_closes(runs)
    entries = [pd.Timestamp(t.entry_time) for t in trades if t.entry_time is not None]
    last_close = max((c.index[-1] for c in closes.values() if len(c)), default=None)
    if dates.start is not None:
        start = pd.Timestamp(dates.start)
    elif entries:
        start = pd.Timestamp(min(entries).tz_convert(NEW_YORK).date())
    else:
        return EquityView(empty, empty)
    end = pd.Timestamp(dates.end) if dates.end is not None else last_close
    if end is None or start > end:
        return EquityView(empty, empty)
    days = _market_days(runs, start, end)
    # Carry the last known close onto each day (a weekly close lands on a Friday).
    bench = buy_and_hold(closes, start_value, start, end)
    bench = bench.reindex(days, method="ffill").dropna() if not bench.empty else bench
    if not bench.empty:
        days = bench.index
    strat = daily_equity(r_equity(trades, start_value), pd.DatetimeIndex(days), start_value)
    if not strat.empty and strat.iloc[0] != 0:
        strat = strat / strat.iloc[0] * start_value  # trades closed before day one
    return EquityView(strat.rename(STRATEGY_NAME), bench.rename(BENCHMARK_NAME))


def benchmark_rows(view: EquityView) -> list[dict[str, Any]]:
    """Total return, CAGR, max drawdown, Sharpe and Sortino of both daily curves."""
    rows = []
    for name, curve in ((STRATEGY_NAME, view.strategy), (BENCHMARK_NAME, view.benchmark)):
        if curve.empty:
            continue
        st = curve_stats(curve)
        rows.append(
            {
                "id": name,
                "curve": name,
                "total_return_pct": _num(st.total_return, 100, 2),
                "cagr_pct": _num(st.cagr, 100, 2),
                "max_drawdown_pct": _num(st.max_drawdown, 100, 2),
                "sharpe": _num(st.sharpe),
                "sortino": _num(st.sortino),
                "days": st.days,
            }
        )
    return rows


def rolling_ratios(
    view: EquityView, window: int = ROLLING_WINDOW
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Rolling Sharpe and Sortino of each curve's daily returns, keyed by curve name."""
    sharpe: dict[str, pd.Series] = {}
    sortino: dict[str, pd.Series] = {}
    for name, curve in (("Strategy", view.strategy), ("Buy & hold", view.benchmark)):
        if len(curve) < 2:
            continue
        r = simple_returns(curve)
        sharpe[name] = rolling_sharpe(r, window)
        sortino[name] = rolling_sortino(r, window)
    return sharpe, sortino


def journal_in_range(trades: Sequence[Any], dates: DateRange) -> list[Any]:
    """Journal trades whose entry fill (or creation, before a fill) is inside ``dates``."""
    if dates.start is None and dates.end is None:
        return list(trades)
    out = []
    for t in trades:
        when = getattr(t, "entry_filled_at", None) or getattr(t, "created_at", None)
        if when is None:
            continue
        day = pd.Timestamp(when).tz_convert(NEW_YORK).date()
        if (dates.start is None or day >= dates.start) and (dates.end is None or day <= dates.end):
            out.append(t)
    return out


# ------------------------------------------------------------------ layout


def _card(title: str, body: list[Any]) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3")


def _graph(id_: str, text: str) -> dcc.Graph:
    return dcc.Graph(
        id=id_, figure=empty_figure(text, kind="loading"), config={"displaylogo": False}
    )


def layout(settings: Settings) -> html.Div:
    symbols = [s.upper() for s in settings.watchlist]
    session = {"persistence": True, "persistence_type": "session"}
    controls = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-strategy",
                    options=[{"label": s.label, "value": s.id} for s in STRATEGIES],
                    value=DEFAULT_STRATEGY,
                    clearable=False,
                    **session,
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-timeframes",
                    options=[{"label": tf, "value": tf} for tf in TIMEFRAMES],
                    value=list(DEFAULT_TIMEFRAMES),
                    multi=True,
                    clearable=False,
                    **session,
                ),
                xs=12,
                md=3,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="strategy-symbols",
                    options=[{"label": s, "value": s} for s in symbols],
                    value=symbols,
                    multi=True,
                    **session,
                ),
                xs=12,
                md=5,
            ),
        ],
        className="g-2 mb-2",
    )
    range_row = dbc.Row(
        [
            dbc.Col(
                dcc.DatePickerRange(
                    id="strategy-dates",
                    clearable=True,
                    display_format="YYYY-MM-DD",
                    start_date_placeholder_text="all data from",
                    end_date_placeholder_text="to latest",
                    **session,
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(html.Div(id="strategy-dates-status"), xs=12, md="auto"),
            dbc.Col(
                html.Div(strategy_by_id(None).description, id="strategy-note"),
                xs=12,
                md=True,
                className="small text-muted",
            ),
        ],
        className="g-2 align-items-center mb-2",
    )
    waiting = "Running the backtests…"
    return html.Div(
        [
            controls,
            range_row,
            html.Div(loading_line("waiting for backtests…"), id="strategy-progress"),
            dcc.Interval(id="strategy-poll", interval=1000, n_intervals=0, disabled=False),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Edge by pattern (backtest, R multiples)",
                            [
                                _graph("strategy-pattern-chart", waiting),
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
                                _graph("strategy-r-histogram", waiting),
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
                "Equity risking 1% per trade (compounded) vs equal-weight buy & hold, "
                "with drawdown",
                [
                    _graph("strategy-equity-chart", waiting),
                    data_grid(
                        "strategy-benchmark-grid",
                        BENCHMARK_COLUMNS,
                        height="130px",
                        getRowId="params.data.id",
                    ),
                    html.Div(id="strategy-equity-status"),
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
                f"Rolling {ROLLING_WINDOW}-day Sharpe and Sortino of daily returns",
                [_graph("strategy-rolling-chart", waiting)],
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Edge by timeframe continuity at entry",
                            [
                                data_grid(
                                    "strategy-tfc-grid",
                                    TFC_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-tfc-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        _card(
                            "Edge by market regime at entry",
                            [
                                data_grid(
                                    "strategy-regime-grid",
                                    REGIME_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-regime-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Edge by DTE and delta at entry (modelled option backtest)",
                            [
                                data_grid(
                                    "strategy-option-grid",
                                    OPTION_COLUMNS,
                                    height="220px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-option-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        _card(
                            "Your closed option trades by DTE at entry (journal)",
                            [
                                data_grid(
                                    "strategy-journal-dte-grid",
                                    JOURNAL_DTE_COLUMNS,
                                    height="220px",
                                    getRowId="params.data.id",
                                ),
                                html.Div(id="strategy-journal-dte-status"),
                            ],
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
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


def _backtest(bars: pd.DataFrame, symbol: str, timeframe: str, strategy_id: str) -> Any:
    return run_strategy(bars, strategy_by_id(strategy_id), symbol=symbol, timeframe=timeframe)


def run_backtest(
    services: Services, symbol: str, timeframe: str, strategy_id: str = DEFAULT_STRATEGY
) -> BacktestRun:
    """Fetch bars and backtest them (runs on the job thread, never on a request)."""
    from dashboard.data_loaders.loop import run_async

    res = run_async(services.data.fetch_bars(symbol, timeframe, LOOKBACK[timeframe]), timeout=120)
    if res.value is None:
        raise RuntimeError(f"no {timeframe} bars for {symbol}: {res.error or res.state}")
    bars = res.value
    result = compute_off_process(_backtest, bars, symbol, timeframe, strategy_id)
    last = pd.Timestamp(bars.index[-1]).to_pydatetime() if len(bars) else None
    closes = period_end_closes(bars["close"], timeframe)
    return BacktestRun(symbol, timeframe, result, res.source, len(bars), last, strategy_id, closes)


def collect_runs(
    jobs: DailyJobCache,
    services: Services,
    symbols: Sequence[str],
    timeframes: Sequence[str],
    day: date,
    strategy_id: str = DEFAULT_STRATEGY,
) -> tuple[list[BacktestRun], list[str], list[str]]:
    """Finished runs, pending pair names and error texts; submits what is missing."""
    runs: list[BacktestRun] = []
    pending: list[str] = []
    errors: list[str] = []
    for sym in symbols:
        for tf in timeframes:
            job: Job[BacktestRun] = jobs.get(
                job_key(sym, tf, day, strategy_id),
                lambda s=sym, t=tf: run_backtest(services, s, t, strategy_id),
            )
            if job.status == "ready" and job.value is not None:
                runs.append(job.value)
            elif job.status == "error":
                errors.append(f"{sym} {tf}: {job.error}")
            else:
                pending.append(f"{sym} {tf}")
    return runs, pending, errors


RISK_PER_TRADE = 0.01  # equity fraction risked per trade when turning R into an equity curve


def r_equity(trades: Sequence[BacktestTrade], start: float = START_CAPITAL) -> pd.Series:
    """Equity from closed trades in exit order, risking ``RISK_PER_TRADE`` of the equity
    at the time on each one (compounded, so thousands of trades stay meaningful)."""
    cum_r = r_equity_curve(trades)
    r = cum_r.diff().fillna(cum_r.iloc[0] if len(cum_r) else 0.0)
    return start * (1.0 + RISK_PER_TRADE * r).cumprod()


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
            "group": tagged.fillna("before the model").to_numpy(),
            "r_multiple": [t.r_multiple for t in closed],
        }
    )
    table = grouped_trade_stats(frame, "group")
    return stat_rows(table, "regime", lambda g: str(g).replace("_", " ").title())


def trades_csv(runs: Sequence[BacktestRun], dates: DateRange | None = None) -> str:
    """The finished runs' trades entered inside ``dates`` as CSV (every trade field,
    TFC and, for option strategies, the modelled contract)."""
    return trades_frame(combined_trades(runs, dates)).to_csv(index=False)


def render_strategy(
    runs: Sequence[BacktestRun],
    pending: Sequence[str],
    errors: Sequence[str],
    timeframes: Sequence[str],
    spec: StrategySpec | None = None,
    dates: DateRange | None = None,
) -> tuple[Any, ...]:
    """Figures, rows and status lines from finished runs (no I/O).

    Returns: pattern chart, R histogram, edge rows, three status lines, progress, poll
    disabled, TFC rows, TFC status, option rows, option status.
    """
    spec = spec or strategy_by_id(None)
    dates = dates or DateRange()
    trades = combined_trades(runs, dates)
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
    empty_text = "no closed backtest trades in this range"
    if runs:
        line: Any = status_line(result, empty_text=empty_text)
        chart = create_pattern_performance_chart(pattern_stats(table, multi))
        hist = create_r_multiple_histogram(closed_r)
        t_rows = tfc_rows(trades)
        t_line: Any = status_line(result, empty_text=empty_text)
    elif errors:
        line = t_line = status_line(result)
        chart = hist = empty_figure("Backtest failed", kind="error")
        t_rows = []
    else:
        line = t_line = loading_line("running the backtests…")
        chart = hist = empty_figure("Running the backtests…", kind="loading")
        t_rows = []
    if not spec.is_option:
        o_rows: list[dict[str, Any]] = []
        o_line: Any = empty_line(
            "pick an option strategy above: this one trades the underlying, which has no "
            "DTE or delta"
        )
    else:
        o_rows = option_rows(trades) if runs else []
        o_line = t_line
        if runs:
            note = html.Div(f"modelled: {MODEL_NOTE}", className="small text-muted")
            o_line = html.Div([t_line, note])
    found = sum(r.result.patterns_found for r in runs)
    in_range = "" if dates.start is None and dates.end is None else " in range"
    progress_text = (
        f"{len(runs)} backtests done · {spec.label} · {found:,} patterns (all dates) · "
        f"{len(trades):,} triggered{in_range} · {len(closed_r):,} closed"
    )
    progress: list[Any] = [html.Div(progress_text, className="small text-muted")]
    if pending:
        progress.append(loading_line(f"{len(pending)} backtests running: {', '.join(pending)}"))
    return (
        chart,
        hist,
        edge_rows(table),
        line,
        line,
        line,
        progress,
        not pending,
        t_rows,
        t_line,
        o_rows,
        o_line,
    )


def render_equity(
    runs: Sequence[BacktestRun],
    dates: DateRange,
    spec: StrategySpec | None = None,
    errors: Sequence[str] = (),
) -> tuple[Any, list[dict[str, Any]], Any, Any]:
    """Equity vs buy-and-hold figure, their stats rows, the rolling-ratio figure and a
    status line, from finished runs (no I/O)."""
    spec = spec or strategy_by_id(None)
    rev = "strategy-equity"
    if not runs:
        if errors:
            err = DataResult(None, "backtest", None, DataState.ERROR, "; ".join(errors))
            fig = empty_figure("Backtest failed", kind="error", uirevision=rev)
            return fig, [], empty_figure("Backtest failed", kind="error"), status_line(err)
        fig = empty_figure("Running the backtests…", kind="loading", uirevision=rev)
        wait = empty_figure("Running the backtests…", kind="loading")
        return fig, [], wait, loading_line("running the backtests…")
    trades = combined_trades(runs, dates)
    view = equity_view(trades, runs, dates)
    if view.strategy.empty:
        msg = "No closed backtest trades in this range"
        fig = empty_figure(msg, uirevision=rev)
        return fig, [], empty_figure(msg), empty_line(msg.lower())
    bench = view.benchmark if not view.benchmark.empty else None
    fig = create_equity_curve(view.strategy, bench, uirevision=rev)
    sharpe, sortino = rolling_ratios(view)
    rolling = create_rolling_ratio_chart(sharpe, sortino, window=ROLLING_WINDOW)
    as_of = max((r.data_as_of for r in runs if r.data_as_of), default=None)
    symbols = ", ".join(sorted({r.symbol for r in runs}))
    source = f"{runs[0].source} · {spec.label} vs buy & hold of {symbols}"
    if not any(r.timeframe in _DAILY_TIMEFRAMES for r in runs):
        source += " (weekday curve from weekly/monthly closes carried forward)"
    if bench is None:
        why = "no closes for the benchmark in this range"
        line = status_line(DataResult(view, source, as_of, DataState.STALE, why, as_of))
    elif errors:
        why = "; ".join(errors)
        line = status_line(DataResult(view, source, as_of, DataState.STALE, why, as_of))
    else:
        line = status_line(DataResult(view, source, as_of, DataState.FRESH))
    return fig, benchmark_rows(view), rolling, line


# What the user chose (timeframes, symbols, strategy, date range), as the State of the
# callbacks that follow a finished render; the render itself takes them as Inputs.
SELECTION = (
    State("strategy-timeframes", "value"),
    State("strategy-symbols", "value"),
    State("strategy-strategy", "value"),
    State("strategy-dates", "start_date"),
    State("strategy-dates", "end_date"),
)


def register_callbacks(app: Dash, services: Services) -> None:
    from dashboard.data_loaders.loop import run_async

    jobs = get_daily_jobs(services)

    def runs_for(
        timeframes: list[str] | None, symbols: list[str] | None, strategy_id: str | None
    ) -> tuple[list[str], list[BacktestRun], list[str], list[str]]:
        """The chosen timeframes and today's finished runs, pending pairs and errors."""
        tfs = [tf for tf in (timeframes or []) if tf in LOOKBACK] or list(DEFAULT_TIMEFRAMES)
        syms = [s.upper() for s in (symbols or [])]
        spec = strategy_by_id(strategy_id)
        clock = run_async(services.data.fetch_clock(), timeout=10)
        now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
        runs, pending, errors = collect_runs(jobs, services, syms, tfs, broker_day(now), spec.id)
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
        Output("strategy-tfc-grid", "rowData"),
        Output("strategy-tfc-status", "children"),
        Output("strategy-option-grid", "rowData"),
        Output("strategy-option-status", "children"),
        Output("strategy-dates-status", "children"),
        Output("strategy-note", "children"),
        Input("strategy-poll", "n_intervals"),
        Input("strategy-timeframes", "value"),
        Input("strategy-symbols", "value"),
        Input("strategy-strategy", "value"),
        Input("strategy-dates", "start_date"),
        Input("strategy-dates", "end_date"),
    )
    def update_strategy(
        _poll: int,
        timeframes: list[str] | None,
        symbols: list[str] | None,
        strategy_id: str | None,
        start: str | None,
        end: str | None,
    ) -> tuple[Any, ...]:
        dates = parse_date_range(start, end)
        if dates.error:
            msg = html.Div(f"✕ {dates.error}: nothing updated", className="text-danger small")
            return (*([no_update] * 12), msg, no_update)
        spec = strategy_by_id(strategy_id)
        if not symbols:
            msg = empty_figure("Pick at least one symbol")
            note = empty_line("no symbols selected")
            return (msg, msg, [], note, note, note, note, True, [], note, [], note, None,
                    spec.description)  # fmt: skip
        tfs, runs, pending, errors = runs_for(timeframes, symbols, spec.id)
        return (*render_strategy(runs, pending, errors, tfs, spec, dates), None, spec.description)

    @app.callback(
        Output("strategy-equity-chart", "figure"),
        Output("strategy-benchmark-grid", "rowData"),
        Output("strategy-rolling-chart", "figure"),
        Output("strategy-equity-status", "children"),
        Input("strategy-progress", "children"),
        *SELECTION,
    )
    def update_equity(
        _progress: Any,
        timeframes: list[str] | None,
        symbols: list[str] | None,
        strategy_id: str | None,
        start: str | None,
        end: str | None,
    ) -> tuple[Any, ...]:
        dates = parse_date_range(start, end)
        if dates.error:
            return (no_update,) * 4
        _tfs, runs, _pending, errors = runs_for(timeframes, symbols, strategy_id)
        return render_equity(runs, dates, strategy_by_id(strategy_id), errors)

    @app.callback(
        Output("strategy-regime-grid", "rowData"),
        Output("strategy-regime-status", "children"),
        Input("strategy-progress", "children"),
        *SELECTION,
    )
    def update_regime_edge(
        _p: Any,
        timeframes: list[str] | None,
        symbols: list[str] | None,
        strategy_id: str | None,
        start: str | None,
        end: str | None,
    ) -> tuple[Any, ...]:
        from dashboard.regime_service import get_regime_service

        dates = parse_date_range(start, end)
        if dates.error:
            return no_update, no_update
        snap = get_regime_service(services).snapshot()
        if snap.fit is None:
            return [], loading_line("waiting for the regime fit…")
        runs = runs_for(timeframes, symbols, strategy_id)[1]
        rows = edge_by_regime(combined_trades(runs, dates), snap.fit.result.series())
        state = DataState.FRESH if rows else DataState.EMPTY
        return rows, status_line(
            DataResult(rows, snap.as_result().source, snap.fit.fitted_at, state),
            empty_text="no closed backtest trades in this range",
        )

    @app.callback(
        Output("strategy-download", "data"),
        Input("strategy-export", "n_clicks"),
        *SELECTION,
        prevent_initial_call=True,
    )
    def export(
        _n: int | None,
        timeframes: list[str] | None,
        symbols: list[str] | None,
        strategy_id: str | None,
        start: str | None,
        end: str | None,
    ) -> Any:
        dates = parse_date_range(start, end)
        spec = strategy_by_id(strategy_id)
        runs = runs_for(timeframes, symbols, spec.id)[1]
        if dates.error or not runs:
            return no_update
        span = f"{dates.start or 'start'}_{dates.end or 'latest'}"
        return {"content": trades_csv(runs, dates), "filename": f"strat-{spec.id}-{span}.csv"}

    @app.callback(
        Output("strategy-journal-grid", "rowData"),
        Output("strategy-journal-status", "children"),
        Output("strategy-journal-dte-grid", "rowData"),
        Output("strategy-journal-dte-status", "children"),
        Input("strategy-interval", "n_intervals"),
        Input("strategy-dates", "start_date"),
        Input("strategy-dates", "end_date"),
    )
    def update_journal(_tick: int, start: str | None, end: str | None) -> tuple[Any, ...]:
        dates = parse_date_range(start, end)
        if dates.error:
            return (no_update,) * 4
        journal = services.extras.get("journal")
        if journal is None:
            line = empty_line("no journal configured in this process: your own trades will "
                                "appear here")  # fmt: skip
            return [], line, [], line
        try:
            trades = journal.list_trades(["closed"])
        except Exception as exc:  # show the failure, keep the page alive
            err = status_line(DataResult(None, "journal", None, DataState.ERROR, str(exc)))
            return [], err, [], err
        kept = journal_in_range(trades, dates)
        rows = journal_rows(kept)
        dte_rows = journal_dte_rows(journal_option_frame(kept))
        now = datetime.now(UTC)
        line = status_line(
            DataResult(rows, "journal", now, DataState.FRESH if rows else DataState.EMPTY),
            empty_text="no closed trades in this range",
        )
        dte_line = html.Div(
            [
                status_line(
                    DataResult(
                        dte_rows, "journal", now, DataState.FRESH if dte_rows else DataState.EMPTY
                    ),
                    empty_text="no closed option trades in this range",
                ),
                html.Div(
                    "R = realised P&L / premium paid. No delta: the journal keeps neither "
                    "the underlying price at the fill nor an IV, so it is not shown.",
                    className="small text-muted",
                ),
            ]
        )
        return rows, line, dte_rows, dte_line
