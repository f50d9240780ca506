"""The Options tab's upstream reads, each callback's as one ``run_async`` round: every
extra round trip is one more upstream latency on the refresh, so the broker clock is read
in the same gather as the data it qualifies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from dashboard.data_loaders.loop import run_all, run_async
from dashboard.models import DataResult, OptionChain
from dashboard.options.expiry import days_to_expiry
from dashboard.views.options.ticket import parse_expiry, selection_expiries

if TYPE_CHECKING:
    from dashboard.data_loaders.async_data_service import AsyncDataService


class Reads:
    def __init__(self, data: AsyncDataService) -> None:
        self.data = data

    def chain(
        self, symbol: str, expiry: str | date | None = None
    ) -> Coroutine[Any, Any, DataResult[OptionChain]]:
        return self.data.fetch_option_chain(symbol, parse_expiry(expiry))

    def chain_now(self, symbol: str, expiry: str | date | None = None) -> DataResult[OptionChain]:
        return run_async(self.chain(symbol, expiry))

    def with_now(self, *reads: Awaitable[Any] | None) -> tuple[Any, ...]:
        """The reads' results, then the broker's time (wall time if the clock failed)."""
        *values, clock = run_all(*reads, self.data.fetch_clock())
        now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
        return (*values, now)

    def chain_for_signal(
        self, symbol: str, timeframe: str
    ) -> tuple[DataResult[OptionChain], datetime]:
        """The chains of the expiries in the timeframe's DTE window, merged for selection
        (two rounds: the expiry list and the clock, then the chains together)."""
        data = self.data

        async def read() -> tuple[DataResult[OptionChain], datetime]:
            listed, clock = await asyncio.gather(data.listed_expiries(symbol), data.fetch_clock())
            now = clock.value.timestamp if clock.value is not None else datetime.now(UTC)
            upcoming = sorted(e for e in set(listed) if days_to_expiry(e, now) >= 0)
            picks = selection_expiries(upcoming, timeframe, now)
            if not picks:
                return await data.fetch_option_chain(symbol), now
            results = list(
                await asyncio.gather(*(data.fetch_option_chain(symbol, e) for e in picks))
            )
            good = [r.value for r in results if r.value is not None]
            if not good:
                return results[0], now
            merged = OptionChain(
                underlying=symbol,
                underlying_price=good[0].underlying_price,
                quotes=tuple(q for c in good for q in c.quotes),
                source=good[0].source,
                as_of=good[0].as_of,
                expiries=tuple(listed),
            )
            return DataResult(merged, results[0].source, results[0].as_of, results[0].state), now

        return run_async(read())
