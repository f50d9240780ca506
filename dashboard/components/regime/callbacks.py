"""Regime Detection callbacks. The fit runs in ``regime_service`` off the request path;
callbacks only read the latest finished fit. While the first fit runs the figures show a
"fitting…" state and a 1 s poll is on; it switches itself off once the fit has landed.
The date range only limits what is drawn and measured: the model is always fitted on
the full history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dash import Dash, Input, Output, State, no_update

from dashboard.analytics.regime_fits import RegimeSnapshot
from dashboard.components.regime.layout import LOWER, lower_layout
from dashboard.components.status import empty_line, loading_line, status_line
from dashboard.components.ui import register_lazy
from dashboard.data_loaders.loop import run_async
from dashboard.views.regime import (
    HEATMAP_TIMEFRAMES,
    HeatmapView,
    display_window,
    feature_panels,
    fit_summary,
    heatmap_view,
    stats_rows,
    timeline_series,
)
from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.regime_charts import (
    create_feature_evolution,
    create_regime_heatmap,
    create_regime_timeline,
)
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services

REGIME_OUTPUTS = {
    "timeline": Output("regime-timeline", "figure"),
    "features": Output("regime-features", "figure"),
    "stats": Output("regime-stats-grid", "rowData"),
    "timeline_status": Output("regime-timeline-status", "children"),
    "features_status": Output("regime-features-status", "children"),
    "stats_status": Output("regime-stats-status", "children"),
    "summary": Output("regime-fit-state", "children"),
    "poll_off": Output("regime-poll", "disabled"),
    "rendered": Output("regime-rendered", "data"),
    "min_date": Output("regime-date-range", "min_date_allowed"),
    "max_date": Output("regime-date-range", "max_date_allowed"),
}
_DRAWN = ("timeline", "features", "stats", "timeline_status", "features_status", "stats_status")


def render_regime(
    snap: RegimeSnapshot,
    preset: str | None,
    start: str | None,
    end: str | None,
    rendered: str | None,
) -> dict[str, Any]:
    """Everything the main callback outputs, from one snapshot (no I/O). A render key
    equal to the last one leaves the drawn outputs as they are."""
    summary = fit_summary(snap)
    poll_off = snap.fit is not None and not snap.running
    fit = snap.fit
    if fit is None:
        if snap.status == "error":
            fig = empty_figure(f"Regime model failed: {snap.error}", kind="error")
            line = status_line(snap.as_result())
        else:
            fig = empty_figure("Fitting the regime model…", kind="loading")
            line = loading_line("fitting the regime model…")
        return {
            "timeline": fig,
            "features": fig,
            "stats": [],
            "timeline_status": line,
            "features_status": line,
            "stats_status": line,
            "summary": summary,
            "poll_off": poll_off,
            "rendered": None,
            "min_date": None,
            "max_date": None,
        }
    dates = fit.result.dates
    lo, hi = display_window(dates[0], dates[-1], preset, start, end)
    key = f"{fit.symbol}|{fit.day}|{fit.fitted_at.isoformat()}|{lo}|{hi}|{snap.error}"
    out: dict[str, Any] = {
        "summary": summary,
        "poll_off": poll_off,
        "rendered": key,
        "min_date": str(dates[0].date()),
        "max_date": str(dates[-1].date()),
    }
    if key == rendered:
        return {**dict.fromkeys(_DRAWN, no_update), **out}
    line = status_line(snap.as_result())
    frame, thresholds = feature_panels(fit, lo, hi)
    labels, price = timeline_series(fit, lo, hi)
    window = f"{lo.date()}-{hi.date()}"
    return {
        "timeline": create_regime_timeline(labels, price, uirevision=f"regime-timeline-{window}"),
        "features": create_feature_evolution(
            frame, thresholds, uirevision=f"regime-features-{window}"
        ),
        "stats": stats_rows(fit, lo, hi),
        "timeline_status": line,
        "features_status": line,
        "stats_status": line,
        **out,
    }


def render_heatmap(view: HeatmapView) -> tuple[Any, list[Any]]:
    fig = create_regime_heatmap(view.cells, uirevision="regime-heatmap")
    parts: list[Any] = [status_line(view.status, empty_text="no bars for the watchlist")]
    if view.pending:
        parts.append(loading_line(f"regime fit running for {', '.join(view.pending)}"))
    if view.failed:
        parts.append(
            empty_line(f"no regime for {', '.join(view.failed)} (history too short or unavailable)")
        )
    return fig, parts


def refresh_heatmap(services: Services) -> tuple[Any, list[Any]]:
    symbols = [s.upper() for s in watchlist_symbols(services)]
    results = run_async(
        services.data.fetch_bars_many(symbols, HEATMAP_TIMEFRAMES, lookback=3), timeout=30
    )
    fits = services.regime.symbol_regimes(symbols)
    return render_heatmap(heatmap_view(results, symbols, fits, datetime.now(UTC)))


def register(app: Dash, services: Services) -> None:
    @app.callback(
        output=REGIME_OUTPUTS,
        inputs=[
            Input("regime-poll", "n_intervals"),
            Input("regime-interval", "n_intervals"),
            Input("regime-range-preset", "value"),
            Input("regime-date-range", "start_date"),
            Input("regime-date-range", "end_date"),
        ],
        state=[State("regime-rendered", "data")],
    )
    def _update(
        _poll: int,
        _tick: int,
        preset: str | None,
        start: str | None,
        end: str | None,
        rendered: str | None,
    ) -> dict[str, Any]:
        return render_regime(services.regime.snapshot(), preset, start, end, rendered)

    @app.callback(
        Output("regime-heatmap", "figure"),
        Output("regime-heatmap-status", "children"),
        Input("regime-interval", "n_intervals"),
        Input("regime-poll", "n_intervals"),
    )
    def _heatmap(_tick: int, _poll: int) -> tuple[Any, Any]:
        return refresh_heatmap(services)

    register_lazy(app, LOWER, lambda: lower_layout(services.settings))
