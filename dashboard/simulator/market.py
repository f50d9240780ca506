"""A deterministic, seeded market: regime-switching daily history plus lazy minute paths.

Why this shape:

* Daily closes come from one process (a Markov chain of bull/neutral/bear/crash regimes
  driving a market factor, per-symbol beta plus idiosyncratic noise, and a VIX-like index
  that mean-reverts to a regime level and jumps when the market falls). It is generated
  from a fixed epoch in blocks of sessions with their own seeds, so extending the horizon
  never changes what was already generated.
* For "minute days" (sessions from ``minute_start`` onwards) a 390-minute path is a
  Brownian bridge from that session's daily open to its daily close, regenerated on
  demand from ``(seed, date)``. The daily bar of a minute day *is* the aggregation of its
  minute bars, and every intraday timeframe is aggregated from the same minute bars.
* Prices are anchored so that each stock closes at its nominal price on the anchor
  session (the last session before the simulator's start).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from dashboard.simulator.calendar import MINUTES_PER_SESSION, NEW_YORK, SessionCalendar

__all__ = [
    "DEFAULT_UNIVERSE",
    "EPOCH",
    "REGIMES",
    "BarArrays",
    "Market",
    "SymbolSpec",
    "Timeframe",
    "parse_timeframe",
]

EPOCH = date(2005, 1, 3)
_BLOCK = 256
REGIMES = ("bull", "neutral", "bear", "crash")
_REGIME_DRIFT = np.array([0.20, 0.05, -0.20, -3.0])  # annualised market-factor drift
_REGIME_VOL = np.array([0.10, 0.15, 0.25, 0.55])  # annualised market-factor vol
_REGIME_VIX = np.array([13.0, 17.5, 26.0, 45.0])  # VIX level each regime pulls towards
_TRANSITION = np.array(
    [
        [0.994, 0.005, 0.0008, 0.0002],
        [0.010, 0.980, 0.008, 0.002],
        [0.004, 0.018, 0.970, 0.008],
        [0.000, 0.020, 0.100, 0.880],
    ]
)
_OVERNIGHT_SHARE = 0.2  # share of daily variance that arrives as the opening gap
_VIX_BETA = -6.0  # log-VIX move per unit of market-factor log return


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Nominal parameters of one simulated symbol."""

    symbol: str
    name: str
    price: float  # close on the anchor session
    beta: float
    idio_vol: float  # annualised idiosyncratic vol
    alpha: float  # annualised extra drift
    spread_bps: float
    adv: float  # average daily volume (shares)
    dividend_yield: float
    vol_mult: float  # ATM implied vol relative to VIX/100
    exchange: str
    is_index: bool = False


DEFAULT_UNIVERSE: tuple[SymbolSpec, ...] = (
    SymbolSpec(
        "SPY", "SPDR S&P 500 ETF Trust", 600.0, 1.0, 0.01, 0.0, 0.2, 60e6, 0.013, 1.0, "ARCA"
    ),
    SymbolSpec("QQQ", "Invesco QQQ Trust", 520.0, 1.2, 0.05, 0.02, 0.2, 40e6, 0.006, 1.2, "NASDAQ"),
    SymbolSpec(
        "IWM", "iShares Russell 2000 ETF", 225.0, 1.15, 0.08, -0.02, 0.5, 30e6, 0.012, 1.3, "ARCA"
    ),
    SymbolSpec("AAPL", "Apple Inc.", 230.0, 1.1, 0.18, 0.03, 0.5, 50e6, 0.005, 1.45, "NASDAQ"),
    SymbolSpec(
        "MSFT", "Microsoft Corporation", 430.0, 1.05, 0.16, 0.03, 0.5, 20e6, 0.007, 1.35, "NASDAQ"
    ),
    SymbolSpec(
        "NVDA", "NVIDIA Corporation", 140.0, 1.6, 0.35, 0.10, 1.0, 250e6, 0.0003, 2.5, "NASDAQ"
    ),
    SymbolSpec("TSLA", "Tesla, Inc.", 330.0, 1.5, 0.45, 0.05, 1.0, 90e6, 0.0, 3.1, "NASDAQ"),
    SymbolSpec("AMZN", "Amazon.com, Inc.", 210.0, 1.15, 0.22, 0.04, 0.5, 40e6, 0.0, 1.7, "NASDAQ"),
    SymbolSpec(
        "VIX", "Cboe Volatility Index", 16.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, "CBOE", True
    ),
)


# ---- timeframes ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Timeframe:
    """``amount`` x ``unit`` where unit is min, day, week or month."""

    amount: int
    unit: str  # "min" | "day" | "week" | "month"

    @property
    def intraday(self) -> bool:
        return self.unit == "min"


_UNIT_ALIASES = {
    "min": "min",
    "t": "min",
    "minute": "min",
    "hour": "hour",
    "h": "hour",
    "day": "day",
    "d": "day",
    "week": "week",
    "w": "week",
    "month": "month",
    "m": "month",
}


def parse_timeframe(text: str) -> Timeframe:
    """Alpaca's ``[N]Min|T``, ``[N]Hour|H``, ``1Day|D``, ``1Week|W``, ``[N]Month|M``."""
    raw = text.strip()
    digits = ""
    for ch in raw:
        if ch.isdigit():
            digits += ch
        else:
            break
    unit_text = raw[len(digits) :]
    amount = int(digits) if digits else 1
    # "M" alone is Month in Alpaca's grammar; "Min" is minutes.
    unit = _UNIT_ALIASES.get(unit_text if unit_text == "M" else unit_text.lower())
    if unit_text == "M":
        unit = "month"
    if unit is None or amount < 1:
        raise ValueError(f"invalid timeframe {text!r}")
    if unit == "hour":
        if amount > 23:
            raise ValueError(f"invalid timeframe {text!r}: hours must be 1-23")
        return Timeframe(amount * 60, "min")
    if unit == "min" and amount > 59:
        raise ValueError(f"invalid timeframe {text!r}: minutes must be 1-59")
    if unit in ("day", "week") and amount != 1:
        raise ValueError(f"invalid timeframe {text!r}: only 1{unit.capitalize()} is supported")
    if unit == "month" and amount not in (1, 2, 3, 4, 6, 12):
        raise ValueError(f"invalid timeframe {text!r}: months must be 1, 2, 3, 4, 6 or 12")
    return Timeframe(amount, unit)


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Bars of one symbol as parallel arrays; ``t`` is UTC epoch seconds of the bar start."""

    t: np.ndarray  # int64
    o: np.ndarray
    h: np.ndarray
    low: np.ndarray
    c: np.ndarray
    v: np.ndarray  # int64
    n: np.ndarray  # int64
    vw: np.ndarray

    def __len__(self) -> int:
        return int(self.t.size)

    def take(self, idx: np.ndarray | slice) -> BarArrays:
        return BarArrays(
            self.t[idx],
            self.o[idx],
            self.h[idx],
            self.low[idx],
            self.c[idx],
            self.v[idx],
            self.n[idx],
            self.vw[idx],
        )

    @staticmethod
    def empty() -> BarArrays:
        f = np.empty(0)
        i = np.empty(0, dtype=np.int64)
        return BarArrays(i, f, f, f, f, i, i, f)

    @staticmethod
    def concat(parts: list[BarArrays]) -> BarArrays:
        parts = [p for p in parts if len(p)]
        if not parts:
            return BarArrays.empty()
        return BarArrays(
            *(
                np.concatenate([getattr(p, k) for p in parts])
                for k in ("t", "o", "h", "low", "c", "v", "n", "vw")
            )
        )


def aggregate(bars: BarArrays, keys: np.ndarray, stamps: np.ndarray) -> BarArrays:
    """Aggregate consecutive bars sharing a key: O first, H max, L min, C last, V sum.

    ``keys`` must be non-decreasing; ``stamps`` gives each group's timestamp per input row.
    """
    if len(bars) == 0:
        return bars
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], keys.size] - 1
    v = np.add.reduceat(bars.v, starts)
    pv = np.add.reduceat(bars.vw * bars.v, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        vw = np.where(v > 0, pv / np.maximum(v, 1), (bars.h[starts] + bars.low[starts]) / 2)
    return BarArrays(
        t=stamps[starts],
        o=bars.o[starts],
        h=np.maximum.reduceat(bars.h, starts),
        low=np.minimum.reduceat(bars.low, starts),
        c=bars.c[ends],
        v=v,
        n=np.add.reduceat(bars.n, starts),
        vw=np.round(vw, 4),
    )


def _u_profile(n: int = MINUTES_PER_SESSION) -> np.ndarray:
    """Intraday U shape (busy open and close), mean 1."""
    m = np.arange(n, dtype=float)
    u = 1.0 + 2.2 * np.exp(-m / 25.0) + 1.4 * np.exp(-(n - 1 - m) / 20.0)
    return u / u.mean()


_VOLUME_PROFILE = _u_profile()
_VOL_PROFILE = np.sqrt(_VOLUME_PROFILE)
_VOL_PROFILE = _VOL_PROFILE / np.sqrt((_VOL_PROFILE**2).mean())


@dataclass(frozen=True, slots=True)
class _MinuteDay:
    """One session's minute bars for every symbol, arrays shaped (n_symbols, 390)."""

    o: np.ndarray
    h: np.ndarray
    low: np.ndarray
    c: np.ndarray
    v: np.ndarray
    n: np.ndarray
    vw: np.ndarray
    open_ts: int  # UTC epoch seconds of 09:30


class Market:
    """Prices and bars of every symbol at any simulated instant (thread-safe, lazy)."""

    def __init__(
        self,
        seed: int,
        anchor: date,
        *,
        universe: tuple[SymbolSpec, ...] = DEFAULT_UNIVERSE,
        minute_sessions: int = 40,
        calendar: SessionCalendar | None = None,
        horizon_years: float = 2.0,
    ) -> None:
        self.seed = int(seed)
        self.calendar = calendar or SessionCalendar()
        self.universe = universe
        self.symbols = tuple(s.symbol for s in universe)
        self._index = {s: i for i, s in enumerate(self.symbols)}
        self.anchor = self.calendar.prev_session(anchor, include=True)
        self.minute_start = self.calendar.offset_sessions(self.anchor, -(minute_sessions - 1))
        self._lock = threading.RLock()
        self._minute_cache: OrderedDict[date, _MinuteDay] = OrderedDict()
        self._daily_agg_cache: dict[date, tuple[np.ndarray, ...]] = {}
        self._beta = np.array([s.beta for s in universe])
        self._idio = np.array([s.idio_vol for s in universe])
        self._is_index = np.array([s.is_index for s in universe])
        self._generate(self.anchor + timedelta(days=int(365 * horizon_years)))

    # ---- daily process --------------------------------------------------------------------
    def _draw_block(self, block: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, 0xDA11, block])
        n = len(self.universe)
        return {
            "u": rng.random(_BLOCK),
            "f_on": rng.standard_normal(_BLOCK),
            "f_day": rng.standard_normal(_BLOCK),
            "i_on": rng.standard_normal((_BLOCK, n)),
            "i_day": rng.standard_normal((_BLOCK, n)),
            "vix": rng.standard_normal((_BLOCK, 2)),
            "hl": np.abs(rng.standard_normal((_BLOCK, n, 2))),
            "vol": rng.standard_normal((_BLOCK, n)),
        }

    def _generate(self, horizon: date) -> None:
        """(Re)build daily arrays from EPOCH to ``horizon`` (deterministic per block)."""
        dates = self.calendar.session_array(EPOCH, horizon)
        count = dates.size
        blocks = -(-count // _BLOCK)
        draws = [self._draw_block(b) for b in range(blocks)]
        d = {k: np.concatenate([x[k] for x in draws])[:count] for k in draws[0]}
        cum = np.cumsum(_TRANSITION, axis=1)
        regime = np.empty(count, dtype=np.int8)
        state = 1
        cum_rows = cum.tolist()
        for k, uk in enumerate(d["u"].tolist()):
            row = cum_rows[state]
            state = 0 if uk < row[0] else 1 if uk < row[1] else 2 if uk < row[2] else 3
            regime[k] = state
        sig_f = _REGIME_VOL[regime] / np.sqrt(252.0)
        mu_f = _REGIME_DRIFT[regime] / 252.0
        f_on = sig_f * np.sqrt(_OVERNIGHT_SHARE) * d["f_on"]
        f_day = mu_f + sig_f * np.sqrt(1 - _OVERNIGHT_SHARE) * d["f_day"]
        idio_scale = np.sqrt(_REGIME_VOL[regime] / 0.15)[:, None]
        sig_i = self._idio[None, :] / np.sqrt(252.0) * idio_scale
        alpha = np.array([s.alpha for s in self.universe])[None, :] / 252.0
        r_on = self._beta * f_on[:, None] + sig_i * np.sqrt(_OVERNIGHT_SHARE) * d["i_on"]
        r_day = (
            self._beta * f_day[:, None] + alpha + sig_i * np.sqrt(1 - _OVERNIGHT_SHARE) * d["i_day"]
        )
        log_close = np.cumsum(r_on + r_day, axis=0)
        log_open = log_close - r_day
        # VIX-like index: log mean reversion to the regime level, inverse to the market.
        vix_open = np.empty(count)
        vix_close = np.empty(count)
        target = np.log(_REGIME_VIX[regime]).tolist()
        lv = float(np.log(16.0))
        lv_min, lv_max = float(np.log(9.0)), float(np.log(90.0))
        shock_on = (_VIX_BETA * f_on + 0.025 * d["vix"][:, 0]).tolist()
        shock_day = (_VIX_BETA * f_day + 0.045 * d["vix"][:, 1]).tolist()
        for k in range(count):
            lo = lv + 0.03 * (target[k] - lv) + shock_on[k]
            lv = min(max(lo + 0.03 * (target[k] - lo) + shock_day[k], lv_min), lv_max)
            vix_open[k], vix_close[k] = min(max(lo, lv_min), lv_max), lv
        anchor_idx = int(np.searchsorted(dates, np.datetime64(self.anchor, "D")))
        anchor_idx = min(anchor_idx, count - 1)
        prices = np.array([s.price for s in self.universe])
        shift = np.log(prices) - log_close[anchor_idx]
        opens = np.exp(log_open + shift)
        closes = np.exp(log_close + shift)
        vi = [i for i, s in enumerate(self.universe) if s.is_index]
        for i in vi:
            opens[:, i] = np.exp(vix_open)
            closes[:, i] = np.exp(vix_close)
        opens = np.maximum(np.round(opens, 2), 0.01)
        closes = np.maximum(np.round(closes, 2), 0.01)
        sig_intraday = np.sqrt(
            (self._beta * sig_f[:, None]) ** 2 + sig_i**2 + (self._is_index * 0.05) ** 2
        ) * np.sqrt(1 - _OVERNIGHT_SHARE)
        top = np.maximum(opens, closes)
        bot = np.minimum(opens, closes)
        highs = np.maximum(np.round(top * np.exp(0.6 * sig_intraday * d["hl"][:, :, 0]), 2), top)
        lows = np.minimum(np.round(bot * np.exp(-0.6 * sig_intraday * d["hl"][:, :, 1]), 2), bot)
        lows = np.maximum(lows, 0.01)
        adv = np.array([s.adv for s in self.universe])
        tot = np.abs(r_on + r_day) / np.maximum(sig_intraday, 1e-9)
        vols = adv * (_REGIME_VOL[regime] / 0.15)[:, None] ** 0.7 * np.exp(0.25 * d["vol"])
        vols = vols * (1.0 + 0.3 * np.minimum(tot, 4.0))
        self.dates = dates
        self.regime = regime
        self.d_open, self.d_high, self.d_low, self.d_close = opens, highs, lows, closes
        self.d_volume = np.round(vols).astype(np.int64)
        self._sig_f_day = sig_f
        self._sig_i_day = sig_i
        self.horizon = dates[-1].item()
        self._day_ts = np.array([midnight_ny(x) for x in dates.tolist()], dtype=np.int64)
        self._daily_agg_cache.clear()

    def ensure_horizon(self, d: date) -> None:
        """Extend the generated history (never altering it) so that ``d`` is covered."""
        with self._lock:
            if d + timedelta(days=10) > self.horizon:
                self._generate(d + timedelta(days=365))

    # ---- lookups ----------------------------------------------------------------------------
    def spec(self, symbol: str) -> SymbolSpec:
        return self.universe[self._index[symbol]]

    def has(self, symbol: str) -> bool:
        return symbol in self._index

    def col(self, symbol: str) -> int:
        return self._index[symbol]

    def day_index(self, d: date) -> int:
        """Index of session ``d`` in the daily arrays (``d`` must be a session)."""
        self.ensure_horizon(d)
        k = int(np.searchsorted(self.dates, np.datetime64(d, "D")))
        if k >= self.dates.size or self.dates[k].item() != d:
            raise KeyError(f"{d} is not a session")
        return k

    def regime_on(self, d: date) -> str:
        return REGIMES[
            int(self.regime[self.day_index(self.calendar.prev_session(d, include=True))])
        ]

    # ---- minute paths -------------------------------------------------------------------------
    def is_minute_day(self, d: date) -> bool:
        return d >= self.minute_start

    def _minute_day(self, d: date) -> _MinuteDay:
        with self._lock:
            hit = self._minute_cache.get(d)
            if hit is not None:
                self._minute_cache.move_to_end(d)
                return hit
            day = self._build_minute_day(d)
            self._minute_cache[d] = day
            if len(self._minute_cache) > 96:
                self._minute_cache.popitem(last=False)
            return day

    def _build_minute_day(self, d: date) -> _MinuteDay:
        k = self.day_index(d)
        n_sym = len(self.universe)
        m = MINUTES_PER_SESSION
        rng = np.random.default_rng([self.seed, 0x3141, d.toordinal()])
        z_f = rng.standard_normal(m)
        z_i = rng.standard_normal((n_sym, m))
        wick = np.abs(rng.standard_normal((n_sym, m, 2)))
        vnoise = rng.standard_normal((n_sym, m))
        s_f = self._sig_f_day[k] * np.sqrt(1 - _OVERNIGHT_SHARE) / np.sqrt(m)
        s_i = self._sig_i_day[k] * np.sqrt(1 - _OVERNIGHT_SHARE) / np.sqrt(m)
        beta = np.where(self._is_index, _VIX_BETA, self._beta)
        s_i = np.where(self._is_index, 0.05 / np.sqrt(m), s_i)
        inc = (beta[:, None] * s_f * z_f[None, :] + s_i[:, None] * z_i) * _VOL_PROFILE[None, :]
        walk = np.concatenate([np.zeros((n_sym, 1)), np.cumsum(inc, axis=1)], axis=1)
        o_day = self.d_open[k]
        c_day = self.d_close[k]
        frac = np.linspace(0.0, 1.0, m + 1)[None, :]
        target = np.log(c_day / o_day)[:, None]
        bridge = walk - frac * walk[:, -1:] + frac * target
        pts = np.round(o_day[:, None] * np.exp(bridge), 2)
        pts[:, 0] = o_day
        pts[:, -1] = c_day
        pts = np.maximum(pts, 0.01)
        o = pts[:, :-1]
        c = pts[:, 1:]
        step = np.sqrt((beta * s_f) ** 2 + s_i**2)[:, None] * _VOL_PROFILE[None, :]
        h = np.maximum(
            np.round(np.maximum(o, c) * (1 + 0.5 * step * wick[:, :, 0]), 2), np.maximum(o, c)
        )
        low = np.minimum(
            np.round(np.minimum(o, c) * (1 - 0.5 * step * wick[:, :, 1]), 2), np.minimum(o, c)
        )
        low = np.maximum(low, 0.01)
        base = self.d_volume[k].astype(float)[:, None] / m
        v = np.round(base * _VOLUME_PROFILE[None, :] * np.exp(0.35 * vnoise - 0.06)).astype(
            np.int64
        )
        trade_size = np.where(self._is_index, 1.0, 120.0)[:, None]
        n = np.where(v > 0, np.maximum(1, np.round(v / trade_size)), 0).astype(np.int64)
        vw = np.round((h + low + c) / 3.0, 4)
        open_ts = int(self.calendar.open_at(d).timestamp())
        return _MinuteDay(o, h, low, c, v, n, vw, open_ts)

    def minute_bars(self, symbol: str, d: date, completed: int = MINUTES_PER_SESSION) -> BarArrays:
        """The first ``completed`` minute bars of session ``d`` (which must be a minute day)."""
        day = self._minute_day(d)
        i = self._index[symbol]
        k = max(0, min(completed, MINUTES_PER_SESSION))
        t = day.open_ts + 60 * np.arange(k, dtype=np.int64)
        return BarArrays(
            t,
            day.o[i, :k],
            day.h[i, :k],
            day.low[i, :k],
            day.c[i, :k],
            day.v[i, :k],
            day.n[i, :k],
            day.vw[i, :k],
        )

    # ---- instants -----------------------------------------------------------------------------
    def completed_minutes(self, d: date, t: datetime) -> int:
        """Minute bars of session ``d`` that have closed by ``t`` (0..390)."""
        secs = (t - self.calendar.open_at(d)).total_seconds()
        return int(max(0, min(MINUTES_PER_SESSION, secs // 60)))

    def price_at(self, symbol: str, t: datetime) -> float:
        """Last trade price at ``t``: the last completed minute's close, or the last close."""
        cal = self.calendar
        d = cal.ny_date(t)
        i = self._index[symbol]
        if cal.is_session(d) and t >= cal.open_at(d):
            k = self.day_index(d)
            done = self.completed_minutes(d, t)
            if done >= MINUTES_PER_SESSION:
                return float(self.d_close[k, i])
            if self.is_minute_day(d):
                day = self._minute_day(d)
                return float(day.o[i, 0] if done == 0 else day.c[i, done - 1])
            frac = done / MINUTES_PER_SESSION
            return float(
                round(self.d_open[k, i] + frac * (self.d_close[k, i] - self.d_open[k, i]), 2)
            )
        prev = cal.prev_session(d)
        return float(self.d_close[self.day_index(prev), i])

    def prices_at(self, symbol: str, times: list[datetime]) -> np.ndarray:
        return np.array([self.price_at(symbol, t) for t in times])

    def close_on(self, symbol: str, d: date) -> float:
        return float(self.d_close[self.day_index(d), self._index[symbol]])

    def prev_close(self, symbol: str, t: datetime) -> float:
        """Close of the session before the current (or most recent) one at ``t``."""
        cur = self.calendar.current_or_last_session(t)
        return self.close_on(symbol, self.calendar.prev_session(cur))

    def quote_at(self, symbol: str, t: datetime) -> tuple[float, float]:
        """(bid, ask) around the last price, in whole cents, ``bid <= price <= ask``."""
        price = self.price_at(symbol, t)
        spec = self.spec(symbol)
        cents = round(price * 100)
        spread = max(1, round(price * spec.spread_bps / 1e4 * 100))
        bid = max(cents - (spread + 1) // 2, 0)
        return bid / 100.0, (bid + spread) / 100.0

    # ---- daily bars -------------------------------------------------------------------------
    def _daily_bar_of_minute_day(self, d: date, completed: int) -> tuple[float, ...]:
        full = completed >= MINUTES_PER_SESSION
        if full:
            hit = self._daily_agg_cache.get(d)
            if hit is not None:
                return hit
        day = self._minute_day(d)
        k = max(1, completed)
        v = day.v[:, :k].sum(axis=1)
        pv = (day.vw[:, :k] * day.v[:, :k]).sum(axis=1)
        vw = np.where(
            v > 0,
            pv / np.maximum(v, 1),
            (day.h[:, :k].max(axis=1) + day.low[:, :k].min(axis=1)) / 2,
        )
        out = (
            day.o[:, 0],
            day.h[:, :k].max(axis=1),
            day.low[:, :k].min(axis=1),
            day.c[:, k - 1],
            v,
            day.n[:, :k].sum(axis=1),
            np.round(vw, 4),
        )
        if full:
            self._daily_agg_cache[d] = out
        return out

    def daily_bars(self, symbol: str, start: date, end: date, now: datetime) -> BarArrays:
        """Daily bars of sessions in ``[start, end]`` visible at ``now`` (today's is partial)."""
        cal = self.calendar
        today = cal.ny_date(now)
        last = (
            today
            if cal.is_session(today) and now >= cal.open_at(today) + timedelta(minutes=1)
            else cal.prev_session(today)
        )
        end = min(end, last)
        if end < start:
            return BarArrays.empty()
        self.ensure_horizon(end)
        i = self._index[symbol]
        lo = int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        if hi <= lo:
            return BarArrays.empty()
        sl = slice(lo, hi)
        dates = self.dates[sl]
        o = self.d_open[sl, i].copy()
        h = self.d_high[sl, i].copy()
        low = self.d_low[sl, i].copy()
        c = self.d_close[sl, i].copy()
        v = self.d_volume[sl, i].copy()
        n = np.maximum(1, v // 120)
        vw = np.round((h + low + c) / 3.0, 4)
        first_minute = int(np.searchsorted(dates, np.datetime64(self.minute_start, "D")))
        for j in range(first_minute, dates.size):
            d = dates[j].item()
            done = self.completed_minutes(d, now) if d == today else MINUTES_PER_SESSION
            agg = self._daily_bar_of_minute_day(d, done)
            o[j], h[j], low[j], c[j], v[j], n[j], vw[j] = (float(a[i]) for a in agg)
        if self._is_index[i]:
            v[:] = 0
            n[:] = 0
        t = self._day_ts[sl].copy()
        return BarArrays(t, o, h, low, c, v.astype(np.int64), n.astype(np.int64), vw)

    # ---- any timeframe ------------------------------------------------------------------------
    def bars(
        self, symbol: str, tf: Timeframe, start: datetime, end: datetime, now: datetime
    ) -> BarArrays:
        """Bars whose start lies in ``[start, end]`` and that exist at ``now`` (partials included)."""
        end = min(end, now)
        if end < start:
            return BarArrays.empty()
        if tf.intraday:
            return self._intraday_bars(symbol, tf.amount, start, end, now)
        cal = self.calendar
        if tf.unit == "day":
            out = self.daily_bars(symbol, cal.ny_date(start), cal.ny_date(end), now)
            keep = (out.t >= int(start.timestamp())) & (out.t <= int(end.timestamp()))
            return out.take(np.flatnonzero(keep))
        # Weeks and months: aggregate whole periods, then filter by the period stamp.
        s_ny = start.astimezone(NEW_YORK).date()
        e_ny = end.astimezone(NEW_YORK).date()
        if tf.unit == "week":
            s0 = s_ny - timedelta(days=s_ny.weekday())
            e0 = e_ny + timedelta(days=6 - e_ny.weekday())
        else:
            m0 = (s_ny.year * 12 + s_ny.month - 1) // tf.amount * tf.amount
            s0 = date(m0 // 12, m0 % 12 + 1, 1)
            # Whole periods, like weeks: a month bar never depends on where ``end`` falls.
            m1 = ((e_ny.year * 12 + e_ny.month - 1) // tf.amount + 1) * tf.amount
            e0 = date(m1 // 12, m1 % 12 + 1, 1) - timedelta(days=1)
        daily = self.daily_bars(symbol, max(s0, EPOCH), e0, now)
        if not len(daily):
            return daily
        days = (
            (daily.t - _midnight_ny_epoch_offset(daily.t))
            .astype("datetime64[s]")
            .astype("datetime64[D]")
        )
        if tf.unit == "week":
            keys = ((days - np.datetime64("1970-01-05")).astype(np.int64)) // 7
        else:
            y = days.astype("datetime64[Y]").astype(np.int64) + 1970
            mo = days.astype("datetime64[M]").astype(np.int64) % 12
            keys = (y * 12 + mo) // tf.amount
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        stamps = np.repeat(daily.t[starts], np.diff(np.r_[starts, keys.size]))
        out = aggregate(daily, keys, stamps)
        keep = (out.t >= int(start.timestamp())) & (out.t <= int(end.timestamp()))
        return out.take(np.flatnonzero(keep))

    def _intraday_bars(
        self, symbol: str, minutes: int, start: datetime, end: datetime, now: datetime
    ) -> BarArrays:
        cal = self.calendar
        first = max(cal.ny_date(start), self.minute_start)
        last = cal.ny_date(end)
        if last < first:
            return BarArrays.empty()
        self.ensure_horizon(last)
        parts = []
        for d in cal.sessions(first, last):
            done = self.completed_minutes(d, now)
            if done == 0:
                continue
            bars = self.minute_bars(symbol, d, done)
            if minutes > 1:
                mid = midnight_ny(d)
                keys = (bars.t - mid) // (60 * minutes)
                bars = aggregate(bars, keys, mid + keys * 60 * minutes)
            parts.append(bars)
        out = BarArrays.concat(parts)
        keep = (out.t >= int(start.timestamp())) & (out.t <= int(end.timestamp()))
        return out.take(np.flatnonzero(keep))

    def regime_history(self, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
        lo = int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        return self.dates[lo:hi], self.regime[lo:hi]


def midnight_ny(d: date) -> int:
    """UTC epoch seconds of midnight New York time on ``d`` (Alpaca's daily bar stamp)."""
    return int(datetime(d.year, d.month, d.day, tzinfo=NEW_YORK).timestamp())


def _midnight_ny_epoch_offset(t: np.ndarray) -> np.ndarray:
    """Seconds to subtract from a NY-midnight stamp to land on UTC midnight of the same date."""
    # Midnight NY is 04:00 or 05:00 UTC; subtracting the hours keeps the calendar date.
    return (t % 86400).astype(np.int64)


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(int(ts), tz=UTC)
