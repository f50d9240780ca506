"""A deterministic, seeded market in which every bar is cut from one intraday price path.

Why this shape:

* **Daily process.** A Markov chain of bull/neutral/bear/crash regimes sets a market
  factor's drift and volatility. Within a regime the volatility clusters (a GJR-GARCH(1,1)
  multiplier: a large move, more so a fall, raises the next sessions' volatility, which
  then decays) and varies from session to session (a lognormal activity factor). Each
  stock is beta times the factor plus idiosyncratic noise; a VIX-like index mean-reverts to
  a level set by the regime and the GARCH volatility, and jumps when the market falls.
  Each session's return is an overnight gap (``_OVERNIGHT_SHARE`` of its variance) plus an
  intraday move.
* **Intraday path.** The intraday move is a continuous path: a Brownian motion on a
  U-shaped volatility clock (busy open and close) plus an *opening drive*, a random drift
  that fades within the first hour or so (price discovery after the open). It is pinned to
  the session's open and close. Daily highs and lows are the exact extremes of that path:
  it is drawn at fifteen-minute points, and between two points the path is a Brownian bridge
  whose maximum and minimum are sampled from their exact law,
  ``max = (a+b)/2 + sqrt(((b-a)/2)**2 - s**2 ln(U)/2)``.
* **Minute days** (sessions from ``minute_start`` on) refine that same path to minutes
  (bridges between the fifteen-minute points) and each minute to ten-second points, so every
  intraday timeframe and the daily bar of a minute day are aggregations of the same minute
  bars. Weeks, months and quarters aggregate the daily bars.
* **Calibration** (tests/simulator/test_market.py states the source): the opening drive,
  the activity factor and the overnight share are set so that the daily bar types of the
  simulated SPY (inside 1, 2U, 2D, outside 3) and its daily range relative to its
  close-to-close moves match the S&P 500's. A plain Brownian path gives about 9.5% inside
  and 9.5% outside bars (time-reversible, so the two are equal); the index has 13% and 9%.
  The opening drive breaks that symmetry (opens sit at the day's extreme more often than
  closes, as in the index), and the activity factor sets how often ranges differ enough
  for either.
* **Determinism.** Everything is drawn from ``(seed, block)`` or ``(seed, session)``
  streams, so the same seed gives the same bars, and extending the horizon never changes
  what was already generated. The history does not depend on the anchor except through a
  constant price scale, so it is computed once per seed and process.
* Prices are anchored so that each stock closes at its nominal price on the anchor
  session (the last session before the simulator's start).

Its size is one concept: one price path per symbol and every timeframe aggregated from
it, which must stay together to stay consistent.
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
_BLOCK = 256  # sessions drawn from one random stream
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
# Share of a session's variance that arrives as the opening gap. Small because the index
# the bars are calibrated to opens at a stale print, so its gaps fall inside its ranges.
_OVERNIGHT_SHARE = 0.12
_DRIVE_SHARE = 0.38  # share of the intraday factor variance in the opening drive
_DRIVE_MINUTES = 45.0  # e-folding time of the opening drive
_ACTIVITY_SD = 0.24  # sd of the session's log-volatility noise (news days, quiet days)
# GJR-GARCH(1,1) on the factor's standardised daily shock; unconditional mean 1.
_GARCH_ALPHA, _GARCH_GAMMA, _GARCH_BETA = 0.03, 0.10, 0.90
_GARCH_OMEGA = 1.0 - _GARCH_ALPHA - _GARCH_GAMMA / 2 - _GARCH_BETA
_VIX_BETA = -6.0  # log-VIX move per unit of market-factor log return
_VIX_NOISE = 0.045  # the VIX's own intraday log-move sd
_STEPS = 26  # fifteen-minute points per session: the skeleton behind the daily extremes
_STEP_MINUTES = MINUTES_PER_SESSION // _STEPS
_SUBSTEPS = 6  # ten-second points per minute behind each minute bar's extremes


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
# A busy minute moves more: each minute's share of the intraday diffusive variance follows
# the volume profile. ``_TAU`` is that variance clock at each minute boundary (0 → 1).
_MINUTE_VAR = _VOLUME_PROFILE / _VOLUME_PROFILE.sum()
_TAU = np.r_[0.0, np.cumsum(_MINUTE_VAR)]
_TAU[-1] = 1.0
_TAU_STEP = _TAU[::_STEP_MINUTES]
_STEP_VAR = np.diff(_TAU_STEP)
# Within each fifteen-minute piece: the share of the piece's variance done by each minute.
_PIECE_FRAC = np.cumsum(_MINUTE_VAR.reshape(_STEPS, _STEP_MINUTES), axis=1)
_PIECE_FRAC = _PIECE_FRAC / _PIECE_FRAC[:, -1:]
_CLOCK = np.arange(MINUTES_PER_SESSION + 1) / MINUTES_PER_SESSION  # wall-clock fraction
_CLOCK_STEP = _CLOCK[::_STEP_MINUTES]
# The opening drive's share done by each minute boundary: exponential fade from the open.
_DRIVE = (1.0 - np.exp(-np.arange(MINUTES_PER_SESSION + 1) / _DRIVE_MINUTES)) / (
    1.0 - np.exp(-MINUTES_PER_SESSION / _DRIVE_MINUTES)
)
_DRIVE_STEP = _DRIVE[::_STEP_MINUTES]
_SUB_CLOCK = np.linspace(0.0, 1.0, _SUBSTEPS + 1)


def _bridge(increments: np.ndarray, clock: np.ndarray, total: np.ndarray) -> np.ndarray:
    """A Brownian bridge from 0 to ``total`` through free ``increments`` (last axis).

    ``clock`` is the cumulative share of the variance at each point (0 … 1), so a walk on
    a non-uniform volatility clock is pinned exactly (the bridge of a time-changed motion).
    """
    walk = np.concatenate(
        [np.zeros((*increments.shape[:-1], 1)), np.cumsum(increments, axis=-1)], axis=-1
    )
    return walk + clock * (np.asarray(total)[..., None] - walk[..., -1:])


def _extremes(
    a: np.ndarray, b: np.ndarray, var: np.ndarray, u_hi: np.ndarray, u_lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum and minimum of Brownian bridges from ``a`` to ``b`` with variance ``var``.

    Exact inverse of P(max > m) = exp(-2 (m - a)(m - b) / var) for ``u`` in (0, 1]; the
    minimum by symmetry. Drift does not change a bridge, so this holds for any drift.
    """
    mid = (a + b) / 2.0
    half2 = ((b - a) / 2.0) ** 2
    return (
        mid + np.sqrt(half2 - var * np.log(u_hi) / 2.0),
        mid - np.sqrt(half2 - var * np.log(u_lo) / 2.0),
    )


def _refine(points: np.ndarray, increments: np.ndarray) -> np.ndarray:
    """Minute points of a path known at fifteen-minute points: a bridge inside each piece.

    ``points`` (..., 27) and free minute ``increments`` (..., 390) whose variances follow
    ``_MINUTE_VAR``; returns (..., 391) passing through every fifteen-minute point.
    """
    lead = points.shape[:-1]
    walk = np.cumsum(increments.reshape(*lead, _STEPS, _STEP_MINUTES), axis=-1)
    gap = np.diff(points, axis=-1)[..., None]
    inner = points[..., :-1, None] + walk - _PIECE_FRAC * (walk[..., -1:] - gap)
    return np.concatenate([points[..., :1], inner.reshape(*lead, MINUTES_PER_SESSION)], axis=-1)


@dataclass(frozen=True, slots=True, eq=False)
class _Process:
    """The anchor-free history: log prices before the anchor's scale, per session × symbol."""

    regime: np.ndarray  # int8 (sessions,)
    log_open: np.ndarray  # (sessions, symbols); the VIX's is its absolute log level
    log_close: np.ndarray
    hi_rel: np.ndarray  # log high − log open: the exact extreme of the intraday path
    lo_rel: np.ndarray
    volume: np.ndarray  # int64 daily volume
    f_mu: np.ndarray  # the factor's intraday drift per session
    f_drive: np.ndarray  # its opening drive (total over the session)
    f_bm: np.ndarray  # its Brownian part (total over the session)
    f_sd: np.ndarray  # sd of that Brownian part
    i_sd: np.ndarray  # (sessions, symbols) sd of each symbol's own intraday move
    beta: np.ndarray  # (symbols,) loading on the factor's intraday path


def _daily_draws(seed: int, block: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 0xDA11, block])
    return {
        "u": rng.random(_BLOCK),
        "f_on": rng.standard_normal(_BLOCK),
        "f_drive": rng.standard_normal(_BLOCK),
        "f_bm": rng.standard_normal(_BLOCK),
        "act": rng.standard_normal(_BLOCK),
        "i_on": rng.standard_normal((_BLOCK, n)),
        "i_day": rng.standard_normal((_BLOCK, n)),
        "vix": rng.standard_normal((_BLOCK, 2)),
        "vol": rng.standard_normal((_BLOCK, n)),
    }


def _skeleton(
    seed: int,
    block: int,
    beta: np.ndarray,
    f_mu: np.ndarray,
    f_drive: np.ndarray,
    f_bm: np.ndarray,
    f_sd: np.ndarray,
    i_sd: np.ndarray,
    move: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fifteen-minute points of one block's intraday paths, in log price from the open.

    Returns the factor path (sessions, 27), each symbol's own part (sessions, symbols, 27)
    pinned so that ``beta × factor + own`` ends at the session's move, and two uniforms per
    piece for its extremes. Arguments are the block's rows of the ``_Process`` fields.
    """
    n = beta.size
    rng = np.random.default_rng([seed, 0x5EE1, block])
    z_f = rng.standard_normal((_BLOCK, _STEPS))
    z_i = rng.standard_normal((_BLOCK, n, _STEPS))
    u = 1.0 - rng.random((2, _BLOCK, n, _STEPS))
    step_sd = np.sqrt(_STEP_VAR)
    bm = _bridge(f_sd[:, None] * step_sd * z_f, _TAU_STEP, f_bm)
    factor = f_mu[:, None] * _CLOCK_STEP + f_drive[:, None] * _DRIVE_STEP + bm
    own_total = move - beta * factor[:, -1:]
    own = _bridge(i_sd[:, :, None] * step_sd * z_i, _TAU_STEP, own_total)
    return factor, own, u


_PROCESS_CACHE: OrderedDict[tuple[int, tuple[SymbolSpec, ...]], _Process] = OrderedDict()
_PROCESS_LOCK = threading.Lock()


def _process(seed: int, universe: tuple[SymbolSpec, ...], blocks: int) -> _Process:
    """At least ``blocks`` × 256 sessions of history from EPOCH, computed once per seed.

    A longer history has the shorter one as its prefix (block-seeded draws, sequential
    recursions from EPOCH), so the longest one computed so far serves every request.
    """
    key = (seed, universe)
    with _PROCESS_LOCK:
        hit = _PROCESS_CACHE.get(key)
        if hit is not None and hit.regime.size >= blocks * _BLOCK:
            _PROCESS_CACHE.move_to_end(key)
            return hit
    proc = _compute_process(seed, universe, blocks)
    with _PROCESS_LOCK:
        _PROCESS_CACHE[key] = proc
        _PROCESS_CACHE.move_to_end(key)
        while len(_PROCESS_CACHE) > 8:
            _PROCESS_CACHE.popitem(last=False)
    return proc


def _compute_process(seed: int, universe: tuple[SymbolSpec, ...], blocks: int) -> _Process:
    """The history of ``blocks`` × 256 sessions from EPOCH (pure)."""
    n = len(universe)
    count = blocks * _BLOCK
    draws = [_daily_draws(seed, b, n) for b in range(blocks)]
    d = {k: np.concatenate([x[k] for x in draws]) for k in draws[0]}
    is_index = np.array([s.is_index for s in universe])
    # The factor's standardised shock of each session (gap + drive + Brownian part).
    s_on, s_in = np.sqrt(_OVERNIGHT_SHARE), np.sqrt(1.0 - _OVERNIGHT_SHARE)
    s_drive, s_bm = s_in * np.sqrt(_DRIVE_SHARE), s_in * np.sqrt(1.0 - _DRIVE_SHARE)
    shock = s_on * d["f_on"] + s_drive * d["f_drive"] + s_bm * d["f_bm"]
    # Regime chain and GJR variance multiplier: sequential, so in plain floats.
    cum_rows = np.cumsum(_TRANSITION, axis=1).tolist()
    regime = np.empty(count, dtype=np.int8)
    garch = np.empty(count)
    state, h = 1, 1.0
    for k, (uk, zk) in enumerate(zip(d["u"].tolist(), shock.tolist(), strict=True)):
        row = cum_rows[state]
        state = 0 if uk < row[0] else 1 if uk < row[1] else 2 if uk < row[2] else 3
        regime[k] = state
        garch[k] = h
        lever = _GARCH_ALPHA + (_GARCH_GAMMA if zk < 0 else 0.0)
        h = min(max(_GARCH_OMEGA + lever * zk * zk * h + _GARCH_BETA * h, 0.25), 6.0)
    vol_mult = np.sqrt(garch) * np.exp(_ACTIVITY_SD * d["act"] - _ACTIVITY_SD**2)
    sig_f = _REGIME_VOL[regime] / np.sqrt(252.0) * vol_mult
    f_mu = _REGIME_DRIFT[regime] / 252.0
    f_on = sig_f * s_on * d["f_on"]
    f_drive = sig_f * s_drive * d["f_drive"]
    f_bm = sig_f * s_bm * d["f_bm"]
    f_day = f_mu + f_drive + f_bm
    idio = np.array([s.idio_vol for s in universe])
    sig_i = (
        idio[None, :] / np.sqrt(252.0) * np.sqrt(_REGIME_VOL[regime] / 0.15)[:, None]
    ) * vol_mult[:, None]
    beta = np.array([s.beta for s in universe])
    alpha = np.array([s.alpha for s in universe])[None, :] / 252.0
    r_on = beta * f_on[:, None] + sig_i * s_on * d["i_on"]
    r_day = beta * f_day[:, None] + alpha + sig_i * s_in * d["i_day"]
    log_close = np.cumsum(r_on + r_day, axis=0)
    log_open = log_close - r_day
    # VIX-like index: log mean reversion to the regime and GARCH level, inverse to the market.
    target = (np.log(_REGIME_VIX[regime]) + 0.5 * np.log(garch)).tolist()
    vix_open = np.empty(count)
    vix_close = np.empty(count)
    lv = float(np.log(16.0))
    lv_min, lv_max = float(np.log(9.0)), float(np.log(90.0))
    shock_on = (_VIX_BETA * f_on + 0.025 * d["vix"][:, 0]).tolist()
    shock_day = (_VIX_BETA * f_day + _VIX_NOISE * d["vix"][:, 1]).tolist()
    for k in range(count):
        lo = min(max(lv + 0.03 * (target[k] - lv) + shock_on[k], lv_min), lv_max)
        lv = min(max(lo + 0.03 * (target[k] - lo) + shock_day[k], lv_min), lv_max)
        vix_open[k], vix_close[k] = lo, lv
    for i in np.flatnonzero(is_index):
        log_open[:, i], log_close[:, i] = vix_open, vix_close
    path_beta = np.where(is_index, _VIX_BETA, beta)
    i_sd = np.where(is_index[None, :], _VIX_NOISE, sig_i * s_in)
    f_sd = sig_f * s_bm
    # The intraday path of every session: its exact extremes give the daily high and low.
    move = log_close - log_open
    hi_rel = np.empty((count, n))
    lo_rel = np.empty((count, n))
    piece_var_unit = (path_beta**2)[None, :] * (f_sd**2)[:, None] + i_sd**2
    for b in range(blocks):
        sl = slice(b * _BLOCK, (b + 1) * _BLOCK)
        factor, own, u = _skeleton(
            seed, b, path_beta, f_mu[sl], f_drive[sl], f_bm[sl], f_sd[sl], i_sd[sl], move[sl]
        )
        x = path_beta[None, :, None] * factor[:, None, :] + own
        var = piece_var_unit[sl, :, None] * _STEP_VAR
        hi, lo = _extremes(x[..., :-1], x[..., 1:], var, u[0], u[1])
        hi_rel[sl] = hi.max(axis=-1)
        lo_rel[sl] = lo.min(axis=-1)
    adv = np.array([s.adv for s in universe])
    size = np.abs(r_on + r_day) / np.maximum(np.sqrt(sig_i**2 + (beta * sig_f[:, None]) ** 2), 1e-9)
    vols = adv * (_REGIME_VOL[regime] / 0.15 * vol_mult)[:, None] ** 0.7 * np.exp(0.25 * d["vol"])
    volume = np.round(vols * (1.0 + 0.3 * np.minimum(size, 4.0))).astype(np.int64)
    shared_arrays = (
        volume,
        regime,
        log_open,
        log_close,
        hi_rel,
        lo_rel,
        f_mu,
        f_drive,
        f_bm,
        f_sd,
        i_sd,
        path_beta,
    )
    for shared in shared_arrays:
        shared.setflags(write=False)  # every Market of this seed shares these arrays
    return _Process(
        regime=regime,
        log_open=log_open,
        log_close=log_close,
        hi_rel=hi_rel,
        lo_rel=lo_rel,
        volume=volume,
        f_mu=f_mu,
        f_drive=f_drive,
        f_bm=f_bm,
        f_sd=f_sd,
        i_sd=i_sd,
        beta=path_beta,
    )


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
        self._skeleton_cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._daily_agg_cache: dict[date, tuple[np.ndarray, ...]] = {}
        self._is_index = np.array([s.is_index for s in universe])
        self._generate(self.anchor + timedelta(days=int(365 * horizon_years)))

    # ---- daily process --------------------------------------------------------------------
    def _generate(self, horizon: date) -> None:
        """(Re)build the daily arrays from EPOCH past ``horizon`` in whole blocks."""
        needed = self.calendar.count_sessions(EPOCH, horizon + timedelta(days=1))
        blocks = max(1, -(-needed // _BLOCK))
        proc = _process(self.seed, self.universe, blocks)
        last = self.calendar.offset_sessions(EPOCH, proc.regime.size - 1)
        dates = self.calendar.session_array(EPOCH, last)
        anchor_idx = min(
            int(np.searchsorted(dates, np.datetime64(self.anchor, "D"))), dates.size - 1
        )
        prices = np.array([s.price for s in self.universe])
        shift = np.where(self._is_index, 0.0, np.log(prices) - proc.log_close[anchor_idx])
        log_open = proc.log_open + shift
        opens = np.maximum(np.round(np.exp(log_open), 2), 0.01)
        closes = np.maximum(np.round(np.exp(proc.log_close + shift), 2), 0.01)
        top = np.maximum(opens, closes)
        bot = np.minimum(opens, closes)
        highs = np.maximum(np.round(np.exp(log_open + proc.hi_rel), 2), top)
        lows = np.maximum(np.minimum(np.round(np.exp(log_open + proc.lo_rel), 2), bot), 0.01)
        self._proc = proc
        self.dates = dates
        self.regime = proc.regime
        self.d_open, self.d_high, self.d_low, self.d_close = opens, highs, lows, closes
        self.d_volume = proc.volume
        self.horizon = dates[-1].item()
        self._day_ts = _midnights_ny(dates)
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

    def _skeleton_rows(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """The fifteen-minute paths of one block (factor, own parts), as the history drew them."""
        hit = self._skeleton_cache.get(block)
        if hit is not None:
            self._skeleton_cache.move_to_end(block)
            return hit
        p = self._proc
        sl = slice(block * _BLOCK, (block + 1) * _BLOCK)
        move = p.log_close[sl] - p.log_open[sl]
        factor, own, _ = _skeleton(
            self.seed,
            block,
            p.beta,
            p.f_mu[sl],
            p.f_drive[sl],
            p.f_bm[sl],
            p.f_sd[sl],
            p.i_sd[sl],
            move,
        )
        self._skeleton_cache[block] = (factor, own)
        if len(self._skeleton_cache) > 2:
            self._skeleton_cache.popitem(last=False)
        return factor, own

    def _build_minute_day(self, d: date) -> _MinuteDay:
        """Refine session ``d``'s fifteen-minute path to minutes, and each minute to 10 s."""
        k = self.day_index(d)
        p = self._proc
        block, row = divmod(k, _BLOCK)
        factor5, own5 = (a[row] for a in self._skeleton_rows(block))
        n_sym = len(self.universe)
        m = MINUTES_PER_SESSION
        rng = np.random.default_rng([self.seed, 0x3141, d.toordinal()])
        z_f = rng.standard_normal(m)
        z_i = rng.standard_normal((n_sym, m))
        z_sub = rng.standard_normal((n_sym, m, _SUBSTEPS))
        u = 1.0 - rng.random((2, n_sym, m, _SUBSTEPS))
        vnoise = rng.standard_normal((n_sym, m))
        minute_sd = np.sqrt(_MINUTE_VAR)
        drift = p.f_mu[k] * _CLOCK + p.f_drive[k] * _DRIVE
        bm5 = factor5 - (p.f_mu[k] * _CLOCK_STEP + p.f_drive[k] * _DRIVE_STEP)
        factor = drift + _refine(bm5, p.f_sd[k] * minute_sd * z_f)
        own = _refine(own5, p.i_sd[k][:, None] * minute_sd * z_i)
        x = p.beta[:, None] * factor + own
        # Pin to the session's open and close as printed (whole cents).
        o_day = self.d_open[k]
        c_day = self.d_close[k]
        x = x + _TAU * (np.log(c_day / o_day)[:, None] - x[:, -1:])
        # Each minute's extremes from ten-second points and the bridges between them.
        var_min = ((p.beta * p.f_sd[k]) ** 2 + p.i_sd[k] ** 2)[:, None] * _MINUTE_VAR
        sub_var = var_min / _SUBSTEPS
        sub = x[:, :-1, None] + _bridge(
            np.sqrt(sub_var)[..., None] * z_sub, _SUB_CLOCK, np.diff(x, axis=1)
        )
        hi, lo = _extremes(sub[..., :-1], sub[..., 1:], sub_var[..., None], u[0], u[1])
        pts = np.maximum(np.round(o_day[:, None] * np.exp(x), 2), 0.01)
        pts[:, 0] = o_day
        pts[:, -1] = c_day
        o = pts[:, :-1]
        c = pts[:, 1:]
        h = np.maximum(np.round(o_day[:, None] * np.exp(hi.max(axis=-1)), 2), np.maximum(o, c))
        low = np.minimum(np.round(o_day[:, None] * np.exp(lo.min(axis=-1)), 2), np.minimum(o, c))
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
    def _daily_bar_of_minute_day(self, d: date, completed: int) -> tuple[np.ndarray, ...]:
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
                # Up to an hour: clock-aligned bins from midnight, as Alpaca stamps them.
                # Longer: bins from the 09:30 open over the regular session, as STRAT
                # traders count 4-hour bars (09:30-13:30, 13:30-16:00).
                origin = midnight_ny(d) if minutes <= 60 else int(cal.open_at(d).timestamp())
                keys = (bars.t - origin) // (60 * minutes)
                bars = aggregate(bars, keys, origin + keys * 60 * minutes)
            parts.append(bars)
        out = BarArrays.concat(parts)
        keep = (out.t >= int(start.timestamp())) & (out.t <= int(end.timestamp()))
        return out.take(np.flatnonzero(keep))

    def regime_history(self, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
        lo = int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        return self.dates[lo:hi], self.regime[lo:hi]


def _midnights_ny(dates: np.ndarray) -> np.ndarray:
    """``midnight_ny`` of each session in a ``datetime64[D]`` array.

    New York's offset changes only early on a Sunday, so it is looked up once per week.
    """
    days = dates.astype("datetime64[D]").astype(np.int64)
    weeks, inverse = np.unique((days + 3) // 7, return_inverse=True)  # Monday-based weeks
    monday = (weeks * 7 - 3).astype("datetime64[D]").tolist()
    offsets = np.array(
        [
            int(datetime(m.year, m.month, m.day, 12, tzinfo=NEW_YORK).utcoffset().total_seconds())  # type: ignore[union-attr]
            for m in monday
        ],
        dtype=np.int64,
    )
    return days * 86400 - offsets[inverse]


def midnight_ny(d: date) -> int:
    """UTC epoch seconds of midnight New York time on ``d`` (Alpaca's daily bar stamp)."""
    return int(datetime(d.year, d.month, d.day, tzinfo=NEW_YORK).timestamp())


def _midnight_ny_epoch_offset(t: np.ndarray) -> np.ndarray:
    """Seconds to subtract from a NY-midnight stamp to land on UTC midnight of the same date."""
    # Midnight NY is 04:00 or 05:00 UTC; subtracting the hours keeps the calendar date.
    return (t % 86400).astype(np.int64)


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(int(ts), tz=UTC)
