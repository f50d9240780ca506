"""Contract selection on hand-made chains: side, DTE window, delta band, liquidity, expiry day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from dashboard.models import OptionChain
from dashboard.options.expiry import days_to_expiry, is_expired, years_to_expiry
from dashboard.options.selection import (
    ContractChoice,
    NoContract,
    SelectionConfig,
    normalize_timeframe,
    select_contract,
    select_for_pattern,
)
from dashboard.strat.signals import Level, Pattern
from tests.options._chains import make_chain, make_quote

NOW = datetime(2025, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 New York
SPOT = 600.0
EXPIRIES = [
    date(2025, 11, 25),  # 0 DTE
    date(2025, 12, 5),  # 10
    date(2025, 12, 12),  # 17
    date(2025, 12, 19),  # 24
    date(2026, 1, 16),  # 52
    date(2026, 3, 20),  # 115
]
STRIKES = [float(k) for k in range(560, 641, 5)]


@pytest.fixture(scope="module")
def chain() -> OptionChain:
    return make_chain(EXPIRIES, STRIKES, spot=SPOT, now=NOW)


def _band_ok(choice: ContractChoice, lo: float = 0.5, hi: float = 0.7) -> None:
    assert lo <= abs(choice.delta) <= hi


def test_long_daily_picks_call_in_window_nearest_target_delta(chain: OptionChain) -> None:
    choice = select_contract(chain, "long", "1Day", NOW)
    assert isinstance(choice, ContractChoice)
    assert choice.right == "C" and choice.quote.contract.right == "C"
    assert 14 <= choice.dte <= 45
    # Window middle is 29.5 DTE: 24 DTE (Dec 19) is closer than 17.
    assert choice.expiry == date(2025, 12, 19)
    _band_ok(choice)
    # It is the listed strike of that expiry whose |delta| is nearest 0.60.
    same = [
        q for q in chain.quotes if q.contract.expiry == choice.expiry and q.contract.right == "C"
    ]
    best = min(same, key=lambda q: abs(abs(q.delta) - 0.60))
    assert choice.quote is best
    assert "1Day rule 14–45" in choice.reason and "OI 5,000" in choice.reason


def test_short_picks_put_with_negative_delta(chain: OptionChain) -> None:
    choice = select_contract(chain, "short", "1Week", NOW)
    assert isinstance(choice, ContractChoice)
    assert choice.right == "P" and choice.delta < 0
    assert choice.expiry == date(2026, 1, 16)  # 52 DTE, the only one in 30–60
    _band_ok(choice)


def test_hourly_window_and_leverage_preset(chain: OptionChain) -> None:
    with pytest.raises(ValueError, match="direction"):
        select_contract(chain, "up", "1Hour", NOW)  # type: ignore[arg-type]
    lev = select_contract(chain, "long", "1Hour", NOW, SelectionConfig.leverage())
    assert isinstance(lev, ContractChoice)
    assert lev.expiry == date(2025, 12, 5)  # 10 DTE in 7–14
    _band_ok(lev, 0.4, 0.6)
    normal = select_contract(chain, "long", "1Hour", NOW)
    assert isinstance(normal, ContractChoice)
    assert lev.quote.contract.strike > normal.quote.contract.strike  # lower delta = further OTM


def test_monthly_uses_longer_expiry(chain: OptionChain) -> None:
    choice = select_contract(chain, "long", "M", NOW)
    assert isinstance(choice, ContractChoice)
    assert choice.expiry == date(2026, 3, 20) and choice.dte == 115


def test_nothing_liquid_gives_reason_with_counts() -> None:
    wide = make_chain([date(2025, 12, 19)], STRIKES, spot=SPOT, now=NOW, spread=1.50)
    result = select_contract(wide, "long", "1Day", NOW)
    assert isinstance(result, NoContract)
    in_band = [q for q in wide.quotes if q.contract.right == "C" and 0.5 <= abs(q.delta) <= 0.7]
    assert result.reason.startswith("no liquid contract:")
    assert f"{len(in_band)} failed spread ≤ max($0.10, 5% of mid)" in result.reason

    thin = make_chain([date(2025, 12, 19)], STRIKES, spot=SPOT, now=NOW, oi=120)
    result = select_contract(thin, "long", "1Day", NOW)
    assert isinstance(result, NoContract)
    assert f"{len(in_band)} failed OI ≥ 500" in result.reason


def test_spread_rule_allows_five_percent_of_mid() -> None:
    # Mid ≈ 20 for the 0.6-delta call, so a $0.80 spread passes (≤ 5% of mid = $1.00).
    chain = make_chain([date(2025, 12, 19)], STRIKES, spot=SPOT, now=NOW, spread=0.80)
    choice = select_contract(chain, "long", "1Day", NOW)
    assert isinstance(choice, ContractChoice)
    assert choice.spread == pytest.approx(0.80)
    assert choice.spread <= 0.05 * choice.mid


def test_missing_open_interest_fails_filter_and_config_is_respected() -> None:
    chain = make_chain([date(2025, 12, 19)], STRIKES, spot=SPOT, now=NOW, oi=None)
    assert isinstance(select_contract(chain, "long", "1Day", NOW), NoContract)
    relaxed = SelectionConfig(min_open_interest=0)
    assert isinstance(select_contract(chain, "long", "1Day", NOW, relaxed), NoContract)
    # OI unknown never passes, even at a zero minimum: the broker did not say it trades.


def test_no_expiry_in_window() -> None:
    chain = make_chain([date(2025, 11, 28)], STRIKES, spot=SPOT, now=NOW)  # 3 DTE only
    result = select_contract(chain, "long", "1Day", NOW)
    assert isinstance(result, NoContract)
    assert "no listed SPY expiry with 14–45 DTE" in result.reason
    strict = SelectionConfig(allow_longer_expiry=False)
    far = make_chain([date(2026, 6, 19)], STRIKES, spot=SPOT, now=NOW)
    assert isinstance(select_contract(far, "long", "1Day", NOW, strict), NoContract)
    fallback = select_contract(far, "long", "1Day", NOW)
    assert isinstance(fallback, ContractChoice)
    assert "next one out" in fallback.reason


def test_unknown_timeframe_is_a_no_contract_reason(chain: OptionChain) -> None:
    result = select_contract(chain, "long", "5Min", NOW)
    assert isinstance(result, NoContract) and "no DTE rule" in result.reason


def test_minimum_dte_floor_overrides_window() -> None:
    cfg = SelectionConfig(dte_by_timeframe={"1Hour": (0, 3)})
    assert cfg.dte_window("1Hour") == (5, 5)


def test_expiry_day_handling() -> None:
    today = date(2025, 11, 25)
    cfg = SelectionConfig(dte_by_timeframe={"1Hour": (0, 0)}, min_dte=0)
    before_close = datetime(2025, 11, 25, 20, 30, tzinfo=UTC)  # 15:30 New York
    after_close = datetime(2025, 11, 25, 21, 30, tzinfo=UTC)  # 16:30 New York
    chain = make_chain([today, date(2025, 11, 26)], STRIKES, spot=SPOT, now=before_close)
    early = select_contract(chain, "long", "1Hour", before_close, cfg)
    assert isinstance(early, ContractChoice) and early.expiry == today and early.dte == 0
    late = select_contract(chain, "long", "1Hour", after_close, cfg)
    assert isinstance(late, ContractChoice) and late.expiry == date(2025, 11, 26)
    assert "next one out" in late.reason
    strict = replace(cfg, allow_longer_expiry=False)
    assert isinstance(select_contract(chain, "long", "1Hour", after_close, strict), NoContract)
    # With the default rules a 0-DTE contract is never eligible (floor of 5).
    only_today = make_chain([today], STRIKES, spot=SPOT, now=before_close)
    assert isinstance(select_contract(only_today, "long", "1Hour", before_close), NoContract)


def test_expiry_clock_uses_new_york_date() -> None:
    late_evening = datetime(2025, 11, 26, 3, 0, tzinfo=UTC)  # still Nov 25 in New York
    assert days_to_expiry(date(2025, 11, 26), late_evening) == 1
    assert is_expired(date(2025, 11, 25), late_evening)
    assert years_to_expiry(date(2025, 11, 25), late_evening) == 0.0
    # 10:00 → 16:00 New York on expiry day is 6 hours.
    assert years_to_expiry(date(2025, 11, 25), NOW) == pytest.approx(6 / 24 / 365)
    with pytest.raises(ValueError, match="timezone-aware"):
        days_to_expiry(date(2025, 11, 26), datetime(2025, 11, 25, 12))


def test_delta_computed_from_iv_or_mid_when_missing() -> None:
    exp = date(2025, 12, 19)
    quotes = tuple(make_quote(exp, "C", k, spot=SPOT, now=NOW, with_delta=False) for k in STRIKES)
    chain = OptionChain("SPY", SPOT, quotes, "test", NOW, (exp,))
    with_delta = make_chain([exp], STRIKES, spot=SPOT, now=NOW)
    a = select_contract(chain, "long", "1Day", NOW)
    b = select_contract(with_delta, "long", "1Day", NOW)
    assert isinstance(a, ContractChoice) and isinstance(b, ContractChoice)
    assert a.quote.contract.strike == b.quote.contract.strike
    assert a.delta_source == "quote iv" and b.delta_source == "quote"
    no_iv = tuple(replace(q, iv=None) for q in quotes)
    c = select_contract(replace(chain, quotes=no_iv), "long", "1Day", NOW)
    assert isinstance(c, ContractChoice) and c.delta_source == "iv from mid"
    assert c.quote.contract.strike == b.quote.contract.strike
    no_spot = select_contract(replace(chain, underlying_price=None), "long", "1Day", NOW)
    assert isinstance(no_spot, NoContract) and "no delta or IV" in no_spot.reason


def test_select_for_pattern() -> None:
    chain = make_chain([date(2025, 12, 19)], STRIKES, spot=SPOT, now=NOW)
    pattern = Pattern(
        name="2-1-2",
        label="2D-1-2U",
        kind="reversal",
        direction="short",
        bar_indices=(1, 2, 3),
        entry=Level(599.0, "inside low"),
        stop=Level(603.0, "inside high"),
        targets=(Level(590.0, "C2 low"),),
        timeframe="1Day",
    )
    choice = select_for_pattern(chain, pattern, NOW)
    assert isinstance(choice, ContractChoice) and choice.right == "P"
    no_tf = select_for_pattern(chain, replace(pattern, timeframe=None), NOW)
    assert isinstance(no_tf, NoContract)


def test_normalize_timeframe() -> None:
    assert normalize_timeframe("D") == "1Day"
    assert normalize_timeframe("60min") == "1Hour"
    assert normalize_timeframe("W") == "1Week"
    assert normalize_timeframe("M") == "1Month"
    assert normalize_timeframe("1Min") == "1Min"
