"""Headless Chromium (Debian's, never a downloaded one) against the app on a free port."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class ServedApp:
    url: str
    app: object
    _server: object = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()


def serve(app, host: str = "127.0.0.1") -> ServedApp:
    """Serve a Dash app with werkzeug in a daemon thread on a free port."""
    server = make_server(host, 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return ServedApp(url=f"http://{host}:{server.server_port}", app=app, _server=server)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class PageWatch:
    """Console errors and failed Dash callbacks seen by a page."""

    console_errors: list[str] = field(default_factory=list)
    failed_callbacks: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.console_errors, f"browser console errors: {self.console_errors}"
        assert not self.failed_callbacks, f"failed callbacks: {self.failed_callbacks}"


def open_page(
    browser, url: str, *, width: int = 1400, height: int = 1000
) -> tuple[object, PageWatch]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = PageWatch()
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))

    def on_response(resp) -> None:
        watch.responses.append((resp.url, resp.status))
        if "/_dash-update-component" in resp.url and resp.status >= 400 and resp.status != 204:
            watch.failed_callbacks.append(
                f"{resp.status} {resp.request.post_data[:200] if resp.request.post_data else ''}"
            )

    page.on("response", on_response)
    page.goto(url)
    return page, watch


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def page_factory(browser) -> Iterator:
    contexts = []

    def make(url: str, **kw):
        page, watch = open_page(browser, url, **kw)
        contexts.append(page.context)
        return page, watch

    yield make
    for c in contexts:
        c.close()
