"""The order ticket's view: what loading a signal fills in, the expiry and strike choices,
the suggested limit, the projection at T1/T2/stop and the payoff inputs.

Pure: takes the chain and the broker's time the callbacks read; the contract choice is
``options.selection``'s and the validation ``trading.ticket``'s.
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
from dashboard.trading.ticket import round_to_tick

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
    chain: OptionChain, direction: str, timeframe: str, now: datetime, spot: float | None
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
            limit=suggested_limit(choice.quote),
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
