"""Risk Management tab: heat to stops, VaR/CVaR, greeks exposure, concentration, limits.

The maths is ``analytics/risk.py``; this module gathers the broker's records (one
concurrent round for account, positions, quotes and clock, a second for option
snapshots, daily bars of the held underlyings and the year's equity history), adapts
them to the core's inputs and renders. Stops come from the trade journal when one is
connected; positions without a journal stop are counted at their whole value, and the
screen says so.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from dashboard.analytics.performance import simple_returns
from dashboard.analytics.risk import (
    GreeksRow,
    HeatReport,
    LimitCheck,
    LimitStatus,
    RiskLimits,
    VarReport,
    check_limits,
    concentration,
    greeks_by_underlying,
    greeks_exposure,
    portfolio_heat,
    portfolio_returns,
    underlying_of,
    var_report,
)
from dashboard.components.grids import data_grid
from dashboard.components.portfolio import (
    JournalTradeLike,
    active_trades_by_symbol,
    history_series,
    position_label,
    worst_of,
)
from dashboard.components.status import loading_line, status_line
from dashboard.data_loaders.loop import run_async
from dashboard.models import (
    Account,
    DataResult,
    DataState,
    OptionQuote,
    PortfolioHistory,
    PortfolioSnapshot,
    Position,
    Quote,
)
from dashboard.settings import Settings
from dashboard.visualizations.enhanced_charts import (
    create_greeks_exposure_chart,
    create_heat_chart,
    create_var_histogram,
    empty_figure,
)
from dashboard.visualizations.inputs import GreeksExposure
from dashboard.visualizations.inputs import PositionRisk as HeatBar

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "risk"
TITLE = "Risk Management"

VAR_LOOKBACK = 253  # daily bars: one year of returns
VAR_SOURCES = {
    "positions": "Today's book over 1Y of underlying returns",
    "history": "Account equity history (1A)",
}
_BASIS_TEXT = {
    "stop": "journal stop",
    "no_stop_premium": "no stop: whole premium",
    "no_stop_value": "no stop: whole value",
}
_LIMIT_COLOUR = {
    LimitStatus.GREEN: "success",
    LimitStatus.AMBER: "warning",
    LimitStatus.RED: "danger",
}


# ----------------------------------------------------------------------------- pure helpers


def underlying_prices(
    positions: Sequence[Position], quotes: Mapping[str, Quote]
) -> dict[str, float]:
    """Spot per held underlying: the quote mid, else (for a stock) the position's own
    current price. An option whose underlying has no quote gets no spot."""
    out: dict[str, float] = {}
    for sym, q in quotes.items():
        if q.bid > 0 and q.ask > 0:
            out[sym] = q.mid
    for p in positions:
        if p.asset_class != "us_option" and p.symbol not in out:
            out[p.symbol] = float(p.current_price)
    return out


def journal_stops(
    positions: Sequence[Position],
    trades: Mapping[str, JournalTradeLike] | None,
    prices: Mapping[str, float],
) -> tuple[dict[str, float], list[str]]:
    """Stops (underlying levels) by position symbol, and a note per position without one.

    An option stop needs the underlying's price to reprice at the stop; without it the
    position falls back to its whole premium and the note says why.
    """
    stops: dict[str, float] = {}
    notes: list[str] = []
    for p in positions:
        trade = trades.get(p.symbol) if trades else None
        label = position_label(p)
        if trade is None:
            notes.append(f"{label}: no journal stop")
            continue
        if p.asset_class == "us_option" and underlying_of(p) not in prices:
            notes.append(f"{label}: no {underlying_of(p)} price to reprice at the stop")
            continue
        stops[p.symbol] = float(trade.stop_level)
    return stops, notes


def heat_rows(report: HeatReport, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "symbol": r.symbol,
            "contract": labels.get(r.symbol, r.symbol),
            "underlying": r.underlying,
            "qty": r.qty,
            "market_value": r.market_value,
            "stop": r.stop,
            "value_at_stop": r.value_at_stop,
            "risk": r.risk_dollars,
            "risk_pct": r.risk_pct,
            "basis": _BASIS_TEXT[r.basis] + (f" ({r.note})" if r.note else ""),
        }
        for r in report.positions
    ]


def heat_summary(report: HeatReport, limit_pct: float) -> str:
    """'Heat 3.21% of equity ($3,210.00 to stops), limit 8%.'"""
    if not math.isfinite(report.heat_pct):
        return "Heat unknown: equity is not positive."
    return (
        f"Heat {report.heat_pct:.2f}% of equity (${report.total_risk:,.2f} to stops), "
        f"limit {limit_pct:g}%."
    )


def fallback_note(notes: Sequence[str], journal_connected: bool) -> str:
    """The on-screen statement of how positions without a known stop are counted."""
    if not notes:
        return ""
    how = "counted at their whole market value (an option's whole premium)"
    if not journal_connected:
        return f"Trade journal not connected: every position is {how}."
    return f"{len(notes)} position(s) without a usable stop are {how}: " + "; ".join(notes)


def closes_frame(frames: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Daily closes by underlying, one column each, indexed by New York trading date."""
    cols = {}
    for sym, df in frames.items():
        if df is None or df.empty:
            continue
        dates = df.index.tz_convert("America/New_York").normalize().tz_localize(None)
        cols[sym] = pd.Series(df["close"].to_numpy(dtype=float), index=dates)
    if not cols:
        return pd.DataFrame()
    return pd.DataFrame(cols).sort_index()


def exposures_by_underlying(rows: Sequence[GreeksRow]) -> dict[str, float]:
    """Dollar delta per underlying: what the book earns per 1 = 100% move of each."""
    out: dict[str, float] = {}
    for r in rows:
        out[r.underlying] = out.get(r.underlying, 0.0) + r.dollar_delta
    return out


def _finite(x: Any) -> float | None:
    """JSON has no NaN: unknown numbers travel as null (a blank cell)."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


def var_rows(report: VarReport) -> list[dict[str, Any]]:
    """Rows in % of equity and dollars (VaR/CVaR are positive losses)."""
    df = report.frame()
    return [
        {
            "key": f"{row.method}-{row.confidence:g}",
            "method": row.method,
            "confidence": f"{row.confidence:.0%}",
            "var_pct": _finite(row.var * 100.0),
            "var_dollars": _finite(row.var_dollars),
            "cvar_pct": _finite(row.cvar * 100.0),
            "cvar_dollars": _finite(row.cvar_dollars),
        }
        for row in df.itertuples()
    ]


def greeks_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Net greeks per underlying (``greeks_by_underlying``), NaN shown as blank."""

    clean = _finite

    return [
        {
            "underlying": r["underlying"],
            "delta_shares": clean(r["delta_shares"]),
            "dollar_delta": clean(r["dollar_delta"]),
            "gamma_shares": clean(r["gamma_shares"]),
            "theta_day": clean(r["theta_day"]),
            "vega": clean(r["vega"]),
        }
        for r in table.to_dict("records")
    ]


def greeks_chart_inputs(
    rows: Sequence[GreeksRow], labels: Mapping[str, str]
) -> list[GreeksExposure]:
    """Per-position bars: $ delta, gamma (share delta per $1), theta $/day, vega $/vol pt."""
    return [
        GreeksExposure(
            labels.get(r.symbol, r.symbol), r.dollar_delta, r.gamma_shares, r.theta_day, r.vega
        )
        for r in rows
    ]


def concentration_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "key": f"{r['underlying']}-{r['asset_class']}",
            "underlying": r["underlying"],
            "asset_class": "option" if r["asset_class"] == "us_option" else "stock",
            "market_value": float(r["market_value"]),
            "pct_equity": float(r["pct_equity"]),
            "pct_gross": float(r["pct_gross"]),
        }
        for r in table.to_dict("records")
    ]


def high_water_mark(history: PortfolioHistory | None, equity: float) -> float:
    """The year's highest equity (from Alpaca's history), never below today's equity."""
    if history is None:
        return equity
    s = history_series(history)
    return max(float(s.max()), equity) if not s.empty else equity


def limit_id(name: str) -> str:
    return "risk-limit-" + name.replace("_", "-")


def limits_panel(checks: Sequence[LimitCheck]) -> list[Any]:
    """One line per limit: a coloured badge (computed status) and the sentence why."""
    out = []
    for c in checks:
        value = f"{c.value_pct:.2f}%" if math.isfinite(c.value_pct) else "—"
        out.append(
            html.Div(
                [
                    dbc.Badge(
                        c.status.value.upper(),
                        color=_LIMIT_COLOUR[c.status],
                        id=limit_id(c.name),
                        className="me-2",
                    ),
                    html.Strong(f"{c.label}: {value} / {c.limit_pct:g}%", className="me-2"),
                    html.Span(c.message, className="small text-muted"),
                ],
                className="mb-2",
            )
        )
    return out


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class RiskInputs:
    snapshot: PortfolioSnapshot
    history: DataResult[PortfolioHistory]
    option_quotes: DataResult[dict[str, OptionQuote]]
    bars: dict[str, DataResult[pd.DataFrame]]
    trades: dict[str, JournalTradeLike] | None


def _held(positions: Sequence[Position]) -> tuple[list[str], list[str]]:
    """(option symbols, underlyings) of the positions."""
    options = sorted(p.symbol for p in positions if p.asset_class == "us_option")
    return options, sorted({underlying_of(p) for p in positions})


def gather_risk_inputs(services: Services) -> RiskInputs:
    """One concurrent round: what is held (and the year's equity) together with what
    depends on it (option snapshots and daily bars of every held underlying) for the last
    known holdings; only a changed holding costs a second round."""
    data = services.data

    def dependents(options: list[str], unders: list[str]) -> Awaitable[tuple[Any, Any]]:
        return asyncio.gather(
            data.fetch_option_quotes(options), data.fetch_bars_many(unders, ["1Day"], VAR_LOOKBACK)
        )

    guess = _held(data.positions_hint())

    async def read() -> tuple[PortfolioSnapshot, DataResult[PortfolioHistory], Any, Any]:
        snap, history, (oq, bars) = await asyncio.gather(
            data.fetch_portfolio_data(),
            data.fetch_portfolio_history("1A", "1D"),
            dependents(*guess),
        )
        held = _held(snap.positions.value or ())
        if held != guess:
            oq, bars = await dependents(*held)
        return snap, history, oq, bars

    snap, history, oq, bars = run_async(read())
    trades = active_trades_by_symbol(services.extras.get("journal"))
    return RiskInputs(
        snapshot=snap,
        history=history,
        option_quotes=oq,
        bars={sym: res for (sym, _tf), res in bars.items()},
        trades=trades,
    )


# ----------------------------------------------------------------------------- view


@dataclass(frozen=True, slots=True)
class RiskView:
    heat_figure: go.Figure
    heat_summary: str
    heat_note: str
    heat_rows: list[dict[str, Any]]
    heat_status: DataResult[Any]
    var_figure: go.Figure
    var_rows: list[dict[str, Any]]
    var_note: str
    var_status: DataResult[Any]
    greeks_figure: go.Figure
    greeks_rows: list[dict[str, Any]]
    greeks_note: str
    greeks_status: DataResult[Any]
    concentration_rows: list[dict[str, Any]]
    concentration_status: DataResult[Any]
    limits: tuple[LimitCheck, ...]
    limits_status: DataResult[Any]


def _error_result(message: str, source: str) -> DataResult[Any]:
    return DataResult(None, source, datetime.now(UTC), DataState.ERROR, message)


def build_risk_view(
    inputs: RiskInputs, settings: Settings, var_source: str = "positions"
) -> RiskView:
    """Every block of the tab from one set of inputs (pure: no I/O here)."""
    snap = inputs.snapshot
    account: Account | None = snap.account.value
    positions = tuple(snap.positions.value or ())
    now = snap.clock.value.timestamp if snap.clock.value else datetime.now(UTC)
    equity = float(account.equity) if account else math.nan
    limit = float(settings.heat_limit_pct)
    labels = {p.symbol: position_label(p) for p in positions}
    prices = underlying_prices(positions, snap.quotes.value or {})
    oq = inputs.option_quotes.value or {}
    ivs = {s: q.iv for s, q in oq.items() if q.iv}

    # Heat ---------------------------------------------------------------------------
    heat_status = worst_of(snap.account, snap.positions, snap.quotes)
    report: HeatReport | None = None
    if account is None or snap.positions.value is None:
        heat_fig = empty_figure("account or positions unavailable", kind="error")
        summary, note, hrows = "Heat unknown: account or positions unavailable.", "", []
    else:
        stops, notes = journal_stops(positions, inputs.trades, prices)
        report = portfolio_heat(
            positions, equity=equity, now=now, stops=stops, underlying_prices=prices, ivs=ivs
        )
        heat_fig = create_heat_chart(
            [HeatBar(labels[r.symbol], r.risk_dollars) for r in report.positions],
            equity=equity,
            limit_pct=limit,
            uirevision="risk-heat",
        )
        summary = heat_summary(report, limit)
        note = fallback_note(notes, inputs.trades is not None)
        hrows = heat_rows(report, labels)

    # Greeks -------------------------------------------------------------------------
    priced = [p for p in positions if underlying_of(p) in prices]
    missing = sorted({underlying_of(p) for p in positions if underlying_of(p) not in prices})
    grows = greeks_exposure(priced, underlying_prices=prices, now=now, quotes=oq, ivs=ivs)
    greeks_note = f"no price for {', '.join(missing)}: not included" if missing else ""
    if any(r.source == "model" for r in grows):
        greeks_note = (greeks_note + "; " if greeks_note else "") + (
            "some option greeks are Black-Scholes at the implied vol (no broker greeks)"
        )
    greeks_status = worst_of(snap.positions, snap.quotes, inputs.option_quotes)
    if snap.positions.value is None:
        greeks_fig = empty_figure("positions unavailable", kind="error")
    else:
        greeks_fig = create_greeks_exposure_chart(
            greeks_chart_inputs(grows, labels), uirevision="risk-greeks"
        )

    # VaR ----------------------------------------------------------------------------
    var_fig, vrows, var_note, var_status = _var_block(inputs, grows, equity, var_source)

    # Concentration ------------------------------------------------------------------
    conc = concentration(positions, equity) if account else None
    crows = concentration_rows(conc) if conc is not None else []
    conc_status = worst_of(snap.account, snap.positions)

    # Limits -------------------------------------------------------------------------
    checks: tuple[LimitCheck, ...] = ()
    if account is not None and report is not None and conc is not None:
        top = conc.iloc[0] if not conc.empty else None
        checks = check_limits(
            heat_pct=report.heat_pct,
            largest_position_pct=float(top["pct_equity"]) if top is not None else 0.0,
            largest_position=str(top["underlying"]) if top is not None else None,
            equity=equity,
            last_equity=float(account.last_equity),
            high_water_mark=high_water_mark(inputs.history.value, equity),
            limits=RiskLimits.from_settings(settings),
        )
    return RiskView(
        heat_fig,
        summary,
        note,
        hrows,
        heat_status,
        var_fig,
        vrows,
        var_note,
        var_status,
        greeks_fig,
        greeks_rows(greeks_by_underlying(grows)),
        greeks_note,
        greeks_status,
        crows,
        conc_status,
        checks,
        worst_of(snap.account, snap.positions, inputs.history),
    )


def _var_block(
    inputs: RiskInputs, grows: Sequence[GreeksRow], equity: float, source: str
) -> tuple[go.Figure, list[dict[str, Any]], str, DataResult[Any]]:
    """1-day VaR/CVaR of the chosen return series, with the $ P&L distribution."""
    snap = inputs.snapshot
    if not math.isfinite(equity) or equity <= 0:
        err = snap.account if snap.account.value is None else _error_result("equity ≤ 0", "")
        return empty_figure("equity unavailable", kind="error"), [], "", err
    if source == "history":
        status = inputs.history
        if inputs.history.value is None:
            return empty_figure("equity history unavailable", kind="error"), [], "", status
        returns = simple_returns(history_series(inputs.history.value))
        note = "daily returns of the account's equity over the last year"
    else:
        exposures = exposures_by_underlying(grows)
        frames = {s: inputs.bars[s].value if s in inputs.bars else None for s in exposures}
        bar_results = [inputs.bars[s] for s in exposures if s in inputs.bars]
        status = worst_of(snap.positions, *bar_results) if bar_results else snap.positions
        if not exposures:
            return empty_figure("No open positions", uirevision="risk-var"), [], "", status
        closes = closes_frame(frames)
        lacking = [s for s in exposures if s not in closes.columns]
        if lacking:
            msg = f"no daily bars for {', '.join(lacking)}"
            return empty_figure(msg, kind="error"), [], msg, status
        returns = portfolio_returns(exposures, closes, equity)
        note = f"today's dollar deltas replayed over {len(returns)} daily returns of " + ", ".join(
            sorted(exposures)
        )
    report = var_report(returns, equity)
    if report.observations < 2:
        msg = f"{report.observations} return(s): too few for VaR"
        return empty_figure(msg, uirevision="risk-var"), var_rows(report), msg, status
    hist95 = report.frame().query("method == 'historical' and confidence == 0.95").iloc[0]
    fig = create_var_histogram(
        returns.to_numpy() * equity,
        var=float(hist95["var_dollars"]),
        cvar=float(hist95["cvar_dollars"]),
        confidence=0.95,
        title="1-day P&L distribution (historical 95%)",
        uirevision=f"risk-var-{source}",
    )
    return fig, var_rows(report), note, status


# ----------------------------------------------------------------------------- layout


def _money(field: str, header: str, **extra: Any) -> dict[str, Any]:
    return {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "valueFormatter": {
            "function": "params.value == null ? '' : d3.format('$,.2f')(params.value)"
        },
        **extra,
    }


def _num(field: str, header: str, fmt: str = ",.2f", **extra: Any) -> dict[str, Any]:
    return {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "valueFormatter": {
            "function": f"params.value == null ? '' : d3.format('{fmt}')(params.value)"
        },
        **extra,
    }


HEAT_COLUMNS = [
    {"field": "contract", "headerName": "Position", "minWidth": 150, "pinned": "left"},
    _num("qty", "Qty", ",.4~f", width=80),
    _money("market_value", "Mkt value", width=110),
    _num("stop", "Stop (und.)", ",.2f", width=100),
    _money("value_at_stop", "Value at stop", width=115),
    _money("risk", "Risk $", width=105, sort="desc"),
    _num("risk_pct", "Risk % eq.", ".2f", width=100),
    {"field": "basis", "headerName": "Basis", "minWidth": 170},
]
VAR_COLUMNS = [
    {"field": "method", "headerName": "Method", "width": 110},
    {"field": "confidence", "headerName": "Conf.", "width": 80},
    _num("var_pct", "VaR %", ".2f", width=90),
    _money("var_dollars", "VaR $", width=110),
    _num("cvar_pct", "CVaR %", ".2f", width=90),
    _money("cvar_dollars", "CVaR $", width=110),
]
GREEKS_COLUMNS = [
    {"field": "underlying", "headerName": "Underlying", "width": 110},
    _num("delta_shares", "Δ shares", ",.1f", width=100),
    _money("dollar_delta", "$ delta", width=115),
    _num("gamma_shares", "Γ shares/$", ",.2f", width=105),
    _money("theta_day", "Θ $/day", width=105),
    _money("vega", "Vega $/pt", width=105),
]
CONC_COLUMNS = [
    {"field": "underlying", "headerName": "Underlying", "width": 110},
    {"field": "asset_class", "headerName": "Class", "width": 85},
    _money("market_value", "Gross value", width=120),
    _num("pct_equity", "% equity", ".2f", width=100, sort="desc"),
    _num("pct_gross", "% of book", ".2f", width=100),
]


def _card(title: str, body: list[Any], status_id: str, extra: Any = None) -> dbc.Card:
    header: list[Any] = [html.Span(title)]
    if extra is not None:
        header.append(extra)
    return dbc.Card(
        [
            dbc.CardHeader(header, className="d-flex flex-wrap gap-2 align-items-center"),
            dbc.CardBody([*body, html.Div(loading_line(), id=status_id, className="mt-1")]),
        ],
        className="mb-3",
    )


def _graph(id_: str, height: str = "320px") -> dcc.Graph:
    return dcc.Graph(
        id=id_,
        figure=empty_figure("loading…", kind="loading"),
        config={"displaylogo": False, "responsive": True},
        style={"height": height},
    )


def layout(settings: Settings) -> html.Div:
    var_source = dbc.Select(
        id="risk-var-source",
        options=[{"label": v, "value": k} for k, v in VAR_SOURCES.items()],
        value="positions",
        size="sm",
        style={"maxWidth": "20rem"},
    )
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            f"Portfolio heat to stops (limit {settings.heat_limit_pct:g}%)",
                            [
                                html.Div(id="risk-heat-summary", className="fw-semibold"),
                                html.Div(id="risk-heat-note", className="small text-warning"),
                                _graph("risk-heat-chart", "280px"),
                                data_grid(
                                    "risk-heat-grid",
                                    HEAT_COLUMNS,
                                    "220px",
                                    getRowId="params.data.symbol",
                                ),
                            ],
                            "risk-heat-status",
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        _card(
                            "Limits",
                            [html.Div(id="risk-limits")],
                            "risk-limits-status",
                        ),
                        xs=12,
                        lg=5,
                    ),
                ],
                className="mt-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Value at risk (1 day)",
                            [
                                html.Div(id="risk-var-note", className="small text-muted"),
                                _graph("risk-var-chart", "280px"),
                                data_grid(
                                    "risk-var-grid",
                                    VAR_COLUMNS,
                                    "180px",
                                    getRowId="params.data.key",
                                ),
                            ],
                            "risk-var-status",
                            var_source,
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        _card(
                            "Greeks exposure",
                            [
                                html.Div(id="risk-greeks-note", className="small text-muted"),
                                _graph("risk-greeks-chart", "280px"),
                                data_grid(
                                    "risk-greeks-grid",
                                    GREEKS_COLUMNS,
                                    "180px",
                                    getRowId="params.data.underlying",
                                ),
                            ],
                            "risk-greeks-status",
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
            ),
            _card(
                "Concentration by underlying",
                [
                    data_grid(
                        "risk-concentration-grid",
                        CONC_COLUMNS,
                        "220px",
                        getRowId="params.data.key",
                    ),
                ],
                "risk-concentration-status",
            ),
        ],
        id=f"{TAB_ID}-root",
    )


def register_callbacks(app: Dash, services: Services) -> None:
    @app.callback(
        Output("risk-heat-chart", "figure"),
        Output("risk-heat-summary", "children"),
        Output("risk-heat-note", "children"),
        Output("risk-heat-grid", "rowData"),
        Output("risk-heat-status", "children"),
        Output("risk-var-chart", "figure"),
        Output("risk-var-grid", "rowData"),
        Output("risk-var-note", "children"),
        Output("risk-var-status", "children"),
        Output("risk-greeks-chart", "figure"),
        Output("risk-greeks-grid", "rowData"),
        Output("risk-greeks-note", "children"),
        Output("risk-greeks-status", "children"),
        Output("risk-concentration-grid", "rowData"),
        Output("risk-concentration-status", "children"),
        Output("risk-limits", "children"),
        Output("risk-limits-status", "children"),
        Input("risk-interval", "n_intervals"),
        Input("risk-var-source", "value"),
    )
    def refresh_risk(_n: int | None, var_source: str | None) -> tuple[Any, ...]:
        v = build_risk_view(gather_risk_inputs(services), services.settings, var_source or "")
        limits = limits_panel(v.limits) or [
            html.Div("Limits unknown: account or positions unavailable.", className="text-danger")
        ]
        return (
            v.heat_figure,
            v.heat_summary,
            v.heat_note,
            v.heat_rows,
            status_line(v.heat_status, empty_text="no open positions"),
            v.var_figure,
            v.var_rows,
            v.var_note,
            status_line(v.var_status, empty_text="no open positions"),
            v.greeks_figure,
            v.greeks_rows,
            v.greeks_note,
            status_line(v.greeks_status, empty_text="no option positions"),
            v.concentration_rows,
            status_line(v.concentration_status, empty_text="no open positions"),
            limits,
            status_line(v.limits_status),
        )


__all__ = [
    "TAB_ID",
    "TITLE",
    "VAR_SOURCES",
    "RiskInputs",
    "RiskView",
    "build_risk_view",
    "closes_frame",
    "concentration_rows",
    "exposures_by_underlying",
    "fallback_note",
    "gather_risk_inputs",
    "greeks_chart_inputs",
    "greeks_rows",
    "heat_rows",
    "heat_summary",
    "high_water_mark",
    "journal_stops",
    "layout",
    "limit_id",
    "limits_panel",
    "register_callbacks",
    "underlying_prices",
    "var_rows",
]
