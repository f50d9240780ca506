"""Login and secret hygiene through a real browser session.

One app in Alpaca mode (badge PAPER) pointed at the simulator with marker key strings
(the simulator accepts any key), login on. The markers must reach the upstream requests
but never a response the browser sees, across every tab.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from dashboard.security.auth import hash_password
from tests.e2e.conftest import TAB_IDS, LiveApp, open_page, show_tab, start_live_app, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

USERNAME = "e2e-trader"
PASSWORD = "e2e correct horse battery"
# Random markers made per run: nothing key-shaped is committed, and a leak is unambiguous.
KEY_ID = f"marker-key-id-{secrets.token_hex(8)}"
SECRET = f"marker-secret-{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_live_app(
        tmp_path_factory.mktemp("e2e-security"),
        simulator_url=None,  # Alpaca mode: build_services uses the URLs and keys as given
        mode_setting="alpaca",
        alpaca_key_id=SecretStr(KEY_ID),
        alpaca_secret_key=SecretStr(SECRET),
        auth="on",
        username=USERNAME,
        password_hash=SecretStr(hash_password(PASSWORD)),
        secret_key=SecretStr(secrets.token_hex(32)),
    )
    try:
        yield app
    finally:
        app.stop()


def _login(page: Any, password: str) -> None:
    page.fill("#username", USERNAME)
    page.fill("#password", password)
    page.click("#login-submit")


def test_login_required(browser, live: LiveApp) -> None:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as c:
        root = c.get("/")
        assert root.status_code == 302 and root.headers["location"].startswith("/login")
        assert c.get("/_dash-layout").status_code in (302, 401)
        assert c.post("/_dash-update-component", json={}).status_code == 401
        assert c.get("/healthz").status_code == 200

    page, watch = open_page(browser, live.url)
    try:
        page.wait_for_selector("#login-form")
        assert "/login" in page.url
        _login(page, "not the password")
        page.wait_for_selector("#login-error")
        assert "Wrong username or password" in page.inner_text("#login-error")
        page.wait_for_timeout(1100)  # the login rate limit: one attempt per second
        _login(page, PASSWORD)
        page.wait_for_selector("#main-tabs", timeout=30_000)
        assert page.inner_text("#header-mode-badge") == "PAPER"
        # The failed login's 401 is the page's own; the app after login is clean.
        assert not watch.failed_callbacks
    finally:
        page.context.close()


def test_no_key_value_in_any_response(browser, live: LiveApp, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every thread of the app
    responses: list[Any] = []
    page, watch = open_page(browser, live.url)
    page.on("response", lambda r: responses.append(r))
    try:
        page.wait_for_selector("#login-form")
        _login(page, PASSWORD)
        page.wait_for_selector("#main-tabs", timeout=30_000)
        wait_until(
            lambda: page.inner_text("#header-connection-badge") == "CONNECTED",
            timeout=30,
            what="the app to reach the simulator with the marker keys",
        )
        for tab in TAB_IDS:
            show_tab(page, tab)
            page.wait_for_timeout(1500)
        page.click(
            "#options-signals-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell"
        )
        wait_until(
            lambda: page.inner_text("#options-ticket-state").startswith("Ready:"),
            timeout=45,
            what="a signal loaded (chain and contract requests made)",
        )
        bodies = []
        for r in responses:
            try:
                bodies.append((r.url, r.body()))
            except Exception:  # redirects have no body
                continue
        bodies.append(("page", page.content().encode()))
        assert len(bodies) > 20
        assert any("_dash-update-component" in u for u, _ in bodies)
        for marker in (KEY_ID, SECRET):
            leaks = [u for u, b in bodies if marker.encode() in b]
            assert not leaks, f"{marker[:6]}… found in {leaks}"
            assert marker not in caplog.text, f"{marker[:6]}… found in the logs"
        assert caplog.records  # the session did log (requests, fits), so the check means something
        watch.assert_clean()
    finally:
        page.context.close()
