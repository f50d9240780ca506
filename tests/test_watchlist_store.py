"""The editable watchlist: validated against the broker's asset records (the simulator's
``GET /v2/assets/{symbol}``), kept in the journal, and unchanged by any bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.models import Asset
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.journal import Journal
from dashboard.watchlist_store import (
    MAX_WATCHLIST_SYMBOLS,
    add_symbol,
    asset_problem,
    remove_symbol,
    watchlist_symbols,
)
from tests.conftest import settings_for

SEED = ("SPY", "QQQ")


@pytest.fixture
def services(sim: SimulatorHandle, tmp_path: Path) -> Iterator[Services]:
    settings = settings_for(sim, tmp_path, watchlist=SEED)
    built = build_services(settings, exit_monitor=False)
    yield built
    built.close()


def _asset_calls(services: Services) -> int:
    return sum(n for k, n in services.data.alpaca.trading.calls.items() if "/v2/assets" in k)


def test_the_setting_seeds_the_list_once(services: Services) -> None:
    assert watchlist_symbols(services) == SEED
    assert services.journal.watchlist(("IWM",)) == SEED  # a later seed changes nothing


def test_a_symbol_the_broker_lists_is_added_and_kept(services: Services) -> None:
    edit = add_symbol(services, "  amzn ")
    assert edit.ok and edit.symbols == (*SEED, "AMZN")
    assert edit.message == "Added AMZN (Amazon.com, Inc.)."
    assert _asset_calls(services) == 1
    # Kept in the database: a second journal on it (a restart) reads the same list.
    again = Journal(services.settings.database_url)
    try:
        assert again.watchlist(("IWM",)) == (*SEED, "AMZN")
    finally:
        again.close()
    repeat = add_symbol(services, "AMZN")
    assert not repeat.ok and repeat.message == "AMZN is already on the watchlist."


@pytest.mark.parametrize(
    ("text", "message", "asks_broker"),
    [
        ("zzzzq", "The broker lists no asset ZZZZQ.", True),
        ("VIX", "The broker lists no asset VIX.", True),  # an index: no tradable asset
        ("", "Type a ticker symbol to add, e.g. AAPL.", False),
        (None, "Type a ticker symbol to add, e.g. AAPL.", False),
        ("AA PL", "'AA PL' is not a ticker symbol", False),
        ("SPY;DROP", "'SPY;DROP' is not a ticker symbol", False),
    ],
)
def test_a_bad_symbol_gets_a_clear_message_and_changes_nothing(
    services: Services, text: str | None, message: str, asks_broker: bool
) -> None:
    before = watchlist_symbols(services)
    edit = add_symbol(services, text)
    assert not edit.ok and edit.message.startswith(message)
    assert edit.symbols == before == services.journal.watchlist()
    assert _asset_calls(services) == (1 if asks_broker else 0)


def test_the_limit_keeps_the_scan_in_budget(sim: SimulatorHandle, tmp_path: Path) -> None:
    full = tuple(f"S{i:02d}" for i in range(MAX_WATCHLIST_SYMBOLS))
    services = build_services(settings_for(sim, tmp_path, watchlist=full), exit_monitor=False)
    try:
        edit = add_symbol(services, "AAPL")
        assert not edit.ok and edit.message.startswith(
            f"The watchlist holds its limit of {MAX_WATCHLIST_SYMBOLS} symbols"
        )
        assert services.journal.watchlist() == full and _asset_calls(services) == 0
    finally:
        services.close()


def test_remove_keeps_at_least_one_symbol(services: Services) -> None:
    edit = remove_symbol(services, "qqq")
    assert edit.ok and edit.symbols == ("SPY",) and edit.message == "Removed QQQ."
    missing = remove_symbol(services, "IWM")
    assert not missing.ok and missing.message == "IWM is not on the watchlist."
    last = remove_symbol(services, "SPY")
    assert not last.ok and last.message == "the watchlist needs at least one symbol."
    assert services.journal.watchlist() == ("SPY",)


def _asset(**kw: object) -> Asset:
    base: dict[str, object] = {
        "symbol": "X", "name": None, "asset_class": "us_equity", "exchange": "NASDAQ",
        "status": "active", "tradable": True, "attributes": None,
    }  # fmt: skip
    base.update(kw)
    return Asset(**base)  # type: ignore[arg-type]


def test_asset_problems_from_the_brokers_record() -> None:
    assert asset_problem("X", _asset()) is None
    assert asset_problem("X", None) == "The broker lists no asset X."
    assert asset_problem("X", _asset(asset_class="crypto")) == (
        "X is a crypto asset; the scanner reads US equity bars."
    )
    inactive = "X is not an active, tradable asset at the broker."
    assert asset_problem("X", _asset(status="inactive")) == inactive
    assert asset_problem("X", _asset(tradable=False)) == inactive
