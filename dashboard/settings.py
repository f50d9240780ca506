"""One typed settings object, read from the environment and an optional ``.env`` file.

A bad value stops start-up with one line naming the variable; secrets are ``SecretStr``
so they never appear in reprs, logs or error messages.

Its size is one concept: every environment variable, validated in one place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dashboard.alerts.kinds import AlertKind, parse_rules_off
from dashboard.conventions import is_ticker

if TYPE_CHECKING:
    from dashboard.trading.ticket import TickTable

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
ALPACA_DATA_URL = "https://data.alpaca.markets"
DEFAULT_WATCHLIST = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN")
ALPACA_DOMAIN = "alpaca.markets"
PAPER_TRADING_HOST = "paper-api.alpaca.markets"
_DATABASE_SCHEMES = {
    "sqlite": "sqlite",
    "postgres": "postgresql+psycopg",  # Railway and Heroku hand these out
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
_REDIS_SCHEMES = ("redis", "rediss", "unix")
MIN_SECRET_KEY_LENGTH = 32
_HOST = re.compile(r"[A-Za-z0-9.:%-]{1,253}")
_BCRYPT_HASH = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def is_alpaca_host(url: str) -> bool:
    host = _host(url)
    return host == ALPACA_DOMAIN or host.endswith("." + ALPACA_DOMAIN)


def is_live_trading_url(url: str) -> bool:
    """Whether orders sent to ``url`` reach real money: any Alpaca host but the paper API
    (and the sandboxes). Judged from the URL itself, so no flag can make a live endpoint
    look like paper."""
    if not is_alpaca_host(url):
        return False
    host = _host(url)
    return host != PAPER_TRADING_HOST and not host.endswith(".sandbox." + ALPACA_DOMAIN)


def _http_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash; else a one-line reason."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host, e.g. https://host:port")
    if any(c.isspace() for c in text):
        raise ValueError("must not contain spaces")
    return text.rstrip("/")


class SettingsError(ValueError):
    """A configuration problem, phrased as one line naming the variable."""


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    # Mode: demo runs the embedded simulator; alpaca talks to Alpaca.
    mode_setting: Literal["demo", "alpaca"] | None = Field(
        default=None, validation_alias=_env("DASHBOARD_MODE")
    )
    alpaca_key_id: SecretStr | None = Field(
        default=None, validation_alias=_env("APCA_API_KEY_ID", "ALPACA_API_KEY")
    )
    alpaca_secret_key: SecretStr | None = Field(
        default=None, validation_alias=_env("APCA_API_SECRET_KEY", "ALPACA_SECRET_KEY")
    )
    alpaca_paper: bool = Field(default=True, validation_alias=_env("ALPACA_PAPER"))
    alpaca_live_trading: bool = Field(default=False, validation_alias=_env("ALPACA_LIVE_TRADING"))
    alpaca_trading_url_setting: str | None = Field(
        default=None, validation_alias=_env("APCA_API_BASE_URL")
    )
    alpaca_data_url_setting: str | None = Field(
        default=None, validation_alias=_env("APCA_API_DATA_URL")
    )
    stock_feed: Literal["iex", "sip"] = Field(
        default="iex", validation_alias=_env("ALPACA_STOCK_FEED")
    )
    options_feed: Literal["indicative", "opra"] = Field(
        default="indicative", validation_alias=_env("ALPACA_OPTIONS_FEED")
    )

    thetadata_url: str | None = Field(default=None, validation_alias=_env("THETADATA_URL"))
    thetadata_version: Literal["v2", "v3"] = Field(
        default="v3", validation_alias=_env("THETADATA_VERSION")
    )

    data_dir: Path = Field(default=Path("data"), validation_alias=_env("DASHBOARD_DATA_DIR"))
    database_url_setting: SecretStr | None = Field(
        default=None, validation_alias=_env("DATABASE_URL")
    )
    redis_url: SecretStr | None = Field(default=None, validation_alias=_env("REDIS_URL"))

    # The production server (gunicorn.conf.py reads these).
    web_concurrency: int = Field(default=2, ge=1, le=64, validation_alias=_env("WEB_CONCURRENCY"))
    gunicorn_threads: int = Field(
        default=8, ge=1, le=256, validation_alias=_env("GUNICORN_THREADS")
    )

    refresh_seconds: float = Field(
        default=5.0, ge=1.0, le=3600.0, validation_alias=_env("DASHBOARD_REFRESH_SECONDS")
    )
    cache_ttl_seconds: float = Field(
        default=2.0, ge=0.0, le=3600.0, validation_alias=_env("DASHBOARD_CACHE_TTL_SECONDS")
    )
    stale_after_seconds: float = Field(
        default=30.0, gt=0.0, validation_alias=_env("DASHBOARD_STALE_AFTER_SECONDS")
    )
    watchlist: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_WATCHLIST, validation_alias=_env("DASHBOARD_WATCHLIST")
    )
    http_backend: Literal["httpx", "aiohttp"] = Field(
        default="httpx", validation_alias=_env("DASHBOARD_HTTP_BACKEND")
    )
    # Holding under pressure (issue 23): the broker's per-minute limit that the whole
    # deployment shares, and the overall deadline of one upstream read.
    alpaca_rate_limit_per_minute: int = Field(
        default=200, ge=10, le=100_000, validation_alias=_env("ALPACA_RATE_LIMIT_PER_MINUTE")
    )
    read_deadline_seconds: float = Field(
        default=4.0, ge=0.1, le=120.0, validation_alias=_env("DASHBOARD_READ_DEADLINE_SECONDS")
    )

    # Risk and order limits.
    heat_limit_pct: float = Field(
        default=8.0, gt=0, le=100, validation_alias=_env("DASHBOARD_HEAT_LIMIT_PCT")
    )
    max_contracts: int = Field(
        default=10, ge=1, le=1000, validation_alias=_env("DASHBOARD_MAX_CONTRACTS")
    )
    daily_loss_limit_pct: float = Field(
        default=3.0, gt=0, le=100, validation_alias=_env("DASHBOARD_DAILY_LOSS_LIMIT_PCT")
    )
    max_position_pct: float = Field(
        default=5.0, gt=0, le=100, validation_alias=_env("DASHBOARD_MAX_POSITION_PCT")
    )
    max_drawdown_pct: float = Field(
        default=25.0, gt=0, le=100, validation_alias=_env("DASHBOARD_MAX_DRAWDOWN_PCT")
    )
    # The order ticket (issue 19): sizing by risk, late-entry and spread warnings, ticks.
    risk_per_trade_pct: float = Field(
        default=1.0, gt=0, le=100, validation_alias=_env("DASHBOARD_RISK_PER_TRADE_PCT")
    )
    risk_per_trade_dollars: float | None = Field(
        default=None, gt=0, le=1e9, validation_alias=_env("DASHBOARD_RISK_PER_TRADE_DOLLARS")
    )
    late_entry_share: float = Field(
        default=0.5, gt=0, lt=1, validation_alias=_env("DASHBOARD_LATE_ENTRY_SHARE")
    )
    min_remaining_rr: float = Field(
        default=1.0, ge=0, le=100, validation_alias=_env("DASHBOARD_MIN_REMAINING_RR")
    )
    max_spread_pct: float = Field(
        default=10.0, gt=0, le=200, validation_alias=_env("DASHBOARD_MAX_SPREAD_PCT")
    )
    penny_symbols: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("DASHBOARD_PENNY_SYMBOLS")
    )
    penny_file: Path | None = Field(default=None, validation_alias=_env("DASHBOARD_PENNY_FILE"))

    # Alerts (dashboard/alerts; README "Alerts"). Every rule is on unless DASHBOARD_ALERT_OFF
    # names it or its group; the webhook URL is a secret (Discord/Slack keep the token in it).
    alerts_enabled: bool = Field(default=True, validation_alias=_env("DASHBOARD_ALERTS"))
    alert_rules_off: Annotated[frozenset[AlertKind], NoDecode] = Field(
        default=frozenset(), validation_alias=_env("DASHBOARD_ALERT_OFF")
    )
    alert_near_stop_pct: float = Field(
        default=25.0, gt=0, le=100, validation_alias=_env("DASHBOARD_ALERT_NEAR_STOP_PCT")
    )
    alert_expiry_days: int = Field(
        default=2, ge=0, le=60, validation_alias=_env("DASHBOARD_ALERT_EXPIRY_DAYS")
    )
    alert_heartbeat_intervals: int = Field(
        default=6, ge=2, le=1000, validation_alias=_env("DASHBOARD_ALERT_HEARTBEAT_INTERVALS")
    )
    alert_stale_seconds: float = Field(
        default=120.0, ge=10, le=86400, validation_alias=_env("DASHBOARD_ALERT_STALE_SECONDS")
    )
    alert_scan_seconds: float = Field(
        default=30.0, ge=5, le=3600, validation_alias=_env("DASHBOARD_ALERT_SCAN_SECONDS")
    )
    alert_signal_timeframes_setting: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None, validation_alias=_env("DASHBOARD_ALERT_SIGNAL_TIMEFRAMES")
    )
    alert_webhook_url: SecretStr | None = Field(
        default=None, validation_alias=_env("DASHBOARD_ALERT_WEBHOOK_URL")
    )
    alert_webhook_format: Literal["auto", "json", "discord", "slack"] = Field(
        default="auto", validation_alias=_env("DASHBOARD_ALERT_WEBHOOK_FORMAT")
    )
    alert_webhook_per_minute: int = Field(
        default=10, ge=1, le=600, validation_alias=_env("DASHBOARD_ALERT_WEBHOOK_PER_MINUTE")
    )
    alert_webhook_attempts: int = Field(
        default=5, ge=1, le=20, validation_alias=_env("DASHBOARD_ALERT_WEBHOOK_ATTEMPTS")
    )

    # Login.
    auth: Literal["auto", "on", "off"] = Field(
        default="auto", validation_alias=_env("DASHBOARD_AUTH")
    )
    username: str | None = Field(default=None, validation_alias=_env("DASHBOARD_USERNAME"))
    password_hash: SecretStr | None = Field(
        default=None, validation_alias=_env("DASHBOARD_PASSWORD_HASH")
    )
    secret_key: SecretStr | None = Field(
        default=None, validation_alias=_env("DASHBOARD_SECRET_KEY")
    )

    host: str = Field(default="127.0.0.1", validation_alias=_env("DASHBOARD_HOST"))
    port: int = Field(default=8050, ge=1, le=65535, validation_alias=_env("DASHBOARD_PORT", "PORT"))

    # Embedded simulator (demo mode).
    simulator_url: str | None = Field(
        default=None, validation_alias=_env("DASHBOARD_SIMULATOR_URL")
    )
    sim_seed: int = Field(default=7, validation_alias=_env("DASHBOARD_SIM_SEED"))
    sim_speed: float = Field(
        default=60.0, gt=0, le=100000, validation_alias=_env("DASHBOARD_SIM_SPEED")
    )
    sim_snapshot: Path | None = Field(default=None, validation_alias=_env("DASHBOARD_SIM_SNAPSHOT"))
    simulator_port: int = Field(
        default=18765, ge=1, le=65535, validation_alias=_env("DASHBOARD_SIMULATOR_PORT")
    )

    @field_validator("watchlist", mode="before")
    @classmethod
    def _split_watchlist(cls, value: Any) -> Any:
        if isinstance(value, str):
            symbols = tuple(s.strip().upper() for s in value.split(",") if s.strip())
            if not symbols:
                raise ValueError("must list at least one symbol, e.g. SPY,QQQ")
            for s in symbols:
                if not is_ticker(s):
                    raise ValueError(f"{s!r} is not a ticker symbol")
            return symbols
        return value

    @field_validator("penny_symbols", mode="before")
    @classmethod
    def _split_penny_symbols(cls, value: Any) -> Any:
        if isinstance(value, str):
            symbols = tuple(s.strip().upper() for s in value.split(",") if s.strip())
            for s in symbols:
                if not s.replace(".", "").isalnum() or len(s) > 10:
                    raise ValueError(f"{s!r} is not a ticker symbol")
            return symbols
        return value

    @field_validator("penny_file")
    @classmethod
    def _check_penny_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            from dashboard.trading.ticket import tick_table_for

            tick_table_for(value)  # ValueError with the reason: unreadable, not JSON, bad field
        return value

    @field_validator(
        "alpaca_key_id",
        "alpaca_secret_key",
        "password_hash",
        "secret_key",
        "redis_url",
        "database_url_setting",
        "alpaca_trading_url_setting",
        "alpaca_data_url_setting",
        "thetadata_url",
        "simulator_url",
        "sim_snapshot",
        "alert_webhook_url",
        "penny_file",
        "risk_per_trade_dollars",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("alert_rules_off", mode="before")
    @classmethod
    def _split_rules_off(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_rules_off(value.split(","))
        return value

    @field_validator("alert_signal_timeframes_setting", mode="before")
    @classmethod
    def _split_signal_timeframes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES

        items = tuple(x.strip() for x in value.split(",") if x.strip())
        if items in ((), ("none",)):
            return ()
        for tf in items:
            if tf not in SIGNAL_TIMEFRAMES:
                raise ValueError(
                    f"{tf!r} is not a signal board timeframe ({', '.join(SIGNAL_TIMEFRAMES)}, "
                    "or none)"
                )
        return items

    @field_validator("alert_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: SecretStr | None) -> SecretStr | None:
        """Never echoes the URL: it carries the webhook's token."""
        if value is None:
            return None
        url = _http_url(value.get_secret_value())
        if urlsplit(url).scheme != "https" and _host(url) not in _LOOPBACK_HOSTS:
            raise ValueError(
                "must be an https:// URL (http:// only for a receiver on this machine)"
            )
        return SecretStr(url)

    @field_validator(
        "alpaca_trading_url_setting", "alpaca_data_url_setting", "thetadata_url", "simulator_url"
    )
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("simulator_url")
    @classmethod
    def _simulator_is_not_alpaca(cls, value: str | None) -> str | None:
        if value is not None and is_alpaca_host(value):
            raise ValueError("points at Alpaca; demo mode sends its orders to the simulator only")
        return value

    @field_validator("database_url_setting")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value.get_secret_value().strip())
        except (ArgumentError, ValueError):
            raise ValueError(
                "is not a database URL (postgresql://user:password@host:5432/db or "
                "sqlite:///path/journal.sqlite)"
            ) from None
        if url.drivername not in _DATABASE_SCHEMES:
            raise ValueError(
                f"{url.drivername!r} is not supported: use postgresql:// (psycopg 3) or sqlite:///"
            )
        if url.drivername != "sqlite" and not url.host:
            raise ValueError("a Postgres URL must name a host")
        if url.drivername != "sqlite" and not url.database:
            raise ValueError("a Postgres URL must name a database")
        if url.drivername == "sqlite" and not url.database:
            raise ValueError("a SQLite URL must name a file: sqlite:///path/journal.sqlite")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value().strip()
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise ValueError("is not a valid URL") from None
        if parts.scheme not in _REDIS_SCHEMES:
            raise ValueError("must start with redis://, rediss:// or unix://")
        if parts.scheme != "unix" and not parts.hostname:
            raise ValueError("must name a host, e.g. redis://host:6379/0")
        if parts.scheme == "unix" and not parts.path:
            raise ValueError("must name a socket path, e.g. unix:///run/redis.sock")
        return SecretStr(text)

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        host = value.strip().strip("[]")
        if not host or not _HOST.fullmatch(host):
            raise ValueError("must be an address or a host name, e.g. 127.0.0.1 or 0.0.0.0")
        return host

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value

    @field_validator("password_hash")
    @classmethod
    def _check_password_hash(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _BCRYPT_HASH.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "is not a bcrypt hash; make one with python -m dashboard.security.hash_password"
            )
        return None if value is None else SecretStr(value.get_secret_value().strip())

    @field_validator("data_dir", "sim_snapshot")
    @classmethod
    def _check_path(cls, value: Path | None) -> Path | None:
        if value is not None and ("\x00" in str(value) or not str(value).strip()):
            raise ValueError("is not a usable path")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        has_key = self.alpaca_key_id is not None
        has_secret = self.alpaca_secret_key is not None
        if has_key != has_secret:
            missing = "APCA_API_SECRET_KEY" if has_key else "APCA_API_KEY_ID"
            raise ValueError(f"{missing}: both the Alpaca key id and secret key must be set")
        if self.mode_setting == "alpaca" and not has_key:
            raise ValueError(
                "DASHBOARD_MODE: 'alpaca' needs APCA_API_KEY_ID and APCA_API_SECRET_KEY"
            )
        if not self.alpaca_paper and not self.alpaca_live_trading:
            raise ValueError(
                "ALPACA_PAPER: live trading needs the explicit opt-in ALPACA_LIVE_TRADING=1"
            )
        if self.alpaca_live_trading and self.alpaca_paper:
            raise ValueError("ALPACA_LIVE_TRADING: set ALPACA_PAPER=false as well to trade live")
        if (
            self.alpaca_trading_url_setting is not None
            and is_live_trading_url(self.alpaca_trading_url_setting)
            and not self.live_opt_in
        ):
            raise ValueError(
                "APCA_API_BASE_URL: points at Alpaca's live host; live trading needs "
                "ALPACA_PAPER=false and ALPACA_LIVE_TRADING=1"
            )
        if self.auth == "on" and (not self.username or self.password_hash is None):
            raise ValueError(
                "DASHBOARD_AUTH: 'on' needs DASHBOARD_USERNAME and DASHBOARD_PASSWORD_HASH"
            )
        return self

    # Derived values, so callers never re-derive them differently.
    def tick_table(self) -> TickTable:
        """The option tick grid in force: the shipped Penny list, or ``DASHBOARD_PENNY_FILE``,
        plus ``DASHBOARD_PENNY_SYMBOLS``. The ticket, the chain's suggested limit, the exit
        monitor and armed entries all price with it."""
        from dashboard.trading.ticket import tick_table_for

        return tick_table_for(self.penny_file, tuple(self.penny_symbols))

    @property
    def mode(self) -> Literal["demo", "alpaca"]:
        if self.mode_setting is not None:
            return self.mode_setting
        return "alpaca" if self.alpaca_key_id is not None else "demo"

    @property
    def live_opt_in(self) -> bool:
        """Both switches for live trading are set (not that orders go live: see ``is_live``)."""
        return not self.alpaca_paper and self.alpaca_live_trading

    @property
    def key_mismatch(self) -> str | None:
        """Why the keys look like the other environment's, or None.

        Alpaca paper key ids start with ``PK`` and live ones with ``AK``; a mismatch gets a
        401 from the broker, so saying so up front saves a confusing "not authorized".
        Only the two-letter prefix is ever quoted, never the key.
        """
        if self.mode != "alpaca" or self.alpaca_key_id is None:
            return None
        prefix = self.alpaca_key_id.get_secret_value()[:2].upper()
        if not self.is_live and prefix == "AK":
            return "These are live keys (AK…) but the paper endpoint is selected (ALPACA_PAPER)."
        if self.is_live and prefix == "PK":
            return "These are paper keys (PK…) but live trading is selected (ALPACA_PAPER=false)."
        return None

    @property
    def is_live(self) -> bool:
        """Orders go to a live account: decided by the trading URL actually used."""
        return self.mode == "alpaca" and is_live_trading_url(self.alpaca_trading_url)

    @property
    def mode_label(self) -> str:
        """What the header badge says: DEMO, PAPER or LIVE."""
        if self.mode == "demo":
            return "DEMO"
        return "LIVE" if self.is_live else "PAPER"

    @property
    def alpaca_trading_url(self) -> str:
        if self.alpaca_trading_url_setting:
            return self.alpaca_trading_url_setting.rstrip("/")
        return LIVE_TRADING_URL if self.live_opt_in else PAPER_TRADING_URL

    @property
    def alpaca_data_url(self) -> str:
        return (self.alpaca_data_url_setting or ALPACA_DATA_URL).rstrip("/")

    @property
    def database_url(self) -> str:
        """The journal's SQLAlchemy URL; Postgres always through psycopg 3, the installed
        driver (``postgres://`` from Railway or Heroku included)."""
        if self.database_url_setting is not None:
            url = self.database_url_setting.get_secret_value()
            scheme, rest = url.split("://", 1)
            return f"{_DATABASE_SCHEMES[scheme]}://{rest}"
        return f"sqlite:///{(self.data_dir / 'journal.sqlite').as_posix()}"

    @property
    def alert_signal_timeframes(self) -> tuple[str, ...]:
        """Timeframes whose signals alert by default: every signal board timeframe unless
        DASHBOARD_ALERT_SIGNAL_TIMEFRAMES narrows them (per-pair switches come on top)."""
        if self.alert_signal_timeframes_setting is not None:
            return self.alert_signal_timeframes_setting
        from dashboard.strat.watchlist import SIGNAL_TIMEFRAMES

        return SIGNAL_TIMEFRAMES

    @property
    def auth_required(self) -> bool:
        if self.auth == "off":
            return False
        if self.auth == "on":
            return True
        return bool(self.username and self.password_hash is not None)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests, and pointing demo mode at the simulator)."""
        return self.model_copy(update=changes)


_FIELD_ENV: dict[str, str] = {}


def _env_name(field: str) -> str:
    if not _FIELD_ENV:
        for name, info in Settings.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices) and alias.choices:
                _FIELD_ENV[name] = str(alias.choices[0])
    return _FIELD_ENV.get(field, field.upper())


def load_settings(
    env: dict[str, str] | None = None, *, env_file: str | Path | None = ".env"
) -> Settings:
    """Build ``Settings`` from ``env`` (default: the process environment) or fail in one line.

    The message names the variable and the problem, never the value, so a mistyped
    secret is not echoed into logs.
    """
    try:
        if env is None:
            return Settings(_env_file=env_file)  # type: ignore[call-arg]
        return Settings.model_validate({k: v for k, v in env.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc") or ()
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if loc:
            raise SettingsError(f"{_env_name(str(loc[0]))}: {msg}") from None
        raise SettingsError(msg) from None
