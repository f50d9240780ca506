from datetime import UTC, datetime

import pytest

from dashboard.data_loaders.parsing import to_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Alpaca's /v2/clock: microseconds and a New York offset.
        ("2026-11-24T10:19:29.944399-05:00", datetime(2026, 11, 24, 15, 19, 29, 944399, UTC)),
        # Market data: nanoseconds and Z.
        ("2026-11-24T15:19:29.123456789Z", datetime(2026, 11, 24, 15, 19, 29, 123456, UTC)),
        ("2026-11-24T10:19:29-05:00", datetime(2026, 11, 24, 15, 19, 29, tzinfo=UTC)),
        ("2026-06-01T09:30:00.5-04:00", datetime(2026, 6, 1, 13, 30, 0, 500000, UTC)),
    ],
)
def test_offsets_survive_fractional_seconds(text: str, expected: datetime) -> None:
    assert to_datetime(text) == expected


# --- tolerant list parsing ------------------------------------------------------------------

import logging  # noqa: E402
from decimal import Decimal  # noqa: E402

from dashboard.data_loaders.errors import BadResponse  # noqa: E402
from dashboard.data_loaders.parsing import (  # noqa: E402
    ReportLog,
    epoch_to_datetime,
    parse_fill,
    parse_order,
    parse_portfolio_history,
    parse_position,
    parse_records,
    parsed,
)
from dashboard.models import ParseReport, Skipped  # noqa: E402

STOCK = {
    "symbol": "SPY",
    "asset_class": "us_equity",
    "qty": "10",
    "side": "long",
    "avg_entry_price": "500",
    "cost_basis": "5000",
    "market_value": "5100",
    "current_price": "510",
}
CRYPTO = {
    "symbol": "BTCUSD",
    "asset_class": "crypto",
    "qty": "0.0167",
    "side": "long",
    "avg_entry_price": "59506.1",
    "cost_basis": "993.75187",
    "market_value": "988.423067",
    "current_price": "59187.01",
    "unrealized_intraday_pl": "-514.790552088631999405963",
}


def test_positions_list_keeps_every_usable_record_and_counts_the_rest() -> None:
    rows = [
        STOCK,
        CRYPTO,
        {**CRYPTO, "symbol": "BTC-PERP", "asset_class": "crypto_perp"},
        {**STOCK, "symbol": "T-BILL", "asset_class": "treasury"},
        {**STOCK, "symbol": "X", "asset_class": "treasury"},
        {k: v for k, v in STOCK.items() if k != "qty"},
        "not an object",
    ]
    out = parse_records(rows, parse_position, "position")
    assert [p.symbol for p in out] == ["SPY", "BTCUSD", "BTC-PERP"]
    btc = out.items[1]
    assert btc.asset_class == "crypto" and btc.qty == Decimal("0.0167")
    assert btc.market_value == Decimal("988.423067")
    assert btc.unrealized_intraday_pl == Decimal("-514.790552088631999405963")  # exact
    assert out.report.received == 7 and out.report.skipped_count == 4
    assert set(out.report.skipped) == {
        Skipped("position", "unknown asset class 'treasury'", 2),
        Skipped("position", "missing field 'qty'", 1),
        Skipped("position", "not a JSON object", 1),
    }


def test_a_reply_that_is_not_a_list_is_still_an_error() -> None:
    with pytest.raises(BadResponse, match="expected a JSON list of position records"):
        parsed(parse_records, {"message": "x"}, parse_position, "position")


def test_unknown_values_are_quoted_short() -> None:
    out = parse_records([{**STOCK, "asset_class": "z" * 100}], parse_position, "position")
    (s,) = out.report.skipped
    assert len(s.reason) < 70 and s.reason.endswith("…'")


MLEG = {
    "id": "83f37e9f",
    "client_order_id": "646b1fe6",
    "created_at": "2024-12-10T16:15:53.677230742Z",
    "asset_id": "",
    "symbol": "",
    "asset_class": "",
    "qty": "1",
    "filled_qty": "0",
    "order_class": "mleg",
    "type": "limit",
    "side": "",
    "time_in_force": "day",
    "limit_price": "1.05",
    "status": "new",
    "legs": [
        {"id": "leg-1", "symbol": "AAPL241213C00250000", "asset_class": "us_option",
         "qty": "3", "ratio_qty": "3", "side": "buy", "position_intent": "buy_to_open",
         "type": "", "order_class": "mleg", "status": "new", "time_in_force": "day"},
        {"id": "leg-2", "symbol": "AAPL241213C00260000", "asset_class": "us_option",
         "qty": "1", "ratio_qty": "1", "side": "sell", "position_intent": "sell_to_open",
         "type": "", "order_class": "mleg", "status": "new", "time_in_force": "day"},
    ],
}  # fmt: skip


def test_multileg_order_is_one_order_with_its_legs() -> None:
    o = parse_order(MLEG)
    assert o.is_multileg and o.symbol is None and o.side is None and o.asset_class is None
    assert o.qty == Decimal(1) and o.limit_price == Decimal("1.05") and o.type == "limit"
    buy, sell = o.legs
    assert (buy.symbol, buy.side, buy.ratio_qty, buy.position_intent) == (
        "AAPL241213C00250000", "buy", Decimal(3), "buy_to_open",
    )  # fmt: skip
    assert (sell.side, sell.ratio_qty, sell.asset_class) == ("sell", Decimal(1), "us_option")
    absent = {k: v for k, v in MLEG.items() if k not in ("symbol", "side", "asset_class")}
    assert parse_order(absent).legs == o.legs  # absent is read like empty


def test_only_mleg_orders_may_omit_symbol_and_side() -> None:
    simple = {**MLEG, "order_class": "simple", "legs": None}
    out = parse_records([simple, MLEG, {**MLEG, "legs": []}], parse_order, "order")
    assert [o.id for o in out] == ["83f37e9f"]
    reasons = {s.reason for s in out.report.skipped}
    assert reasons == {"unknown order side ''", "multi-leg order without legs"}


def test_short_sale_fill_is_a_sell_marked_short() -> None:
    row = {
        "id": "1::a", "activity_type": "FILL", "transaction_time": "2020-06-03T13:30:14.199812Z",
        "type": "fill", "price": "886.55", "qty": "5", "side": "sell_short", "symbol": "TSLA",
        "leaves_qty": "0", "order_id": "o", "cum_qty": "5",
    }  # fmt: skip
    f = parse_fill(row)
    assert f.side == "sell" and f.short_sale and f.qty == Decimal(5)
    assert parse_fill({**row, "side": "sell"}).short_sale is False
    out = parse_records(
        [row, {**row, "side": "cross"}, {**row, "activity_type": "DIV"}], parse_fill, "fill"
    )
    assert len(out) == 1
    assert {s.reason for s in out.report.skipped} == {
        "unknown fill side 'cross'",
        "not a fill (activity type 'DIV')",
    }


@pytest.mark.parametrize(
    ("stamps", "first"),
    [
        ([1589203800, 1589290200], datetime(2020, 5, 11, 13, 30, tzinfo=UTC)),  # seconds
        ([1580826600000, 1580827500000], datetime(2020, 2, 4, 14, 30, tzinfo=UTC)),  # ms
    ],
)
def test_portfolio_history_reads_seconds_or_milliseconds(
    stamps: list[int], first: datetime
) -> None:
    h = parse_portfolio_history(
        {"timestamp": stamps, "equity": [1.0, 2.0], "profit_loss": [0, 1],
         "profit_loss_pct": [0, 0.5], "base_value": 1, "timeframe": "15Min"}
    )  # fmt: skip
    assert h.timestamps[0] == first
    assert (h.timestamps[1] - h.timestamps[0]).total_seconds() in (86400, 900)


def test_epoch_threshold_and_bad_values() -> None:
    assert epoch_to_datetime(99_999_999_999) == datetime.fromtimestamp(99_999_999_999, UTC)
    assert epoch_to_datetime(100_000_000_000) == datetime.fromtimestamp(100_000_000, UTC)
    for bad in (True, None, float("nan")):
        with pytest.raises((TypeError, ValueError)):
            epoch_to_datetime(bad)


def test_reports_add_by_kind_and_reason() -> None:
    a = ParseReport(2, (Skipped("position", "x", 1),))
    b = ParseReport(3, (Skipped("position", "x", 2), Skipped("position", "y", 1)))
    total = a + b
    assert total.received == 5 and total.skipped_count == 4
    assert set(total.skipped) == {Skipped("position", "x", 3), Skipped("position", "y", 1)}


def test_each_reason_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    log = ReportLog("alpaca")
    report = ParseReport(1, (Skipped("position", "unknown asset class 'x'", 1),))
    with caplog.at_level(logging.WARNING):
        log.note(report)
        log.note(report)
        log.note(ParseReport(1, (Skipped("order", "unknown order side 'y'", 1),)))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "unknown asset class 'x'" in lines[0] and "order" in lines[1]


def test_bracket_children_nested_under_legs_keep_their_own_qty() -> None:
    parent = {**MLEG, "symbol": "SPY", "side": "buy", "asset_class": "us_equity",
              "order_class": "bracket", "qty": "10",
              "legs": [{"id": "tp", "symbol": "SPY", "side": "sell", "qty": "10",
                        "status": "held", "type": "limit"},
                       {"id": "sl", "symbol": "SPY", "side": "sell", "qty": None,
                        "status": "held", "type": "stop"}]}  # fmt: skip
    o = parse_order(parent)
    assert not o.is_multileg and o.symbol == "SPY" and o.side == "buy"
    tp, sl = o.legs
    assert (tp.ratio_qty, tp.asset_class, tp.status) == (Decimal(10), "us_equity", "held")
    assert sl.ratio_qty == Decimal(0)
