"""AsyncHTTPClient: retries only where safe, Retry-After, bounds, 4xx messages, logging.

Each behaviour runs on both backends against a scripted real server; respx pins the
httpx backend's behaviour (call counts, timeouts) precisely.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from dashboard.data_loaders.budget import (
    BudgetPolicy,
    MemoryBudgetStore,
    Priority,
    RateBudget,
    budget_priority,
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
from dashboard.data_loaders.http import AsyncHTTPClient, RetryPolicy, parse_retry_after
from dashboard.data_loaders.loop import run_async
from tests.data_loaders._scripted import Scripted, Step

SECRET = "sk-very-secret-value"


class SleepLog:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def server() -> Iterator[tuple[Scripted, str]]:
    s = Scripted()
    url = s.start()
    yield s, url
    s.stop()


def _client(url: str, backend: str, sleep: SleepLog, **kw: object) -> AsyncHTTPClient:
    opts: dict[str, object] = {
        "source": "test",
        "backend": backend,
        "sleep": sleep,
        "retry": RetryPolicy(
            max_attempts=4, base_delay=0.1, max_delay=1.0, max_total=30, refresh_attempts=4
        ),
        "headers": {"APCA-API-SECRET-KEY": SECRET},
        "secrets": (SECRET,),
        "seed": 1,
    }
    opts.update(kw)
    return AsyncHTTPClient(url, **opts)  # type: ignore[arg-type]


BACKENDS = pytest.mark.parametrize("backend", ["httpx", "aiohttp"])


async def as_order(coro: Any) -> Any:
    """Run ``coro`` as order-class work (order entry, the exit monitor's reads)."""
    with budget_priority(Priority.ORDER):
        return await coro


@BACKENDS
def test_429_retry_after_is_honoured(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on(
        "GET /v2/account",
        Step(429, {"message": "rate limit exceeded"}, headers={"Retry-After": "2.5"}),
        Step(200, {"ok": 1}),
    )
    sleep = SleepLog()
    client = _client(url, backend, sleep)
    assert run_async(as_order(client.get_json("/v2/account"))) == {"ok": 1}
    assert sleep.delays == [2.5]
    assert s.calls["GET /v2/account"] == 2


@BACKENDS
def test_429_on_a_refresh_is_not_retried(server: tuple[Scripted, str], backend: str) -> None:
    """An interval refresh yields on 429 (the read cache shows its last value) and pauses
    the shared budget for the Retry-After, so no process sends into the refusal."""
    s, url = server
    s.on(
        "GET /v2/account",
        Step(429, {"message": "rate limit exceeded"}, headers={"Retry-After": "2.5"}),
        Step(200, {"ok": 1}),
    )
    clock = [1000.0]
    store = MemoryBudgetStore(clock=lambda: clock[0])
    budget = RateBudget(store, "acct", BudgetPolicy())
    sleep = SleepLog()
    client = _client(url, backend, sleep, budget=budget)
    with pytest.raises(RateLimited):
        run_async(client.get_json("/v2/account"))
    assert s.calls["GET /v2/account"] == 1 and sleep.delays == []
    assert budget.usage()["throttled_429_last_minute"] == 1
    assert budget.usage()["paused_for_s"] == 2.5
    # During the pause a refresh yields without sending...
    with pytest.raises(RateBudgetExhausted):
        run_async(client.get_json("/v2/account"))
    assert s.calls["GET /v2/account"] == 1
    # ...and once it is over, the next refresh goes through.
    clock[0] += 2.5
    assert run_async(client.get_json("/v2/account")) == {"ok": 1}


@BACKENDS
def test_5xx_retried_within_bounds_then_raised(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("GET /v2/clock", Step(503, {"message": "service unavailable"}))
    sleep = SleepLog()
    health = HealthTracker()
    client = _client(url, backend, sleep, health=health, health_key="alpaca-trading")
    with pytest.raises(UpstreamError) as info:
        run_async(client.get_json("/v2/clock"))
    assert info.value.status == 503
    assert s.calls["GET /v2/clock"] == 4  # max_attempts, no more
    # exponential: 0.1, 0.2, 0.4 times (1 + up to 25 % jitter)
    assert len(sleep.delays) == 3
    for got, base in zip(sleep.delays, [0.1, 0.2, 0.4], strict=True):
        assert base <= got <= base * 1.25
    assert health.state("alpaca-trading") == "down"


@BACKENDS
def test_5xx_then_success_counts_as_degraded(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("GET /v2/clock", Step(502, {"message": "bad gateway"}), Step(200, {"ok": True}))
    health = HealthTracker()
    client = _client(url, backend, SleepLog(), health=health, health_key="h")
    assert run_async(client.get_json("/v2/clock")) == {"ok": True}
    assert s.calls["GET /v2/clock"] == 2
    assert health.state("h") == "degraded"


@BACKENDS
def test_4xx_not_retried_and_message_kept(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("GET /v2/positions/XYZ", Step(404, {"code": 40410000, "message": "position not found"}))
    sleep = SleepLog()
    client = _client(url, backend, sleep)
    with pytest.raises(UpstreamError) as info:
        run_async(client.get_json("/v2/positions/XYZ"))
    assert info.value.status == 404 and info.value.message == "position not found"
    assert s.calls["GET /v2/positions/XYZ"] == 1 and sleep.delays == []


@BACKENDS
def test_post_is_never_retried(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("POST /v2/orders", Step(500, {"message": "internal server error"}))
    client = _client(url, backend, SleepLog())
    with pytest.raises(UpstreamError):
        run_async(client.request("POST", "/v2/orders", json={"symbol": "SPY"}))
    assert s.calls["POST /v2/orders"] == 1


@BACKENDS
def test_read_timeout_is_retried_then_succeeds(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("GET /slow", Step(200, {"late": True}, delay=1.0), Step(200, {"ok": True}))
    client = _client(url, backend, SleepLog(), read_timeout=0.2)
    assert run_async(client.get_json("/slow")) == {"ok": True}
    assert s.calls["GET /slow"] == 2


@BACKENDS
def test_malformed_json_is_bad_response(server: tuple[Scripted, str], backend: str) -> None:
    s, url = server
    s.on("GET /v2/account", Step(200, raw=b'{"cash": "1",,{'))
    client = _client(url, backend, SleepLog())
    with pytest.raises(BadResponse, match="malformed JSON"):
        run_async(client.get_json("/v2/account"))
    assert s.calls["GET /v2/account"] == 1


@BACKENDS
def test_errors_logged_once_per_streak_without_secrets(
    server: tuple[Scripted, str], backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    s, url = server
    s.on("GET /v2/account", Step(401, {"message": f"bad key {SECRET}"}))
    client = _client(url, backend, SleepLog())
    caplog.set_level(logging.INFO, logger="dashboard.data_loaders.http")
    for _ in range(5):
        with pytest.raises(UpstreamError) as info:
            run_async(client.get_json("/v2/account"))
        assert SECRET not in str(info.value)
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1
    assert SECRET not in caplog.text and "bad key ***" in caplog.text


def test_connection_refused_is_network_error_not_sent() -> None:
    client = AsyncHTTPClient(
        "http://127.0.0.1:9", source="t", sleep=SleepLog(), retry=RetryPolicy(max_attempts=2)
    )
    with pytest.raises(NetworkError) as info:
        run_async(client.get_json("/x"))
    assert info.value.maybe_sent is False
    assert client.calls["GET /x"] == 2


# -- respx: exact behaviour of the httpx backend ----------------------------------------
def _rclient(sleep: SleepLog, **kw: object) -> AsyncHTTPClient:
    return _client("https://api.test", "httpx", sleep, **kw)


def test_respx_retry_after_http_date_and_budget() -> None:
    sleep = SleepLog()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://api.test/v2/clock").mock(
            side_effect=[
                httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "1"}),
                httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "99"}),
            ]
        )
        with pytest.raises(RateLimited) as info:
            run_async(as_order(_rclient(sleep).get_json("/v2/clock")))
    # The second hint exceeds max_retry_after: fail fast instead of hanging a page.
    assert route.call_count == 2 and sleep.delays == [1.0]
    assert info.value.retry_after == 99


def test_respx_timeouts_retried_within_bounds() -> None:
    sleep = SleepLog()
    with respx.mock() as mock:
        route = mock.get("https://api.test/v2/account").mock(
            side_effect=httpx.ReadTimeout("read timed out")
        )
        with pytest.raises(NetworkError, match="timed out"):
            run_async(_rclient(sleep).get_json("/v2/account"))
    assert route.call_count == 4 and len(sleep.delays) == 3


def test_respx_total_time_budget_stops_retries() -> None:
    sleep = SleepLog()
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=1.0, max_total=0.5)
    with respx.mock() as mock:
        route = mock.get("https://api.test/v2/account").mock(
            return_value=httpx.Response(500, json={"message": "oops"})
        )
        with pytest.raises(UpstreamError):
            run_async(_rclient(sleep, retry=policy).get_json("/v2/account"))
    assert route.call_count == 1 and sleep.delays == []


def test_respx_4xx_message_passthrough_and_no_retry() -> None:
    with respx.mock() as mock:
        route = mock.get("https://api.test/v2/stocks/bars").mock(
            return_value=httpx.Response(
                403,
                json={
                    "code": 40310000,
                    "message": "subscription does not permit querying recent SIP data",
                },
            )
        )
        with pytest.raises(UpstreamError) as info:
            run_async(_rclient(SleepLog()).get_json("/v2/stocks/bars", {"feed": "sip"}))
    assert route.call_count == 1
    assert info.value.message == "subscription does not permit querying recent SIP data"
    assert route.calls.last.request.url.params["feed"] == "sip"


def test_429_is_not_retried_past_the_callers_deadline() -> None:
    """A Retry-After longer than the time the caller has left is not waited for."""
    from dashboard.data_loaders.loop import deadline_after

    async def read(client: AsyncHTTPClient) -> Any:
        with deadline_after(2.0), budget_priority(Priority.ORDER):
            return await client.get_json("/v2/clock")

    sleep = SleepLog()
    with respx.mock() as mock:
        route = mock.get("https://api.test/v2/clock").mock(
            return_value=httpx.Response(429, json={"message": "slow"}, headers={"Retry-After": "5"})
        )
        with pytest.raises(RateLimited):
            run_async(read(_rclient(sleep)))
    assert route.call_count == 1 and sleep.delays == []


def test_client_budget_holds_requests_beyond_its_pace() -> None:
    """A client's own budget (``rate_limit_per_minute``): a burst within the tolerance goes
    at once; past it, requests are spaced one interval apart (waits, not wall time)."""
    sleep = SleepLog()
    with respx.mock() as mock:
        route = mock.get("https://api.test/x").mock(return_value=httpx.Response(200, json={}))
        client = AsyncHTTPClient("https://api.test", source="t", rate_limit_per_minute=120)
        assert client.budget is not None
        clock = [0.0]
        client.budget.store = MemoryBudgetStore(clock=lambda: clock[0])
        client.budget._sleep = sleep  # type: ignore[method-assign]
        burst = client.budget.policy.order_burst

        async def n_orders(n: int) -> None:
            with budget_priority(Priority.ORDER):
                for _ in range(n):
                    await client.get_json("/x")

        run_async(n_orders(burst))
        assert sleep.delays == []
        run_async(n_orders(2))
    assert route.call_count == burst + 2
    assert sleep.delays == pytest.approx([0.5, 1.0])  # 60/120 s per request, cumulative


def test_trickled_body_ends_at_the_attempt_deadline() -> None:
    """Headers then a body one byte at a time: the attempt's overall time-out ends it,
    whatever the per-read time-out allows (each byte arrives well within it)."""
    s = Scripted()
    url = s.start()
    try:
        s.on("GET /v2/account", Step(200, raw=b'{"cash": "1"}' * 20, trickle=0.05))
        client = _client(url, "httpx", SleepLog(), attempt_timeout=0.3, read_timeout=5.0)
        with pytest.raises(DeadlineExceeded):
            run_async(client.request("GET", "/v2/account", retry=False))
    finally:
        s.stop()


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:07 GMT", now) == 7.0


def test_an_interval_refresh_retries_once_an_order_path_more() -> None:
    """A refresh (the default class) tries twice at most; order-class reads (the exit
    monitor, a lookup after a time-out) use the policy's full count."""
    policy = RetryPolicy(max_attempts=4, base_delay=0.1, max_total=30)
    for order, expected in ((False, 2), (True, 4)):
        sleep = SleepLog()
        with respx.mock() as mock:
            route = mock.get("https://api.test/v2/clock").mock(
                return_value=httpx.Response(503, json={"message": "unavailable"})
            )
            read = _rclient(sleep, retry=policy).get_json("/v2/clock")
            with pytest.raises(UpstreamError):
                run_async(as_order(read) if order else read)
        assert route.call_count == expected
