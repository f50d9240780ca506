"""One tradeable idea per row: merge what the pattern detector reports twice.

The detector reports every pattern it sees, and some of them are the same trade:

- a **Hammer** or **Shooter** on a 2 or 3 bar has the same setup bar, direction, entry,
  stop and T1 as the 2-2, 3-2 or 3-2-2 trade on that bar. Counting both doubles the
  trade in a backtest and shows two rows on a board, so the actionable signal becomes a
  tag on the bar-sequence pattern (``merge_coinciding``). With ``match_target=False``
  a shared setup bar, direction, entry and stop is enough (the board's rule: a Shooter
  on the 2U bar of a 1-2U-2D RevStrat is the RevStrat's trade, whose T1 is the mother
  bar's low rather than the Shooter's C2 low);
- an **outside bar** (or an inside bar) can break either way: 3-2U and 3-2D are one
  idea, "trade the break", with two directions (``group_ideas``).

Pure: patterns (or their setups) in, patterns, setups and ideas out. The backtest uses
``merge_coinciding``; the live board uses ``group_setup_ideas``, the same rules on
setups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from dashboard.strat.signals import Direction, Pattern, Setup

__all__ = [
    "ACTIONABLE",
    "SetupIdea",
    "TradeIdea",
    "group_ideas",
    "group_setup_ideas",
    "merge_coinciding",
    "merge_coinciding_setups",
    "same_trade_key",
]

ACTIONABLE = frozenset({"Hammer", "Shooter"})
_T = TypeVar("_T")
TradeKey = tuple[int, Direction, float, float, float | None]


def same_trade_key(p: Pattern, *, match_target: bool = True) -> TradeKey:
    """What makes two patterns one trade: setup bar, direction, entry, stop and T1 (T1
    left out when ``match_target`` is False)."""
    t1 = p.targets[0].price if p.targets and match_target else None
    return (p.setup_index, p.direction, p.entry.price, p.stop.price, t1)


def _fold(
    items: Iterable[_T],
    pattern: Callable[[_T], Pattern],
    retag: Callable[[_T, tuple[str, ...]], _T],
    match_target: bool,
) -> list[_T]:
    """Every item whose pattern is a Hammer/Shooter that coincides with a bar-sequence
    pattern's item folded into that item as a tag; order kept."""
    its = list(items)
    owner: dict[TradeKey, int] = {}
    for i, it in enumerate(its):
        p = pattern(it)
        if p.name not in ACTIONABLE:
            owner.setdefault(same_trade_key(p, match_target=match_target), i)
    tags: dict[int, list[str]] = {}
    folded: set[int] = set()
    for i, it in enumerate(its):
        p = pattern(it)
        if p.name in ACTIONABLE:
            j = owner.get(same_trade_key(p, match_target=match_target))
            if j is not None:
                tags.setdefault(j, []).append(p.name)
                folded.add(i)
    return [
        retag(it, (*pattern(it).tags, *tags[i])) if i in tags else it
        for i, it in enumerate(its)
        if i not in folded
    ]


def merge_coinciding(patterns: Iterable[Pattern], *, match_target: bool = True) -> list[Pattern]:
    """Patterns with every Hammer/Shooter that coincides with a bar-sequence pattern
    folded into it as a tag (``Pattern.tags``). A Hammer/Shooter that coincides with no
    other pattern stays a trade of its own. Order is kept."""
    return _fold(patterns, lambda p: p, lambda p, t: replace(p, tags=t), match_target)


def merge_coinciding_setups(setups: Iterable[Setup], *, match_target: bool = True) -> list[Setup]:
    """``merge_coinciding`` on setups: the folded Hammer/Shooter becomes a tag on the
    pattern of the setup it coincides with."""
    return _fold(
        setups,
        lambda s: s.pattern,
        lambda s, t: replace(s, pattern=replace(s.pattern, tags=t)),
        match_target,
    )


@dataclass(frozen=True, slots=True)
class TradeIdea:
    """Patterns of one name on one setup bar: one idea, one or two directions (``legs``,
    long first). A 3 bar that can break either way is one idea with both directions."""

    name: str
    setup_index: int
    legs: tuple[Pattern, ...]

    @property
    def directions(self) -> tuple[Direction, ...]:
        return tuple(p.direction for p in self.legs)

    @property
    def both_ways(self) -> bool:
        return len(set(self.directions)) == 2

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for p in self.legs for t in p.tags))

    @property
    def symbol(self) -> str | None:
        return self.legs[0].symbol

    @property
    def timeframe(self) -> str | None:
        return self.legs[0].timeframe

    def leg(self, direction: Direction) -> Pattern | None:
        return next((p for p in self.legs if p.direction == direction), None)


def _group(
    items: Iterable[_T], pattern: Callable[[_T], Pattern]
) -> list[tuple[str, int, tuple[_T, ...]]]:
    groups: dict[tuple[str | None, str | None, int, str], list[_T]] = {}
    for it in items:
        p = pattern(it)
        groups.setdefault((p.symbol, p.timeframe, p.setup_index, p.name), []).append(it)
    return [
        (name, s, tuple(sorted(legs, key=lambda it: pattern(it).direction != "long")))
        for (_sym, _tf, s, name), legs in groups.items()
    ]


def group_ideas(patterns: Iterable[Pattern], *, match_target: bool = True) -> list[TradeIdea]:
    """``merge_coinciding``, then one ``TradeIdea`` per (symbol, timeframe, setup bar,
    pattern name), in first-seen order."""
    merged = merge_coinciding(patterns, match_target=match_target)
    return [TradeIdea(name, s, legs) for name, s, legs in _group(merged, lambda p: p)]


@dataclass(frozen=True, slots=True)
class SetupIdea:
    """``TradeIdea`` for setups: one idea's legs with where each stands (long first)."""

    name: str
    setup_index: int
    legs: tuple[Setup, ...]

    @property
    def directions(self) -> tuple[Direction, ...]:
        return tuple(s.pattern.direction for s in self.legs)

    @property
    def both_ways(self) -> bool:
        return len(set(self.directions)) == 2

    @property
    def broke_both_ways(self) -> bool:
        """Price traded through the long and the short trigger (a leg may since have been
        stopped or hit its target: the trigger of the one is near the stop of the other)."""
        return self.both_ways and all(s.triggered_index is not None for s in self.legs)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for s in self.legs for t in s.pattern.tags))

    def leg(self, direction: Direction) -> Setup | None:
        return next((s for s in self.legs if s.pattern.direction == direction), None)


def group_setup_ideas(setups: Iterable[Setup], *, match_target: bool = True) -> list[SetupIdea]:
    """``merge_coinciding_setups``, then one ``SetupIdea`` per (symbol, timeframe, setup
    bar, pattern name), in first-seen order."""
    merged = merge_coinciding_setups(setups, match_target=match_target)
    return [SetupIdea(name, s, legs) for name, s, legs in _group(merged, lambda st: st.pattern)]
