"""Pick the option contract for a STRAT signal from a real listed chain.

Rules (strat.md §4.2): a call for a long signal and a put for a short one; an expiry
inside a DTE window set by the signal's timeframe (never under 5 DTE); a strike whose
|delta| sits in a target band; and a hard liquidity filter. When nothing qualifies the
answer is a ``NoContract`` that says which rule removed how many candidates, so the UI
can explain "why no trade" instead of silently picking an illiquid strike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from dashboard.conventions import RISK_FREE_RATE, Right, right_for_direction
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.expiry import days_to_expiry, is_expired, years_to_expiry
from dashboard.options.pricing import bs_greeks, implied_vol

if TYPE_CHECKING:  # typing only: importing the pricing core must not pull in the strat engine
    from dashboard.strat.signals import Direction, Pattern

__all__ = [
    "DEFAULT_DTE_BY_TIMEFRAME",
    "ContractChoice",
    "NoContract",
    "SelectionConfig",
    "normalize_timeframe",
    "select_contract",
    "select_for_pattern",
]

# strat.md §4.2: 15m → 2–7 DTE (ATLAS), floored at the 5-DTE minimum; 60m → 7–14; D → 14–45;
# W → 30–60; M → 60–120. 30Min, 4Hour and 1Quarter are not in the sources: they sit between
# their neighbours at "DTE ≥ 2–3× the expected hold" (projection.DEFAULT_HOLD_DAYS).
DEFAULT_DTE_BY_TIMEFRAME: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "15Min": (5, 7),
        "30Min": (5, 10),
        "1Hour": (7, 14),
        "4Hour": (7, 21),
        "1Day": (14, 45),
        "1Week": (30, 60),
        "1Month": (60, 120),
        "1Quarter": (130, 250),
    }
)

_TIMEFRAME_ALIASES = {
    "15m": "15Min",
    "15min": "15Min",
    "30m": "30Min",
    "30min": "30Min",
    "4h": "4Hour",
    "240min": "4Hour",
    "4hour": "4Hour",
    "q": "1Quarter",
    "1q": "1Quarter",
    "1quarter": "1Quarter",
    "quarter": "1Quarter",
    "quarterly": "1Quarter",
    "60min": "1Hour",
    "60m": "1Hour",
    "1h": "1Hour",
    "h": "1Hour",
    "1hour": "1Hour",
    "hour": "1Hour",
    "d": "1Day",
    "1d": "1Day",
    "1day": "1Day",
    "day": "1Day",
    "daily": "1Day",
    "w": "1Week",
    "1w": "1Week",
    "1week": "1Week",
    "week": "1Week",
    "weekly": "1Week",
    "m": "1Month",
    "1mo": "1Month",
    "1month": "1Month",
    "month": "1Month",
    "monthly": "1Month",
}


def normalize_timeframe(timeframe: str) -> str:
    """Map the spellings in use ("D", "60min", "1Week") to Alpaca's names."""
    key = timeframe.strip()
    if key in ("M", "1M"):  # upper-case M is month; "1Min"-style minutes never reach here
        return "1Month"
    return _TIMEFRAME_ALIASES.get(key.lower(), key)


@dataclass(frozen=True, slots=True)
class SelectionConfig:
    """Tunable selection rules; defaults are the proposals in strat.md §4.2."""

    dte_by_timeframe: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: dict(DEFAULT_DTE_BY_TIMEFRAME)
    )
    min_dte: int = 5  # hard floor whatever the timeframe rule says
    delta_min: float = 0.50
    delta_max: float = 0.70
    delta_target: float | None = None  # None: middle of the band
    max_spread_abs: float = 0.10  # a spread passes if ≤ max(abs, pct × mid)
    max_spread_pct: float = 0.05
    min_open_interest: int = 500
    allow_longer_expiry: bool = True  # if no expiry is in the window, take the next one out
    risk_free_rate: float = RISK_FREE_RATE  # only used when a quote lacks delta
    dividend_yield: float = 0.0

    @classmethod
    def leverage(cls, **overrides: object) -> SelectionConfig:
        """The "cheaper, more leverage" preset: |delta| 0.40–0.60."""
        return replace(cls(delta_min=0.40, delta_max=0.60), **overrides)  # type: ignore[arg-type]

    @property
    def target_delta(self) -> float:
        if self.delta_target is not None:
            return self.delta_target
        return 0.5 * (self.delta_min + self.delta_max)

    def dte_window(self, timeframe: str) -> tuple[int, int] | None:
        window = self.dte_by_timeframe.get(normalize_timeframe(timeframe))
        if window is None:
            return None
        lo, hi = window
        return max(lo, self.min_dte), max(hi, self.min_dte)

    def spread_limit(self, mid: float) -> float:
        return max(self.max_spread_abs, self.max_spread_pct * mid)


@dataclass(frozen=True, slots=True)
class ContractChoice:
    quote: OptionQuote
    reason: str
    right: Right
    expiry: date
    dte: int
    delta: float  # signed
    delta_source: str  # "quote", "quote iv" or "iv from mid"
    mid: float
    spread: float
    open_interest: int
    candidates: int  # contracts of the right side in the chosen expiry's delta band


@dataclass(frozen=True, slots=True)
class NoContract:
    reason: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    quote: OptionQuote
    delta: float
    source: str


def _open_interest(q: OptionQuote) -> int | None:
    return q.open_interest if q.open_interest is not None else q.contract.open_interest


def _delta(
    q: OptionQuote, spot: float | None, now: datetime, cfg: SelectionConfig
) -> tuple[float, str] | None:
    """Broker delta if present, else BS delta from the quote's IV, else from IV of the mid."""
    if q.delta is not None and math.isfinite(q.delta):
        return float(q.delta), "quote"
    if spot is None or spot <= 0:
        return None
    c = q.contract
    t = years_to_expiry(c.expiry, now)
    iv, source = q.iv, "quote iv"
    if iv is None or not math.isfinite(iv) or iv <= 0:
        mid = q.mid
        if mid is None or t <= 0:
            return None
        iv = float(
            implied_vol(
                mid, spot, float(c.strike), t, cfg.risk_free_rate, c.right, cfg.dividend_yield
            )
        )
        source = "iv from mid"
        if not math.isfinite(iv):
            return None
    g = bs_greeks(spot, float(c.strike), t, cfg.risk_free_rate, iv, c.right, cfg.dividend_yield)
    return float(g.delta), source


def _chain_expiries(chain: OptionChain) -> list[date]:
    listed: Iterable[date] = chain.expiries or {q.contract.expiry for q in chain.quotes}
    return sorted(set(listed))


def _pick_expiries(
    expiries: list[date], now: datetime, window: tuple[int, int], cfg: SelectionConfig
) -> tuple[list[date], str]:
    """Eligible expiries, best first (closest to the window's middle), plus a note."""
    live = [e for e in expiries if not is_expired(e, now)]
    lo, hi = window
    inside = [e for e in live if lo <= days_to_expiry(e, now) <= hi]
    if inside:
        mid = 0.5 * (lo + hi)
        return sorted(inside, key=lambda e: (abs(days_to_expiry(e, now) - mid), e)), ""
    if cfg.allow_longer_expiry:
        longer = [e for e in live if days_to_expiry(e, now) > hi]
        if longer:
            return [min(longer)], f" (no listed expiry in {lo}–{hi} DTE; next one out)"
    return [], ""


def select_contract(
    chain: OptionChain,
    direction: Direction,
    timeframe: str,
    now: datetime,
    config: SelectionConfig | None = None,
    *,
    underlying_price: float | None = None,
) -> ContractChoice | NoContract:
    """Choose the contract for a signal, or say precisely why none qualifies.

    ``now`` must be timezone-aware: it decides which expiries are still alive (an expiry
    today is dead after 16:00 New York time and has 0 DTE before it, below any window).
    """
    cfg = config or SelectionConfig()
    if direction not in ("long", "short"):
        raise ValueError(f"direction must be 'long' or 'short', got {direction!r}")
    right: Right = right_for_direction(direction)
    side = "call" if right == "C" else "put"
    window = cfg.dte_window(timeframe)
    if window is None:
        known = ", ".join(cfg.dte_by_timeframe)
        return NoContract(f"no DTE rule for timeframe {timeframe!r} (configured: {known})")
    lo, hi = window
    spot = underlying_price if underlying_price is not None else chain.underlying_price
    expiries, expiry_note = _pick_expiries(_chain_expiries(chain), now, window, cfg)
    if not expiries:
        return NoContract(
            f"no listed {chain.underlying} expiry with {lo}–{hi} DTE "
            f"({normalize_timeframe(timeframe)} rule, minimum {cfg.min_dte})"
        )

    band_lo, band_hi, target = cfg.delta_min, cfg.delta_max, cfg.target_delta
    by_expiry: dict[date, list[OptionQuote]] = {}
    for q in chain.quotes:
        if q.contract.right == right and q.contract.tradable:
            by_expiry.setdefault(q.contract.expiry, []).append(q)

    counts = {"side": 0, "no_delta": 0, "out_of_band": 0, "no_quote": 0, "spread": 0, "oi": 0}
    for expiry in expiries:
        quotes = by_expiry.get(expiry, [])
        counts["side"] += len(quotes)
        liquid: list[tuple[_Candidate, float, float, int]] = []
        in_band = 0
        for q in quotes:
            d = _delta(q, spot, now, cfg)
            if d is None:
                counts["no_delta"] += 1
                continue
            if not band_lo <= abs(d[0]) <= band_hi:
                counts["out_of_band"] += 1
                continue
            in_band += 1
            mid, spread = q.mid, q.spread
            if mid is None or spread is None or mid <= 0 or spread < 0:
                counts["no_quote"] += 1
                continue
            oi = _open_interest(q)
            spread_ok = spread <= cfg.spread_limit(mid) + 1e-9
            oi_ok = oi is not None and oi >= cfg.min_open_interest
            counts["spread"] += not spread_ok
            counts["oi"] += not oi_ok
            if spread_ok and oi_ok:
                liquid.append((_Candidate(q, d[0], d[1]), mid, spread, int(oi)))  # type: ignore[arg-type]
        if liquid:
            best, mid, spread, oi = min(
                liquid, key=lambda t: (abs(abs(t[0].delta) - target), t[2], -t[3])
            )
            dte = days_to_expiry(expiry, now)
            reason = (
                f"{side} |Δ| {abs(best.delta):.2f} (band {band_lo:.2f}–{band_hi:.2f}, "
                f"target {target:.2f}); {dte} DTE ({normalize_timeframe(timeframe)} rule "
                f"{lo}–{hi}){expiry_note}; spread ${spread:.2f}, OI {oi:,}"
            )
            return ContractChoice(
                quote=best.quote,
                reason=reason,
                right=right,
                expiry=expiry,
                dte=dte,
                delta=best.delta,
                delta_source=best.source,
                mid=mid,
                spread=spread,
                open_interest=oi,
                candidates=in_band,
            )

    return NoContract(_explain(counts, side, cfg, expiries, now))


def _explain(
    counts: dict[str, int], side: str, cfg: SelectionConfig, expiries: list[date], now: datetime
) -> str:
    exp_text = ", ".join(f"{e:%Y-%m-%d} ({days_to_expiry(e, now)} DTE)" for e in expiries)
    if counts["side"] == 0:
        return f"no {side}s listed for eligible expiries {exp_text}"
    band = f"|Δ| {cfg.delta_min:.2f}–{cfg.delta_max:.2f}"
    in_band = counts["side"] - counts["no_delta"] - counts["out_of_band"]
    if in_band == 0:
        parts = [f"no {side} in {band} among {counts['side']} listed for {exp_text}"]
        if counts["no_delta"]:
            parts.append(f"{counts['no_delta']} had no delta or IV")
        return "; ".join(parts)
    limit = f"max(${cfg.max_spread_abs:.2f}, {cfg.max_spread_pct:.0%} of mid)"
    parts = []
    if counts["spread"]:
        parts.append(f"{counts['spread']} failed spread ≤ {limit}")
    if counts["oi"]:
        parts.append(f"{counts['oi']} failed OI ≥ {cfg.min_open_interest:,}")
    if counts["no_quote"]:
        parts.append(f"{counts['no_quote']} had no two-sided quote")
    return f"no liquid contract: {in_band} {side}s in {band} for {exp_text}; " + "; ".join(parts)


def select_for_pattern(
    chain: OptionChain,
    pattern: Pattern,
    now: datetime,
    config: SelectionConfig | None = None,
    *,
    underlying_price: float | None = None,
) -> ContractChoice | NoContract:
    """``select_contract`` driven by a detected pattern's direction and timeframe."""
    if not pattern.timeframe:
        return NoContract(f"pattern {pattern.label} has no timeframe, so no DTE rule applies")
    return select_contract(
        chain,
        pattern.direction,
        pattern.timeframe,
        now,
        config,
        underlying_price=underlying_price,
    )
