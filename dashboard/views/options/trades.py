"""Active trades as the tab shows them: progress, R and P&L measured from the fill, the
P&L attribution since the fill, armed entries waiting for their trigger, the P&L summary
and the journal's rows.

Progress, distance to the stop and the underlying R are measured from the underlying's
price at the option fill (the journal records it), not from the setup's entry: a late
entry starts nearer its stop, and the card must say so. Open P&L is marked at the
option's mid (``conventions.OPTION_MARK``), the same mark Live Portfolio uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.analytics.progress import progress_to_target, r_multiple_now
from dashboard.conventions import (
    CONTRACT_MULTIPLIER,
    OPTION_MARK,
    RISK_FREE_RATE,
    format_new_york,
)
from dashboard.models import OptionQuote
from dashboard.options.attribution import Attribution, OptionState, attribute_pnl
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import display_occ
from dashboard.options.pricing import bs_price
from dashboard.trading.arming import ArmedEntry, premium_cap, trigger_distance
from dashboard.views.formatting import format_et, format_money, format_number
from dashboard.visualizations.inputs import TradeProgress

MARK_NOTE = (
    f"Option P&L is marked at the {OPTION_MARK} ((bid + ask) / 2) of the latest quote, "
    "here and in Live Portfolio. Progress, distance to stop and R are measured from the "
    "underlying's price at the option fill. Underlying R: move from the fill over the "
    "fill-to-stop distance. R on premium: option P&L over the premium paid (the most a "
    "long option can lose). Option reward:risk: Black-Scholes value at T1 and at the stop "
    "now, at the IV of the fill, against the fill price. Attribution: greeks at the fill "
    "applied to the moves since (spot, days, IV); the residual is what they miss."
)


@dataclass(frozen=True, slots=True)
class TradeView:
    """One journal trade with live prices: what a row of active trades shows."""

    trade: Any  # JournalTrade
    underlying_price: float | None
    option_mid: float | None
    progress: float | None  # -1 stop … 0 fill … 1 target, from the underlying at the fill
    r_now: float | None  # underlying R from the fill
    pnl: float | None  # dollars, open quantity at the option mid
    pnl_pct: float | None  # R on premium, in percent of the premium paid
    base: float | None = None  # the underlying price progress is measured from
    base_is_fill: bool = False  # False: the fill's price is unknown, the setup entry is used
    to_stop_pct: float | None = None  # share of the fill-to-stop distance already lost
    option_rr: float | None = None  # option reward:risk from the fill (see MARK_NOTE)
    attribution: Attribution | None = None
    attribution_note: str | None = None  # why there is no attribution


ACTIVE_CARDS_SHOWN = 12  # more cards cost render and transfer time on every refresh


def cards_to_show(views: Sequence[TradeView], cap: int = ACTIVE_CARDS_SHOWN) -> list[TradeView]:
    """Every trade (newest first) up to ``cap``; past it, the ``cap`` trades nearest an exit
    (target or stop), since those need a decision first. The rest stay on the progress
    chart and in the journal grid."""
    if len(views) <= cap:
        return list(views)
    return sorted(views, key=lambda v: 1.0 if v.progress is None else -abs(v.progress))[:cap]


def _option_rr(trade: Any, now: datetime | None) -> float | None:
    """(value at T1 − fill) / (fill − value at stop): BS now, at the fill's IV."""
    fill = trade.entry_fill_price
    iv = getattr(trade, "fill_iv", None)
    if fill is None or iv is None or now is None or not iv > 0:
        return None
    years = years_to_expiry(trade.expiry, now)
    strike, right = float(trade.strike), str(trade.right)
    at_t1 = float(bs_price(trade.target_level, strike, years, RISK_FREE_RATE, iv, right))
    at_stop = float(bs_price(trade.stop_level, strike, years, RISK_FREE_RATE, iv, right))
    risk = float(fill) - at_stop
    if not (risk > 0 and math.isfinite(at_t1)):
        return None
    return (at_t1 - float(fill)) / risk


def _attribution(
    trade: Any, underlying: float | None, quote: OptionQuote | None, now: datetime | None
) -> tuple[Attribution | None, str | None]:
    """P&L since the fill split by greek, or why it cannot be (what is missing)."""
    fill = trade.entry_fill_price
    base = getattr(trade, "fill_underlying_price", None)
    iv0 = getattr(trade, "fill_iv", None)
    filled_at = getattr(trade, "entry_filled_at", None)
    if fill is None or filled_at is None:
        return None, "not filled"
    if base is None or iv0 is None or not iv0 > 0:
        return None, "no underlying price or IV recorded at the fill"
    if underlying is None or quote is None or quote.mid is None or now is None:
        return None, "no current price"
    iv1 = quote.iv if quote.iv is not None and quote.iv > 0 else iv0
    qty = trade.open_qty if trade.open_qty > 0 else trade.entry_filled_qty
    entry_state = OptionState(
        base, years_to_expiry(trade.expiry, trade.entry_filled_at), iv0, float(fill)
    )
    now_state = OptionState(underlying, years_to_expiry(trade.expiry, now), iv1, quote.mid)
    try:
        return (
            attribute_pnl(
                entry_state, now_state, strike=float(trade.strike), right=str(trade.right), qty=qty
            ),
            None if quote.iv else "IV unchanged (the quote has none)",
        )
    except ValueError as exc:
        return None, str(exc)


def trade_view(
    trade: Any,
    underlying: float | None,
    option_mid: float | None,
    *,
    quote: OptionQuote | None = None,
    now: datetime | None = None,
) -> TradeView:
    """Progress and R from the underlying at the fill, P&L at the option's mid, and the
    P&L attribution since the fill (when the quote and the broker's time are given)."""
    progress = r_now = pnl = pnl_pct = to_stop = None
    fill_under = getattr(trade, "fill_underlying_price", None)
    base = fill_under if fill_under is not None else trade.entry_level
    if underlying is not None:
        try:
            progress = progress_to_target(
                trade.direction, base, underlying, trade.target_level, trade.stop_level
            )
            r_now = r_multiple_now(trade.direction, base, underlying, trade.stop_level)
            to_stop = max(0.0, -r_now) * 100.0
        except ValueError:  # the fill was already beyond T1 or the stop
            progress = r_now = to_stop = None
    fill = trade.entry_fill_price
    if option_mid is not None and fill is not None and trade.open_qty > 0:
        pnl = (option_mid - float(fill)) * CONTRACT_MULTIPLIER * trade.open_qty
        pnl_pct = (option_mid / float(fill) - 1.0) * 100.0 if float(fill) > 0 else None
    attribution, why = _attribution(trade, underlying, quote, now)
    return TradeView(
        trade,
        underlying,
        option_mid,
        progress,
        r_now,
        pnl,
        pnl_pct,
        base=base,
        base_is_fill=fill_under is not None,
        to_stop_pct=to_stop,
        option_rr=_option_rr(trade, now),
        attribution=attribution,
        attribution_note=why,
    )


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


def journal_rows(trades: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "opened": format_et(getattr(t, "entry_filled_at", None) or t.created_at, "%m-%d %H:%M"),
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


def progress_inputs(views: Sequence[TradeView]) -> list[TradeProgress]:
    """The progress chart's rows: every active trade with a price for its underlying."""
    return [
        TradeProgress(
            label=display_occ(v.trade.contract_symbol),
            direction=v.trade.direction,
            entry=v.base if v.base is not None else v.trade.entry_level,
            current=v.underlying_price,
            target=v.trade.target_level,
            stop=v.trade.stop_level,
            option_pnl=v.pnl,
            option_pnl_pct=v.pnl_pct,
        )
        for v in views
        if v.underlying_price is not None
    ]


def trade_line(view: TradeView) -> str:
    """The card's line: levels, the fill (option and underlying), the mark and P&L."""
    t = view.trade
    fill = f"${float(t.entry_fill_price):.2f}" if t.entry_fill_price is not None else "unfilled"
    filled_at = getattr(t, "entry_filled_at", None)
    at = f" at {format_new_york(filled_at, '%H:%M:%S')} ET" if filled_at is not None else ""
    base = (
        f" · {t.underlying} at fill {format_number(view.base)}"
        if view.base_is_fill
        else " · underlying at fill unknown: measured from the setup entry"
    )
    return (
        f"{t.underlying} {format_number(view.underlying_price)} · entry {format_number(t.entry_level)}"
        f" · T1 {format_number(t.target_level)} · stop {format_number(t.stop_level)} · fill {fill}"
        f"{at}{base} · mid {format_number(view.option_mid)} · P&L "
        f"{format_money(view.pnl, signed=True)}"
    )


def r_line(view: TradeView) -> str:
    """The three R's, each named (see ``MARK_NOTE``), and the distance to the stop."""
    parts = [
        "underlying R " + (f"{view.r_now:+.2f}" if view.r_now is not None else "—"),
        "R on premium " + (f"{view.pnl_pct / 100.0:+.2f}" if view.pnl_pct is not None else "—"),
        "option reward:risk " + (f"{view.option_rr:.2f}" if view.option_rr is not None else "—"),
    ]
    if view.to_stop_pct is not None:
        parts.append(f"{view.to_stop_pct:.0f}% of the way to the stop")
    return " · ".join(parts)


def attribution_line(view: TradeView) -> str:
    """P&L since the fill by greek, in dollars; or why it is not shown."""
    a = view.attribution
    if a is None:
        return f"Attribution since the fill: {view.attribution_note or 'unavailable'}"
    parts = " · ".join(
        f"{name} {format_money(value, signed=True)}"
        for name, value in (
            ("delta", a.delta),
            ("gamma", a.gamma),
            ("theta", a.theta),
            ("vega", a.vega),
            ("residual", a.residual + a.rho),
        )
    )
    note = f" ({view.attribution_note})" if view.attribution_note else ""
    return f"Since the fill {format_money(a.actual, signed=True)} = {parts}{note}"


# ---- armed entries ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArmedView:
    entry: ArmedEntry
    underlying_price: float | None
    to_trigger: float | None  # dollars still to travel (negative: already through)
    to_trigger_pct: float | None


def armed_view(entry: ArmedEntry, underlying: float | None) -> ArmedView:
    if underlying is None or not underlying > 0:
        return ArmedView(entry, underlying, None, None)
    d = trigger_distance(entry, underlying)
    return ArmedView(entry, underlying, d.to_trigger, d.to_trigger_pct)


def armed_line(view: ArmedView) -> str:
    """What an armed entry waits for, and how far away it is."""
    e = view.entry
    dist = (
        f"{format_money(view.to_trigger)} ({view.to_trigger_pct:.2f}%) to the trigger"
        if view.to_trigger is not None and view.to_trigger_pct is not None
        else "no price for the distance"
    )
    cap = premium_cap(e)
    return (
        f"{e.symbol} {format_number(view.underlying_price)} · {e.direction} "
        f"{e.pattern or ''} {e.timeframe} · trigger {format_number(e.trigger)} · {dist} · "
        f"stop {format_number(e.stop)} · T1 {format_number(e.target1)} · {e.quantity}× "
        f"{display_occ(e.contract)} ({e.contract_rule.replace('_', ' ')})"
        + (f" · pays at most ${cap:.2f}" if cap is not None else " · no premium cap")
        + f" · window ends {format_new_york(e.expires_at, '%m-%d %H:%M')} ET"
    )


def disarmed_line(entry: ArmedEntry) -> str:
    reason = entry.reason.label if entry.reason is not None else str(entry.status)
    return (
        f"#{entry.id} {entry.symbol} {entry.direction} trigger {format_number(entry.trigger)}: "
        f"disarmed {format_new_york(entry.updated_at, '%m-%d %H:%M:%S')} ET — {reason}"
        + (f" ({entry.detail})" if entry.detail else "")
    )
