"""Option premium ticks: the Penny Interval Program's grids, the shipped list and rounding."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dashboard.trading.ticket.ticks import (
    option_tick,
    parse_tick_table,
    round_to_tick,
    shipped_tick_table,
    tick_table_for,
)

# ---- ticks: the Penny Interval Program, from the shipped list -----------------------------------
# Hand-worked from the program's rules (apis.md "Option ticks"): SPY/QQQ/IWM $0.01 at every
# price; program classes (AAPL, MSFT, NVDA, TSLA, AMZN, ...) $0.01 below $3.00 and $0.05 from
# $3.00; classes outside the program (ROKU here) $0.05 below $3.00 and $0.10 from $3.00.


@pytest.mark.parametrize(
    ("symbol", "price", "tick"),
    [
        ("SPY", "2.95", "0.01"),
        ("SPY", "12.37", "0.01"),
        ("QQQ", "7.31", "0.01"),
        ("iwm", "0.01", "0.01"),
        ("AAPL", "0.07", "0.01"),
        ("AAPL", "2.99", "0.01"),
        ("AAPL", "3.00", "0.05"),
        ("AAPL", "12.30", "0.05"),
        ("MSFT", "2.51", "0.01"),
        ("NVDA", "4.10", "0.05"),
        ("TSLA", "1.23", "0.01"),
        ("amzn", "3.00", "0.05"),
        ("ROKU", "2.95", "0.05"),
        ("ROKU", "3.00", "0.10"),
        ("ROKU", "12.30", "0.10"),
    ],
)
def test_option_tick(symbol: str, price: str, tick: str) -> None:
    assert option_tick(symbol, Decimal(price)) == Decimal(tick)


def test_shipped_list_has_its_date_source_and_the_issue_names() -> None:
    table = shipped_tick_table()
    assert table.penny_all_prices == {"SPY", "QQQ", "IWM"}
    assert {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN"} <= table.program
    assert not table.penny_all_prices & table.program
    assert table.effective == date(2026, 7, 1)
    assert "Penny Interval Program" in table.source
    assert table.caption == "Penny Interval Program list effective 2026-07-01"


def test_a_setting_adds_program_classes_and_a_file_replaces_the_list(tmp_path: Path) -> None:
    added = tick_table_for(None, ("roku",))
    assert added.added == {"ROKU"} and "+ 1 added" in added.caption
    assert option_tick("ROKU", Decimal("2.51"), added) == Decimal("0.01")
    assert option_tick("ROKU", Decimal("2.51")) == Decimal("0.05")  # the shipped list
    custom = tmp_path / "pip.json"
    custom.write_text(
        json.dumps(
            {
                "effective": "2027-01-04",
                "source": "test list",
                "penny_all_prices": ["SPY"],
                "program_classes": ["ROKU"],
            }
        )
    )
    table = tick_table_for(custom)
    assert table.effective == date(2027, 1, 4)
    assert option_tick("QQQ", Decimal("3.01"), table) == Decimal("0.10")  # not listed there
    assert option_tick("ROKU", Decimal("2.51"), table) == Decimal("0.01")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": "x", "penny_all_prices": [], "program_classes": []}, "'effective'"),
        ({"effective": "2026-07-01", "penny_all_prices": [], "program_classes": []}, "'source'"),
        ({"effective": "2026-07-01", "source": "x", "program_classes": []}, "'penny_all_prices'"),
        (
            {
                "effective": "2026-07-01",
                "source": "x",
                "penny_all_prices": ["SP Y"],
                "program_classes": [],
            },
            "not a ticker",
        ),
    ],
)
def test_a_bad_list_is_refused_with_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_tick_table(data)


@pytest.mark.parametrize(
    ("symbol", "price", "down", "out"),
    [
        ("AAPL", "2.537", True, "2.53"),
        ("AAPL", "2.531", False, "2.54"),
        ("AAPL", "2.53", False, "2.53"),  # on the grid: unchanged
        ("AAPL", "3.04", True, "3.00"),
        ("AAPL", "3.01", False, "3.05"),
        ("AAPL", "2.995", False, "3.00"),
        ("ROKU", "2.53", True, "2.50"),
        ("ROKU", "2.53", False, "2.55"),
        ("ROKU", "3.04", True, "3.00"),
        ("ROKU", "2.98", False, "3.00"),
        ("ROKU", "3.01", False, "3.10"),
        ("SPY", "3.011", False, "3.02"),
    ],
)
def test_round_to_tick(symbol: str, price: str, down: bool, out: str) -> None:
    assert round_to_tick(symbol, Decimal(price), down=down) == Decimal(out)
