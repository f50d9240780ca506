"""The signal board: scanner rows turned into the list a trader picks from.

One row per tradeable idea (``strat.ideas``): a Hammer/Shooter on a 2-2, 3-2 or
RevStrat bar is a tag on that row, and a bar that can break either way (an outside or
inside bar) is one row with both directions, which says so when price broke both ways
(the row shows the leg still active; a leg already stopped is named on it, not listed).
A pending leg whose stop traded before its trigger is invalid (``Setup.invalidated``,
strat.md §1.3): it is not listed either, and a both-ways row names it the same way.

Each row says where price is against the idea: the last price, how far to the trigger
(pending) or past it (in force), how far to T1 and to the stop; the setup bar's time;
the continuity of the higher timeframes *relative to the trade* (``SignalTfc``); where
T1 came from (a structural level or the 1.5R fallback); the move to T1 in % and in ATR.

**Readiness** (``readiness_tier``, the default order; README "Signal board"):

0. in force, TFC aligned with the trade, and room to T1;
1. pending, nearest its trigger first;
2. in force with room to T1 but TFC mixed, against or unknown;
3. in force without room to T1 (price at or past T1, or less reward than risk left);
4. low-magnitude rejects (move to T1 under the minimum).

"Room to T1" means the reward left to T1 from the last price is at least the risk left
to the stop (``ROOM_MIN_RR``). Within a tier: in force by that reward-to-risk from
here, best first; pending by the distance to the trigger; then the higher timeframe.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from dashboard.strat.continuity import ContinuityResult, TimeframeState
from dashboard.strat.ideas import SetupIdea, group_setup_ideas
from dashboard.strat.memo import ScanMemo
from dashboard.strat.scanner import ScanRow
from dashboard.strat.setups import is_actionable
from dashboard.strat.signals import Direction, Pattern, Setup, SetupStatus
from dashboard.strat.timeframes import TIMEFRAME_ORDER, tfc_timeframes

__all__ = [
    "ROOM_MIN_RR",
    "TIMEFRAME_ORDER",
    "UNKNOWN_TFC",
    "Category",
    "SignalRow",
    "SignalTfc",
    "TargetOrigin",
    "TfcStance",
    "board_rows",
    "build_signal_board",
    "rank_board",
    "readiness_key",
    "readiness_tier",
    "signal_id",
    "signal_tfc",
    "target_origin",
]

Category = Literal["pending", "triggered", "low_magnitude"]
TfcStance = Literal["aligned", "against", "mixed"]
TargetOrigin = Literal["structural", "fallback", "measured", "r_multiple"]
ROOM_MIN_RR: Final = 1.0
READINESS: Final[Mapping[int, str]] = {
    0: "in force, TFC aligned, room to T1",
    1: "pending, nearest its trigger",
    2: "in force, room to T1, TFC not aligned",
    3: "in force, little room to T1",
    4: "low magnitude",
}


@dataclass(frozen=True, slots=True)
class SignalTfc:
    """A signal's timeframe continuity relative to its direction: how many of its
    higher timeframes' candles (``strat.timeframes.HIGHER_TIMEFRAMES``) agree with the
    trade. ``stance`` is "aligned" when all do, "against" when all point the other way,
    "mixed" otherwise, None when there is no higher timeframe or no data for it."""

    stance: TfcStance | None
    agree: int
    against: int
    states: tuple[TimeframeState, ...]

    @property
    def n(self) -> int:
        return len(self.states)

    @property
    def label(self) -> str | None:
        """ "aligned 3/3", "mixed 1/2", "against 0/3"; None when unknown."""
        if self.stance is None:
            return None
        return f"{self.stance} {self.agree}/{self.n}"

    @property
    def plan_label(self) -> str | None:
        """What the journal keeps with a trade: the label and the timeframes it counted
        ("aligned 3/3 W,M,Q"); at most 32 characters."""
        if self.label is None:
            return None
        return f"{self.label} {','.join(_short(s.timeframe) for s in self.states)}"[:32]


_SHORT_NAMES: Final = {"1Day": "D", "1Week": "W", "1Month": "M", "1Quarter": "Q"}


def _short(timeframe: str) -> str:
    return _SHORT_NAMES.get(timeframe, timeframe)


UNKNOWN_TFC: Final = SignalTfc(None, 0, 0, ())


def signal_tfc(
    continuity: ContinuityResult | None, direction: Direction, timeframe: str
) -> SignalTfc:
    """``continuity`` (a symbol's per-timeframe candle states) judged for a
    ``direction`` trade on ``timeframe``: only its higher timeframes count."""
    if continuity is None:
        return UNKNOWN_TFC
    by_tf = {s.timeframe: s for s in continuity.states}
    states = tuple(by_tf[tf] for tf in tfc_timeframes(timeframe) if tf in by_tf)
    if not states:
        return UNKNOWN_TFC
    want = 1 if direction == "long" else -1
    agree = sum(1 for s in states if s.direction == want)
    against = sum(1 for s in states if s.direction == -want)
    stance: TfcStance = (
        "aligned" if agree == len(states) else "against" if against == len(states) else "mixed"
    )
    return SignalTfc(stance, agree, against, states)


def target_origin(rule: str | None) -> TargetOrigin | None:
    """Where a T1 came from, from the rule text ``strat.patterns`` gives it."""
    if rule is None:
        return None
    if "not beyond entry" in rule:
        return "fallback"
    if "measured move" in rule:
        return "measured"
    if rule.startswith("entry") and rule.endswith("R"):
        return "r_multiple"
    return "structural"


@dataclass(frozen=True, slots=True)
class SignalRow:
    """One idea on the board. Levels are the shown leg's (``direction``): for an idea
    with both directions, the leg in force (the later one when both are), else the one
    nearest its trigger; ``alt`` is the same idea showing its other leg (its own id),
    which a direction filter can pick instead."""

    id: str
    category: Category
    symbol: str
    timeframe: str
    pattern: str  # the pattern's name ("2-2", "3-2", "2-1-2", …): its family
    label: str
    direction: Direction
    status: str  # pending | triggered | broke both ways
    price: float  # the symbol's last price
    entry: float
    stop: float
    target1: float | None
    target2: float | None
    reward_risk: float | None  # T1 reward over risk, from the entry
    magnitude_pct: float | None  # |T1 − entry| / entry, in percent
    magnitude_atr: float | None  # |T1 − entry| in the timeframe's ATR(14)
    tfc: SignalTfc
    setup_time: datetime | None
    triggered_at: datetime | None
    entry_rule: str
    stop_rule: str
    target_rule: str | None
    trigger_pct: float  # pending: move left to the trigger; in force: move past it (%)
    to_t1_pct: float | None  # move left to T1 from the last price (%; < 0: past it)
    to_stop_pct: float  # move left to the stop from the last price (%; < 0: past it)
    rr_now: float | None  # reward to T1 over risk to the stop, from where price is now
    tags: tuple[str, ...] = ()  # Hammer / Shooter on the same trade
    directions: tuple[Direction, ...] = ()  # both for an idea that can break either way
    broke_both: bool = False  # price traded through both directions' triggers
    other_leg: str | None = None  # the other direction when it is no longer active
    alt: SignalRow | None = None
    opposite: str | None = None  # an opposite idea in force on this symbol and timeframe

    @property
    def in_force(self) -> bool:
        return self.status != SetupStatus.PENDING.value

    @property
    def target_origin(self) -> TargetOrigin | None:
        return target_origin(self.target_rule)

    @property
    def room_to_t1(self) -> bool:
        return self.rr_now is not None and self.rr_now >= ROOM_MIN_RR

    @property
    def tfc_text(self) -> str:
        return self.tfc.label or "—"

    @property
    def rules_text(self) -> str:
        """How the levels were set, as journaled with a trade from this signal."""
        parts = [f"entry: {self.entry_rule}", f"stop: {self.stop_rule}"]
        if self.target_rule:
            parts.append(f"target: {self.target_rule}")
        return "; ".join(parts)


def signal_id(symbol: str, timeframe: str, pattern: Pattern, setup_time: datetime | None) -> str:
    """Stable across refreshes: the same setup on the same bar gets the same id."""
    key = f"{symbol}|{timeframe}|{pattern.label}|{pattern.direction}|{setup_time or pattern.setup_index}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _sign(direction: Direction) -> int:
    return 1 if direction == "long" else -1


def _pct(move: float, base: float) -> float:
    return move / base * 100.0 if base else math.nan


def _trigger_pct(setup: Setup, price: float) -> float:
    p, d = setup.pattern, _sign(setup.pattern.direction)
    if setup.status is SetupStatus.PENDING:
        return _pct(d * (p.entry.price - price), price)
    return _pct(d * (price - p.entry.price), p.entry.price)


def _rr_now(setup: Setup, price: float) -> float | None:
    p, d = setup.pattern, _sign(setup.pattern.direction)
    if not p.targets:
        return None
    if setup.status is SetupStatus.PENDING:
        return p.reward_risk
    reward = d * (p.targets[0].price - price)
    risk = d * (price - p.stop.price)
    if reward <= 0:
        return 0.0
    if risk <= 0:
        return None  # at or through the stop: no ratio to speak of
    return reward / risk


@dataclass(frozen=True, slots=True)
class _IdeaFacts:
    """What every leg row of one idea repeats, worked out once."""

    tags: tuple[str, ...]
    directions: tuple[Direction, ...]
    broke_both: bool


@dataclass(frozen=True, slots=True)
class _Leg:
    """A leg row's fields that do not move with the price: they follow from the setup
    (and the minimum magnitude) alone, so a refresh whose setups did not change keeps
    them (``_plan``)."""

    setup: Setup
    id: str
    category: Category
    status: str
    target1: float | None
    target2: float | None
    move: float | None  # |T1 − entry|
    magnitude_pct: float | None
    reward_risk: float | None
    target_rule: str | None
    facts: _IdeaFacts


def _leg(scan: ScanRow, facts: _IdeaFacts, setup: Setup, min_magnitude_pct: float) -> _Leg:
    p = setup.pattern
    t1 = p.targets[0].price if p.targets else None
    move = abs(t1 - p.entry.price) if t1 is not None else None
    magnitude = move / p.entry.price * 100.0 if move is not None else None
    if magnitude is not None and magnitude < min_magnitude_pct:
        category: Category = "low_magnitude"
    elif setup.status is SetupStatus.TRIGGERED:
        category = "triggered"
    else:
        category = "pending"
    return _Leg(
        setup=setup,
        # The leg's own id, so the chart finds the very setup the row shows; a both-ways
        # row and its ``alt`` are never shown together, so the grid's ids stay unique.
        id=signal_id(scan.symbol, scan.timeframe, p, setup.setup_time),
        category=category,
        status="broke both ways" if facts.broke_both else setup.status.value,
        target1=t1,
        target2=p.targets[1].price if len(p.targets) > 1 else None,
        move=move,
        magnitude_pct=magnitude,
        reward_risk=p.reward_risk,
        target_rule=p.targets[0].rule if p.targets else None,
        facts=facts,
    )


def _leg_row(
    scan: ScanRow,
    leg: _Leg,
    price: float,
    atr: float | None,
    tfcs: dict[Direction, SignalTfc],
    *,
    other_leg: str | None = None,
    alt: SignalRow | None = None,
    opposite: str | None = None,
) -> SignalRow:
    """The leg's row at ``price``: its kept fields and the ones the price moves."""
    setup = leg.setup
    p = setup.pattern
    d = _sign(p.direction)
    t1 = leg.target1
    return SignalRow(
        id=leg.id,
        category=leg.category,
        symbol=scan.symbol,
        timeframe=scan.timeframe,
        pattern=p.name,
        label=p.label,
        direction=p.direction,
        status=leg.status,
        price=price,
        entry=p.entry.price,
        stop=p.stop.price,
        target1=t1,
        target2=leg.target2,
        reward_risk=leg.reward_risk,
        magnitude_pct=leg.magnitude_pct,
        magnitude_atr=leg.move / atr if leg.move is not None and atr is not None else None,
        tfc=_tfc_for(tfcs, scan, p.direction),
        setup_time=setup.setup_time,
        triggered_at=setup.triggered_at,
        entry_rule=p.entry.rule,
        stop_rule=p.stop.rule,
        target_rule=leg.target_rule,
        trigger_pct=_trigger_pct(setup, price),
        to_t1_pct=_pct(d * (t1 - price), price) if t1 is not None else None,
        to_stop_pct=_pct(d * (price - p.stop.price), price),
        rr_now=_rr_now(setup, price),
        tags=leg.facts.tags,
        directions=leg.facts.directions,
        broke_both=leg.facts.broke_both,
        other_leg=other_leg,
        alt=alt,
        opposite=opposite,
    )


def _tfc_for(tfcs: dict[Direction, SignalTfc], scan: ScanRow, direction: Direction) -> SignalTfc:
    """``signal_tfc`` once per direction of a scan row (its legs and ideas share it)."""
    tfc = tfcs.get(direction)
    if tfc is None:
        tfc = tfcs[direction] = signal_tfc(scan.continuity, direction, scan.timeframe)
    return tfc


def _other_leg_text(setup: Setup) -> str:
    p = setup.pattern
    if setup.invalidated:
        return f"{p.label} {p.direction} invalidated (stop traded before the trigger)"
    return f"{p.label} {p.direction} {setup.status.value.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class _IdeaPlan:
    """An idea's row before the price: its active (actionable) legs, which of them are
    in force, and for each as the shown leg the idea's other leg: None, its text when it
    is no longer active, or the active leg its row shows as ``alt``."""

    active: tuple[_Leg, ...]
    live: tuple[int, ...]  # indices into ``active`` of the legs in force
    others: tuple[_Leg | str | None, ...]  # one per leg of ``active``


def _idea_plan(scan: ScanRow, idea: SetupIdea, min_magnitude_pct: float) -> _IdeaPlan:
    facts = _IdeaFacts(idea.tags, idea.directions, idea.broke_both_ways)
    legs = idea.legs
    active_at = [i for i, s in enumerate(legs) if is_actionable(s)]
    built = {i: _leg(scan, facts, legs[i], min_magnitude_pct) for i in active_at}
    others: list[_Leg | str | None] = []
    for i in active_at:
        j = next((j for j, s in enumerate(legs) if s is not legs[i]), None)
        if j is None:
            others.append(None)
        elif j in built:
            others.append(built[j])
        else:
            others.append(_other_leg_text(legs[j]))
    active = tuple(built[i] for i in active_at)
    live = tuple(k for k, leg in enumerate(active) if leg.setup.status is SetupStatus.TRIGGERED)
    return _IdeaPlan(active, live, tuple(others))


def _shown_at(plan: _IdeaPlan, price: float) -> int:
    """The leg a both-ways idea shows: the one in force (the later, or on one bar the one
    price is further past), else the one nearest its trigger."""
    active, live = plan.active, plan.live
    if len(active) == 1:
        return 0
    if len(live) == 1:
        return live[0]
    if live:
        return max(
            live,
            key=lambda k: (
                active[k].setup.triggered_index or -1,
                _trigger_pct(active[k].setup, price),
            ),
        )
    return min(range(len(active)), key=lambda k: _trigger_pct(active[k].setup, price))


def _row(
    scan: ScanRow,
    plan: _IdeaPlan,
    k: int,
    opposite: str | None,
    price: float,
    atr: float | None,
    tfcs: dict[Direction, SignalTfc],
) -> SignalRow:
    """The idea's row: its shown leg (``plan.active[k]``), with the other leg as ``alt``
    when it is active too, else named in ``other_leg``; both note ``opposite``."""
    shown, other = plan.active[k], plan.others[k]
    if other is None:
        return _leg_row(scan, shown, price, atr, tfcs, opposite=opposite)
    if isinstance(other, str):
        return _leg_row(scan, shown, price, atr, tfcs, other_leg=other, opposite=opposite)
    alt = _leg_row(scan, other, price, atr, tfcs, opposite=opposite)
    return _leg_row(scan, shown, price, atr, tfcs, alt=alt, opposite=opposite)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A scan row's ideas before the price, kept in the memo for that very ``setups``
    tuple (held here, so its id cannot be reused while the entry lives)."""

    setups: tuple[Setup, ...]
    symbol: str
    timeframe: str
    min_magnitude_pct: float
    ideas: tuple[_IdeaPlan, ...]


def _plan(scan: ScanRow, min_magnitude_pct: float, memo: ScanMemo | None) -> tuple[_IdeaPlan, ...]:
    """The scan row's ideas with an active leg, grouped (``group_setup_ideas``) and their
    legs' fixed fields worked out. They follow from the row's setups (immutable), symbol
    and timeframe and the minimum magnitude alone; the scanner hands a refresh the same
    setups tuple when its frame's setups did not change (``scanner._Live``), so the
    memo keeps the plan under the tuple's identity."""
    key = ("board", id(scan.setups))
    if memo is not None:
        kept = memo.get(key)
        if (
            isinstance(kept, _Plan)
            and kept.setups is scan.setups
            and kept.symbol == scan.symbol
            and kept.timeframe == scan.timeframe
            and kept.min_magnitude_pct == min_magnitude_pct
        ):
            return kept.ideas
    # Resolved setups (``scan(include_resolved=True)``) only tell an active leg that
    # its other direction was traded through too; an idea needs an active leg.
    ideas = tuple(
        _idea_plan(scan, idea, min_magnitude_pct)
        for idea in group_setup_ideas(scan.setups, match_target=False)
        if any(is_actionable(s) for s in idea.legs)
    )
    if memo is not None:
        memo.put(key, _Plan(scan.setups, scan.symbol, scan.timeframe, min_magnitude_pct, ideas))
    return ideas


def _last_price(scan: ScanRow) -> float:
    """The symbol's freshest price: continuity's (the newest frame's last close)."""
    if scan.continuity is not None and scan.continuity.states:
        return scan.continuity.states[0].price
    return scan.price


def _opposites(legs: Sequence[_Leg]) -> list[str | None]:
    """For each shown leg of one scan row's ideas (one symbol and timeframe), when it is
    in force, a note of the ideas in force the other way."""
    live = [leg for leg in legs if leg.status != SetupStatus.PENDING.value]
    if len({leg.setup.pattern.direction for leg in live}) < 2:
        return [None] * len(legs)  # no opposite directions in force: nothing to note
    notes: list[str | None] = []
    for leg in legs:
        d = leg.setup.pattern.direction
        others = [
            o.setup.pattern for o in live if o.id != leg.id and o.setup.pattern.direction != d
        ]
        in_force = leg.status != SetupStatus.PENDING.value
        text = "; ".join(f"{p.label} {p.direction}" for p in others)
        notes.append(f"opposite in force: {text}" if others and in_force else None)
    return notes


def build_signal_board(
    rows: Iterable[ScanRow], *, min_magnitude_pct: float = 0.5
) -> list[SignalRow]:
    """One row per active idea (pending or in force) of the scan, ranked by readiness.

    Rows with a data error contribute nothing here; the tab reports them separately.
    """
    return rank_board(board_rows(rows, min_magnitude_pct=min_magnitude_pct))


def board_rows(
    rows: Iterable[ScanRow], *, min_magnitude_pct: float = 0.5, memo: ScanMemo | None = None
) -> list[SignalRow]:
    """``build_signal_board`` before ranking, for a caller that ranks several scans'
    rows together once (``rank_board`` is a stable sort, so ranking twice changes
    nothing). ``memo`` keeps each scan row's price-independent share (``_plan``) for
    the next refresh; the rows are the same with or without it."""
    out: list[SignalRow] = []
    for scan in rows:
        if scan.error or not scan.setups:
            continue
        ideas = _plan(scan, min_magnitude_pct, memo)
        if not ideas:
            continue
        price = _last_price(scan)
        atr = (
            scan.atr if scan.atr is not None and math.isfinite(scan.atr) and scan.atr > 0 else None
        )
        tfcs: dict[Direction, SignalTfc] = {}
        shown = [_shown_at(plan, price) for plan in ideas]
        notes = _opposites([plan.active[k] for plan, k in zip(ideas, shown, strict=True)])
        for plan, k, note in zip(ideas, shown, notes, strict=True):
            out.append(_row(scan, plan, k, note, price, atr, tfcs))
    return out


def readiness_tier(row: SignalRow) -> int:
    """The row's readiness tier, 0 (act now) to 4 (rejects); see the module docstring."""
    if row.category == "low_magnitude":
        return 4
    if not row.in_force:
        return 1
    if not row.room_to_t1:
        return 3
    return 0 if row.tfc.stance == "aligned" else 2


def readiness_key(row: SignalRow) -> tuple[float, ...]:
    """Sort key of the default order: tier, then within the tier (see above)."""
    tier = readiness_tier(row)
    tf_rank = float(TIMEFRAME_ORDER.get(row.timeframe, len(TIMEFRAME_ORDER)))
    if tier == 1:
        aligned = 0.0 if row.tfc.stance == "aligned" else 1.0
        return (1.0, max(row.trigger_pct, 0.0), aligned, tf_rank)
    if tier == 4:
        return (4.0, -(row.magnitude_pct or 0.0), tf_rank)
    return (float(tier), -(row.rr_now if row.rr_now is not None else -1.0), tf_rank)


def rank_board(rows: Sequence[SignalRow]) -> list[SignalRow]:
    """``rows`` in readiness order; ties keep symbol order."""
    return sorted(rows, key=lambda r: (*readiness_key(r), r.symbol, r.label))
