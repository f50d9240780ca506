"""The editable watchlist: the scanner's symbols, kept in the journal database.

``DASHBOARD_WATCHLIST`` only seeds it (on the first read of a journal that never had
one); afterwards users add and remove symbols on the Options tab. Every tab that scans
or lists the watchlist reads it through ``watchlist_symbols``.

A symbol is added only if the broker lists it as an active, tradable US equity
(``GET /v2/assets/{symbol}``). The list is capped at ``MAX_WATCHLIST_SYMBOLS``: a cold
scan of the board's 8 timeframes then costs at most one upstream request per timeframe
on Alpaca's free IEX feed (``data_loaders.bars.requests_per_refresh``: 8 requests for
30 symbols, 9 from 40), and with bars cached for 10 s at most 6 cold scans run a minute,
48 of the 180 requests a minute the client allows itself under Alpaca's 200.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from dashboard.conventions import TICKER_MAX_LEN, is_ticker
from dashboard.data_loaders.errors import UpstreamError
from dashboard.data_loaders.loop import run_async
from dashboard.models import Asset
from dashboard.trading.records import JournalError

if TYPE_CHECKING:
    from dashboard.services import Services

__all__ = [
    "MAX_WATCHLIST_SYMBOLS",
    "WatchlistEdit",
    "add_symbol",
    "asset_problem",
    "remove_symbol",
    "watchlist_symbols",
]

log = logging.getLogger(__name__)

MAX_WATCHLIST_SYMBOLS: Final = 30
_LOOKUP_TIMEOUT = 20.0  # seconds for the broker's asset record


@dataclass(frozen=True, slots=True)
class WatchlistEdit:
    """What an add or remove did: the list after it, and the words for the user."""

    symbols: tuple[str, ...]
    ok: bool
    message: str


def watchlist_symbols(services: Services) -> tuple[str, ...]:
    """The stored watchlist (seeded from settings the first time). Should the journal
    fail, the settings' list is returned so the tabs keep scanning, and it is logged."""
    try:
        stored = services.journal.watchlist(services.settings.watchlist)
    except Exception as exc:  # the database is down: scan the configured list meanwhile
        log.warning("watchlist unreadable, using DASHBOARD_WATCHLIST: %s", exc)
        return tuple(services.settings.watchlist)
    return stored or tuple(services.settings.watchlist)


def asset_problem(symbol: str, asset: Asset | None) -> str | None:
    """Why the broker's record rules ``symbol`` out of the watchlist, or None."""
    if asset is None:
        return f"The broker lists no asset {symbol}."
    if asset.asset_class != "us_equity":
        return f"{symbol} is a {asset.asset_class} asset; the scanner reads US equity bars."
    if asset.status != "active" or not asset.tradable:
        return f"{symbol} is not an active, tradable asset at the broker."
    return None


def _normal(text: str | None) -> str:
    return (text or "").strip().upper()


def add_symbol(services: Services, text: str | None) -> WatchlistEdit:
    """Validate ``text`` (a ticker, not on the list, room left, listed by the broker as
    an active tradable US equity) and append it. Invalid input changes nothing."""
    current = watchlist_symbols(services)
    sym = _normal(text)
    if not sym:
        return WatchlistEdit(current, False, "Type a ticker symbol to add, e.g. AAPL.")
    if not is_ticker(sym):
        return WatchlistEdit(
            current,
            False,
            f"{sym[:16]!r} is not a ticker symbol (letters, digits and '.', "
            f"at most {TICKER_MAX_LEN} characters).",
        )
    if sym in current:
        return WatchlistEdit(current, False, f"{sym} is already on the watchlist.")
    if len(current) >= MAX_WATCHLIST_SYMBOLS:
        return WatchlistEdit(
            current,
            False,
            f"The watchlist holds its limit of {MAX_WATCHLIST_SYMBOLS} symbols "
            "(the scan's request budget); remove one first.",
        )
    try:
        asset = run_async(services.data.lookup_asset(sym), timeout=_LOOKUP_TIMEOUT)
    except (UpstreamError, TimeoutError) as exc:
        return WatchlistEdit(
            current, False, f"Could not check {sym} with the broker ({exc}); nothing changed."
        )
    problem = asset_problem(sym, asset)
    if problem is not None or asset is None:
        return WatchlistEdit(current, False, problem or f"The broker lists no asset {sym}.")
    try:
        symbols = services.journal.watchlist_add(
            sym,
            max_symbols=MAX_WATCHLIST_SYMBOLS,
            name=asset.name,
            seed=services.settings.watchlist,
        )
    except JournalError as exc:
        return WatchlistEdit(current, False, f"{exc}.")
    message = f"Added {sym}" + (f" ({asset.name})" if asset.name else "") + "."
    if asset.has_options is False:
        message += " The broker's record lists no options on it."
    return WatchlistEdit(symbols, True, message)


def remove_symbol(services: Services, symbol: str | None) -> WatchlistEdit:
    """Remove ``symbol``; the last symbol stays (every tab scans the watchlist)."""
    sym = _normal(symbol)
    try:
        symbols = services.journal.watchlist_remove(sym, seed=services.settings.watchlist)
    except JournalError as exc:
        return WatchlistEdit(watchlist_symbols(services), False, f"{exc}.")
    return WatchlistEdit(symbols, True, f"Removed {sym}.")
