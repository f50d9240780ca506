"""Live Portfolio view: cards, rows and the waterfall on hand-worked values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.models import Account, Clock, Position
from dashboard.views import portfolio as P


def _account(equity: str, last: str) -> Account:
    return Account(
        account_number="A1",
        status="ACTIVE",
        currency="USD",
        cash=Decimal("5000"),
        equity=Decimal(equity),
        last_equity=Decimal(last),
        portfolio_value=Decimal(equity),
        buying_power=Decimal("10000"),
        options_buying_power=Decimal("5000"),
    )


def _position(symbol: str, cls: str, qty: str, intraday: str, **kw: Any) -> Position:
    return Position(
        symbol=symbol,
        asset_class=cls,  # type: ignore[arg-type]
        qty=Decimal(qty),
        side="long" if Decimal(qty) > 0 else "short",
        avg_entry_price=Decimal(kw.get("avg", "10")),
        current_price=Decimal(kw.get("cur", "11")),
        lastday_price=Decimal("10"),
        market_value=Decimal(kw.get("mv", "110")),
        cost_basis=Decimal("100"),
        unrealized_pl=Decimal(kw.get("upl", "10")),
        unrealized_plpc=Decimal(kw.get("uplpc", "0.1")),
        unrealized_intraday_pl=Decimal(intraday),
    )


def test_day_pnl_is_equity_minus_last_equity() -> None:
    account = _account("101250.50", "100000")
    assert account.day_pnl == Decimal("1250.50")
    assert account.day_pnl_pct == pytest.approx(1.2505)
    loss = _account("98000", "100000")
    assert (loss.day_pnl, loss.day_pnl_pct) == (Decimal(-2000), pytest.approx(-2.0))
    new_account = _account("100", "0").day_pnl_pct
    assert new_account != new_account  # NaN, not a ZeroDivisionError


def test_metrics_cards_values_and_tones() -> None:
    ts = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    clock = Clock(ts, True, ts + timedelta(days=1), ts + timedelta(hours=6))
    positions = [
        _position("AAPL", "us_equity", "3.5", "1"),
        _position("SPY261127C00505000", "us_option", "2", "1"),
    ]
    cards = {m.key: m for m in P.portfolio_metrics(_account("98000", "100000"), positions, clock)}
    assert cards["equity"].value == "$98,000.00"
    assert cards["day-pnl"].value == "-$2,000.00"
    assert cards["day-pnl"].sub == "-2.00%"
    assert cards["day-pnl"].tone == "bear"
    assert cards["cash"].value == "$5,000.00"
    assert cards["buying-power"].value == "$10,000.00"
    assert cards["options-bp"].value == "$5,000.00"
    assert cards["positions"].value == "2"
    assert cards["positions"].sub == "1 stock · 1 option"
    assert (cards["market"].value, cards["market"].sub) == ("OPEN", "closes in 6h 00m")
    missing = {m.key: m for m in P.portfolio_metrics(None, None, None)}
    assert missing["equity"].value == "—" and missing["positions"].value == "—"


def test_waterfall_parts_add_up_to_the_account_day_pnl() -> None:
    positions = [
        _position("AAPL", "us_equity", "10", "-120.25"),
        _position("SPY261127C00505000", "us_option", "2", "310"),
    ]
    parts = P.waterfall_parts(positions, _account("100250", "100000"))
    # 250 − (−120.25 + 310) = 60.25 realised today / other.
    assert parts == [
        ("AAPL", -120.25),
        ("SPY Nov 27 '26 $505 C", 310.0),
        ("Closed today & other", 60.25),
    ]
    # One cent of broker rounding is not a bar.
    exact = P.waterfall_parts(positions, _account("100189.76", "100000"))
    assert [k for k, _ in exact] == ["AAPL", "SPY Nov 27 '26 $505 C"]


def test_position_rows_fractional_qty_and_percent() -> None:
    p = _position(
        "AAPL", "us_equity", "0.123456789", "-1", avg="200", cur="190", mv="23.46", upl="-1.23"
    )
    [row] = P.position_rows([p], trends={"AAPL": "▁█"})
    assert row["qty"] == 0.123456789
    assert row["unrealized_pct"] == pytest.approx(10.0)
    assert row["trend"] == "▁█"
    assert row["pattern"] == "" and row["progress"] is None


def test_journal_link_shows_pattern_and_progress() -> None:
    trade = SimpleNamespace(
        contract_symbol="SPY261127C00505000",
        pattern="2-1-2U",
        timeframe="1Day",
        direction="long",
        entry_level=500.0,
        target_level=510.0,
        stop_level=495.0,
    )
    p = _position("SPY261127C00505000", "us_option", "1", "0")
    [row] = P.position_rows(
        [p], trades={trade.contract_symbol: trade}, underlying_prices={"SPY": 505.0}
    )
    assert row["pattern"] == "2-1-2U 1Day"
    assert row["progress"] == 50.0  # halfway from 500 to the 510 target
    assert P.trade_progress_pct(trade, 497.5) == -50.0  # halfway to the stop


def test_trend_text_scales_to_its_range() -> None:
    assert P.trend_text([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert P.trend_text([5, 5, 5]) == "▄▄▄"
    assert P.trend_text([1.0]) == ""


def test_cancel_needs_typed_symbol_only_on_live() -> None:
    assert P.cancel_refusal(False, "AAPL", None) is None
    assert "type AAPL" in (P.cancel_refusal(True, "AAPL", "") or "")
    assert P.cancel_refusal(True, "AAPL", " aapl ") is None


def test_waterfall_view_says_why_it_is_empty() -> None:
    assert P.waterfall_view(None, []).error == "account unavailable"
    assert P.waterfall_view(_account("100", "100"), None).error == "positions unavailable"
    assert P.waterfall_view(_account("100", "100"), []).empty == "No P&L today"
    w = P.waterfall_view(_account("100250", "100000"), [_position("AAPL", "us_equity", "1", "250")])
    assert (w.total, w.title, w.parts) == (250.0, "Day P&L +0.25%", [("AAPL", 250.0)])


def test_multileg_order_is_one_row_with_its_legs_and_crypto_is_labelled() -> None:
    from dashboard.models import Order, OrderLeg

    now = datetime(2025, 6, 3, 15, 0, tzinfo=UTC)
    spread = Order(
        id="mleg-1", client_order_id="c", symbol=None, asset_class=None, side=None,
        type="limit", time_in_force="day", status="new", qty=Decimal(1),
        filled_qty=Decimal(0), limit_price=Decimal("1.05"), filled_avg_price=None,
        created_at=now, order_class="mleg",
        legs=(OrderLeg("l1", "SPY251219C00600000", "us_option", "buy", Decimal(1), "new"),
              OrderLeg("l2", "SPY251219C00610000", "us_option", "sell", Decimal(1), "new")),
    )  # fmt: skip
    (row,) = P.order_rows([spread])
    assert row["contract"] == "+1 SPY Dec 19 '25 $600 C / −1 SPY Dec 19 '25 $610 C"
    assert row["side"] == "2-leg spread" and row["symbol"] == "SPY" and row["id"] == "mleg-1"
    assert row["limit_price"] == 1.05 and [leg["side"] for leg in row["legs"]] == ["buy", "sell"]
    # The live cancel asks for the spread's underlying.
    assert P.cancel_refusal(True, row["symbol"], "spy") is None
    btc = _position("BTCUSD", "crypto", "0.5", "-5", mv="30000")
    assert P.position_rows([btc])[0]["asset_class"] == "crypto"


def test_periods_read_plainly_and_say_how_long_they_ask_for() -> None:
    """Alpaca's "1A" is shown as "1Y" (buttons and the chart title) and asks for 365 days."""
    from dashboard.models import PortfolioHistory

    assert [P.PERIOD_LABELS[p] for p in P.PERIODS] == ["1D", "1W", "1M", "3M", "1Y"]
    assert set(P.PERIOD_DAYS) == set(P.PERIODS) and P.PERIOD_DAYS["1A"] == 365
    t0 = datetime(2026, 11, 25, 5, tzinfo=UTC)
    hist = PortfolioHistory((t0,), (100_000.0,), (0.0,), (0.0,), 100_000.0, "1D")
    assert P.equity_view(hist, None, "1A").title == "Equity · 1Y"
    empty = PortfolioHistory((), (), (), (), 100_000.0, "1D")
    assert P.equity_view(empty, None, "1A").empty == "No equity history for 1Y"
