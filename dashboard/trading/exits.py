"""Managed exits for options (software OCO): pure decisions, no I/O.

Alpaca accepts no bracket, OCO or OTO orders for options, so the STRAT target and stop
live here and are watched on the *underlying*, as the signal defined them. The shell
(``exit_monitor.ExitMonitor``) feeds prices in and sends the orders this module asks for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from dashboard.models import OptionQuote
from dashboard.options.expiry import NEW_YORK, days_to_expiry, is_expired
from dashboard.trading.records import ExitReason, JournalTrade, TradeStatus
from dashboard.trading.ticket import TickTable, round_to_tick

__all__ = ["ExitConfig", "ExitDecision", "evaluate_exits", "exit_limit_price"]


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Monitor-wide rules; a trade's own ``dte_floor``/``max_loss_pct`` override the defaults."""

    expiry_cutoff: time = time(15, 30)  # New York time on expiry day: close, don't gamble on it
    default_dte_floor: int | None = None
    default_max_loss_pct: float | None = None
    max_exit_attempts: int = 5  # after this many unfilled exits, stop and leave it to a human
    ticks: TickTable | None = None  # the Penny list in force (settings); None: the shipped one


@dataclass(frozen=True, slots=True)
class ExitDecision:
    trade_id: int
    reason: ExitReason
    underlying_price: float | None
    detail: str
    limit_price: Decimal | None  # None: a market order


def exit_limit_price(
    underlying: str, quote: OptionQuote | None, table: TickTable | None = None
) -> Decimal | None:
    """A marketable sell limit: the bid rounded down to the tick of ``table`` (the Penny
    list in force); None (market) without a bid."""
    if quote is None or quote.bid is None or not math.isfinite(quote.bid) or quote.bid <= 0:
        return None
    price = round_to_tick(underlying, Decimal(str(quote.bid)), down=True, table=table)
    return price if price > 0 else None


def _level_hit(trade: JournalTrade, price: float) -> tuple[ExitReason, str] | None:
    up = trade.direction == "long"
    if (price <= trade.stop_level) if up else (price >= trade.stop_level):
        return (
            ExitReason.STOP,
            f"{trade.underlying} {price:,.2f} hit the stop {trade.stop_level:,.2f}",
        )
    if (price >= trade.target_level) if up else (price <= trade.target_level):
        return (
            ExitReason.TARGET,
            f"{trade.underlying} {price:,.2f} reached the target {trade.target_level:,.2f}",
        )
    return None


def _decide(
    trade: JournalTrade,
    price: float | None,
    quote: OptionQuote | None,
    now: datetime,
    cfg: ExitConfig,
) -> tuple[ExitReason, str] | None:
    # A previous exit that did not fill is retried with the same reason whatever the price
    # does now: a stop that was hit stays hit.
    if trade.exit_reason is not None and trade.exit_attempts > 0:
        return ExitReason(trade.exit_reason), f"retrying the {trade.exit_reason} exit"
    if price is not None and math.isfinite(price):
        hit = _level_hit(trade, price)
        if hit is not None:
            return hit
    local = now.astimezone(NEW_YORK)
    if trade.expiry <= local.date() and (
        local.time() >= cfg.expiry_cutoff or is_expired(trade.expiry, now)
    ):
        return ExitReason.EXPIRY, f"expiry day after {cfg.expiry_cutoff:%H:%M} ET"
    floor = trade.dte_floor if trade.dte_floor is not None else cfg.default_dte_floor
    if floor is not None:
        dte = days_to_expiry(trade.expiry, now)
        if dte <= floor:
            return ExitReason.DTE_FLOOR, f"{dte} DTE is at or below the floor of {floor}"
    max_loss = trade.max_loss_pct if trade.max_loss_pct is not None else cfg.default_max_loss_pct
    if max_loss is not None and trade.entry_fill_price is not None and quote is not None:
        value = quote.bid if quote.bid is not None and quote.bid > 0 else quote.mid
        entry = float(trade.entry_fill_price)
        if value is not None and entry > 0:
            lost = (entry - value) / entry * 100.0
            if lost >= max_loss:
                return (
                    ExitReason.MAX_LOSS,
                    f"premium {value:.2f} is {lost:.0f}% below entry {entry:.2f} "
                    f"(limit {max_loss:g}%)",
                )
    return None


def evaluate_exits(
    trades: Iterable[JournalTrade],
    underlying_prices: Mapping[str, float],
    option_quotes: Mapping[str, OptionQuote],
    now: datetime,
    config: ExitConfig | None = None,
) -> list[ExitDecision]:
    """Which open trades must be closed now, and why; every other trade holds.

    Stop before target (a gap through both cannot happen on one price, but an inverted
    manual edit could); then the expiry-day cutoff, the DTE floor and the premium loss
    limit. Only ``open`` trades with contracts held are considered, so a trade already
    ``exiting`` is never exited twice.
    """
    cfg = config or ExitConfig()
    out: list[ExitDecision] = []
    for trade in trades:
        if trade.status is not TradeStatus.OPEN or trade.open_qty <= 0:
            continue
        if trade.exit_attempts >= cfg.max_exit_attempts:
            continue
        price = underlying_prices.get(trade.underlying)
        quote = option_quotes.get(trade.contract_symbol)
        decided = _decide(trade, price, quote, now, cfg)
        if decided is None:
            continue
        reason, detail = decided
        out.append(
            ExitDecision(
                trade_id=trade.id,
                reason=reason,
                underlying_price=price,
                detail=detail,
                limit_price=exit_limit_price(trade.underlying, quote, cfg.ticks),
            )
        )
    return out
