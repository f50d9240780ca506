"""Alerts: every event a trader must not miss, recorded once and delivered in the app,
the browser and a webhook.

- ``kinds``: the alert kinds, groups and which rules can be turned off (no dependencies);
- ``records``: the plain records (``AlertEvent``, ``StoredAlert`` …);
- ``rules``: the pure rules, inputs in and events with deterministic keys out;
- ``store``: the alert tables in the journal database;
- ``engine``: the shell that runs the rules on each trade-monitor pass;
- ``webhooks``: background webhook delivery (JSON, Discord, Slack).

Importing this package imports nothing heavy (settings import ``kinds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from dashboard.alerts.records import AlertEvent, StoredAlert
    from dashboard.settings import Settings
    from dashboard.strat.board import SignalRow
    from dashboard.trading.journal import Journal

__all__ = ["record", "watch_signal"]


def record(
    journal: Journal, *events: AlertEvent | Iterable[AlertEvent], settings: Settings
) -> list[StoredAlert]:
    """Record events in ``journal``'s database, once per key; returns the new ones.

    For code outside the engine's pass, e.g. the trade monitor right after it sends an
    armed entry: ``record(journal, rules.armed_entry_sent_event(...), settings=settings)``.
    With a webhook configured in ``settings`` the rows wait for delivery, which every
    process's webhook thread picks up from the table.
    """
    from dashboard.alerts.records import AlertEvent as _Event
    from dashboard.alerts.store import AlertStore

    flat: list[_Event] = []
    for e in events:
        flat.extend([e] if isinstance(e, _Event) else e)
    deliver = settings.alerts_enabled and settings.alert_webhook_url is not None
    return AlertStore.of(journal).record(flat, deliver=deliver)


def watch_signal(journal: Journal, row: SignalRow, *, now: datetime) -> bool:
    """ "Alert when this pending setup triggers": watch one signal board row by its stable
    id. Its trigger then alerts (as a warning) even when its symbol and timeframe are
    switched off. False when it was watched already.

    For the signal board's one-click button: ``watch_signal(services.journal, row,
    now=broker_time)``.
    """
    from dashboard.alerts.records import SignalWatch
    from dashboard.alerts.store import AlertStore

    watch = SignalWatch(
        signal_id=row.id,
        symbol=row.symbol,
        timeframe=row.timeframe,
        label=row.label,
        direction=row.direction,
        entry=float(row.entry),
        created_at=now,
    )
    return AlertStore.of(journal).add_watch(watch)
