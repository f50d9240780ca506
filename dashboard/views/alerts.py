"""Alerts as the page shows them: the bell's count, toasts for new alerts, the history's
rows and filters, and the payload a browser notification gets.

Pure: stored alerts (``alerts.records.StoredAlert``) in, typed view data out. Times are
the broker's clock in New York time; an alert says which rule raised it and what the
webhook did with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dashboard.alerts.kinds import GROUPS, KIND_LABELS, AlertKind
from dashboard.alerts.records import StoredAlert
from dashboard.views.formatting import format_et

__all__ = [
    "GROUP_LABELS",
    "HISTORY_SOURCE",
    "SEVERITY_COLOURS",
    "AlertRow",
    "Toast",
    "bell_text",
    "delivery_text",
    "history_rows",
    "kind_filter_options",
    "kinds_for_filter",
    "notification_payload",
    "toasts",
]

HISTORY_SOURCE = "alerts table (journal database)"
GROUP_LABELS = {"signal": "Signals", "trade": "Trades", "risk": "Risk", "system": "System"}
SEVERITY_COLOURS = {"info": "info", "warning": "warning", "critical": "danger"}
MAX_TOASTS = 3  # more new alerts at once: the rest are counted in one toast
INFO_BURST = 2  # more routine alerts than this at once: one toast counts them
OWN_TOAST = frozenset({AlertKind.ENTRY_FILLED, AlertKind.EXIT_FILLED})  # never routine


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One history row."""

    id: int
    when: str  # broker time, New York
    severity: str
    colour: str
    kind: str  # the kind's label
    symbol: str
    title: str
    message: str
    delivery: str
    unread: bool


@dataclass(frozen=True, slots=True)
class Toast:
    id: int
    header: str
    body: str
    colour: str


def bell_text(unread: int | None) -> str:
    """The bell's badge: the unread count, "99+" past 99, "!" when it could not be read."""
    if unread is None:
        return "!"
    if unread <= 0:
        return ""
    return "99+" if unread > 99 else str(unread)


def delivery_text(a: StoredAlert) -> str:
    """What the webhook did with an alert."""
    status = a.delivery_status
    if status == "off":
        return "in app only"
    if status == "sent":
        tries = f" after {a.delivery_attempts} attempts" if a.delivery_attempts > 1 else ""
        return f"webhook sent {format_et(a.delivered_at, '%H:%M:%S')}{tries}"
    if status == "failed":
        return f"webhook failed ({a.delivery_error or 'no answer'}; {a.delivery_attempts} attempts)"
    if a.delivery_attempts:
        return f"webhook retrying ({a.delivery_error or 'no answer'}; {a.delivery_attempts} so far)"
    return "webhook sending" if status == "sending" else "webhook queued"


def history_rows(alerts: Iterable[StoredAlert]) -> list[AlertRow]:
    return [
        AlertRow(
            id=a.id,
            when=format_et(a.at, "%a %b %d %H:%M:%S"),
            severity=a.severity,
            colour=SEVERITY_COLOURS.get(a.severity, "secondary"),
            kind=KIND_LABELS[a.kind],
            symbol=a.symbol or "—",
            title=a.title,
            message=a.message,
            delivery=delivery_text(a),
            unread=not a.acknowledged,
        )
        for a in alerts
    ]


def _toast(a: StoredAlert) -> Toast:
    return Toast(
        id=a.id,
        header=f"{KIND_LABELS[a.kind]} · {format_et(a.at, '%H:%M:%S')}",
        body=f"{a.title}. {a.message}" if a.message else a.title,
        colour=SEVERITY_COLOURS.get(a.severity, "secondary"),
    )


def _summary(alerts: Sequence[StoredAlert], header: str) -> Toast:
    """One toast for many alerts: how many of each kind, then their symbols."""
    kinds = Counter(KIND_LABELS[a.kind] for a in alerts)
    symbols = list(dict.fromkeys(a.symbol for a in alerts if a.symbol))
    body = ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in kinds.most_common())
    if symbols:
        body += " · " + ", ".join(symbols[:8]) + (" …" if len(symbols) > 8 else "")
    return Toast(id=alerts[0].id, header=header, body=body + ". The bell has each one.",
                 colour="secondary")  # fmt: skip


def toasts(new: Sequence[StoredAlert], *, complete: bool = True) -> list[Toast]:
    """Toasts for alerts this page has not shown yet, newest first. Fills, warnings and
    worse get a toast each, up to ``MAX_TOASTS``. A burst of more than ``INFO_BURST``
    routine alerts at once (a scan finding many setups) is one toast that counts them,
    and so is whatever is past ``MAX_TOASTS``, rather than burying the screen. When ``new``
    is a capped page (``complete`` False), the count says there are more."""
    ordered = sorted(new, key=lambda a: a.id, reverse=True)
    routine = [a for a in ordered if a.severity == "info" and a.kind not in OWN_TOAST]
    own = [a for a in ordered if a not in routine]
    if len(routine) <= INFO_BURST:
        own, routine = ordered, []
    out = [_toast(a) for a in own[:MAX_TOASTS]]
    rest = sorted([*own[MAX_TOASTS:], *routine], key=lambda a: a.id, reverse=True)
    if rest:
        count = f"{len(rest)}{'' if complete else '+'}{' more' if out else ''}"
        out.append(_summary(rest, f"{count} alerts"))
    return out


def notification_payload(new: Sequence[StoredAlert]) -> list[dict[str, str]]:
    """What the browser's Notification API shows (title, body, a tag that makes the same
    alert replace rather than repeat itself across tabs); only warnings and worse, plus
    fills, so a busy signal board does not flood the desktop."""
    loud = {AlertKind.ENTRY_FILLED, AlertKind.EXIT_FILLED, AlertKind.SIGNAL_TRIGGERED}
    return [
        {"title": a.title, "body": a.message, "tag": a.key, "severity": a.severity}
        for a in sorted(new, key=lambda a: a.id)
        if a.severity != "info" or a.kind in loud
    ]


def kind_filter_options() -> list[dict[str, str]]:
    """The kind filter: each group, then each kind under it."""
    out: list[dict[str, str]] = []
    for group in GROUPS:
        out.append({"label": f"All {GROUP_LABELS[group].lower()}", "value": group})
        out += [
            {"label": f"· {KIND_LABELS[k]}", "value": k.value}
            for k in AlertKind
            if k.group == group
        ]
    return out


def kinds_for_filter(selected: Sequence[str] | None) -> list[str] | None:
    """Filter values (groups or kinds) → the kinds to read; None for no filter. Unknown
    values (an edited address or a stale page) are ignored."""
    if not selected:
        return None
    kinds: set[str] = set()
    for value in selected:
        if value in GROUPS:
            kinds.update(k.value for k in AlertKind if k.group == value)
        elif value in {k.value for k in AlertKind}:
            kinds.add(value)
    return sorted(kinds) or None
