"""Session login for the whole app: every route but ``/healthz`` and the login page needs it.

Dash's own routes (``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component``)
are guarded like pages, because they are how a browser reads data and sends orders.

Throttling policy (issue 23). Every attempt passes gates *before* its password is
checked; a gate is GCRA (``data_loaders.budget.admit``) in a store every worker shares
(Redis, or diskcache on one host), one atomic update per attempt, so a burst of
simultaneous guesses, on one worker or several, checks no more passwords than allowed:

- per address: one attempt a second, and ``address_burst`` attempts, then one more every
  ``address_interval`` seconds (5, then one per 3 minutes: the attacker's own address
  slows down, nobody else's);
- per username, for browsers that have not signed in before: ``user_burst`` attempts,
  then one every ``user_interval`` seconds however many addresses guess (5, then one a
  minute). This is a bounded backoff, not a lockout: it never grows past one attempt a
  minute and it never holds back the owner's own browser;
- a browser that signed in before carries a signed device cookie (HttpOnly,
  SameSite=Strict, ``device_days``) and skips the username gate, so a stranger guessing
  at the username cannot lock the owner out. A success clears the gates.

Usernames are compared byte-wise on their UTF-8 (NFC) form, so ``josé`` signs in. An
unknown username is checked against a dummy bcrypt hash of the same cost as the real
one, so it takes as long as a wrong password. Each login registers a server-side
session id (``sessions.py``); logout deletes it, so a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import bcrypt
from flask import Flask, Response, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from dashboard.data_loaders.budget import (
    BudgetStore,
    DiskBudgetStore,
    RedisBudgetStore,
)
from dashboard.security.sessions import (
    DiskSessionStore,
    MemorySessionStore,
    RedisSessionStore,
    SessionStore,
    session_key,
)

if TYPE_CHECKING:
    from dashboard.settings import Settings

log = logging.getLogger(__name__)

OPEN_PATHS = ("/healthz", "/login", "/logout")
# The login page itself needs only its own inline form; no Dash assets are opened up.
DEVICE_COOKIE = "strat_device"
MAX_USERNAME_CHARS = 200
MAX_PASSWORD_CHARS = 1000
MAX_NEXT_CHARS = 2000


@dataclass(frozen=True)
class LoginPolicy:
    address_burst: int = 5
    address_interval: float = 180.0  # after the burst: one more attempt per 3 min per address
    user_burst: int = 5
    user_interval: float = 60.0  # after the burst: one attempt a minute per username
    min_interval_seconds: float = 1.0  # between attempts from one address
    device_days: float = 90.0
    session_seconds: float = 12 * 3600.0  # matches PERMANENT_SESSION_LIFETIME


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


def _canonical(username: str) -> bytes:
    """The bytes usernames are compared by: UTF-8 of the NFC form."""
    return unicodedata.normalize("NFC", username).encode("utf-8", "surrogatepass")


def same_user(a: str, b: str) -> bool:
    """Byte-wise, constant-time (``hmac.compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(_canonical(a), _canonical(b))


def dummy_hash_like(password_hash: str) -> str:
    """A bcrypt hash of a random secret with the same cost as ``password_hash``, so an
    unknown username costs one verification of the same work as a wrong password."""
    match = re.match(r"^\$2[abxy]?\$(\d{2})\$", password_hash)
    rounds = int(match.group(1)) if match else 12
    rounds = min(max(rounds, 4), 31)
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds)).decode()


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


def _safe_next(url: Any) -> str:
    """Where to go after signing in: a path on this site, decided by parsing; else "/".

    Refused: anything not text, too long, with a control character or a backslash
    (browsers strip or rewrite those, e.g. ``/<TAB>/evil.example`` became
    ``//evil.example``), a scheme or host, or a path that does not start with exactly
    one slash.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_NEXT_CHARS:
        return "/"
    if "\\" in url or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return "/"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    if parts.scheme or parts.netloc:
        return "/"
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment)) or "/"


def _field(name: str, limit: int) -> str:
    value = request.form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _user_digest(user: str) -> str:
    return hashlib.sha256(_canonical(user)).hexdigest()[:32]


class LoginGates:
    """The per-address and per-username gates of the policy (see the module docstring)."""

    def __init__(self, store: BudgetStore, policy: LoginPolicy) -> None:
        self.store = store
        self.policy = policy

    def _take(self, key: str, interval: float, burst: int) -> bool:
        tolerance = (burst - 1) * interval
        wait = self.store.admit(key, interval, tolerance, 0.0)
        return wait is not None and wait >= 0

    def admit(self, address: str, user: str, known_device: bool) -> str | None:
        """None when this attempt may check its password, else the refusal's text."""
        p = self.policy
        if not self._take(f"login:space:{address}", p.min_interval_seconds, 1):
            return "Too many attempts. Wait a second and retry."
        if not self._take(f"login:addr:{address}", p.address_interval, p.address_burst):
            minutes = max(1, round(p.address_interval / 60))
            return f"Too many failed attempts from this address. Try again in {minutes} min."
        if not known_device and not self._take(
            f"login:user:{_user_digest(user)}", p.user_interval, p.user_burst
        ):
            return (
                f"Too many attempts at this username. Wait {p.user_interval:.0f} s and retry; "
                "a browser you have signed in from before is not held back."
            )
        return None

    def succeeded(self, address: str, user: str) -> None:
        for key in (f"login:addr:{address}", f"login:user:{_user_digest(user)}"):
            self.store.reset(key)


def install_login(
    server: Flask,
    *,
    username: str,
    password_hash: str,
    mode_label: str,
    failures: BudgetStore,  # the gates' store: GCRA state shared by every worker
    sessions: SessionStore | None = None,
    policy: LoginPolicy = LoginPolicy(),
) -> None:
    """Protect every route of ``server`` with a session login (policy: module docstring)."""
    manager = LoginManager()
    manager.init_app(server)
    gates = LoginGates(failures, policy)
    registry: SessionStore = sessions if sessions is not None else MemorySessionStore()
    dummy_hash = dummy_hash_like(password_hash)
    devices = URLSafeTimedSerializer(str(server.secret_key), salt="strat-login-device")

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not same_user(user_id, username):
            return None
        sid = session.get("sid")
        if not isinstance(sid, str) or registry.get(session_key(sid)) is None:
            return None  # logged out (or never registered): the cookie alone proves nothing
        return User(username)

    @server.before_request
    def require_login() -> BaseResponse | None:
        path = request.path
        if path in OPEN_PATHS or current_user.is_authenticated:
            return None
        if path.startswith("/_dash-") or request.method != "GET":
            return Response('{"error":"login required"}', status=401, mimetype="application/json")
        return redirect("/login?" + urlencode({"next": _safe_next(path)}))

    def known_device() -> bool:
        token = request.cookies.get(DEVICE_COOKIE, "")
        if not token or len(token) > 500:
            return False
        try:
            digest = devices.loads(token, max_age=int(policy.device_days * 86400))
        except BadSignature:
            return False
        return isinstance(digest, str) and hmac.compare_digest(digest, _user_digest(username))

    def page(next_url: str, error: str = "", status: int = 200, retry: float = 0) -> Response:
        resp = _login_page(mode_label, next_url, error, status)
        resp.headers["Cache-Control"] = "no-store"
        if retry:
            resp.headers["Retry-After"] = str(int(retry))
        return resp

    @server.route("/login", methods=["GET", "POST"])
    def login() -> BaseResponse:
        if request.method == "GET":
            return page(_safe_next(request.args.get("next")))
        user = _field("username", MAX_USERNAME_CHARS)
        password = _field("password", MAX_PASSWORD_CHARS)
        next_url = _safe_next(request.form.get("next"))
        address = request.remote_addr or "unknown"
        refusal = gates.admit(address, user, known_device())
        if refusal is not None:
            log.warning("login throttled for %s", address)
            return page(next_url, refusal, status=429, retry=policy.min_interval_seconds)
        # Exactly one bcrypt verification whether or not the username exists.
        is_user = same_user(user, username)
        ok = verify_password(password, password_hash if is_user else dummy_hash) and is_user
        if not ok:
            log.info("failed login from %s", address)
            return page(next_url, "Wrong username or password.", status=401)
        gates.succeeded(address, user)
        session.clear()
        sid = secrets.token_urlsafe(32)
        registry.set(session_key(sid), username, policy.session_seconds)
        session["sid"] = sid
        login_user(User(username))
        resp = redirect(next_url)
        resp.headers["Cache-Control"] = "no-store"
        resp.set_cookie(
            DEVICE_COOKIE,
            devices.dumps(_user_digest(username)),
            max_age=int(policy.device_days * 86400),
            httponly=True,
            samesite="Strict",
            secure=bool(server.config.get("SESSION_COOKIE_SECURE")),
            path="/login",
        )
        return resp

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> BaseResponse:
        sid = session.get("sid")
        if isinstance(sid, str):
            registry.delete(session_key(sid))
        logout_user()
        session.clear()
        resp = redirect("/login")
        resp.headers["Cache-Control"] = "no-store"
        return resp


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


def disk_failure_store(data_dir: Path) -> BudgetStore:
    """Login gates shared by every worker on this machine."""
    return DiskBudgetStore(data_dir / "cache" / "login")


def login_stores(settings: Settings) -> Mapping[str, Any]:
    """The gates' and sessions' stores for ``install_login``: Redis when ``REDIS_URL`` is
    set (every worker on every host), else diskcache in ``data_dir`` (one host)."""
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        return {"failures": RedisBudgetStore(url), "sessions": RedisSessionStore(url)}
    return {
        "failures": disk_failure_store(settings.data_dir),
        "sessions": DiskSessionStore(settings.data_dir / "cache" / "sessions"),
    }
