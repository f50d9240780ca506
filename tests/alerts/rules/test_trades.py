"""Trade rules with hand-made inputs: a scripted trade path (long and short) gives each
trade event exactly once; near-stop thresholds; refusals, partials and expiry; keys that do
not depend on when the facts were seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from dashboard.alerts.kinds import AlertKind, parse_rules_off
from dashboard.alerts.records import (
    SignalSubscriptions,
)
from dashboard.alerts.rules.config import AlertConfig
from dashboard.alerts.rules.trades import (
    armed_entry_sent_event,
    near_stop_fraction,
    trade_events,
)
from dashboard.trading.records import TradeStatus
from tests.alerts._fixtures import (
    EXPIRY,
    NOW,
    Store,
    by_kind,
    closed,
    exiting,
    filled,
    journal_trade,
)

CONFIG = AlertConfig()
ALL_TFS = SignalSubscriptions(frozenset({"1Month", "1Week", "1Day", "1Hour"}))


# ---- trades: a scripted path, long and short --------------------------------------------------


def _path(direction: str) -> list[tuple[object, float | None]]:
    """(trade state, underlying price) pass by pass: journaled, 1 of 2 filled, filled, price
    drifts toward the stop (inside the 25% band), recovers to T1, the exit goes out and
    fills. Every state is seen on at least two passes, as a monitor would see it."""
    sign = 1 if direction == "long" else -1
    t0 = journal_trade(direction)
    t1 = filled(t0, qty=1)
    t2 = filled(t0)
    t3 = exiting(t2, "target", 600 + sign * 8.2)
    t4 = closed(t3, "9.40")
    p = lambda d: 600 + sign * d  # noqa: E731 - a price d points in the trade's favour
    return [
        (t0, p(-0.5)),
        (t0, p(-0.5)),
        (t1, p(-0.5)),
        (t1, p(-0.5)),
        (t2, p(-1.0)),  # 75% of the distance left: nothing
        (t2, p(-2.9)),  # 27.5% left: still nothing
        (t2, p(-3.0)),  # 25% left: near the stop
        (t2, p(-3.5)),  # deeper: no second alert
        (t2, p(2.0)),
        (t2, p(8.1)),  # T1 (608 / 592) reached
        (t3, p(8.2)),
        (t3, p(8.2)),
        (t4, None),
        (t4, None),
    ]


@pytest.mark.parametrize("direction", ["long", "short"])
def test_a_scripted_trade_path_raises_each_trade_event_exactly_once(direction: str) -> None:
    store = Store()
    seen_at: dict[str, int] = {}
    for i, (trade, price) in enumerate(_path(direction)):
        prices = {"SPY": price} if price is not None else {}
        for e in store.add(trade_events([trade], prices, NOW, CONFIG)):  # type: ignore[list-item]
            seen_at[e.key] = i
    kinds = store.kinds()
    assert kinds == {
        "trade.partial_fill": ["trade:7:entry_partial:1"],
        "trade.entry_filled": ["trade:7:entry_filled"],
        "trade.near_stop": ["trade:7:near_stop"],
        "trade.t1_reached": ["trade:7:t1"],
        "trade.exit_sent": ["trade:7:exit:1:sent"],
        "trade.exit_filled": ["trade:7:exit_filled"],
    }
    # Each fires on the pass where its fact first shows, not before.
    assert seen_at == {
        "trade:7:entry_partial:1": 2,
        "trade:7:entry_filled": 4,
        "trade:7:near_stop": 6,
        "trade:7:t1": 9,
        "trade:7:exit:1:sent": 10,
        "trade:7:exit_filled": 12,
    }
    done = store.kept["trade:7:exit_filled"]
    assert done.values["pnl"] == pytest.approx(880.0)  # (9.40 − 5.00) × 100 × 2
    assert "+$880.00" in done.title and "target hit" in done.message
    assert done.at == NOW + timedelta(hours=1)  # the broker's fill time, not the pass's
    near = store.kept["trade:7:near_stop"]
    assert near.values["left_pct"] == pytest.approx(25.0)
    assert near.symbol == "SPY" and near.trade_id == 7 and near.signal_id == "sig-7"


@pytest.mark.parametrize(
    ("direction", "price", "left", "fires"),
    [
        ("long", 597.01, 0.2525, False),
        ("long", 597.00, 0.25, True),
        ("long", 596.00, 0.0, True),  # at the stop
        ("long", 595.00, -0.25, True),  # through it (the exit follows)
        ("short", 602.99, 0.2525, False),
        ("short", 603.00, 0.25, True),
        ("short", 605.00, -0.25, True),
    ],
)
def test_near_stop_threshold_is_a_share_of_the_entry_to_stop_distance(
    direction: str, price: float, left: float, fires: bool
) -> None:
    t = filled(journal_trade(direction))
    assert near_stop_fraction(direction, 600.0, t.stop_level, price) == pytest.approx(left)
    events = trade_events([t], {"SPY": price}, NOW, CONFIG)
    assert [e.kind for e in events if e.kind is AlertKind.NEAR_STOP] == (
        [AlertKind.NEAR_STOP] if fires else []
    )


def test_near_stop_threshold_follows_the_setting_and_ignores_a_stop_on_the_wrong_side() -> None:
    t = filled(journal_trade("long"))
    tight = AlertConfig(near_stop_pct=10.0)

    def near(price: float) -> list[str]:
        return [
            e.key
            for e in trade_events([t], {"SPY": price}, NOW, tight)
            if e.kind is AlertKind.NEAR_STOP
        ]

    assert near(596.5) == []  # 12.5% left
    assert near(596.4) == ["trade:7:near_stop"]
    assert near_stop_fraction("long", 600.0, 604.0, 603.0) is None
    assert near_stop_fraction("long", 600.0, 600.0, 599.0) is None


def test_price_rules_need_a_price_and_an_open_position() -> None:
    t = filled(journal_trade("long"))
    assert not [e for e in trade_events([t], {}, NOW, CONFIG) if e.kind is AlertKind.NEAR_STOP]
    pending = journal_trade("long")
    assert trade_events([pending], {"SPY": 590.0}, NOW, CONFIG) == []


def test_rejected_expired_and_exit_refusals() -> None:
    rejected = replace(
        journal_trade(),
        status=TradeStatus.REJECTED,
        entry_order_status="rejected",
        status_message="insufficient buying power",
    )
    (e,) = trade_events([rejected], {}, NOW, CONFIG)
    assert e.kind is AlertKind.ORDER_REJECTED and e.key == "trade:7:entry_rejected"
    assert "insufficient buying power" in e.message and e.severity == "warning"

    expired = replace(
        journal_trade(),
        status=TradeStatus.CANCELED,
        entry_order_status="expired",
        status_message="entry order expired",
    )
    (e,) = trade_events([expired], {}, NOW, CONFIG)
    assert e.kind is AlertKind.ORDER_EXPIRED and "expired" in e.title

    # A DAY entry that expired after one of two contracts filled: open, with both alerts.
    part = replace(filled(journal_trade(), qty=1), status=TradeStatus.OPEN)
    part = replace(part, entry_order_status="expired")
    kinds = by_kind(trade_events([part], {}, NOW, CONFIG))
    assert kinds == {
        "trade.partial_fill": ["trade:7:entry_partial:1"],
        "trade.order_expired": ["trade:7:entry_ended"],
    }

    # Exit attempt 1 rejected (back to open), attempt 2 expired unfilled: one each.
    t = filled(journal_trade())
    first = replace(
        exiting(t, "stop", 595.9),
        status=TradeStatus.OPEN,
        exit_order_id=None,
        exit_order_status="rejected",
        status_message="exit rejected: market closed",
    )
    second = replace(
        exiting(t, "stop", 595.5, attempt=2), status=TradeStatus.OPEN, exit_order_status="expired"
    )
    store = Store()
    store.add(trade_events([first], {}, NOW, CONFIG))
    store.add(trade_events([second], {}, NOW, CONFIG))
    assert store.kinds() == {
        "trade.entry_filled": ["trade:7:entry_filled"],
        "trade.order_rejected": ["trade:7:exit:1:rejected"],
        "trade.exit_sent": ["trade:7:exit:2:sent"],
        "trade.order_expired": ["trade:7:exit:2:ended"],
    }
    assert store.kept["trade:7:exit:1:rejected"].severity == "critical"


def test_a_repricing_cancel_is_not_an_alert_and_a_partial_exit_is() -> None:
    t = filled(journal_trade())
    canceled = replace(exiting(t, "target", 608.1), exit_order_status="canceled")
    assert by_kind(trade_events([canceled], {}, NOW, CONFIG)).keys() == {
        "trade.entry_filled",
        "trade.exit_sent",
        "trade.t1_reached",
    }
    half = replace(
        exiting(t, "target", 608.1),
        status=TradeStatus.OPEN,
        exit_order_status="filled",
        closed_qty=1,
        exit_price=t.entry_fill_price,
    )
    kinds = by_kind(trade_events([half], {}, NOW, CONFIG))
    assert kinds["trade.partial_fill"] == ["trade:7:exit_partial:1"]


def test_t1_from_the_exit_when_the_price_was_never_seen() -> None:
    t = closed(exiting(filled(journal_trade("short")), "target", 591.8), "8.00")
    (t1,) = [e for e in trade_events([t], {}, NOW, CONFIG) if e.kind is AlertKind.T1_REACHED]
    assert t1.values["price"] == 591.8 and "592.00" in t1.message


def test_a_stop_exit_is_not_t1_and_a_loss_shows_signed() -> None:
    t = closed(exiting(filled(journal_trade()), "stop", 595.9), "2.10")
    kinds = by_kind(trade_events([t], {}, NOW, CONFIG))
    assert "trade.t1_reached" not in kinds
    done = next(e for e in trade_events([t], {}, NOW, CONFIG) if e.kind is AlertKind.EXIT_FILLED)
    assert done.values["pnl"] == pytest.approx(-580.0) and "-$580.00" in done.title
    assert "stop hit" in done.message and done.values["pnl_pct"] == pytest.approx(-58.0)


def test_near_expiry_counts_new_york_calendar_days_on_the_broker_clock() -> None:
    t = filled(journal_trade())
    two_days = NOW.replace(day=17)  # Wed Dec 17 → Fri Dec 19
    three_days = NOW.replace(day=16)
    assert not [
        e for e in trade_events([t], {}, three_days, CONFIG) if e.kind is AlertKind.NEAR_EXPIRY
    ]
    (e,) = [e for e in trade_events([t], {}, two_days, CONFIG) if e.kind is AlertKind.NEAR_EXPIRY]
    assert e.values["days_to_expiry"] == 2 and "in 2 day(s)" in e.title
    late_evening_utc = NOW.replace(day=19, hour=3)  # still Thu Dec 18 in New York
    (e,) = [
        e
        for e in trade_events([t], {}, late_evening_utc, CONFIG)
        if e.kind is AlertKind.NEAR_EXPIRY
    ]
    assert e.values["days_to_expiry"] == 1
    assert t.expiry == EXPIRY


def test_turned_off_rules_raise_nothing() -> None:
    t = filled(journal_trade())
    off = AlertConfig(
        off=parse_rules_off(["trade.near_stop", "trade.entry_filled", "trade.near_expiry"])
    )
    assert trade_events([t], {"SPY": 596.5}, NOW.replace(day=18), off) == []
    everything_off = AlertConfig(off=parse_rules_off(["trade"]))
    assert trade_events([closed(exiting(t, "stop", 595), "1")], {}, NOW, everything_off) == []


def test_armed_entry_sent_event_for_the_trade_monitor() -> None:
    e = armed_entry_sent_event(
        armed_id=3,
        symbol="AAPL",
        contract_symbol="AAPL251219C00200000",
        direction="long",
        trigger=201.0,
        underlying_price=201.02,
        qty=2,
        limit=2.5,
        at=NOW,
        signal_id="sig-1",
        timeframe="1Day",
    )
    assert e.key == "armed:3:sent" and e.kind is AlertKind.ARMED_ENTRY_SENT
    assert "AAPL Dec 19 '25 $200 C" in e.title and "201.00" in e.message


def test_keys_do_not_depend_on_when_the_facts_were_seen() -> None:
    t = filled(journal_trade())
    a = trade_events([t], {"SPY": 596.5}, NOW, CONFIG)
    b = trade_events([t], {"SPY": 596.2}, NOW + timedelta(minutes=3), CONFIG)
    assert [e.key for e in a] == [e.key for e in b]
