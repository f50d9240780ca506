"""Session login for the whole app: every route but ``/healthz`` and the login page needs it.

Dash's own routes (``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component``)
are guarded like pages, because they are how a browser reads data and sends orders.
Failures are counted per client address and per user in a store shared by workers, so a
lockout holds across gunicorn processes.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import bcrypt
from flask import Flask, Response, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

log = logging.getLogger(__name__)

OPEN_PATHS = ("/healthz", "/login", "/logout")
# The login page itself needs only its own inline form; no Dash assets are opened up.


class FailureStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, expire: float | None = None) -> Any: ...
    def delete(self, key: str) -> Any: ...


class MemoryFailureStore:
    """For tests and single-process local runs."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Any, float | None]] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value, expires = self._data.get(key, (default, None))
        if expires is not None and expires < time.time():
            self._data.pop(key, None)
            return default
        return value

    def set(self, key: str, value: Any, expire: float | None = None) -> None:
        self._data[key] = (value, time.time() + expire if expire else None)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # then locked out
    window_seconds: float = 900.0  # failures counted over this window; also the lockout time
    min_interval_seconds: float = 1.0  # rate limit between attempts from one address


class User(UserMixin):
    def __init__(self, username: str) -> None:
        self.id = username


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # a malformed hash in the environment is a failed login, not a crash
        return False


_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · STRAT Options Dashboard</title>
<style>
body{{background:#090008;color:#e6e1ea;font-family:Inter,"Segoe UI",Roboto,Arial,sans-serif;
display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}}
form{{background:#15101a;border:1px solid #2e2535;border-radius:8px;padding:2rem;width:min(22rem,90vw)}}
label{{display:block;margin:.75rem 0 .25rem;font-size:.85rem;color:#9c93a6}}
input{{width:100%;box-sizing:border-box;padding:.5rem;background:#090008;color:#e6e1ea;border:1px solid #2e2535;border-radius:4px}}
button{{margin-top:1.25rem;width:100%;padding:.6rem;background:#375a7f;color:#fff;border:0;border-radius:4px;font-weight:600}}
.err{{color:#ef5350;margin-top:.75rem;font-size:.9rem}}
</style></head><body><form method="post" action="/login" id="login-form">
<h1 style="font-size:1.2rem;margin:0 0 .5rem">STRAT Options Dashboard</h1>
<div style="font-size:.8rem;color:#9c93a6">Mode: {mode}</div>
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit" id="login-submit">Sign in</button>{error}</form></body></html>"""


def _login_page(mode: str, next_url: str = "/", error: str = "", status: int = 200) -> Response:
    err = f'<div class="err" id="login-error">{html.escape(error)}</div>' if error else ""
    body = _LOGIN_PAGE.format(mode=html.escape(mode), next=html.escape(next_url), error=err)
    return Response(body, status=status, mimetype="text/html")


def _safe_next(url: str | None) -> str:
    if not url or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def install_login(
    server: Flask,
    *,
    username: str,
    password_hash: str,
    mode_label: str,
    failures: FailureStore,
    policy: LoginPolicy = LoginPolicy(),
    clock: Callable[[], float] = time.time,
) -> None:
    """Protect every route of ``server`` with a session login."""
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if hmac.compare_digest(user_id, username) else None

    @server.before_request
    def require_login() -> Response | None:
        path = request.path
        if path in OPEN_PATHS or current_user.is_authenticated:
            return None
        if path.startswith("/_dash-") or request.method != "GET":
            return Response('{"error":"login required"}', status=401, mimetype="application/json")
        return redirect(f"/login?next={path}")

    def _keys(user: str) -> tuple[str, str]:
        return (f"login-fail:ip:{request.remote_addr}", f"login-fail:user:{user}")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        if request.method == "GET":
            return _login_page(mode_label, _safe_next(request.args.get("next")))
        user = request.form.get("username", "")[:200]
        password = request.form.get("password", "")[:1000]
        next_url = _safe_next(request.form.get("next"))
        now = clock()
        ip_key, user_key = _keys(user)
        last = failures.get(f"login-last:{request.remote_addr}", 0.0)
        failures.set(f"login-last:{request.remote_addr}", now, expire=policy.window_seconds)
        counts = [failures.get(k, 0) for k in (ip_key, user_key)]
        if max(counts) >= policy.max_failures:
            log.warning("login locked out for %s", request.remote_addr)
            return _login_page(
                mode_label,
                next_url,
                "Too many failed attempts. Try again in 15 minutes.",
                status=429,
            )
        if now - last < policy.min_interval_seconds:
            return _login_page(
                mode_label, next_url, "Too many attempts. Wait a second and retry.", 429
            )
        ok = hmac.compare_digest(user, username) and verify_password(password, password_hash)
        if not ok:
            for k, c in zip((ip_key, user_key), counts, strict=True):
                failures.set(k, c + 1, expire=policy.window_seconds)
            log.info("failed login from %s", request.remote_addr)
            return _login_page(mode_label, next_url, "Wrong username or password.", status=401)
        for k in (ip_key, user_key):
            failures.delete(k)
        session.clear()
        login_user(User(username))
        return redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Response:
        logout_user()
        session.clear()
        return redirect("/login")


def configure_session_cookies(server: Flask, *, secret_key: str | None, secure: bool) -> None:
    """HttpOnly and SameSite always; Secure when served over HTTPS."""
    server.secret_key = secret_key or secrets.token_hex(32)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )


def disk_failure_store(data_dir: Path) -> FailureStore:
    """Failures shared by every worker on this machine."""
    import diskcache

    return diskcache.Cache(str(data_dir / "cache" / "login"))
