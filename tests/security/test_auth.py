"""Login: every route refused without a session, wrong passwords refused, throttling that
holds under bursts and across workers without locking the owner out, byte-wise
usernames, equal cost for unknown users, server-side logout and safe redirects."""

from __future__ import annotations

import secrets
import threading
import uuid
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from dash import Dash, html

from dashboard.data_loaders.budget import (
    BudgetStore,
    DiskBudgetStore,
    MemoryBudgetStore,
    RedisBudgetStore,
)
from dashboard.security import auth
from dashboard.security.auth import (
    DEVICE_COOKIE,
    LoginPolicy,
    _safe_next,
    configure_session_cookies,
    install_login,
    same_user,
    verify_password,
)
from dashboard.security.headers import install_security_headers
from dashboard.security.sessions import MemorySessionStore, SessionStore
from dashboard.security.startup import StartupRefused, check_production_settings

PASSWORD = "correct horse battery"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()  # cheap for tests
POLICY = LoginPolicy(address_burst=3, address_interval=600.0, user_burst=5, user_interval=60.0)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def make_app(
    store: BudgetStore,
    *,
    username: str = "trader",
    password_hash: str = HASH,
    sessions: SessionStore | None = None,
    secret: str | None = None,
    policy: LoginPolicy = POLICY,
) -> Any:
    app = Dash(__name__)
    app.layout = html.Div("secret dashboard", id="root")
    configure_session_cookies(app.server, secret_key=secret or secrets.token_hex(32), secure=False)
    install_security_headers(app, https=False)
    install_login(
        app.server,
        username=username,
        password_hash=password_hash,
        mode_label="PAPER",
        failures=store,
        sessions=sessions if sessions is not None else MemorySessionStore(),
        policy=policy,
    )

    @app.server.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app.server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> Any:
    return make_app(MemoryBudgetStore(clock=clock)).test_client()


def attempt(
    client: Any, password: str, *, user: str = "trader", addr: str = "10.0.0.1", **form: str
) -> Any:
    return client.post(
        "/login",
        data={"username": user, "password": password, **form},
        environ_base={"REMOTE_ADDR": addr},
    )


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every bcrypt verification the login makes, by the hash it was checked against."""
    seen: list[bytes] = []
    real = bcrypt.checkpw
    lock = threading.Lock()

    def counting(password: bytes, hashed: bytes) -> bool:
        with lock:
            seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(auth.bcrypt, "checkpw", counting)
    return seen


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


def test_wrong_password_refused_then_right_one_works(client, clock: FakeClock) -> None:
    bad = attempt(client, "nope")
    assert bad.status_code == 401
    assert b"Wrong username or password" in bad.data
    clock.t += 2
    good = attempt(client, PASSWORD, next="/")
    assert good.status_code == 302
    cookie = next(h for h in good.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    device = next(h for h in good.headers.getlist("Set-Cookie") if h.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/login" in device
    assert client.get("/_dash-layout").status_code == 200
    client.get("/logout")
    assert client.get("/_dash-layout").status_code == 401


def test_repeated_failures_throttle_the_attackers_address(client, clock: FakeClock) -> None:
    for _ in range(POLICY.address_burst):
        clock.t += 2
        assert attempt(client, "x").status_code == 401
    clock.t += 2
    locked = attempt(client, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed attempts from this address" in locked.data
    assert locked.headers["Retry-After"] == "1"
    # Bounded: one more attempt per address_interval, never a permanent lockout.
    clock.t += POLICY.address_interval
    assert attempt(client, PASSWORD).status_code == 302


def test_one_attempt_per_second_per_address(client, clock: FakeClock) -> None:
    assert attempt(client, "x").status_code == 401
    too_soon = attempt(client, PASSWORD)
    assert too_soon.status_code == 429 and b"Wait a second" in too_soon.data


def test_a_stranger_cannot_lock_the_owner_out(clock: FakeClock) -> None:
    """Guesses from many addresses close the username gate for unknown browsers, with a
    bounded backoff; the owner's browser that signed in before is never held back."""
    server = make_app(MemoryBudgetStore(clock=clock))
    owner = server.test_client()
    clock.t += 2
    assert attempt(owner, PASSWORD, addr="192.0.2.7").status_code == 302
    assert owner.get_cookie(DEVICE_COOKIE, path="/login") is not None
    owner.get("/logout")
    stranger = server.test_client()
    for i in range(40):  # every guess from a new address: the address gates never close
        clock.t += 2
        attempt(stranger, f"guess-{i}", addr=f"198.51.100.{i}")
    clock.t += 2
    # A new browser trying the right password waits, but only one interval at most.
    newcomer = server.test_client()
    held = attempt(newcomer, PASSWORD, addr="203.0.113.9")
    assert held.status_code == 429 and b"Too many attempts at this username" in held.data
    clock.t += POLICY.user_interval
    assert attempt(newcomer, PASSWORD, addr="203.0.113.9").status_code == 302
    # The owner's own browser goes straight in, whatever the strangers did.
    for i in range(40, 60):
        clock.t += 2
        attempt(stranger, f"guess-{i}", addr=f"198.51.100.{i}")
    clock.t += 2
    assert attempt(owner, PASSWORD, addr="192.0.2.7").status_code == 302
    assert owner.get("/_dash-layout").status_code == 200


def _burst(servers: list[Any], n: int) -> list[int]:
    """``n`` wrong guesses at once from ``n`` addresses, spread over ``servers``."""
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one(i: int) -> None:
        c = servers[i % len(servers)].test_client()
        start.wait()
        code = attempt(c, f"wrong-{i}", addr=f"10.1.{i // 250}.{i % 250}").status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_a_burst_checks_no_more_passwords_than_the_policy(
    tmp_path: Path, checks: list[bytes]
) -> None:
    """16 simultaneous guesses on two "workers" sharing one diskcache: exactly
    ``user_burst`` passwords are checked (the gate counts atomically, before checking)."""
    servers = [make_app(DiskBudgetStore(tmp_path / "login")) for _ in range(2)]
    codes = _burst(servers, 16)
    assert len(checks) == POLICY.user_burst
    assert sorted(codes) == [401] * POLICY.user_burst + [429] * (16 - POLICY.user_burst)


def test_a_burst_across_workers_on_redis(redis_url: str, checks: list[bytes]) -> None:
    prefix = uuid.uuid4().hex + ":"  # one Redis serves every test
    servers = [make_app(_Prefixed(RedisBudgetStore(redis_url), prefix)) for _ in range(2)]
    codes = _burst(servers, 16)
    assert len(checks) == POLICY.user_burst
    assert sorted(codes) == [401] * POLICY.user_burst + [429] * (16 - POLICY.user_burst)


class _Prefixed:
    """A store whose keys carry a per-test prefix (one Redis serves every test)."""

    def __init__(self, store: Any, prefix: str) -> None:
        self.store, self.prefix, self.name = store, prefix, store.name

    def admit(self, key: str, *args: Any) -> Any:
        return self.store.admit(self.prefix + key, *args)

    def reset(self, key: str) -> None:
        self.store.reset(self.prefix + key)


def test_non_ascii_usernames_sign_in_and_never_500(clock: FakeClock) -> None:
    server = make_app(MemoryBudgetStore(clock=clock), username="josé")
    c = server.test_client()
    assert attempt(c, PASSWORD, user="jose").status_code == 401
    clock.t += 2
    assert attempt(c, PASSWORD, user="Zoë 😀", addr="10.0.0.2").status_code == 401
    clock.t += 2
    assert attempt(c, PASSWORD, user="jose\u0301").status_code == 302  # NFD form of josé
    assert c.get("/_dash-layout").status_code == 200
    assert same_user("josé", "jose\u0301") and not same_user("josé", "jose")


def test_unknown_user_costs_one_verification_of_the_same_work(
    client, clock: FakeClock, checks: list[bytes]
) -> None:
    """No wall clock: an unknown username and a wrong password each make exactly one
    bcrypt verification, against hashes of the same cost."""
    assert attempt(client, "wrong", user="nobody").status_code == 401
    clock.t += 2
    assert attempt(client, "wrong", user="trader").status_code == 401
    assert len(checks) == 2
    dummy, real = checks
    assert real == HASH.encode()
    assert dummy != real and dummy[:7] == real[:7]  # "$2b$04$": same algorithm and cost


def test_logout_revokes_the_session_server_side(clock: FakeClock) -> None:
    server = make_app(MemoryBudgetStore(clock=clock))
    c = server.test_client()
    assert attempt(c, PASSWORD).status_code == 302
    stolen = c.get_cookie("session")
    assert stolen is not None
    thief = server.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/_dash-layout").status_code == 200  # a copy works while signed in
    c.get("/logout")
    assert thief.get("/_dash-layout").status_code == 401  # and stops at logout
    assert c.get("/_dash-layout").status_code == 401


def test_sessions_are_shared_by_workers_through_the_store(clock: FakeClock) -> None:
    sessions = MemorySessionStore()
    secret = secrets.token_hex(32)
    a = make_app(MemoryBudgetStore(clock=clock), sessions=sessions, secret=secret)
    b = make_app(MemoryBudgetStore(clock=clock), sessions=sessions, secret=secret)
    ca = a.test_client()
    assert attempt(ca, PASSWORD).status_code == 302
    cb = b.test_client()
    cb.set_cookie("session", ca.get_cookie("session").value)
    assert cb.get("/_dash-layout").status_code == 200
    cb.get("/logout")  # logging out on one worker ends the session on the other
    assert ca.get("/_dash-layout").status_code == 401


def test_login_responses_are_no_store(client) -> None:
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert attempt(client, "x").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/portfolio?x=1#risk", "/portfolio?x=1#risk"),
        ("/", "/"),
        ("//evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # a path on this site
        ("/" + "a" * 3000, "/"),
        (None, "/"),
        (["/x"], "/"),
    ],
)
def test_next_is_validated_by_parsing(raw: Any, expected: str) -> None:
    assert _safe_next(raw) == expected


def test_redirects_never_leave_the_site_or_500(client, clock: FakeClock) -> None:
    r = attempt(client, PASSWORD, next="/\t/evil.example")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    client.get("/logout")
    clock.t += 2
    r = attempt(client, PASSWORD, next="/\nSet-Cookie: x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    anon = make_app(MemoryBudgetStore(clock=clock)).test_client()
    r = anon.get("/%0A%0Devil")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")


def test_open_redirect_is_not_followed(client) -> None:
    r = attempt(client, PASSWORD, next="//evil.example")
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
