"""Risk Management view: heat to stops, VaR/CVaR, greeks exposure, concentration and the
limit checks, from the broker's records and the journal's stops.

The maths is ``analytics/risk.py``; this module adapts the records to its inputs and
shapes its results for the tab. Positions without a journal stop are counted at their
whole value, and the view says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analytics.performance import simple_returns
from dashboard.analytics.risk import (
    GreeksRow,
    HeatReport,
    LimitCheck,
    RiskLimits,
    book_greeks,
    check_limits,
    concentration,
    greeks_exposure,
    greeks_per_underlying,
    portfolio_heat,
)
from dashboard.analytics.var import (
    FullRevaluationReport,
    VarReport,
    full_revaluation_var,
    var_report,
)
from dashboard.conventions import NEW_YORK, RISK_FREE_RATE
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
from dashboard.options.occ import contract_label, underlying_of
from dashboard.views.formatting import worst_of
from dashboard.views.portfolio import JournalTradeLike, history_series
from dashboard.views.read_notes import (
    asset_class_label,
    option_risk_positions,
    outside_option_risk_note,
)
from dashboard.views.states import Blank
from dashboard.visualizations.inputs import GreeksExposure, PositionRisk

VAR_LOOKBACK = 253  # daily bars: one year of returns
VAR_SOURCES = {
    "positions": "Today's book over 1Y of underlying returns",
    "history": "Account equity history (1Y)",
}
_BASIS_TEXT = {
    "stop": "journal stop",
    "no_stop_premium": "no stop: whole premium",
    "no_stop_value": "no stop: whole value",
}


@dataclass(frozen=True, slots=True)
class HeatChart:
    bars: list[PositionRisk]
    equity: float
    limit_pct: float


@dataclass(frozen=True, slots=True, eq=False)
class VarChart:
    """The 1-day P&L distribution in dollars with the historical VaR and CVaR marked."""

    pnl: np.ndarray
    var: float
    cvar: float
    confidence: float
    source: str  # which return series ("positions" or "history")


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
        label = contract_label(p.symbol, p.asset_class)
        if trade is None:
            notes.append(f"{label}: no journal stop")
            continue
        if p.asset_class == "us_option" and underlying_of(p.symbol, p.asset_class) not in prices:
            notes.append(
                f"{label}: no {underlying_of(p.symbol, p.asset_class)} price to reprice at the stop"
            )
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
        dates = pd.DatetimeIndex(df.index).tz_convert(NEW_YORK).normalize().tz_localize(None)
        cols[sym] = pd.Series(df["close"].to_numpy(dtype=float), index=dates)
    if not cols:
        return pd.DataFrame()
    return pd.DataFrame(cols).sort_index()


def _finite(x: Any) -> float | None:
    """JSON has no NaN: unknown numbers travel as null (a blank cell)."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


def revaluation_rows(report: FullRevaluationReport) -> list[dict[str, Any]]:
    """Full-revaluation rows first, then the delta approximations as a comparison."""
    order = {"full_revaluation": 0, "delta": 1}
    rows = sorted(report.rows, key=lambda r: (order[r.model], r.method, r.confidence))
    return [
        {
            "key": f"{r.model}-{r.method}-{r.confidence:g}",
            "method": r.label if r.model == "full_revaluation" else f"Comparison: {r.label}",
            "confidence": f"{r.confidence:.0%}",
            "var_pct": _finite(r.var_pct),
            "var_dollars": _finite(r.var_dollars),
            "cvar_pct": _finite(r.cvar_pct),
            "cvar_dollars": _finite(r.cvar_dollars),
        }
        for r in rows
    ]


def revaluation_note(report: FullRevaluationReport) -> str:
    """What the book can lose at most, the report's notes, then every assumption."""
    bound = (
        f"Most this book can lose: ${report.max_loss:,.2f}."
        if report.max_loss is not None
        else "Short positions: loss not bounded."
    )
    return " ".join((bound, *report.notes, *report.assumptions))


def horizon_days(now: datetime, next_open: datetime | None) -> float:
    """Calendar days the options decay over one trading day: to the next session's date
    (3 over a weekend), at least 1."""
    if next_open is None:
        return 1.0
    days = (next_open.astimezone(NEW_YORK).date() - now.astimezone(NEW_YORK).date()).days
    return float(max(days, 1))


def var_rows(report: VarReport) -> list[dict[str, Any]]:
    """Rows in % of equity and dollars (VaR/CVaR are positive losses)."""
    return [
        {
            "key": f"{row['method']}-{row['confidence']:g}",
            "method": row["method"],
            "confidence": f"{row['confidence']:.0%}",
            "var_pct": _finite(float(row["var"]) * 100.0),
            "var_dollars": _finite(row["var_dollars"]),
            "cvar_pct": _finite(float(row["cvar"]) * 100.0),
            "cvar_dollars": _finite(row["cvar_dollars"]),
        }
        for row in report.frame().to_dict("records")
    ]


GAMMA_NOTE = (
    "Gamma is per underlying, in shares of delta per $1 move of that underlying: a $1 move "
    "means something different for each stock, so gamma is never added."
)
TOTAL_ROW = "Book total"


def greeks_rows(rows: Sequence[GreeksRow]) -> list[dict[str, Any]]:
    """Net greeks per underlying, then the book total of the greeks that add ($ delta,
    theta, vega); the total has no gamma and no share delta. NaN shows as blank."""
    out: list[dict[str, Any]] = [
        {
            "underlying": u.underlying,
            "spot": _finite(u.spot),
            "positions": u.positions,
            "delta_shares": _finite(u.delta_shares),
            "dollar_delta": _finite(u.dollar_delta),
            "gamma_shares": _finite(u.gamma_shares),
            "theta_day": _finite(u.theta_day),
            "vega": _finite(u.vega),
        }
        for u in greeks_per_underlying(rows)
    ]
    if out:
        total = book_greeks(rows)
        out.append(
            {
                "underlying": TOTAL_ROW,
                "positions": sum(r["positions"] for r in out),
                "dollar_delta": _finite(total.dollar_delta),
                "theta_day": _finite(total.theta_day),
                "vega": _finite(total.vega),
            }
        )
    return out


def greeks_chart_inputs(rows: Sequence[GreeksRow]) -> list[GreeksExposure]:
    """Per-underlying bars: $ delta, gamma (shares of delta per $1 of that underlying),
    theta $/day, vega $/vol pt."""
    return [
        GreeksExposure(u.underlying, u.dollar_delta, u.gamma_shares, u.theta_day, u.vega)
        for u in greeks_per_underlying(rows)
    ]


def concentration_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "key": f"{r['underlying']}-{r['asset_class']}",
            "underlying": r["underlying"],
            "asset_class": asset_class_label(r["asset_class"]),
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


@dataclass(frozen=True, slots=True)
class RiskInputs:
    snapshot: PortfolioSnapshot
    history: DataResult[PortfolioHistory]
    option_quotes: DataResult[dict[str, OptionQuote]]
    bars: dict[str, DataResult[pd.DataFrame]]
    trades: dict[str, JournalTradeLike] | None
    read_at: datetime  # when the reads were made: the as-of of a computed error


@dataclass(frozen=True, slots=True)
class RiskView:
    heat_chart: HeatChart | Blank
    heat_summary: str
    heat_note: str
    heat_rows: list[dict[str, Any]]
    heat_status: DataResult[Any]
    var_chart: VarChart | Blank
    var_rows: list[dict[str, Any]]
    var_note: str
    var_status: DataResult[Any]
    greeks_chart: list[GreeksExposure] | Blank
    greeks_rows: list[dict[str, Any]]
    greeks_note: str
    greeks_status: DataResult[Any]
    concentration_rows: list[dict[str, Any]]
    concentration_status: DataResult[Any]
    limits: tuple[LimitCheck, ...]
    limits_status: DataResult[Any]


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _error_result(message: str, source: str, as_of: datetime) -> DataResult[Any]:
    return DataResult(None, source, as_of, DataState.ERROR, message)


def risk_view(
    inputs: RiskInputs, limits: RiskLimits, var_source: str = "positions", *, exposure: bool = True
) -> RiskView:
    """Every block of the tab from one set of inputs. ``exposure=False`` leaves out the
    greeks and VaR blocks (the costly ones: full revaluation), for a caller that shows
    only heat, concentration and limits; their fields are then "not computed" blanks."""
    snap = inputs.snapshot
    account: Account | None = snap.account.value
    held = tuple(snap.positions.value or ())
    # Heat, greeks and VaR price US stocks and options; others (crypto) are named instead.
    positions = option_risk_positions(held)
    outside = outside_option_risk_note(held)
    now = snap.clock.value.timestamp if snap.clock.value else inputs.read_at
    equity = float(account.equity) if account else math.nan
    limit = limits.heat_limit_pct
    labels = {p.symbol: contract_label(p.symbol, p.asset_class) for p in positions}
    prices = underlying_prices(positions, snap.quotes.value or {})
    oq = inputs.option_quotes.value or {}
    ivs = {s: q.iv for s, q in oq.items() if q.iv}

    # Heat ---------------------------------------------------------------------------
    heat_status = worst_of(snap.account, snap.positions, snap.quotes)
    report: HeatReport | None = None
    if account is None or snap.positions.value is None:
        heat_chart: HeatChart | Blank = Blank("account or positions unavailable", "error")
        summary, note, hrows = "Heat unknown: account or positions unavailable.", "", []
    else:
        stops, notes = journal_stops(positions, inputs.trades, prices)
        report = portfolio_heat(
            positions, equity=equity, now=now, stops=stops, underlying_prices=prices, ivs=ivs
        )
        heat_chart = HeatChart(
            [PositionRisk(labels[r.symbol], r.risk_dollars) for r in report.positions],
            equity=equity,
            limit_pct=limit,
        )
        summary = heat_summary(report, limit)
        note = _joined(fallback_note(notes, inputs.trades is not None), outside)
        hrows = heat_rows(report, labels)

    priced = [p for p in positions if underlying_of(p.symbol, p.asset_class) in prices]
    if exposure:
        greeks_chart, grows, greeks_note, greeks_status = _greeks_block(
            inputs, positions, priced, prices, oq, ivs, outside, now
        )
        var_chart, vrows, var_note, var_status = _var_block(
            inputs, priced, prices, ivs, equity, var_source, now
        )
        if var_source != "history":
            var_note = _joined(var_note, outside)
    else:
        skipped = Blank("not computed", "loading")
        greeks_chart, grows, greeks_note, greeks_status = skipped, (), "", snap.positions
        var_chart, vrows, var_note, var_status = skipped, [], "", snap.positions

    # Concentration ------------------------------------------------------------------
    conc = concentration(held, equity) if account else None  # by value: crypto too
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
            limits=limits,
        )
    return RiskView(
        heat_chart,
        summary,
        note,
        hrows,
        heat_status,
        var_chart,
        vrows,
        var_note,
        var_status,
        greeks_chart,
        greeks_rows(grows),
        greeks_note,
        greeks_status,
        crows,
        conc_status,
        checks,
        worst_of(snap.account, snap.positions, inputs.history),
    )


def _greeks_block(
    inputs: RiskInputs,
    positions: Sequence[Position],
    priced: Sequence[Position],
    prices: Mapping[str, float],
    oq: Mapping[str, OptionQuote],
    ivs: Mapping[str, float],
    outside: str,
    now: datetime,
) -> tuple[list[GreeksExposure] | Blank, Sequence[GreeksRow], str, DataResult[Any]]:
    snap = inputs.snapshot
    missing = sorted(
        {
            underlying_of(p.symbol, p.asset_class)
            for p in positions
            if underlying_of(p.symbol, p.asset_class) not in prices
        }
    )
    grows = greeks_exposure(priced, underlying_prices=prices, now=now, quotes=oq, ivs=ivs)
    note = f"no price for {', '.join(missing)}: not included" if missing else ""
    if any(r.source == "model" for r in grows):
        note = (note + "; " if note else "") + (
            "some option greeks are Black-Scholes at the implied vol (no broker greeks)"
        )
    note = _joined(_joined(note, outside), GAMMA_NOTE if grows else "")
    status = worst_of(snap.positions, snap.quotes, inputs.option_quotes)
    if snap.positions.value is None:
        return Blank("positions unavailable", "error"), grows, note, status
    return greeks_chart_inputs(grows), grows, note, status


def _revaluation_block(
    inputs: RiskInputs,
    priced: Sequence[Position],
    prices: Mapping[str, float],
    ivs: Mapping[str, float],
    equity: float,
    now: datetime,
) -> tuple[VarChart | Blank, list[dict[str, Any]], str, DataResult[Any]]:
    """1-day VaR/CVaR of today's book by full revaluation over a year of its underlyings'
    daily returns, with the delta approximations beside it."""
    snap = inputs.snapshot
    unders = sorted({underlying_of(p.symbol, p.asset_class) for p in priced})
    frames = {s: inputs.bars[s].value if s in inputs.bars else None for s in unders}
    bar_results = [inputs.bars[s] for s in unders if s in inputs.bars]
    status = worst_of(snap.positions, *bar_results) if bar_results else snap.positions
    if not unders:
        return Blank("No open positions"), [], "", status
    closes = closes_frame(frames)
    lacking = [s for s in unders if s not in closes.columns]
    if lacking:
        msg = f"no daily bars for {', '.join(lacking)}"
        return Blank(msg, "error"), [], msg, status
    clock = snap.clock.value
    report = full_revaluation_var(
        priced,
        closes,
        equity=equity,
        now=now,
        underlying_prices=prices,
        ivs=ivs,
        rate=RISK_FREE_RATE,
        horizon_days=horizon_days(now, clock.next_open if clock else None),
    )
    note = revaluation_note(report)
    if report.observations < 2:
        msg = f"{report.observations} return(s): too few for VaR"
        return Blank(msg), revaluation_rows(report), msg, status
    full95 = report.row("full_revaluation", "historical", 0.95)
    chart = VarChart(
        report.historical_pnl,
        var=full95.var_dollars,
        cvar=full95.cvar_dollars,
        confidence=0.95,
        source="positions",
    )
    return chart, revaluation_rows(report), note, status


def _var_block(
    inputs: RiskInputs,
    priced: Sequence[Position],
    prices: Mapping[str, float],
    ivs: Mapping[str, float],
    equity: float,
    source: str,
    now: datetime,
) -> tuple[VarChart | Blank, list[dict[str, Any]], str, DataResult[Any]]:
    """1-day VaR/CVaR of the chosen source: today's book by full revaluation, or the
    account's own equity returns; with the $ P&L distribution."""
    snap = inputs.snapshot
    if not math.isfinite(equity) or equity <= 0:
        err = snap.account if snap.account.value is None else _error_result("equity ≤ 0", "", now)
        return Blank("equity unavailable", "error"), [], "", err
    status: DataResult[Any]
    if source == "history":
        status = inputs.history
        if inputs.history.value is None:
            return Blank("equity history unavailable", "error"), [], "", status
        returns = simple_returns(history_series(inputs.history.value))
        note = "daily returns of the account's equity over the last year"
    else:
        return _revaluation_block(inputs, priced, prices, ivs, equity, now)
    report = var_report(returns, equity)
    if report.observations < 2:
        msg = f"{report.observations} return(s): too few for VaR"
        return Blank(msg), var_rows(report), msg, status
    hist95 = report.frame().query("method == 'historical' and confidence == 0.95").iloc[0]
    chart = VarChart(
        returns.to_numpy() * equity,
        var=float(hist95["var_dollars"]),
        cvar=float(hist95["cvar_dollars"]),
        confidence=0.95,
        source=source,
    )
    return chart, var_rows(report), note, status
