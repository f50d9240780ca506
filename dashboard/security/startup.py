"""Checks the production entry runs before it serves anything."""

from __future__ import annotations

import logging

from dashboard.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


class StartupRefused(SystemExit):
    """Raised with one line that says what to set; gunicorn prints it and exits."""


def check_production_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings for a public deployment: valid, and with a login unless explicitly off.

    A deployed dashboard can send orders, so serving it without a login must be a
    deliberate choice (``DASHBOARD_AUTH=off``), never an accident.
    """
    try:
        settings = load_settings(env) if env is not None else load_settings()
    except SettingsError as exc:
        raise StartupRefused(f"configuration error: {exc}") from None
    if settings.auth != "off" and not settings.auth_required:
        raise StartupRefused(
            "refusing to start: set DASHBOARD_USERNAME and DASHBOARD_PASSWORD_HASH "
            "(python -m dashboard.security.hash_password), or DASHBOARD_AUTH=off to serve without a login"
        )
    if settings.key_mismatch:
        log.warning("Alpaca keys: %s", settings.key_mismatch)
    return settings
