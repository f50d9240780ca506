"""One tradeable idea per row: merge what the pattern detector reports twice.

The detector reports every pattern it sees, and some of them are the same trade:

- a **Hammer** or **Shooter** on a 2 or 3 bar has the same setup bar, direction, entry,
  stop and T1 as the 2-2, 3-2 or 3-2-2 trade on that bar. Counting both doubles the
  trade in a backtest and shows two rows on a board, so the actionable signal becomes a
  tag on the bar-sequence pattern (``merge_coinciding``);
- an **outside bar** (or an inside bar) can break either way: 3-2U and 3-2D are one
  idea, "trade the break", with two directions (``group_ideas``).

Pure: patterns in, patterns and ideas out. The backtest uses ``merge_coinciding``; the
live board can use the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from dashboard.strat.signals import Direction, Pattern

__all__ = ["ACTIONABLE", "TradeIdea", "group_ideas", "merge_coinciding", "same_trade_key"]

ACTIONABLE = frozenset({"Hammer", "Shooter"})


def same_trade_key(p: Pattern) -> tuple[int, Direction, float, float, float | None]:
    """What makes two patterns one trade: setup bar, direction, entry, stop and T1."""
    t1 = p.targets[0].price if p.targets else None
    return (p.setup_index, p.direction, p.entry.price, p.stop.price, t1)


def merge_coinciding(patterns: Iterable[Pattern]) -> list[Pattern]:
    """Patterns with every Hammer/Shooter that coincides with a bar-sequence pattern
    folded into it as a tag (``Pattern.tags``). A Hammer/Shooter that coincides with no
    other pattern stays a trade of its own. Order is kept."""
    pats = list(patterns)
    owner: dict[tuple[int, Direction, float, float, float | None], int] = {}
    for i, p in enumerate(pats):
        if p.name not in ACTIONABLE:
            owner.setdefault(same_trade_key(p), i)
    tags: dict[int, list[str]] = {}
    folded: set[int] = set()
    for i, p in enumerate(pats):
        if p.name in ACTIONABLE and (j := owner.get(same_trade_key(p))) is not None:
            tags.setdefault(j, []).append(p.name)
            folded.add(i)
    return [
        replace(p, tags=(*p.tags, *tags[i])) if i in tags else p
        for i, p in enumerate(pats)
        if i not in folded
    ]


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


def group_ideas(patterns: Iterable[Pattern]) -> list[TradeIdea]:
    """``merge_coinciding``, then one ``TradeIdea`` per (symbol, timeframe, setup bar,
    pattern name), in first-seen order."""
    groups: dict[tuple[str | None, str | None, int, str], list[Pattern]] = {}
    for p in merge_coinciding(patterns):
        groups.setdefault((p.symbol, p.timeframe, p.setup_index, p.name), []).append(p)
    return [
        TradeIdea(name, s, tuple(sorted(legs, key=lambda p: p.direction != "long")))
        for (_sym, _tf, s, name), legs in groups.items()
    ]
