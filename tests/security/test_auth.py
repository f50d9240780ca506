"""Login: every route refused without a session, wrong passwords refused, lockout, logout."""

from __future__ import annotations

import secrets

import pytest
from dash import Dash, html

from dashboard.security.auth import (
    LoginPolicy,
    MemoryFailureStore,
    configure_session_cookies,
    hash_password,
    install_login,
    verify_password,
)
from dashboard.security.headers import install_security_headers
from dashboard.security.startup import StartupRefused, check_production_settings

PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        self.t += 2.0  # every attempt is 2 s after the last: under the rate limit
        return self.t


@pytest.fixture
def client():
    app = Dash(__name__)
    app.layout = html.Div("secret dashboard", id="root")
    configure_session_cookies(app.server, secret_key=secrets.token_hex(32), secure=False)
    install_security_headers(app, https=False)
    install_login(
        app.server,
        username="trader",
        password_hash=HASH,
        mode_label="PAPER",
        failures=MemoryFailureStore(),
        policy=LoginPolicy(max_failures=3, window_seconds=600, min_interval_seconds=1.0),
        clock=FakeClock(),
    )

    @app.server.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app.server.test_client()


PROTECTED = [
    "/",
    "/_dash-layout",
    "/_dash-dependencies",
    "/assets/10-dashboard.css",
    "/_reload-hash",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_unauthenticated_get_is_refused(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    assert b"secret dashboard" not in response.data


def test_unauthenticated_callback_post_is_401(client) -> None:
    response = client.post("/_dash-update-component", json={"output": "x.children"})
    assert response.status_code == 401


def test_healthz_stays_open(client) -> None:
    assert client.get("/healthz").status_code == 200


def test_wrong_password_refused_then_right_one_works(client) -> None:
    bad = client.post("/login", data={"username": "trader", "password": "nope"})
    assert bad.status_code == 401
    assert b"Wrong username or password" in bad.data
    good = client.post("/login", data={"username": "trader", "password": PASSWORD, "next": "/"})
    assert good.status_code == 302
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/_dash-layout").status_code == 200
    client.get("/logout")
    assert client.get("/_dash-layout").status_code == 401


def test_repeated_failures_lock_out_even_the_right_password(client) -> None:
    for _ in range(3):
        assert (
            client.post("/login", data={"username": "trader", "password": "x"}).status_code == 401
        )
    locked = client.post("/login", data={"username": "trader", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.data


def test_open_redirect_is_not_followed(client) -> None:
    r = client.post(
        "/login", data={"username": "trader", "password": PASSWORD, "next": "//evil.example"}
    )
    assert r.headers["Location"] == "/"


def test_security_headers_present(client) -> None:
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-eval'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"


def test_password_hash_round_trip() -> None:
    assert verify_password(PASSWORD, HASH)
    assert not verify_password("other", HASH)
    assert not verify_password(PASSWORD, "not-a-bcrypt-hash")


def test_production_refuses_to_start_without_login() -> None:
    with pytest.raises(StartupRefused) as info:
        check_production_settings({})
    assert "DASHBOARD_USERNAME" in str(info.value)
    assert check_production_settings({"DASHBOARD_AUTH": "off"}).auth == "off"
    ok = check_production_settings({"DASHBOARD_USERNAME": "u", "DASHBOARD_PASSWORD_HASH": HASH})
    assert ok.auth_required
