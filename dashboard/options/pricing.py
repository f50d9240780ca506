"""Black-Scholes-Merton prices, greeks and implied volatility, vectorised over numpy.

Every function broadcasts its inputs, so one call prices a whole chain or a scenario
grid. Degenerate inputs (``T <= 0`` or ``sigma <= 0``) fall back to intrinsic or
discounted-forward values instead of producing NaN or warnings, because expiry-day
contracts and zero-IV quotes appear in real chains.

Units (the ones broker snapshots use, so values compare like for like):
``T`` in years, ``r``/``q``/``sigma`` as decimals, theta per calendar day, vega per
1 volatility point, rho per 1 percentage point of rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

__all__ = ["Greeks", "bs_greeks", "bs_price", "implied_vol", "is_call_mask"]

ArrayLike = Any  # float | np.ndarray | sequence of floats
FloatOrArray = np.ndarray | float

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_CALL_NAMES = ("C", "c", "call", "CALL", "Call")
_PUT_NAMES = ("P", "p", "put", "PUT", "Put")


@dataclass(frozen=True, slots=True)
class Greeks:
    """Price and sensitivities of one option or an array of options (per share)."""

    price: FloatOrArray
    delta: FloatOrArray
    gamma: FloatOrArray
    theta: FloatOrArray  # per calendar day
    vega: FloatOrArray  # per 1 vol point (0.01 in sigma)
    rho: FloatOrArray  # per 1% in r


def is_call_mask(right: str | ArrayLike) -> np.ndarray:
    """Boolean mask (True for calls) from "C"/"P" (also "call"/"put"), scalar or array."""
    if isinstance(right, str):
        if right in _CALL_NAMES:
            return np.asarray(True)
        if right in _PUT_NAMES:
            return np.asarray(False)
        raise ValueError(f"option right must be 'C' or 'P', got {right!r}")
    arr = np.asarray(right)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "UO":
        raise ValueError(f"option right must be strings 'C'/'P', got dtype {arr.dtype}")
    if arr.dtype.kind == "O":
        arr = arr.astype(str)
    calls = np.zeros(arr.shape, dtype=bool)
    puts = np.zeros(arr.shape, dtype=bool)
    for name in _CALL_NAMES:
        calls |= arr == name
    for name in _PUT_NAMES:
        puts |= arr == name
    if not np.all(calls | puts):
        bad = arr[~(calls | puts)].ravel()[:3].tolist()
        raise ValueError(f"option right must be 'C' or 'P', got {bad!r}")
    return calls


def _out(x: np.ndarray) -> FloatOrArray:
    """Return a Python float for 0-d results so scalar callers get scalars back."""
    return float(x) if np.ndim(x) == 0 else x


class _Core:
    """Shared intermediate terms of one BSM evaluation (computed once, used by all greeks)."""

    __slots__ = (
        "K",
        "S",
        "T",
        "df_q",
        "df_r",
        "intrinsic_mask",
        "n_d1",
        "nd1",
        "nd2",
        "phi",
        "price",
        "r",
        "sig",
        "sqrt_t",
        "valid",
    )

    def __init__(
        self,
        S: ArrayLike,
        K: ArrayLike,
        T: ArrayLike,
        r: ArrayLike,
        sigma: ArrayLike,
        right: str | ArrayLike,
        q: ArrayLike,
    ) -> None:
        call = is_call_mask(right)
        S, K, T, r, sigma, q, call = np.broadcast_arrays(
            np.asarray(S, dtype=float),
            np.asarray(K, dtype=float),
            np.asarray(T, dtype=float),
            np.asarray(r, dtype=float),
            np.asarray(sigma, dtype=float),
            np.asarray(q, dtype=float),
            call,
        )
        phi = np.where(call, 1.0, -1.0)
        valid = (T > 0.0) & (sigma > 0.0) & (S > 0.0) & (K > 0.0)
        all_valid = bool(valid.all())
        if all_valid:
            t_s, sig_s, s_s, k_s = T, sigma, S, K
        else:
            t_s = np.where(valid, T, 1.0)
            sig_s = np.where(valid, sigma, 1.0)
            s_s = np.where(valid, S, 1.0)
            k_s = np.where(valid, K, 1.0)
        t_pos = np.maximum(T, 0.0)
        df_r = np.exp(-r * t_pos)
        df_q = np.exp(-q * t_pos)
        sqrt_t = np.sqrt(t_s)
        vol_t = sig_s * sqrt_t
        d1 = (np.log(s_s / k_s) + (r - q + 0.5 * sig_s * sig_s) * t_s) / vol_t
        d2 = d1 - vol_t
        nd1 = ndtr(phi * d1)  # N(phi d1)
        nd2 = ndtr(phi * d2)  # N(phi d2)
        n_d1 = np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
        s_fwd = S * df_q
        k_fwd = K * df_r
        price = phi * (s_fwd * nd1 - k_fwd * nd2)
        if not all_valid:
            # T <= 0: intrinsic; sigma <= 0 with T > 0: discounted forward intrinsic.
            # Both collapse to max(phi (S e^-qT - K e^-rT), 0) since T is clipped at 0.
            fwd_intr = np.maximum(phi * (s_fwd - k_fwd), 0.0)
            price = np.where(valid, price, fwd_intr)
            itm = phi * (s_fwd - k_fwd) > 0.0
            nd1 = np.where(valid, nd1, itm.astype(float))
            nd2 = np.where(valid, nd2, itm.astype(float))
            n_d1 = np.where(valid, n_d1, 0.0)
        self.S, self.K, self.T, self.r, self.sig = S, K, T, r, sig_s
        self.phi, self.valid, self.sqrt_t = phi, valid, sqrt_t
        self.df_r, self.df_q = df_r, df_q
        self.nd1, self.nd2, self.n_d1 = nd1, nd2, n_d1
        self.price = price
        self.intrinsic_mask = not all_valid


def bs_price(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    right: str | ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatOrArray:
    """Black-Scholes-Merton price per share (continuous dividend yield ``q``)."""
    with np.errstate(all="ignore"):
        core = _Core(S, K, T, r, sigma, right, q)
    return _out(core.price)


def bs_greeks(
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    right: str | ArrayLike,
    q: ArrayLike = 0.0,
) -> Greeks:
    """Price and greeks in broker units: theta/day, vega/vol point, rho/1% rate.

    At ``T <= 0`` or ``sigma <= 0`` the option is a step function of spot: delta is
    ``±e^{-qT}`` in the money and 0 otherwise; gamma, vega and theta's vol term are 0.
    """
    with np.errstate(all="ignore"):
        c = _Core(S, K, T, r, sigma, right, q)
        q_arr = np.broadcast_to(np.asarray(q, dtype=float), c.S.shape)
        phi = c.phi
        s_fwd = c.S * c.df_q
        k_fwd = c.K * c.df_r
        delta = phi * c.df_q * c.nd1
        gamma = c.df_q * c.n_d1 / (c.S * c.sig * c.sqrt_t)
        theta_year = (
            -s_fwd * c.n_d1 * c.sig / (2.0 * c.sqrt_t)
            - phi * c.r * k_fwd * c.nd2
            + phi * q_arr * s_fwd * c.nd1
        )
        vega = s_fwd * c.n_d1 * c.sqrt_t
        t_pos = np.maximum(c.T, 0.0)
        rho = phi * k_fwd * t_pos * c.nd2
        if c.intrinsic_mask:
            gamma = np.where(c.valid, gamma, 0.0)
            vega = np.where(c.valid, vega, 0.0)
            # Expired options do not decay further; zero-vol ones decay by carry only.
            theta_year = np.where(c.T > 0.0, theta_year, 0.0)
            rho = np.where(c.T > 0.0, rho, 0.0)
            delta = np.where(c.T > 0.0, delta, phi * c.nd1)
    return Greeks(
        price=_out(c.price),
        delta=_out(delta + 0.0),  # + 0.0 turns -0.0 into 0.0 for display
        gamma=_out(gamma),
        theta=_out(theta_year / 365.0),
        vega=_out(vega / 100.0),
        rho=_out(rho / 100.0 + 0.0),
    )


def implied_vol(
    price: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    right: str | ArrayLike,
    q: ArrayLike = 0.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    sigma_max: float = 20.0,
) -> FloatOrArray:
    """Implied volatility by safeguarded Newton (bisection inside a shrinking bracket).

    The price is first mapped to its out-of-the-money twin through put-call parity, so
    the search only sees a time value, which is better conditioned. Returns NaN where no
    volatility in ``(0, sigma_max]`` reproduces the price: at or below intrinsic, at or
    above the no-arbitrage upper bound, ``T <= 0``, or non-finite inputs.
    """
    with np.errstate(all="ignore"):
        call = is_call_mask(right)
        P, S, K, T, r, q, call = np.broadcast_arrays(
            np.asarray(price, dtype=float),
            np.asarray(S, dtype=float),
            np.asarray(K, dtype=float),
            np.asarray(T, dtype=float),
            np.asarray(r, dtype=float),
            np.asarray(q, dtype=float),
            call,
        )
        shape = P.shape
        P, S, K, T, r, q, call = (a.ravel() for a in (P, S, K, T, r, q, call))
        out = np.full(P.shape, np.nan)
        s_fwd = S * np.exp(-q * T)
        k_fwd = K * np.exp(-r * T)
        # Out-of-the-money twin: a call with forward above strike becomes the put, etc.
        otm_call = s_fwd < k_fwd  # calls are OTM (or ATM) here; puts otherwise
        parity = s_fwd - k_fwd
        p_otm = np.where(call == otm_call, P, np.where(call, P - parity, P + parity))
        use_call = otm_call
        upper = np.where(use_call, s_fwd, k_fwd)
        ok = (
            np.isfinite(P)
            & np.isfinite(S)
            & np.isfinite(K)
            & np.isfinite(T)
            & (T > 0)
            & (S > 0)
            & (K > 0)
            & (p_otm > 0)
            & (np.where(call, s_fwd, k_fwd) > P)
            & (p_otm < upper)
        )
        idx = np.nonzero(ok)[0]
        if idx.size:
            out[idx] = _solve_iv(
                p_otm[idx],
                S[idx],
                K[idx],
                T[idx],
                r[idx],
                q[idx],
                use_call[idx],
                tol,
                max_iter,
                sigma_max,
            )
    return _out(out.reshape(shape))


def _solve_iv(
    target: np.ndarray,
    S: np.ndarray,
    K: np.ndarray,
    T: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
    call: np.ndarray,
    tol: float,
    max_iter: int,
    sigma_max: float,
) -> np.ndarray:
    """Vectorised safeguarded Newton on OTM prices; rows leave the loop as they converge."""
    n = target.size
    lo = np.zeros(n)
    hi = np.full(n, sigma_max)
    # Start at the inflection point of price(sigma) (Newton from there is monotone for
    # most rows), floored by the ATM approximation sigma ~ sqrt(2 pi / T) * C / S.
    s_fwd = S * np.exp(-q * T)
    k_fwd = K * np.exp(-r * T)
    infl = np.sqrt(2.0 * np.abs(np.log(s_fwd / k_fwd)) / T)
    atm = np.sqrt(2.0 * np.pi / T) * target / s_fwd
    sig = np.clip(np.maximum(infl, atm), 1e-4, sigma_max * 0.5)
    result = np.full(n, np.nan)
    active = np.arange(n)
    for _ in range(max_iter):
        a = active
        c = _Core(S[a], K[a], T[a], r[a], sig[a], call[a], q[a])
        diff = c.price - target[a]
        vega = S[a] * c.df_q * c.n_d1 * c.sqrt_t
        too_high = diff > 0
        hi[a] = np.where(too_high, np.minimum(hi[a], sig[a]), hi[a])
        lo[a] = np.where(too_high, lo[a], np.maximum(lo[a], sig[a]))
        step = np.where(vega > 0, diff / vega, np.inf)
        newton = sig[a] - step
        inside = np.isfinite(newton) & (newton >= lo[a]) & (newton <= hi[a])
        new_sig = np.where(inside, newton, 0.5 * (lo[a] + hi[a]))
        hit = np.abs(diff) <= tol * target[a]
        settled = (np.abs(new_sig - sig[a]) <= tol * np.maximum(sig[a], 1e-8)) | (
            (hi[a] - lo[a]) <= tol * np.maximum(sig[a], 1e-8)
        )
        done = hit | settled
        # A row that hit the price keeps the sigma it was evaluated at; one whose step
        # collapsed keeps the final (sub-tolerance) step.
        result[a[hit]] = sig[a[hit]]
        only_settled = settled & ~hit
        result[a[only_settled]] = new_sig[only_settled]
        sig[a] = new_sig
        active = a[~done]
        if active.size == 0:
            break
    # Rows pinned at the cap never bracketed a root: the price needs sigma > sigma_max.
    result[result >= sigma_max * (1 - 1e-9)] = np.nan
    return result
