"""Option P&L: ×100 multiplier, fees, FIFO realised P&L, and no double-counted premium."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.models import Fill
from dashboard.options.pnl import fifo_pnl, pnl_percent, unrealized_pnl

D = Decimal


@dataclass(frozen=True)
class F:
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)


def test_premium_is_not_double_counted() -> None:
    # Bought 3 contracts at $2.50, now $3.10: +$0.60 × 100 × 3 = $180, minus $1.95 fees.
    pnl = unrealized_pnl("2.50", "3.10", 3, fees="1.95")
    assert pnl == D("178.05")
    # The ATLAS bug would subtract the $750 premium from the change in value again.
    double_counted = (D("3.10") - D("2.50")) * 100 * 3 - D("2.50") * 100 * 3
    assert pnl != double_counted - D("1.95")
    # Worthless at expiry: the whole premium, once.
    assert unrealized_pnl("2.50", 0, 3) == D("-750")


def test_short_position_sign_and_percent() -> None:
    assert unrealized_pnl(D("4.00"), D("3.00"), -2) == D("200")
    assert pnl_percent(D("180"), D("2.50"), 3) == D("0.24")
    assert pnl_percent(D("1"), D("0"), 3) is None


def test_fifo_long_partial_closes_and_flip() -> None:
    fills = [
        F("buy", D(2), D("1.00")),
        F("buy", D(1), D("2.00")),
        F("sell", D(2), D("1.50")),  # closes the two $1.00 contracts first
    ]
    r = fifo_pnl(fills)
    assert r.realized == D("100")
    assert r.position == D(1) and r.avg_open_price == D("2.00")
    assert r.unrealized(D("1.80")) == D("-20")
    # Sell 2 more: close the $2.00 lot (+$50), then open a short at $2.50.
    r = fifo_pnl([*fills, F("sell", D(2), D("2.50"))])
    assert r.realized == D("150")
    assert r.position == D(-1)
    assert r.open_lots[0].qty == D(-1) and r.open_lots[0].price == D("2.50")
    # Buy to close the short at $1.00: +$150.
    r = fifo_pnl([*fills, F("sell", D(2), D("2.50")), F("buy", D(1), D("1.00"))])
    assert r.realized == D("300") and r.position == 0 and r.open_lots == ()
    assert [c.pnl for c in r.closed] == [D("100"), D("50"), D("150")]


def test_fifo_fees_follow_the_contracts() -> None:
    fills = [
        F("buy", D(4), D("1.00"), fee=D("2.60")),  # $0.65 per contract
        F("sell", D(1), D("1.40"), fee=D("0.65")),
    ]
    r = fifo_pnl(fills)
    assert r.realized == D("40") - D("0.65") - D("0.65")
    assert r.fees == D("3.25")
    assert r.open_lots[0].fee_per_contract == D("0.65")
    # Open 3 contracts still carry $1.95 of opening fees.
    assert r.unrealized(D("1.00")) == D("-1.95")


def test_fifo_accepts_model_fills() -> None:
    t = datetime(2025, 11, 25, 15, tzinfo=UTC)
    fills = [
        Fill("1", "o1", "SPY251219C00600000", "buy", D(1), D("12.30"), t),
        Fill("2", "o2", "SPY251219C00600000", "sell", D(1), D("15.05"), t),
    ]
    r = fifo_pnl(fills)
    assert r.realized == D("275")
    assert r.closed[0].open_time == t and r.closed[0].close_time == t


def test_fifo_rejects_bad_fills() -> None:
    with pytest.raises(ValueError, match="positive"):
        fifo_pnl([F("buy", D(0), D(1))])
    with pytest.raises(ValueError, match="side"):
        fifo_pnl([F("hold", D(1), D(1))])


fill_st = st.builds(
    F,
    side=st.sampled_from(["buy", "sell"]),
    qty=st.integers(1, 5).map(D),
    price=st.integers(1, 2000).map(lambda c: D(c) / 100),
    fee=st.integers(0, 300).map(lambda c: D(c) / 100),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(fill_st, min_size=1, max_size=12), st.integers(0, 3000).map(lambda c: D(c) / 100))
def test_realized_plus_unrealized_equals_cash_flows(fills: list[F], mark: Decimal) -> None:
    """However fills are matched, total P&L is cash in − cash out + open value − fees."""
    r = fifo_pnl(fills)
    cash = sum(((-1 if f.side == "buy" else 1) * f.qty * f.price * 100 for f in fills), D(0))
    fees = sum((f.fee for f in fills), D(0))
    total = cash + r.position * mark * 100 - fees
    assert r.realized + r.unrealized(mark) == pytest.approx(total, abs=D("1e-9"))
    net = sum(((1 if f.side == "buy" else -1) * f.qty for f in fills), D(0))
    assert r.position == net
