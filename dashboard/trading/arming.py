"""Armed entries: a software conditional order on the underlying (pure rules, no I/O).

In The Strat you are in the trade when the trigger trades (strat.md §1.2: "enter the
instant price breaks the trigger"), not when the setup is seen. Alpaca has no conditional
order on the underlying for options, so an *armed entry* waits here: the trade monitor
feeds it the underlying's trades and minute bars and sends the option order the moment
the trigger trades, within the premium limits the user set when arming.

Lifecycle::

    armed ─▶ triggered ─▶ sent            (the entry order went to the broker)
      │          │
      └──────────┴──▶ disarmed (reason)   stop traded first · opposite break ·
                                          arming window ended · cancelled by the user ·
                                          premium outside the limits · no quote ·
                                          order refused

The arming window is the scanner's setup expiry (``strat.setups.SETUP_EXPIRE_BARS``):
a setup that has not triggered within that many bars of its timeframe after the setup
bar is expired on the board, so its arming ends at the close of the last of those bars.
"""

from __future__ import annotations

import calendar
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from dashboard.conventions import (
    NEW_YORK,
    RISK_FREE_RATE,
    Direction,
    Right,
    right_for_direction,
)
from dashboard.models import OptionQuote
from dashboard.options.expiry import years_to_expiry
from dashboard.options.pricing import bs_price
from dashboard.strat.setups import SETUP_EXPIRE_BARS
from dashboard.strat.timeframes import (
    FOUR_HOUR_STARTS,
    INTRADAY_MINUTES,
    SESSION_CLOSE,
    bar_close_time,
)
from dashboard.trading.ticket import TickTable, round_to_tick

__all__ = [
    "ACTIVE_ARMING",
    "ARMING_MOVES",
    "ArmedEntry",
    "ArmingDecision",
    "ArmingStatus",
    "ContractChoice",
    "ContractRule",
    "DisarmReason",
    "PriceObservation",
    "TriggerDistance",
    "arming_refusal",
    "arming_window_end",
    "choose_contract",
    "evaluate_arming",
    "premium_at_trigger",
    "premium_cap",
    "trigger_distance",
]

SESSION_OPEN = time(9, 30)
ContractRule = Literal["fixed", "nearest_strike"]


class ArmingStatus(enum.StrEnum):
    ARMED = "armed"  # waiting for the trigger to trade
    TRIGGERED = "triggered"  # the trigger traded; the entry order is being sent
    SENT = "sent"  # the entry order reached the broker (see its trade)
    DISARMED = "disarmed"  # ended without an order (see the reason)


class DisarmReason(enum.StrEnum):
    STOP_FIRST = "stop_first"
    OPPOSITE_BREAK = "opposite_break"
    WINDOW_ENDED = "window_ended"
    USER_CANCELLED = "user_cancelled"
    OUTSIDE_LIMITS = "outside_limits"
    NO_QUOTE = "no_quote"
    ORDER_REFUSED = "order_refused"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS: dict[DisarmReason, str] = {
    DisarmReason.STOP_FIRST: "stop traded before the trigger",
    DisarmReason.OPPOSITE_BREAK: "setup broken on the opposite side",
    DisarmReason.WINDOW_ENDED: "arming window ended",
    DisarmReason.USER_CANCELLED: "cancelled by the user",
    DisarmReason.OUTSIDE_LIMITS: "premium outside the limits",
    DisarmReason.NO_QUOTE: "no tradable quote for the contract",
    DisarmReason.ORDER_REFUSED: "entry order refused",
}

ACTIVE_ARMING = (ArmingStatus.ARMED, ArmingStatus.TRIGGERED)
ARMING_MOVES: dict[ArmingStatus, frozenset[ArmingStatus]] = {
    ArmingStatus.ARMED: frozenset({ArmingStatus.TRIGGERED, ArmingStatus.DISARMED}),
    ArmingStatus.TRIGGERED: frozenset({ArmingStatus.SENT, ArmingStatus.DISARMED}),
    ArmingStatus.SENT: frozenset(),
    ArmingStatus.DISARMED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class ArmedEntry:
    """One armed entry as the journal stores it.

    ``trigger``, ``stop``, ``target1``/``target2`` and ``opposite`` are underlying prices
    (``opposite``: the setup bar's other extreme, whose break invalidates the setup; None
    when it is the stop). ``projected_premium`` is the option's model value with the
    underlying at the trigger, computed when it was armed; ``max_slippage`` is how far
    above it (per share) the entry may pay, ``max_premium`` an absolute cap.
    """

    id: int
    created_at: datetime
    updated_at: datetime
    status: ArmingStatus
    signal_id: str | None
    symbol: str
    timeframe: str
    pattern: str | None
    direction: Direction
    trigger: float
    stop: float
    target1: float
    target2: float | None
    opposite: float | None
    contract: str
    expiry: date
    strike: Decimal
    right: Right
    contract_rule: ContractRule
    quantity: int
    max_premium: Decimal | None
    max_slippage: Decimal | None
    projected_premium: Decimal | None
    armed_at: datetime
    expires_at: datetime
    tfc: str | None = None
    rules: str | None = None
    live: bool = False
    reason: DisarmReason | None = None
    detail: str | None = None
    triggered_at: datetime | None = None
    trigger_price: float | None = None
    trade_id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ARMING

    @property
    def request_key(self) -> str:
        """The journal's request key for this arming's one trade (a repeat finds it)."""
        return f"armed-{self.id}"


# ---- the arming window ----------------------------------------------------------------------


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, 1)


FOUR_HOUR_MIDDAY = FOUR_HOUR_STARTS[1]  # the first 4-hour bar's close


def arming_window_end(
    timeframe: str, setup_bar_start: datetime, bars: int = SETUP_EXPIRE_BARS
) -> datetime:
    """When an untriggered setup stops being valid: the close of the ``bars``-th bar after
    the setup bar (the board's expiry rule), on the New York session clock.

    Intraday bars count only regular-session time (09:30–16:00 ET, weekdays); daily bars
    count weekdays. Exchange holidays are not known here, so the window can end up to a
    holiday early, never late.
    """
    if bars < 1:
        raise ValueError("an arming window needs at least one bar")
    setup_close = bar_close_time(timeframe, setup_bar_start)
    if timeframe in INTRADAY_MINUTES:
        step = timedelta(minutes=INTRADAY_MINUTES[timeframe])
        t = setup_close.astimezone(NEW_YORK)
        for _ in range(bars):
            if t.weekday() >= 5 or t.time() >= SESSION_CLOSE:
                t = datetime.combine(_next_weekday(t.date()), SESSION_OPEN, tzinfo=NEW_YORK)
            elif t.time() < SESSION_OPEN:
                t = datetime.combine(t.date(), SESSION_OPEN, tzinfo=NEW_YORK)
            t = min(t + step, datetime.combine(t.date(), SESSION_CLOSE, tzinfo=NEW_YORK))
        return t
    if timeframe == "4Hour":  # the session's 09:30-13:30 and 13:30-16:00 bars
        t = setup_close.astimezone(NEW_YORK)
        for _ in range(bars):
            if t.weekday() < 5 and t.time() < FOUR_HOUR_MIDDAY:
                t = datetime.combine(t.date(), FOUR_HOUR_MIDDAY, tzinfo=NEW_YORK)
            elif t.weekday() < 5 and t.time() < SESSION_CLOSE:
                t = datetime.combine(t.date(), SESSION_CLOSE, tzinfo=NEW_YORK)
            else:
                nxt = _next_weekday(t.date())
                t = datetime.combine(nxt, FOUR_HOUR_MIDDAY, tzinfo=NEW_YORK)
        return t
    day = setup_close.astimezone(NEW_YORK).date()
    if timeframe == "1Day":
        for _ in range(bars):
            day = _next_weekday(day)
        return datetime.combine(day, SESSION_CLOSE, tzinfo=NEW_YORK)
    if timeframe == "1Week":
        friday = day + timedelta(days=4 - day.weekday())
        return datetime.combine(friday + timedelta(weeks=bars), SESSION_CLOSE, tzinfo=NEW_YORK)
    if timeframe in ("1Month", "1Quarter"):
        # The setup bar closes in its period's last month; ``bars`` periods later is the
        # last month of a later period.
        first = _add_months(day, bars * (3 if timeframe == "1Quarter" else 1))
        last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        while last.weekday() >= 5:
            last -= timedelta(days=1)
        return datetime.combine(last, SESSION_CLOSE, tzinfo=NEW_YORK)
    raise ValueError(f"unknown timeframe {timeframe!r}")


# ---- the trigger test ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceObservation:
    """What the underlying did over a span: a minute bar (its high and low), or one trade
    (high == low == the price). ``at`` is the span's start; ``end`` its end."""

    at: datetime
    high: float
    low: float
    end: datetime | None = None

    @classmethod
    def trade(cls, at: datetime, price: float) -> PriceObservation:
        return cls(at, price, price, at)


@dataclass(frozen=True, slots=True)
class ArmingDecision:
    """What the monitor must do with one armed entry now."""

    entry_id: int
    action: Literal["wait", "trigger", "disarm"]
    reason: DisarmReason | None = None
    price: float | None = None  # the underlying price that decided it
    at: datetime | None = None
    detail: str = ""


def evaluate_arming(
    entry: ArmedEntry, observations: Iterable[PriceObservation], now: datetime
) -> ArmingDecision:
    """Walk the underlying's prices since the arming, oldest first; the first event wins.

    - Trigger: a long's high reaches the trigger (a short's low reaches it).
    - Stop traded first: the adverse extreme reaches the stop before any trigger.
    - Opposite break: the adverse extreme passes ``opposite`` before any trigger.
    - One bar that reaches both the trigger and an invalidation is not entered: inside a
      bar the order is unknown, and an entry that is at once stopped is no trade.
    - Window ended: ``now`` is at or past ``expires_at`` with no trigger before it.
    Observations that start before ``armed_at`` (a bar that began before the arming may
    hold prices from before it) or at/after ``expires_at`` are ignored.
    """
    if entry.status is not ArmingStatus.ARMED:
        return ArmingDecision(entry.id, "wait", detail=f"entry is {entry.status}")
    up = entry.direction == "long"
    ordered = sorted(observations, key=lambda o: o.at)
    for obs in ordered:
        if not (math.isfinite(obs.high) and math.isfinite(obs.low)):
            continue
        if obs.at < entry.armed_at or obs.at >= entry.expires_at:
            continue
        fav = obs.high if up else obs.low
        adv = obs.low if up else obs.high
        hit = fav >= entry.trigger if up else fav <= entry.trigger
        stopped = adv <= entry.stop if up else adv >= entry.stop
        broken = entry.opposite is not None and (
            adv < entry.opposite if up else adv > entry.opposite
        )
        if stopped or broken:
            reason = DisarmReason.STOP_FIRST if stopped else DisarmReason.OPPOSITE_BREAK
            level = entry.stop if stopped else entry.opposite
            same = " in the same bar as the trigger (order unknown: not entered)" if hit else ""
            return ArmingDecision(
                entry.id,
                "disarm",
                reason,
                adv,
                obs.at,
                f"{entry.symbol} traded {adv:,.2f} through the "
                f"{'stop' if stopped else 'setup bar'} {level:,.2f}{same}",
            )
        if hit:
            return ArmingDecision(
                entry.id,
                "trigger",
                None,
                entry.trigger,
                obs.at,
                f"{entry.symbol} traded {fav:,.2f} through the trigger {entry.trigger:,.2f}",
            )
    if now >= entry.expires_at:
        return ArmingDecision(
            entry.id,
            "disarm",
            DisarmReason.WINDOW_ENDED,
            None,
            entry.expires_at,
            f"no trigger within {SETUP_EXPIRE_BARS} {entry.timeframe} bars of the setup",
        )
    return ArmingDecision(entry.id, "wait")


@dataclass(frozen=True, slots=True)
class TriggerDistance:
    """How far the underlying is from the trigger, in the trade's direction (positive:
    still to travel), and from the stop (positive: room left)."""

    to_trigger: float
    to_trigger_pct: float
    to_stop: float


def trigger_distance(entry: ArmedEntry, price: float) -> TriggerDistance:
    sign = 1.0 if entry.direction == "long" else -1.0
    to_trigger = sign * (entry.trigger - price)
    return TriggerDistance(
        to_trigger=to_trigger,
        to_trigger_pct=to_trigger / price * 100.0 if price > 0 else math.nan,
        to_stop=sign * (price - entry.stop),
    )


# ---- contract and price at the trigger -------------------------------------------------------


def premium_cap(entry: ArmedEntry) -> Decimal | None:
    """The most the entry may pay per share: the tighter of the absolute cap and the
    projected premium at the trigger plus the allowed slippage; None when neither is set."""
    caps: list[Decimal] = []
    if entry.max_premium is not None:
        caps.append(entry.max_premium)
    if entry.max_slippage is not None and entry.projected_premium is not None:
        caps.append(entry.projected_premium + entry.max_slippage)
    return min(caps) if caps else None


@dataclass(frozen=True, slots=True)
class ContractChoice:
    """The contract and limit to send, or why none can be (``refusal``)."""

    contract: str | None
    strike: Decimal | None
    limit: Decimal | None
    refusal: DisarmReason | None = None
    detail: str = ""


def _ask(q: OptionQuote | None) -> float | None:
    if q is None or q.ask is None or not math.isfinite(q.ask) or q.ask <= 0:
        return None
    return q.ask


def choose_contract(
    entry: ArmedEntry,
    quotes: Mapping[str, OptionQuote] | Sequence[OptionQuote],
    table: TickTable | None = None,
) -> ContractChoice:
    """Pick the contract and a marketable limit at the trigger, within the user's limits.

    The limit is the ask rounded up to the option's tick (a buyer who waited for the
    trigger must not miss it over a cent). ``fixed``: the armed contract or nothing;
    ``nearest_strike``: the armed contract if it has an ask, else the nearest strike with
    an ask at the same expiry and right. A limit above ``premium_cap`` refuses.
    """
    by_symbol = (
        dict(quotes) if isinstance(quotes, Mapping) else {q.contract.symbol: q for q in quotes}
    )
    right = right_for_direction(entry.direction)
    candidates: list[OptionQuote] = []
    own = by_symbol.get(entry.contract)
    if _ask(own) is not None and own is not None:
        candidates.append(own)
    elif entry.contract_rule == "nearest_strike":
        same = [
            q
            for q in by_symbol.values()
            if q.contract.expiry == entry.expiry
            and q.contract.right == right
            and _ask(q) is not None
        ]
        same.sort(key=lambda q: (abs(q.contract.strike - entry.strike), q.contract.strike))
        candidates.extend(same[:1])
    if not candidates:
        return ContractChoice(
            None,
            None,
            None,
            DisarmReason.NO_QUOTE,
            f"{entry.contract} has no ask"
            + ("" if entry.contract_rule == "fixed" else " and no strike at its expiry has one"),
        )
    pick = candidates[0]
    ask = _ask(pick)
    assert ask is not None
    limit = round_to_tick(entry.symbol, Decimal(str(ask)), down=False, table=table)
    cap = premium_cap(entry)
    if cap is not None and limit > cap:
        return ContractChoice(
            pick.contract.symbol,
            pick.contract.strike,
            limit,
            DisarmReason.OUTSIDE_LIMITS,
            f"ask {limit:.2f} is above the cap {cap:.2f}"
            + (
                f" (projected {entry.projected_premium:.2f} + slippage {entry.max_slippage:.2f})"
                if entry.projected_premium is not None and entry.max_slippage is not None
                else ""
            ),
        )
    moved = (
        "" if pick.contract.symbol == entry.contract else f" (re-selected from {entry.contract})"
    )
    return ContractChoice(
        pick.contract.symbol,
        pick.contract.strike,
        limit,
        None,
        f"{pick.contract.symbol} at the ask {limit:.2f}{moved}",
    )


# ---- may this setup be armed? ----------------------------------------------------------------


def arming_refusal(
    *,
    status: str,
    direction: Direction,
    trigger: float,
    stop: float,
    price: float | None,
    now: datetime,
    expires_at: datetime,
) -> str | None:
    """Why a setup cannot be armed now, or None. Only a *pending* setup whose trigger
    and stop have not traded, inside its arming window, can be armed; a triggered one
    is entered now, as before."""
    if status != "pending":
        return (
            f"Only a pending setup can be armed; this one is {status}. "
            + ("Enter it now with Review order." if status == "triggered" else "")
        ).strip()
    up = direction == "long"
    if not (stop < trigger if up else stop > trigger):
        return f"The stop {stop:,.2f} is on the wrong side of the trigger {trigger:,.2f}."
    if now >= expires_at:
        return "The setup's arming window has ended."
    if price is None or not math.isfinite(price) or price <= 0:
        return "No current price for the underlying; cannot tell whether it has triggered."
    if (price >= trigger) if up else (price <= trigger):
        return f"Price {price:,.2f} is already through the trigger {trigger:,.2f}: enter it now."
    if (price <= stop) if up else (price >= stop):
        return f"Price {price:,.2f} is already through the stop {stop:,.2f}: the setup is void."
    return None


def premium_at_trigger(quote: OptionQuote, trigger: float, now: datetime) -> Decimal | None:
    """The projection of what the contract costs when the trigger trades: Black-Scholes
    at the underlying = trigger, now, at the quote's IV (the risk-free rate of
    ``conventions``), to the cent; None without an IV."""
    iv = quote.iv
    if iv is None or not math.isfinite(iv) or iv <= 0:
        return None
    c = quote.contract
    years = years_to_expiry(c.expiry, now)
    value = float(bs_price(trigger, float(c.strike), years, RISK_FREE_RATE, iv, c.right))
    if not math.isfinite(value) or value <= 0:
        return None
    return Decimal(str(round(value, 2)))
