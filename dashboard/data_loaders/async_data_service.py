"""``AsyncDataService``: the one façade Dash callbacks use for upstream data.

Every read goes through the ``ReadCache`` (TTL, single flight, last good), so N viewers
cost one upstream call per endpoint per TTL, and every read returns a ``DataResult``
(fresh / stale / error / empty, with source and as-of) instead of raising. Order paths
raise, because the user must see a rejection, and they invalidate the cached account,
positions and orders. Built with ``from_settings`` without touching the network; run
from sync code with ``run_async(service.fetch_…())``.

Its size is one concept: the one facade every callback reads through (cache, budget,
deadlines, fallbacks); the clients and parsers it uses live in their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd

from dashboard.conventions import NEW_YORK
from dashboard.data_loaders.alpaca import AlpacaAsyncClient, OrderRequest
from dashboard.data_loaders.bars import BarRequest, plan_bar_requests
from dashboard.data_loaders.budget import (
    BudgetPolicy,
    BudgetStore,
    DiskBudgetStore,
    Priority,
    RateBudget,
    RedisBudgetStore,
    budget_priority,
)
from dashboard.data_loaders.cache import (
    DiskSharedCache,
    ReadCache,
    RedisSharedCache,
    SharedCache,
)
from dashboard.data_loaders.errors import UpstreamError
from dashboard.data_loaders.health import HealthTracker
from dashboard.data_loaders.loop import (
    deadline_after,
    in_loop_thread,
    loop_running,
    remaining,
    run_async,
)
from dashboard.data_loaders.thetadata import ThetaDataAsyncClient
from dashboard.models import (
    Account,
    Asset,
    Clock,
    DataResult,
    DataState,
    Fill,
    OptionChain,
    OptionQuote,
    Order,
    Parsed,
    PortfolioHistory,
    PortfolioSnapshot,
    Position,
    Quote,
)
from dashboard.options.occ import parse_occ
from dashboard.settings import Settings

__all__ = ["AsyncDataService", "OrderRequest"]

log = logging.getLogger(__name__)
BARS_TTL_FLOOR = 10.0  # seconds
T = TypeVar("T")

EXPIRIES_TTL = 300.0  # listed expiries change once a day
CLOCK_BOUND_MAX_AGE = 60.0  # seconds a cached clock may bound a read (see _broker_now_bound)
THETA_RETRY_AFTER = 30.0  # after ThetaData fails, use Alpaca for this long before trying again
ORDER_KEYS = ("account", "positions", "orders:", "fills:", "history:", "portfolio")


def _nonempty(value: Any) -> bool:
    return not value


def _records(result: DataResult[Parsed[T]]) -> DataResult[tuple[T, ...]]:
    """A list read's records as a tuple, with its parse report moved onto the result
    (stale results keep the report of the read whose records they show). A plain tuple
    is a value an earlier version left in the shared cache."""
    parsed: Any = result.value
    items: tuple[T, ...] | None = None
    report = result.report
    if isinstance(parsed, Parsed):
        items, report = parsed.items, parsed.report
    elif parsed is not None:
        items = tuple(parsed)
    return DataResult(
        value=items,
        source=result.source,
        as_of=result.as_of,
        state=result.state,
        error=result.error,
        stale_since=result.stale_since,
        report=report,
    )


def _underlying(symbol: str, asset_class: str) -> str:
    if asset_class == "us_option":
        try:
            return parse_occ(symbol).root
        except ValueError:
            return symbol
    return symbol


class AsyncDataService:
    """Cached, single-flight, state-labelled reads plus order actions."""

    def __init__(
        self,
        settings: Settings,
        alpaca: AlpacaAsyncClient,
        thetadata: ThetaDataAsyncClient | None = None,
        *,
        cache: ReadCache,
        health: HealthTracker,
    ) -> None:
        self.settings = settings
        self.alpaca = alpaca
        self.thetadata = thetadata
        self.cache = cache
        self._health = health
        self._theta_skip_until = 0.0
        self._generation = 0
        self._shared: SharedCache | None = cache.shared

    @classmethod
    def from_settings(cls, settings: Settings) -> AsyncDataService:
        """Clients and caches for ``settings``; nothing connects until the first read."""
        sources = ["alpaca-trading", "alpaca-data"]
        if settings.thetadata_url:
            sources.append("thetadata")
        health = HealthTracker(sources, window=settings.stale_after_seconds)
        budget = rate_budget_for(settings)
        alpaca = AlpacaAsyncClient.from_settings(settings, health=health, budget=budget)
        theta = ThetaDataAsyncClient.from_settings(settings, health=health)
        shared: SharedCache
        if settings.redis_url is not None:
            shared = RedisSharedCache(settings.redis_url.get_secret_value())
        else:
            shared = DiskSharedCache(settings.data_dir / "cache" / "reads")
        key_id = settings.alpaca_key_id.get_secret_value() if settings.alpaca_key_id else ""
        # One namespace per account and endpoint set, so two configurations sharing a
        # directory or Redis never read each other's values.
        scope = "|".join(
            [
                settings.alpaca_trading_url,
                settings.alpaca_data_url,
                key_id,
                settings.thetadata_url or "",
            ]
        )
        namespace = hashlib.sha256(scope.encode()).hexdigest()[:16]
        secret_src = settings.secret_key or settings.alpaca_secret_key or settings.redis_url
        secret = secret_src.get_secret_value().encode() if secret_src else os.urandom(32)
        cache = ReadCache(
            shared,
            namespace=namespace,
            secret=secret,
            read_deadline=settings.read_deadline_seconds,
            budget_grace=2 * settings.refresh_seconds,
        )
        return cls(settings, alpaca, theta, cache=cache, health=health)

    # -- plumbing ------------------------------------------------------------------------
    @property
    def ttl(self) -> float:
        return self.settings.cache_ttl_seconds

    @property
    def bars_ttl(self) -> float:
        """Bars and chains move slower than the account; a longer TTL keeps a watchlist
        scan inside Alpaca's 200 requests/min however often viewers refresh."""
        return max(self.settings.cache_ttl_seconds, BARS_TTL_FLOOR)

    async def _read(
        self,
        key: str,
        fetch: Callable[[], Awaitable[T]],
        source: str,
        *,
        ttl: float | None = None,
        is_empty: Callable[[Any], bool] = lambda v: False,
    ) -> DataResult[T]:
        async def load() -> tuple[T, str]:
            return await fetch(), source

        return await self.cache.get(
            key,
            self.ttl if ttl is None else ttl,
            load,
            is_empty=is_empty,
            error_source=source,
        )

    def health(self) -> dict[str, str]:
        """Per-source state from recent call outcomes (no I/O)."""
        return self._health.snapshot()

    def budget_usage(self) -> dict[str, Any] | None:
        """The deployment's request budget over the last minute (``/healthz``, header);
        one read of the shared store. None when the clients have no budget."""
        budget = self.alpaca.trading.budget
        return budget.usage() if budget is not None else None

    @property
    def generation(self) -> int:
        """Moves on every invalidation, so anything rendered from older reads can tell."""
        return self._generation

    def invalidate(self, prefix: str = "") -> None:
        self._generation += 1
        self.cache.invalidate(prefix)

    async def _invalidate_after_order(self) -> None:
        def drop() -> None:
            self._generation += 1
            for key in ORDER_KEYS:
                self.cache.invalidate(key)

        await asyncio.to_thread(drop)

    async def aclose(self) -> None:
        closers = [self.alpaca.aclose()]
        if self.thetadata is not None:
            closers.append(self.thetadata.aclose())
        await asyncio.gather(*closers, return_exceptions=True)

    def close_sync(self) -> None:
        """Close clients on the data loop (if it runs) and the shared cache."""
        if not in_loop_thread():
            with contextlib.suppress(Exception):
                if loop_running():
                    run_async(self.aclose(), timeout=5.0)
        if self._shared is not None:
            with contextlib.suppress(Exception):
                self._shared.close()
        budget = self.alpaca.trading.budget
        if budget is not None:
            with contextlib.suppress(Exception):
                budget.store.close()

    # -- account and trading reads -------------------------------------------------------
    async def fetch_account(self) -> DataResult[Account]:
        return await self._read("account", self.alpaca.get_account, self.alpaca.trading_source)

    async def fetch_positions(self) -> DataResult[tuple[Position, ...]]:
        """Positions; ``report`` counts the records not shown, and why."""
        result = await self._read(
            "positions", self.alpaca.get_positions, self.alpaca.trading_source, is_empty=_nonempty
        )
        return _records(result)

    async def fetch_orders(self, status: str = "open") -> DataResult[tuple[Order, ...]]:
        """Orders (multi-leg ones with their legs); ``report`` as for positions."""

        async def load() -> Parsed[Order]:
            return await self.alpaca.get_orders(status=status, limit=500)

        result = await self._read(
            f"orders:{status}", load, self.alpaca.trading_source, is_empty=_nonempty
        )
        return _records(result)

    async def fetch_fills(
        self, days: int = 30, limit: int | None = None
    ) -> DataResult[tuple[Fill, ...]]:
        """Fills of the last ``days``, newest first; only the newest ``limit`` if given."""

        async def load() -> Parsed[Fill]:
            after = await self._broker_now_bound() - timedelta(days=days)
            return await self.alpaca.get_fills(after=after, limit=limit)

        result = await self._read(
            f"fills:{days}:{limit}", load, self.alpaca.trading_source, is_empty=_nonempty
        )
        return _records(result)

    async def fetch_portfolio_history(
        self, period: str = "1M", timeframe: str = "1D"
    ) -> DataResult[PortfolioHistory]:
        async def load() -> PortfolioHistory:
            return await self.alpaca.get_portfolio_history(period, timeframe)

        return await self._read(
            f"history:{period}:{timeframe}",
            load,
            self.alpaca.trading_source,
            is_empty=lambda h: not h.timestamps,
        )

    async def lookup_asset(self, symbol: str) -> Asset | None:
        """The broker's asset record for ``symbol`` (None: the broker lists none), read
        now, not cached: a user adding a symbol wants today's answer. Upstream failures
        raise ``UpstreamError``."""
        return await self.alpaca.get_asset(symbol)

    async def fetch_clock(self) -> DataResult[Clock]:
        return await self._read("clock", self.alpaca.get_clock, self.alpaca.trading_source)

    async def fetch_portfolio_data(self) -> PortfolioSnapshot:
        """Account, positions, open orders, clock and underlying quotes, concurrently.

        Quotes depend on which underlyings are held; the last known positions start the
        quote request alongside the rest, and only a changed holding costs a second round.
        """
        guess = self.held_underlyings_hint()
        account, positions, orders, clock, quotes = await asyncio.gather(
            self.fetch_account(),
            self.fetch_positions(),
            self.fetch_orders("open"),
            self.fetch_clock(),
            self.fetch_quotes(guess),
        )
        held = self._underlyings(positions.value or ())
        if held != guess:
            quotes = await self.fetch_quotes(held)
        return PortfolioSnapshot(
            account=account, positions=positions, open_orders=orders, clock=clock, quotes=quotes
        )

    def positions_hint(self) -> tuple[Position, ...]:
        """The last known positions (no I/O), so a caller can start reads that depend on
        the holdings alongside the positions read instead of one round after it."""
        last = self.cache.last_good("positions")
        return tuple(last.value) if last is not None and last.value is not None else ()

    def held_underlyings_hint(self) -> tuple[str, ...]:
        """Underlyings of ``positions_hint()``."""
        return self._underlyings(self.positions_hint())

    def portfolio_history_start_hint(self, period: str, timeframe: str) -> datetime | None:
        """First timestamp of the last known history for ``period`` (no I/O), for the same
        reason as ``held_underlyings_hint``."""
        last = self.cache.last_good(f"history:{period}:{timeframe}")
        stamps = last.value.timestamps if last is not None and last.value is not None else ()
        return stamps[0] if stamps else None

    @staticmethod
    def _underlyings(positions: Sequence[Position]) -> tuple[str, ...]:
        """US stock quotes to read for what is held (crypto is not on the stock feed)."""
        return tuple(
            sorted(
                {
                    _underlying(p.symbol, p.asset_class)
                    for p in positions
                    if p.asset_class in ("us_equity", "us_option")
                }
            )
        )

    # -- market data ---------------------------------------------------------------------
    async def fetch_quotes(self, symbols: Sequence[str]) -> DataResult[dict[str, Quote]]:
        syms = tuple(sorted({s.upper() for s in symbols}))
        if not syms:
            return DataResult(
                value={},
                source=self.alpaca.stock_source,
                as_of=datetime.now(UTC),
                state=DataState.EMPTY,
            )

        async def load() -> dict[str, Quote]:
            return await self.alpaca.get_latest_quotes(syms)

        return await self._read(
            "quotes:" + ",".join(syms), load, self.alpaca.stock_source, is_empty=_nonempty
        )

    async def fetch_bars(
        self, symbol: str, timeframe: str, lookback: int = 300
    ) -> DataResult[pd.DataFrame]:
        """The last ``lookback`` bars (one request: newest first with a limit, then sorted);
        a timeframe Alpaca does not serve is built from one it does (``bars.BUILT_FROM``)."""
        sym = symbol.upper()
        (req,) = plan_bar_requests({timeframe: lookback})  # refuses an unknown timeframe
        batched = self._bars_from_batch(sym, timeframe, lookback)
        if batched is not None:
            return batched

        async def load() -> pd.DataFrame:
            end = await self._broker_now_bound()
            frames = await self.alpaca.get_bars(
                [sym], req.source, req.start(end), None, limit=req.limit, sort="desc"
            )
            return req.frames(frames[sym])[timeframe]

        return await self._read(
            f"bars:{sym}:{timeframe}:{lookback}",
            load,
            self.alpaca.stock_source,
            ttl=self.bars_ttl,
            is_empty=lambda f: f.empty,
        )

    def _bars_from_batch(
        self, sym: str, timeframe: str, lookback: int
    ) -> DataResult[pd.DataFrame] | None:
        """The bars from a fresh watchlist read that already holds them (the signal scan's
        ``fetch_bars_many``), so a chart of a scanned symbol costs no second request."""
        for key, res in self.cache.fresh_values("barsmany:"):
            _prefix, wants, symbols = key.split(":")
            held = dict(w.rsplit(".", 1) for w in wants.split("+"))
            if res.state is not DataState.FRESH or res.value is None:
                continue
            if int(held.get(timeframe, 0)) < lookback or sym not in symbols.split(","):
                continue
            per = res.value.get(sym)
            frame = per.get(timeframe) if per is not None else None
            if frame is not None and len(frame) >= min(lookback, 1):
                return DataResult(frame.tail(lookback), res.source, res.as_of, res.state)
        return None

    async def fetch_bars_history(
        self, symbol: str, timeframe: str, start: datetime
    ) -> DataResult[pd.DataFrame]:
        sym = symbol.upper()

        async def load() -> pd.DataFrame:
            return (await self.alpaca.get_bars([sym], timeframe, start))[sym]

        return await self._read(
            f"barsh:{sym}:{timeframe}:{start.isoformat()}",
            load,
            self.alpaca.stock_source,
            is_empty=lambda f: f.empty,
        )

    async def fetch_bars_many(
        self,
        symbols: Sequence[str],
        timeframes: Sequence[str],
        lookback: int = 300,
        *,
        lookbacks: Mapping[str, int] | None = None,
    ) -> dict[tuple[str, str], DataResult[pd.DataFrame]]:
        """One multi-symbol request per served timeframe, the requests concurrently;
        timeframes built from the same served one (4Hour and 30Min, 1Quarter and 1Month)
        share its request. ``lookbacks`` overrides ``lookback`` per timeframe.

        Batching keeps a watchlist scan to a handful of calls against Alpaca's 200/min.
        """
        syms = list(dict.fromkeys(s.upper() for s in symbols))
        if not syms:
            return {}
        wanted = {tf: (lookbacks or {}).get(tf, lookback) for tf in timeframes}
        requests = plan_bar_requests(wanted)

        async def one(req: BarRequest) -> DataResult[dict[str, dict[str, pd.DataFrame]]]:
            async def load() -> dict[str, dict[str, pd.DataFrame]]:
                end = await self._broker_now_bound()
                frames = await self.alpaca.get_bars(
                    syms, req.source, req.start(end), None, limit=req.limit, sort="desc"
                )
                return {s: req.frames(f) for s, f in frames.items()}

            return await self._read(
                f"barsmany:{req.key}:{','.join(syms)}",
                load,
                self.alpaca.stock_source,
                ttl=self.bars_ttl,
                is_empty=lambda d: all(f.empty for per in d.values() for f in per.values()),
            )

        per_request = await asyncio.gather(*(one(req) for req in requests))
        out: dict[tuple[str, str], DataResult[pd.DataFrame]] = {}
        for req, res in zip(requests, per_request, strict=True):
            for tf, _n in req.wants:
                for s in syms:
                    per = res.value.get(s) if res.value is not None else None
                    frame = per.get(tf) if per is not None else None
                    state = res.state
                    if frame is not None and frame.empty and state is DataState.FRESH:
                        state = DataState.EMPTY
                    out[(s, tf)] = DataResult(
                        frame, res.source, res.as_of, state, res.error, res.stale_since
                    )
        return out

    # -- options -------------------------------------------------------------------------
    async def fetch_option_chain(
        self, underlying: str, expiry: date | None = None
    ) -> DataResult[OptionChain]:
        """The chain for ``expiry`` (None: the nearest listed expiry).

        ThetaData when configured and reachable, else Alpaca's option snapshots; the
        chain's ``source`` names which one answered, and ``expiries`` lists every expiry.
        """
        under = underlying.upper()
        if expiry is not None and not isinstance(expiry, date):
            # A form or URL handed something else (a number, a string): say so, do not raise.
            return DataResult(
                value=None,
                source=self.alpaca.options_source,
                as_of=None,
                state=DataState.ERROR,
                error=f"expiry must be a date, got {type(expiry).__name__}",
            )
        if expiry is None:
            # Resolve "the nearest" to its date first, so it shares the dated read's cache
            # entry instead of fetching the same chain under a second key.
            nearest = await self._nearest_expiry(under)
            if nearest is not None:
                return await self.fetch_option_chain(under, nearest)

        async def load() -> OptionChain:
            if self._theta_usable():
                try:
                    with self._theta_share():
                        return await self._theta_chain(under, expiry)
                except UpstreamError as exc:
                    self._theta_failed(f"chain for {under}", exc)
            return await self._alpaca_chain(under, expiry)

        return await self._read(
            f"chain:{under}:{expiry.isoformat() if expiry else 'next'}",
            load,
            self.alpaca.options_source,
            ttl=self.bars_ttl,
            is_empty=lambda c: not c.quotes,
        )

    async def fetch_option_chains(
        self, underlying: str, count: int
    ) -> list[DataResult[OptionChain]]:
        """The chains of the ``count`` nearest listed expiries, fetched concurrently (one
        round when the expiry list is cached). Falls back to the single nearest chain's
        result, error included, when the expiries cannot be listed."""
        under = underlying.upper()
        listed = await self.listed_expiries(under)
        if not listed:
            return [await self.fetch_option_chain(under)]
        today = (await self._broker_now_bound()).astimezone(NEW_YORK).date()
        picks = [d for d in listed if d >= today][:count] or listed[-1:]
        return list(await asyncio.gather(*(self.fetch_option_chain(under, d) for d in picks)))

    async def listed_expiries(self, underlying: str) -> list[date]:
        """Every listed expiry of ``underlying`` from whichever source serves chains
        (cached for ``EXPIRIES_TTL``); empty when neither can list them."""
        under = underlying.upper()
        if self._theta_usable():
            theta = self.thetadata
            assert theta is not None
            try:
                with self._theta_share():
                    return await self._cached_expiries(
                        f"theta-exp:{under}", lambda: theta.list_expirations(under)
                    )
            except UpstreamError as exc:
                self._theta_failed(f"expiries of {under}", exc)
        try:
            return await self._alpaca_expiries(under)
        except UpstreamError:
            return []

    def _theta_usable(self) -> bool:
        return self.thetadata is not None and time.monotonic() >= self._theta_skip_until

    def _theta_share(self) -> contextlib.AbstractContextManager[float | None]:
        """ThetaData gets half of the time left, so Alpaca's fallback still has the rest
        when the Terminal is slow (a chain from Alpaca, fresh, rather than a stale one)."""
        left = remaining()
        return deadline_after(None if left is None else left / 2)

    def _theta_failed(self, what: str, exc: UpstreamError) -> None:
        self._theta_skip_until = time.monotonic() + THETA_RETRY_AFTER
        log.info("ThetaData %s failed (%s); using Alpaca", what, exc)

    async def _alpaca_expiries(self, under: str) -> list[date]:
        async def contracts() -> list[date]:
            since = (await self._broker_now_bound()).date() - timedelta(days=1)
            rows = await self.alpaca.get_option_contracts(under, expiration_gte=since)
            return sorted({c.expiry for c in rows.items})

        return await self._cached_expiries(f"alpaca-exp:{under}", contracts)

    async def _nearest_expiry(self, under: str) -> date | None:
        """The nearest listed expiry; None on failure. The nearest expiry changes once a
        day, so a clock read in the last minute picks it (see ``_broker_now_bound``)."""
        expiries = await self.listed_expiries(under)
        return _nearest(expiries, await self._broker_now_bound()) if expiries else None

    async def _theta_chain(self, under: str, expiry: date | None) -> OptionChain:
        assert self.thetadata is not None
        theta = self.thetadata
        listing = self._cached_expiries(f"theta-exp:{under}", lambda: theta.list_expirations(under))
        if expiry is not None:  # the chain does not wait for the expiry list
            expiries, chain = await asyncio.gather(listing, theta.get_option_chain(under, expiry))
            return await self._with_spot(_with_expiries(chain, expiries))
        expiries = await listing
        chosen = _nearest(expiries, await self._broker_now())
        if chosen is None:
            raise UpstreamError(f"no listed expiries for {under}", source=theta.source)
        chain = await theta.get_option_chain(under, chosen)
        return await self._with_spot(_with_expiries(chain, expiries))

    async def _with_spot(self, chain: OptionChain) -> OptionChain:
        """ThetaData sends the underlying's price with the greeks; a subscription without
        greeks (Value) gets it from Alpaca's latest trade, as Alpaca's own chain does."""
        if chain.underlying_price is not None:
            return chain
        try:
            trades = await self.alpaca.get_latest_trades([chain.underlying])
        except UpstreamError:
            return chain
        trade = trades.get(chain.underlying)
        return chain if trade is None else dataclasses.replace(chain, underlying_price=trade.price)

    async def _alpaca_chain(self, under: str, expiry: date | None) -> OptionChain:
        if expiry is not None:
            expiries, chain = await asyncio.gather(
                self._alpaca_expiries(under), self.alpaca.get_option_chain(under, expiry)
            )
            return _with_expiries(chain, expiries)
        expiries = await self._alpaca_expiries(under)
        chosen = _nearest(expiries, await self._broker_now())
        if chosen is None:
            return OptionChain(under, None, (), self.alpaca.options_source, None, ())
        chain = await self.alpaca.get_option_chain(under, chosen)
        return _with_expiries(chain, expiries)

    async def _cached_expiries(
        self, key: str, fetch: Callable[[], Awaitable[list[date]]]
    ) -> list[date]:
        async def load() -> tuple[list[date], str]:
            return await fetch(), ""

        result = await self.cache.get(key, EXPIRIES_TTL, load)
        if result.value is None:
            raise UpstreamError(result.error or "expiries unavailable", source=result.source)
        return list(result.value)

    async def _broker_now_bound(self) -> datetime:
        """A broker time for the lower bound of a read (bars from, fills since, expiries
        from). An older time only widens such a bound, so a clock read in the last minute
        serves and the read does not wait one more round trip for a fresh clock."""
        last = self.cache.last_good("clock")
        if last is not None and last.value is not None:
            age = (datetime.now(UTC) - last.as_of).total_seconds()
            if age < CLOCK_BOUND_MAX_AGE:
                return last.value.timestamp
        return await self._broker_now()

    async def _broker_now(self) -> datetime:
        """The broker's time (the simulator's clock may not be the wall clock)."""
        clock = await self.fetch_clock()
        return clock.value.timestamp if clock.value is not None else datetime.now(UTC)

    async def fetch_option_quotes(
        self, symbols: Sequence[str]
    ) -> DataResult[dict[str, OptionQuote]]:
        syms = tuple(sorted({s.upper() for s in symbols}))
        if not syms:
            return DataResult(
                value={},
                source=self.alpaca.options_source,
                as_of=datetime.now(UTC),
                state=DataState.EMPTY,
            )

        async def load() -> dict[str, OptionQuote]:
            return await self.alpaca.get_option_snapshots(syms)

        return await self._read(
            "optquotes:" + ",".join(syms), load, self.alpaca.options_source, is_empty=_nonempty
        )

    # -- orders (raise; the UI shows the broker's message) --------------------------------
    # Order paths draw from the budget's order class (their lookups after a time-out too).
    async def submit_order(self, req: OrderRequest) -> Order:
        try:
            with budget_priority(Priority.ORDER):
                return await self.alpaca.submit_order(req)
        finally:
            await self._invalidate_after_order()

    async def cancel_order(self, order_id: str) -> None:
        try:
            with budget_priority(Priority.ORDER):
                await self.alpaca.cancel_order(order_id)
        finally:
            await self._invalidate_after_order()

    async def close_position(self, symbol: str, qty: Decimal | None = None) -> Order:
        try:
            with budget_priority(Priority.ORDER):
                return await self.alpaca.close_position(symbol, qty)
        finally:
            await self._invalidate_after_order()


def rate_budget_for(settings: Settings) -> RateBudget:
    """The request budget every process of this deployment shares for one Alpaca account:
    in Redis when ``REDIS_URL`` is set, else in diskcache under ``data_dir`` (one host)."""
    store: BudgetStore
    if settings.redis_url is not None:
        store = RedisBudgetStore(settings.redis_url.get_secret_value())
    else:
        store = DiskBudgetStore(settings.data_dir / "cache" / "budget")
    key_id = settings.alpaca_key_id.get_secret_value() if settings.alpaca_key_id else ""
    account = hashlib.sha256(f"{settings.alpaca_trading_url}|{key_id}".encode()).hexdigest()[:16]
    policy = BudgetPolicy.for_limit(settings.alpaca_rate_limit_per_minute)
    return RateBudget(store, f"strat:budget:v1:{account}", policy)


def _nearest(expiries: Sequence[date], now: datetime) -> date | None:
    today = now.astimezone(NEW_YORK).date()
    upcoming = [d for d in expiries if d >= today]
    return upcoming[0] if upcoming else (expiries[-1] if expiries else None)


def _with_expiries(chain: OptionChain, expiries: Sequence[date]) -> OptionChain:
    listed = tuple(sorted(set(expiries) | set(chain.expiries)))
    return dataclasses.replace(chain, expiries=listed)
