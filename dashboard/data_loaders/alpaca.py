"""``AlpacaAsyncClient``: Alpaca's Trading v2 and Market Data v2/v1beta1 over ``AsyncHTTPClient``.

Works against paper, live or the simulator (same routes and shapes). Every reply is
parsed into ``models.py`` records here, so nothing above this layer sees raw JSON.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pandas as pd

from dashboard.data_loaders.bars import TIMEFRAMES, bars_frame
from dashboard.data_loaders.budget import Priority, RateBudget, budget_priority
from dashboard.data_loaders.errors import (
    BadResponse,
    NetworkError,
    OrderRejected,
    RateLimited,
    UpstreamError,
)
from dashboard.data_loaders.health import HealthTracker
from dashboard.data_loaders.http import AsyncHTTPClient
from dashboard.data_loaders.loop import remaining
from dashboard.data_loaders.parsing import (
    ReportLog,
    parse_account,
    parse_clock,
    parse_contract,
    parse_each,
    parse_fill,
    parse_option_snapshot,
    parse_order,
    parse_portfolio_history,
    parse_position,
    parse_quote,
    parse_records,
    parse_trade,
    parsed,
)
from dashboard.models import (
    NO_SKIPS,
    Account,
    Clock,
    Fill,
    OptionChain,
    OptionContract,
    OptionQuote,
    Order,
    Parsed,
    ParseReport,
    PortfolioHistory,
    Position,
    Quote,
    Trade,
)

T = TypeVar("T")

if TYPE_CHECKING:
    from dashboard.settings import Settings

__all__ = ["AlpacaAsyncClient", "OrderRequest"]

MAX_PAGES = 100  # a runaway page_token must not loop forever
SYMBOLS_PER_REQUEST = 100


def _new_client_order_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class OrderRequest:
    """An order as the app means it; ``client_order_id`` makes resubmission idempotent."""

    symbol: str
    qty: Decimal
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    time_in_force: str = "day"
    limit_price: Decimal | None = None
    client_order_id: str = field(default_factory=_new_client_order_id)
    position_intent: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "symbol": self.symbol,
            "qty": format(self.qty, "f"),
            "side": self.side,
            "type": self.type,
            "time_in_force": self.time_in_force,
            "client_order_id": self.client_order_id,
        }
        if self.limit_price is not None:
            body["limit_price"] = format(self.limit_price, "f")
        if self.position_intent:
            body["position_intent"] = self.position_intent
        return body


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _chunks(items: Sequence[str], n: int) -> list[list[str]]:
    uniq = list(dict.fromkeys(s.strip().upper() for s in items if s.strip()))
    return [uniq[i : i + n] for i in range(0, len(uniq), n)]


class AlpacaAsyncClient:
    """Typed async access to one Alpaca account (or the simulator)."""

    def __init__(
        self,
        trading: AsyncHTTPClient,
        data: AsyncHTTPClient,
        *,
        stock_feed: str = "iex",
        options_feed: str = "indicative",
        simulator: bool = False,
        order_attempts: int = 3,
    ) -> None:
        self.trading = trading
        self.data = data
        self.stock_feed = stock_feed
        self.options_feed = options_feed
        self.simulator = simulator
        self.order_attempts = order_attempts
        self.skips = ReportLog("alpaca")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        health: HealthTracker | None = None,
        budget: RateBudget | None = None,
    ) -> AlpacaAsyncClient:
        """Clients for the configured URLs and keys; no network until the first call.

        Both share ``budget``: the account's one request budget for the deployment."""
        key = settings.alpaca_key_id.get_secret_value() if settings.alpaca_key_id else ""
        secret = settings.alpaca_secret_key.get_secret_value() if settings.alpaca_secret_key else ""
        headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret} if key else {}
        common: dict[str, Any] = {
            "headers": headers,
            "backend": settings.http_backend,
            "health": health,
            "secrets": (key, secret),
            # Alpaca allows 200/min per account, for every process of the deployment.
            "budget": budget,
        }
        trading = AsyncHTTPClient(
            settings.alpaca_trading_url,
            source="alpaca-trading",
            health_key="alpaca-trading",
            **common,
        )
        data = AsyncHTTPClient(
            settings.alpaca_data_url, source="alpaca-data", health_key="alpaca-data", **common
        )
        return cls(
            trading,
            data,
            stock_feed=settings.stock_feed,
            options_feed=settings.options_feed,
            simulator=settings.mode == "demo",
        )

    # -- labels shown in the UI ----------------------------------------------------------
    @property
    def trading_source(self) -> str:
        return "simulator" if self.simulator else "alpaca"

    @property
    def stock_source(self) -> str:
        return "simulator" if self.simulator else f"alpaca:{self.stock_feed}"

    @property
    def options_source(self) -> str:
        return "simulator" if self.simulator else f"alpaca:{self.options_feed}"

    async def aclose(self) -> None:
        await asyncio.gather(self.trading.aclose(), self.data.aclose())

    # -- helpers -------------------------------------------------------------------------
    async def _get(
        self, client: AsyncHTTPClient, path: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        return await client.get_json(path, params)

    def _parse(self, client: AsyncHTTPClient, key: str, fn: Any, *args: Any) -> Any:
        try:
            return parsed(fn, *args, source=client.source)
        except BadResponse as exc:
            client.note_bad_response(key, exc)
            raise

    async def _paged(
        self,
        client: AsyncHTTPClient,
        path: str,
        params: Mapping[str, Any],
        *,
        token_param: str = "page_token",
        enough: Callable[[list[Any]], bool] | None = None,
    ) -> list[Any]:
        """The pages of a ``next_page_token`` endpoint, until the last or until ``enough``."""
        pages: list[Any] = []
        query = dict(params)
        for _ in range(MAX_PAGES):
            page = await self._get(client, path, query)
            if not isinstance(page, dict):
                exc = BadResponse("expected a JSON object", source=client.source)
                client.note_bad_response(f"GET {path}", exc)
                raise exc
            pages.append(page)
            token = page.get("next_page_token")
            if not token or (enough is not None and enough(pages)):
                break
            query[token_param] = token
        return pages

    # -- trading -------------------------------------------------------------------------
    async def get_account(self) -> Account:
        d = await self._get(self.trading, "/v2/account")
        return self._parse(self.trading, "GET /v2/account", parse_account, d)

    def _records(
        self, client: AsyncHTTPClient, key: str, rows: Any, fn: Callable[[Any], T], kind: str
    ) -> Parsed[T]:
        """A JSON list parsed record by record; unusable records are counted and logged."""
        out: Parsed[T] = self._parse(client, key, parse_records, rows, fn, kind)
        self.skips.note(out.report)
        return out

    async def get_positions(self) -> Parsed[Position]:
        """Every position the app can model (stocks, options, crypto); others are
        counted in the report, so one odd holding never hides the rest."""
        rows = await self._get(self.trading, "/v2/positions")
        return self._records(self.trading, "GET /v2/positions", rows, parse_position, "position")

    async def get_orders(self, status: str = "open", limit: int = 100) -> Parsed[Order]:
        """Orders, newest first; a multi-leg order is one order with its legs.

        ``nested=false`` keeps bracket children as their own rows (each can be
        cancelled); should a leg of an ``mleg`` order also come back as a top-level row,
        it is dropped, since it is shown (and cancelled) with its parent.
        """
        rows = await self._get(
            self.trading,
            "/v2/orders",
            {"status": status, "limit": limit, "direction": "desc", "nested": "false"},
        )
        out = self._records(self.trading, "GET /v2/orders", rows, parse_order, "order")
        leg_ids = {leg.id for o in out.items if o.is_multileg for leg in o.legs}
        if not leg_ids:
            return out
        return Parsed(tuple(o for o in out.items if o.id not in leg_ids), out.report)

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            d = await self._get(
                self.trading, "/v2/orders:by_client_order_id", {"client_order_id": client_order_id}
            )
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise
        return self._parse(self.trading, "GET /v2/orders:by_client_order_id", parse_order, d)

    async def get_fills(
        self, after: datetime | None = None, limit: int | None = None
    ) -> Parsed[Fill]:
        """Fill activities, newest first, every page (``page_token`` is the last id) or
        only the newest ``limit`` (pages are sequential, so fewer pages cost fewer rounds).

        Pages are counted and chained on the raw rows, so a skipped record (say, an
        unknown side) neither ends the paging early nor loses its place."""
        page_size = 100 if limit is None else max(1, min(limit, 100))
        params: dict[str, Any] = {"direction": "desc", "page_size": page_size}
        if after is not None:
            params["after"] = _iso(after)
        fills: list[Fill] = []
        report = NO_SKIPS
        key = "GET /v2/account/activities/FILL"
        for _ in range(MAX_PAGES):
            rows = await self._get(self.trading, "/v2/account/activities/FILL", params)
            batch = self._records(self.trading, key, rows, parse_fill, "fill")
            fills.extend(batch.items)
            report = report + batch.report
            if len(rows) < page_size or (limit is not None and len(fills) >= limit):
                break
            last_id = rows[-1].get("id") if isinstance(rows[-1], dict) else None
            if not last_id:
                break  # no id to page from: what arrived is all that can be read
            params["page_token"] = last_id
        return Parsed(tuple(fills if limit is None else fills[:limit]), report)

    async def get_portfolio_history(
        self, period: str = "1M", timeframe: str = "1D"
    ) -> PortfolioHistory:
        d = await self._get(
            self.trading,
            "/v2/account/portfolio/history",
            {"period": period, "timeframe": timeframe},
        )
        return self._parse(
            self.trading, "GET /v2/account/portfolio/history", parse_portfolio_history, d
        )

    async def get_clock(self) -> Clock:
        d = await self._get(self.trading, "/v2/clock")
        return self._parse(self.trading, "GET /v2/clock", parse_clock, d)

    # -- orders --------------------------------------------------------------------------
    async def submit_order(self, req: OrderRequest) -> Order:
        """POST an order; never blindly retried.

        After an ambiguous failure (time-out, reset, 5xx) the order is looked up by its
        ``client_order_id`` first; only if the broker has no such order is it resent, with
        the *same* id, so the broker itself refuses a duplicate. A 429 means the order
        was not taken, so it is resent after ``Retry-After``. 4xx → ``OrderRejected``.
        """
        body = req.to_json()
        last: UpstreamError | None = None
        for attempt in range(1, self.order_attempts + 1):
            try:
                resp = await self.trading.request("POST", "/v2/orders", json=body, retry=False)
                d = resp.json(self.trading.source)
                return self._parse(self.trading, "POST /v2/orders", parse_order, d)
            except RateLimited as exc:
                last = exc
                wait = exc.retry_after if exc.retry_after is not None else 0.5 * attempt
                left = remaining()
                if (
                    attempt == self.order_attempts
                    or wait > self.trading.retry.max_retry_after
                    or (left is not None and wait >= left)  # never past the caller's deadline
                ):
                    raise
                await asyncio.sleep(wait)
            except (NetworkError, BadResponse) as exc:
                last = exc
                # A connect failure never reached the broker: resending is plainly safe.
                if not (isinstance(exc, NetworkError) and not exc.maybe_sent):
                    found = await self._find_order(req.client_order_id, exc)
                    if found is not None:
                        return found
                if attempt == self.order_attempts:
                    raise
                await asyncio.sleep(0.2 * attempt)
            except UpstreamError as exc:
                last = exc
                if exc.status is not None and exc.status >= 500:
                    found = await self._find_order(req.client_order_id, exc)
                    if found is not None:
                        return found
                    if attempt == self.order_attempts:
                        raise
                    await asyncio.sleep(0.2 * attempt)
                    continue
                if attempt > 1 and exc.status == 422 and "client_order_id" in exc.message:
                    # Our earlier attempt did land after all: return that order.
                    found = await self._find_order(req.client_order_id, exc)
                    if found is not None:
                        return found
                raise OrderRejected(
                    exc.message, status=exc.status, source=exc.source or "alpaca-trading"
                ) from None
        assert last is not None
        raise last

    async def _find_order(self, client_order_id: str, cause: UpstreamError) -> Order | None:
        """Look the order up after an ambiguous failure; unknown state re-raises ``cause``."""
        try:
            with budget_priority(Priority.ORDER):
                return await self.get_order_by_client_id(client_order_id)
        except UpstreamError:
            raise cause from None

    async def cancel_order(self, order_id: str) -> None:
        try:
            await self.trading.request("DELETE", f"/v2/orders/{order_id}", retry=False)
        except UpstreamError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise OrderRejected(exc.message, status=exc.status, source=exc.source) from None
            raise

    async def close_position(self, symbol: str, qty: Decimal | None = None) -> Order:
        params = {"qty": format(qty, "f")} if qty is not None else None
        try:
            resp = await self.trading.request(
                "DELETE", f"/v2/positions/{symbol}", params=params, retry=False
            )
        except UpstreamError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise OrderRejected(exc.message, status=exc.status, source=exc.source) from None
            raise
        return self._parse(
            self.trading, "DELETE /v2/positions", parse_order, resp.json(self.trading.source)
        )

    # -- stock data ----------------------------------------------------------------------
    async def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: str,
        start: datetime,
        end: datetime | None = None,
        *,
        limit: int | None = None,
        sort: Literal["asc", "desc"] = "asc",
    ) -> dict[str, pd.DataFrame]:
        """Bars for many symbols in one request, following ``next_page_token``.

        ``limit`` is per symbol: with ``sort="desc"`` paging stops once every symbol has
        that many of its newest bars (Alpaca's own ``limit`` caps a whole page, across
        symbols). Every requested symbol gets a frame (empty when the feed has none).
        """
        if timeframe not in TIMEFRAMES:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        wanted = list(dict.fromkeys(s.upper() for s in symbols))
        if not wanted:
            return {}  # Alpaca answers 400 "symbols is required"; nothing to ask for
        params: dict[str, Any] = {
            "symbols": ",".join(wanted),
            "timeframe": timeframe,
            "start": _iso(start),
            "end": _iso(end),
            "feed": self.stock_feed,
            "adjustment": "split",
            "sort": sort,
            # A page is capped across symbols, so only a lone symbol can ask for exactly
            # ``limit``; a batch takes full pages and is cut per symbol below.
            "limit": min(limit, 10_000) if limit and len(wanted) == 1 else 10_000,
        }
        rows: dict[str, list[Any]] = {s: [] for s in wanted}

        def enough(pages: list[Any]) -> bool:
            if not limit or sort != "desc":
                return False
            counts = dict.fromkeys(wanted, 0)
            for page in pages:
                for sym, bars in (page.get("bars") or {}).items():
                    counts[sym] = counts.get(sym, 0) + len(bars or ())
            return all(n >= limit for n in counts.values())

        pages = await self._paged(self.data, "/v2/stocks/bars", params, enough=enough)
        for page in pages:
            for sym, bars in (page.get("bars") or {}).items():
                rows.setdefault(sym, []).extend(bars)
        if limit and sort == "desc":
            rows = {sym: r[:limit] for sym, r in rows.items()}
        return {
            sym: self._parse(self.data, "GET /v2/stocks/bars", bars_frame, r)
            for sym, r in rows.items()
        }

    async def _latest(
        self, path: str, key: str, parse: Callable[[str, Any], T], symbols: Sequence[str]
    ) -> dict[str, T]:
        """A ``…/latest`` endpoint for many symbols, a chunk of symbols per request."""
        out: dict[str, T] = {}
        for chunk in _chunks(symbols, SYMBOLS_PER_REQUEST):
            d = await self._get(
                self.data, path, {"symbols": ",".join(chunk), "feed": self.stock_feed}
            )
            out.update(
                self._parse(
                    self.data,
                    f"GET {path}",
                    lambda x: {s: parse(s, v) for s, v in x[key].items()},
                    d,
                )
            )
        return out

    async def get_latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return await self._latest("/v2/stocks/quotes/latest", "quotes", parse_quote, symbols)

    async def get_latest_trades(self, symbols: Sequence[str]) -> dict[str, Trade]:
        return await self._latest("/v2/stocks/trades/latest", "trades", parse_trade, symbols)

    # -- options -------------------------------------------------------------------------
    async def get_option_contracts(
        self,
        underlying: str,
        expiration_gte: date | None = None,
        expiration_lte: date | None = None,
    ) -> Parsed[OptionContract]:
        params = {
            "underlying_symbols": underlying.upper(),
            "expiration_date_gte": _iso(expiration_gte),
            "expiration_date_lte": _iso(expiration_lte),
            "status": "active",
            "limit": 10_000,
        }
        pages = await self._paged(self.trading, "/v2/options/contracts", params)
        key = "GET /v2/options/contracts"
        parts = [
            self._records(self.trading, key, p.get("option_contracts") or [], parse_contract,
                          "option contract")
            for p in pages
        ]  # fmt: skip
        return Parsed(
            tuple(c for part in parts for c in part.items),
            sum((part.report for part in parts), NO_SKIPS),
        )

    def _snapshots(self, page: Any) -> Parsed[OptionQuote]:
        """One page of ``{"snapshots": {symbol: snapshot}}``, snapshot by snapshot."""
        snaps = page.get("snapshots") or {}
        if not isinstance(snaps, dict):
            raise TypeError("snapshots is not a JSON object")
        return parse_each(
            snaps.items(), lambda kv: parse_option_snapshot(kv[0], kv[1]), "chain row"
        )

    async def get_option_chain(self, underlying: str, expiry: date | None = None) -> OptionChain:
        """All snapshots for ``underlying`` (one expiry, or every listed one)."""
        under = underlying.upper()
        params = {"feed": self.options_feed, "limit": 1000, "expiration_date": _iso(expiry)}
        pages_task = self._paged(self.data, f"/v1beta1/options/snapshots/{under}", params)
        trade_task = self.get_latest_trades([under])
        pages, trades = await asyncio.gather(pages_task, trade_task, return_exceptions=True)
        if isinstance(pages, BaseException):
            raise pages
        key = "GET /v1beta1/options/snapshots"
        parts = [self._parse(self.data, key, self._snapshots, p) for p in pages]
        report: ParseReport = sum((part.report for part in parts), NO_SKIPS)
        self.skips.note(report)
        quotes = [q for part in parts for q in part.items]
        quotes.sort(key=lambda q: (q.contract.expiry, q.contract.strike, q.contract.right))
        price = None if isinstance(trades, BaseException) else trades.get(under)
        stamps = [q.as_of for q in quotes if q.as_of is not None]
        return OptionChain(
            underlying=under,
            underlying_price=None if price is None else price.price,
            quotes=tuple(quotes),
            source=self.options_source,
            as_of=max(stamps) if stamps else None,
            expiries=tuple(sorted({q.contract.expiry for q in quotes})),
            report=report,
        )

    async def get_option_snapshots(self, symbols: Sequence[str]) -> dict[str, OptionQuote]:
        """Snapshots by OCC symbol; one that cannot be parsed is left out (and logged),
        so its position falls back to model greeks instead of failing the whole read."""
        out: dict[str, OptionQuote] = {}
        for chunk in _chunks(symbols, SYMBOLS_PER_REQUEST):
            pages = await self._paged(
                self.data,
                "/v1beta1/options/snapshots",
                {"symbols": ",".join(chunk), "feed": self.options_feed},
            )
            for page in pages:
                part = self._parse(
                    self.data, "GET /v1beta1/options/snapshots", self._snapshots, page
                )
                self.skips.note(part.report)
                out.update((q.contract.symbol, q) for q in part.items)
        return out
