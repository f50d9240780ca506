"""The ticket against the current price (hand-worked, long and short), and the
duplicate-signal guard."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.trading.ticket.guards import (
    EntryLimits,
    PriceCheck,
    active_for_signal,
    check_against_price,
)

# Long: entry 201, stop 198, T1 205 → risk 3, reward 4, setup R:R 4/3.
# Short: entry 99, stop 101, T1 95 → risk 2, reward 4, setup R:R 2.


def long_at(price: float, triggered: bool = True, **kw: Any) -> PriceCheck:
    return check_against_price(
        "long", price=price, entry=201.0, stop=198.0, target=205.0, scan_triggered=triggered, **kw
    )


def short_at(price: float, triggered: bool = True) -> PriceCheck:
    return check_against_price(
        "short", price=price, entry=99.0, stop=101.0, target=95.0, scan_triggered=triggered
    )


def test_long_late_entry_warns_with_its_share_of_the_way_to_the_stop() -> None:
    c = long_at(199.20)  # (201 − 199.2) / 3 = 60 % of the way to the stop
    assert c.refusal is None and c.triggered
    assert c.to_stop == pytest.approx(0.60)
    assert c.to_target == pytest.approx(-0.45)  # (199.2 − 201) / 4
    assert c.remaining_rr == pytest.approx(5.8 / 1.2)  # (205 − 199.2) / (199.2 − 198)
    assert c.setup_rr == pytest.approx(4 / 3)
    assert c.warnings == (
        "Late entry: price 199.20 is 60% of the way from the entry 201.00 to the stop "
        "198.00 (warns above 50%).",
    )
    assert not long_at(199.20, limits=EntryLimits(late_share=0.65)).warnings


def test_long_poor_reward_risk_from_here_warns() -> None:
    c = long_at(204.00)  # (205 − 204) / (204 − 198) = 1/6
    assert c.refusal is None and c.to_stop == 0.0 and c.to_target == pytest.approx(0.75)
    assert c.remaining_rr == pytest.approx(1 / 6)
    assert c.warnings == (
        "Reward:risk from the current price 204.00 is 0.17 (T1 205.00, stop 198.00), below "
        "the 1.00 floor.",
    )


@pytest.mark.parametrize(("price", "what"), [(197.90, "stop"), (198.00, "stop"), (205.0, "T1")])
def test_long_refused_when_the_stop_traded_or_t1_reached(price: float, what: str) -> None:
    c = long_at(price)
    assert c.refusal is not None and c.refusal.startswith("Refused")
    assert (
        "stop has already traded" in c.refusal
        if what == "stop"
        else "already reached T1 205.00" in c.refusal
    )
    assert c.warnings == ()


def test_pending_long_is_pending_until_price_trades_the_trigger() -> None:
    c = long_at(200.00, triggered=False)
    assert c.pending and c.refusal is None
    assert c.to_stop == pytest.approx(1 / 3) and c.remaining_rr == pytest.approx(2.5)
    assert c.warnings == ()  # a pending setup is not a late entry
    assert not long_at(201.50, triggered=False).pending  # traded through since the scan
    # The AMZN case: pending, and the spot is already below the stop.
    assert "stop has already traded" in (long_at(197.0, triggered=False).refusal or "")


def test_short_mirrors_the_long() -> None:
    late = short_at(100.40)  # (100.4 − 99) / 2 = 70 % of the way to the stop
    assert late.to_stop == pytest.approx(0.70)
    assert late.remaining_rr == pytest.approx(5.4 / 0.6)  # (100.4 − 95) / (101 − 100.4)
    assert late.warnings and late.warnings[0].startswith("Late entry: price 100.40 is 70%")
    near = short_at(95.80)
    assert near.to_target == pytest.approx(0.8)  # (99 − 95.8) / 4
    assert near.remaining_rr == pytest.approx(0.8 / 5.2)
    assert "below the 1.00 floor" in near.warnings[0]
    assert "stop has already traded" in (short_at(101.20).refusal or "")
    assert "already reached T1 95.00" in (short_at(94.90).refusal or "")
    assert short_at(99.50, triggered=False).pending
    assert not short_at(98.90, triggered=False).pending


def test_active_for_signal_finds_working_and_open_trades_only() -> None:
    base = SimpleNamespace(signal_id="sig-1", is_active=True)
    trades = [
        base,
        SimpleNamespace(signal_id="sig-1", is_active=False),  # closed
        SimpleNamespace(signal_id="sig-2", is_active=True),
    ]
    assert active_for_signal(trades, "sig-1") == [base]  # type: ignore[arg-type]
    assert active_for_signal(trades, None) == []  # type: ignore[arg-type]
