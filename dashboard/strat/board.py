"""The signal board: scanner rows turned into the list a trader picks from.

Three lists, as traders use them: setups waiting for their trigger, setups already in
force, and setups whose move to T1 is too small to be worth an option's spread and
theta (low-magnitude rejects). Each row has a stable id, so the selection survives a
refresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dashboard.strat.continuity import ContinuityResult
from dashboard.strat.scanner import ScanRow
from dashboard.strat.signals import Pattern, Setup, SetupStatus

Category = Literal["pending", "triggered", "low_magnitude"]
TIMEFRAME_ORDER = {"1Month": 0, "1Week": 1, "1Day": 2, "1Hour": 3, "15Min": 4, "5Min": 5}


@dataclass(frozen=True, slots=True)
class SignalRow:
    id: str
    category: Category
    symbol: str
    timeframe: str
    pattern: str
    label: str
    direction: Literal["long", "short"]
    status: str
    price: float
    entry: float
    stop: float
    target1: float | None
    target2: float | None
    reward_risk: float | None
    magnitude_pct: float | None  # |T1 − entry| / entry, in percent
    tfc_score: int | None
    tfc_n: int | None
    tfc_aligned: bool | None  # the TFC direction agrees with the trade direction
    setup_time: datetime | None
    triggered_at: datetime | None
    entry_rule: str
    stop_rule: str
    target_rule: str | None

    @property
    def tfc_label(self) -> str | None:
        """Timeframe continuity as the board shows it ("4/4 ↓"), None when unknown."""
        if self.tfc_score is None or self.tfc_n is None:
            return None
        arrow = "↑" if self.tfc_score > 0 else "↓" if self.tfc_score < 0 else "·"
        return f"{abs(self.tfc_score)}/{self.tfc_n} {arrow}"

    @property
    def tfc_text(self) -> str:
        return self.tfc_label or "—"

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


def _tfc(
    continuity: ContinuityResult | None, direction: str
) -> tuple[int | None, int | None, bool | None]:
    if continuity is None:
        return None, None, None
    want = 1 if direction == "long" else -1
    return continuity.score, continuity.n, continuity.direction == want


def _row(scan: ScanRow, setup: Setup, min_magnitude_pct: float) -> SignalRow:
    p = setup.pattern
    t1 = p.targets[0].price if p.targets else None
    t2 = p.targets[1].price if len(p.targets) > 1 else None
    magnitude = abs(t1 - p.entry.price) / p.entry.price * 100.0 if t1 is not None else None
    score, n, aligned = _tfc(scan.continuity, p.direction)
    if magnitude is not None and magnitude < min_magnitude_pct:
        category: Category = "low_magnitude"
    elif setup.status is SetupStatus.TRIGGERED:
        category = "triggered"
    else:
        category = "pending"
    setup_time = setup.setup_time
    return SignalRow(
        id=signal_id(scan.symbol, scan.timeframe, p, setup_time),
        category=category,
        symbol=scan.symbol,
        timeframe=scan.timeframe,
        pattern=p.name,
        label=p.label,
        direction=p.direction,
        status=setup.status.value,
        price=scan.price,
        entry=p.entry.price,
        stop=p.stop.price,
        target1=t1,
        target2=t2,
        reward_risk=p.reward_risk,
        magnitude_pct=magnitude,
        tfc_score=score,
        tfc_n=n,
        tfc_aligned=aligned,
        setup_time=setup_time,
        triggered_at=setup.triggered_at,
        entry_rule=p.entry.rule,
        stop_rule=p.stop.rule,
        target_rule=p.targets[0].rule if p.targets else None,
    )


def build_signal_board(
    rows: Iterable[ScanRow], *, min_magnitude_pct: float = 0.5
) -> list[SignalRow]:
    """Active setups from the scan, newest structure first within each timeframe.

    Rows with a data error contribute nothing here; the tab reports them separately.
    """
    out: list[SignalRow] = []
    for scan in rows:
        if scan.error:
            continue
        for setup in scan.setups:
            if setup.status in (SetupStatus.PENDING, SetupStatus.TRIGGERED):
                out.append(_row(scan, setup, min_magnitude_pct))
    out.sort(
        key=lambda r: (
            {"triggered": 0, "pending": 1, "low_magnitude": 2}[r.category],
            TIMEFRAME_ORDER.get(r.timeframe, 9),
            r.symbol,
            -(r.reward_risk or 0.0),
        )
    )
    return out
