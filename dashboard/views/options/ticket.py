"""The order ticket's view: what loading a signal fills in, the expiry and strike choices,
the suggested limit, the projection at T1/T2/stop and the payoff inputs; the ticket's
binding to its signal, the live quote and where price is against the levels.

Pure: takes the chain and the broker's time the callbacks read; the contract choice is
``options.selection``'s and the validation ``trading.ticket``'s.

Binding: a loaded signal's levels are recorded in the ticket's binding (a plain dict in
the ``options-ticket-binding`` store). While the underlying and direction (and so the
contract side) are the signal's, the ticket is *bound* and the order carries the signal's
plan; changing either *unbinds* it: the signal's levels, limit, contract and reason are
cleared, and levels equal to the signal's can no longer be sent for another symbol or
direction (``foreign_levels``). "Reset to signal" restores the binding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dashboard.conventions import CONTRACT_MULTIPLIER, right_for_direction
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.expiry import days_to_expiry, years_to_expiry
from dashboard.options.occ import display_occ, format_strike
from dashboard.options.projection import (
    PayoffCurve,
    TradeProjection,
    expected_hold_days,
    payoff_curve,
    project_trade,
)
from dashboard.options.selection import (
    DEFAULT_DTE_BY_TIMEFRAME,
    ContractChoice,
    normalize_timeframe,
    select_contract,
)
from dashboard.trading.ticket import PriceCheck, TickTable, round_to_tick
from dashboard.views.formatting import format_et

TICKET_FIELDS = ("symbol", "direction", "contracts", "expiry", "strike", "limit")
LEVEL_FIELDS = ("entry", "target", "stop")
FORM_FIELDS = (*TICKET_FIELDS, *LEVEL_FIELDS)
DEFAULT_HOLD_DAYS = 3.0  # a typed-in ticket has no signal timeframe to take a hold from
IV_BAND = 0.05  # the payoff's ± band of implied volatility, in vol (0.05 = 5 points)


def parse_float(value: Any) -> float | None:
    """A finite float from a form value, or None (blank, junk, inf, NaN)."""
    if value in (None, ""):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def parse_expiry(expiry: str | date | None) -> date | None:
    if isinstance(expiry, str):
        try:
            return date.fromisoformat(expiry)
        except ValueError:
            return None
    return expiry


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


def suggested_limit(quote: OptionQuote, table: TickTable | None = None) -> float | None:
    """The mid, rounded up to the contract's tick: a fair limit for a buy."""
    mid = quote.mid
    if mid is None:
        return None
    # str() first: Decimal(float) would carry the float's binary noise onto the tick grid.
    price = Decimal(str(round(mid, 6)))
    return float(round_to_tick(quote.contract.underlying, price, down=False, table=table))


def expiry_options(expiries: list[date], now: datetime) -> list[dict[str, str]]:
    return [
        {"label": f"{e:%a %b %d '%y} ({days_to_expiry(e, now)} DTE)", "value": e.isoformat()}
        for e in expiries
    ]


def strike_options(strikes: list[Decimal], spot: float | None) -> list[dict[str, str]]:
    out = []
    for k in strikes:
        tag = " (ITM)" if spot and float(k) < spot else ""
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
    chain: OptionChain,
    direction: str,
    timeframe: str,
    now: datetime,
    spot: float | None,
    table: TickTable | None = None,
) -> TicketFill:
    """Run contract selection on the chain and describe the choice, or why there is none."""
    choice = select_contract(chain, direction, timeframe, now, underlying_price=spot)  # type: ignore[arg-type]
    expiries = chain_expiries(chain, now)
    right = right_for_direction(direction)
    if isinstance(choice, ContractChoice):
        strikes = chain_strikes(chain, choice.expiry, right)
        return TicketFill(
            expiries=expiries,
            expiry=choice.expiry,
            strikes=strikes,
            strike=choice.quote.contract.strike,
            limit=suggested_limit(choice.quote, table),
            why=f"Suggested {display_occ(choice.quote.contract.symbol)}: {choice.reason}",
        )
    first = expiries[0] if expiries else None
    strikes = chain_strikes(chain, first, right) if first else []
    return TicketFill(
        expiries, first, strikes, None, None, f"No contract suggested: {choice.reason}"
    )


def hold_days(timeframe: str | None, years: float) -> float:
    """The expected hold of a signal's timeframe (``DEFAULT_HOLD_DAYS`` without one),
    never past the contract's expiry."""
    hold = expected_hold_days(timeframe) if timeframe else DEFAULT_HOLD_DAYS
    return min(hold, max(years * 365.0 - 0.01, 0.0))


def ticket_fields(values: Mapping[str, Any], signal: Mapping[str, Any] | None) -> dict[str, Any]:
    """The validator's input: the form's values plus the loaded signal's plan, only while
    the ticket is bound to it (same underlying and direction; see ``is_bound``)."""
    fields = dict(values)
    if signal and is_bound(signal, values):
        fields.update(
            pattern=signal.get("label"),
            timeframe=signal.get("timeframe"),
            signal_id=signal.get("id"),
            target2=signal.get("target2"),
            tfc=signal.get("tfc"),
            rules=signal.get("rules"),
        )
    return fields


@dataclass(frozen=True, slots=True)
class ProjectionView:
    """The ticket's projection, or why there is none (``missing``)."""

    projection: TradeProjection | None
    max_loss: float = 0.0
    iv: float = 0.0
    missing: str | None = None

    @property
    def summary(self) -> str:
        p = self.projection
        if p is None:
            return self.missing or ""
        text = (
            f"Max loss ${self.max_loss:,.0f} (premium) · hold {p.hold_days:.1f} d · "
            f"IV {self.iv * 100:.1f}%"
        )
        return text + (f" · R {p.r_multiple:.2f}" if p.r_multiple else "")


def projection_view(
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
) -> ProjectionView:
    """Projected option value at T1/T2/stop after the expected hold, and the max loss."""
    iv = quote.iv
    if iv is None or not math.isfinite(iv) or iv <= 0:
        return ProjectionView(None, missing="No projection: the quote has no implied volatility.")
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
        hold_days=hold_days(timeframe, years),
        entry_price=limit,
        contracts=contracts,
    )
    return ProjectionView(proj, max_loss=limit * CONTRACT_MULTIPLIER * contracts, iv=iv)


@dataclass(frozen=True, slots=True)
class PayoffView:
    """The payoff after the hold with its IV band, and today's curve, for one contract."""

    curve: PayoffCurve
    today: PayoffCurve
    band: tuple[PayoffCurve, PayoffCurve]
    hold: float
    contracts: int
    premium: float


PAYOFF_MARGIN = 0.15  # of the trade's span, added on each side of the payoff's x range
PAYOFF_MIN_SPAN = 0.02  # of spot: the narrowest x range (levels a few cents apart)
PAYOFF_POINTS = 201


def payoff_frame(
    *, spot: float, strike: float, levels: Sequence[float | None] = ()
) -> tuple[float, float]:
    """The underlying prices the payoff chart spans: the trade's levels (stop to T2 or
    T1, and the entry) with spot, widened by ``PAYOFF_MARGIN`` of that span on each side
    and never narrower than ``PAYOFF_MIN_SPAN`` of spot. Without levels (a typed-in
    ticket) it spans spot and the strike instead, so the payoff's kink is in view."""
    given = [v for v in levels if v is not None and math.isfinite(v) and v > 0]
    points = [spot, *given] if given else [spot, strike]
    lo, hi = min(points), max(points)
    widen = max(PAYOFF_MARGIN * (hi - lo), (PAYOFF_MIN_SPAN * spot - (hi - lo)) / 2.0)
    return max(lo - widen, 0.01), hi + widen


def payoff_view(
    quote: OptionQuote,
    *,
    premium: float,
    spot: float,
    iv: float,
    now: datetime,
    timeframe: str | None,
    contracts: int,
    levels: Sequence[float | None] = (),
) -> PayoffView:
    """P&L across underlying prices: at expiry, after the expected hold (with IV ± the
    band) and today, over ``payoff_frame`` of the trade's ``levels``."""
    years = years_to_expiry(quote.contract.expiry, now)
    hold = hold_days(timeframe, years)
    qty = max(contracts, 1)
    strike = float(quote.contract.strike)
    lo, hi = payoff_frame(spot=spot, strike=strike, levels=levels)
    common: dict[str, Any] = {
        "right": quote.contract.right,
        "strike": strike,
        "premium": premium,
        "contracts": qty,
        "spot": spot,
        "years": years,
        "days_forward": hold,
    }
    step = (hi - lo) / (PAYOFF_POINTS - 1)
    prices = [lo + i * step for i in range(PAYOFF_POINTS)]
    curve = payoff_curve(iv=iv, prices=prices, **common)
    band = (
        payoff_curve(iv=max(iv - IV_BAND, 0.01), prices=curve.prices, **common),
        payoff_curve(iv=iv + IV_BAND, prices=curve.prices, **common),
    )
    today = payoff_curve(iv=iv, prices=curve.prices, **{**common, "days_forward": 0.0})
    return PayoffView(curve, today, band, hold, qty, premium)


# ---- binding to the loaded signal -------------------------------------------------------------

BOUND_LEVELS = ("entry", "target", "stop", "limit")  # what a signal puts in the form's numbers
LEVEL_NAMES = {"entry": "entry", "target": "T1", "stop": "stop", "limit": "limit"}


def _symbol(value: Any) -> str:
    return str(value or "").strip().upper()


def is_bound(binding: Mapping[str, Any] | None, values: Mapping[str, Any]) -> bool:
    """The form still shows the signal's underlying and direction, and was not unbound."""
    return bool(
        binding
        and binding.get("state", "bound") == "bound"
        and binding.get("symbol")
        and _symbol(values.get("symbol")) == _symbol(binding.get("symbol"))
        and values.get("direction") == binding.get("direction")
    )


def bind(
    plan: Mapping[str, Any], row: Mapping[str, Any] | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The binding recorded when a signal loads: its plan (``signal_plan``), its board row
    (status, levels) and what the load put in the form (contract, limit, reason)."""
    row = row or {}
    out: dict[str, Any] = {**plan, "state": "bound"}
    out["symbol"] = _symbol(plan.get("symbol") or row.get("symbol") or values.get("symbol"))
    out["direction"] = plan.get("direction") or row.get("direction") or values.get("direction")
    out["status"] = row.get("status") or plan.get("status")
    for name, row_key in (("entry", "entry"), ("target", "target1"), ("stop", "stop")):
        out[name] = row.get(row_key, values.get(name))
    for name in ("limit", "expiry", "strike", "expiry_options", "strike_options", "why"):
        out[name] = values.get(name)
    return out


def unbind(binding: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The binding after the form left the signal (kept, so "Reset to signal" can restore it)."""
    return {**binding, "state": "unbound", "left_to": _describe(values)}


def _describe(values: Mapping[str, Any]) -> str:
    return f"{_symbol(values.get('symbol')) or 'no underlying'} {values.get('direction') or ''}".strip()


def unbound_text(binding: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """Why the ticket no longer carries the signal, and what to do."""
    sym, direction = _symbol(values.get("symbol")), values.get("direction")
    changes = []
    if sym != _symbol(binding.get("symbol")):
        changes.append(f"the underlying to {sym or '(blank)'}")
    if direction != binding.get("direction"):
        right = "calls" if direction == "long" else "puts"
        changes.append(f"the direction to {direction} ({right})")
    what = " and ".join(changes) or "the ticket"
    return (
        f"Unbound from {signal_name(binding)}: you changed {what}. Its entry, stop, T1, T2, "
        "limit, contract and reason were cleared; enter new levels, or Reset to signal."
    )


def signal_name(binding: Mapping[str, Any]) -> str:
    parts = [binding.get("symbol"), binding.get("label"), binding.get("timeframe")]
    name = " ".join(str(p) for p in parts if p)
    return f"the {name} {binding.get('direction', '')} signal".replace("  ", " ")


def foreign_levels(values: Mapping[str, Any], binding: Mapping[str, Any] | None) -> dict[str, str]:
    """Form levels that are the loaded signal's while the ticket is not bound to it: such
    an order would carry another symbol's (or the other direction's) plan, so it is
    refused field by field."""
    if not binding or not binding.get("symbol") or is_bound(binding, values):
        return {}
    out: dict[str, str] = {}
    for name in ("entry", "target", "stop"):
        mine, theirs = parse_float(values.get(name)), parse_float(binding.get(name))
        if mine is not None and theirs is not None and abs(mine - theirs) < 0.005:
            out[name] = (
                f"{mine:,.2f} is the {LEVEL_NAMES[name]} of {signal_name(binding)}, not of "
                f"{_describe(values)}; enter this trade's own level or Reset to signal."
            )
    return out


# ---- the live quote and the price against the levels ---------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteView:
    """The contract's quote as the ticket shows it: mark = mid (the app's one mark)."""

    text: str
    warning: str | None
    mark: float | None
    spread_pct: float | None
    age_seconds: float | None


def quote_view(quote: OptionQuote, now: datetime, max_spread_pct: float) -> QuoteView:
    """Bid, ask, mark, the spread as a % of the mark and the quote's age on the broker's
    clock; a warning when the spread is wider than ``max_spread_pct``."""
    bid, ask, mark = quote.bid, quote.ask, quote.mid
    spread_pct = (
        (ask - bid) / mark * 100.0 if bid is not None and ask is not None and mark else None
    )
    age = (now - quote.as_of).total_seconds() if quote.as_of is not None else None
    when = (
        f"quote {format_et(quote.as_of)}, {max(age or 0.0, 0.0):,.0f} s old"
        if quote.as_of is not None
        else "quote time not given by the source"
    )
    parts = [
        display_occ(quote.contract.symbol),
        f"bid {_num(bid)}",
        f"ask {_num(ask)}",
        f"mark (mid) {_num(mark)}",
        f"spread {_num(quote.spread)} ({spread_pct:.1f}% of mark)"
        if spread_pct is not None
        else "spread —",
        when,
    ]
    warning = None
    if spread_pct is not None and spread_pct > max_spread_pct:
        warning = (
            f"Wide market: the spread is {spread_pct:.1f}% of the mark (warns above "
            f"{max_spread_pct:g}%, DASHBOARD_MAX_SPREAD_PCT); a limit near the ask overpays."
        )
    elif mark is None:
        warning = "No two-sided market: there is no mark to price a limit from."
    return QuoteView(" · ".join(parts), warning, mark, spread_pct, age)


def _num(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:,.2f}"


def price_lines(check: PriceCheck) -> list[str]:
    """Where price is now against the trigger, T1 and stop, and R:R from here."""
    c = check
    up = c.direction == "long"
    trig = (
        "traded (in force)"
        if c.triggered
        else f"not traded yet, {abs(c.entry - c.price):,.2f} {'below' if up else 'above'}"
    )
    to_t1 = (c.target - c.price) if up else (c.price - c.target)
    to_stop = (c.price - c.stop) if up else (c.stop - c.price)
    rr = f"{c.remaining_rr:.2f}" if c.remaining_rr is not None else "—"
    setup = f"{c.setup_rr:.2f}" if c.setup_rr is not None else "—"
    t1 = (
        f"T1 {c.target:,.2f}: {to_t1:,.2f} away ({c.to_target:.0%} of the way from the entry)"
        if to_t1 > 0
        else f"T1 {c.target:,.2f}: reached (price {-to_t1:,.2f} beyond it)"
    )
    stop = (
        f"stop {c.stop:,.2f}: {to_stop:,.2f} away ({c.to_stop:.0%} of the way from the entry)"
        if to_stop > 0
        else f"stop {c.stop:,.2f}: traded (price {-to_stop:,.2f} beyond it)"
    )
    return [
        f"Price now {c.price:,.2f} · trigger {c.entry:,.2f}: {trig}",
        f"{t1} · {stop}",
        f"Reward:risk (underlying) from here {rr} · from the setup's entry {setup}",
    ]


def pending_text(check: PriceCheck) -> str:
    """What a buy-now ticket on a pending setup must say."""
    side = "above" if check.direction == "long" else "below"
    return (
        f"PENDING setup: the trigger {check.entry:,.2f} has not traded (price "
        f"{check.price:,.2f}). In The Strat you are not in the trade until price trades "
        f"{side} the trigger; this order buys now, before it."
    )
