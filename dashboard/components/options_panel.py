"""Options Trading tab: STRAT signals → order ticket → journal → monitored exit.

Callbacks are thin: they gather inputs, call the core (scanner, contract selection,
validation, projection) or the trading shell, and render. The layout lives in
``options_layout.py`` because it is long and has no logic.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components import options_layout
from dashboard.components.formatting import format_money
from dashboard.components.status import empty_line, format_et, status_line
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import DataResult, DataState, OptionChain, OptionQuote
from dashboard.options.expiry import days_to_expiry, years_to_expiry
from dashboard.options.occ import build_occ, display_occ, format_strike
from dashboard.options.projection import expected_hold_days, project_trade
from dashboard.options.selection import (
    DEFAULT_DTE_BY_TIMEFRAME,
    ContractChoice,
    normalize_timeframe,
    select_contract,
)
from dashboard.settings import Settings
from dashboard.signal_scan import scan_signals
from dashboard.trading.ticket import round_to_tick, validate_ticket

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "options"
TITLE = "Options Trading"

TICKET_FIELDS = ("symbol", "direction", "contracts", "expiry", "strike", "limit")
LEVEL_FIELDS = ("entry", "target", "stop")
FLOW_EXPIRIES = 4  # the nearest expiries carry most of the volume


def layout(settings: Settings) -> Any:
    return options_layout.layout(settings)


# ---------------------------------------------------------------- pure view helpers


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:,.{digits}f}"


def signal_grid_rows(rows: Any, category: str) -> list[dict[str, Any]]:
    """Grid rows from ``SignalRow``s; hidden fields carry what the ticket needs."""
    out: list[dict[str, Any]] = []
    for r in rows:
        if category != "all" and r.category != category:
            continue
        out.append(
            {
                "id": r.id,
                "category": r.category,
                "symbol": r.symbol,
                "timeframe": r.timeframe,
                "label": r.label,
                "pattern": r.pattern,
                "direction": r.direction,
                "status": r.status,
                "entry": round(r.entry, 2),
                "stop": round(r.stop, 2),
                "target1": None if r.target1 is None else round(r.target1, 2),
                "target2": None if r.target2 is None else round(r.target2, 2),
                "rr": None if r.reward_risk is None else round(r.reward_risk, 2),
                "tfc": r.tfc_text,
                "magnitude": None if r.magnitude_pct is None else round(r.magnitude_pct, 2),
                "triggered": format_et(r.triggered_at, "%m-%d %H:%M") if r.triggered_at else "",
                "price": round(r.price, 2),
                "entry_rule": r.entry_rule,
                "stop_rule": r.stop_rule,
                "target_rule": r.target_rule or "",
                "plan_tfc": r.tfc_label,  # journaled with the trade
                "plan_rules": r.rules_text,
            }
        )
    return out


def chain_expiries(chain: OptionChain, now: datetime) -> list[date]:
    listed = chain.expiries or tuple({q.contract.expiry for q in chain.quotes})
    return sorted(e for e in set(listed) if days_to_expiry(e, now) >= 0)


def chain_strikes(chain: OptionChain, expiry: date, right: str) -> list[Decimal]:
    return sorted(
        {
            q.contract.strike
            for q in chain.quotes
            if q.contract.expiry == expiry and q.contract.right == right
        }
    )


def find_quote(chain: OptionChain, symbol: str) -> OptionQuote | None:
    return next((q for q in chain.quotes if q.contract.symbol == symbol), None)


def suggested_limit(quote: OptionQuote) -> float | None:
    """The mid, rounded up to the contract's tick: a fair limit for a buy."""
    mid = quote.mid
    if mid is None:
        return None
    # str() first: Decimal(float) would carry the float's binary noise onto the tick grid.
    return float(round_to_tick(quote.contract.underlying, Decimal(str(round(mid, 6))), down=False))


def expiry_options(expiries: list[date], now: datetime) -> list[dict[str, str]]:
    return [
        {"label": f"{e:%a %b %d '%y} ({days_to_expiry(e, now)} DTE)", "value": e.isoformat()}
        for e in expiries
    ]


def strike_options(strikes: list[Decimal], spot: float | None) -> list[dict[str, str]]:
    out = []
    for k in strikes:
        tag = ""
        if spot:
            tag = " (ITM)" if float(k) < spot else ""
        out.append({"label": f"${format_strike(k)}{tag}", "value": format_strike(k)})
    return out


def selection_expiries(
    expiries: list[date], timeframe: str, now: datetime, most: int = 3
) -> list[date]:
    """Expiries worth fetching for a signal: inside the timeframe's DTE window, nearest the
    window's middle first; if none is inside, the nearest one beyond it."""
    lo, hi = DEFAULT_DTE_BY_TIMEFRAME.get(normalize_timeframe(timeframe), (14, 45))
    mid = (lo + hi) / 2
    inside = [e for e in expiries if lo <= days_to_expiry(e, now) <= hi]
    if inside:
        return sorted(inside, key=lambda e: abs(days_to_expiry(e, now) - mid))[:most]
    longer = [e for e in expiries if days_to_expiry(e, now) > hi]
    return longer[:1]


async def _gather_chains(data: Any, symbol: str, expiries: list[date]) -> list[Any]:
    return list(await asyncio.gather(*(data.fetch_option_chain(symbol, e) for e in expiries)))


def _parse_expiry(expiry: str | date | None) -> date | None:
    if isinstance(expiry, str):
        try:
            return date.fromisoformat(expiry)
        except ValueError:
            return None
    return expiry


class Reads:
    """A callback's upstream reads as one ``run_async`` round: every extra round trip is
    one more upstream latency on the refresh (issue 13), so the broker clock is read in
    the same gather as the data it qualifies."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def chain(self, symbol: str, expiry: str | date | None = None) -> Awaitable[Any]:
        return self.data.fetch_option_chain(symbol, _parse_expiry(expiry))

    def with_now(self, *reads: Awaitable[Any] | None) -> tuple[Any, ...]:
        """The reads' results, then the broker's time (wall time if the clock failed)."""
        *values, clock = run_all(*reads, self.data.fetch_clock())
        now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
        return (*values, now)

    def chain_for_signal(
        self, symbol: str, timeframe: str
    ) -> tuple[DataResult[OptionChain], datetime]:
        """The chains of the expiries in the timeframe's DTE window, merged for selection
        (two rounds: the expiry list and the clock, then the chains together)."""
        data = self.data

        async def read() -> tuple[DataResult[OptionChain], datetime]:
            listed, clock = await asyncio.gather(data.listed_expiries(symbol), data.fetch_clock())
            now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
            upcoming = sorted(e for e in set(listed) if days_to_expiry(e, now) >= 0)
            picks = selection_expiries(upcoming, timeframe, now)
            if not picks:
                return await data.fetch_option_chain(symbol), now
            results = await _gather_chains(data, symbol, picks)
            good = [r.value for r in results if r.value is not None]
            if not good:
                return results[0], now
            merged = OptionChain(
                underlying=symbol,
                underlying_price=good[0].underlying_price,
                quotes=tuple(q for c in good for q in c.quotes),
                source=good[0].source,
                as_of=good[0].as_of,
                expiries=tuple(listed),
            )
            return DataResult(merged, results[0].source, results[0].as_of, results[0].state), now

        return run_async(read())


@dataclass(frozen=True, slots=True)
class TicketFill:
    """What loading a signal puts in the ticket."""

    expiries: list[date]
    expiry: date | None
    strikes: list[Decimal]
    strike: Decimal | None
    limit: float | None
    why: str


def fill_from_chain(
    chain: OptionChain, direction: str, timeframe: str, now: datetime, spot: float | None
) -> TicketFill:
    """Run contract selection on the chain and describe the choice, or why there is none."""
    choice = select_contract(chain, direction, timeframe, now, underlying_price=spot)  # type: ignore[arg-type]
    expiries = chain_expiries(chain, now)
    right = "C" if direction == "long" else "P"
    if isinstance(choice, ContractChoice):
        strikes = chain_strikes(chain, choice.expiry, right)
        return TicketFill(
            expiries=expiries,
            expiry=choice.expiry,
            strikes=strikes,
            strike=choice.quote.contract.strike,
            limit=suggested_limit(choice.quote),
            why=f"Suggested {display_occ(choice.quote.contract.symbol)}: {choice.reason}",
        )
    first = expiries[0] if expiries else None
    strikes = chain_strikes(chain, first, right) if first else []
    return TicketFill(
        expiries, first, strikes, None, None, f"No contract suggested: {choice.reason}"
    )


def projection_table(
    quote: OptionQuote,
    *,
    spot: float,
    now: datetime,
    stop: float,
    target: float | None,
    target2: float | None,
    timeframe: str | None,
    limit: float,
    contracts: int,
) -> html.Div:
    """Projected option value at T1/T2/stop after the expected hold, and the max loss."""
    iv = quote.iv
    if iv is None or not math.isfinite(iv) or iv <= 0:
        return html.Div("No projection: the quote has no implied volatility.", className="small")
    hold = expected_hold_days(timeframe) if timeframe else 3.0
    years = years_to_expiry(quote.contract.expiry, now)
    proj = project_trade(
        spot=spot,
        strike=float(quote.contract.strike),
        years=years,
        iv=iv,
        right=quote.contract.right,
        stop=stop,
        t1=target,
        t2=target2,
        hold_days=min(hold, max(years * 365.0 - 0.01, 0.0)),
        entry_price=limit,
        contracts=contracts,
    )
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(_num(lv.underlying)),
                html.Td(_num(lv.value)),
                html.Td(
                    f"{lv.pnl:+,.0f}",
                    className="text-success" if lv.pnl >= 0 else "text-danger",
                ),
            ]
        )
        for name, lv in proj.levels.items()
    ]
    max_loss = limit * 100 * contracts
    return html.Div(
        [
            dbc.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th("Level"),
                                html.Th("Underlying"),
                                html.Th("Option"),
                                html.Th("P&L $"),
                            ]
                        )
                    ),
                    html.Tbody(rows),
                ],
                size="sm",
                className="mb-1 small",
                id="options-projection-table",
            ),
            html.Div(
                f"Max loss ${max_loss:,.0f} (premium) · hold {proj.hold_days:.1f} d · "
                f"IV {iv * 100:.1f}%" + (f" · R {proj.r_multiple:.2f}" if proj.r_multiple else ""),
                className="small text-muted",
                id="options-max-loss",
            ),
        ]
    )


def _parse_float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


# ---------------------------------------------------------------- callbacks


def register_callbacks(app: Dash, services: Services) -> None:
    data = services.data
    settings = services.settings

    reads = Reads(data)

    def chain_for(symbol: str, expiry: str | date | None = None) -> DataResult[OptionChain]:
        return run_async(reads.chain(symbol, expiry))

    @app.callback(
        Output("options-signals-grid", "rowData"),
        Output("options-signals-status", "children"),
        Input("options-interval", "n_intervals"),
        Input("options-signal-category", "value"),
    )
    def refresh_signals(_n: int | None, category: str) -> tuple[Any, Any]:
        board = run_async(scan_signals(data, settings.watchlist), timeout=60)
        result = DataResult(
            board.rows if board.rows else None,
            board.source,
            board.as_of,
            board.state if board.rows or board.state is not DataState.FRESH else DataState.EMPTY,
            error="; ".join(board.errors[:3]) or None,
        )
        lines = [status_line(result, empty_text="no active setups on the watchlist")]
        if board.errors and board.rows:
            lines.append(
                html.Div(
                    f"{len(board.errors)} frame(s) failed: " + "; ".join(board.errors[:3]),
                    className="state-line state-line-stale",
                )
            )
        return signal_grid_rows(board.rows, category or "all"), lines

    @app.callback(
        Output("options-symbol", "value"),
        Output("options-direction", "value"),
        Output("options-entry", "value"),
        Output("options-target", "value"),
        Output("options-stop", "value"),
        Output("options-expiry", "options"),
        Output("options-expiry", "value"),
        Output("options-strike", "options"),
        Output("options-strike", "value"),
        Output("options-limit", "value"),
        Output("options-contract-why", "children"),
        Output("options-ticket-signal", "children"),
        Output("options-selected-signal", "data"),
        Input("options-signals-grid", "selectedRows"),
        State("options-selected-signal", "data"),
        prevent_initial_call=True,
    )
    def load_signal(
        selected: list[dict[str, Any]] | None, current: dict[str, Any] | None
    ) -> tuple[Any, ...]:
        if not selected:
            raise PreventUpdate
        row = selected[0]
        if current and current.get("id") == row.get("id"):
            raise PreventUpdate  # a refresh re-sent the same selection: keep the user's edits
        symbol, direction = row["symbol"], row["direction"]
        chain, now = reads.chain_for_signal(symbol, row["timeframe"])
        signal_text = html.Span(
            [
                dbc.Badge(row["label"], color="info", className="me-1"),
                f"{symbol} {row['timeframe']} {direction} · entry {row['entry']} "
                f"({row['entry_rule']}) · stop {row['stop']} ({row['stop_rule']}) · "
                f"T1 {row['target1']} ({row['target_rule']})",
            ],
            id="options-ticket-signal-text",
        )
        signal = {k: row.get(k) for k in ("id", "symbol", "timeframe", "label", "pattern")}
        signal.update(
            direction=direction,
            target2=row.get("target2"),
            tfc=row.get("plan_tfc"),
            rules=row.get("plan_rules"),
        )
        if chain.value is None:
            why = f"No option chain: {chain.error or 'unavailable'} ({chain.source})"
            return (symbol, direction, row["entry"], row["target1"], row["stop"], [], None, [],
                    None, None, why, signal_text, signal)  # fmt: skip
        spot = chain.value.underlying_price or row.get("price")
        fill = fill_from_chain(chain.value, direction, row["timeframe"], now, spot)
        return (
            symbol,
            direction,
            row["entry"],
            row["target1"],
            row["stop"],
            expiry_options(fill.expiries, now),
            fill.expiry.isoformat() if fill.expiry else None,
            strike_options(fill.strikes, spot),
            format_strike(fill.strike) if fill.strike is not None else None,
            fill.limit,
            html.Span(
                [fill.why, html.Span(f" · chain: {chain.value.source}", className="text-muted")]
            ),
            signal_text,
            signal,
        )

    @app.callback(
        Output("options-strike", "options", allow_duplicate=True),
        Input("options-expiry", "value"),
        Input("options-direction", "value"),
        State("options-symbol", "value"),
        prevent_initial_call=True,
    )
    def strikes_for_expiry(expiry: str | None, direction: str, symbol: str | None) -> Any:
        if not expiry or not symbol:
            raise PreventUpdate
        chain = chain_for(symbol.strip().upper(), expiry)
        if chain.value is None:
            return []
        right = "C" if direction == "long" else "P"
        strikes = chain_strikes(chain.value, date.fromisoformat(expiry), right)
        return strike_options(strikes, chain.value.underlying_price)

    register_chart_callbacks(app, services, reads)
    register_ticket_callbacks(app, services, reads)
    register_trade_callbacks(app, services)


def chain_rows(
    chain: OptionChain, expiry: date, moneyness_pct: float
) -> tuple[list[dict[str, Any]], float | None]:
    """Calls and puts side by side per strike within ±moneyness of spot; ATM flagged."""
    spot = chain.underlying_price
    by_strike: dict[Decimal, dict[str, Any]] = {}
    for q in chain.quotes:
        c = q.contract
        if c.expiry != expiry:
            continue
        if spot and abs(float(c.strike) / spot - 1.0) * 100 > moneyness_pct:
            continue
        row = by_strike.setdefault(
            c.strike, {"strike": float(c.strike), "strike_key": format_strike(c.strike)}
        )
        p = "c_" if c.right == "C" else "p_"
        row[p + "symbol"] = c.symbol
        row[p + "bid"] = q.bid
        row[p + "ask"] = q.ask
        row[p + "mid"] = None if q.mid is None else round(q.mid, 2)
        row[p + "last"] = q.last
        row[p + "volume"] = q.volume
        row[p + "oi"] = q.open_interest if q.open_interest is not None else c.open_interest
        row[p + "iv"] = None if q.iv is None else round(q.iv * 100, 1)
        row[p + "delta"] = None if q.delta is None else round(q.delta, 3)
        row[p + "gamma"] = None if q.gamma is None else round(q.gamma, 4)
        row[p + "theta"] = None if q.theta is None else round(q.theta, 3)
        row[p + "vega"] = None if q.vega is None else round(q.vega, 3)
    rows = [by_strike[k] for k in sorted(by_strike)]
    if spot and rows:
        atm = min(rows, key=lambda r: abs(r["strike"] - spot))
        atm["atm"] = True
    return rows, spot


def flow_rows(quotes: list[OptionQuote], top: int = 15) -> list[dict[str, Any]]:
    """The most active contracts: volume, open interest, volume/OI and premium traded."""
    rows = []
    for q in quotes:
        if not q.volume:
            continue
        oi = q.open_interest if q.open_interest is not None else q.contract.open_interest
        mid = q.mid if q.mid is not None else q.last
        side = "—"
        if q.last is not None and q.bid is not None and q.ask is not None:
            side = "ask" if q.last >= q.ask else "bid" if q.last <= q.bid else "mid"
        rows.append(
            {
                "contract": display_occ(q.contract.symbol),
                "right": q.contract.right,
                "volume": q.volume,
                "open_interest": oi,
                "vol_oi": round(q.volume / oi, 2) if oi else None,
                "premium": round(q.volume * mid * 100, 0) if mid is not None else None,
                "side": side,
            }
        )
    rows.sort(key=lambda r: -(r["premium"] or 0))
    return rows[:top]


def register_chart_callbacks(app: Dash, services: Services, reads: Reads) -> None:
    """The signal's chart, the chain grid (click to load), the payoff and the flow."""
    from dashboard.options.projection import payoff_curve
    from dashboard.strat import classify_bars, detect_patterns, evaluate_setups
    from dashboard.strat.timeframes import is_bar_closed
    from dashboard.visualizations.enhanced_charts import (
        create_options_flow_chart,
        create_payoff_chart,
        create_strat_candlestick_chart,
        empty_figure,
    )

    data = services.data

    @app.callback(
        Output("options-signal-chart", "figure"),
        Output("options-signal-chart-title", "children"),
        Output("options-signal-chart-status", "children"),
        Input("options-selected-signal", "data"),
        Input("options-chart-labels", "value"),
        Input("options-interval", "n_intervals"),
    )
    def signal_chart(signal: dict[str, Any] | None, labels: list[str], _n: int | None):
        if not signal:
            fig = empty_figure("Select a signal to chart it", uirevision="signal-chart")
            return fig, "Signal chart ", empty_line("no signal selected")
        symbol, tf = signal["symbol"], signal["timeframe"]
        bars, now = reads.with_now(data.fetch_bars(symbol, tf, lookback=120))
        uirev = f"signal-{symbol}-{tf}"
        if bars.value is None or len(bars.value) == 0:
            kind = "error" if bars.state is DataState.ERROR else "empty"
            return empty_figure(bars.error or "No bars", kind=kind), symbol, status_line(bars)
        df = bars.value
        closed = is_bar_closed(tf, df.index[-1].to_pydatetime(), now)
        n_closed = len(df) if closed else len(df) - 1
        h, lo, o, c = (df[k].to_numpy() for k in ("high", "low", "open", "close"))
        pats = detect_patterns(
            h[:n_closed], lo[:n_closed], o[:n_closed], c[:n_closed],
            since=max(0, n_closed - 30), symbol=symbol, timeframe=tf,
        )  # fmt: skip
        setups = evaluate_setups(pats, h, lo, c, df.index, 3, last_bar_closed=closed)
        chosen = [st for st in setups if st.pattern.label == signal.get("label")][-3:]
        others = [st for st in setups if st not in chosen][-6:]
        fig = create_strat_candlestick_chart(
            df,
            bar_types=classify_bars(h, lo),
            patterns=[*others, *chosen],
            show_labels="labels" in (labels or []),
            title=None,
            uirevision=uirev,
        )
        title = f"Signal chart · {symbol} {tf} · {signal.get('label')} "
        return fig, title, status_line(bars)

    @app.callback(
        Output("options-chain-expiry", "options"),
        Output("options-chain-expiry", "value"),
        Input("options-symbol", "value"),
        Input("options-expiry", "value"),
    )
    def chain_expiries_for(symbol: str | None, ticket_expiry: str | None):
        if not symbol:
            return [], None
        chain, now = reads.with_now(reads.chain(symbol.strip().upper()))
        if chain.value is None:
            return [], None
        expiries = chain_expiries(chain.value, now)
        value = ticket_expiry or (expiries[0].isoformat() if expiries else None)
        return expiry_options(expiries, now), value

    @app.callback(
        Output("options-chain-grid", "rowData"),
        Output("options-chain-title", "children"),
        Output("options-chain-status", "children"),
        Input("options-chain-expiry", "value"),
        Input("options-chain-moneyness", "value"),
        Input("options-interval", "n_intervals"),
        State("options-symbol", "value"),
    )
    def chain_grid(expiry: str | None, moneyness: str | None, _n: int | None, symbol: str | None):
        if not symbol:
            return [], "Option chain ", empty_line("no underlying chosen")
        sym = symbol.strip().upper()
        chain = run_async(reads.chain(sym, expiry))
        if chain.value is None or not expiry:
            return [], f"Option chain · {sym} ", status_line(chain, empty_text="no contracts")
        rows, spot = chain_rows(chain.value, date.fromisoformat(expiry), float(moneyness or 5))
        title = f"Option chain · {sym} {_num(spot)} · {chain.value.source} "
        return rows, title, status_line(chain, empty_text="no contracts near the money")

    @app.callback(
        Output("options-direction", "value", allow_duplicate=True),
        Output("options-expiry", "value", allow_duplicate=True),
        Output("options-strike", "value", allow_duplicate=True),
        Output("options-limit", "value", allow_duplicate=True),
        Output("options-contract-why", "children", allow_duplicate=True),
        Input("options-chain-grid", "cellClicked"),
        State("options-chain-grid", "rowData"),
        State("options-chain-expiry", "value"),
        State("options-symbol", "value"),
        prevent_initial_call=True,
    )
    def pick_from_chain(cell: dict[str, Any] | None, rows: list[dict], expiry: str, symbol: str):
        if not cell or not rows or not symbol:
            raise PreventUpdate
        col = str(cell.get("colId", ""))
        if not col.startswith(("c_", "p_")):
            raise PreventUpdate
        row = next((r for r in rows if r.get("strike_key") == cell.get("rowId")), None)
        if row is None:
            raise PreventUpdate
        right = "C" if col.startswith("c_") else "P"
        chain = run_async(reads.chain(symbol.strip().upper(), expiry)).value
        quote = find_quote(chain, row.get(col[:2] + "symbol", "")) if chain else None
        if quote is None:
            raise PreventUpdate
        why = f"Picked from the chain: {display_occ(quote.contract.symbol)}"
        return (
            "long" if right == "C" else "short",
            expiry,
            row["strike_key"],
            suggested_limit(quote),
            why,
        )

    @app.callback(
        Output("options-payoff-chart", "figure"),
        Output("options-payoff-status", "children"),
        *[Input(f"options-{f}", "value") for f in (*TICKET_FIELDS, *LEVEL_FIELDS)],
        State("options-selected-signal", "data"),
    )
    def payoff(symbol, direction, contracts, expiry, strike, limit, entry, target, stop, signal):
        if not (symbol and expiry and strike):
            return empty_figure("Fill the ticket to see the payoff", uirevision="payoff"), ""
        sym = symbol.strip().upper()
        right = "C" if direction == "long" else "P"
        try:
            contract = build_occ(sym, date.fromisoformat(expiry), right, Decimal(str(strike)))
        except (ValueError, ArithmeticError) as exc:
            return empty_figure(f"Not a valid contract: {exc}", kind="error"), ""
        chain, now = reads.with_now(reads.chain(sym, expiry))
        quote = find_quote(chain.value, contract) if chain.value else None
        if quote is None:
            msg = f"{display_occ(contract)} is not in the chain"
            return empty_figure(msg, kind="error", uirevision="payoff"), status_line(chain)
        premium = _parse_float(limit) or quote.mid
        spot = chain.value.underlying_price
        if premium is None or spot is None or quote.iv is None:
            return empty_figure("No price or IV for this contract", kind="error"), status_line(
                chain
            )
        years = years_to_expiry(quote.contract.expiry, now)
        tf = (signal or {}).get("timeframe") if (signal or {}).get("symbol") == sym else None
        hold = min(expected_hold_days(tf) if tf else 3.0, max(years * 365.0 - 0.01, 0.0))
        qty = int(_parse_float(contracts) or 1)
        common = dict(
            right=right, strike=float(quote.contract.strike), premium=premium,
            contracts=max(qty, 1), spot=spot, years=years, days_forward=hold,
        )  # fmt: skip
        curve = payoff_curve(iv=quote.iv, **common)
        band = (
            payoff_curve(iv=max(quote.iv - 0.05, 0.01), prices=curve.prices, **common),
            payoff_curve(iv=quote.iv + 0.05, prices=curve.prices, **common),
        )
        today = payoff_curve(iv=quote.iv, prices=curve.prices, **{**common, "days_forward": 0.0})
        fig = create_payoff_chart(
            curve,
            today=today,
            spot=spot,
            entry=_parse_float(entry),
            target=_parse_float(target),
            stop=_parse_float(stop),
            iv_band=band,
            title=f"{display_occ(contract)} · {max(qty, 1)}× @ {premium:.2f} · hold {hold:.1f} d",
            uirevision=f"payoff-{contract}",
        )
        return fig, status_line(chain)

    @app.callback(
        Output("options-flow-chart", "figure"),
        Output("options-flow-grid", "rowData"),
        Output("options-flow-status", "children"),
        Input("options-symbol", "value"),
        Input("options-interval", "n_intervals"),
    )
    def flow(symbol: str | None, _n: int | None):
        sym = (symbol or services.settings.watchlist[0]).strip().upper()
        chains = run_async(data.fetch_option_chains(sym, FLOW_EXPIRIES))
        chain = chains[0]
        if chain.value is None or not chain.value.quotes:
            kind = "error" if chain.state is DataState.ERROR else "empty"
            fig = empty_figure(chain.error or f"No option activity for {sym}", kind=kind)
            return fig, [], status_line(chain, empty_text="no contracts")
        quotes = [q for c in chains if c.value is not None for q in c.value.quotes]
        fig = create_options_flow_chart(
            quotes, spot=chain.value.underlying_price, title=f"{sym} flow",
            uirevision=f"flow-{sym}",
        )  # fmt: skip
        return fig, flow_rows(quotes), status_line(chain, empty_text="no volume yet")


def ticket_fields(values: dict[str, Any], signal: dict[str, Any] | None) -> dict[str, Any]:
    """The validator's input: the form's values plus the loaded signal's plan, if any."""
    fields = dict(values)
    if signal and signal.get("symbol") == str(values.get("symbol") or "").strip().upper():
        fields.update(
            pattern=signal.get("label"),
            timeframe=signal.get("timeframe"),
            signal_id=signal.get("id"),
            target2=signal.get("target2"),
            tfc=signal.get("tfc"),
            rules=signal.get("rules"),
        )
    return fields


def register_ticket_callbacks(app: Dash, services: Services, reads: Reads) -> None:
    """Validation with inline messages and projection, then review, confirm and submit."""
    data = services.data
    settings = services.settings
    journal = services.extras.get("journal")

    def validate(values: dict[str, Any], signal: dict[str, Any] | None) -> Any:
        symbol = str(values.get("symbol") or "").strip().upper()
        chain_read = reads.chain(symbol, values.get("expiry")) if symbol else None
        chain_result, account, now = reads.with_now(chain_read, data.fetch_account())
        chain = chain_result.value if chain_result is not None else None
        bp = account.value.options_buying_power if account.value is not None else None
        known = set(settings.watchlist)
        if symbol and symbol not in known and chain is not None and chain.quotes:
            known.add(symbol)  # listed options prove the underlying exists
        return (
            validate_ticket(
                ticket_fields(values, signal),
                chain=chain,
                buying_power=bp,
                now=now,
                max_contracts=settings.max_contracts,
                known_symbols=known,
            ),
            now,
            chain,
        )

    field_inputs = [Input(f"options-{f}", "value") for f in (*TICKET_FIELDS, *LEVEL_FIELDS)]

    @app.callback(
        *[Output(f"options-{f}-error", "children") for f in (*TICKET_FIELDS, *LEVEL_FIELDS)],
        Output("options-projection", "children"),
        Output("options-form-error", "children"),
        Output("options-review", "disabled"),
        Output("options-ticket-state", "children"),
        *field_inputs,
        State("options-selected-signal", "data"),
    )
    def check_ticket(*args: Any) -> tuple[Any, ...]:
        names = (*TICKET_FIELDS, *LEVEL_FIELDS)
        values = dict(zip(names, args[: len(names)], strict=True))
        signal = args[len(names)]
        blank = [""] * len(names)
        if not values.get("symbol"):
            return (*blank, None, "", True, "Pick a signal, or type an underlying to start.")
        result, now, chain = validate(values, signal)
        errors = [result.errors.get(f, "") for f in names]
        extra = [msg for f, msg in result.errors.items() if f not in names]
        if not result.ok:
            return (*errors, None, " ".join(extra), True, f"{len(result.errors)} issue(s) to fix")
        t = result.ticket
        projection = projection_table(
            result.quote,
            spot=chain.underlying_price or t.entry,
            now=now,
            stop=t.stop,
            target=t.target,
            target2=t.target2,
            timeframe=t.timeframe,
            limit=float(t.limit),
            contracts=t.contracts,
        )
        notes = " ".join(result.warnings)
        return (*errors, projection, notes, False, f"Ready: {t.display}")

    @app.callback(
        Output("options-confirm-modal", "is_open"),
        Output("options-confirm-body", "children"),
        Output("options-live-confirm-wrap", "style"),
        Output("options-ticket-nonce", "data"),
        Input("options-review", "n_clicks"),
        Input("options-confirm-cancel", "n_clicks"),
        *[State(f"options-{f}", "value") for f in (*TICKET_FIELDS, *LEVEL_FIELDS)],
        State("options-selected-signal", "data"),
        prevent_initial_call=True,
    )
    def review(_r: int | None, _c: int | None, *args: Any) -> tuple[Any, ...]:
        if ctx.triggered_id == "options-confirm-cancel":
            return False, no_update, no_update, None
        names = (*TICKET_FIELDS, *LEVEL_FIELDS)
        values = dict(zip(names, args[: len(names)], strict=True))
        result, _now, _chain = validate(values, args[len(names)])
        if not result.ok:
            raise PreventUpdate
        t = result.ticket
        body = html.Div(
            [
                html.Div(t.display, className="fw-bold mb-2", id="options-confirm-order"),
                html.Div(
                    f"Plan: {t.direction} {t.symbol} · entry {t.entry:.2f} · target "
                    f"{t.target:.2f} · stop {t.stop:.2f}"
                    + (f" · {t.pattern} {t.timeframe}" if t.pattern else ""),
                    className="small",
                ),
                html.Div(
                    f"Account: {settings.mode_label}. Exits at target or stop are sent by the "
                    "dashboard's exit monitor (Alpaca has no brackets for options).",
                    className="small text-muted mt-2",
                ),
            ]
        )
        live_style = {"display": "block"} if settings.is_live else {"display": "none"}
        return True, body, live_style, uuid.uuid4().hex

    @app.callback(
        Output("options-toast", "is_open"),
        Output("options-toast", "header"),
        Output("options-toast", "children"),
        Output("options-toast", "icon"),
        Output("options-confirm-modal", "is_open", allow_duplicate=True),
        Output("options-trades-version", "data"),
        Input("options-submit", "n_clicks"),
        *[State(f"options-{f}", "value") for f in (*TICKET_FIELDS, *LEVEL_FIELDS)],
        State("options-selected-signal", "data"),
        State("options-ticket-nonce", "data"),
        State("options-live-confirm", "value"),
        prevent_initial_call=True,
    )
    def submit(_n: int | None, *args: Any) -> tuple[Any, ...]:
        from dashboard.trading.orders import place_entry

        names = (*TICKET_FIELDS, *LEVEL_FIELDS)
        values = dict(zip(names, args[: len(names)], strict=True))
        signal, nonce, confirmation = args[len(names) :]
        if journal is None:
            return (
                True,
                "Order not sent",
                "The trade journal is unavailable.",
                "danger",
                False,
                no_update,
            )
        result, _now, _chain = validate(values, signal)  # the form may have changed since review
        if not result.ok:
            msg = "; ".join(result.errors.values())
            return (
                True,
                "Order not sent",
                f"The ticket is invalid: {msg}",
                "danger",
                False,
                no_update,
            )
        placed = run_async(
            place_entry(data, journal, result.ticket, request_key=nonce, confirmation=confirmation)
        )
        header = "Order sent" if placed.ok else "Order not sent"
        icon = "success" if placed.ok else "danger"
        return True, header, placed.message, icon, False, uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class TradeView:
    """One journal trade with live prices: what a row of active trades shows."""

    trade: Any  # JournalTrade
    underlying_price: float | None
    option_mid: float | None
    progress: float | None  # -1 stop … 0 entry … 1 target
    r_now: float | None
    pnl: float | None  # dollars, open quantity at the option mid
    pnl_pct: float | None


# Outputs that show only bars and chains, which the data service caches for its bars TTL:
# their shared refresh responses (refresh_memo) live that long too, since re-rendering
# them sooner would draw the same data.
BARS_PACED_OUTPUTS = (
    "options-signals-grid",
    "options-signal-chart",
    "options-chain-grid",
    "options-flow-chart",
)
ACTIVE_CARDS_SHOWN = 12  # more cards cost render and transfer time on every refresh


def cards_to_show(views: Sequence[TradeView], cap: int = ACTIVE_CARDS_SHOWN) -> list[TradeView]:
    """Every trade (newest first) up to ``cap``; past it, the ``cap`` trades nearest an exit
    (target or stop), since those need a decision first. The rest stay on the progress
    chart and in the journal grid."""
    if len(views) <= cap:
        return list(views)
    return sorted(views, key=lambda v: 1.0 if v.progress is None else -abs(v.progress))[:cap]


def trade_view(trade: Any, underlying: float | None, option_mid: float | None) -> TradeView:
    """Pure: progress on the underlying's levels and P&L on the option's mid."""
    from dashboard.analytics.progress import progress_to_target, r_multiple_now

    progress = r_now = pnl = pnl_pct = None
    if underlying is not None:
        try:
            progress = progress_to_target(
                trade.direction, trade.entry_level, underlying, trade.target_level, trade.stop_level
            )
            r_now = r_multiple_now(trade.direction, trade.entry_level, underlying, trade.stop_level)
        except ValueError:
            progress = r_now = None
    fill = trade.entry_fill_price
    if option_mid is not None and fill is not None and trade.open_qty > 0:
        pnl = (option_mid - float(fill)) * 100.0 * trade.open_qty
        pnl_pct = (option_mid / float(fill) - 1.0) * 100.0 if float(fill) > 0 else None
    return TradeView(trade, underlying, option_mid, progress, r_now, pnl, pnl_pct)


@dataclass(frozen=True, slots=True)
class PnlSummary:
    realised: float
    unrealised: float
    wins: int
    losses: int
    best: float | None
    worst: float | None

    @property
    def total(self) -> float:
        return self.realised + self.unrealised


def pnl_summary(trades: list[Any], views: list[TradeView]) -> PnlSummary:
    """Realised from the journal's closed fills; unrealised from open trades at the mid."""
    realised = [float(t.realized_pnl) for t in trades if t.closed_qty > 0]
    closed = [float(t.realized_pnl) for t in trades if t.status == "closed"]
    return PnlSummary(
        realised=sum(realised),
        unrealised=sum(v.pnl for v in views if v.pnl is not None),
        wins=sum(1 for x in closed if x > 0),
        losses=sum(1 for x in closed if x < 0),
        best=max(closed) if closed else None,
        worst=min(closed) if closed else None,
    )


def _pnl_class(x: float | None) -> str:
    if x is None or x == 0:
        return "metric-value"
    return "metric-value text-success" if x > 0 else "metric-value text-danger"


def active_trade_card(view: TradeView) -> dbc.Card:
    t = view.trade
    if view.progress is None:
        bar = dbc.Progress(value=0, label="no price", color="secondary", className="mb-1")
    elif view.progress >= 0:
        pct = min(view.progress, 1.0) * 100
        bar = dbc.Progress(
            value=pct,
            label=f"{view.progress * 100:.0f}% to T1",
            color="success",
            className="mb-1",
            style={"height": "18px"},
        )
    else:
        pct = min(-view.progress, 1.0) * 100
        bar = dbc.Progress(
            value=pct,
            label=f"{-view.progress * 100:.0f}% to stop",
            color="danger",
            className="mb-1",
            style={"height": "18px"},
        )
    fill = f"${float(t.entry_fill_price):.2f}" if t.entry_fill_price is not None else "unfilled"
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Strong(display_occ(t.contract_symbol)),
                        dbc.Badge(str(t.status), color="info", className="ms-2"),
                        html.Span(
                            f" {t.pattern or ''} {t.timeframe or ''} · {t.open_qty or t.qty}×",
                            className="small text-muted",
                        ),
                        dbc.Button(
                            "Manage",
                            id={"type": "options-manage", "index": t.id},
                            size="sm",
                            color="secondary",
                            outline=True,
                            className="float-end",
                        ),
                    ],
                    className="mb-1",
                ),
                bar,
                html.Div(
                    f"{t.underlying} {_num(view.underlying_price)} · entry {_num(t.entry_level)}"
                    f" · T1 {_num(t.target_level)} · stop {_num(t.stop_level)} · fill {fill}"
                    f" · mid {_num(view.option_mid)} · P&L {format_money(view.pnl, signed=True)}"
                    + (f" ({view.pnl_pct:+.1f}%)" if view.pnl_pct is not None else "")
                    + (f" · {view.r_now:+.2f}R" if view.r_now is not None else ""),
                    className="small",
                ),
                html.Div(t.status_message or "", className="small text-warning"),
            ],
            className="py-2",
        ),
        className="mb-2 active-trade",
        id=f"options-trade-{t.id}",
    )


def journal_rows(trades: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "opened": format_et(t.created_at, "%m-%d %H:%M"),
            "contract": display_occ(t.contract_symbol),
            "signal": f"{t.pattern or '—'} {t.timeframe or ''}".strip(),
            "qty": t.qty,
            "entry": float(t.entry_fill_price) if t.entry_fill_price is not None else None,
            "exit": float(t.exit_price) if t.exit_price is not None else None,
            "status": str(t.status),
            "exit_reason": t.exit_reason or "",
            "pnl": round(float(t.realized_pnl), 2) if t.closed_qty else None,
            "client_order_id": t.entry_client_order_id,
        }
        for t in trades
    ]


def register_trade_callbacks(app: Dash, services: Services) -> None:
    """Active trades with progress, the progress chart, P&L cards, the journal, and manage."""
    from dashboard.visualizations.enhanced_charts import create_trade_progress_chart, empty_figure
    from dashboard.visualizations.inputs import TradeProgress

    data = services.data
    journal = services.extras.get("journal")

    @app.callback(
        Output("options-active-trades", "children"),
        Output("options-active-count", "children"),
        Output("options-active-status", "children"),
        Output("options-progress-chart", "figure"),
        Output("options-pnl-total", "children"),
        Output("options-pnl-total", "className"),
        Output("options-pnl-realised", "children"),
        Output("options-pnl-realised", "className"),
        Output("options-pnl-unrealised", "children"),
        Output("options-pnl-unrealised", "className"),
        Output("options-pnl-winloss", "children"),
        Output("options-pnl-best", "children"),
        Output("options-pnl-worst", "children"),
        Output("options-pnl-status", "children"),
        Output("options-journal-grid", "rowData"),
        Output("options-journal-status", "children"),
        Input("options-interval", "n_intervals"),
        Input("options-trades-version", "data"),
    )
    def refresh_trades(_n: int | None, _v: str | None) -> tuple[Any, ...]:
        if journal is None:
            err = DataResult(None, "journal", None, DataState.ERROR, error="journal unavailable")
            fig = empty_figure("Journal unavailable", kind="error")
            line = status_line(err)
            return ([], "0", line, fig, *(["—", "metric-value"] * 3), "—", "—", "—", line, [], line)
        trades = journal.list_trades(limit=500)
        active = [t for t in trades if t.is_active]
        as_of = datetime.now(UTC)
        underlyings = sorted({t.underlying for t in active})
        contracts = sorted({t.contract_symbol for t in active})
        quotes, options = run_all(
            data.fetch_quotes(underlyings) if underlyings else None,
            data.fetch_option_quotes(contracts) if contracts else None,
        )
        views = []
        for t in active:
            q = (quotes.value or {}).get(t.underlying) if quotes is not None else None
            o = (options.value or {}).get(t.contract_symbol) if options is not None else None
            views.append(trade_view(t, q.mid if q else None, o.mid if o else None))
        summary = pnl_summary(trades, views)
        price_result = (
            quotes if quotes is not None else DataResult(None, "journal", as_of, DataState.EMPTY)
        )
        active_status = status_line(price_result, empty_text="no active trades")
        progress = [
            TradeProgress(
                label=f"{display_occ(v.trade.contract_symbol)}",
                direction=v.trade.direction,
                entry=v.trade.entry_level,
                current=v.underlying_price,
                target=v.trade.target_level,
                stop=v.trade.stop_level,
                option_pnl=v.pnl,
                option_pnl_pct=v.pnl_pct,
            )
            for v in views
            if v.underlying_price is not None
        ]
        fig = create_trade_progress_chart(progress, uirevision="options-progress")
        pnl_state = (
            options if options is not None else DataResult(None, "journal", as_of, DataState.EMPTY)
        )
        journal_state = DataResult(
            trades or None, "journal", as_of, DataState.FRESH if trades else DataState.EMPTY
        )
        shown = cards_to_show(views)
        cards: list[Any] = [active_trade_card(v) for v in shown]
        if len(shown) < len(views):
            cards.append(
                html.Div(
                    f"Showing the {len(shown)} of {len(views)} active trades nearest an exit; "
                    "every trade is on the progress chart and in the journal below.",
                    className="small text-muted",
                    id="options-active-more",
                )
            )
        return (
            cards
            or html.Div("No active trades. Load a signal and send an order.", className="small"),
            str(len(active)),
            active_status,
            fig,
            format_money(summary.total, signed=True),
            _pnl_class(summary.total),
            format_money(summary.realised, signed=True),
            _pnl_class(summary.realised),
            format_money(summary.unrealised, signed=True),
            _pnl_class(summary.unrealised),
            f"{summary.wins} / {summary.losses}",
            format_money(summary.best, signed=True),
            format_money(summary.worst, signed=True),
            status_line(pnl_state, empty_text="no open option positions"),
            journal_rows(trades),
            status_line(journal_state, empty_text="no trades yet"),
        )

    @app.callback(
        Output("options-manage-modal", "is_open"),
        Output("options-manage-body", "children"),
        Output("options-manage-trade", "data"),
        Output("options-modify-target", "value"),
        Output("options-modify-stop", "value"),
        Input({"type": "options-manage", "index": ALL}, "n_clicks"),
        Input("options-manage-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def open_manage(clicks: list[int | None], _cancel: int | None) -> tuple[Any, ...]:
        if ctx.triggered_id == "options-manage-cancel":
            return False, no_update, None, no_update, no_update
        if not any(clicks) or not isinstance(ctx.triggered_id, dict) or journal is None:
            raise PreventUpdate
        trade = journal.get(int(ctx.triggered_id["index"]))
        if trade is None:
            raise PreventUpdate
        body = html.Div(
            [
                html.Div(display_occ(trade.contract_symbol), className="fw-bold"),
                html.Div(
                    f"{trade.direction} {trade.underlying} · entry {trade.entry_level:.2f} · "
                    f"target {trade.target_level:.2f} · stop {trade.stop_level:.2f} · "
                    f"status {trade.status}",
                    className="small",
                ),
            ]
        )
        return True, body, trade.id, trade.target_level, trade.stop_level

    @app.callback(
        Output("options-toast", "is_open", allow_duplicate=True),
        Output("options-toast", "header", allow_duplicate=True),
        Output("options-toast", "children", allow_duplicate=True),
        Output("options-toast", "icon", allow_duplicate=True),
        Output("options-manage-modal", "is_open", allow_duplicate=True),
        Output("options-trades-version", "data", allow_duplicate=True),
        Output("options-modify-target-error", "children"),
        Output("options-modify-stop-error", "children"),
        Input("options-modify-save", "n_clicks"),
        Input("options-close-confirm", "n_clicks"),
        State("options-manage-trade", "data"),
        State("options-modify-target", "value"),
        State("options-modify-stop", "value"),
        prevent_initial_call=True,
    )
    def manage(_s: int | None, _c: int | None, trade_id: int | None, target: Any, stop: Any):
        from dashboard.trading.orders import place_exit

        if trade_id is None or journal is None:
            raise PreventUpdate
        if ctx.triggered_id == "options-close-confirm":
            result = run_async(place_exit(data, journal, int(trade_id), "manual"))
            head = "Close sent" if result.ok else "Close not sent"
            icon = "success" if result.ok else "danger"
            return True, head, result.message, icon, False, uuid.uuid4().hex, "", ""
        new_target, new_stop = _parse_float(target), _parse_float(stop)
        if new_target is None or new_stop is None:
            return (no_update,) * 6 + (
                "" if new_target is not None else "Enter a number.",
                "" if new_stop is not None else "Enter a number.",
            )
        try:
            journal.update_levels(int(trade_id), target=new_target, stop=new_stop)
        except ValueError as exc:
            return (no_update,) * 6 + (str(exc), "")
        except Exception as exc:  # JournalError: the trade moved on (closed, exiting)
            return True, "Levels not saved", str(exc), "danger", False, no_update, "", ""
        msg = f"Target {new_target:.2f}, stop {new_stop:.2f} saved; the exit monitor uses them."
        return True, "Levels saved", msg, "success", False, uuid.uuid4().hex, "", ""


__all__ = ["ALL", "TITLE", "Input", "Output", "State", "ctx", "no_update"]
