"""One rule, one place: each shared convention has one definition, and this pins it.

The values are pinned against their sources (OCC's 100-share equity option, the exchange's
time zone); the scan fails when a module under ``dashboard/`` writes its own copy of a
rule instead of importing it.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dashboard import conventions
from dashboard.analytics.regimes import Regime
from dashboard.conventions import (
    CONTRACT_MULTIPLIER,
    MARKET_TZ_NAME,
    NEW_YORK,
    RISK_FREE_RATE,
    direction_for_right,
    format_new_york,
    right_for_direction,
)
from dashboard.options.expiry import years_to_expiry
from dashboard.options.occ import underlying_of

PACKAGE = Path(__file__).resolve().parents[1] / "dashboard"


def test_values() -> None:
    assert CONTRACT_MULTIPLIER == 100
    assert MARKET_TZ_NAME == "America/New_York"
    assert NEW_YORK.key == "America/New_York"
    assert 0.0 < RISK_FREE_RATE < 0.10
    assert right_for_direction("long") == "C"
    assert right_for_direction("short") == "P"
    assert direction_for_right("C") == "long"
    assert direction_for_right("P") == "short"
    with pytest.raises(ValueError):
        right_for_direction("bull")


def test_new_york_time_follows_daylight_saving() -> None:
    # 14:30 UTC is 09:30 EST in January and 10:30 EDT in July.
    assert format_new_york(datetime(2026, 1, 15, 14, 30, tzinfo=UTC), "%H:%M") == "09:30"
    assert format_new_york(datetime(2026, 7, 15, 14, 30, tzinfo=UTC), "%H:%M") == "10:30"
    assert format_new_york(None) == "—"


def test_years_to_expiry_runs_to_the_expiry_day_close() -> None:
    # 16:00 New York on 2026-01-16 is 21:00 UTC; one 365-day year before that close.
    start = datetime(2025, 1, 16, 21, 0, tzinfo=UTC)
    assert years_to_expiry(date(2026, 1, 16), start) == pytest.approx(1.0)
    assert years_to_expiry(date(2026, 1, 16), datetime(2026, 1, 16, 21, 1, tzinfo=UTC)) == 0.0


def test_underlying_of_falls_back_instead_of_raising() -> None:
    assert underlying_of("SPY251219C00600000") == "SPY"
    assert underlying_of("SPY251219C00600000", "us_option") == "SPY"
    assert underlying_of("AAPL", "us_equity") == "AAPL"
    assert underlying_of("BTC/USD", "crypto") == "BTC/USD"
    assert underlying_of("not-an-occ") == "not-an-occ"


def test_regime_names_come_from_the_regime_type() -> None:
    assert Regime.parse("TREND_BULL") is Regime.TREND_BULL
    labels = {r.label for r in Regime}
    assert len(labels) == len(list(Regime))  # one on-screen name per regime


def _sources() -> list[tuple[Path, str]]:
    return [
        (p, p.read_text(encoding="utf-8"))
        for p in sorted(PACKAGE.rglob("*.py"))
        if p != Path(conventions.__file__).resolve()
    ]


# A rule re-spelled: each pattern is a definition or inline form of a convention.
_COPIES = {
    "New York zone": re.compile(r"ZoneInfo\(\s*[\"']America/New_York[\"']\s*\)"),
    "contract multiplier": re.compile(r"^\s*_?\w*MULTIPLIER\w*\s*(?::[^=]+)?=\s*100\b", re.M),
    "risk-free rate": re.compile(r"^\s*_?\w*(RISK_FREE|RATE)\w*\s*(?::[^=]+)?=\s*0\.0\d+\b", re.M),
    "right for direction": re.compile(r"[\"']C[\"']\s+if\s+\w+\s*==\s*[\"'](long|bull)"),
    "direction for right": re.compile(r"[\"']long[\"']\s+if\s+\w+(\.\w+)?\s*==\s*[\"']C[\"']"),
}


@pytest.mark.parametrize("rule", sorted(_COPIES))
def test_no_module_defines_its_own_copy(rule: str) -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{text[: m.start()].count(chr(10)) + 1}"
        for path, text in _sources()
        for m in _COPIES[rule].finditer(text)
    ]
    assert not found, f"{rule} defined outside dashboard/conventions.py: {found}"


def test_helpers_are_defined_once() -> None:
    """``years_to_expiry``, ``underlying_of`` and ``market_status`` each have one home."""
    homes: dict[str, list[str]] = {"years_to_expiry": [], "underlying_of": [], "market_status": []}
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name in homes:
                homes[node.name].append(str(path.relative_to(PACKAGE.parent)))
    assert homes == {
        "years_to_expiry": ["dashboard/options/expiry.py"],
        "underlying_of": ["dashboard/options/occ.py"],
        "market_status": ["dashboard/views/market.py"],
    }
