"""AlpacaAsyncClient: idempotent order submission, parsing, pagination."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import respx

from dashboard.data_loaders.alpaca import AlpacaAsyncClient, OrderRequest
from dashboard.data_loaders.errors import NetworkError, OrderRejected
from dashboard.data_loaders.http import AsyncHTTPClient
from dashboard.data_loaders.loop import run_async
from dashboard.simulator.embedded import SimulatorHandle

T = "https://trade.test"

ORDER = {
    "id": "o-1",
    "client_order_id": "coid-1",
    "symbol": "SPY",
    "asset_class": "us_equity",
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "status": "accepted",
    "qty": "0.25",
    "filled_qty": "0",
    "limit_price": "500.1",
    "filled_avg_price": None,
    "created_at": "2025-11-25T15:00:00.123456789Z",
}


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def client() -> Iterator[AlpacaAsyncClient]:
    trading = AsyncHTTPClient(T, source="alpaca-trading", sleep=_no_sleep)
    data = AsyncHTTPClient("https://data.test", source="alpaca-data", sleep=_no_sleep)
    yield AlpacaAsyncClient(trading, data)


def _req() -> OrderRequest:
    return OrderRequest(
        "SPY",
        Decimal("0.25"),
        "buy",
        "limit",
        limit_price=Decimal("500.1"),
        client_order_id="coid-1",
    )


def test_order_json_keeps_exact_decimals() -> None:
    body = _req().to_json()
    assert body["qty"] == "0.25" and body["limit_price"] == "500.1"
    assert body["client_order_id"] == "coid-1"
    assert len(OrderRequest("SPY", Decimal(1), "buy", "market").client_order_id) == 36


def test_post_timeout_finds_the_order_by_client_id(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(side_effect=httpx.ReadTimeout("timed out"))
        lookup = mock.get(f"{T}/v2/orders:by_client_order_id").mock(
            return_value=httpx.Response(200, json=ORDER)
        )
        order = run_async(client.submit_order(_req()))
    assert post.call_count == 1  # not resent: the first attempt landed
    assert lookup.calls.last.request.url.params["client_order_id"] == "coid-1"
    assert order.id == "o-1" and order.qty == Decimal("0.25")
    assert order.created_at == datetime(2025, 11, 25, 15, 0, 0, 123456, tzinfo=UTC)


def test_post_timeout_unknown_order_is_resent_with_the_same_id(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(
            side_effect=[httpx.ReadTimeout("timed out"), httpx.Response(200, json=ORDER)]
        )
        mock.get(f"{T}/v2/orders:by_client_order_id").mock(
            return_value=httpx.Response(404, json={"message": "order not found"})
        )
        order = run_async(client.submit_order(_req()))
    assert post.call_count == 2
    ids = {json.loads(c.request.content)["client_order_id"] for c in post.calls}
    assert ids == {"coid-1"}
    assert order.id == "o-1"


def test_post_timeout_with_lookup_down_raises_without_resending(
    client: AlpacaAsyncClient,
) -> None:
    client.trading.retry = type(client.trading.retry)(max_attempts=1)
    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(side_effect=httpx.ReadTimeout("timed out"))
        mock.get(f"{T}/v2/orders:by_client_order_id").mock(side_effect=httpx.ConnectError("down"))
        with pytest.raises(NetworkError):
            run_async(client.submit_order(_req()))
    assert post.call_count == 1


def test_4xx_on_post_is_rejected_with_brokers_message(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(
            return_value=httpx.Response(
                403, json={"code": 40310000, "message": "insufficient buying power"}
            )
        )
        with pytest.raises(OrderRejected) as info:
            run_async(client.submit_order(_req()))
    assert post.call_count == 1
    assert info.value.message == "insufficient buying power" and info.value.status == 403


def test_429_on_post_is_resent_after_retry_after(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(
            side_effect=[
                httpx.Response(429, json={"message": "rate limit"}, headers={"Retry-After": "0"}),
                httpx.Response(200, json=ORDER),
            ]
        )
        order = run_async(client.submit_order(_req()))
    assert post.call_count == 2 and order.status == "accepted"


def test_429_on_post_is_not_waited_out_past_the_callers_deadline(
    client: AlpacaAsyncClient,
) -> None:
    """Order entry answers within its deadline: a Retry-After longer than the time left
    ends the attempt (the order was not taken, so "not sent" is the truth)."""
    from dashboard.data_loaders.errors import RateLimited

    with respx.mock() as mock:
        post = mock.post(f"{T}/v2/orders").mock(
            return_value=httpx.Response(
                429, json={"message": "rate limit"}, headers={"Retry-After": "20"}
            )
        )
        with pytest.raises(RateLimited):
            run_async(client.submit_order(_req()), timeout=5)
    assert post.call_count == 1


def test_bars_follow_pagination_against_the_simulator(sim: SimulatorHandle) -> None:
    trading = AsyncHTTPClient(sim.url, source="t", headers=sim.headers)
    data = AsyncHTTPClient(sim.url, source="d", headers=sim.headers)
    c = AlpacaAsyncClient(trading, data, simulator=True)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2025, 3, 1, tzinfo=UTC)
    full = run_async(c.get_bars(["SPY", "QQQ"], "1Day", start, end))
    # limit=7 per page forces many next_page_token round trips
    c2 = AlpacaAsyncClient(trading, data, simulator=True)
    orig = c2._paged

    async def small_pages(client, path, params, **kw):  # type: ignore[no-untyped-def]
        return await orig(client, path, {**params, "limit": 7}, **kw)

    c2._paged = small_pages  # type: ignore[method-assign]
    paged = run_async(c2.get_bars(["SPY", "QQQ"], "1Day", start, end))
    assert data.calls["GET /v2/stocks/bars"] > 10
    for sym in ("SPY", "QQQ"):
        assert len(full[sym]) > 30
        assert full[sym].equals(paged[sym])


def _fill(i: int) -> dict[str, str]:
    return {
        "id": f"f-{i:04d}", "order_id": f"o-{i}", "symbol": "SPY", "side": "buy", "qty": "1",
        "price": "500", "transaction_time": "2025-11-25T15:00:00Z", "type": "fill",
    }  # fmt: skip


def test_fills_page_through_everything_or_stop_at_the_limit(client: AlpacaAsyncClient) -> None:
    pages = {None: [_fill(i) for i in range(100)], "f-0099": [_fill(i) for i in range(100, 130)]}

    def answer(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["page_size"])
        return httpx.Response(200, json=pages[request.url.params.get("page_token")][:size])

    with respx.mock() as mock:
        route = mock.get(f"{T}/v2/account/activities/FILL").mock(side_effect=answer)
        every = run_async(client.get_fills())
        assert (route.call_count, len(every)) == (2, 130)  # two sequential pages
        newest = run_async(client.get_fills(limit=100))
        assert route.call_count == 3  # one page only
        assert [f.id for f in newest] == [f"f-{i:04d}" for i in range(100)]
        few = run_async(client.get_fills(limit=5))
        assert route.calls.last.request.url.params["page_size"] == "5" and len(few) == 5


def test_a_skipped_fill_keeps_its_place_in_the_paging(client: AlpacaAsyncClient) -> None:
    """The page is full (100 raw rows) even though its last row is unusable, and the next
    page starts after that row's id."""
    first = [_fill(i) for i in range(99)] + [{**_fill(99), "side": "cross"}]
    pages = {None: first, "f-0099": [_fill(i) for i in range(100, 103)]}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("page_token")])

    with respx.mock() as mock:
        route = mock.get(f"{T}/v2/account/activities/FILL").mock(side_effect=answer)
        fills = run_async(client.get_fills())
    assert route.call_count == 2 and len(fills) == 102
    assert fills.report.received == 103
    assert [(s.kind, s.reason, s.count) for s in fills.report.skipped] == [
        ("fill", "unknown fill side 'cross'", 1)
    ]


MLEG_PARENT = {
    **ORDER,
    "id": "mleg-1",
    "symbol": "",
    "side": "",
    "asset_class": "",
    "order_class": "mleg",
    "qty": "1",
    "limit_price": "1.05",
    "legs": [
        {**ORDER, "id": "leg-1", "symbol": "SPY251219C00600000", "asset_class": "us_option",
         "side": "buy", "ratio_qty": "1", "type": "", "order_class": "mleg"},
        {**ORDER, "id": "leg-2", "symbol": "SPY251219C00610000", "asset_class": "us_option",
         "side": "sell", "ratio_qty": "1", "type": "", "order_class": "mleg"},
    ],
}  # fmt: skip


def test_open_orders_with_a_multileg_order_keep_every_other_row(
    client: AlpacaAsyncClient,
) -> None:
    # Should a leg also come back as its own row, it is shown (and cancelled) with its parent.
    leg_row = MLEG_PARENT["legs"][0]
    rows = [ORDER, MLEG_PARENT, leg_row, {**ORDER, "id": "o-2", "side": "sideways"}]
    with respx.mock() as mock:
        route = mock.get(f"{T}/v2/orders").mock(return_value=httpx.Response(200, json=rows))
        orders = run_async(client.get_orders())
    assert route.calls.last.request.url.params["nested"] == "false"
    assert [o.id for o in orders] == ["o-1", "mleg-1"]
    spread = orders.items[1]
    assert spread.is_multileg and [leg.symbol for leg in spread.legs] == [
        "SPY251219C00600000",
        "SPY251219C00610000",
    ]
    assert orders.report.skipped_count == 1
    assert orders.report.skipped[0].reason == "unknown order side 'sideways'"


def test_positions_with_crypto_and_a_malformed_record(client: AlpacaAsyncClient) -> None:
    stock = {"symbol": "SPY", "asset_class": "us_equity", "qty": "2", "side": "long",
             "avg_entry_price": "500", "cost_basis": "1000", "market_value": "1020"}  # fmt: skip
    crypto = {**stock, "symbol": "BTCUSD", "asset_class": "crypto", "qty": "0.5",
              "market_value": "30000"}  # fmt: skip
    broken = {k: v for k, v in stock.items() if k != "cost_basis"}
    with respx.mock() as mock:
        mock.get(f"{T}/v2/positions").mock(
            return_value=httpx.Response(200, json=[stock, crypto, broken])
        )
        positions = run_async(client.get_positions())
    assert [(p.symbol, p.asset_class) for p in positions] == [
        ("SPY", "us_equity"),
        ("BTCUSD", "crypto"),
    ]
    assert positions.report.skipped[0].reason == "missing field 'cost_basis'"
