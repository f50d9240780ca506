"""Live Portfolio tab: account cards, positions, orders (with cancel), fills, equity curve
and today's P&L waterfall.

Everything shown comes from the broker through ``services.data``; the callbacks only
gather results, turn records into rows with the small pure helpers below, and hand
series to the chart library. Each block renders its own status line, so a failed read
marks only the blocks that depend on it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.analytics.performance import normalise_to
from dashboard.analytics.progress import progress_to_target
from dashboard.components.formatting import format_money, format_pct
from dashboard.components.grids import data_grid
from dashboard.components.header import format_countdown
from dashboard.components.status import format_et, loading_line, status_line
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import (
    Account,
    Clock,
    DataResult,
    DataState,
    Fill,
    Order,
    PortfolioHistory,
    PortfolioSnapshot,
    Position,
    Quote,
)
from dashboard.options.occ import display_occ, parse_occ
from dashboard.settings import Settings
from dashboard.visualizations.enhanced_charts import (
    create_equity_curve,
    create_pnl_waterfall,
    empty_figure,
)

if TYPE_CHECKING:
    from dashboard.services import Services

TAB_ID = "portfolio"
TITLE = "Live Portfolio"

PERIODS = ("1D", "1W", "1M", "3M", "1A")
# Alpaca portfolio-history timeframe per period, and the bar timeframe that matches it.
HISTORY_TIMEFRAME = {"1D": "5Min", "1W": "1H", "1M": "1D", "3M": "1D", "1A": "1D"}
BAR_TIMEFRAME = {"5Min": "5Min", "1H": "1Hour", "1D": "1Day"}
BENCHMARK = "SPY"
TREND_TIMEFRAME = "5Min"
TREND_LOOKBACK = 96  # more than one regular session of 5-minute bars
FILLS_DAYS = 30
BENCH_MARGIN = timedelta(days=7)  # benchmark bars from a week before the first equity point
FILLS_SHOWN = 100  # one page of Alpaca activities: one upstream round
_SPARK = "▁▂▃▄▅▆▇█"
_NY = "America/New_York"

Tone = Literal["bull", "bear", "muted", ""]


# ----------------------------------------------------------------------------- formatting


def tone_of(value: float | None) -> Tone:
    if value is None or not math.isfinite(value) or value == 0:
        return "muted"
    return "bull" if value > 0 else "bear"


def day_pnl(account: Account) -> tuple[float, float]:
    """Today's P&L = equity − last_equity (Alpaca's previous close), and its % of last_equity.

    The % is NaN when last_equity is zero (a new account), not a division error.
    """
    pnl = float(account.equity - account.last_equity)
    last = float(account.last_equity)
    return pnl, (pnl / last * 100.0 if last > 0 else math.nan)


def position_label(position: Position) -> str:
    """The readable contract for an option (``SPY 19 Dec 25 600 C``), else the ticker."""
    if position.asset_class == "us_option":
        try:
            return display_occ(position.symbol)
        except ValueError:
            return position.symbol
    return position.symbol


def underlying_symbol(symbol: str, asset_class: str) -> str:
    if asset_class == "us_option":
        try:
            return parse_occ(symbol).root
        except ValueError:
            return symbol
    return symbol


def trend_text(closes: Sequence[float]) -> str:
    """A text sparkline (▁…█) of the closes, scaled to their own range.

    AG Grid's sparkline renderer is enterprise-only; eight block characters show the
    shape of the day in a plain text cell and sort nowhere (the column is not sortable).
    """
    vals = [float(c) for c in closes if c is not None and math.isfinite(float(c))]
    if len(vals) < 2:
        return ""
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return _SPARK[3] * len(vals)
    top = len(_SPARK) - 1
    return "".join(_SPARK[round((v - lo) / (hi - lo) * top)] for v in vals)


def session_closes(bars: pd.DataFrame | None, max_points: int = 40) -> list[float]:
    """Closes of the latest New York session in ``bars``, thinned to ``max_points``."""
    if bars is None or bars.empty:
        return []
    local = bars.index.tz_convert(_NY)
    last_day = local[-1].date()
    day = bars["close"].to_numpy()[local.date == last_day]
    if len(day) > max_points:
        step = math.ceil(len(day) / max_points)
        day = day[::step]
    return [float(x) for x in day]


# ----------------------------------------------------------------------------- cards


@dataclass(frozen=True, slots=True)
class Metric:
    """One card: a label, the value as text, a second line, and a colour tone."""

    key: str
    label: str
    value: str
    sub: str = ""
    tone: Tone = ""


def market_status(clock: Clock) -> tuple[str, str]:
    """("OPEN", "closes in 2h 05m") from the broker's own timestamp."""
    if clock.is_open:
        return "OPEN", f"closes in {format_countdown(clock.next_close - clock.timestamp)}"
    return "CLOSED", f"opens in {format_countdown(clock.next_open - clock.timestamp)}"


def portfolio_metrics(
    account: Account | None, positions: Sequence[Position] | None, clock: Clock | None
) -> list[Metric]:
    """The card values; a missing input shows "—" on its cards rather than a zero."""
    out: list[Metric] = []
    if account is None:
        for key, label in (
            ("equity", "Equity"),
            ("day-pnl", "Today's P&L"),
            ("cash", "Cash"),
            ("buying-power", "Buying power"),
            ("options-bp", "Options buying power"),
        ):
            out.append(Metric(key, label, "—", "account unavailable", "muted"))
    else:
        pnl, pct = day_pnl(account)
        out += [
            Metric(
                "equity",
                "Equity",
                format_money(account.equity),
                "last close " + format_money(account.last_equity),
            ),
            Metric(
                "day-pnl",
                "Today's P&L",
                format_money(pnl, signed=True),
                format_pct(pct),
                tone_of(pnl),
            ),
            Metric("cash", "Cash", format_money(account.cash)),
            Metric("buying-power", "Buying power", format_money(account.buying_power)),
            Metric(
                "options-bp", "Options buying power", format_money(account.options_buying_power)
            ),
        ]
    if positions is None:
        out.append(Metric("positions", "Open positions", "—", "positions unavailable", "muted"))
    else:
        n_opt = sum(1 for p in positions if p.asset_class == "us_option")
        out.append(
            Metric(
                "positions",
                "Open positions",
                str(len(positions)),
                f"{len(positions) - n_opt} stock · {n_opt} option",
            )
        )
    if clock is None:
        out.append(Metric("market", "Market", "—", "clock unavailable", "muted"))
    else:
        state, when = market_status(clock)
        out.append(Metric("market", "Market", state, when, "bull" if clock.is_open else "muted"))
    return out


def _metric_card(m: Metric) -> dbc.Col:
    tone = {"bull": "text-bull", "bear": "text-bear", "muted": "text-muted", "": ""}[m.tone]
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(m.label, className="metric-label"),
                    html.Div(
                        m.value, className=f"metric-value {tone}", id=f"portfolio-card-{m.key}"
                    ),
                    html.Div(m.sub, className="small text-muted", id=f"portfolio-card-{m.key}-sub"),
                ],
                className="py-2",
            ),
            className="h-100",
        ),
        xs=6,
        md=4,
        xl=True,
        className="mb-2",
    )


# ----------------------------------------------------------------------------- rows


class JournalTradeLike(Protocol):
    """What the tab reads from a journal trade (``trading.journal.JournalTrade``)."""

    contract_symbol: str
    pattern: str | None
    timeframe: str | None
    direction: str
    entry_level: float
    target_level: float
    stop_level: float


def trade_progress_pct(trade: JournalTradeLike, underlying_price: float | None) -> float | None:
    """Progress to T1 in % (−100 at the stop, 100 at T1), on the underlying."""
    if underlying_price is None:
        return None
    try:
        frac = progress_to_target(
            trade.direction,  # type: ignore[arg-type]
            float(trade.entry_level),
            float(underlying_price),
            float(trade.target_level),
            float(trade.stop_level),
        )
    except ValueError:
        return None
    return round(frac * 100.0, 1)


def _f(x: Decimal | float | None) -> float | None:
    return None if x is None else float(x)


def position_rows(
    positions: Sequence[Position],
    *,
    trends: Mapping[str, str] | None = None,
    trades: Mapping[str, JournalTradeLike] | None = None,
    underlying_prices: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Grid rows: numbers stay numbers (the grid formats and sorts them).

    ``unrealized_plpc`` is Alpaca's fraction, shown in percent. ``trends`` are text
    sparklines by underlying; ``trades`` journal trades by position symbol.
    """
    trends = trends or {}
    trades = trades or {}
    prices = underlying_prices or {}
    rows = []
    for p in positions:
        under = underlying_symbol(p.symbol, p.asset_class)
        trade = trades.get(p.symbol)
        rows.append(
            {
                "symbol": p.symbol,
                "contract": position_label(p),
                "underlying": under,
                "asset_class": "option" if p.asset_class == "us_option" else "stock",
                "qty": float(p.qty),
                "side": p.side,
                "avg_entry": float(p.avg_entry_price),
                "current": float(p.current_price),
                "market_value": float(p.market_value),
                "unrealized_pl": float(p.unrealized_pl),
                "unrealized_pct": float(p.unrealized_plpc) * 100.0,
                "day_pl": float(p.unrealized_intraday_pl),
                "trend": trends.get(under, ""),
                "pattern": (
                    " ".join(x for x in (trade.pattern, trade.timeframe) if x) if trade else ""
                ),
                "progress": trade_progress_pct(trade, prices.get(under)) if trade else None,
            }
        )
    return rows


def order_rows(orders: Sequence[Order]) -> list[dict[str, Any]]:
    """Open orders, newest first."""
    rows = []
    for o in sorted(orders, key=lambda o: o.created_at, reverse=True):
        rows.append(
            {
                "id": o.id,
                "symbol": o.symbol,
                "contract": position_label_for(o.symbol, o.asset_class),
                "side": o.side,
                "type": o.type,
                "qty": _f(o.qty),
                "filled_qty": float(o.filled_qty),
                "limit_price": _f(o.limit_price),
                "tif": o.time_in_force,
                "status": o.status,
                "created": format_et(o.created_at, "%m-%d %H:%M:%S"),
            }
        )
    return rows


def position_label_for(symbol: str, asset_class: str) -> str:
    if asset_class == "us_option":
        try:
            return display_occ(symbol)
        except ValueError:
            return symbol
    return symbol


def fill_rows(fills: Sequence[Fill], limit: int = FILLS_SHOWN) -> list[dict[str, Any]]:
    """Recent fills, newest first; notional = qty × price (× 100 for an option)."""
    out = []
    for f in sorted(fills, key=lambda f: f.transaction_time, reverse=True)[:limit]:
        is_opt = _looks_like_option(f.symbol)
        out.append(
            {
                "id": f.id,
                "time": format_et(f.transaction_time, "%m-%d %H:%M:%S"),
                "symbol": f.symbol,
                "contract": position_label_for(f.symbol, "us_option" if is_opt else "us_equity"),
                "side": f.side,
                "qty": float(f.qty),
                "price": float(f.price),
                "notional": float(f.qty * f.price * (100 if is_opt else 1)),
                "type": f.type,
            }
        )
    return out


def _looks_like_option(symbol: str) -> bool:
    try:
        parse_occ(symbol)
    except ValueError:
        return False
    return True


def waterfall_parts(
    positions: Sequence[Position], account: Account | None
) -> list[tuple[str, float]]:
    """Today's P&L by position (Alpaca's ``unrealized_intraday_pl``), plus the rest.

    The account's day P&L (equity − last_equity) also holds realised P&L of positions
    closed today and cash movements; that remainder is one explicit bar, so the
    waterfall's total is the account's day P&L and nothing is silently dropped.
    """
    parts = [(position_label(p), float(p.unrealized_intraday_pl)) for p in positions]
    if account is not None:
        total, _ = day_pnl(account)
        rest = round(total - math.fsum(v for _, v in parts), 2)
        if abs(rest) > rounding_tolerance(len(positions)):
            parts.append(("Closed today & other", rest))
    return parts


def rounding_tolerance(n_positions: int) -> float:
    """Half a cent per broker-rounded figure: below this a difference is rounding."""
    return 0.005 * (n_positions + 1)


def history_series(history: PortfolioHistory) -> pd.Series:
    """Equity by time; points where equity is zero or missing (before the account was
    funded, or a closed market in Alpaca's intraday history) are dropped."""
    idx = pd.DatetimeIndex(list(history.timestamps))
    s = pd.Series(list(history.equity), index=idx, dtype=float, name="equity")
    return s[s > 0].dropna()


# ----------------------------------------------------------------------------- cancel guard


def cancel_refusal(settings: Settings, order_symbol: str, confirmation: str | None) -> str | None:
    """Why a cancel may not be sent yet, or None.

    A cancel only ever removes risk, but on a live account (issue 11) every action on
    real money is confirmed by typing: here, the order's symbol.
    """
    if not settings.is_live:
        return None
    if (confirmation or "").strip().upper() != order_symbol.strip().upper():
        return f"Live account: type {order_symbol} to confirm the cancel."
    return None


# ----------------------------------------------------------------------------- layout


def _money_col(field: str, header: str, *, coloured: bool = False, **extra: Any) -> dict:
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {
            "function": "params.value == null ? '' : d3.format('$,.2f')(params.value)"
        },
        **extra,
    }
    if coloured:
        col["cellClassRules"] = {"text-bull": "params.value > 0", "text-bear": "params.value < 0"}
    return col


def _num_col(field: str, header: str, fmt: str = ",.2f", **extra: Any) -> dict:
    return {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {
            "function": f"params.value == null ? '' : d3.format('{fmt}')(params.value)"
        },
        **extra,
    }


POSITION_COLUMNS: list[dict[str, Any]] = [
    {"field": "contract", "headerName": "Symbol / contract", "pinned": "left", "minWidth": 150},
    {"field": "asset_class", "headerName": "Class", "width": 80},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 90},
    {"field": "side", "headerName": "Side", "width": 75},
    _money_col("avg_entry", "Avg entry", width=105),
    _money_col("current", "Current", width=100),
    _money_col("market_value", "Mkt value", width=115),
    _money_col("unrealized_pl", "Unrl. P&L", coloured=True, width=110),
    {
        **_num_col("unrealized_pct", "Unrl. %", "+.2f", width=90),
        "cellClassRules": {"text-bull": "params.value > 0", "text-bear": "params.value < 0"},
    },
    _money_col("day_pl", "Today", coloured=True, width=100),
    {
        "field": "trend",
        "headerName": "Underlying today",
        "sortable": False,
        "filter": False,
        "cellClass": "font-monospace",
        "minWidth": 150,
    },
    {"field": "pattern", "headerName": "Pattern", "width": 110},
    {
        **_num_col("progress", "To T1 %", "+.0f", width=95),
        "headerTooltip": "Journal trade progress on the underlying: 0 entry, 100 T1, -100 stop",
        "cellClassRules": {"text-bull": "params.value > 0", "text-bear": "params.value < 0"},
    },
]

ORDER_COLUMNS: list[dict[str, Any]] = [
    {"field": "created", "headerName": "Created (ET)", "width": 130, "sort": "desc"},
    {"field": "contract", "headerName": "Symbol / contract", "minWidth": 150},
    {"field": "side", "headerName": "Side", "width": 70},
    {"field": "type", "headerName": "Type", "width": 80},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 80},
    {"field": "filled_qty", "headerName": "Filled", "type": "rightAligned", "width": 80},
    _money_col("limit_price", "Limit", width=95),
    {"field": "tif", "headerName": "TIF", "width": 70},
    {"field": "status", "headerName": "Status", "width": 110},
]

FILL_COLUMNS: list[dict[str, Any]] = [
    {"field": "time", "headerName": "Time (ET)", "width": 130, "sort": "desc"},
    {"field": "contract", "headerName": "Symbol / contract", "minWidth": 150},
    {"field": "side", "headerName": "Side", "width": 70},
    {"field": "qty", "headerName": "Qty", "type": "rightAligned", "width": 80},
    _money_col("price", "Price", width=100),
    _money_col("notional", "Notional", width=115),
    {"field": "type", "headerName": "Type", "width": 100},
]


def _block(title: str, body: Any, status_id: str, extra_header: Any = None) -> dbc.Card:
    header = [html.Span(title)]
    if extra_header is not None:
        header.append(extra_header)
    return dbc.Card(
        [
            dbc.CardHeader(header, className="d-flex flex-wrap gap-2 align-items-center"),
            dbc.CardBody([body, html.Div(loading_line(), id=status_id, className="mt-1")]),
        ],
        className="mb-3",
    )


def _cancel_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Cancel order")),
            dbc.ModalBody(
                [
                    html.Div(id="portfolio-cancel-body"),
                    html.Div(
                        [
                            dbc.Label("Live account: type the order's symbol", className="small"),
                            dbc.Input(id="portfolio-cancel-live-confirm", type="text", size="sm"),
                        ],
                        id="portfolio-cancel-live-wrap",
                        style={"display": "none"},
                        className="mt-2",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        "Keep order", id="portfolio-cancel-dismiss", color="secondary", size="sm"
                    ),
                    dbc.Button(
                        "Cancel order", id="portfolio-cancel-confirm", color="danger", size="sm"
                    ),
                ]
            ),
        ],
        id="portfolio-cancel-modal",
        is_open=False,
    )


def layout(settings: Settings) -> html.Div:
    periods = dbc.RadioItems(
        id="portfolio-period",
        options=[{"label": p, "value": p} for p in PERIODS],
        value="1M",
        inline=True,
        className="btn-group btn-group-sm",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-info btn-sm",
        labelCheckedClassName="active",
    )
    return html.Div(
        [
            dbc.Row(
                [_metric_card(m) for m in portfolio_metrics(None, None, None)],
                id="portfolio-cards",
                className="g-2 mt-2",
            ),
            html.Div(loading_line(), id="portfolio-cards-status", className="mb-2"),
            _block(
                "Positions",
                data_grid(
                    "portfolio-positions-grid",
                    POSITION_COLUMNS,
                    "320px",
                    getRowId="params.data.symbol",
                ),
                "portfolio-positions-status",
                html.Span(id="portfolio-journal-note", className="small text-muted"),
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _block(
                            "Equity curve vs " + BENCHMARK,
                            dcc.Graph(
                                id="portfolio-equity-chart",
                                figure=empty_figure("loading…", kind="loading"),
                                config={"displaylogo": False, "responsive": True},
                                style={"height": "380px"},
                            ),
                            "portfolio-equity-status",
                            periods,
                        ),
                        xs=12,
                        lg=7,
                    ),
                    dbc.Col(
                        _block(
                            "Today's P&L by position",
                            dcc.Graph(
                                id="portfolio-waterfall",
                                figure=empty_figure("loading…", kind="loading"),
                                config={"displaylogo": False, "responsive": True},
                                style={"height": "380px"},
                            ),
                            "portfolio-waterfall-status",
                        ),
                        xs=12,
                        lg=5,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _block(
                            "Open orders",
                            html.Div(
                                [
                                    data_grid(
                                        "portfolio-orders-grid",
                                        ORDER_COLUMNS,
                                        "240px",
                                        getRowId="params.data.id",
                                        grid_options={"rowSelection": {"mode": "singleRow"}},
                                    ),
                                    dbc.Button(
                                        "Cancel selected order…",
                                        id="portfolio-cancel-open",
                                        color="danger",
                                        outline=True,
                                        size="sm",
                                        className="mt-2",
                                    ),
                                    html.Div(id="portfolio-cancel-result", className="mt-2"),
                                ]
                            ),
                            "portfolio-orders-status",
                        ),
                        xs=12,
                        lg=6,
                    ),
                    dbc.Col(
                        _block(
                            f"Recent fills (latest {FILLS_SHOWN}, {FILLS_DAYS} days)",
                            data_grid(
                                "portfolio-fills-grid",
                                FILL_COLUMNS,
                                "280px",
                                getRowId="params.data.id",
                            ),
                            "portfolio-fills-status",
                        ),
                        xs=12,
                        lg=6,
                    ),
                ]
            ),
            _cancel_modal(),
            dcc.Store(id="portfolio-cancel-target"),
            dcc.Store(id="portfolio-cancel-done"),
        ],
        id=f"{TAB_ID}-root",
    )


# ----------------------------------------------------------------------------- callbacks


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """Everything one refresh puts on screen (the callback unpacks it)."""

    metrics: list[Metric]
    cards_status: DataResult[Any]
    position_rows: list[dict[str, Any]]
    positions_status: DataResult[Any]
    journal_note: str
    order_rows: list[dict[str, Any]]
    orders_status: DataResult[Any]
    fill_rows: list[dict[str, Any]]
    fills_status: DataResult[Any]
    waterfall: go.Figure
    waterfall_status: DataResult[Any]


_WORST = {DataState.ERROR: 3, DataState.STALE: 2, DataState.EMPTY: 1, DataState.FRESH: 0}


def worst_of(*results: DataResult[Any]) -> DataResult[Any]:
    """The least trustworthy of several results (a block is as good as its worst input).

    Among equals the first is kept, so the block's main source is named."""
    return max(results, key=lambda r: _WORST[r.state])


def active_trades_by_symbol(journal: Any) -> dict[str, JournalTradeLike] | None:
    """Open journal trades by contract symbol; None when no journal is connected."""
    if journal is None:
        return None
    trades = journal.active_trades()
    return {t.contract_symbol: t for t in trades}


def _quote_prices(quotes: DataResult[dict[str, Quote]]) -> dict[str, float]:
    out = {}
    for sym, q in (quotes.value or {}).items():
        if q.bid > 0 and q.ask > 0:
            out[sym] = q.mid
    return out


def build_portfolio_view(services: Services) -> PortfolioView:
    """One refresh: account, positions, orders, clock and quotes (one concurrent gather),
    fills alongside, then the day's bars of the held underlyings for the trend column."""
    data = services.data

    async def gather() -> tuple[PortfolioSnapshot, DataResult[tuple[Fill, ...]], Any]:
        # The trend bars of the last known holdings ride in the same round as the
        # snapshot; only a changed holding costs a second round.
        guess = data.held_underlyings_hint()
        bars_read = data.fetch_bars_many(guess, [TREND_TIMEFRAME], TREND_LOOKBACK)
        snap, fills, bars = await asyncio.gather(
            data.fetch_portfolio_data(), data.fetch_fills(FILLS_DAYS, FILLS_SHOWN), bars_read
        )
        held = sorted(
            {underlying_symbol(p.symbol, p.asset_class) for p in snap.positions.value or ()}
        )
        if held and set(held) != set(guess):
            bars = await data.fetch_bars_many(held, [TREND_TIMEFRAME], TREND_LOOKBACK)
        return snap, fills, bars

    snap, fills, bars = run_async(gather())
    positions = snap.positions.value
    account = snap.account.value
    clock = snap.clock.value
    held = {underlying_symbol(p.symbol, p.asset_class) for p in positions or ()}
    trends = {
        sym: trend_text(session_closes(res.value))
        for (sym, _tf), res in bars.items()
        if sym in held
    }
    trades = active_trades_by_symbol(services.extras.get("journal"))
    if trades is None:
        note = "journal not connected: pattern and progress unavailable"
    else:
        linked = sum(1 for p in positions or () if p.symbol in trades)
        note = f"journal: {linked} of {len(positions or ())} positions linked to a trade"
    prices = _quote_prices(snap.quotes)

    rows = position_rows(positions or (), trends=trends, trades=trades, underlying_prices=prices)
    if account is None or positions is None:
        reason = "account" if account is None else "positions"
        waterfall = empty_figure(f"{reason} unavailable", kind="error", uirevision="pnl-waterfall")
    elif not positions and float(account.equity - account.last_equity) == 0:
        waterfall = empty_figure("No P&L today", uirevision="pnl-waterfall")
    else:
        _, pct = day_pnl(account)
        waterfall = create_pnl_waterfall(
            waterfall_parts(positions, account),
            expected_total=day_pnl(account)[0],
            tolerance=rounding_tolerance(len(positions)),
            title=f"Day P&L {format_pct(pct)}",
            uirevision="pnl-waterfall",
        )
    return PortfolioView(
        metrics=portfolio_metrics(account, positions, clock),
        cards_status=worst_of(snap.account, snap.positions, snap.clock),
        position_rows=rows,
        positions_status=worst_of(snap.positions, snap.quotes) if positions else snap.positions,
        journal_note=note,
        order_rows=order_rows(snap.open_orders.value or ()),
        orders_status=snap.open_orders,
        fill_rows=fill_rows(fills.value or ()),
        fills_status=fills,
        waterfall=waterfall,
        waterfall_status=worst_of(snap.account, snap.positions),
    )


def build_equity_figure(services: Services, period: str) -> tuple[go.Figure, DataResult[Any]]:
    """Equity for ``period`` with drawdown, and SPY rebased to the first equity point."""
    if period not in HISTORY_TIMEFRAME:
        raise ValueError(f"unknown period {period!r}")
    tf = HISTORY_TIMEFRAME[period]
    data = services.data
    bar_tf = BAR_TIMEFRAME[tf]

    # The benchmark starts from the last known history's start, in the same round.
    hint = data.portfolio_history_start_hint(period, tf)
    bench_from = hint - BENCH_MARGIN if hint is not None else None

    hist, bench_res = run_all(
        data.fetch_portfolio_history(period, tf),
        data.fetch_bars_history(BENCHMARK, bar_tf, bench_from) if bench_from else None,
    )
    if hist.value is None:
        return empty_figure("equity history unavailable", kind="error"), hist
    equity = history_series(hist.value)
    if equity.empty:
        return empty_figure(f"No equity history for {period}", uirevision="equity-curve"), hist
    start = equity.index[0].to_pydatetime() - BENCH_MARGIN  # a bar at or before t0
    if bench_res is None or bench_from is None or bench_from > start:
        bench_res = run_async(data.fetch_bars_history(BENCHMARK, bar_tf, start))
    bench = None
    if bench_res.value is not None and not bench_res.value.empty:
        bench = normalise_to(bench_res.value["close"], equity).rename(BENCHMARK)
    fig = create_equity_curve(
        equity, bench, title=f"Equity · {period}", uirevision=f"equity-curve-{period}"
    )
    return fig, worst_of(hist, bench_res)


def register_callbacks(app: Dash, services: Services) -> None:
    @app.callback(
        Output("portfolio-cards", "children"),
        Output("portfolio-cards-status", "children"),
        Output("portfolio-positions-grid", "rowData"),
        Output("portfolio-positions-status", "children"),
        Output("portfolio-journal-note", "children"),
        Output("portfolio-orders-grid", "rowData"),
        Output("portfolio-orders-status", "children"),
        Output("portfolio-fills-grid", "rowData"),
        Output("portfolio-fills-status", "children"),
        Output("portfolio-waterfall", "figure"),
        Output("portfolio-waterfall-status", "children"),
        Input("portfolio-interval", "n_intervals"),
        Input("portfolio-cancel-done", "data"),
    )
    def refresh_portfolio(_n: int | None, _done: Any) -> tuple[Any, ...]:
        v = build_portfolio_view(services)
        return (
            [_metric_card(m) for m in v.metrics],
            status_line(v.cards_status),
            v.position_rows,
            status_line(v.positions_status, empty_text="no open positions"),
            v.journal_note,
            v.order_rows,
            status_line(v.orders_status, empty_text="no open orders"),
            v.fill_rows,
            status_line(v.fills_status, empty_text=f"no fills in {FILLS_DAYS} days"),
            v.waterfall,
            status_line(v.waterfall_status),
        )

    @app.callback(
        Output("portfolio-equity-chart", "figure"),
        Output("portfolio-equity-status", "children"),
        Input("portfolio-interval", "n_intervals"),
        Input("portfolio-period", "value"),
    )
    def refresh_equity(_n: int | None, period: str | None) -> tuple[Any, Any]:
        fig, res = build_equity_figure(services, period or "1M")
        return fig, status_line(res, empty_text="no equity history yet")

    @app.callback(
        Output("portfolio-cancel-modal", "is_open"),
        Output("portfolio-cancel-body", "children"),
        Output("portfolio-cancel-live-wrap", "style"),
        Output("portfolio-cancel-target", "data"),
        Output("portfolio-cancel-result", "children", allow_duplicate=True),
        Input("portfolio-cancel-open", "n_clicks"),
        Input("portfolio-cancel-dismiss", "n_clicks"),
        State("portfolio-orders-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def open_cancel(_open: int | None, _dismiss: int | None, selected: Any) -> tuple[Any, ...]:
        from dash import ctx

        if ctx.triggered_id != "portfolio-cancel-open":
            return False, no_update, no_update, None, no_update
        return cancel_dialog(services.settings, selected)

    @app.callback(
        Output("portfolio-cancel-result", "children"),
        Output("portfolio-cancel-modal", "is_open", allow_duplicate=True),
        Output("portfolio-cancel-done", "data"),
        Input("portfolio-cancel-confirm", "n_clicks"),
        State("portfolio-cancel-target", "data"),
        State("portfolio-cancel-live-confirm", "value"),
        prevent_initial_call=True,
    )
    def confirm_cancel(_n: int | None, target: Any, confirmation: str | None) -> tuple[Any, ...]:
        return send_cancel(services, target, confirmation)


def cancel_dialog(settings: Settings, selected: Any) -> tuple[Any, ...]:
    """(is_open, body, live-input style, target, result) for the cancel button."""
    if not selected:
        alert = dbc.Alert("Select an open order first.", color="warning", className="py-1 small")
        return False, no_update, no_update, None, alert
    row = selected[0]
    body = html.Div(
        [
            dbc.Badge(
                settings.mode_label,
                color="danger" if settings.is_live else "info",
                className="me-2",
            ),
            html.Span(
                f"Cancel {row['side']} {row.get('qty') or ''} {row['contract']} "
                f"({row['type']}, {row['status']})?"
            ),
            html.Div(f"order id {row['id']}", className="small text-muted"),
        ]
    )
    style = {"display": "block"} if settings.is_live else {"display": "none"}
    target = {"id": row["id"], "symbol": row["symbol"]}
    return True, body, style, target, None


def send_cancel(services: Services, target: Any, confirmation: str | None) -> tuple[Any, ...]:
    """Cancel the targeted order; the result names the broker's answer."""
    from dashboard.data_loaders.errors import UpstreamError

    if not target:
        return no_update, False, no_update
    refusal = cancel_refusal(services.settings, target["symbol"], confirmation)
    if refusal:
        return dbc.Alert(refusal, color="warning", className="py-1 small"), True, no_update
    try:
        run_async(services.data.cancel_order(target["id"]))
    except UpstreamError as exc:
        msg = f"Cancel failed: {exc.message}"
        return dbc.Alert(msg, color="danger", className="py-1 small"), False, target["id"]
    msg = f"Cancel sent for {target['symbol']} (order {target['id']})."
    return dbc.Alert(msg, color="success", className="py-1 small"), False, target["id"]


__all__ = [
    "BENCHMARK",
    "HISTORY_TIMEFRAME",
    "PERIODS",
    "TAB_ID",
    "TITLE",
    "Metric",
    "PortfolioView",
    "active_trades_by_symbol",
    "build_equity_figure",
    "build_portfolio_view",
    "cancel_dialog",
    "cancel_refusal",
    "day_pnl",
    "fill_rows",
    "format_money",
    "format_pct",
    "history_series",
    "layout",
    "market_status",
    "order_rows",
    "portfolio_metrics",
    "position_label",
    "position_rows",
    "register_callbacks",
    "rounding_tolerance",
    "send_cancel",
    "session_closes",
    "trade_progress_pct",
    "trend_text",
    "waterfall_parts",
    "worst_of",
]
