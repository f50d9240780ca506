"""Bounded number parsing: ordinary numbers pass, blank is no value and no message.

The hostile cases (huge exponents, 5,000 digits, NaN) are asserted through the form in
``test_validation.py``, where each shows its per-field message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dashboard.trading.ticket.fields import parse_bounded


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("585.20", Decimal("585.20")),
        ("$1,234.5", Decimal("1234.5")),
        (2, Decimal(2)),
        (2.5, Decimal("2.5")),
        ("2e2", Decimal("200")),
        ("  .5 ", Decimal("0.5")),
    ],
)
def test_parse_bounded_accepts_ordinary_numbers(raw: Any, expected: Decimal) -> None:
    assert parse_bounded(raw, "x") == (expected, None)


def test_parse_bounded_blank_is_no_value_and_no_message() -> None:
    assert parse_bounded("", "x") == (None, None)
    assert parse_bounded(None, "x") == (None, None)
    assert parse_bounded(True, "x")[0] is None
