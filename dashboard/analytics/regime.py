"""Market regimes from the statistical jump model of Shu, Yu and Mulvey (issue 10).

Pipeline (prior-art.md §5.5, with the look-ahead removed):

1. Features of daily *excess* returns: EWM downside deviation (half-life 10) and EWM
   Sortino ratios (half-lives 20 and 60), both annualised.
2. A 2-state ``jumpmodels.JumpModel`` (the authors' package) with a jump penalty, refitted
   every ``refit_every`` days on the trailing ``train_window`` days *before* the refit
   day. Each fit clips and z-scores its training window and uses only that window's
   statistics, sorts states so 0 is the higher-return ("bull") state, and warm-starts
   from the previous fit's centres.
3. Online labels: between refits, ``predict_online`` (forward dynamic programming, so
   the state at t depends on rows ≤ t only).
4. Mapping to four regimes with expanding-window z-scores of the raw features (again
   only data ≤ t): bear & DD_z > 2.5 & Sortino20_z < −0.9 → CRASH; other bear →
   TREND_BEAR; bull & Sortino20_z > 0 → TREND_BULL; other bull → TREND_NEUTRAL.
5. VIX override to CRASH on a day the VIX rose > 20% in 1 day or > 50% in 3 days.

Everything is deterministic (fixed random state) and anchored to the first input date,
so labels on a prefix of the data equal the prefix of the labels on the full data. The
refit schedule, like every threshold, is a field of ``RegimeParams``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from jumpmodels.jump import JumpModel
from numpy.typing import NDArray

from dashboard.analytics.performance import max_drawdown, sharpe_ratio
from dashboard.analytics.regimes import REGIME_ORDER, Regime
from dashboard.conventions import MARKET_TZ_NAME

__all__ = [
    "REGIME_STATS_LAG",
    "REGIME_STATS_NOTE",
    "Regime",
    "RegimeParams",
    "RegimeResult",
    "RegimeSegment",
    "excess_returns",
    "fit_regimes",
    "labels_before",
    "map_regimes",
    "regime_features",
    "regime_segments",
    "regime_statistics",
    "vix_spikes",
]


BULL, BEAR = 0, 1  # jump-model states after sorting by cumulative return


@dataclass(frozen=True, slots=True)
class RegimeParams:
    """Every knob of the model; the defaults follow the paper and prior-art.md §5.5."""

    dd_halflife: int = 10
    sortino_halflives: tuple[int, int] = (20, 60)
    risk_free_annual: float = 0.0  # subtracted as rf / periods_per_year from daily returns
    periods_per_year: int = 252
    jump_penalty: float = 50.0  # λ on z-scored features (loss = ½‖x − centre‖²)
    feature_warmup: int = 60  # rows dropped while the slowest EWM settles
    min_train: int = 756  # ~3 years before the first label
    train_window: int = 2520  # trailing rows per fit (~10 years)
    refit_every: int = 252  # ~1 year; each fit costs ~0.1 s of DP in jumpmodels
    n_init: int = 5  # k-means++ starts on the first fit (later fits warm-start)
    random_state: int = 0
    clip_std: float = 3.0  # winsorise training features at mean ± 3σ
    zscore_min_periods: int = 252
    crash_dd_z: float = 2.5
    crash_sortino_z: float = -0.9
    bull_sortino_z: float = 0.0
    vix_jump_1d: float = 0.20
    vix_jump_3d: float = 0.50

    def __post_init__(self) -> None:
        if self.min_train < 2 or self.refit_every < 1 or self.train_window < self.min_train:
            raise ValueError("need min_train >= 2, refit_every >= 1, train_window >= min_train")
        if self.jump_penalty < 0:
            raise ValueError("jump_penalty must be >= 0")

    @property
    def feature_names(self) -> tuple[str, str, str]:
        s1, s2 = self.sortino_halflives
        return (f"downside_dev_{self.dd_halflife}", f"sortino_{s1}", f"sortino_{s2}")

    @property
    def thresholds(self) -> MappingProxyType[str, float]:
        return MappingProxyType(
            {
                "crash_dd_z": self.crash_dd_z,
                "crash_sortino_z": self.crash_sortino_z,
                "bull_sortino_z": self.bull_sortino_z,
                "vix_jump_1d": self.vix_jump_1d,
                "vix_jump_3d": self.vix_jump_3d,
            }
        )


@dataclass(frozen=True, slots=True, eq=False)
class RegimeResult:
    """Online regime labels and everything the Regime tab draws.

    ``features`` (indexed by every feature date) holds the raw features, their
    expanding z-scores and the raw-feature levels where the z thresholds sit
    (``*_level`` columns), so Feature Evolution can draw the model's real thresholds.
    """

    dates: pd.DatetimeIndex  # labelled dates (after warm-up and the first fit)
    labels: tuple[Regime, ...]
    states: tuple[int, ...]  # jump-model state per labelled date: 0 bull, 1 bear
    vix_override: tuple[bool, ...]
    features: pd.DataFrame
    thresholds: MappingProxyType[str, float]
    refit_dates: tuple[pd.Timestamp, ...]  # first date each fit labels
    fitted_at: pd.Timestamp  # last date of data used by the latest fit
    centers: tuple[tuple[float, ...], ...]  # latest fit's centres (z-space), bull first
    params: RegimeParams = field(default_factory=RegimeParams)

    @property
    def current(self) -> Regime | None:
        return self.labels[-1] if self.labels else None

    @property
    def as_of(self) -> pd.Timestamp | None:
        return self.dates[-1] if len(self.dates) else None

    def series(self) -> pd.Series:
        """Labels as a string Series indexed by date."""
        return pd.Series([str(x) for x in self.labels], index=self.dates, name="regime")


# --------------------------------------------------------------------------- features


def excess_returns(
    close: pd.Series, risk_free_annual: float = 0.0, periods: int = 252
) -> pd.Series:
    """Daily simple returns minus the per-day risk-free rate (first day dropped)."""
    r = close.astype(float).pct_change().iloc[1:]
    return r - risk_free_annual / periods


def regime_features(close: pd.Series, params: RegimeParams = RegimeParams()) -> pd.DataFrame:
    """The three model features per day, from closes; NaN where undefined.

    With ``e`` the daily excess return, ``d = min(e, 0)`` and EWM meaning pandas'
    ``ewm(halflife=h)`` average (weights ½^(age/h), normalised):

    - ``downside_dev_h = sqrt(EWM_h(d²)) · sqrt(252)``
    - ``sortino_h = EWM_h(e) / sqrt(EWM_h(d²)) · sqrt(252)``
    """
    e = excess_returns(close, params.risk_free_annual, params.periods_per_year)
    d2 = e.clip(upper=0.0) ** 2
    ann = math.sqrt(params.periods_per_year)
    names = params.feature_names
    out = pd.DataFrame(index=e.index)
    out[names[0]] = np.sqrt(d2.ewm(halflife=params.dd_halflife).mean()) * ann
    for name, hl in zip(names[1:], params.sortino_halflives, strict=True):
        dd = np.sqrt(d2.ewm(halflife=hl).mean())
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = (e.ewm(halflife=hl).mean() / dd * ann).where(dd > 0)
    return out


def _expanding_z(x: pd.Series, min_periods: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    ex = x.expanding(min_periods=min_periods)
    mu, sd = ex.mean(), ex.std(ddof=1)
    return (x - mu) / sd, mu, sd


def map_regimes(
    states: np.ndarray,
    dd_z: np.ndarray,
    sortino_z: np.ndarray,
    params: RegimeParams = RegimeParams(),
) -> list[Regime]:
    """Two jump-model states to four regimes with the z thresholds of ``params``.

    A NaN z-score fails every strict comparison, so an undecidable bear day is
    TREND_BEAR (not CRASH) and an undecidable bull day is TREND_NEUTRAL (not BULL).
    """
    out: list[Regime] = []
    for s, dz, sz in zip(states, dd_z, sortino_z, strict=True):
        if s == BEAR:
            crash = dz > params.crash_dd_z and sz < params.crash_sortino_z
            out.append(Regime.CRASH if crash else Regime.TREND_BEAR)
        else:
            out.append(Regime.TREND_BULL if sz > params.bull_sortino_z else Regime.TREND_NEUTRAL)
    return out


def _day_keys(index: pd.Index) -> pd.Index:
    """Calendar date of each timestamp (UTC date for tz-aware daily bars)."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.normalize()


def vix_spikes(vix: pd.Series, params: RegimeParams = RegimeParams()) -> pd.Series:
    """True on days the VIX closed > 20% above the prior close or > 50% above the close
    three sessions earlier (thresholds from ``params``)."""
    v = vix.astype(float).sort_index()
    one = v / v.shift(1) - 1.0 > params.vix_jump_1d
    three = v / v.shift(3) - 1.0 > params.vix_jump_3d
    return (one | three).rename("vix_spike")


# --------------------------------------------------------------------------- model


def _scale(
    train: np.ndarray, clip_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clip bounds and z-score stats from one training window only."""
    mu, sd = train.mean(axis=0), train.std(axis=0)
    lo, hi = mu - clip_std * sd, mu + clip_std * sd
    clipped = np.clip(train, lo, hi)
    mu2, sd2 = clipped.mean(axis=0), clipped.std(axis=0)
    sd2 = np.where(sd2 > 0, sd2, 1.0)
    return lo, hi, mu2, sd2


def fit_regimes(
    close: pd.Series,
    vix: pd.Series | None = None,
    params: RegimeParams = RegimeParams(),
) -> RegimeResult:
    """Online jump-model regimes for a daily close series (oldest first).

    Needs more than ``feature_warmup + min_train`` days; raises ValueError otherwise,
    naming how many it got. ``vix`` (daily VIX closes) is optional; without it there is
    no override. Callers cache the result per day: it is a pure function of its inputs.
    """
    close = close.astype(float).sort_index()
    close = close[~close.index.duplicated(keep="last")].dropna()
    feats = regime_features(close, params)
    names = list(params.feature_names)
    valid = feats[names].notna().all(axis=1) & pd.Series(
        np.isfinite(feats[names].to_numpy(dtype=float)).all(axis=1), index=feats.index
    )
    usable = feats.index[valid][params.feature_warmup :]
    need = params.min_train + 1
    if len(usable) < need:
        raise ValueError(
            f"regime model needs at least {need + params.feature_warmup + 1} daily closes "
            f"after warm-up, got {len(close)}"
        )
    X = feats.loc[usable, names].to_numpy(dtype=float)
    ret = excess_returns(close, params.risk_free_annual, params.periods_per_year).loc[usable]
    ret_arr = ret.to_numpy(dtype=float)
    n = X.shape[0]

    jm = JumpModel(
        n_components=2,
        jump_penalty=params.jump_penalty,
        n_init=params.n_init,
        random_state=params.random_state,
    )
    states = np.full(n, -1, dtype=int)
    refits: list[int] = []
    for i in range(params.min_train, n, params.refit_every):
        lo = max(0, i - params.train_window)
        clip_lo, clip_hi, mu, sd = _scale(X[lo:i], params.clip_std)
        z_train = (np.clip(X[lo:i], clip_lo, clip_hi) - mu) / sd
        if refits:
            jm.n_init = 1  # plus the previous centres, which JumpModel adds as a start
        jm.fit(z_train, ret_ser=ret_arr[lo:i], sort_by="cumret")
        end = min(i + params.refit_every, n)
        z_all = (np.clip(X[lo:end], clip_lo, clip_hi) - mu) / sd
        states[i:end] = np.asarray(jm.predict_online(z_all))[i - lo :]
        refits.append(i)

    # Expanding z-scores over every usable feature row (data ≤ t only).
    fz = feats.loc[usable, names].copy()
    dd_name, s20_name, _ = names
    dd_z, dd_mu, dd_sd = _expanding_z(fz[dd_name], params.zscore_min_periods)
    s_z, s_mu, s_sd = _expanding_z(fz[s20_name], params.zscore_min_periods)
    s60_z, _, _ = _expanding_z(fz[names[2]], params.zscore_min_periods)
    features = feats.copy()
    features[f"{dd_name}_z"] = dd_z
    features[f"{s20_name}_z"] = s_z
    features[f"{names[2]}_z"] = s60_z
    features[f"{dd_name}_crash_level"] = dd_mu + params.crash_dd_z * dd_sd
    features[f"{s20_name}_crash_level"] = s_mu + params.crash_sortino_z * s_sd
    features[f"{s20_name}_bull_level"] = s_mu + params.bull_sortino_z * s_sd

    first = params.min_train
    lab_idx = usable[first:]
    labels = map_regimes(states[first:], dd_z.to_numpy()[first:], s_z.to_numpy()[first:], params)
    override = np.zeros(len(lab_idx), dtype=bool)
    if vix is not None and not vix.empty:
        spikes = vix_spikes(vix, params)
        spike_days = set(_day_keys(spikes.index[spikes.to_numpy()]))
        override = np.array([d in spike_days for d in _day_keys(lab_idx)], dtype=bool)
        labels = [Regime.CRASH if o else lab for lab, o in zip(labels, override, strict=True)]
    features["state"] = pd.Series(states, index=usable).reindex(features.index)

    last_fit = refits[-1]
    return RegimeResult(
        dates=pd.DatetimeIndex(lab_idx),
        labels=tuple(labels),
        states=tuple(int(s) for s in states[first:]),
        vix_override=tuple(bool(x) for x in override),
        features=features,
        thresholds=params.thresholds,
        refit_dates=tuple(pd.Timestamp(usable[i]) for i in refits),
        fitted_at=pd.Timestamp(usable[last_fit - 1]),
        centers=tuple(tuple(float(v) for v in row) for row in jm.centers_),
        params=params,
    )


# --------------------------------------------------------------------------- reporting


REGIME_STATS_LAG = 1
REGIME_STATS_NOTE = (
    "Each regime is credited with the return of the session after its label (lag 1): "
    "what holding through a regime you could see earned, not the move that produced the "
    "label."
)


def regime_statistics(
    close: pd.Series,
    labels: pd.Series,
    *,
    lag: int = REGIME_STATS_LAG,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    """Per regime: days, share of days, mean daily return, annualised return and
    volatility, max drawdown and Sharpe of the returns earned in that regime.

    The return from t−1 to t is attributed to the label at t − ``lag``. The default,
    1, is the label known at the previous close, i.e. what holding through that regime
    earned; 0 credits each regime with the very return that produced its label (a
    label is computed at the close), which flatters every regime (look-ahead). Max
    drawdown compounds only that regime's days, chained, so it is a
    real peak-to-trough fall, not the worst single day. All four regimes are always
    rows (zeros/NaN when absent) so the table keeps its shape.
    """
    r = close.astype(float).sort_index().pct_change().iloc[1:]
    lab = labels.astype(str).reindex(close.sort_index().index).shift(lag).reindex(r.index)
    mask = lab.notna()
    r, lab = r[mask], lab[mask]
    total = len(lab)
    rows: list[dict[str, Any]] = []
    for reg in REGIME_ORDER:
        x = r[lab == str(reg)].to_numpy(dtype=float)
        n = int(x.size)
        rows.append(
            {
                "regime": str(reg),
                "days": n,
                "share_pct": n / total * 100.0 if total else math.nan,
                "mean_daily_return": float(x.mean()) if n else math.nan,
                "ann_return": float(x.mean()) * periods_per_year if n else math.nan,
                "ann_vol": float(x.std(ddof=1)) * math.sqrt(periods_per_year)
                if n > 1
                else math.nan,
                "max_drawdown": max_drawdown(x) if n else math.nan,
                "sharpe": sharpe_ratio(x, periods_per_year=periods_per_year) if n > 1 else math.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class RegimeSegment:
    """A run of one regime. ``end`` is its last bar; ``next_start`` the first bar of the
    following run (None for the last run), so shading can span the gap without holes."""

    regime: str
    start: pd.Timestamp
    end: pd.Timestamp
    next_start: pd.Timestamp | None
    bars: int


def regime_segments(dates: Sequence[Any] | pd.Index, labels: Sequence[Any]) -> list[RegimeSegment]:
    """Contiguous runs of equal labels, oldest first; a final one-bar run is kept."""
    idx = pd.DatetimeIndex(list(dates))
    labs = [str(x) for x in labels]
    if len(idx) != len(labs):
        raise ValueError("dates and labels must have the same length")
    out: list[RegimeSegment] = []
    start = 0
    for i in range(1, len(labs) + 1):
        if i == len(labs) or labs[i] != labs[start]:
            nxt = idx[i] if i < len(labs) else None
            out.append(RegimeSegment(labs[start], idx[start], idx[i - 1], nxt, i - start))
            start = i
    return out


def _ny_dates(times: Sequence[Any]) -> list[pd.Timestamp | None]:
    out: list[pd.Timestamp | None] = []
    for t in times:
        if t is None:
            out.append(None)
            continue
        stamp = pd.Timestamp(t)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(MARKET_TZ_NAME).tz_localize(None)
        out.append(stamp.normalize())
    return out


def _ny_days(times: Sequence[Any]) -> NDArray[np.datetime64]:
    """``_ny_dates`` as datetime64[ns] (NaT for None): one vectorised pass when the times
    are all of one kind (all in one zone, or all naive), else one at a time."""
    out = np.full(len(times), np.datetime64("NaT"), dtype="datetime64[ns]")
    present = [t for t in times if t is not None]
    if not present:
        return out
    try:
        idx = pd.DatetimeIndex(present)
    except (TypeError, ValueError):  # mixed zones or naive with aware
        days = np.array([d.to_datetime64() for d in _ny_dates(present) if d is not None])
    else:
        if idx.tz is not None:
            idx = idx.tz_convert(MARKET_TZ_NAME).tz_localize(None)
        days = idx.normalize().as_unit("ns").to_numpy()
    out[np.fromiter((t is not None for t in times), bool, len(times))] = days
    return out


def labels_before(times: Sequence[Any], labels: pd.Series) -> list[str | None]:
    """For each time, the label of the last labelled session *before* its New York date.

    A label is computed at its session's close, so a trade entering during session D
    can only know labels of sessions before D. Label dates are keyed like the model's
    daily bars (``_day_keys``: midnight New York and midnight UTC stamps both keep
    their session date). None when no earlier label exists or the time is None.
    """
    if labels.empty:
        return [None] * len(times)
    keys = _day_keys(labels.index)
    lab = pd.Series(labels.astype(str).to_numpy(), index=keys)
    lab = lab[~lab.index.duplicated(keep="last")].sort_index()
    key_arr = pd.DatetimeIndex(lab.index).as_unit("ns").to_numpy()
    values = lab.to_numpy()
    days = _ny_days(times)
    before = np.searchsorted(key_arr, days, side="left") - 1
    missing = np.isnat(days).tolist()
    return [
        str(values[j]) if j >= 0 and not gone else None
        for j, gone in zip(before.tolist(), missing, strict=True)
    ]
