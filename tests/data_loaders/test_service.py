"""AsyncDataService end to end against the simulator: concurrency, single flight, stale data."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from dashboard.data_loaders.alpaca import OrderRequest
from dashboard.data_loaders.async_data_service import NEW_YORK, AsyncDataService
from dashboard.data_loaders.errors import OrderRejected
from dashboard.data_loaders.loop import run_async
from dashboard.models import DataState
from dashboard.settings import Settings
from dashboard.simulator.embedded import SimulatorHandle
from tests.components._rounds import record_rounds
from tests.conftest import settings_for


@pytest.fixture
def service(fresh_settings: Settings) -> Iterator[AsyncDataService]:
    svc = AsyncDataService.from_settings(fresh_settings.with_overrides(cache_ttl_seconds=30.0))
    yield svc
    svc.close_sync()


def _calls(svc: AsyncDataService) -> dict[str, int]:
    out: dict[str, int] = {}
    for client in (svc.alpaca.trading, svc.alpaca.data):
        out.update(client.calls)
    return out


def test_portfolio_data_takes_about_one_latency(
    fresh_sim: SimulatorHandle, service: AsyncDataService
) -> None:
    run_async(service.submit_order(OrderRequest("SPY", Decimal("1.5"), "buy", "market")))
    run_async(service.fetch_portfolio_data())  # warm connections and last-good positions
    service.invalidate()
    fresh_sim.set_faults({"latency_ms": 100})
    names = ["fetch_account", "fetch_positions", "fetch_orders", "fetch_clock", "fetch_quotes"]
    events = record_rounds(service, names)
    snap = run_async(service.fetch_portfolio_data())
    # One round: all five reads start before any of them finishes (no wall-clock check).
    first_done = next(i for i, e in enumerate(events) if e.endswith(" done"))
    assert {e.split()[0] for e in events[:first_done]} == set(names), events
    assert snap.account.state is DataState.FRESH
    assert [p.qty for p in snap.positions.value or ()] == [Decimal("1.5")]
    assert snap.quotes.value is not None and set(snap.quotes.value) == {"SPY"}
    assert snap.open_orders.state is DataState.EMPTY
    assert snap.clock.state is DataState.FRESH


def test_fifty_concurrent_callers_cause_one_upstream_call_per_endpoint(
    fresh_sim: SimulatorHandle, service: AsyncDataService
) -> None:
    fresh_sim.set_faults({"latency_ms": 50})

    async def viewers() -> list[object]:
        return await asyncio.gather(*(service.fetch_portfolio_data() for _ in range(50)))

    snaps = run_async(viewers())
    assert len(snaps) == 50
    calls = _calls(service)
    assert calls["GET /v2/account"] == 1
    assert calls["GET /v2/positions"] == 1
    assert calls["GET /v2/orders"] == 1
    assert calls["GET /v2/clock"] == 1
    # A second wave inside the TTL is served from the cache.
    run_async(viewers())
    assert _calls(service) == calls


@pytest.mark.parametrize("store", ["diskcache", "redis"])
def test_cache_is_shared_across_service_instances(
    fresh_sim: SimulatorHandle, tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(fresh_sim, tmp_path, cache_ttl_seconds=30.0)
    if store == "redis":  # REDIS_URL set: the workers share a real Redis, not the data dir
        settings = settings.with_overrides(
            redis_url=SecretStr(request.getfixturevalue("redis_url"))
        )
    a = AsyncDataService.from_settings(settings)
    b = AsyncDataService.from_settings(settings)  # another worker: same data_dir or Redis
    try:
        ra = run_async(a.fetch_account())
        rb = run_async(b.fetch_account())
        assert rb.state is DataState.FRESH and rb.value == ra.value and rb.as_of == ra.as_of
        assert b.alpaca.trading.calls["GET /v2/account"] == 0
    finally:
        a.close_sync()
        b.close_sync()


def test_malformed_json_keeps_last_good_marked_stale_and_logs_once(
    fresh_sim: SimulatorHandle, fresh_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    marker = f"marker-secret-{secrets.token_hex(8)}"  # the simulator accepts any key
    settings = fresh_settings.with_overrides(
        cache_ttl_seconds=0.0, alpaca_secret_key=SecretStr(marker)
    )
    svc = AsyncDataService.from_settings(settings)
    try:
        good = run_async(svc.fetch_account())
        assert good.state is DataState.FRESH
        fresh_sim.set_faults({"malformed_json": True, "routes": "/v2/account"})
        caplog.set_level(logging.INFO)
        results = [run_async(svc.fetch_account()) for _ in range(3)]
        for r in results:
            assert r.state is DataState.STALE
            assert r.value == good.value and r.as_of == good.as_of
            assert r.error is not None and "malformed JSON" in r.error
            assert r.stale_since is not None
        assert results[0].stale_since == results[2].stale_since
        logged = [
            x
            for x in caplog.records
            if x.name.startswith("dashboard") and "/v2/account failed" in x.getMessage()
        ]
        assert len(logged) == 1
        assert marker not in caplog.text
        assert svc.health()["alpaca-trading"] in ("degraded", "down")
        fresh_sim.clear_faults()
        assert run_async(svc.fetch_account()).state is DataState.FRESH
    finally:
        svc.close_sync()


def test_error_without_last_good_is_error_state(
    fresh_sim: SimulatorHandle, fresh_settings: Settings
) -> None:
    fresh_sim.set_faults({"error_rate": 1.0, "status": 500, "routes": "/v2/clock"})
    svc = AsyncDataService.from_settings(fresh_settings)
    svc.alpaca.trading.retry = type(svc.alpaca.trading.retry)(max_attempts=2, base_delay=0.01)
    try:
        r = run_async(svc.fetch_clock())
        assert r.state is DataState.ERROR and r.value is None
        assert r.error is not None and "500" in r.error
    finally:
        svc.close_sync()


def test_order_rejection_message_reaches_caller_and_invalidates(
    service: AsyncDataService,
) -> None:
    before = run_async(service.fetch_positions())
    assert before.state is DataState.EMPTY
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        run_async(service.submit_order(OrderRequest("SPY", Decimal(100000), "buy", "market")))
    run_async(service.submit_order(OrderRequest("SPY", Decimal(2), "buy", "market")))
    after = run_async(service.fetch_positions())  # cache invalidated by the order
    assert [p.qty for p in after.value or ()] == [Decimal(2)]


def test_bars_many_concurrent_with_exact_lookback(service: AsyncDataService) -> None:
    out = run_async(service.fetch_bars_many(["SPY", "QQQ"], ["1Day", "1Hour"], lookback=40))
    assert set(out) == {("SPY", "1Day"), ("SPY", "1Hour"), ("QQQ", "1Day"), ("QQQ", "1Hour")}
    for result in out.values():
        frame = result.value
        assert result.state is DataState.FRESH and frame is not None
        assert len(frame) == 40
        assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
        assert str(frame.index.tz) == "UTC" and frame.index.name == "timestamp"
        assert frame.index.is_monotonic_increasing
        assert (frame["high"] >= frame["low"]).all()


def test_option_chain_falls_back_to_alpaca_and_names_source(service: AsyncDataService) -> None:
    # The simulator's ThetaData routes may not exist yet; either way a chain comes back
    # and says where it came from.
    r = run_async(service.fetch_option_chain("SPY"))
    assert r.state is DataState.FRESH and r.value is not None
    chain = r.value
    assert chain.source in ("simulator", "thetadata:v3")
    assert chain.quotes and chain.expiries
    assert {q.contract.expiry for q in chain.quotes} == {chain.expiries[0]}
    assert chain.underlying_price is not None and chain.underlying_price > 0


def test_health_starts_unknown_and_needs_no_io(fresh_settings: Settings) -> None:
    svc = AsyncDataService.from_settings(fresh_settings)
    assert svc.health() == {
        "alpaca-trading": "unknown",
        "alpaca-data": "unknown",
        "thetadata": "unknown",
    }
    run_async(svc.fetch_clock())
    assert svc.health()["alpaca-trading"] == "connected"
    svc.close_sync()


def test_watchlist_bars_are_one_request_per_timeframe(sim, tmp_path) -> None:
    """8 symbols × 3 timeframes must cost 3 upstream calls, each symbol cut to lookback."""
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.data_loaders.loop import run_async
    from tests.conftest import settings_for

    service = AsyncDataService.from_settings(settings_for(sim, tmp_path))
    symbols = ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN"]
    try:
        out = run_async(service.fetch_bars_many(symbols, ["1Day", "1Hour", "1Week"], lookback=50))
        calls = service.alpaca.data.calls
        bar_calls = sum(n for endpoint, n in calls.items() if "stocks/bars" in endpoint)
        assert bar_calls == 3
        assert all(len(r.value) == 50 for r in out.values())
        spy = out[("SPY", "1Day")].value
        assert spy.index.is_monotonic_increasing
        single = run_async(service.fetch_bars("SPY", "1Day", lookback=50)).value
        assert (single["close"].to_numpy() == spy["close"].to_numpy()).all()
    finally:
        service.close_sync()


def test_two_workers_share_one_upstream_call_per_ttl(shared_cache_factory) -> None:
    """Two processes' caches on one diskcache or one Redis: a lease lets only one fetch."""
    import asyncio

    from dashboard.data_loaders.cache import ReadCache

    calls = 0

    async def slow_fetch() -> tuple[int, str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)  # an upstream round trip
        return 42, "test"

    def worker() -> ReadCache:  # what each gunicorn worker builds for itself
        return ReadCache(shared_cache_factory(), namespace="acct", secret=b"k")

    async def viewers() -> list[int]:
        a, b = worker(), worker()
        results = await asyncio.gather(
            *(cache.get("account", 5.0, slow_fetch) for cache in (a, b) for _ in range(10))
        )
        return [r.value for r in results]

    assert asyncio.run(viewers()) == [42] * 20
    assert calls == 1


def test_nearest_chain_shares_the_dated_reads_cache_entry(sim, tmp_path) -> None:
    from dashboard.data_loaders.async_data_service import AsyncDataService
    from dashboard.data_loaders.loop import run_async
    from tests.conftest import settings_for

    service = AsyncDataService.from_settings(settings_for(sim, tmp_path))
    try:
        nearest = run_async(service.fetch_option_chain("SPY")).value
        expiry = nearest.quotes[0].contract.expiry
        dated = run_async(service.fetch_option_chain("SPY", expiry)).value
        assert dated is nearest  # the same cached object: one upstream read
        http = service.thetadata.http if service.thetadata is not None else service.alpaca.data
        quote_calls = sum(n for ep, n in http.calls.items() if "snapshot" in ep)
        assert quote_calls <= 4  # quote, greeks, open interest, ohlc: once each
    finally:
        service.close_sync()


def test_nearest_chains_are_the_listed_expiries_in_order_fetched_together(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    service = AsyncDataService.from_settings(settings_for(fresh_sim, tmp_path))
    theta = service.thetadata
    assert theta is not None
    inflight = peak = 0
    original = theta.get_option_chain

    async def counted(root: str, expiry: date) -> Any:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        try:
            return await original(root, expiry)
        finally:
            inflight -= 1

    try:
        listed = run_async(service.listed_expiries("SPY"))
        today = fresh_sim.now().astimezone(NEW_YORK).date()
        want = [d for d in listed if d >= today][:3]
        theta.get_option_chain = counted  # type: ignore[method-assign]
        chains = run_async(service.fetch_option_chains("SPY", 3))
        assert [c.value.quotes[0].contract.expiry for c in chains] == want
        assert all(c.state is DataState.FRESH for c in chains)
        assert peak == 3  # all three chains in flight at once: one round, not three
    finally:
        service.close_sync()


def test_bars_bound_on_a_recent_clock_without_waiting_for_a_new_one(
    sim: SimulatorHandle, tmp_path: Path
) -> None:
    service = AsyncDataService.from_settings(settings_for(sim, tmp_path))
    try:
        first = run_async(service.fetch_bars("SPY", "1Day", lookback=40)).value
        clock_calls = service.alpaca.trading.calls.get("GET /v2/clock", 0)
        assert clock_calls == 1  # no clock was known: the first read had to ask
        service.invalidate()  # the clock entry expires, its last good value stays
        again = run_async(service.fetch_bars("SPY", "1Day", lookback=40)).value
        assert service.alpaca.trading.calls.get("GET /v2/clock", 0) == clock_calls
        assert len(again) == 40 and (again.index == first.index).all()
    finally:
        service.close_sync()


def test_a_scanned_symbols_bars_are_not_fetched_twice(sim, tmp_path) -> None:
    """The Options tab scans the watchlist (one batched request per timeframe) and charts
    the selected signal's symbol: the chart is served from the scan's fresh batch."""
    service = AsyncDataService.from_settings(settings_for(sim, tmp_path))
    try:
        batch = run_async(service.fetch_bars_many(["SPY", "QQQ"], ["1Day"], lookback=120))
        before = dict(service.alpaca.data.calls)
        single = run_async(service.fetch_bars("SPY", "1Day", lookback=100))
        assert dict(service.alpaca.data.calls) == before  # no second request
        assert single.state is DataState.FRESH and len(single.value) == 100
        assert single.value.equals(batch[("SPY", "1Day")].value.tail(100))
        assert single.as_of == batch[("SPY", "1Day")].as_of
        # A longer lookback than the batch holds is fetched on its own.
        run_async(service.fetch_bars("SPY", "1Day", lookback=200))
        assert sum(service.alpaca.data.calls.values()) == sum(before.values()) + 1
    finally:
        service.close_sync()


# --- tolerant reads end to end (records injected as a real account would send them) ---------


def _odd_account(handle: SimulatorHandle) -> dict[str, Any]:
    """A crypto position and a malformed one beside the broker's own; an open multi-leg
    order; a short-sale fill. Bodies are Alpaca's published examples (tests/contract),
    the spread made open (its docs example is filled) so it can be cancelled."""
    from tests.contract._fixtures import as_list, body

    crypto = body("alpaca_trading_position_crypto_docs.json")
    broken = {**crypto, "symbol": "BROKEN"}
    del broken["qty"]
    (spread,) = as_list("alpaca_trading_orders_mleg.json")
    spread.update(status="new", filled_qty="0", filled_avg_price=None, filled_at=None)
    for leg in spread["legs"]:
        leg.update(status="new", filled_qty="0", filled_avg_price=None, filled_at=None)
    short = body("alpaca_trading_account_activities_fill_recorded.json")[0]
    short.update(side="sell_short", transaction_time=handle.now().isoformat())
    handle.inject("positions", [crypto, broken])
    handle.inject("orders", [spread])
    handle.inject("fills", [short])
    return {"crypto": crypto, "spread": spread, "short": short}


def test_one_odd_record_never_breaks_a_list_and_the_result_says_why(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    odd = _odd_account(fresh_sim)
    svc = AsyncDataService.from_settings(settings_for(fresh_sim, tmp_path))
    try:
        fresh_sim.advance_to_open()
        run_async(svc.submit_order(OrderRequest("SPY", Decimal(1), "buy", "market")))
        snap = run_async(svc.fetch_portfolio_data())
        fills = run_async(svc.fetch_fills(days=5))
        spread_id = odd["spread"]["id"]
        run_async(svc.cancel_order(spread_id))
        after = run_async(svc.fetch_orders("open"))
    finally:
        svc.close_sync()
    positions = snap.positions
    assert positions.state is DataState.FRESH
    assert [(p.symbol, p.asset_class) for p in positions.value or ()] == [
        ("SPY", "us_equity"),
        ("BTCUSD", "crypto"),
    ]
    assert [(s.reason, s.count) for s in positions.report.skipped] == [("missing field 'qty'", 1)]
    # Crypto is not on the stock feed: the held-quote read asks only for SPY.
    assert set((snap.quotes.value or {}).keys()) == {"SPY"}
    orders = snap.open_orders
    assert orders.state is DataState.FRESH and orders.report.clean
    (spread,) = [o for o in orders.value or () if o.is_multileg]
    assert spread.id == spread_id and len(spread.legs) == 2
    assert [f.short_sale for f in fills.value or ()].count(True) == 1
    assert fills.state is DataState.FRESH
    assert spread_id not in {o.id for o in after.value or ()}  # the cancel worked
    with fresh_sim.client() as c:
        assert c.get(f"/v2/orders/{spread_id}").json()["legs"][0]["status"] == "canceled"
        again = c.delete(f"/v2/orders/{spread_id}")
    assert again.status_code == 422


def test_an_account_of_only_unusable_records_is_empty_with_a_note(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    from tests.contract._fixtures import body

    treasury = {**body("alpaca_trading_position_crypto_docs.json"), "asset_class": "treasury"}
    fresh_sim.inject("positions", [treasury])
    svc = AsyncDataService.from_settings(settings_for(fresh_sim, tmp_path))
    try:
        res = run_async(svc.fetch_positions())
    finally:
        svc.close_sync()
    assert res.state is DataState.EMPTY and res.value == ()
    assert res.report.received == 1
    assert res.report.skipped[0].reason == "unknown asset class 'treasury'"


def test_standard_tier_chain_through_the_service_names_what_it_lacks(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    from dashboard.views.read_notes import result_note

    fresh_sim.set_thetadata_tier("standard")
    svc = AsyncDataService.from_settings(settings_for(fresh_sim, tmp_path))
    try:
        res = run_async(svc.fetch_option_chain("SPY"))
    finally:
        svc.close_sync()
    chain = res.value
    assert res.state is DataState.FRESH and chain is not None
    assert chain.source == "thetadata:v3"  # still ThetaData: greeks are not the chain
    quoted = [q for q in chain.quotes if q.bid and q.ask]
    assert quoted and all(None not in (q.iv, q.delta, q.theta, q.vega) for q in quoted)
    assert all(q.gamma is None for q in chain.quotes)
    assert result_note(res) == "ThetaData Standard · gamma needs a ThetaData Pro subscription"


def test_value_tier_chain_has_quotes_a_spot_and_no_greeks(
    fresh_sim: SimulatorHandle, tmp_path: Path
) -> None:
    from dashboard.views.read_notes import result_note

    fresh_sim.set_thetadata_tier("value")
    svc = AsyncDataService.from_settings(settings_for(fresh_sim, tmp_path))
    try:
        res = run_async(svc.fetch_option_chain("SPY"))
        with fresh_sim.client() as c:
            spot = c.get("/v2/stocks/trades/latest", params={"symbols": "SPY"}).json()
    finally:
        svc.close_sync()
    chain = res.value
    assert chain is not None and chain.source == "thetadata:v3" and chain.quotes
    assert chain.underlying_price == spot["trades"]["SPY"]["p"]  # from Alpaca's latest trade
    assert all(q.iv is None and q.delta is None for q in chain.quotes)
    assert result_note(res) == (
        "ThetaData Value · IV and greeks need a ThetaData Standard subscription"
    )
