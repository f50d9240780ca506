"""The STRAT scanner: bar type, live setups and TFC for many symbols × timeframes.

Pure: it takes bars that someone else fetched and returns rows. The last bar of a frame
may be the live, unclosed bar; setups are detected on closed bars only, while the live
bar may still trigger them (an intrabar fact) and gives the current bar type and price.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dashboard.strat.bars import bar_label, codes_from_ticks, to_ticks
from dashboard.strat.continuity import (
    ContinuityResult,
    TfcMode,
    average_true_range,
    timeframe_continuity,
)
from dashboard.strat.memo import ScanMemo
from dashboard.strat.patterns import LevelConfig, patterns_from_ticks
from dashboard.strat.settlement import (
    DEFAULT_INTRABAR_RULE,
    MAGNIFIER_LADDER,
    IntrabarRule,
    LowerBars,
    bar_end_ns,
    lower_bars_from_ticks,
    ns_to_datetime,
    utc_ns,
)
from dashboard.strat.setups import (
    SETUP_EXPIRE_BARS,
    active_setups,
    extend_setups,
    extend_setups_by_range,
    setups_from_ticks,
)
from dashboard.strat.signals import Pattern, Setup

DEFAULT_TIMEFRAMES: tuple[str, ...] = ("1Month", "1Week", "1Day", "1Hour")


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One symbol on one timeframe."""

    symbol: str
    timeframe: str
    bar_type: str  # of the last bar in the data (the live bar when it is not closed)
    bar_code: int
    last_bar_closed: bool
    price: float  # last close in this timeframe's data
    as_of: datetime | None  # timestamp of the last bar
    patterns: tuple[Pattern, ...]  # setups whose setup bar is the last closed bar
    setups: tuple[Setup, ...]  # active (pending or triggered) setups of recent closed bars
    continuity: ContinuityResult | None  # the symbol's TFC across the scanned timeframes
    error: str | None = None  # bad data (NaN, missing column): this row only, scan goes on
    atr: float | None = None  # mean true range of the last 14 bars of this timeframe


_OHLC = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class _Frame:
    """One DataFrame's prices as floats and whole ticks, and its bar codes, made once."""

    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    ticks: tuple[NDArray[np.int64], ...]  # open, high, low, close
    block: NDArray[np.int64]  # the same ticks as rows of one (4, n) array, for memo keys
    codes: NDArray[np.int8]
    index: pd.Index
    starts: NDArray[np.int64] | None  # bar starts in UTC ns (a DatetimeIndex only)
    atr: float  # mean true range of the last 14 bars
    increasing: bool  # ``starts`` known and strictly increasing (the memo's keys need it)


def _prices(df: pd.DataFrame) -> NDArray[np.float64]:
    """Open, high, low and close as rows of one float array."""
    missing = [c for c in _OHLC if c not in df.columns]
    if missing:
        raise KeyError(f"bars frame lacks columns {missing}")
    cols = [cast(int, df.columns.get_loc(c)) for c in _OHLC]
    try:  # one block copy beats four column look-ups when every column is numeric
        prices: NDArray[np.float64] = df.to_numpy(dtype=np.float64)[:, cols].T
    except (TypeError, ValueError):
        prices = np.stack([df[name].to_numpy(dtype=np.float64) for name in _OHLC])
    return prices


def _frame(df: pd.DataFrame, tick: float) -> _Frame:
    """One frame on its own (``_frames`` does many at once, with the same results)."""
    o, h, lo, c = prices = _prices(df)
    ticks = tuple(to_ticks(row, tick) for row in prices)
    index = df.index
    starts = utc_ns(index) if isinstance(index, pd.DatetimeIndex) else None
    return _Frame(
        o,
        h,
        lo,
        c,
        ticks,
        np.stack(ticks),
        codes_from_ticks(ticks[1], ticks[2]),
        index,
        starts,
        average_true_range(h, lo, c),
        _increasing(starts),
    )


_ATR_BARS: Final = 14  # average_true_range's default period


def _frames(
    bars: Mapping[tuple[str, str], pd.DataFrame], keys: Sequence[tuple[str, str]], tick: float
) -> tuple[dict[tuple[str, str], _Frame], dict[tuple[str, str], str]]:
    """Every frame of ``keys`` rounded to ticks, coded and measured (ATR) in one pass
    over their concatenation: a scan's frames are short, so a few numpy passes over
    all of them cost far less than the same passes frame by frame. The results equal
    ``_frame``'s (the same element-wise arithmetic; each frame's first bar is coded 0
    and its first true range is its own high − low). A frame that cannot be read, or
    holds a NaN, goes through ``_frame`` alone for its error."""
    frames: dict[tuple[str, str], _Frame] = {}
    errors: dict[tuple[str, str], str] = {}
    read: list[tuple[tuple[str, str], NDArray[np.float64]]] = []
    for key in keys:
        try:
            read.append((key, _prices(bars[key])))
        except (KeyError, ValueError) as exc:
            errors[key] = f"{type(exc).__name__}: {exc}"
    if not read:
        return frames, errors
    prices = np.concatenate([p for _, p in read], axis=1)
    sizes = np.array([p.shape[1] for _, p in read])
    ends = np.cumsum(sizes)
    firsts = ends - sizes
    scaled = prices * (1.0 / tick)  # to_ticks' scaling
    bad = np.isnan(scaled)
    if bad.any():
        scaled[bad] = 0.0  # those frames are redone alone below, for their error
    ticks = np.rint(scaled).astype(np.int64)
    o_t, h_t, l_t, c_t = ticks
    codes = codes_from_ticks(h_t, l_t)
    o, h, lo, c = prices
    tr = h - lo  # average_true_range on the concatenation
    prev = c[:-1]
    tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev)))
    heads = firsts[sizes > 0]
    codes[heads] = 0  # a frame's first bar has no previous bar
    tr[heads] = h[heads] - lo[heads]
    nan_bars: NDArray[np.bool_] = np.asarray(bad.any(axis=0))
    for (key, _p), a, b in zip(read, firsts.tolist(), ends.tolist(), strict=True):
        df = bars[key]
        if nan_bars[a:b].any():
            try:
                frames[key] = _frame(df, tick)
            except (KeyError, ValueError) as exc:
                errors[key] = f"{type(exc).__name__}: {exc}"
            continue
        index = df.index
        starts = utc_ns(index) if isinstance(index, pd.DatetimeIndex) else None
        frames[key] = _Frame(
            o[a:b],
            h[a:b],
            lo[a:b],
            c[a:b],
            (o_t[a:b], h_t[a:b], l_t[a:b], c_t[a:b]),
            ticks[:, a:b],
            codes[a:b],
            index,
            starts,
            float(tr[max(a, b - _ATR_BARS) : b].mean()) if b > a else float("nan"),
            _increasing(starts),
        )
    return frames, errors


def _error_row(sym: str, tf: str, error: str, tfc: ContinuityResult | None) -> ScanRow:
    return ScanRow(sym, tf, "", 0, True, float("nan"), None, (), (), tfc, error=error)


def _magnifier_frames(
    bars: Mapping[tuple[str, str], pd.DataFrame],
    sym: str,
    frames: Mapping[tuple[str, str], _Frame],
) -> tuple[dict[str, LowerBars], dict[str, _Frame]]:
    """Every timeframe of ``sym`` in ``bars`` (scanned or not) as magnifier input, and
    the frames they come from; a frame that cannot be read is left out, as the
    magnifier is only a refinement."""
    out: dict[str, LowerBars] = {}
    used: dict[str, _Frame] = {}
    for s, tf in bars:
        if s != sym or tf not in MAGNIFIER_LADDER:
            continue
        f = frames.get((s, tf))
        if f is not None and f.starts is not None and f.close.size:
            out[tf] = lower_bars_from_ticks(tf, f.starts, *f.ticks)
            used[tf] = f
    return out, used


ClosedFlags = bool | Mapping[str, bool] | Mapping[tuple[str, str], bool]


def _closed_flag(last_bar_closed: ClosedFlags, sym: str, tf: str) -> bool:
    """The flag for (sym, tf), else for tf, else True; or the one flag for all."""
    if isinstance(last_bar_closed, Mapping):
        flags = cast("Mapping[object, bool]", last_bar_closed)
        return bool(flags.get((sym, tf), flags.get(tf, True)))
    return bool(last_bar_closed)


def _last_start(f: _Frame) -> object:
    """The frame's last bar start, comparable across frames (UTC ns when a DatetimeIndex)."""
    return int(f.starts[-1]) if f.starts is not None else f.index[-1]


def _symbol_continuity(
    frames: Mapping[str, _Frame], tfc_timeframes: Sequence[str], mode: TfcMode, tick: float
) -> ContinuityResult | None:
    """TFC from the latest price (the frame whose last bar is newest) vs each TF's open."""
    present = [tf for tf in tfc_timeframes if tf in frames and frames[tf].close.size]
    if not present:
        return None
    # Newest last bar wins; on a tie the finer timeframe (listed later) has the fresher close.
    price_tf = max(enumerate(present), key=lambda it: (_last_start(frames[it[1]]), it[0]))[1]
    price = float(frames[price_tf].close[-1])
    opens = {tf: float(frames[tf].open[-1]) for tf in present}
    codes: dict[str, int | str] = {tf: int(frames[tf].codes[-1]) for tf in present}
    atr = {tf: frames[tf].atr for tf in present}
    return timeframe_continuity(price, opens, mode=mode, bar_types=codes, atr=atr, tick=tick)


def _increasing(starts: NDArray[np.int64] | None) -> bool:
    return starts is not None and bool(starts.size < 2 or (starts[1:] > starts[:-1]).all())


_LowerKey = tuple[tuple[str, bytes, bytes], ...]
# The timeframes ``magnifier_for`` looks in for bars of each timeframe, in its order.
_FINER: Final = {tf: MAGNIFIER_LADDER[i + 1 :] for i, tf in enumerate(MAGNIFIER_LADDER)}


def _lower_key(tf: str, lower: Mapping[str, _Frame], until: int) -> _LowerKey | None:
    """All the magnifier can read while it replays bars of ``tf`` that end by ``until``
    (ns): each lower timeframe's bars (``magnifier_for``'s, from the frames they were
    made of) that start before it, and the start of the next one (a bar's end is
    capped by the next start). None when a lower frame's starts are not increasing
    (its searches would not stay inside that prefix)."""
    out: list[tuple[str, bytes, bytes]] = []
    for low_tf in _FINER.get(tf, ()):
        f = lower.get(low_tf)
        if f is None:
            continue
        starts = cast("NDArray[np.int64]", f.starts)  # _magnifier_frames keeps only known ones
        if not f.increasing:
            return None
        k = int(starts.searchsorted(until, side="left"))
        out.append((low_tf, starts[: k + 1].tobytes(), f.block[:, :k].tobytes()))
    return tuple(out)


def _setups_key(
    f: _Frame, tf: str, closed: bool, lower: Mapping[str, _Frame], intrabar: IntrabarRule
) -> Hashable | None:
    """What the closed bars' setups read besides those bars (``_patterns_and_setups``);
    None when the frame's starts do not increase or its index has no time zone slot.
    ``lower``: the frames of the magnifier's bars (``_magnifier_frames``)."""
    starts, index = f.starts, f.index
    if starts is None or not isinstance(index, pd.DatetimeIndex) or not f.increasing:
        return None
    # The closed bars' evaluation replays only bars that end by the live bar's start (by
    # the last bar's close when every bar is closed).
    last = int(starts[-1])
    until = bar_end_ns(tf, last, None) if closed else last
    lower_key = _lower_key(tf, lower, until)
    if lower_key is None:
        return None
    return (closed, starts.tobytes(), index.tz, intrabar, lower_key)


@dataclass(frozen=True, slots=True)
class _Kept:
    """A frame's closed-bar results in the memo: its patterns, and their setups on the
    closed bars (``extend_setup`` carries them onto the live bar), valid for
    ``setups_key``."""

    patterns: tuple[Pattern, ...]
    last: tuple[Pattern, ...]  # those whose setup bar is the last closed bar
    setups_key: Hashable
    setups: tuple[Setup, ...]


@dataclass(frozen=True, slots=True)
class _Live:
    """A frame's setups carried onto its live bar as far as that bar's open, high and
    low settle them (``extend_setups_by_range``); valid for that ``bar``, the closed
    bars of the key it is kept under and ``setups_key``."""

    setups_key: Hashable
    bar: tuple[int, int, int]  # the live bar's open, high and low in ticks
    by_range: tuple[Setup | None, ...]  # ``extend_setups_by_range``'s
    setups: tuple[Setup, ...] | None  # the same when it settled them all


def _on_bar(patterns: Iterable[Pattern], index: int) -> tuple[Pattern, ...]:
    """The patterns whose setup bar is bar ``index``."""
    return tuple(p for p in patterns if p.setup_index == index)


def _patterns_and_setups(
    f: _Frame,
    sym: str,
    tf: str,
    closed: bool,
    lower: Mapping[str, LowerBars],
    lower_frames: Mapping[str, _Frame],
    *,
    config: LevelConfig,
    tick: float,
    expire_after: int,
    intrabar: IntrabarRule,
    memo: ScanMemo | None,
) -> tuple[Sequence[Pattern], Sequence[Setup]]:
    """The frame's patterns whose setup bar is its last closed bar, and the setups of
    all its patterns on all its bars. ``lower_frames``: the frames ``lower`` was made of.

    With a ``memo``, the closed bars' share is kept: the patterns, keyed by everything
    ``patterns_from_ticks`` reads (the closed bars' ticks, from which the codes follow;
    the parameters, symbol and timeframe); and the setups evaluated on the closed bars
    alone, keyed also by what that evaluation reads besides them: every bar's start
    (the live bar's start caps the previous bar's end), their time zone, the closed
    flag, the intrabar rule and the lower frames' bars the magnifier can replay. The
    live bar is then applied to each kept setup (``extend_setup``), and the few it
    triggers or settles are evaluated in full. Frames whose starts do not increase
    are scanned without the memo."""
    n = f.close.size
    n_closed = n if closed else n - 1
    o_t, h_t, l_t, c_t = f.ticks

    def detect() -> list[Pattern]:
        # Codes are local (bar vs previous bar), so the closed prefix keeps its codes.
        return patterns_from_ticks(
            h_t[:n_closed],
            l_t[:n_closed],
            o_t[:n_closed],
            c_t[:n_closed],
            f.codes[:n_closed],
            config=config,
            tick=tick,
            since=max(0, n_closed - 1 - expire_after),
            symbol=sym,
            timeframe=tf,
        )

    def evaluate(pats: Sequence[Pattern], bars: int, bars_closed: bool) -> list[Setup]:
        return setups_from_ticks(
            pats,
            h_t[:bars],
            l_t[:bars],
            c_t[:bars],
            f.index,
            expire_after,
            tick=tick,
            last_bar_closed=bars_closed,
            open_t=o_t[:bars],
            timeframe=tf,
            lower=lower,
            intrabar=intrabar,
            starts_ns=f.starts,
        )

    skey = _setups_key(f, tf, closed, lower_frames, intrabar) if memo is not None else None
    if memo is None or skey is None:
        pats = detect()
        return _on_bar(pats, n_closed - 1), evaluate(pats, n, closed)
    pkey = ("patterns", sym, tf, tick, config, expire_after, n_closed,
            f.block[:, :n_closed].tobytes())  # fmt: skip
    kept = memo.get(pkey)
    if not (isinstance(kept, _Kept) and kept.setups_key == skey):
        if isinstance(kept, _Kept):
            patterns, last = kept.patterns, kept.last
        else:
            patterns = tuple(detect())
            last = _on_bar(patterns, n_closed - 1)
        kept = _Kept(patterns, last, skey, tuple(evaluate(patterns, n_closed, True)))
        memo.put(pkey, kept)
    if closed:
        return kept.last, kept.setups
    # The live bar: what its open, high and low settle of the kept setups follows from
    # them (its index and start are in the keys), so the last refresh's is kept under
    # them (one per frame); only the setups whose outcome needs more are redone.
    bar = (int(o_t[-1]), int(h_t[-1]), int(l_t[-1]))
    lkey = ("live", pkey)
    live = memo.get(lkey)
    if not (isinstance(live, _Live) and live.bar == bar and live.setups_key == skey):
        index = cast(pd.DatetimeIndex, f.index)  # _setups_key holds only for a DatetimeIndex
        starts = cast("NDArray[np.int64]", f.starts)  # so the starts are known
        by_range = extend_setups_by_range(
            kept.setups, bar, n - 1, ns_to_datetime(int(starts[-1]), index.tz), tick=tick
        )
        live = _Live(skey, bar, by_range, None)
        if None not in by_range:
            live = _Live(skey, bar, by_range, cast("tuple[Setup, ...]", by_range))
        memo.put(lkey, live)
    if live.setups is not None:
        return kept.last, live.setups
    rest = iter(
        extend_setups(
            [s for s, r in zip(kept.setups, live.by_range, strict=True) if r is None],
            h_t,
            l_t,
            c_t,
            cast(pd.DatetimeIndex, f.index),
            tick=tick,
            open_t=o_t,
            timeframe=tf,
            lower=lower,
            intrabar=intrabar,
            starts_ns=f.starts,
        )
    )
    setups = tuple(r if r is not None else next(rest) for r in live.by_range)
    return kept.last, setups


def scan(
    bars: Mapping[tuple[str, str], pd.DataFrame],
    timeframes: Sequence[str] = DEFAULT_TIMEFRAMES,
    *,
    config: LevelConfig = LevelConfig(),
    tick: float = 0.01,
    last_bar_closed: ClosedFlags = True,
    expire_after: int = SETUP_EXPIRE_BARS,
    tfc_mode: TfcMode = "candle",
    tfc_timeframes: Sequence[str] | None = None,
    include_resolved: bool = False,
    intrabar: IntrabarRule = DEFAULT_INTRABAR_RULE,
    memo: ScanMemo | None = None,
) -> list[ScanRow]:
    """Scan ``bars`` keyed by (symbol, timeframe); frames need open/high/low/close columns
    and a DatetimeIndex, oldest first. Rows come per symbol (first-seen order), then in
    ``timeframes`` order; pairs missing from ``bars`` are skipped. ``last_bar_closed``
    says whether each frame's last bar has closed: one flag, or flags by timeframe or by
    (symbol, timeframe); a frame without a flag counts as closed.

    ``setups`` holds the setups of the last ``expire_after + 1`` closed bars that are
    still pending or triggered (all of them with ``include_resolved``). A bar that
    reaches the trigger and the stop (or T1 and the stop) is settled like the backtest
    (``strat.settlement``): on the symbol's finer timeframes in ``bars`` when they cover
    it, else by ``intrabar``; so an in-force breakout is not dropped as stopped by the
    part of its bar before the entry.

    ``memo`` (``strat.memo.ScanMemo``) keeps what depends on closed bars only (patterns,
    setups settled before the live bar) for the next scan of the same bars; the rows are
    the same with or without it.
    """
    symbols = list(dict.fromkeys(sym for sym, _ in bars))
    tfc_tfs = tuple(tfc_timeframes) if tfc_timeframes is not None else tuple(timeframes)
    rows: list[ScanRow] = []
    wanted = dict.fromkeys((*timeframes, *tfc_tfs, *MAGNIFIER_LADDER))
    # One bad frame must not sink the scan: its error is kept for its row.
    all_frames, all_errors = _frames(bars, [k for k in bars if k[1] in wanted], tick)
    for sym in symbols:
        frames: dict[str, _Frame] = {}
        errors: dict[str, str] = {}
        for tf in dict.fromkeys((*timeframes, *tfc_tfs)):
            if (sym, tf) in all_frames:
                frames[tf] = all_frames[(sym, tf)]
            elif (sym, tf) in all_errors:
                errors[tf] = all_errors[(sym, tf)]
        tfc = _symbol_continuity(frames, tfc_tfs, tfc_mode, tick)
        lower, lower_frames = _magnifier_frames(bars, sym, all_frames)
        for tf in timeframes:
            if tf in errors:
                rows.append(_error_row(sym, tf, errors[tf], tfc))
                continue
            f = frames.get(tf)
            if f is None or f.close.size == 0:
                continue
            closed = _closed_flag(last_bar_closed, sym, tf)
            n = f.close.size
            n_closed = n if closed else n - 1
            code = int(f.codes[-1])
            on_last: Sequence[Pattern] = ()
            found: Sequence[Setup] = ()
            if n_closed >= 2:
                on_last, evaluated = _patterns_and_setups(
                    f,
                    sym,
                    tf,
                    closed,
                    lower,
                    lower_frames,
                    config=config,
                    tick=tick,
                    expire_after=expire_after,
                    intrabar=intrabar,
                    memo=memo,
                )
                found = evaluated if include_resolved else active_setups(evaluated)
            rows.append(
                ScanRow(
                    symbol=sym,
                    timeframe=tf,
                    bar_type=bar_label(code),
                    bar_code=code,
                    last_bar_closed=closed,
                    price=float(f.close[-1]),
                    as_of=ns_to_datetime(int(f.starts[-1]), f.index.tz)
                    if f.starts is not None and isinstance(f.index, pd.DatetimeIndex)
                    else None,
                    patterns=tuple(on_last),
                    setups=tuple(found),
                    continuity=tfc,
                    atr=f.atr,
                )
            )
    return rows
