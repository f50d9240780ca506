"""Active trades as the tab shows them: progress on the underlying's levels, P&L on the
option's mid, the P&L summary, and the journal's rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.analytics.progress import progress_to_target, r_multiple_now
from dashboard.conventions import CONTRACT_MULTIPLIER
from dashboard.options.occ import display_occ
from dashboard.views.formatting import format_et, format_money, format_number
from dashboard.visualizations.inputs import TradeProgress


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


ACTIVE_CARDS_SHOWN = 12  # more cards cost render and transfer time on every refresh


def cards_to_show(views: Sequence[TradeView], cap: int = ACTIVE_CARDS_SHOWN) -> list[TradeView]:
    """Every trade (newest first) up to ``cap``; past it, the ``cap`` trades nearest an exit
    (target or stop), since those need a decision first. The rest stay on the progress
    chart and in the journal grid."""
    if len(views) <= cap:
        return list(views)
    return sorted(views, key=lambda v: 1.0 if v.progress is None else -abs(v.progress))[:cap]


def trade_view(trade: Any, underlying: float | None, option_mid: float | None) -> TradeView:
    """Progress on the underlying's levels and P&L on the option's mid."""
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
        pnl = (option_mid - float(fill)) * CONTRACT_MULTIPLIER * trade.open_qty
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


def journal_rows(trades: Sequence[Any]) -> list[dict[str, Any]]:
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


def progress_inputs(views: Sequence[TradeView]) -> list[TradeProgress]:
    """The progress chart's rows: every active trade with a price for its underlying."""
    return [
        TradeProgress(
            label=display_occ(v.trade.contract_symbol),
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


def trade_line(view: TradeView) -> str:
    """The card's line: levels, the fill, the mark and P&L, and R now."""
    t = view.trade
    fill = f"${float(t.entry_fill_price):.2f}" if t.entry_fill_price is not None else "unfilled"
    return (
        f"{t.underlying} {format_number(view.underlying_price)} · entry {format_number(t.entry_level)}"
        f" · T1 {format_number(t.target_level)} · stop {format_number(t.stop_level)} · fill {fill}"
        f" · mid {format_number(view.option_mid)} · P&L {format_money(view.pnl, signed=True)}"
        + (f" ({view.pnl_pct:+.1f}%)" if view.pnl_pct is not None else "")
        + (f" · {view.r_now:+.2f}R" if view.r_now is not None else "")
    )
