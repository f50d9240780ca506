"""Option chains on the simulated underlyings: listings, a vol surface, quotes and greeks.

Listings are fixed for a New York calendar day (strikes are centred on the previous
session's close) so a contract never disappears mid-session. Every price is
Black-Scholes on the underlying's *current* simulated price and a smile/skew around an
ATM level tied to the VIX-like index, so quotes move with the market each minute and
put-call parity holds on the mids by construction.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from dashboard.conventions import RISK_FREE_RATE
from dashboard.options.expiry import expiry_close, years_to_expiry
from dashboard.options.occ import OccSymbol, build_occ, parse_occ
from dashboard.options.pricing import Greeks, bs_greeks
from dashboard.simulator.calendar import SessionCalendar
from dashboard.simulator.market import _VOLUME_PROFILE, Market

__all__ = [
    "RISK_FREE_RATE",
    "ContractListing",
    "OptionChains",
    "OptionQuotes",
    "occ_of",
]

_INDEX_ETFS = frozenset({"SPY", "QQQ", "IWM"})
_WEEKLY_HORIZON_DAYS = 122
_MONTHLY_HORIZON_DAYS = 380
_QUOTES_CACHE_SIZE = 512  # (symbols, instant) results kept by OptionChains.quotes
_LONG_VOL = 0.19  # long-run ATM vol of the market index
_OI_BASE = {"SPY": 30000, "QQQ": 15000, "IWM": 8000, "AAPL": 9000, "NVDA": 12000, "TSLA": 12000}
_CUM_VOLUME = np.r_[0.0, np.cumsum(_VOLUME_PROFILE) / _VOLUME_PROFILE.sum()]


@lru_cache(maxsize=65536)
def occ_of(symbol: str) -> OccSymbol:
    """Cached ``parse_occ`` (the simulator parses the same symbols over and over)."""
    return parse_occ(symbol)


@dataclass(frozen=True, slots=True)
class ContractListing:
    symbol: str
    underlying: str
    expiry: date
    right: str  # "C" | "P"
    strike: float


@dataclass(frozen=True, slots=True)
class OptionQuotes:
    """Quotes and greeks of many contracts at one instant (parallel arrays)."""

    symbols: list[str]
    underlying: list[str]
    expiry: list[date]
    right: np.ndarray  # "C"/"P"
    strike: np.ndarray
    spot: np.ndarray
    T: np.ndarray
    iv: np.ndarray
    mid: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    last: np.ndarray
    last_size: np.ndarray
    volume: np.ndarray
    open_interest: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray
    rho: np.ndarray
    close_price: np.ndarray  # mid at the previous session's close

    def __len__(self) -> int:
        return len(self.symbols)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a cheap deterministic hash of uint64 arrays."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _unit(x: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) from a hash."""
    return (_mix(x) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def strike_increments(underlying: str, price: float) -> tuple[float, float]:
    """(near-the-money, far) strike spacing by price level, as listed exchanges do."""
    if underlying in _INDEX_ETFS:
        return 1.0, 5.0
    if price < 25:
        return 0.5, 1.0
    if price < 75:
        return 1.0, 2.5
    if price < 300:
        return 2.5, 5.0
    if price < 1000:
        return 5.0, 10.0
    return 10.0, 50.0


class OptionChains:
    """Everything about listed options on the simulated underlyings."""

    def __init__(self, market: Market, seed: int) -> None:
        self.market = market
        self.calendar: SessionCalendar = market.calendar
        self.seed = int(seed)
        self._strike_cache: dict[tuple[str, date, date], np.ndarray] = {}
        self._id_cache: dict[str, int] = {}
        self._quotes_cache: OrderedDict[tuple[tuple[str, ...], datetime], OptionQuotes] = (
            OrderedDict()
        )
        self._quotes_lock = threading.Lock()

    # ---- listings ---------------------------------------------------------------------
    def underlyings(self) -> tuple[str, ...]:
        return tuple(s.symbol for s in self.market.universe if not s.is_index)

    def is_underlying(self, symbol: str) -> bool:
        return self.market.has(symbol) and not self.market.spec(symbol).is_index

    def _expiry_day(self, friday: date) -> date:
        """Friday expiries move to Thursday when Friday is a holiday."""
        return friday if self.calendar.is_session(friday) else self.calendar.prev_session(friday)

    def expiries(self, t: datetime) -> list[date]:
        """Listed expiries at ``t``: weeklies to ~4 months, then quarterly/LEAPS monthlies."""
        today = self.calendar.ny_date(t)
        first_friday = today + timedelta(days=(4 - today.weekday()) % 7)
        out: set[date] = set()
        f = first_friday - timedelta(days=7)
        while f <= today + timedelta(days=_WEEKLY_HORIZON_DAYS):
            e = self._expiry_day(f)
            if expiry_close(e) > t:
                out.add(e)
            f += timedelta(days=7)
        y, m = today.year, today.month
        for _ in range(14):
            third = _third_friday(y, m)
            e = self._expiry_day(third)
            days = (e - today).days
            if _WEEKLY_HORIZON_DAYS < days <= _MONTHLY_HORIZON_DAYS and m in (1, 3, 6, 9, 12):
                out.add(e)
            m += 1
            if m > 12:
                y, m = y + 1, 1
        return sorted(out)

    def reference_price(self, underlying: str, t: datetime) -> float:
        """The close the day's strike grid is centred on (last session before today)."""
        ref_day = self.calendar.prev_session(self.calendar.ny_date(t))
        return self.market.close_on(underlying, ref_day)

    def strikes(self, underlying: str, expiry: date, t: datetime) -> np.ndarray:
        today = self.calendar.ny_date(t)
        key = (underlying, expiry, today)
        hit = self._strike_cache.get(key)
        if hit is not None:
            return hit
        ref = self.reference_price(underlying, t)
        near, far = strike_increments(underlying, ref)
        width = 0.20 if (expiry - today).days <= 35 else 0.35
        near_band = 0.10
        k_near = np.arange(
            math.ceil(ref * (1 - near_band) / near) * near, ref * (1 + near_band) + 1e-9, near
        )
        k_far = np.arange(math.ceil(ref * (1 - width) / far) * far, ref * (1 + width) + 1e-9, far)
        grid = np.unique(np.round(np.concatenate([k_near, k_far]), 3))
        grid = grid[grid > 0]
        if len(self._strike_cache) > 4096:
            self._strike_cache.clear()
        self._strike_cache[key] = grid
        return grid

    def listings(
        self,
        underlying: str,
        t: datetime,
        *,
        expiry_min: date | None = None,
        expiry_max: date | None = None,
        right: str | None = None,
        strike_min: float | None = None,
        strike_max: float | None = None,
    ) -> list[ContractListing]:
        """Listed contracts sorted by (expiry, strike, right), optionally filtered."""
        out: list[ContractListing] = []
        rights = ("C", "P") if right is None else (right,)
        for e in self.expiries(t):
            if (expiry_min and e < expiry_min) or (expiry_max and e > expiry_max):
                continue
            for k in self.strikes(underlying, e, t).tolist():
                if (strike_min is not None and k < strike_min) or (
                    strike_max is not None and k > strike_max
                ):
                    continue
                for r in rights:
                    out.append(ContractListing(build_occ(underlying, e, r, k), underlying, e, r, k))
        return out

    def is_listed(self, symbol: str, t: datetime) -> bool:
        try:
            occ = occ_of(symbol)
        except ValueError:
            return False
        if not self.is_underlying(occ.root) or occ.expiry not in self.expiries(t):
            return False
        grid = self.strikes(occ.root, occ.expiry, t)
        return bool(np.any(np.isclose(grid, float(occ.strike))))

    # ---- the vol surface ------------------------------------------------------------------
    def implied_vol(
        self, underlying: str, strike: np.ndarray, T: np.ndarray, spot: np.ndarray, vix: np.ndarray
    ) -> np.ndarray:
        """ATM level from the VIX-like index with a term structure, plus skew and smile."""
        spec = self.market.spec(underlying)
        atm_short = vix / 100.0 * spec.vol_mult
        atm_long = _LONG_VOL * spec.vol_mult
        tt = np.maximum(T, 1.0 / (365.0 * 24.0))
        atm = atm_long + (atm_short - atm_long) * np.exp(-tt / 0.3)
        fwd = spot * np.exp((RISK_FREE_RATE - spec.dividend_yield) * tt)
        x = np.clip(np.log(strike / fwd) / (atm * np.sqrt(tt)), -4.0, 4.0)
        skew, smile = (-0.10, 0.025) if underlying in _INDEX_ETFS else (-0.05, 0.03)
        return np.clip(atm * (1.0 + skew * x + smile * x * x), 0.05, 3.0)

    # ---- quotes ---------------------------------------------------------------------------
    def _contract_id(self, symbol: str) -> int:
        cid = self._id_cache.get(symbol)
        if cid is None:
            cid = zlib.crc32(symbol.encode()) ^ (self.seed << 32)
            self._id_cache[symbol] = cid
        return cid

    def _theoretical(
        self,
        underlying: str,
        strikes: np.ndarray,
        rights: np.ndarray,
        expiries: list[date],
        times: list[datetime],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Greeks]:
        """(spot, T, iv, greeks) for rows that may each have their own instant."""
        spec = self.market.spec(underlying)
        uniq = {
            tm: (self.market.price_at(underlying, tm), self.market.price_at("VIX", tm))
            for tm in set(times)
        }
        spot = np.array([uniq[tm][0] for tm in times])
        vix = np.array([uniq[tm][1] for tm in times])
        t_cache: dict[tuple[date, datetime], float] = {}
        T = np.array(
            [
                t_cache[(e, tm)]
                if (e, tm) in t_cache
                else t_cache.setdefault((e, tm), years_to_expiry(e, tm))
                for e, tm in zip(expiries, times, strict=True)
            ]
        )
        iv = self.implied_vol(underlying, strikes, T, spot, vix)
        g = bs_greeks(spot, strikes, T, RISK_FREE_RATE, iv, rights, spec.dividend_yield)
        return spot, T, iv, g

    def _spreads(
        self,
        underlying: str,
        mid: np.ndarray,
        spot: np.ndarray,
        strikes: np.ndarray,
        iv: np.ndarray,
        T: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        etf = underlying in _INDEX_ETFS
        base, pct = (0.01, 0.002) if etf else (0.02, 0.006)
        x = np.abs(np.log(strikes / spot)) / np.maximum(iv * np.sqrt(np.maximum(T, 1e-6)), 1e-6)
        half = base * (1.0 + 0.3 * np.minimum(x, 6.0)) + pct * mid
        bid = np.maximum(np.floor((mid - half) * 100 + 1e-9) / 100.0, 0.0)
        ask = np.maximum(np.ceil((mid + half) * 100 - 1e-9) / 100.0, 0.01)
        return bid, ask

    def quotes(self, symbols: list[str], t: datetime) -> OptionQuotes:
        """Quotes, greeks, sizes, volume and open interest of ``symbols`` at ``t``.

        A pure function of (symbols, t), so recent results are kept: a chain snapshot's
        quote, greeks and open-interest reads at one instant, and the day's OHLC samples
        that every OHLC read repeats, are priced once (arrays are read-only)."""
        key = (tuple(symbols), t)
        with self._quotes_lock:
            hit = self._quotes_cache.get(key)
            if hit is not None:
                self._quotes_cache.move_to_end(key)
                return hit
        result = self._price_quotes(symbols, t)
        for f in fields(result):
            value = getattr(result, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        with self._quotes_lock:
            self._quotes_cache[key] = result
            while len(self._quotes_cache) > _QUOTES_CACHE_SIZE:
                self._quotes_cache.popitem(last=False)
        return result

    def _price_quotes(self, symbols: list[str], t: datetime) -> OptionQuotes:
        n = len(symbols)
        occs = [occ_of(s) for s in symbols]
        strikes = np.array([float(o.strike) for o in occs])
        rights = np.array([o.right for o in occs])
        expiries = [o.expiry for o in occs]
        unders = [o.root for o in occs]
        out = {
            k: np.zeros(n)
            for k in ("spot", "T", "iv", "mid", "delta", "gamma", "theta", "vega", "rho", "close")
        }
        prev_day = self.calendar.prev_session(self.calendar.ny_date(t))
        prev_close_t = self.calendar.close_at(prev_day)
        for u in sorted(set(unders)):
            idx = np.array([i for i in range(n) if unders[i] == u])
            exp_u = [expiries[i] for i in idx]
            spot, T, iv, g = self._theoretical(u, strikes[idx], rights[idx], exp_u, [t] * idx.size)
            out["spot"][idx], out["T"][idx], out["iv"][idx] = spot, T, iv
            out["mid"][idx] = g.price
            for k in ("delta", "gamma", "theta", "vega", "rho"):
                out[k][idx] = getattr(g, k)
            _, _, _, gc = self._theoretical(
                u, strikes[idx], rights[idx], exp_u, [prev_close_t] * idx.size
            )
            out["close"][idx] = np.round(gc.price, 2)
        bid = np.zeros(n)
        ask = np.zeros(n)
        for u in sorted(set(unders)):
            idx = np.array([i for i in range(n) if unders[i] == u])
            bid[idx], ask[idx] = self._spreads(
                u, out["mid"][idx], out["spot"][idx], strikes[idx], out["iv"][idx], out["T"][idx]
            )
        ids = np.array([self._contract_id(s) for s in symbols], dtype=np.uint64)
        minute = np.uint64(int(t.timestamp()) // 60)
        day = np.uint64(self.calendar.ny_date(t).toordinal())
        bid_size = 1 + np.floor(_unit(ids * np.uint64(31) + minute) * 150)
        ask_size = 1 + np.floor(_unit(ids * np.uint64(37) + minute) * 150)
        oi, vol = self._interest(
            unders, strikes, out["spot"], out["T"], out["iv"], ids, day, expiries, t
        )
        last = np.round(bid + (ask - bid) * _unit(ids * np.uint64(41) + minute), 2)
        last = np.where(last <= 0, ask, last)
        last_size = 1 + np.floor(_unit(ids * np.uint64(43) + minute) * 20)
        return OptionQuotes(
            symbols=list(symbols),
            underlying=unders,
            expiry=expiries,
            right=rights,
            strike=strikes,
            spot=out["spot"],
            T=out["T"],
            iv=out["iv"],
            mid=out["mid"],
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
            last=last,
            last_size=last_size,
            volume=vol,
            open_interest=oi,
            delta=out["delta"],
            gamma=out["gamma"],
            theta=out["theta"],
            vega=out["vega"],
            rho=out["rho"],
            close_price=out["close"],
        )

    def _interest(
        self,
        unders: list[str],
        strikes: np.ndarray,
        spot: np.ndarray,
        T: np.ndarray,
        iv: np.ndarray,
        ids: np.ndarray,
        day: np.uint64,
        expiries: list[date],
        t: datetime,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Open interest (fixed per day) and today's cumulative volume, both peaked at the money."""
        base = np.array([_OI_BASE.get(u, 6000) for u in unders], dtype=float)
        x = np.log(strikes / spot) / np.maximum(iv * np.sqrt(np.maximum(T, 1.0 / 365.0)), 1e-6)
        monthly = np.array(
            [
                _third_friday(e.year, e.month) - e == timedelta(0)
                or (_third_friday(e.year, e.month) - e).days == 1
                for e in expiries
            ]
        )
        shape = np.exp(-0.5 * (x / 1.4) ** 2) * np.where(monthly, 2.0, 1.0) * np.exp(-T * 1.5)
        oi = np.round(base * shape * (0.4 + _unit(ids * np.uint64(7) + day))).astype(np.int64)
        daily = oi * (0.08 + 0.4 * _unit(ids * np.uint64(11) + day)) * (1.0 + 3.0 * np.exp(-T * 60))
        d = self.calendar.ny_date(t)
        if self.calendar.is_session(d):
            frac = _CUM_VOLUME[self.market.completed_minutes(d, t)]
        else:
            frac = 0.0
        vol = np.round(daily * frac).astype(np.int64)
        return oi, vol

    def mid_series(self, symbol: str, times: list[datetime]) -> np.ndarray:
        """Theoretical mid of one contract at many instants (for marks and history)."""
        occ = occ_of(symbol)
        k = np.full(len(times), float(occ.strike))
        r = np.full(len(times), occ.right)
        _, _, _, g = self._theoretical(occ.root, k, r, [occ.expiry] * len(times), times)
        return np.round(np.asarray(g.price, dtype=float), 2)

    def mids_for_rows(self, symbols: list[str], times: list[datetime]) -> np.ndarray:
        """Theoretical mid of each (contract, instant) row, one vectorised pass per
        underlying (marking a 500-contract book one contract at a time cost seconds)."""
        out = np.empty(len(symbols), dtype=float)
        by_root: dict[str, list[int]] = {}
        occs = [occ_of(s) for s in symbols]
        for i, o in enumerate(occs):
            by_root.setdefault(o.root, []).append(i)
        for root, rows in by_root.items():
            k = np.array([float(occs[i].strike) for i in rows])
            r = np.array([occs[i].right for i in rows])
            exp = [occs[i].expiry for i in rows]
            _, _, _, g = self._theoretical(root, k, r, exp, [times[i] for i in rows])
            out[rows] = np.round(np.asarray(g.price, dtype=float), 2)
        return out

    def mids_at(self, symbols: list[str], t: datetime) -> dict[str, float]:
        """Theoretical mids of many contracts at one instant."""
        mids = self.mids_for_rows(symbols, [t] * len(symbols))
        return {s: float(m) for s, m in zip(symbols, mids, strict=True)}

    def quote_series(self, symbol: str, times: list[datetime]) -> tuple[np.ndarray, np.ndarray]:
        """(bid, ask) of one contract at many instants (for resting order checks)."""
        occ = occ_of(symbol)
        k = np.full(len(times), float(occ.strike))
        r = np.full(len(times), occ.right)
        spot, T, iv, g = self._theoretical(occ.root, k, r, [occ.expiry] * len(times), times)
        return self._spreads(occ.root, np.asarray(g.price, dtype=float), spot, k, iv, T)

    def settlement_value(self, symbol: str) -> float:
        """Intrinsic value per share at the expiry-day close (cash settlement)."""
        occ = occ_of(symbol)
        s = self.market.close_on(occ.root, occ.expiry)
        k = float(occ.strike)
        return max(s - k, 0.0) if occ.right == "C" else max(k - s, 0.0)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)
