"""The signal board as the tab shows it: grid rows (with the words of every tooltip)
from the board's rows, the filters, the board's status, the plan a selected row hands
to the ticket, and the watchlist editor's words."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dashboard.analytics.regime_fits import RegimeFit
from dashboard.analytics.regimes import Regime
from dashboard.models import DataResult, DataState
from dashboard.strat.board import READINESS, SignalRow, readiness_tier
from dashboard.strat.continuity import TimeframeState
from dashboard.strat.timeframes import INTRADAY_MINUTES, SCAN_TIMEFRAMES
from dashboard.strat.watchlist import SignalBoard
from dashboard.views.formatting import format_et, format_number

__all__ = [
    "CATEGORIES",
    "DIRECTION_CHOICES",
    "PATTERN_FAMILIES",
    "SIGNAL_PLAN_FIELDS",
    "SignalFilters",
    "board_status",
    "filter_rows",
    "regime_codes",
    "signal_grid_rows",
    "signal_plan",
    "signal_summary",
    "watchlist_text",
]

# What a selected signal carries into the ticket (the dcc.Store "options-selected-signal").
SIGNAL_PLAN_FIELDS = ("id", "symbol", "timeframe", "label", "pattern")
CATEGORIES: Final = ("all", "pending", "triggered", "low_magnitude")
DIRECTION_CHOICES: Final = ("any", "long", "short")
# The pattern names the detector reports, i.e. the families a user can filter on.
PATTERN_FAMILIES: Final = (
    "2-1-2",
    "3-1-2",
    "2-2",
    "3-2",
    "3-2-2",
    "1-2-2 RevStrat",
    "Hammer",
    "Shooter",
)
_TARGET_ORIGIN_TEXT: Final = {
    "structural": "structure",
    "fallback": "1.5R fallback",
    "measured": "measured move",
    "r_multiple": "R multiple",
}
_STANCE_TEXT: Final = {"aligned": "✓", "against": "✗", "mixed": "mixed"}
_ARROW: Final = {1: "↑", -1: "↓", 0: "·"}


# ------------------------------------------------------------------------------ filters


@dataclass(frozen=True, slots=True)
class SignalFilters:
    """The board's filters; empty collections and None mean "any"."""

    category: str = "all"
    direction: str = "any"
    tfc_aligned_only: bool = False
    timeframes: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    min_magnitude_pct: float | None = None
    regimes: tuple[str, ...] = ()

    @classmethod
    def from_inputs(
        cls,
        category: str | None = None,
        direction: str | None = None,
        tfc: Sequence[str] | bool | None = None,
        timeframes: Sequence[str] | None = None,
        families: Sequence[str] | None = None,
        min_magnitude: Any = None,
        regimes: Sequence[str] | None = None,
    ) -> SignalFilters:
        """From the controls' values; anything unrecognised reads as "any"."""
        try:
            mag = float(min_magnitude) if min_magnitude not in (None, "") else None
        except (TypeError, ValueError):
            mag = None
        if mag is not None and (not math.isfinite(mag) or mag <= 0):
            mag = None
        aligned = bool(tfc) if isinstance(tfc, bool) else "aligned" in (tfc or ())
        return cls(
            category=category if category in CATEGORIES else "all",
            direction=direction if direction in DIRECTION_CHOICES else "any",
            tfc_aligned_only=aligned,
            timeframes=tuple(t for t in (timeframes or ()) if t in SCAN_TIMEFRAMES),
            families=tuple(f for f in (families or ()) if f in PATTERN_FAMILIES),
            min_magnitude_pct=mag,
            regimes=tuple(r for r in (regimes or ()) if Regime.parse(r) is not None),
        )


def _matches(row: SignalRow, f: SignalFilters, regime: str | None) -> bool:
    if f.category != "all" and row.category != f.category:
        return False
    if f.direction != "any" and row.direction != f.direction:
        return False
    if f.tfc_aligned_only and row.tfc.stance != "aligned":
        return False
    if f.timeframes and row.timeframe not in f.timeframes:
        return False
    if f.families and row.pattern not in f.families and not set(row.tags) & set(f.families):
        return False
    if f.min_magnitude_pct is not None and (row.magnitude_pct or 0.0) < f.min_magnitude_pct:
        return False
    return not (f.regimes and regime not in f.regimes)


def filter_rows(
    rows: Iterable[SignalRow],
    filters: SignalFilters,
    regimes: Mapping[str, str | None] | None = None,
) -> list[SignalRow]:
    """The rows the filters keep, in the board's (readiness) order. An idea with both
    directions shows the leg a direction filter asks for; a Hammer/Shooter tag counts
    as its family; the regime is the symbol's (``regimes``: symbol → regime code)."""
    regimes = regimes or {}
    out: list[SignalRow] = []
    for row in rows:
        for leg in (row, row.alt):
            if leg is not None and _matches(leg, filters, regimes.get(row.symbol)):
                out.append(leg)
                break
    return out


def regime_codes(fits: Mapping[str, RegimeFit | str | None]) -> dict[str, str | None]:
    """Each symbol's current regime code from its fit (None while fitting or failed)."""
    out: dict[str, str | None] = {}
    for sym, fit in fits.items():
        current = fit.result.current if isinstance(fit, RegimeFit) else None
        out[sym] = str(current) if current is not None else None
    return out


# ------------------------------------------------------------------------------ grid rows


def _num(x: float | None, digits: int = 2) -> float | None:
    return round(x, digits) if x is not None and math.isfinite(x) else None


def setup_time_text(row: SignalRow) -> str:
    """The setup bar's open in New York time: a time for intraday bars, a date else."""
    if row.setup_time is None:
        return "—"
    intraday = row.timeframe in INTRADAY_MINUTES or row.timeframe == "4Hour"
    return format_et(row.setup_time, "%m-%d %H:%M" if intraday else "%Y-%m-%d")


def _state_text(s: TimeframeState) -> str:
    colour = {1: "green (above its open)", -1: "red (below its open)", 0: "doji (at its open)"}
    atr = f", {s.distance_atr:+.1f} ATR" if s.distance_atr is not None else ""
    bar = f", bar {s.bar_type}" if s.bar_type else ""
    return (
        f"{s.timeframe} {_ARROW[s.direction]} {colour[s.direction]}: open "
        f"{format_number(s.open)}, {s.distance:+.2f}{atr}{bar}"
    )


def tfc_tooltip(row: SignalRow) -> str:
    """Per-timeframe continuity states, judged for the row's direction."""
    t = row.tfc
    if t.stance is None:
        return f"No higher timeframe to judge a {row.timeframe} signal's continuity against."
    head = (
        f"{row.direction} on {row.timeframe}: {t.agree} of {t.n} higher timeframes agree, "
        f"{t.against} against (price {format_number(row.price)})"
    )
    return " · ".join([head, *(_state_text(s) for s in t.states)])


def tfc_text(row: SignalRow) -> str:
    t = row.tfc
    if t.stance is None:
        return "—"
    return f"{_STANCE_TEXT[t.stance]} {t.agree}/{t.n}"


def direction_text(row: SignalRow) -> str:
    arrow = "↑" if row.direction == "long" else "↓"
    if len(set(row.directions)) == 2:
        return f"both, {row.direction} {arrow}"
    return f"{row.direction} {arrow}"


def pattern_text(row: SignalRow) -> str:
    return row.label + "".join(f" +{t}" for t in row.tags)


def status_text(row: SignalRow) -> str:
    if row.broke_both:
        return "broke both ways"
    return "in force" if row.in_force else "pending"


def _levels_tip(row: SignalRow) -> str:
    parts = [
        f"entry {format_number(row.entry)} ({row.entry_rule})",
        f"stop {format_number(row.stop)} ({row.stop_rule})",
    ]
    if row.target1 is not None:
        parts.append(f"T1 {format_number(row.target1)} ({row.target_rule})")
    if row.target2 is not None:
        parts.append(f"T2 {format_number(row.target2)}")
    return " · ".join(parts)


def _status_tip(row: SignalRow) -> str:
    bits = [READINESS[readiness_tier(row)]]
    if row.triggered_at is not None:
        bits.append(f"triggered {format_et(row.triggered_at, '%m-%d %H:%M')}")
    if row.alt is not None:
        a = row.alt
        bits.append(
            f"other way: {a.label} {a.direction} {status_text(a)}, entry "
            f"{format_number(a.entry)}, stop {format_number(a.stop)}"
        )
    if row.broke_both:
        bits.append("price traded through both the long and the short trigger")
    if row.other_leg:
        bits.append(f"other way: {row.other_leg}")
    if row.opposite:
        bits.append(row.opposite)
    return " · ".join(bits)


def signal_grid_rows(
    rows: Iterable[SignalRow], regimes: Mapping[str, str | None] | None = None
) -> list[dict[str, Any]]:
    """Grid rows from ``SignalRow``s, in the order given; hidden fields carry the
    ticket's plan and every cell's tooltip."""
    regimes = regimes or {}
    out: list[dict[str, Any]] = []
    for rank, r in enumerate(rows, start=1):
        code = regimes.get(r.symbol)
        regime = Regime.parse(code) if code else None
        origin = r.target_origin
        out.append(
            {
                "id": r.id,
                "rank": rank,
                "tier": readiness_tier(r),
                "category": r.category,
                "symbol": r.symbol,
                "timeframe": r.timeframe,
                "tf_order": SCAN_TIMEFRAMES.index(r.timeframe)
                if r.timeframe in SCAN_TIMEFRAMES
                else len(SCAN_TIMEFRAMES),
                "label": r.label,
                "pattern": r.pattern,
                "pattern_text": pattern_text(r),
                "tags": ", ".join(r.tags),
                "direction": r.direction,
                "direction_text": direction_text(r),
                "status": r.status,
                "status_text": status_text(r),
                "status_tip": _status_tip(r),
                "price": _num(r.price),
                "trigger_pct": _num(r.trigger_pct),
                "to_t1_pct": _num(r.to_t1_pct),
                "to_stop_pct": _num(r.to_stop_pct),
                "levels_tip": _levels_tip(r),
                "entry": round(r.entry, 2),
                "stop": round(r.stop, 2),
                "target1": None if r.target1 is None else round(r.target1, 2),
                "target2": None if r.target2 is None else round(r.target2, 2),
                "rr": _num(r.reward_risk),
                "rr_now": _num(r.rr_now),
                "tfc": tfc_text(r),
                "tfc_stance": r.tfc.stance or "",
                "tfc_tip": tfc_tooltip(r),
                "magnitude": _num(r.magnitude_pct),
                "magnitude_atr": _num(r.magnitude_atr),
                "target_origin": _TARGET_ORIGIN_TEXT.get(origin or "", "—"),
                "setup_iso": r.setup_time.isoformat() if r.setup_time else "",
                "setup_text": setup_time_text(r),
                "triggered": format_et(r.triggered_at, "%m-%d %H:%M") if r.triggered_at else "",
                "regime": regime.label if regime else "—",
                "regime_code": str(regime) if regime else "",
                "entry_rule": r.entry_rule,
                "stop_rule": r.stop_rule,
                "target_rule": r.target_rule or "",
                "plan_tfc": r.tfc.plan_label,  # journaled with the trade
                "plan_rules": r.rules_text,
            }
        )
    return out


# ------------------------------------------------------------------------------ status


def board_status(board: SignalBoard) -> tuple[DataResult[object], str | None]:
    """The board's status, and a second line naming failed frames when some rows still
    showed (a partial board is not an error, but it must not look complete)."""
    state = board.state if board.rows or board.state is not DataState.FRESH else DataState.EMPTY
    result: DataResult[object] = DataResult(
        board.rows if board.rows else None,
        board.source,
        board.as_of,
        state,
        error="; ".join(board.errors[:3]) or None,
    )
    partial = None
    if board.errors and board.rows:
        partial = f"{len(board.errors)} frame(s) failed: " + "; ".join(board.errors[:3])
    return result, partial


def shown_text(shown: int, total: int, symbols: int, timeframes: int) -> str:
    """The line under the grid: what is shown of what was scanned."""
    return (
        f"{shown} of {total} ideas shown · {symbols} symbols × {timeframes} timeframes "
        "scanned · ranked by readiness"
    )


def signal_plan(row: Mapping[str, Any]) -> dict[str, Any]:
    """The selected row's plan for the ticket: which signal, and its direction and T2."""
    plan = {k: row.get(k) for k in SIGNAL_PLAN_FIELDS}
    plan.update(
        direction=row["direction"],
        target2=row.get("target2"),
        tfc=row.get("plan_tfc"),  # the journal keeps the signal's context with the trade
        rules=row.get("plan_rules"),
    )
    return plan


def signal_summary(row: Mapping[str, Any]) -> str:
    """One line: the signal's levels and the rule behind each."""
    return (
        f"{row['symbol']} {row['timeframe']} {row['direction']} · entry {row['entry']} "
        f"({row['entry_rule']}) · stop {row['stop']} ({row['stop_rule']}) · "
        f"T1 {row['target1']} ({row['target_rule']})"
    )


def watchlist_text(symbols: Sequence[str], limit: int) -> str:
    """The editor's count line."""
    return f"{len(symbols)} of {limit} symbols · scanned on {len(SCAN_TIMEFRAMES)} timeframes"
