"""OCC/OSI symbols: both forms parse, builds round-trip exactly, bad input is explained."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.options.occ import OccSymbol, build_occ, display_occ, format_strike, parse_occ


@pytest.mark.parametrize(
    ("symbol", "root", "expiry", "right", "strike"),
    [
        ("SPY251219C00600000", "SPY", date(2025, 12, 19), "C", Decimal("600")),
        ("SPY251219P00612500", "SPY", date(2025, 12, 19), "P", Decimal("612.5")),
        ("SPY   251219P00612500", "SPY", date(2025, 12, 19), "P", Decimal("612.5")),
        ("AAPL1260116C00150000", "AAPL1", date(2026, 1, 16), "C", Decimal("150")),
        ("AAPL1 260116C00150000", "AAPL1", date(2026, 1, 16), "C", Decimal("150")),
        ("BRKB  270115P00000500", "BRKB", date(2027, 1, 15), "P", Decimal("0.5")),
        ("GOOGL1270115C00012345", "GOOGL1", date(2027, 1, 15), "C", Decimal("12.345")),
        ("X251219C99999999", "X", date(2025, 12, 19), "C", Decimal("99999.999")),
    ],
)
def test_parse_both_forms(
    symbol: str, root: str, expiry: date, right: str, strike: Decimal
) -> None:
    occ = parse_occ(symbol)
    assert occ == OccSymbol(root, expiry, right, strike)  # type: ignore[arg-type]
    assert occ.compact == symbol.replace(" ", "")
    assert len(occ.osi) == 21 and occ.osi[:6] == root.ljust(6)
    assert parse_occ(occ.osi) == occ


def test_build_exact_strikes() -> None:
    d = date(2025, 12, 19)
    assert build_occ("SPY", d, "C", 600) == "SPY251219C00600000"
    assert build_occ("SPY", d, "P", 612.5) == "SPY251219P00612500"
    assert build_occ("SPY", d, "put", Decimal("612.50")) == "SPY251219P00612500"
    assert build_occ("spy", d, "c", "0.001") == "SPY251219C00000001"
    assert build_occ("SPY", d, "C", 600, padded=True) == "SPY   251219C00600000"


@pytest.mark.parametrize(
    ("strike", "message"),
    [
        (612.0001, "multiple of \\$0.001"),
        (Decimal("0.0005"), "multiple of \\$0.001"),
        (0, "positive"),
        (-5, "positive"),
        (100000, "maximum"),
        ("abc", "not a number"),
        (float("nan"), "positive finite"),
    ],
)
def test_build_rejects_unrepresentable_strikes(strike: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_occ("SPY", date(2025, 12, 19), "C", strike)  # type: ignore[arg-type]


def test_build_rejects_bad_root_right_expiry() -> None:
    d = date(2025, 12, 19)
    with pytest.raises(ValueError, match="root"):
        build_occ("TOOLONG", d, "C", 100)
    with pytest.raises(ValueError, match="root"):
        build_occ("SP-Y", d, "C", 100)
    with pytest.raises(ValueError, match="right"):
        build_occ("SPY", d, "X", 100)
    with pytest.raises(ValueError, match="YY"):
        build_occ("SPY", date(2100, 1, 1), "C", 100)


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("", "too short"),
        ("SPY", "too short"),
        ("SPY251319C00600000", "bad expiry date"),
        ("SPY250230C00600000", "bad expiry date"),
        ("SPY251219X00600000", "C or P"),
        ("SPY251219C0060000A", "C or P"),
        ("TOOLONG251219C00600000", "root"),
        ("SPY 251219C00600000", "pad to 6"),
        ("SP.Y251219C00600000", "root"),
        ("SPY251219C00000000", "zero"),
    ],
)
def test_parse_errors_are_clear(symbol: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_occ(symbol)


def test_parse_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="string"):
        parse_occ(123)  # type: ignore[arg-type]


def test_display() -> None:
    assert display_occ("SPY251219C00600000") == "SPY Dec 19 '25 $600 C"
    assert display_occ("SPY251219P00612500") == "SPY Dec 19 '25 $612.5 P"
    assert display_occ(parse_occ("NDX260105C20000000")) == "NDX Jan 5 '26 $20,000 C"
    assert format_strike(Decimal("612.500")) == "612.5"
    assert format_strike(Decimal("1E+3")) == "1,000"


@given(
    root=st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True),
    expiry=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    right=st.sampled_from(["C", "P"]),
    units=st.integers(1, 99_999_999),
    padded=st.booleans(),
)
def test_round_trip(root: str, expiry: date, right: str, units: int, padded: bool) -> None:
    strike = Decimal(units) / 1000
    symbol = build_occ(root, expiry, right, strike, padded=padded)
    occ = parse_occ(symbol)
    assert (occ.root, occ.expiry, occ.right, occ.strike) == (root, expiry, right, strike)
    assert build_occ(occ.root, occ.expiry, occ.right, occ.strike, padded=padded) == symbol


def test_huge_strikes_are_refused_before_any_big_integer_work() -> None:
    """``int()`` of a Decimal like 1e500000 holds the GIL for minutes; the exponent is
    checked first, so a hostile strike in a form costs microseconds (issue 23)."""
    from datetime import date
    from decimal import Decimal

    for raw in ("1e500000", "1e999999", "123456"):
        with pytest.raises(ValueError, match="exceeds the OCC maximum"):
            build_occ("SPY", date(2030, 1, 18), "C", Decimal(raw))
    assert build_occ("SPY", date(2030, 1, 18), "C", Decimal("99999.999")).endswith("99999999")
