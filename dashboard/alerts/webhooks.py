"""Webhook delivery: a generic JSON POST, Discord or Slack, in the background, retried
with backoff, rate-limited into digests, and recorded per alert.

The URL is a secret (Discord and Slack put the credential in the path): it is held as a
``SecretStr``, never put in a log line, an error message or a repr, and every log record
of the HTTP library that would carry it is redacted (``_Redactor``).

Delivery runs in its own thread, woken when the engine records alerts and otherwise
polling the alerts table, so a slow or dead receiver never holds up a monitor pass.
Each round claims due alerts in the journal database (``AlertStore.claim_due``), so
several processes deliver each alert once. A receiver that got the POST but whose answer
was lost will see it again after the claim expires: every payload carries the alert's
deterministic key (and an ``Idempotency-Key`` header) for it to drop the repeat.

Rate limit: at most ``per_minute`` messages in any 60 s. When more alerts are due than
the window has room for, the room less one go out one by one and the rest as a single
digest message; with no room left they wait for the window to move.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from dashboard.alerts.kinds import KIND_LABELS
from dashboard.alerts.records import StoredAlert
from dashboard.alerts.store import AlertStore
from dashboard.views.formatting import format_et

__all__ = [
    "DeliveryRound",
    "WebhookDelivery",
    "WebhookFormat",
    "backoff_seconds",
    "format_payload",
    "resolve_format",
]

log = logging.getLogger(__name__)

WebhookFormat = Literal["json", "discord", "slack"]
USER_AGENT = "strat-dashboard-alerts/1"
# Discord: content ≤ 2000 characters, ≤ 10 embeds, title ≤ 256, description ≤ 4096.
_DISCORD_CONTENT, _DISCORD_EMBEDS, _DISCORD_TITLE, _DISCORD_TEXT = 2000, 10, 256, 4096
# Slack: a section's text ≤ 3000 characters, ≤ 50 blocks.
_SLACK_TEXT, _SLACK_BLOCKS = 3000, 50
_COLOURS = {"info": 0x3498DB, "warning": 0xF39C12, "critical": 0xE74C3C}
_SLACK_ICON = {
    "info": ":information_source:",
    "warning": ":warning:",
    "critical": ":rotating_light:",
}
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def resolve_format(setting: str, url: str) -> WebhookFormat:
    """The payload format: the setting, or for ``auto`` the one the host speaks."""
    if setting in ("json", "discord", "slack"):
        return setting  # type: ignore[return-value]
    host = (urlsplit(url).hostname or "").lower()
    if host in ("discord.com", "discordapp.com") or host.endswith(
        (".discord.com", ".discordapp.com")
    ):
        return "discord"
    if host == "hooks.slack.com":
        return "slack"
    return "json"


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Wait after failed attempt ``attempt`` (1-based): base, 2×base, 4×base … ≤ cap."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))


def _alert_json(a: StoredAlert) -> dict[str, Any]:
    return {
        "key": a.key,
        "kind": a.kind.value,
        "kind_label": KIND_LABELS[a.kind],
        "severity": a.severity,
        "at": a.at.astimezone(UTC).isoformat(),
        "at_new_york": format_et(a.at, "%Y-%m-%d %H:%M:%S"),
        "title": a.title,
        "message": a.message,
        "symbol": a.symbol,
        "timeframe": a.timeframe,
        "trade_id": a.trade_id,
        "signal_id": a.signal_id,
        "values": dict(a.values),
    }


def _line(a: StoredAlert) -> str:
    return f"[{a.severity.upper()}] {format_et(a.at, '%H:%M')} {a.title}"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def format_payload(
    alerts: Sequence[StoredAlert], fmt: WebhookFormat, *, mode: str
) -> dict[str, Any]:
    """One webhook message for one alert, or a digest of several."""
    digest = len(alerts) > 1
    head = (
        f"STRAT dashboard ({mode}): {len(alerts)} alerts" if digest else f"STRAT dashboard ({mode})"
    )
    if fmt == "discord":
        shown = alerts[:_DISCORD_EMBEDS]
        rest = alerts[_DISCORD_EMBEDS:]
        content = head + ("".join(f"\n{_line(a)}" for a in rest) if rest else "")
        return {
            "username": "STRAT Dashboard",
            "content": _cut(content, _DISCORD_CONTENT),
            "allowed_mentions": {"parse": []},  # never ping @everyone from alert text
            "embeds": [
                {
                    "title": _cut(a.title, _DISCORD_TITLE),
                    "description": _cut(a.message, _DISCORD_TEXT),
                    "color": _COLOURS.get(a.severity, _COLOURS["info"]),
                    "timestamp": a.at.astimezone(UTC).isoformat(),
                    "footer": {"text": f"{KIND_LABELS[a.kind]} · {format_et(a.at, '%H:%M:%S')}"},
                }
                for a in shown
            ],
        }
    if fmt == "slack":
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_cut(head, 200)}*"}}
        ]
        room = _SLACK_BLOCKS - 2
        for a in alerts[:room]:
            body = f"{_SLACK_ICON.get(a.severity, '')} *{a.title}*\n{a.message}"
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, _SLACK_TEXT)}}
            )
        if len(alerts) > room:
            more = "\n".join(_line(a) for a in alerts[room:])
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": _cut(more, _SLACK_TEXT)}}
            )
        fallback = head + "".join(f"\n{_line(a)}" for a in alerts)
        return {"text": _cut(fallback, _SLACK_TEXT), "blocks": blocks}
    return {
        "source": "strat-dashboard",
        "mode": mode,
        "type": "digest" if digest else "alert",
        "count": len(alerts),
        "text": head + "".join(f"\n{_line(a)}" for a in alerts),
        "alerts": [_alert_json(a) for a in alerts],
    }


class _Redactor(logging.Filter):
    """Replaces registered secrets in log records of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *secrets: str) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format: leave it to the handler
            return True
        changed = text
        for s in sorted(self._secrets, key=len, reverse=True):
            changed = changed.replace(s, "<webhook URL>")
        if changed != text:
            record.msg, record.args = changed, None
        return True


_REDACTOR = _Redactor()
# httpx logs every request's URL at INFO; httpcore logs connections and headers at DEBUG.
_HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def _guard_logs(url: str) -> None:
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    _REDACTOR.add(url, url.rstrip("/"), tail)
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


@dataclass(frozen=True, slots=True)
class DeliveryRound:
    """What one delivery round did (for tests and the status line)."""

    at: datetime
    claimed: int = 0
    messages: int = 0  # HTTP POSTs made
    sent: int = 0  # alerts delivered
    retrying: int = 0
    failed: int = 0
    waiting: int = 0  # handed back: the rate window was full
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    retry: bool
    error: str
    retry_after: float | None = None


class WebhookDelivery:
    """Posts pending alerts to one webhook; ``run_once`` is one round, ``start`` a thread."""

    def __init__(
        self,
        store: AlertStore,
        url: SecretStr,
        fmt: WebhookFormat,
        *,
        mode: str,
        per_minute: int = 10,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        timeout: float = 10.0,
        poll_seconds: float = 5.0,
        claim_seconds: float = 120.0,
        holder: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.store = store
        self._url = url
        self.format = fmt
        self.mode = mode
        self.per_minute = max(1, per_minute)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_seconds = poll_seconds
        self.claim_seconds = max(claim_seconds, 3 * timeout)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        _guard_logs(url.get_secret_value())
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,  # a redirect could carry the payload somewhere else
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_round: DeliveryRound | None = None

    def __repr__(self) -> str:
        return f"WebhookDelivery(format={self.format!r}, url=<secret>)"

    @property
    def destination(self) -> str:
        """Where alerts go, without the secret part: "Discord webhook", "JSON webhook at host"."""
        host = urlsplit(self._url.get_secret_value()).hostname or "?"
        if self.format == "json":
            return f"JSON webhook at {host}"
        return f"{self.format.capitalize()} webhook"

    # ---- one round ---------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> DeliveryRound:
        """Claim what is due, respect the rate window, post, and record each outcome."""
        now = now or self.clock()
        window = self.store.window(now)
        room = self.per_minute - window.sent
        claimed = self.store.claim_due(
            self.holder, now, limit=200, claim_seconds=self.claim_seconds
        )
        if not claimed:
            out = DeliveryRound(at=now)
            self.last_round = out
            return out
        if room <= 0:
            self.store.release([a.id for a in claimed], self.holder)
            out = DeliveryRound(at=now, claimed=len(claimed), waiting=len(claimed))
            self.last_round = out
            return out
        if len(claimed) <= room:
            groups = [[a] for a in claimed]
        else:  # room − 1 single messages, then one digest of the rest
            groups = [[a] for a in claimed[: room - 1]] + [claimed[room - 1 :]]
        sent = retrying = failed = 0
        errors: list[str] = []
        for group in groups:
            outcome = self._post(group)
            ids = [a.id for a in group]
            if outcome.ok:
                batch = group[0].key if len(group) == 1 else f"digest:{_digest_id(group)}"
                self.store.mark_sent(ids, self.holder, now=now, batch=batch)
                sent += len(group)
                continue
            errors.append(outcome.error)
            final = [
                a
                for a in group
                if not outcome.retry or a.delivery_attempts + 1 >= self.max_attempts
            ]
            again = [a for a in group if a not in final]
            if final:
                self.store.mark_failed([a.id for a in final], self.holder, error=outcome.error)
                failed += len(final)
                log.warning(
                    "alert webhook gave up on %d alert(s) after %s: %s",
                    len(final),
                    "a refusal" if not outcome.retry else f"{self.max_attempts} attempts",
                    outcome.error,
                )
            for a in again:
                wait = backoff_seconds(a.delivery_attempts + 1, self.backoff_base, self.backoff_cap)
                if outcome.retry_after is not None:
                    wait = max(wait, min(outcome.retry_after, self.backoff_cap))
                self.store.mark_retry(
                    [a.id], self.holder, next_at=now + timedelta(seconds=wait), error=outcome.error
                )
                retrying += 1
        out = DeliveryRound(
            at=now,
            claimed=len(claimed),
            messages=len(groups),
            sent=sent,
            retrying=retrying,
            failed=failed,
            errors=tuple(errors),
        )
        self.last_round = out
        return out

    def _post(self, group: Sequence[StoredAlert]) -> _Outcome:
        body = format_payload(group, self.format, mode=self.mode)
        headers = {"Idempotency-Key": group[0].key if len(group) == 1 else _digest_id(group)}
        try:
            resp = self._client.post(self._url.get_secret_value(), json=body, headers=headers)
        except httpx.TimeoutException:
            return _Outcome(False, True, "timed out")
        except httpx.HTTPError as exc:  # connection refused, reset, DNS: the name only
            return _Outcome(False, True, f"could not connect ({type(exc).__name__})")
        if 200 <= resp.status_code < 300:
            return _Outcome(True, False, "")
        retry_after = _retry_after(resp)
        retry = resp.status_code in _RETRY_STATUS or resp.status_code >= 500
        return _Outcome(False, retry, f"HTTP {resp.status_code}", retry_after)

    # ---- background thread -------------------------------------------------------------------
    def wake(self) -> None:
        """New alerts were recorded: deliver now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = self.poll_seconds
            try:
                self.run_once()
                due = self.store.next_due()
                if due is not None:
                    wait = min(wait, max((due - self.clock()).total_seconds(), 0.05))
            except Exception as exc:  # the database is away: try again at the next poll
                log.warning("alert delivery round failed: %s", type(exc).__name__)
            self._wake.wait(wait)


def _digest_id(group: Sequence[StoredAlert]) -> str:
    return hashlib.sha1("|".join(a.key for a in group).encode()).hexdigest()[:16]


def _retry_after(resp: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (or Discord's JSON ``retry_after``), if given."""
    raw = resp.headers.get("Retry-After")
    try:
        if raw is not None:
            return max(float(raw), 0.0)
        if resp.headers.get("content-type", "").startswith("application/json"):
            value = resp.json().get("retry_after")
            return max(float(value), 0.0) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        return None
    return None
