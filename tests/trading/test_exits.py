"""The software OCO's decisions: target, stop, expiry, DTE floor, premium loss, hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard.trading.exits import ExitConfig, evaluate_exits, exit_limit_price
from dashboard.trading.journal import Journal, JournalTrade, TradeStatus

from ._fixtures import NOW, quote, ticket
from ._fixtures import order as make_order


@pytest.fixture
def open_long(tmp_path: Path) -> JournalTrade:
    j = Journal(f"sqlite:///{tmp_path / 'x.sqlite'}")
    t, _ = j.create_intent(ticket(), request_key="x", now=NOW)
    t = j.record_entry_order(
        t.id, make_order(t.entry_client_order_id, status="filled", filled_qty="2", price="2.50")
    )
    j.close()
    return t


def short(t: JournalTrade) -> JournalTrade:
    return replace(t, direction="short", entry_level=199.0, target_level=195.0, stop_level=201.5)


Q = quote("AAPL", "C", "200", 3.43, 3.60)


def test_hold_between_levels(open_long: JournalTrade) -> None:
    assert evaluate_exits([open_long], {"AAPL": 203.0}, {}, NOW) == []


@pytest.mark.parametrize(
    ("price", "reason"), [(205.0, "target"), (206.3, "target"), (198.5, "stop"), (190.0, "stop")]
)
def test_long_target_and_stop(open_long: JournalTrade, price: float, reason: str) -> None:
    (d,) = evaluate_exits([open_long], {"AAPL": price}, {Q.contract.symbol: Q}, NOW)
    assert d.reason == reason and d.trade_id == open_long.id and d.underlying_price == price
    assert d.limit_price == Decimal("3.40")  # bid 3.43 rounded down to the $0.10 tick


@pytest.mark.parametrize(
    ("price", "reason"), [(195.0, "target"), (194.0, "target"), (201.5, "stop"), (202.0, "stop")]
)
def test_short_target_and_stop(open_long: JournalTrade, price: float, reason: str) -> None:
    (d,) = evaluate_exits([short(open_long)], {"AAPL": price}, {}, NOW)
    assert d.reason == reason and d.limit_price is None  # no quote: market


def test_short_holds_between(open_long: JournalTrade) -> None:
    assert evaluate_exits([short(open_long)], {"AAPL": 197.0}, {}, NOW) == []


def test_only_open_trades_are_considered(open_long: JournalTrade) -> None:
    for status in (TradeStatus.EXITING, TradeStatus.PENDING_ENTRY, TradeStatus.CLOSED):
        assert evaluate_exits([replace(open_long, status=status)], {"AAPL": 300.0}, {}, NOW) == []


def test_expiry_day_cutoff(open_long: JournalTrade) -> None:
    before = datetime(2025, 12, 19, 20, 29, tzinfo=UTC)  # 15:29 ET
    after = datetime(2025, 12, 19, 20, 30, tzinfo=UTC)  # 15:30 ET
    assert evaluate_exits([open_long], {"AAPL": 203.0}, {}, before) == []
    (d,) = evaluate_exits([open_long], {"AAPL": 203.0}, {}, after)
    assert d.reason == "expiry"


def test_dte_floor_per_trade_and_default(open_long: JournalTrade) -> None:
    monday = datetime(2025, 12, 15, 15, 0, tzinfo=UTC)  # 4 DTE
    assert evaluate_exits([open_long], {"AAPL": 203.0}, {}, monday) == []
    (d,) = evaluate_exits([replace(open_long, dte_floor=5)], {"AAPL": 203.0}, {}, monday)
    assert d.reason == "dte_floor" and "4 DTE" in d.detail
    (d,) = evaluate_exits([open_long], {"AAPL": 203.0}, {}, monday, ExitConfig(default_dte_floor=4))
    assert d.reason == "dte_floor"


def test_max_premium_loss(open_long: JournalTrade) -> None:
    t = replace(open_long, max_loss_pct=50.0)
    half = quote("AAPL", "C", "200", 1.25, 1.35)
    worse = quote("AAPL", "C", "200", 1.20, 1.30)
    better = quote("AAPL", "C", "200", 1.30, 1.40)
    assert evaluate_exits([t], {"AAPL": 203.0}, {better.contract.symbol: better}, NOW) == []
    (d,) = evaluate_exits([t], {"AAPL": 203.0}, {half.contract.symbol: half}, NOW)
    assert d.reason == "max_loss" and "50% below entry 2.50" in d.detail
    assert evaluate_exits([t], {"AAPL": 203.0}, {worse.contract.symbol: worse}, NOW)[
        0
    ].limit_price == Decimal("1.20")


def test_failed_exit_is_retried_whatever_the_price(open_long: JournalTrade) -> None:
    t = replace(open_long, exit_reason="stop", exit_attempts=1)
    (d,) = evaluate_exits([t], {"AAPL": 203.0}, {}, NOW)
    assert d.reason == "stop" and "retrying" in d.detail
    assert evaluate_exits([replace(t, exit_attempts=5)], {"AAPL": 190.0}, {}, NOW) == []


def test_no_price_no_level_exit(open_long: JournalTrade) -> None:
    assert evaluate_exits([open_long], {}, {}, NOW) == []


def test_exit_limit_price_penny_and_no_bid() -> None:
    spy = quote("SPY", "C", "600", 3.43, 3.50)
    assert exit_limit_price("SPY", spy) == Decimal("3.43")
    # AAPL is a Penny Interval Program class: $0.01 below $3, so a 0.03 bid is a price.
    assert exit_limit_price("AAPL", quote("AAPL", "C", "200", 0.03, 0.10)) == Decimal("0.03")
    # Outside the program the nickel grid rounds a 0.03 bid down to nothing: market.
    assert exit_limit_price("ROKU", quote("ROKU", "C", "200", 0.03, 0.10)) is None
    assert exit_limit_price("AAPL", None) is None


def test_exit_limits_use_the_penny_list_in_force(open_long: JournalTrade) -> None:
    """DASHBOARD_PENNY_SYMBOLS reaches the exit monitor: ROKU added to the program sells a
    3.47 bid at 3.45 (the $0.05 grid from $3), not at 3.40 (the $0.10 grid outside it)."""
    from dashboard.trading.ticket import tick_table_for

    roku = quote("ROKU", "C", "200", 3.47, 3.60)
    assert exit_limit_price("ROKU", roku) == Decimal("3.40")
    added = tick_table_for(None, ("ROKU",))
    assert exit_limit_price("ROKU", roku, added) == Decimal("3.45")
    # The monitor's config carries the table into its decisions.
    t = replace(open_long, underlying="ROKU", contract_symbol=roku.contract.symbol)
    prices = {"ROKU": t.stop_level - 1}
    for ticks, limit in ((None, "3.40"), (added, "3.45")):
        (d,) = evaluate_exits([t], prices, {t.contract_symbol: roku}, NOW, ExitConfig(ticks=ticks))
        assert d.limit_price == Decimal(limit)
