"""Setup lifecycle: what happened to each pattern on the bars after its setup bar.

pending → triggered → target_hit / stopped, or pending → expired. A trigger is intrabar
(price trades through the entry, strat.md §1.2); ``in_force_close_index`` separately
records the first bar that *closed* beyond the entry. With only OHLC we cannot know the
order of events inside one bar, so a bar that touches both stop and target, or triggers
and touches the stop, is scored as stopped (conservative) and says so in ``notes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dashboard.strat.bars import to_ticks
from dashboard.strat.signals import Pattern, Setup, SetupStatus

_FIRST_WINDOW = 64  # bars scanned before the window doubles; most setups resolve fast


def _first_hit(flags: NDArray[np.bool_]) -> int:
    """Index of the first True, or -1."""
    j = int(flags.argmax())  # argmax of bools stops at the first True
    return j if flags.size and flags[j] else -1


def _scan(start: int, stop: int, test: Callable[[int, int], NDArray[np.bool_]]) -> int:
    """First bar in [start, stop) where ``test(a, b)`` (flags for bars a..b-1) is true.

    Searches in doubling windows so a long history costs little when the event is near.
    """
    a, size = start, _FIRST_WINDOW
    while a < stop:
        b = min(stop, a + size)
        j = _first_hit(test(a, b))
        if j >= 0:
            return a + j
        a, size = b, size * 2
    return -1


def _time_at(timestamps: Sequence[Any] | pd.Index | None, i: int) -> datetime | None:
    if timestamps is None:
        return None
    return pd.Timestamp(timestamps[i]).to_pydatetime()


def evaluate_setups(
    patterns: Iterable[Pattern],
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    timestamps: Sequence[Any] | pd.Index | None = None,
    expire_after: int | None = 3,
    *,
    tick: float = 0.01,
    last_bar_closed: bool = True,
) -> list[Setup]:
    """Walk the bars after each pattern's setup bar and report its state.

    - Triggered on the first bar whose high (long) reaches the entry, within
      ``expire_after`` bars of the setup; otherwise EXPIRED at setup + ``expire_after``
      (``None`` = never expires).
    - After the trigger (the trigger bar included) the first bar reaching T1 is
      TARGET_HIT and the first reaching the stop is STOPPED; both in one bar → STOPPED.
    - ``last_bar_closed=False``: the final bar is still forming. It may trigger or hit
      levels (those are intrabar facts), but it cannot count as a close beyond the entry
      and does not use up a bar of the expiry window.
    """
    return setups_from_ticks(
        patterns,
        to_ticks(high, tick),
        to_ticks(low, tick),
        to_ticks(close, tick),
        timestamps,
        expire_after,
        tick=tick,
        last_bar_closed=last_bar_closed,
    )


def setups_from_ticks(
    patterns: Iterable[Pattern],
    h: NDArray[np.int64],
    lo: NDArray[np.int64],
    c: NDArray[np.int64],
    timestamps: Sequence[Any] | pd.Index | None = None,
    expire_after: int | None = 3,
    *,
    tick: float = 0.01,
    last_bar_closed: bool = True,
) -> list[Setup]:
    """``evaluate_setups`` on high/low/close already in ticks (rounded once by the caller)."""
    per_unit = 1.0 / tick
    n = h.size
    last_closed = n - 1 if last_bar_closed else n - 2
    fav = {"long": h, "short": -lo}
    adv = {"long": lo, "short": -h}
    cls = {"long": c, "short": -c}
    out: list[Setup] = []
    for p in patterns:
        sgn = 1 if p.direction == "long" else -1
        f, a_, cl = fav[p.direction], adv[p.direction], cls[p.direction]
        s = p.setup_index
        entry = sgn * round(p.entry.price * per_unit)  # same rounding as to_ticks
        stop = sgn * round(p.stop.price * per_unit)
        t1 = sgn * round(p.targets[0].price * per_unit) if p.targets else None
        magnitude = abs(p.targets[0].price - p.entry.price) / p.entry.price if p.targets else None
        notes: list[str] = []

        window_end = n if expire_after is None else min(n, s + 1 + expire_after)
        trig = _scan(s + 1, window_end, lambda a, b, f=f, e=entry: f[a:b] >= e)
        if trig < 0:
            expired = expire_after is not None and s + expire_after <= last_closed
            status = SetupStatus.EXPIRED if expired else SetupStatus.PENDING
            end = s + expire_after if expired and expire_after is not None else n - 1
            out.append(
                Setup(p, status, end, magnitude_pct=magnitude, setup_time=_time_at(timestamps, s))
            )
            continue

        if t1 is None:
            res = _scan(trig, n, lambda a, b, a_=a_, st=stop: a_[a:b] <= st)
        else:
            res = _scan(
                trig, n, lambda a, b, f=f, a_=a_, t=t1, st=stop: (f[a:b] >= t) | (a_[a:b] <= st)
            )
        status, exit_price, resolved = SetupStatus.TRIGGERED, None, None
        if res >= 0:
            stopped = bool(a_[res] <= stop)
            resolved = res
            if stopped:
                status, exit_price = SetupStatus.STOPPED, p.stop.price
                if t1 is not None and f[res] >= t1:
                    notes.append("target and stop in the same bar; assumed stopped (conservative)")
                elif res == trig:
                    notes.append(
                        "triggered and stopped in the same bar; order unknown, assumed stopped"
                    )
            else:
                status, exit_price = SetupStatus.TARGET_HIT, p.targets[0].price
        close_end = min(resolved if resolved is not None else n - 1, last_closed)
        ifc = _scan(trig, close_end + 1, lambda a, b, cl=cl, e=entry: cl[a:b] >= e)
        out.append(
            Setup(
                pattern=p,
                status=status,
                end_index=resolved if resolved is not None else n - 1,
                triggered_index=trig,
                triggered_at=_time_at(timestamps, trig),
                in_force_close_index=ifc if ifc >= 0 else None,
                resolved_index=resolved,
                exit_price=exit_price,
                magnitude_pct=magnitude,
                notes=tuple(notes),
                setup_time=_time_at(timestamps, s),
            )
        )
    return out


def active_setups(setups: Iterable[Setup]) -> list[Setup]:
    """Setups a trader still acts on: waiting for the trigger, or in force."""
    return [s for s in setups if s.status in (SetupStatus.PENDING, SetupStatus.TRIGGERED)]
