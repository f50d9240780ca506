"""STRAT patterns on closed bars, with entry, stop and target levels.

A pattern is reported on its *setup bar*: the last closed bar, waiting for a break. For
2-1-2 long the bars are 2D, 1 and the label names the break it waits for ("2D-1-2U").
Detection uses only bars up to the setup bar, so history and backtests see no future.

Open-source STRAT code disagrees on stops and targets (strat.md §1.3), so every level is
a ``Level`` naming its rule, and the alternatives are options of ``LevelConfig``.
Everything is computed in whole ticks; a short is the exact mirror of a long (negate
prices), which the tests check as a property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dashboard.strat.bars import (
    DOWN,
    INSIDE,
    OUTSIDE,
    UP,
    bar_label,
    codes_from_ticks,
    from_ticks,
    tick_divisor,
    to_ticks,
)
from dashboard.strat.signals import Direction, Level, Pattern

StopRule = Literal["setup_bar", "first_directional"]
TargetRule = Literal["structural", "measured_move", "r_multiples"]
Kind = Literal["reversal", "continuation", "actionable"]


@dataclass(frozen=True, slots=True)
class LevelConfig:
    """How levels are drawn and which patterns are reported. Defaults follow strat.md §1.3.

    - ``stop_rule``: "setup_bar" = opposite extreme of the setup bar; "first_directional"
      = opposite extreme of the bar before the inside bar in X-1-2 patterns (the 2, or the
      3 for 3-1-2, as ATLAS does). In every other pattern the setup bar already is the
      first directional bar, so both rules agree.
    - ``target_rule``: "structural" = T1 at the C2 extreme (bar before the setup; for the
      1-2-2 RevStrat the mother bar before the inside bar), then a
      ladder of untaken prior highs/lows; "measured_move" = T1 at entry ± the first bar's
      range × ``measured_move_mult``, then the ladder; "r_multiples" = entry ± k·R.
    - ``fallback_r``: T1 = entry ± fallback_r·R when the structural/measured T1 is not
      beyond the entry (ATLAS ``validate_target_geometry``).
    """

    entry_offset_ticks: int = 1
    stop_rule: StopRule = "setup_bar"
    target_rule: TargetRule = "structural"
    fallback_r: float = 1.5
    max_targets: int = 3
    ladder_lookback: int = 100
    r_multiples: tuple[float, ...] = (1.0, 2.0, 3.0)
    measured_move_mult: float = 1.0
    include_continuations: bool = True  # 2-1-2 continuations (2U-1-2U, 2D-1-2D)
    include_22_continuation: bool = False  # 2U-2U / 2D-2D, off by default as StratAlerts
    wick_pct: float = 0.75  # hammer/shooter: open and close in the outer 25% of the range
    hammer_skip_inside: bool = True  # an inside bar is reported as a 1, not a hammer

    def __post_init__(self) -> None:
        if self.max_targets < 1:
            raise ValueError("max_targets must be at least 1")
        if self.entry_offset_ticks < 0:
            raise ValueError("entry_offset_ticks must be >= 0")
        if not 0.0 < self.wick_pct <= 1.0:
            raise ValueError("wick_pct must be in (0, 1]")


@dataclass(slots=True)  # private and short-lived: not frozen, which costs per field
class _Spec:
    """One pattern found at a setup bar, before its levels are drawn."""

    name: str
    label: str
    kind: Kind
    direction: Direction
    bar_indices: tuple[int, ...]
    stop_bar: int  # bar whose opposite extreme is the "first_directional" stop
    # Bar whose extreme is the structural T1; None = C2, the bar before the setup bar.
    target_bar: int | None = None


class _Bars:
    """Tick arrays, plus the mirrored (negated) views that make shorts reuse long code."""

    __slots__ = ("adv", "codes", "div", "fav", "high", "lists", "low", "n", "tick")

    def __init__(
        self, high: NDArray[np.int64], low: NDArray[np.int64], codes: NDArray[Any], tick: float
    ) -> None:
        self.high, self.low, self.codes, self.n = high, low, codes, high.size
        self.tick, self.div = tick, tick_divisor(tick)
        # fav: the extreme in the trade's direction; adv: the extreme against it.
        self.fav = {"long": high, "short": -low}
        self.adv = {"long": low, "short": -high}
        self.lists: dict[str, list[int]] = {}

    def as_list(self, side: str, d: Direction) -> list[int]:
        """``fav[d]`` or ``adv[d]`` as Python ints, made once: levels are read one bar at
        a time and the ladder walks back, which is cheaper on ints than on numpy."""
        key = side + d
        values = self.lists.get(key)
        if values is None:
            values = self.lists[key] = (self.fav if side == "fav" else self.adv)[d].tolist()
        return values


def _fmt(x: float) -> str:
    return f"{x:g}"


def _words(direction: Direction) -> tuple[str, str, str]:
    """(extreme word, opposite word, sign) so rule text mirrors with the trade."""
    return ("high", "low", "+") if direction == "long" else ("low", "high", "-")


def _ladder(fav: list[int], s: int, beyond: int, k: int, lookback: int) -> list[int]:
    """Up to k untaken prior extremes strictly beyond ``beyond``, nearest first.

    A high is untaken when no later bar up to the setup bar reached it
    (``h[j] > max(h[j+1..s])``); those highs rise as one walks back, so the most recent
    ones are the nearest targets. Walked back from the setup bar on Python ints, which
    stops at the k-th and costs less than numpy passes over the window.
    """
    out: list[int] = []
    if k <= 0:
        return out
    highest = fav[s]  # max(fav[j+1..s]) as j walks back
    for j in range(s - 1, max(0, s - lookback) - 1, -1):
        v = fav[j]
        if v > highest:
            highest = v
            if v > beyond:
                out.append(j)
                if len(out) == k:
                    break
    return out


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _build(
    spec: _Spec, b: _Bars, cfg: LevelConfig, tick: float, **meta: str | None
) -> Pattern | None:
    """Draw entry, stop and targets for one pattern in signed ticks, then back to prices."""
    d = spec.direction
    sgn = 1 if d == "long" else -1
    ext, opp, pm = _words(d)
    fav, adv = b.as_list("fav", d), b.as_list("adv", d)
    s = spec.bar_indices[-1]
    off = cfg.entry_offset_ticks

    entry = int(fav[s]) + off
    entry_rule = f"setup-bar {ext}" + (f" {pm} {off} tick{'s' if off != 1 else ''}" if off else "")
    if cfg.stop_rule == "first_directional" and spec.stop_bar != s:
        stop = int(adv[spec.stop_bar])
        stop_rule = f"first-bar {opp} ({bar_label(b.codes[spec.stop_bar])})"
    else:
        stop = int(adv[s])
        stop_rule = f"setup-bar {opp}"
    risk = entry - stop
    if risk <= 0:
        return None

    targets: list[tuple[int, str]] = []
    if cfg.target_rule == "r_multiples":
        for m in cfg.r_multiples[: cfg.max_targets]:
            targets.append((entry + _round_half_up(m * risk), f"entry {pm} {_fmt(m)}R"))
    else:
        if cfg.target_rule == "measured_move":
            first = spec.bar_indices[0]
            rng = int(b.high[first] - b.low[first])
            t1 = entry + _round_half_up(cfg.measured_move_mult * rng)
            t1_rule = f"entry {pm} {_fmt(cfg.measured_move_mult)}× first-bar range (measured move)"
        elif spec.target_bar is not None:
            t1 = int(fav[spec.target_bar])
            t1_rule = f"mother-bar {ext} (bar before the inside bar)"
        else:
            t1, t1_rule = int(fav[s - 1]), f"C2 {ext}"
        if t1 <= entry:
            t1 = entry + _round_half_up(cfg.fallback_r * risk)
            t1_rule = f"entry {pm} {_fmt(cfg.fallback_r)}R (T1 not beyond entry)"
        targets.append((t1, t1_rule))
        for j in _ladder(fav, s, t1, cfg.max_targets - 1, cfg.ladder_lookback):
            targets.append((int(fav[j]), f"untaken {ext} from bar {j}"))

    div = b.div
    levels = [entry, stop]
    for t, _r in targets:
        levels.append(t)
    # from_ticks without a call per level: a whole divisor divides exactly
    prices = [sgn * t / div if div else from_ticks(sgn * t, tick) for t in levels]
    return Pattern(
        name=spec.name,
        label=spec.label,
        kind=spec.kind,
        direction=d,
        bar_indices=spec.bar_indices,
        entry=Level(prices[0], entry_rule),
        stop=Level(prices[1], stop_rule),
        targets=tuple(Level(px, r) for px, (_t, r) in zip(prices[2:], targets, strict=True)),
        timeframe=meta.get("timeframe"),
        symbol=meta.get("symbol"),
    )


def _specs_at(
    s: int, c: NDArray[Any], hammer: bool, shooter: bool, cfg: LevelConfig
) -> list[_Spec]:
    """Every pattern whose setup bar is ``s``, in a fixed order (long before short)."""
    cur, prev = int(c[s]), int(c[s - 1])
    out: list[_Spec] = []
    if cur == INSIDE and prev in (UP, DOWN):
        p = bar_label(prev)
        sides: tuple[tuple[Direction, str, bool], ...] = (
            ("long", "2U", prev == DOWN),
            ("short", "2D", prev == UP),
        )
        for d, brk, rev in sides:
            if rev or cfg.include_continuations:
                kind: Kind = "reversal" if rev else "continuation"
                out.append(_Spec("2-1-2", f"{p}-1-{brk}", kind, d, (s - 1, s), s - 1))
    elif cur == INSIDE and prev == OUTSIDE:
        out.append(_Spec("3-1-2", "3-1-2U", "reversal", "long", (s - 1, s), s - 1))
        out.append(_Spec("3-1-2", "3-1-2D", "reversal", "short", (s - 1, s), s - 1))
    elif cur in (UP, DOWN):
        me = bar_label(cur)
        rev_dir: Direction = "long" if cur == DOWN else "short"
        brk = "2U" if cur == DOWN else "2D"
        if prev == OUTSIDE:
            out.append(_Spec("3-2-2", f"3-{me}-{brk}", "reversal", rev_dir, (s - 1, s), s))
        elif prev == INSIDE:
            # T1 from the mother bar before the inside bar (strat.md §1.3); s - 2 exists
            # because an inside bar is never the first, unclassified bar.
            out.append(
                _Spec("1-2-2 RevStrat", f"1-{me}-{brk}", "reversal", rev_dir, (s - 1, s), s, s - 2)
            )
        else:
            out.append(_Spec("2-2", f"{me}-{brk}", "reversal", rev_dir, (s,), s))
        if cfg.include_22_continuation:
            cont_dir: Direction = "long" if cur == UP else "short"
            out.append(_Spec("2-2", f"{me}-{me}", "continuation", cont_dir, (s,), s))
    elif cur == OUTSIDE:
        out.append(_Spec("3-2", "3-2U", "reversal", "long", (s,), s))
        out.append(_Spec("3-2", "3-2D", "reversal", "short", (s,), s))
    if hammer:
        out.append(_Spec("Hammer", "Hammer-2U", "actionable", "long", (s,), s))
    if shooter:
        out.append(_Spec("Shooter", "Shooter-2D", "actionable", "short", (s,), s))
    return out


def _wick_masks(
    b: _Bars, open_t: NDArray[np.int64], close_t: NDArray[np.int64], cfg: LevelConfig
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    rng = b.high - b.low
    lower = np.minimum(open_t, close_t) - b.low
    upper = b.high - np.maximum(open_t, close_t)
    ok = rng > 0
    ok[0] = False  # no C2 bar for a target
    if cfg.hammer_skip_inside:
        ok &= b.codes != INSIDE
    hammer = ok & (lower >= cfg.wick_pct * rng)
    shooter = ok & (upper >= cfg.wick_pct * rng)
    return hammer, shooter


def setup_mask(codes: ArrayLike) -> NDArray[np.bool_]:
    """Bars that are the setup bar of at least one bar-sequence pattern (no wicks).

    Every classified bar after a classified bar qualifies except a 1 after a 1 or after
    the first bar, so this is the cheap pre-filter the detector loops over.
    """
    c = np.asarray(codes)
    prev = np.zeros_like(c)
    prev[1:] = c[:-1]
    inside_ok = (c == INSIDE) & ((prev == UP) | (prev == DOWN) | (prev == OUTSIDE))
    mask: NDArray[np.bool_] = inside_ok | (c == UP) | (c == DOWN) | (c == OUTSIDE)
    return mask


def detect_patterns(
    high: ArrayLike,
    low: ArrayLike,
    open: ArrayLike,
    close: ArrayLike,
    *,
    config: LevelConfig = LevelConfig(),
    tick: float = 0.01,
    since: int | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> list[Pattern]:
    """Every pattern at every setup bar, oldest first. All bars are treated as closed.

    ``since`` skips building patterns whose setup bar is before that index (negative
    counts from the end); the masks still cover all bars, it only saves construction.
    """
    h, lo = to_ticks(high, tick), to_ticks(low, tick)
    o, c = to_ticks(open, tick), to_ticks(close, tick)
    return patterns_from_ticks(
        h,
        lo,
        o,
        c,
        codes_from_ticks(h, lo),
        config=config,
        tick=tick,
        since=since,
        symbol=symbol,
        timeframe=timeframe,
    )


def patterns_from_ticks(
    high_t: NDArray[np.int64],
    low_t: NDArray[np.int64],
    open_t: NDArray[np.int64],
    close_t: NDArray[np.int64],
    codes: NDArray[np.int8],
    *,
    config: LevelConfig = LevelConfig(),
    tick: float = 0.01,
    since: int | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> list[Pattern]:
    """``detect_patterns`` on arrays already in ticks, for callers (the scanner) that
    round once and reuse the ticks and codes."""
    b = _Bars(high_t, low_t, codes, tick)
    start = 0 if since is None else max(0, since if since >= 0 else b.n + since)
    if b.n - start <= _SHORT_WINDOW:
        found = _window_setups(b, open_t, close_t, config, start)
    else:
        hammer, shooter = _wick_masks(b, open_t, close_t, config)
        mask = setup_mask(codes) | hammer | shooter
        found = [
            (int(s), bool(hammer[s]), bool(shooter[s]))
            for s in np.flatnonzero(mask[start:]) + start
        ]
    out: list[Pattern] = []
    for s, is_hammer, is_shooter in found:
        for spec in _specs_at(s, codes, is_hammer, is_shooter, config):
            p = _build(spec, b, config, tick, symbol=symbol, timeframe=timeframe)
            if p is not None:
                out.append(p)
    return out


# A window this short (the scanner's last few closed bars) is cheaper bar by bar in
# Python than in a dozen numpy passes; longer ones (backtests) use the masks.
_SHORT_WINDOW: Final = 16
_SEQUENCE_CODES: Final = frozenset((UP, DOWN, OUTSIDE))


def _window_setups(
    b: _Bars, open_t: NDArray[np.int64], close_t: NDArray[np.int64], cfg: LevelConfig, start: int
) -> list[tuple[int, bool, bool]]:
    """``(bar, hammer, shooter)`` for the bars from ``start`` that ``setup_mask`` or
    ``_wick_masks`` select: the same rules, one bar at a time (Python ints compare
    with the float threshold exactly as numpy's int64 → float64 does below 2**53)."""
    lo_i = max(start - 1, 0)
    codes = b.codes[lo_i:].tolist()
    high = b.high[start:].tolist()
    low = b.low[start:].tolist()
    opens = open_t[start:].tolist()
    closes = close_t[start:].tolist()
    pct = cfg.wick_pct
    out: list[tuple[int, bool, bool]] = []
    for k in range(len(high)):
        s = start + k
        code = codes[s - lo_i]
        prev = codes[s - lo_i - 1] if s > 0 else 0
        h, lo = high[k], low[k]
        rng = h - lo
        ok = rng > 0 and s > 0 and not (cfg.hammer_skip_inside and code == INSIDE)
        hammer = ok and min(opens[k], closes[k]) - lo >= pct * rng
        shooter = ok and h - max(opens[k], closes[k]) >= pct * rng
        seq = code in _SEQUENCE_CODES or (code == INSIDE and prev in _SEQUENCE_CODES)
        if seq or hammer or shooter:
            out.append((s, hammer, shooter))
    return out


def live_patterns(
    high: ArrayLike,
    low: ArrayLike,
    open: ArrayLike,
    close: ArrayLike,
    *,
    config: LevelConfig = LevelConfig(),
    tick: float = 0.01,
    last_bar_closed: bool = True,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> list[Pattern]:
    """Setups whose setup bar is the last *closed* bar: what a trader watches right now.

    Pass ``last_bar_closed=False`` when the final bar is still forming; it is dropped,
    because a setup bar must be closed.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in (high, low, open, close)]
    if not last_bar_closed:
        arrays = [a[:-1] for a in arrays]
    n = arrays[0].size
    if n < 2:
        return []
    return detect_patterns(
        *arrays, config=config, tick=tick, since=n - 1, symbol=symbol, timeframe=timeframe
    )
