from decimal import Decimal

from dashboard.models import OptionContract, OptionQuote
from dashboard.strat.signals import Level, Pattern


def test_option_quote_mid_and_spread() -> None:
    c = OptionContract(
        "SPY251219C00600000", "SPY", __import__("datetime").date(2025, 12, 19), "C", Decimal("600")
    )
    q = OptionQuote(c, 1.10, 1.30, None, None, None, None, None, None, None, None, None)
    assert q.mid == __import__("pytest").approx(1.20)
    assert round(q.spread, 2) == 0.20


def test_pattern_reward_risk() -> None:
    p = Pattern(
        name="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction="long",
        bar_indices=(0, 1, 2),
        entry=Level(101.0, "setup high + 1 tick"),
        stop=Level(99.0, "setup low"),
        targets=(Level(105.0, "C2 high"),),
    )
    assert p.risk == 2.0
    assert p.reward_risk == 2.0
