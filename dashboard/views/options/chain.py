"""The option chain and flow grids: calls and puts side by side per strike, and the most
active contracts by premium traded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dashboard.conventions import CONTRACT_MULTIPLIER
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.occ import display_occ, format_strike

FLOW_EXPIRIES = 4  # the nearest expiries carry most of the volume


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
