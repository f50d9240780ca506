"""The DASHBOARD_ALERT_* settings (dashboard/settings.py's alert block) and the rules'
config made from them: defaults, rules and groups turned off, timeframes, bad values
refused with the variable named and nothing echoed."""

from __future__ import annotations

import pytest

from dashboard.alerts.engine import alert_config
from dashboard.alerts.kinds import AlertKind
from dashboard.settings import SettingsError, load_settings
from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES


def test_defaults_turn_every_rule_on() -> None:
    s = load_settings(env={}, env_file=None)
    cfg = alert_config(s)
    assert s.alerts_enabled and s.alert_webhook_url is None
    assert all(cfg.on(k) for k in AlertKind)
    assert (cfg.near_stop_pct, cfg.expiry_days, cfg.heartbeat_intervals) == (25.0, 2, 6)
    assert cfg.heat_limit_pct == s.heat_limit_pct
    assert cfg.daily_loss_limit_pct == s.daily_loss_limit_pct
    assert cfg.signal_timeframes == SIGNAL_TIMEFRAMES


def test_rules_and_groups_off_and_thresholds() -> None:
    s = load_settings(
        env={
            "DASHBOARD_ALERT_OFF": "signal, trade.near_stop",
            "DASHBOARD_ALERT_NEAR_STOP_PCT": "10",
            "DASHBOARD_ALERT_EXPIRY_DAYS": "5",
            "DASHBOARD_ALERT_SIGNAL_TIMEFRAMES": "1Day,1Week",
            "DASHBOARD_ALERT_WEBHOOK_FORMAT": "discord",
        },
        env_file=None,
    )
    cfg = alert_config(s)
    assert not cfg.on(AlertKind.SIGNAL_PENDING) and not cfg.on(AlertKind.SIGNAL_TRIGGERED)
    assert not cfg.on(AlertKind.NEAR_STOP) and cfg.on(AlertKind.EXIT_FILLED)
    assert (cfg.near_stop_pct, cfg.expiry_days) == (10.0, 5)
    assert cfg.signal_timeframes == ("1Day", "1Week")
    assert s.alert_webhook_format == "discord"
    none = load_settings(env={"DASHBOARD_ALERT_SIGNAL_TIMEFRAMES": "none"}, env_file=None)
    assert none.alert_signal_timeframes == ()


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("DASHBOARD_ALERT_OFF", "trade.nonsense", "not an alert rule"),
        ("DASHBOARD_ALERT_OFF", "risk.heat_ok", "turn off risk.heat_over"),
        ("DASHBOARD_ALERT_SIGNAL_TIMEFRAMES", "2Day", "not a signal board timeframe"),
        ("DASHBOARD_ALERT_NEAR_STOP_PCT", "0", "DASHBOARD_ALERT_NEAR_STOP_PCT"),
        ("DASHBOARD_ALERT_WEBHOOK_FORMAT", "teams", "DASHBOARD_ALERT_WEBHOOK_FORMAT"),
        ("DASHBOARD_ALERT_WEBHOOK_URL", "ftp://x.example.com/s3cr3t", "https://"),
    ],
)
def test_bad_values_are_refused_by_name(name: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env={name: value}, env_file=None)
    assert said in str(err.value)
    assert "s3cr3t" not in str(err.value)
