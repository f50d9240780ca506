"""Alert kinds: which rules a ``DASHBOARD_ALERT_RULES_OFF`` entry turns off."""

from __future__ import annotations

import pytest

from dashboard.alerts.kinds import AlertKind, parse_rules_off


def test_rules_off_parsing() -> None:
    off = parse_rules_off(["system"])
    assert AlertKind.RECOVERED in off and AlertKind.HEARTBEAT_LOST in off
    only_heartbeat = parse_rules_off(["system.heartbeat_lost"])
    assert AlertKind.RECOVERED not in only_heartbeat  # still clears upstream outages
    assert AlertKind.HEAT_OK in parse_rules_off(["risk.heat_over"])
    with pytest.raises(ValueError, match="not an alert rule"):
        parse_rules_off(["trade.nonsense"])
