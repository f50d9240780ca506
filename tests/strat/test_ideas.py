"""One idea per trade: Hammer/Shooter fold into the coinciding trade; a bar that can
break either way is one idea with two directions."""

from __future__ import annotations

import numpy as np

from dashboard.strat.ideas import group_ideas, merge_coinciding, same_trade_key
from dashboard.strat.patterns import detect_patterns


def _detect(hl, oc=None):
    high = np.array([h for h, _ in hl])
    low = np.array([lo for _, lo in hl])
    o, c = (high + low) / 2, (high + low) / 2
    for i, (oo, cc) in (oc or {}).items():
        o[i], c[i] = oo, cc
    return detect_patterns(high, low, o, c, symbol="XYZ", timeframe="1Day")


def test_hammer_on_a_2d_bar_is_a_tag_on_the_22_trade() -> None:
    # 1: (99.5, 97) 2D with open 99.3 / close 99.4: a hammer. The 2D-2U reversal on the
    # same bar has the same entry 99.51, stop 97 and T1 100: one trade, tagged.
    raw = _detect([(100, 98), (99.5, 97)], oc={1: (99.3, 99.4)})
    assert sorted(p.label for p in raw) == ["2D-2U", "Hammer-2U"]
    (merged,) = merge_coinciding(raw)
    assert (merged.label, merged.tags) == ("2D-2U", ("Hammer",))
    assert same_trade_key(merged) == same_trade_key(raw[0]) == same_trade_key(raw[1])


def test_shooter_on_an_outside_bar_tags_the_32_short() -> None:
    # 1: (101, 97) outside; open 97.5 close 97.2: upper wick 3.5 of 4 → shooter.
    raw = _detect([(100, 98), (101, 97)], oc={1: (97.5, 97.2)})
    assert sorted(p.label for p in raw) == ["3-2D", "3-2U", "Shooter-2D"]
    merged = {p.label: p for p in merge_coinciding(raw)}
    assert set(merged) == {"3-2U", "3-2D"}
    assert merged["3-2D"].tags == ("Shooter",) and merged["3-2U"].tags == ()


def test_a_hammer_that_is_no_other_trade_stays() -> None:
    # 1: (100.5, 98.5) 2U with a hammer shape: the 2-2 on it is the *short* 2U-2D, so the
    # long hammer is a trade of its own.
    raw = _detect([(100, 98), (100.5, 98.5)], oc={1: (100.3, 100.4)})
    merged = merge_coinciding(raw)
    assert sorted(p.label for p in merged) == ["2U-2D", "Hammer-2U"]
    assert all(p.tags == () for p in merged)


def test_an_outside_bar_is_one_idea_with_both_directions() -> None:
    raw = _detect([(100, 98), (101, 97)], oc={1: (97.5, 97.2)})
    (idea,) = group_ideas(raw)
    assert (idea.name, idea.setup_index, idea.directions) == ("3-2", 1, ("long", "short"))
    assert idea.both_ways and idea.tags == ("Shooter",)
    assert idea.leg("short").label == "3-2D" and idea.leg("long").label == "3-2U"
    assert (idea.symbol, idea.timeframe) == ("XYZ", "1Day")
    # An inside bar after a 2D: the reversal long and the continuation short, one idea.
    ideas = group_ideas(_detect([(100, 98), (99.5, 97), (99, 97.5)]))
    (inside,) = [i for i in ideas if i.setup_index == 2]
    assert inside.name == "2-1-2" and inside.directions == ("long", "short")
    # A 2-2 reversal has one direction.
    (one,) = group_ideas(_detect([(100, 98), (99.5, 97)]))
    assert one.directions == ("long",) and not one.both_ways
