"""Settings: good values parse, bad values stop start-up with one line naming the variable."""

from pathlib import Path

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
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/x"


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


# ---- every variable validated, URLs included (issue 23) ----------------------------------------

KEYS = {"APCA_API_KEY_ID": "PKTEST", "APCA_API_SECRET_KEY": SECRET}
LIVE_OPT_IN = {"ALPACA_PAPER": "false", "ALPACA_LIVE_TRADING": "1"}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u:p@db/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql+psycopg2://u:p@db/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql:///x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@db:5432"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@db:port/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis-host:6379/0"}, "REDIS_URL"),
        ({"REDIS_URL": "http://redis:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://host:notaport"}, "REDIS_URL"),
        ({"WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
        ({"GUNICORN_THREADS": "lots"}, "GUNICORN_THREADS"),
        ({"DASHBOARD_SIMULATOR_PORT": "x"}, "DASHBOARD_SIMULATOR_PORT"),
        ({"THETADATA_URL": "not a url"}, "THETADATA_URL"),
        ({"THETADATA_URL": "localhost:25510"}, "THETADATA_URL"),
        ({"THETADATA_URL": "http://"}, "THETADATA_URL"),
        ({**KEYS, "APCA_API_BASE_URL": "ftp://paper-api.alpaca.markets"}, "APCA_API_BASE_URL"),
        ({**KEYS, "APCA_API_BASE_URL": "paper-api.alpaca.markets"}, "APCA_API_BASE_URL"),
        ({**KEYS, "APCA_API_BASE_URL": "https://paper api.alpaca.markets"}, "APCA_API_BASE_URL"),
        ({**KEYS, "APCA_API_DATA_URL": "data.alpaca.markets"}, "APCA_API_DATA_URL"),
        ({"DASHBOARD_SIMULATOR_URL": "127.0.0.1:8765"}, "DASHBOARD_SIMULATOR_URL"),
        ({"DASHBOARD_SIMULATOR_URL": "https://api.alpaca.markets"}, "DASHBOARD_SIMULATOR_URL"),
        ({"DASHBOARD_SECRET_KEY": "short"}, "DASHBOARD_SECRET_KEY"),
        ({"DASHBOARD_HOST": "not a host"}, "DASHBOARD_HOST"),
        (
            {"DASHBOARD_USERNAME": "u", "DASHBOARD_PASSWORD_HASH": "hunter2"},
            "DASHBOARD_PASSWORD_HASH",
        ),
    ],
)
def test_malformed_variables_fail_in_one_line_naming_them(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env, env_file=None)
    message = str(info.value)
    assert message.startswith(variable + ":"), message
    assert "\n" not in message
    assert SECRET not in message and "u:p@" not in message  # no credentials echoed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/railway", "postgresql+psycopg://u:p@db:5432/railway"),
        ("postgresql://u:p@db/x?sslmode=require", "postgresql+psycopg://u:p@db/x?sslmode=require"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////var/data/j.sqlite", "sqlite:////var/data/j.sqlite"),
    ],
)
def test_database_urls_use_the_installed_driver(url: str, expected: str) -> None:
    s = load_settings({"DATABASE_URL": url}, env_file=None)
    assert s.database_url == expected
    assert "p@" not in repr(s)  # the password is a secret


def test_urls_are_kept_without_a_trailing_slash() -> None:
    s = load_settings({"THETADATA_URL": " http://127.0.0.1:25510/ "}, env_file=None)
    assert s.thetadata_url == "http://127.0.0.1:25510"
    assert load_settings({"REDIS_URL": "rediss://:pw@cache:6380/1"}, env_file=None).redis_url


@pytest.mark.parametrize(
    "url",
    [
        "https://api.alpaca.markets",
        "https://API.Alpaca.Markets./",
        "https://api.alpaca.markets:443/v2",
        "http://api.alpaca.markets",
        "https://broker-api.alpaca.markets",
    ],
)
def test_a_live_trading_url_needs_both_switches(url: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({**KEYS, "APCA_API_BASE_URL": url}, env_file=None)
    assert str(info.value).startswith("APCA_API_BASE_URL: points at Alpaca's live host")
    for half in ({"ALPACA_LIVE_TRADING": "1"}, {"ALPACA_PAPER": "false"}):
        with pytest.raises(SettingsError):
            load_settings({**KEYS, "APCA_API_BASE_URL": url, **half}, env_file=None)
    live = load_settings({**KEYS, "APCA_API_BASE_URL": url, **LIVE_OPT_IN}, env_file=None)
    assert live.is_live and live.mode_label == "LIVE"


def test_live_state_comes_from_the_url_not_the_flags() -> None:
    paper_url = load_settings(
        {**KEYS, **LIVE_OPT_IN, "APCA_API_BASE_URL": "https://paper-api.alpaca.markets"},
        env_file=None,
    )
    assert not paper_url.is_live and paper_url.mode_label == "PAPER"
    own_proxy = load_settings({**KEYS, "APCA_API_BASE_URL": "http://127.0.0.1:8765"}, env_file=None)
    assert not own_proxy.is_live and own_proxy.mode_label == "PAPER"
    default_live = load_settings({**KEYS, **LIVE_OPT_IN}, env_file=None)
    assert default_live.alpaca_trading_url == "https://api.alpaca.markets"
    assert default_live.is_live
    # A settings copy that swaps in a live URL (no validation on copies) still reads LIVE,
    # so the order path's confirmation and refusal apply.
    swapped = paper_url.with_overrides(alpaca_trading_url_setting="https://api.alpaca.markets")
    assert swapped.is_live and swapped.mode_label == "LIVE"


def test_the_header_badge_shows_the_url_derived_mode() -> None:
    from dashboard.components import header

    def badge(settings: object) -> str:
        found = []

        def walk(node: object) -> None:
            if getattr(node, "id", None) == "header-mode-badge":
                found.append(node.children)  # type: ignore[attr-defined]
            children = getattr(node, "children", None)
            for child in children if isinstance(children, list) else [children]:
                if child is not None and not isinstance(child, str):
                    walk(child)

        walk(header.layout(settings))  # type: ignore[arg-type]
        return found[0]

    live = load_settings(
        {**KEYS, **LIVE_OPT_IN, "APCA_API_BASE_URL": "https://api.alpaca.markets"},
        env_file=None,
    )
    flags_only = load_settings(
        {**KEYS, **LIVE_OPT_IN, "APCA_API_BASE_URL": "https://paper-api.alpaca.markets"},
        env_file=None,
    )
    assert badge(live) == "LIVE"
    assert badge(flags_only) == "PAPER"


# ---- the order ticket's settings (risk sizing, entry warnings, the penny program list) ----


def test_ticket_settings_defaults_and_overrides(tmp_path: Path) -> None:
    s = load_settings({})
    assert (s.risk_per_trade_pct, s.risk_per_trade_dollars) == (1.0, None)
    assert (s.late_entry_share, s.min_remaining_rr, s.max_spread_pct) == (0.5, 1.0, 10.0)
    assert (s.penny_symbols, s.penny_file) == ((), None)
    custom = tmp_path / "pip.json"
    custom.write_text(
        '{"effective": "2027-01-04", "source": "t", "penny_all_prices": ["SPY"],'
        ' "program_classes": ["ROKU"]}'
    )
    s = load_settings(
        {
            "DASHBOARD_PENNY_SYMBOLS": " roku, hood ",
            "DASHBOARD_PENNY_FILE": str(custom),
            "DASHBOARD_RISK_PER_TRADE_DOLLARS": "750",
        }
    )
    assert s.penny_symbols == ("ROKU", "HOOD") and s.penny_file == custom
    assert s.risk_per_trade_dollars == 750.0
    # The grid in force, for the ticket, the chain, exits and armed entries alike: the
    # custom file (AAPL is not in it) plus the added classes.
    from decimal import Decimal

    from dashboard.trading.exit_monitor import exit_config_for
    from dashboard.trading.ticket import option_tick

    ticks = s.tick_table()
    assert exit_config_for(s).ticks is ticks
    assert option_tick("HOOD", Decimal("3.20"), ticks) == Decimal("0.05")  # added
    assert option_tick("AAPL", Decimal("3.20"), ticks) == Decimal("0.10")  # not on this list
    assert option_tick("AAPL", Decimal("3.20"), load_settings({}).tick_table()) == Decimal("0.05")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DASHBOARD_PENNY_SYMBOLS": "AAPL,NOT A TICKER"}, "DASHBOARD_PENNY_SYMBOLS"),
        ({"DASHBOARD_PENNY_FILE": "/nonexistent/pip.json"}, "cannot read"),
        ({"DASHBOARD_LATE_ENTRY_SHARE": "1.5"}, "DASHBOARD_LATE_ENTRY_SHARE"),
        ({"DASHBOARD_RISK_PER_TRADE_PCT": "0"}, "DASHBOARD_RISK_PER_TRADE_PCT"),
    ],
)
def test_bad_ticket_settings_fail_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_a_penny_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "pip.json"
    bad.write_text("{not json")
    with pytest.raises(SettingsError, match=r"DASHBOARD_PENNY_FILE: .*is not JSON"):
        load_settings({"DASHBOARD_PENNY_FILE": str(bad)})
