"""Settings: good values parse, bad values stop start-up with one line naming the variable."""

import pytest

from dashboard.settings import SettingsError, load_settings

SECRET = "sk-very-secret-value-123"


def test_defaults_are_demo_paper_local() -> None:
    s = load_settings({})
    assert s.mode == "demo"
    assert s.mode_label == "DEMO"
    assert s.alpaca_paper is True
    assert s.is_live is False
    assert (s.host, s.port) == ("127.0.0.1", 8050)
    assert s.refresh_seconds == 5.0
    assert s.watchlist[0] == "SPY"
    assert s.database_url == "sqlite:///data/journal.sqlite"
    assert s.auth_required is False


@pytest.mark.parametrize(
    ("key_name", "secret_name"),
    [("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"), ("ALPACA_API_KEY", "ALPACA_SECRET_KEY")],
)
def test_alpaca_keys_accept_both_naming_schemes(key_name: str, secret_name: str) -> None:
    s = load_settings({key_name: "PKTEST", secret_name: SECRET})
    assert s.mode == "alpaca"
    assert s.mode_label == "PAPER"
    assert s.alpaca_trading_url == "https://paper-api.alpaca.markets"
    assert s.alpaca_secret_key is not None
    assert s.alpaca_secret_key.get_secret_value() == SECRET
    assert SECRET not in repr(s)
    assert SECRET not in str(s.model_dump())


def test_live_needs_both_switches() -> None:
    keys = {"APCA_API_KEY_ID": "AK", "APCA_API_SECRET_KEY": SECRET}
    s = load_settings({**keys, "ALPACA_PAPER": "false", "ALPACA_LIVE_TRADING": "1"})
    assert s.is_live and s.mode_label == "LIVE"
    assert s.alpaca_trading_url == "https://api.alpaca.markets"


def test_watchlist_and_numbers_parse() -> None:
    s = load_settings(
        {
            "DASHBOARD_WATCHLIST": " spy, qqq ,tsla",
            "DASHBOARD_REFRESH_SECONDS": "2.5",
            "PORT": "9000",
        }
    )
    assert s.watchlist == ("SPY", "QQQ", "TSLA")
    assert s.refresh_seconds == 2.5
    assert s.port == 9000


def test_postgres_url_is_normalised_for_sqlalchemy() -> None:
    s = load_settings({"DATABASE_URL": "postgres://u:p@db:5432/x"})
    assert s.database_url == "postgresql://u:p@db:5432/x"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DASHBOARD_REFRESH_SECONDS": "fast"}, "DASHBOARD_REFRESH_SECONDS"),
        ({"DASHBOARD_REFRESH_SECONDS": "0.1"}, "DASHBOARD_REFRESH_SECONDS"),
        ({"DASHBOARD_MODE": "prod"}, "DASHBOARD_MODE"),
        ({"DASHBOARD_MODE": "alpaca"}, "DASHBOARD_MODE"),
        ({"APCA_API_KEY_ID": "PK"}, "APCA_API_SECRET_KEY"),
        (
            {"APCA_API_KEY_ID": "PK", "APCA_API_SECRET_KEY": SECRET, "ALPACA_PAPER": "false"},
            "ALPACA_PAPER",
        ),
        ({"ALPACA_LIVE_TRADING": "1"}, "ALPACA_LIVE_TRADING"),
        ({"PORT": "70000"}, "PORT"),
        ({"DASHBOARD_WATCHLIST": ","}, "DASHBOARD_WATCHLIST"),
        ({"DASHBOARD_WATCHLIST": "SPY,$$$"}, "DASHBOARD_WATCHLIST"),
        ({"DASHBOARD_AUTH": "on"}, "DASHBOARD_AUTH"),
        ({"DASHBOARD_HTTP_BACKEND": "curl"}, "DASHBOARD_HTTP_BACKEND"),
    ],
)
def test_bad_values_fail_in_one_line_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(
            {**env, "APCA_API_SECRET_KEY": env.get("APCA_API_SECRET_KEY", "")}
            if "APCA_API_KEY_ID" in env
            else env
        )
    message = str(info.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message
    assert SECRET not in message


def test_env_file_is_read(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("DASHBOARD_WATCHLIST=IWM\nDASHBOARD_REFRESH_SECONDS=7\n")
    for name in ("DASHBOARD_WATCHLIST", "DASHBOARD_REFRESH_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings(env_file=tmp_path / ".env")
    assert s.watchlist == ("IWM",)
    assert s.refresh_seconds == 7


FAKE_KEY_BODY = "-not-a-real-key"  # only the two-letter prefix matters


def test_keys_of_the_other_environment_are_detected_without_echoing_them() -> None:
    paper_with_live_keys = load_settings(
        env={"APCA_API_KEY_ID": "AK" + FAKE_KEY_BODY, "APCA_API_SECRET_KEY": "s"}, env_file=None
    )
    message = paper_with_live_keys.key_mismatch
    assert message is not None and "live keys (AK…)" in message
    assert FAKE_KEY_BODY not in message
    live_with_paper_keys = load_settings(
        env={
            "APCA_API_KEY_ID": "PK" + FAKE_KEY_BODY,
            "APCA_API_SECRET_KEY": "s",
            "ALPACA_PAPER": "false",
            "ALPACA_LIVE_TRADING": "1",
        },
        env_file=None,
    )
    assert "paper keys (PK…)" in (live_with_paper_keys.key_mismatch or "")
    matching = load_settings(
        env={"APCA_API_KEY_ID": "PK" + FAKE_KEY_BODY, "APCA_API_SECRET_KEY": "s"}, env_file=None
    )
    assert matching.key_mismatch is None
