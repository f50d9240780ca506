"""Arming pending setups in a browser: nothing is sent until the simulated underlying
trades through the trigger, then exactly one order; an arming whose stop trades first
disarms, and the page says why.

The simulator's path is seeded: before the browser acts, the test reads the coming
minute bars from the in-process market and picks a pending setup whose trigger trades
first and one whose stop trades first (both inside their arming windows).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from dashboard.data_loaders.loop import run_async
from dashboard.signal_scan import scan_signals
from dashboard.simulator.market import parse_timeframe
from dashboard.strat.board import SignalRow
from dashboard.trading.arming import ArmingStatus, DisarmReason, arming_window_end
from tests.e2e.conftest import (
    LiveApp,
    open_page,
    save_tab_screenshot,
    start_live_app,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]
MONITOR_SECONDS = 2.0  # a monitor pass every 2 s: the test waits for seven of them


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_live_app(tmp_path_factory.mktemp("e2e-arming"), refresh_seconds=MONITOR_SECONDS)
    try:
        yield app
    finally:
        app.stop()


def _orders(live: LiveApp) -> list[dict[str, Any]]:
    return [
        o
        for o in live.sim_get("/v2/orders", status="all", limit=500)
        if o["asset_class"] == "us_option"
    ]


def _first_event(live: LiveApp, row: SignalRow, minutes: int) -> tuple[str, int] | None:
    """("trigger" | "stop", minutes from now until that bar completes), whichever the
    seeded path trades first, or None."""
    now = live.handle.now()
    end = min(arming_window_end(row.timeframe, row.setup_time), now + timedelta(minutes=minutes))
    bars = live.handle.sim.market.bars(row.symbol, parse_timeframe("1Min"), now, end, end)
    up = row.direction == "long"
    for i, (hi, lo) in enumerate(zip(bars.h, bars.low, strict=True)):
        trig = hi >= row.entry if up else lo <= row.entry
        stop = lo <= row.stop if up else hi >= row.stop
        if trig or stop:
            return ("both" if trig and stop else "trigger" if trig else "stop"), i + 1
    return None


def _pick(live: LiveApp) -> tuple[SignalRow, int, SignalRow, int]:
    board = run_async(scan_signals(live.services.data, live.settings.watchlist))
    fires: list[tuple[int, SignalRow]] = []
    stops: list[tuple[int, SignalRow]] = []
    for row in board.rows:
        if (
            row.status != "pending"
            or row.category not in CATEGORY_LABELS
            or row.setup_time is None
            or row.target1 is None
        ):
            continue
        event = _first_event(live, row, 390)
        if event is None or event[1] < 3:  # a minute or two after arming at the earliest
            continue
        if event[0] == "trigger":
            fires.append((event[1], row))
        elif event[0] == "stop":
            stops.append((event[1], row))
    if not fires or not stops:
        pytest.skip("the seeded session has no pending setup of each kind")
    (k_fire, fire), (k_stop, stop) = min(fires, key=lambda x: x[0]), min(stops, key=lambda x: x[0])
    return fire, k_fire, stop, k_stop


CATEGORY_LABELS = {"pending": "Pending", "low_magnitude": "Low magnitude"}


def _arm_row(page: Any, live: LiveApp, row: SignalRow) -> None:
    # The board's category filter keeps the grid short, so the row is rendered.
    page.click(f"#options-signal-category label:has-text('{CATEGORY_LABELS[row.category]}')")
    cell = f"#options-signals-grid .ag-center-cols-container .ag-row[row-id='{row.id}'] .ag-cell"
    page.wait_for_selector(cell, timeout=60_000)
    page.click(cell)
    wait_until(
        lambda: (
            page.inner_text("#options-arm-state").startswith("Ready to arm:")
            and f"{row.entry:,.2f}" in page.inner_text("#options-arm-state")
        ),
        timeout=60,
        what=f"the arming of {row.id} to be ready",
    )
    page.click("#options-arm")
    # The journal, not the toast: an earlier arming's toast can still be showing.
    wait_until(
        lambda: any(e.signal_id == row.id for e in live.services.journal.active_armed()),
        timeout=120,
        what=f"the arming of {row.id} in the journal",
    )
    wait_until(
        lambda: "Armed #" in page.inner_text("#options-toast"),
        timeout=60,
        what="the arming toast",
    )


def _passes(live: LiveApp, n: int = 2) -> None:
    """Let the in-process monitor make ``n`` more passes."""
    monitor = live.services.exit_monitor
    assert monitor is not None
    seen: list[object] = []
    monitor.add_pass_hook(seen.append)
    try:
        wait_until(lambda: len(seen) >= n, timeout=60, what="monitor passes")
    finally:
        monitor.pass_hooks.remove(seen.append)


@pytest.mark.timeout(900)  # two signal loads and three clock runs on a shared machine
def test_arming_fires_once_at_the_trigger_and_the_stop_disarms(browser, live: LiveApp) -> None:
    fire, k_fire, stop, k_stop = _pick(live)
    page, watch = open_page(browser, live.url, width=1400, height=1100)
    try:
        try:
            _flow(page, live, fire, k_fire, stop, k_stop)
        except BaseException:
            save_tab_screenshot(page, "options-arming-failed", docs=False)
            raise
        save_tab_screenshot(page, "options-arming", docs=False)
        watch.assert_clean()
    finally:
        page.context.close()


def _flow(
    page: Any, live: LiveApp, fire: SignalRow, k_fire: int, stop: SignalRow, k_stop: int
) -> None:
    page.click("#tab-options-tab")
    page.wait_for_selector("#options-root", state="visible", timeout=120_000)
    journal = live.services.journal

    # 1. Arm both setups; nothing is sent, and Active trades shows them as armed.
    _arm_row(page, live, fire)
    _arm_row(page, live, stop)
    armed = {e.signal_id: e for e in journal.active_armed()}
    assert set(armed) == {fire.id, stop.id}
    wait_until(
        lambda: page.locator("#options-armed-entries .armed-entry").count() == 2,
        timeout=60,
        what="two armed cards",
    )
    assert "to the trigger" in page.inner_text("#options-armed-entries")
    assert _orders(live) == []

    # 2. Up to the minute before the first event: still armed, still nothing sent.
    elapsed = min(k_fire, k_stop) - 1
    live.handle.advance(elapsed)
    _passes(live)
    assert all(journal.armed_entry(e.id).status is ArmingStatus.ARMED for e in armed.values())
    assert _orders(live) == []

    # 3. The stop-first setup's stop trades before its trigger: disarmed, with the reason.
    live.handle.advance(k_stop - elapsed)
    elapsed = k_stop
    wait_until(
        lambda: journal.armed_entry(armed[stop.id].id).status is ArmingStatus.DISARMED,
        timeout=60,
        what="the stop-first arming to disarm",
    )
    gone = journal.armed_entry(armed[stop.id].id)
    assert gone.reason is DisarmReason.STOP_FIRST
    wait_until(
        lambda: "stop traded before the trigger" in page.inner_text("#options-disarmed-entries"),
        timeout=60,
        what="the disarm reason on the page",
    )

    # 4. The other setup's trigger trades: exactly one order, then no more.
    if k_fire - 1 > elapsed:
        live.handle.advance(k_fire - 1 - elapsed)
        elapsed = k_fire - 1
        _passes(live)
        assert _orders(live) == []
    if k_fire > elapsed:
        live.handle.advance(k_fire - elapsed)
    wait_until(lambda: _orders(live), timeout=60, what="the entry order")
    _passes(live, 3)
    orders = _orders(live)
    assert len(orders) == 1, orders
    sent = journal.armed_entry(armed[fire.id].id)
    assert sent.status is ArmingStatus.SENT and sent.trade_id is not None
    trade = journal.get(sent.trade_id)
    assert orders[0]["client_order_id"] == trade.entry_client_order_id
    assert orders[0]["symbol"] == sent.contract and orders[0]["side"] == "buy"
    wait_until(
        lambda: page.locator("#options-active-trades .active-trade").count() == 1,
        timeout=60,
        what="the trade card",
    )
