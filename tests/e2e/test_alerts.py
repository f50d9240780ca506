"""Alerts in the browser: a simulated stop-out, raised by the app's own trade monitor while
the user is on another tab, shows exactly one toast and increments the bell; the history
lists exactly one row for it; acknowledging clears the bell. Also the screenshot of the
toast and the history (docs/screenshots/alerts.png with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard.alerts.kinds import RULES, AlertKind, parse_rules_off
from dashboard.alerts.store import AlertStore
from dashboard.data_loaders.loop import run_async
from dashboard.simulator.embedded import start_simulator_thread
from dashboard.trading.orders import place_entry
from tests.alerts._sim import sim_ticket
from tests.e2e.conftest import (
    e2e_simulator_config,
    save_tab_screenshot,
    show_tab,
    start_live_app,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

# Only the exit fill alerts here: the stop-out is one event, one toast, one row.
ONLY_EXIT_FILLED = parse_rules_off(k.value for k in RULES if k is not AlertKind.EXIT_FILLED)


def wait_polls(page: Any, polls: list[str], n: int, timeout_ms: int = 60_000) -> None:
    """Until the page has finished ``n`` alert polls (Playwright delivers its events only
    while the test calls into it, hence its own wait rather than a sleep)."""
    waited = 0
    while len(polls) < n:
        assert waited < timeout_ms, f"only {len(polls)} of {n} alert polls"
        page.wait_for_timeout(250)
        waited += 250


def test_a_stop_out_shows_one_toast_one_history_row_and_ack_clears_the_bell(
    browser: Any, tmp_path: Path
) -> None:
    handle = start_simulator_thread(e2e_simulator_config())
    handle.advance_to_open()
    handle.advance(30)
    live = start_live_app(tmp_path, handle, alert_rules_off=ONLY_EXIT_FILLED, refresh_seconds=2.0)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        polls: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def finished(req: Any) -> None:
            if "_dash-update-component" in req.url and "alerts-interval" in (req.post_data or ""):
                polls.append(req.url)

        page.on("requestfinished", finished)
        page.goto(live.url + "/portfolio")
        show_tab(page, "portfolio")
        wait_polls(page, polls, 1)
        assert page.inner_text("#alerts-bell-count") == ""

        # The trader's long call is stopped out: the stop is already above the price.
        data = live.services.data
        ticket = sim_ticket(data, "long", entry=2.5, target=4.5, stop=0.5, signal_id="e2e")
        res = run_async(place_entry(data, live.services.journal, ticket, request_key="e2e"))
        assert res.ok and res.trade is not None
        store = AlertStore.of(live.services.journal)
        key = f"trade:{res.trade.id}:exit_filled"
        wait_until(lambda: store.by_key(key) is not None, 90, what="the monitor's exit alert")

        page.wait_for_selector(".alerts-toast", state="visible", timeout=60_000)
        before = len(polls)
        wait_polls(page, polls, before + 2)
        toasts = page.query_selector_all(".alerts-toast")
        assert len(toasts) == 1
        text = toasts[0].inner_text()
        assert "Exit filled" in text and "stop hit" in text and " ET" in text
        assert page.inner_text("#alerts-bell-count") == "1"
        assert page.is_visible("#portfolio-root")  # still on the other tab

        page.click("#alerts-bell")
        page.wait_for_selector(".alerts-row", state="visible", timeout=30_000)
        rows = page.query_selector_all(".alerts-row")
        assert len(rows) == 1
        row = rows[0].inner_text()
        assert "Exit filled" in row and "SPY" in row and "stop hit" in row and " ET" in row
        assert "fresh" in page.inner_text("#alerts-history-state")
        assert "alerts table (journal database)" in page.inner_text("#alerts-history-state")
        save_tab_screenshot(page, "alerts")

        page.click(".alerts-row button:has-text('Acknowledge')")
        page.wait_for_function(
            "() => document.getElementById('alerts-bell-count').innerText === ''", timeout=30_000
        )
        page.wait_for_selector(".alerts-row:not(.alerts-row-unread)", timeout=30_000)
        assert len(page.query_selector_all(".alerts-row")) == 1
        stored = store.by_key(key)
        assert stored is not None and stored.acknowledged
        assert not errors, errors
    finally:
        context.close()
        live.stop()
