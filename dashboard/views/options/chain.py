"""The option chain and flow grids: calls and puts side by side per strike, and the most
active contracts by premium traded."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from dashboard.conventions import (
    CONTRACT_MULTIPLIER,
    Direction,
    Right,
    direction_for_right,
    right_for_direction,
)
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.occ import display_occ, format_strike
from dashboard.views.formatting import format_money

FLOW_EXPIRIES = 4  # the nearest expiries carry most of the volume


def chain_rows(
    chain: OptionChain,
    expiry: date,
    moneyness_pct: float,
    ticket: tuple[str, Decimal] | None = None,
) -> tuple[list[dict[str, Any]], float | None]:
    """Calls and puts side by side per strike within ±moneyness of spot; ATM flagged.

    Theta and vega are per contract in dollars (the quote's per-share figures ×
    ``CONTRACT_MULTIPLIER``): theta a calendar day's decay, vega the change for one vol
    point. Delta, gamma and IV stay per share. ``ticket`` (right "C"/"P", strike) marks the
    ticket's contract: its row gets ``ticket`` = that right.
    """
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
        row[p + "theta"] = None if q.theta is None else round(q.theta * CONTRACT_MULTIPLIER, 2)
        row[p + "vega"] = None if q.vega is None else round(q.vega * CONTRACT_MULTIPLIER, 2)
        if ticket is not None and (c.right, c.strike) == ticket:
            row["ticket"] = c.right
    rows = [by_strike[k] for k in sorted(by_strike)]
    if spot and rows:
        atm = min(rows, key=lambda r: abs(r["strike"] - spot))
        atm["atm"] = True
    return rows, spot


PriceSide = Literal["bid", "mid", "ask"]
PRICE_SIDES: tuple[PriceSide, ...] = ("bid", "mid", "ask")
_RIGHT_NAME = {"C": "call", "P": "put"}
_DIRECTION_NAME = {"long": "long (bull)", "short": "short (bear)"}


@dataclass(frozen=True)
class ChainPick:
    """A chain click the ticket takes: the contract, and a buy limit at the price clicked."""

    contract: str  # OCC symbol
    right: Right
    direction: Direction
    strike: str  # as the ticket's strike selector holds it ("600", "602.5")
    side: PriceSide  # which price the limit is
    limit: float
    why: str


@dataclass(frozen=True)
class ChainRefusal:
    """A chain click the ticket refuses, and why; the ticket stays as it was."""

    message: str


def chain_click(
    row: Mapping[str, Any],
    column: str,
    clicked: object,
    held_direction: str | None,
) -> ChainPick | ChainRefusal | None:
    """What clicking the chain's ``column`` cell in ``row`` loads into the ticket.

    A call ("c_…") or put ("p_…") cell picks that contract. Bid, Mid and Ask load a buy
    limit at exactly the price clicked (``clicked``, the cell's value as shown: never a
    re-fetched or re-rounded mid); any other cell of the contract (a greek, IV, volume)
    loads it at the mid its row shows. ``held_direction`` is the direction of the signal
    the ticket holds (None when it holds none): a contract of the other right contradicts
    it (a put for a long, a call for a short) and is refused, so the direction never
    flips under a signal's levels. Without a signal the contract sets the direction.
    None when the cell is not a contract's (the strike column).
    """
    if not column.startswith(("c_", "p_")):
        return None
    right: Right = "C" if column.startswith("c_") else "P"
    prefix, field = column[:2], column[2:]
    name = _RIGHT_NAME[right]
    symbol = row.get(prefix + "symbol")
    strike = row.get("strike_key")
    if not symbol or not strike:
        return ChainRefusal(f"No {name} at this strike in the chain; the ticket is unchanged.")
    label = display_occ(str(symbol))
    if held_direction in _DIRECTION_NAME and right != right_for_direction(held_direction):
        wanted = _RIGHT_NAME[right_for_direction(held_direction)]
        return ChainRefusal(
            f"{label} is a {name}: it contradicts the ticket's "
            f"{_DIRECTION_NAME[held_direction]} signal, which buys a {wanted}. "
            f"The ticket is unchanged; click a {wanted}, or pick another signal."
        )
    side: PriceSide = next((s for s in PRICE_SIDES if s == field), "mid")
    price = clicked if side == field else row.get(prefix + "mid")
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price):
        price = None
    if price is None or price <= 0:
        return ChainRefusal(f"{label} has no {side} to buy at; the ticket is unchanged.")
    return ChainPick(
        contract=str(symbol),
        right=right,
        direction=direction_for_right(right),
        strike=str(strike),
        side=side,
        limit=float(price),
        why=f"Picked from the chain: {label} · buy limit at the {side} {format_money(price)}",
    )


def flow_rows(quotes: list[OptionQuote], top: int = 15) -> list[dict[str, Any]]:
    """The most active contracts: volume, open interest, volume/OI and premium traded."""
    rows: list[dict[str, Any]] = []
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
                "premium": round(q.volume * mid * CONTRACT_MULTIPLIER, 0)
                if mid is not None
                else None,
                "side": side,
            }
        )
    rows.sort(key=lambda r: -(r["premium"] or 0.0))
    return rows[:top]
