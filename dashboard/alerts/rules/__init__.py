"""The alert rules: hand-made inputs in, typed ``AlertEvent`` records out.

Pure (no I/O, no clock reads): the engine (``alerts.engine``) gathers the journal's trades,
quotes, the signal board, the account and the data service's health, and hands them here
with the broker's time. Every event has a deterministic key built from what it is about,
so evaluating the same facts again, after a restart or in a second process, gives the same
keys and the store keeps one row per key:

- a trade event (``trades``) is keyed by the trade id and the step
  (``trade:7:entry_filled``, ``trade:7:exit:2:sent``): each step happens once per trade
  (or per exit attempt);
- a signal event (``signals``) by the board's stable signal id and the state
  (``signal:<id>:triggered``);
- a condition (``conditions``: heat over its limit, an upstream down, the monitor silent)
  by its name and the episode number (``heat#3``, ``heat#3:cleared``), counted from the
  alerts already stored, so a condition that clears and returns alerts again, once per
  episode;
- the daily loss limit by the New York trading date (once a day).

``config.AlertConfig`` holds every rule's threshold and switch. This package's namespace
is the rules' public API.
"""

from __future__ import annotations

from dashboard.alerts.rules.conditions import (
    daily_loss_events,
    heartbeat_events,
    heat_events,
    stale_events,
)
from dashboard.alerts.rules.config import AlertConfig
from dashboard.alerts.rules.signals import signal_events
from dashboard.alerts.rules.trades import (
    armed_entry_sent_event,
    near_stop_fraction,
    trade_events,
)

__all__ = [
    "AlertConfig",
    "armed_entry_sent_event",
    "daily_loss_events",
    "heartbeat_events",
    "heat_events",
    "near_stop_fraction",
    "signal_events",
    "stale_events",
    "trade_events",
]
