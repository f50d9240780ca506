"""Regime Detection tab: the jump-model regimes, their features and statistics, and the
multi-timeframe regime / continuity heatmap of the watchlist.

The fit runs in ``regime_service`` off the request path; callbacks only read the latest
finished fit. While the first fit runs the figures show a "fitting…" state and a 1 s
poll interval is on; it switches itself off once the fit has landed. The date range
only limits what is drawn and measured: the model is always fitted on the full history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.analytics.regime import regime_statistics
from dashboard.components.formatting import grid_number as _num
from dashboard.components.grids import data_grid
from dashboard.components.status import empty_line, loading_line, status_line
from dashboard.models import DataResult, DataState
from dashboard.regime_service import RegimeFit, RegimeSnapshot, get_regime_service
from dashboard.settings import Settings
from dashboard.strat.bars import bar_label, classify_bars
from dashboard.strat.continuity import timeframe_continuity
from dashboard.visualizations.enhanced_charts import (
    create_feature_evolution,
    create_regime_heatmap,
    create_regime_timeline,
    empty_figure,
)
from dashboard.visualizations.inputs import RegimeCell

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "regime"
TITLE = "Regime Detection"

RANGE_PRESETS: tuple[tuple[str, int | None], ...] = (
    ("1Y", 1),
    ("3Y", 3),
    ("5Y", 5),
    ("10Y", 10),
    ("All", None),
)
DEFAULT_PRESET = "5Y"
# Coarse to fine: a cell's continuity uses its own timeframe and every coarser one.
HEATMAP_TIMEFRAMES: tuple[str, ...] = ("1Month", "1Week", "1Day", "1Hour")
STATS_COLUMNS: list[dict[str, Any]] = [
    {"field": "regime", "headerName": "Regime", "width": 135, "pinned": "left"},
    {"field": "days", "headerName": "Days", "width": 75, "type": "numericColumn"},
    {"field": "share_pct", "headerName": "Share %", "width": 85, "type": "numericColumn"},
    {"field": "mean_return_pct", "headerName": "Mean/day %", "width": 100, "type": "numericColumn"},
    {"field": "ann_vol_pct", "headerName": "Vol %", "width": 75, "type": "numericColumn"},
    {"field": "max_drawdown_pct", "headerName": "Max DD %", "width": 90, "type": "numericColumn"},
    {"field": "sharpe", "headerName": "Sharpe", "width": 80, "type": "numericColumn"},
]


# ------------------------------------------------------------------ pure view helpers


def display_window(
    first: pd.Timestamp,
    last: pd.Timestamp,
    preset: str | None,
    start: str | None = None,
    end: str | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The shown date range: explicit dates when both are picked, else the preset's
    trailing years ending at the last label, clipped to the history."""
    tz = first.tz
    if start and end:
        lo = pd.Timestamp(start).tz_localize(tz) if tz else pd.Timestamp(start)
        hi = pd.Timestamp(end).tz_localize(tz) if tz else pd.Timestamp(end)
        hi = hi + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # whole end day
        if lo > hi:
            lo, hi = hi, lo
        return max(lo, first), min(hi, last)
    years = dict(RANGE_PRESETS).get(preset or DEFAULT_PRESET)
    if years is None:
        return first, last
    return max(first, last - pd.DateOffset(years=years)), last


def window_labels(fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.Series:
    """The fit's labels (as strings) inside [lo, hi]."""
    s = fit.result.series()
    return s[(s.index >= lo) & (s.index <= hi)]


def timeline_figure(fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp) -> Any:
    labels = window_labels(fit, lo, hi)
    price = fit.close[(fit.close.index >= lo) & (fit.close.index <= hi)]
    price = price.rename(fit.symbol)
    return create_regime_timeline(
        labels, price, uirevision=f"regime-timeline-{lo.date()}-{hi.date()}"
    )


def feature_panels(
    fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """The features the regime mapping thresholds act on, as z-scores (data ≤ t only),
    with the mapping's own thresholds; plus the slow Sortino the jump model also sees."""
    p = fit.result.params
    dd, s1, s2 = p.feature_names
    f = fit.result.features
    f = f[(f.index >= lo) & (f.index <= hi)]
    cols = {
        f"{dd} (z)": f[f"{dd}_z"],
        f"{s1} (z)": f[f"{s1}_z"],
        f"{s2} (z)": f[f"{s2}_z"],
    }
    frame = pd.DataFrame(cols).dropna(how="all")
    th = fit.result.thresholds
    thresholds = {
        f"{dd} (z)": [th["crash_dd_z"]],
        f"{s1} (z)": [th["crash_sortino_z"], th["bull_sortino_z"]],
    }
    return frame, thresholds


def stats_rows(fit: RegimeFit, lo: pd.Timestamp, hi: pd.Timestamp) -> list[dict[str, Any]]:
    """``regime_statistics`` over the shown window as grid rows (percent units)."""
    labels = window_labels(fit, lo, hi)
    close = fit.close[(fit.close.index >= lo) & (fit.close.index <= hi)]
    table = regime_statistics(close, labels)
    return [
        {
            "regime": r["regime"],
            "days": int(r["days"]),
            "share_pct": _num(r["share_pct"], 1.0, 1),
            "mean_return_pct": _num(r["mean_daily_return"], 100.0, 3),
            "ann_vol_pct": _num(r["ann_vol"], 100.0, 1),
            "max_drawdown_pct": _num(r["max_drawdown"], 100.0, 1),
            "sharpe": _num(r["sharpe"]),
        }
        for r in table.to_dict("records")
    ]


def heatmap_cells(
    bars: Mapping[tuple[str, str], pd.DataFrame],
    symbols: Sequence[str],
    timeframes: Sequence[str],
    regimes: Mapping[str, str | None],
) -> list[RegimeCell]:
    """One cell per symbol × timeframe: the symbol's daily regime, the timeframe's current
    STRAT bar type, and continuity of the latest price against this timeframe's open and
    every coarser one (``timeframes`` is ordered coarse → fine)."""
    cells: list[RegimeCell] = []
    for sym in symbols:
        frames = {tf: bars.get((sym, tf)) for tf in timeframes}
        present = [tf for tf in timeframes if frames[tf] is not None and not frames[tf].empty]
        price = None
        if present:
            newest = max(present, key=lambda tf: (frames[tf].index[-1], timeframes.index(tf)))
            price = float(frames[newest]["close"].iloc[-1])
        for k, tf in enumerate(timeframes):
            df = frames[tf]
            if df is None or df.empty or price is None:
                cells.append(RegimeCell(sym, tf, regimes.get(sym)))
                continue
            codes = classify_bars(df["high"].to_numpy(float), df["low"].to_numpy(float))
            up_to = [t for t in timeframes[: k + 1] if t in present]
            opens = {t: float(frames[t]["open"].iloc[-1]) for t in up_to}
            tfc = timeframe_continuity(price, opens)
            cells.append(RegimeCell(sym, tf, regimes.get(sym), tfc.label, bar_label(codes[-1])))
    return cells


def fit_summary(snap: RegimeSnapshot) -> str:
    """One line for the header of the tab: the current regime, or what is happening."""
    fit = snap.fit
    if fit is None:
        if snap.status == "error":
            return f"Regime model failed: {snap.error}"
        return "Fitting the regime model on the full daily history…"
    r = fit.result
    as_of = r.as_of.strftime("%Y-%m-%d") if r.as_of is not None else "—"
    text = (
        f"Current regime {str(r.current).replace('_', ' ')} as of {as_of} · "
        f"{len(r.labels):,} labelled days of {fit.symbol} · last refit {r.fitted_at:%Y-%m-%d}"
    )
    if snap.running:
        text += " · refreshing…"
    return text + "".join(f" · {n}" for n in fit.notes)


def _loading(message: str) -> Any:
    return empty_figure(message, kind="loading")


# ------------------------------------------------------------------ layout


def _card(title: str, body: list[Any]) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3")


def layout(settings: Settings) -> html.Div:
    waiting = "Fitting the regime model…"
    controls = dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="regime-range-preset",
                    options=[{"label": k, "value": k} for k, _ in RANGE_PRESETS],
                    value=DEFAULT_PRESET,
                    inline=True,
                    persistence=True,
                    persistence_type="session",
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(
                dcc.DatePickerRange(
                    id="regime-date-range",
                    clearable=True,
                    display_format="YYYY-MM-DD",
                    start_date_placeholder_text="from",
                    end_date_placeholder_text="to",
                ),
                xs=12,
                md="auto",
            ),
            dbc.Col(
                html.Div(waiting, id="regime-fit-state", className="small text-muted"),
                xs=12,
                md=True,
            ),
        ],
        className="g-2 align-items-center mb-2",
    )
    return html.Div(
        [
            controls,
            dcc.Interval(id="regime-poll", interval=1000, n_intervals=0, disabled=False),
            dcc.Store(id="regime-rendered"),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Regime timeline",
                            [
                                dcc.Graph(
                                    id="regime-timeline",
                                    figure=_loading(waiting),
                                    config={"displaylogo": False},
                                    style={"height": "420px"},
                                ),
                                loading_line("fitting…", id="regime-timeline-status"),
                            ],
                        ),
                        xs=12,
                    )
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Feature evolution (z-scores, model thresholds dashed)",
                            [
                                dcc.Graph(
                                    id="regime-features",
                                    figure=_loading(waiting),
                                    config={"displaylogo": False},
                                ),
                                loading_line("fitting…", id="regime-features-status"),
                            ],
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        _card(
                            "Regime statistics (shown range)",
                            [
                                data_grid(
                                    "regime-stats-grid",
                                    STATS_COLUMNS,
                                    height="190px",
                                    getRowId="params.data.regime",
                                ),
                                loading_line("fitting…", id="regime-stats-status"),
                            ],
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Watchlist: daily regime × timeframe continuity",
                            [
                                dcc.Graph(
                                    id="regime-heatmap",
                                    figure=_loading("Loading the watchlist…"),
                                    config={"displaylogo": False},
                                ),
                                loading_line(id="regime-heatmap-status"),
                            ],
                        ),
                        xs=12,
                    )
                ]
            ),
        ],
        id=f"{TAB_ID}-root",
        className="regime-tab",
    )


# ------------------------------------------------------------------ callbacks


def render_regime(
    snap: RegimeSnapshot,
    preset: str | None,
    start: str | None,
    end: str | None,
    rendered: str | None,
) -> tuple[Any, ...]:
    """Everything the main callback outputs, from one snapshot (no I/O)."""
    summary = fit_summary(snap)
    poll_off = snap.fit is not None and not snap.running
    fit = snap.fit
    if fit is None:
        if snap.status == "error":
            fig = empty_figure(f"Regime model failed: {snap.error}", kind="error")
            line = status_line(snap.as_result())
        else:
            fig = _loading("Fitting the regime model…")
            line = loading_line("fitting the regime model…")
        return (fig, fig, [], line, line, line, summary, poll_off, None, None, None)
    dates = fit.result.dates
    lo, hi = display_window(dates[0], dates[-1], preset, start, end)
    key = f"{fit.symbol}|{fit.day}|{fit.fitted_at.isoformat()}|{lo}|{hi}|{snap.error}"
    line = status_line(snap.as_result())
    min_d, max_d = str(dates[0].date()), str(dates[-1].date())
    if key == rendered:
        return (no_update,) * 6 + (summary, poll_off, key, min_d, max_d)
    frame, thresholds = feature_panels(fit, lo, hi)
    feats = create_feature_evolution(
        frame, thresholds, uirevision=f"regime-features-{lo.date()}-{hi.date()}"
    )
    return (
        timeline_figure(fit, lo, hi),
        feats,
        stats_rows(fit, lo, hi),
        line,
        line,
        line,
        summary,
        poll_off,
        key,
        min_d,
        max_d,
    )


def register_callbacks(app: Dash, services: Services) -> None:
    from dashboard.data_loaders.loop import run_async

    regime = get_regime_service(services)

    @app.callback(
        Output("regime-timeline", "figure"),
        Output("regime-features", "figure"),
        Output("regime-stats-grid", "rowData"),
        Output("regime-timeline-status", "children"),
        Output("regime-features-status", "children"),
        Output("regime-stats-status", "children"),
        Output("regime-fit-state", "children"),
        Output("regime-poll", "disabled"),
        Output("regime-rendered", "data"),
        Output("regime-date-range", "min_date_allowed"),
        Output("regime-date-range", "max_date_allowed"),
        Input("regime-poll", "n_intervals"),
        Input("regime-interval", "n_intervals"),
        Input("regime-range-preset", "value"),
        Input("regime-date-range", "start_date"),
        Input("regime-date-range", "end_date"),
        State("regime-rendered", "data"),
    )
    def update_regime(
        _poll: int,
        _tick: int,
        preset: str | None,
        start: str | None,
        end: str | None,
        rendered: str | None,
    ) -> tuple[Any, ...]:
        return render_regime(regime.snapshot(), preset, start, end, rendered)

    @app.callback(
        Output("regime-heatmap", "figure"),
        Output("regime-heatmap-status", "children"),
        Input("regime-interval", "n_intervals"),
        Input("regime-poll", "n_intervals"),
    )
    def update_heatmap(_tick: int, _poll: int) -> tuple[Any, Any]:
        symbols = [s.upper() for s in services.settings.watchlist]
        results = run_async(
            services.data.fetch_bars_many(symbols, HEATMAP_TIMEFRAMES, lookback=3), timeout=30
        )
        return heatmap_view(results, symbols, regime.symbol_regimes(symbols))


def heatmap_view(
    results: Mapping[tuple[str, str], DataResult[pd.DataFrame]],
    symbols: Sequence[str],
    fits: Mapping[str, RegimeFit | str | None],
) -> tuple[Any, Any]:
    """Heatmap figure and status line from fetched bars and per-symbol fits."""
    bars = {k: r.value for k, r in results.items() if r.value is not None}
    regimes: dict[str, str | None] = {}
    pending, failed = [], []
    for s in symbols:
        f = fits.get(s)
        if isinstance(f, RegimeFit) and f.result.current is not None:
            regimes[s] = str(f.result.current)
        else:
            regimes[s] = None
            (failed if isinstance(f, str) else pending).append(s)
    cells = heatmap_cells(bars, symbols, HEATMAP_TIMEFRAMES, regimes)
    fig = create_regime_heatmap(cells, uirevision="regime-heatmap")
    errors = [r for r in results.values() if r.state is DataState.ERROR]
    worst = errors[0] if errors else next(iter(results.values()), None)
    as_of = max((r.as_of for r in results.values() if r.as_of), default=None)
    source = worst.source if worst is not None else "data service"
    if errors:
        result: DataResult[object] = DataResult(
            None, source, as_of, DataState.ERROR, f"{len(errors)} bar requests failed"
        )
    elif not bars:
        result = DataResult(None, source, as_of, DataState.EMPTY)
    else:
        result = DataResult(bars, source, as_of or datetime.now(UTC), DataState.FRESH)
    parts: list[Any] = [status_line(result, empty_text="no bars for the watchlist")]
    if pending:
        parts.append(loading_line(f"regime fit running for {', '.join(pending)}"))
    if failed:
        parts.append(
            empty_line(f"no regime for {', '.join(failed)} (history too short or unavailable)")
        )
    return fig, parts


__all__ = [
    "TAB_ID",
    "TITLE",
    "display_window",
    "feature_panels",
    "fit_summary",
    "heatmap_cells",
    "heatmap_view",
    "layout",
    "register_callbacks",
    "render_regime",
    "stats_rows",
    "timeline_figure",
]
