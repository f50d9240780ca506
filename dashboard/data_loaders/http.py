"""``AsyncHTTPClient``: one pooled HTTP client per upstream, httpx (HTTP/2) or aiohttp.

Why it exists: every upstream call needs the same discipline — phase time-outs and an
overall deadline per attempt (a trickled body cannot hold a caller), retries only where
they are safe and only within the caller's deadline, the deployment's shared request
budget under Alpaca's 200/min (``budget.RateBudget``), errors logged once per streak
without secrets, and outcomes fed to the health tracker. Clients are bound to an event
loop, so the backend is rebuilt when the running loop (or the process, after a fork)
changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import orjson

from dashboard.data_loaders.budget import (
    BudgetPolicy,
    MemoryBudgetStore,
    Priority,
    RateBudget,
    budget_priority,
    current_priority,
)
from dashboard.data_loaders.errors import (
    BadResponse,
    DeadlineExceeded,
    NetworkError,
    RateBudgetExhausted,
    RateLimited,
    UpstreamError,
)
from dashboard.data_loaders.health import HealthTracker
from dashboard.data_loaders.loop import remaining

__all__ = [
    "AsyncHTTPClient",
    "HttpResponse",
    "RetryPolicy",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

Backend = Literal["httpx", "aiohttp"]
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: at most ``max_attempts`` tries and ``max_total`` seconds in all."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 4.0
    max_total: float = 20.0
    jitter: float = 0.25  # up to +25 % random spread so retries do not synchronise
    max_retry_after: float = 30.0  # a longer server hint fails fast instead of hanging a page
    retry_429_refresh: bool = False  # interval refreshes never retry a 429: they show cached data
    # An interval refresh tries at most this often: the next tick comes in seconds, and an
    # outage should cost it one quick retry, not its whole deadline.
    refresh_attempts: int = 2

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential with jitter."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (1.0 + self.jitter * rng.random())


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    content: bytes
    url: str
    attempts: int = 1

    def json(self, source: str = "") -> Any:
        """The body as JSON, or ``BadResponse`` (truncated or non-JSON bodies)."""
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise BadResponse(
                f"malformed JSON from {self.url.split('?')[0]} ({exc.msg})",
                status=self.status,
                source=source,
            ) from None

    def text(self, limit: int = 300) -> str:
        return self.content[:limit].decode("utf-8", "replace")


class _Transport(Protocol):
    async def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> HttpResponse: ...

    async def aclose(self) -> None: ...


class _HttpxTransport:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        connect: float,
        read: float,
        http2: bool,
        max_connections: int,
        source: str,
    ) -> None:
        import httpx

        self._httpx = httpx
        self._source = source
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers),
            http2=http2,
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect + read),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> HttpResponse:
        httpx = self._httpx
        try:
            r = await self._client.request(
                method, path, params=params, content=body, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NetworkError(
                f"cannot connect ({type(exc).__name__})", source=self._source, maybe_sent=False
            ) from None
        except httpx.TimeoutException as exc:
            raise NetworkError(f"timed out ({type(exc).__name__})", source=self._source) from None
        except httpx.TransportError as exc:
            raise NetworkError(
                f"connection failed ({type(exc).__name__})", source=self._source
            ) from None
        return HttpResponse(
            r.status_code,
            {k.lower(): v for k, v in r.headers.items()},
            r.content,
            str(r.request.url),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


class _AiohttpTransport:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        connect: float,
        read: float,
        max_connections: int,
        source: str,
    ) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._base = base_url.rstrip("/")
        self._source = source
        self._session = aiohttp.ClientSession(
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
            connector=aiohttp.TCPConnector(limit=max_connections),
            raise_for_status=False,
        )

    async def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> HttpResponse:
        aiohttp = self._aiohttp
        url = self._base + path
        try:
            async with self._session.request(
                method, url, params=params, data=body, headers=dict(headers)
            ) as r:
                content = await r.read()
                return HttpResponse(
                    r.status, {k.lower(): v for k, v in r.headers.items()}, content, str(r.url)
                )
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NetworkError(
                f"cannot connect ({type(exc).__name__})", source=self._source, maybe_sent=False
            ) from None
        except TimeoutError as exc:
            raise NetworkError(f"timed out ({type(exc).__name__})", source=self._source) from None
        except aiohttp.ClientError as exc:
            raise NetworkError(
                f"connection failed ({type(exc).__name__})", source=self._source
            ) from None

    async def aclose(self) -> None:
        await self._session.close()


@dataclass
class _LoopState:
    loop: asyncio.AbstractEventLoop
    pid: int
    transport: _Transport


class AsyncHTTPClient:
    """GET/POST/DELETE against one base URL with retries, a request budget and health.

    - Each attempt has an overall deadline (``attempt_timeout``, and never past the
      caller's ``loop.current_deadline``): headers and body both, so a trickled body
      ends in ``DeadlineExceeded`` instead of holding the caller.
    - GETs are retried on network errors and 5xx with exponential backoff and jitter,
      bounded in count, total time and the caller's deadline. A 429 pauses the shared
      budget for its ``Retry-After``; an interval refresh does not retry it (it yields and
      shows cached data), other GETs retry only when ``Retry-After`` fits the deadline.
    - Other methods are never retried here: order submission makes its own, idempotent,
      decision (see ``AlpacaAsyncClient.submit_order``).
    - 4xx raise ``UpstreamError`` carrying the upstream's own message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        headers: Mapping[str, str] | None = None,
        backend: Backend = "httpx",
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        retry: RetryPolicy = RetryPolicy(),
        rate_limit_per_minute: int | None = None,
        budget: RateBudget | None = None,
        attempt_timeout: float | None = None,
        health: HealthTracker | None = None,
        health_key: str | None = None,
        secrets: Iterable[str] = (),
        http2: bool = True,
        max_connections: int = 50,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        if backend not in ("httpx", "aiohttp"):
            raise ValueError(f"unknown HTTP backend {backend!r}")
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.backend = backend
        self.retry = retry
        if budget is None and rate_limit_per_minute:
            # A budget of this client's own (tests, single-process tools).
            budget = RateBudget(
                MemoryBudgetStore(),
                f"local:{source}",
                replace(BudgetPolicy.for_limit(rate_limit_per_minute), share=1.0),
            )
        self.budget = budget
        self.attempt_timeout = (
            attempt_timeout if attempt_timeout is not None else connect_timeout + read_timeout
        )
        self._headers = dict(headers or {})
        self._connect = connect_timeout
        self._read = read_timeout
        self._http2 = http2
        self._max_connections = max_connections
        self._health = health
        self._health_key = health_key or source
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep or asyncio.sleep
        self._rng = random.Random(seed)
        self._state: _LoopState | None = None
        self._streaks: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # attempts per "METHOD /path", for tests and bench

    # -- lifecycle -----------------------------------------------------------------------
    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        st = self._state
        if st is not None and st.loop is loop and st.pid == os.getpid():
            return st
        # A new loop (reset, fork, or a test's own loop): the old transport belongs to a
        # loop we cannot run on, so it is dropped rather than closed.
        transport: _Transport
        if self.backend == "httpx":
            transport = _HttpxTransport(
                self.base_url,
                self._headers,
                self._connect,
                self._read,
                self._http2,
                self._max_connections,
                self.source,
            )
        else:
            transport = _AiohttpTransport(
                self.base_url,
                self._headers,
                self._connect,
                self._read,
                self._max_connections,
                self.source,
            )
        self._state = _LoopState(loop, os.getpid(), transport)
        return self._state

    async def aclose(self) -> None:
        st, self._state = self._state, None
        if st is None or st.pid != os.getpid():
            return
        try:
            if st.loop is asyncio.get_running_loop():
                await st.transport.aclose()
        except RuntimeError:
            pass

    # -- requests ------------------------------------------------------------------------
    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode; a malformed body counts as a failure for health and logs."""
        resp = await self.request("GET", path, params=params, _record_success=False)
        try:
            data = resp.json(self.source)
        except BadResponse as exc:
            self.note_bad_response(f"GET {path}", exc)
            raise
        self._succeeded(f"GET {path}", retried=resp.attempts > 1)
        return data

    def note_bad_response(self, key: str, error: UpstreamError) -> None:
        """Callers that find a 2xx body unusable (bad JSON, wrong shape) report it here."""
        self._failed(key, error)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
        _record_success: bool = True,
    ) -> HttpResponse:
        """Send one request; retried only for idempotent methods unless ``retry`` says so.

        Returns 2xx responses; raises ``RateLimited``, ``UpstreamError`` or
        ``NetworkError`` once the retry budget is spent.
        """
        method = method.upper()
        may_retry = (method in IDEMPOTENT) if retry is None else retry
        policy = self.retry if may_retry else NO_RETRY
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        body = orjson.dumps(json) if json is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        key = f"{method} {path}"
        st = self._loop_state()
        now = time.monotonic()
        left = remaining()
        deadline = now + (policy.max_total if left is None else min(policy.max_total, left))
        max_attempts = policy.max_attempts
        if method in IDEMPOTENT and current_priority() is Priority.REFRESH:
            max_attempts = min(max_attempts, policy.refresh_attempts)
        attempt = 0
        while True:
            attempt += 1
            priority = await self._acquire(key, deadline)
            self.calls[key] += 1
            error: UpstreamError
            delay: float | None = None
            try:
                resp = await self._send(st, method, path, clean or None, body, headers, deadline)
            except NetworkError as exc:
                error = exc
            else:
                if 200 <= resp.status < 300:
                    if _record_success:
                        self._succeeded(key, retried=attempt > 1)
                    resp.attempts = attempt
                    return resp
                error = self._error_for(resp)
                if resp.status == 429 and self.budget is not None:
                    await self.budget.throttled(error.retry_after)
                if resp.status in (429, 503):
                    delay = error.retry_after
                    if resp.status == 429 and delay is None:
                        delay = _reset_wait(resp.headers)
                if resp.status not in RETRYABLE_STATUS:
                    self._failed(key, error, reached=resp.status != 401)
                    raise error
                if (
                    resp.status == 429
                    and priority is Priority.REFRESH
                    and not policy.retry_429_refresh
                ):
                    self._failed(key, error)
                    raise error
            if attempt >= max_attempts:
                self._failed(key, error)
                raise error
            if delay is None:
                delay = policy.backoff(attempt, self._rng)
            elif delay > policy.max_retry_after:
                self._failed(key, error)
                raise error
            if time.monotonic() + delay >= deadline:
                self._failed(key, error)
                raise error
            await self._sleep(delay)

    async def _acquire(self, key: str, deadline: float) -> Priority:
        """Room in the shared budget (never waiting past ``deadline``); order-class for
        anything but a GET, since only orders and cancels change the account."""
        prio = Priority.ORDER if not key.startswith(("GET ", "HEAD ")) else current_priority()
        if self.budget is None:
            return prio
        wait = max(0.0, deadline - time.monotonic())
        try:
            with budget_priority(prio):
                return await self.budget.acquire(max_wait=wait, source=self.source)
        except RateBudgetExhausted as exc:
            self._streak_note(key, exc)
            raise

    async def _send(
        self,
        st: _LoopState,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
        deadline: float,
    ) -> HttpResponse:
        """One attempt, headers and body, within ``attempt_timeout`` and ``deadline``."""
        limit = min(self.attempt_timeout, max(0.0, deadline - time.monotonic()))
        try:
            async with asyncio.timeout(limit):
                return await st.transport.send(method, path, params, body, headers)
        except TimeoutError:
            raise DeadlineExceeded(
                f"no complete answer within {limit:.1f} s", source=self.source
            ) from None

    # -- helpers -------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """``text`` with every configured secret replaced, for logs and error messages."""
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _error_for(self, resp: HttpResponse) -> UpstreamError:
        message = ""
        try:
            data = orjson.loads(resp.content)
            if isinstance(data, dict):
                message = str(data.get("message") or data.get("error") or "")
        except orjson.JSONDecodeError:
            message = resp.text(200).strip()
        message = self.redact(message or f"HTTP {resp.status}")
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        cls = RateLimited if resp.status == 429 else UpstreamError
        return cls(message, status=resp.status, source=self.source, retry_after=retry_after)

    def _succeeded(self, key: str, *, retried: bool) -> None:
        if self._health is not None:
            self._health.record(self._health_key, True, retried=retried)
        if self._streaks.pop(key, None) is not None:
            log.info("%s %s recovered", self.source, key)

    def _streak_note(self, key: str, error: UpstreamError) -> None:
        """Log a local refusal (nothing was sent) once per streak, without health impact."""
        signature = f"{type(error).__name__}:{error.message}"
        if self._streaks.get(key) != signature:
            self._streaks[key] = signature
            log.info("%s %s not sent: %s", self.source, key, error.message)

    def _failed(self, key: str, error: UpstreamError, *, reached: bool = False) -> None:
        """Record the failure; log it once per (endpoint, error) streak."""
        if self._health is not None:
            self._health.record(self._health_key, reached)
        signature = f"{type(error).__name__}:{error.status}:{error.message}"
        if self._streaks.get(key) != signature:
            self._streaks[key] = signature
            level = logging.INFO if reached else logging.WARNING
            log.log(level, "%s %s failed: %s", self.source, key, self.redact(str(error)))


def _reset_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (epoch seconds), when a 429 has no Retry-After."""
    try:
        reset = float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return None
    return max(0.0, reset - time.time()) if reset > 1e9 else None


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
