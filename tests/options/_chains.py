"""Hand-made option chains for selection/projection tests (deltas from our BS)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from dashboard.models import OptionChain, OptionContract, OptionQuote
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import build_occ
from dashboard.options.pricing import bs_greeks


def make_quote(
    expiry: date,
    right: str,
    strike: float,
    *,
    spot: float,
    now: datetime,
    iv: float = 0.25,
    spread: float = 0.05,
    oi: int | None = 5_000,
    with_delta: bool = True,
    with_iv: bool = True,
    root: str = "SPY",
) -> OptionQuote:
    t = years_to_expiry(expiry, now)
    g = bs_greeks(spot, strike, t, 0.04, iv, right)
    mid = float(g.price)
    contract = OptionContract(
        symbol=build_occ(root, expiry, right, Decimal(str(strike))),
        underlying=root,
        expiry=expiry,
        right=right,  # type: ignore[arg-type]
        strike=Decimal(str(strike)),
        open_interest=oi,
    )
    return OptionQuote(
        contract=contract,
        bid=max(mid - spread / 2, 0.0),
        ask=mid + spread / 2,
        last=mid,
        volume=100,
        open_interest=oi,
        iv=iv if with_iv else None,
        delta=float(g.delta) if with_delta else None,
        gamma=float(g.gamma),
        theta=float(g.theta),
        vega=float(g.vega),
        as_of=now,
    )


def make_chain(
    expiries: list[date],
    strikes: list[float],
    *,
    spot: float,
    now: datetime,
    **kwargs: object,
) -> OptionChain:
    quotes = tuple(
        make_quote(e, right, k, spot=spot, now=now, **kwargs)  # type: ignore[arg-type]
        for e in expiries
        for right in ("C", "P")
        for k in strikes
    )
    return OptionChain("SPY", spot, quotes, "test", now, tuple(expiries))
