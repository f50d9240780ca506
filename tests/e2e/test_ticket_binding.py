"""The order ticket a STRAT trader can trust, in a browser against the simulator (issue 19).

- Typing another underlying clears the loaded signal's levels, and no order can carry them
  (typed back in, they are refused field by field); "Reset to signal" restores them.
- After a send the ticket resets; a second send of the same signal needs the override.
- AAPL (a Penny Interval Program class) premiums can be priced at $0.01 below $3 and $0.05
  from $3, and the simulated broker takes both orders.
- The ticket's states, bound, late-entry warning and refused, are screenshotted
  (``docs/screenshots/ticket-*.png`` with UPDATE_SCREENSHOTS=1).

The signals are the seeded simulator's own; each case picks its row by computing the
ticket's rule (``check_against_price``) on the scanner's rows, so the test does not depend
on which row happens to be first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard.data_loaders.loop import run_async
from dashboard.signal_scan import scan_signals
from dashboard.strat.board import SignalRow
from dashboard.trading.ticket import EntryLimits, PriceCheck, check_against_price
from tests.e2e.conftest import (
    ARTIFACTS,
    DOCS_SCREENSHOTS,
    LiveApp,
    open_page,
    save_tab_screenshot,
    show_tab,
    start_live_app,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

WATCHLIST = ("SPY", "AAPL")
GRID = "#options-signals-grid"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    # 5 % of the $100k paper equity: the monthly setups' wide stops still size to ≥ 1.
    app = start_live_app(
        tmp_path_factory.mktemp("e2e-ticket"),
        watchlist=WATCHLIST,
        refresh_seconds=5.0,
        risk_per_trade_pct=5.0,
    )
    try:
        yield app
    finally:
        app.stop()


def _orders(live: LiveApp) -> list[dict[str, Any]]:
    return live.sim_get("/v2/orders", status="all", limit=500)


def _spot(live: LiveApp, symbol: str) -> float:
    chain = run_async(live.services.data.fetch_option_chain(symbol)).value
    assert chain is not None and chain.underlying_price is not None
    return chain.underlying_price


def _checked_rows(live: LiveApp) -> list[tuple[SignalRow, PriceCheck]]:
    board = run_async(scan_signals(live.services.data, WATCHLIST), timeout=120)
    spots = {s: _spot(live, s) for s in WATCHLIST}
    limits = EntryLimits(live.settings.late_entry_share, live.settings.min_remaining_rr)
    out = []
    for r in board.rows:
        if r.target1 is None:
            continue
        c = check_against_price(
            r.direction,
            price=spots[r.symbol],
            entry=r.entry,
            stop=r.stop,
            target=r.target1,
            scan_triggered=r.status == "triggered",
            limits=limits,
        )
        out.append((r, c))
    return out


def _set(page: Any, selector: str, value: str) -> None:
    """Type into a debounced input and blur it, which is when Dash sends the value."""
    page.fill(selector, value)
    page.press(selector, "Tab")


def _value(page: Any, field: str) -> str:
    return page.input_value(f"#options-{field}")


def _state(page: Any) -> str:
    return page.inner_text("#options-ticket-state")


def _load_row(page: Any, row: SignalRow) -> None:
    """Show the row's category on the board, click the row, wait for the binding."""
    label = {"triggered": "In force", "pending": "Pending", "low_magnitude": "Low magnitude"}
    page.click(f"#options-signal-category label:has-text('{label[row.category]}')")
    cell = f"{GRID} .ag-center-cols-container .ag-row[row-id='{row.id}'] .ag-cell"
    page.wait_for_selector(cell, timeout=60_000)
    page.click(cell)
    wait_until(
        lambda: (
            page.is_visible("#options-ticket-bound")
            and f"{row.symbol} {row.label} {row.timeframe}"
            in page.inner_text("#options-ticket-binding-text")
            and _value(page, "entry") != ""
        ),
        timeout=60,
        what=f"the ticket bound to {row.symbol} {row.label} {row.timeframe}",
    )


def _ticket_shot(page: Any, name: str) -> None:
    """The ticket card alone, into test-artifacts (and docs/screenshots when updating)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.locator("#options-ticket-card").screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")


def _review_and_send(page: Any, live: LiveApp, before: int) -> None:
    page.click("#options-review")
    page.wait_for_selector("#options-submit", state="visible")
    page.click("#options-submit")
    wait_until(
        lambda: "Order sent" in page.inner_text("#options-toast"),
        timeout=30,
        what="the order to be sent",
    )
    wait_until(lambda: len(_orders(live)) == before + 1, what="one new order at the broker")


def _run(browser: Any, live: LiveApp, name: str, flow: Any) -> None:
    """One flow on its own page (each well inside the suite's per-test time-out)."""
    page, watch = open_page(browser, live.url, width=1400, height=1100)
    page.set_default_timeout(90_000)  # 2 shared cores: the tab's first render can stall
    try:
        try:
            show_tab(page, "options")
            page.wait_for_selector(f"{GRID} .ag-center-cols-container .ag-row", timeout=60_000)
            flow(page, live)
        except BaseException:
            save_tab_screenshot(page, f"{name}-failed", docs=False)
            raise
        watch.assert_clean()
    finally:
        page.context.close()


def _clean_row(live: LiveApp) -> SignalRow:
    """A triggered SPY signal with no refusal and no warning at the current price."""
    return next(
        r
        for r, c in _checked_rows(live)
        if r.symbol == "SPY" and c.triggered and not c.refusal and not c.warnings
    )


def test_another_underlying_clears_the_signal_and_reset_restores_it(
    browser: Any, live: LiveApp
) -> None:
    _run(browser, live, "ticket-unbind", _unbind_flow)


def _unbind_flow(page: Any, live: LiveApp) -> None:
    clean = _clean_row(live)
    # 1. Bound: the signal's levels, its contract and a risk-sized quantity.
    _load_row(page, clean)
    wait_until(lambda: _state(page).startswith("Ready:"), timeout=45, what="a ready ticket")
    levels = {f: _value(page, f) for f in ("entry", "target", "stop", "limit", "strike")}
    assert float(levels["entry"]) == pytest.approx(clean.entry)
    assert float(levels["stop"]) == pytest.approx(clean.stop)
    assert int(_value(page, "contracts")) >= 1
    assert "Sized by risk" in page.inner_text("#options-ticket-sizing")
    assert "mark (mid)" in page.inner_text("#options-ticket-quote")
    assert "broker clock" in page.inner_text("#options-ticket-price")
    _ticket_shot(page, "ticket-bound")

    # 2. Another underlying: every level of the signal clears; typed back, they are refused.
    orders_before = len(_orders(live))
    _set(page, "#options-symbol", "QQQ")
    page.wait_for_selector("#options-ticket-unbound", timeout=30_000)
    wait_until(
        lambda: all(_value(page, f) == "" for f in ("entry", "target", "stop", "limit")),
        what="the signal's levels to clear",
    )
    assert page.input_value("#options-strike") in ("", None)
    assert "you changed the underlying to QQQ" in page.inner_text("#options-ticket-binding-text")
    assert "SPY" not in page.inner_text("#options-contract-why")
    # The signal chart stops drawing the levels the ticket left.
    wait_until(
        lambda: "now holds QQQ" in page.inner_text("#options-signal-chart"),
        what="the signal chart to say the ticket left the signal",
    )
    for field in ("entry", "target", "stop"):
        _set(page, f"#options-{field}", levels[field])
    wait_until(
        lambda: (
            "of the SPY" in page.inner_text("#options-target-error")
            and "of the SPY" in page.inner_text("#options-stop-error")
        ),
        what="the carried-over T1 and stop to be refused",
    )
    assert page.is_disabled("#options-review")
    page.click("#options-review", force=True)
    page.wait_for_timeout(500)
    assert not page.is_visible("#options-submit")
    assert len(_orders(live)) == orders_before

    # 3. Reset to signal restores it.
    page.click("#options-ticket-reset")
    page.wait_for_selector("#options-ticket-bound", timeout=30_000)
    wait_until(lambda: _state(page).startswith("Ready:"), timeout=45, what="ready again")
    assert _value(page, "symbol") == "SPY"
    assert {f: _value(page, f) for f in levels} == levels
    wait_until(
        lambda: "now holds" not in page.inner_text("#options-signal-chart"),
        what="the signal chart to draw the signal again",
    )


def test_a_second_send_of_the_same_signal_needs_the_override(browser: Any, live: LiveApp) -> None:
    _run(browser, live, "ticket-duplicate", _duplicate_flow)


def _duplicate_flow(page: Any, live: LiveApp) -> None:
    clean = _clean_row(live)
    _load_row(page, clean)
    wait_until(lambda: _state(page).startswith("Ready:"), timeout=45, what="a ready ticket")
    orders_before = len(_orders(live))
    _review_and_send(page, live, orders_before)
    wait_until(
        lambda: _value(page, "symbol") == "" and _value(page, "contracts") == "",
        what="the ticket to reset after the send",
    )
    assert "Sent as trade #" in page.inner_text("#options-ticket-binding-text")

    page.click("#options-ticket-reset")
    wait_until(
        lambda: _state(page).startswith("Blocked: duplicate"),
        timeout=45,
        what="the duplicate guard",
    )
    assert page.is_visible("#options-dup-override")
    assert "already has a working or open trade" in page.inner_text("#options-dup-text")
    assert page.is_disabled("#options-review")
    page.click("#options-dup-override")
    wait_until(lambda: _state(page).startswith("Ready:"), timeout=45, what="the override")
    _review_and_send(page, live, orders_before + 1)
    signal_trades = [t for t in live.services.journal.list_trades() if t.signal_id == clean.id]
    assert len(signal_trades) == 2


def test_late_entry_warns_and_a_traded_stop_is_refused(browser: Any, live: LiveApp) -> None:
    _run(browser, live, "ticket-states", _states_flow)


def _states_flow(page: Any, live: LiveApp) -> None:
    rows = _checked_rows(live)
    spy = _spot(live, "SPY")
    # A triggered long with room to T1, made late by moving its entry and stop around the
    # price (the seeded board has no naturally late one at the opening clock).
    late = next(
        r
        for r, c in rows
        if r.symbol == "SPY" and c.triggered and r.direction == "long"
        and (r.target1 or 0) > spy + 3
    )  # fmt: skip
    refused = next(r for r, c in rows if c.refusal and "stop has already traded" in c.refusal)
    orders_before = len(_orders(live))
    _load_row(page, late)
    _set(page, "#options-entry", f"{spy + 2:.2f}")
    _set(page, "#options-stop", f"{spy - 1:.2f}")  # price 2/3 of the way to the stop
    wait_until(
        lambda: "Late entry" in page.inner_text("#options-ticket-warnings"),
        timeout=45,
        what="the late-entry warning",
    )
    _ticket_shot(page, "ticket-late-entry")
    _load_row(page, refused)
    wait_until(lambda: _state(page).startswith("Refused"), timeout=45, what="the refusal")
    assert "stop has already traded" in page.inner_text("#options-ticket-price")
    assert page.is_disabled("#options-review")
    _ticket_shot(page, "ticket-refused")
    assert len(_orders(live)) == orders_before


def test_aapl_prices_on_the_penny_program_grid(browser: Any, live: LiveApp) -> None:
    _run(browser, live, "ticket-aapl", _aapl_flow)


def _aapl_flow(page: Any, live: LiveApp) -> None:
    spot = _spot(live, "AAPL")
    _set(page, "#options-symbol", "AAPL")
    page.select_option("#options-direction", "long")
    wait_until(
        lambda: page.eval_on_selector("#options-expiry", "e => e.options.length") > 1,
        timeout=30,
        what="AAPL's expiries",
    )
    page.select_option("#options-expiry", index=1)
    wait_until(
        lambda: page.eval_on_selector("#options-strike", "e => e.options.length") > 1,
        timeout=30,
        what="AAPL's strikes",
    )
    page.select_option("#options-strike", index=1)
    _set(page, "#options-contracts", "1")
    _set(page, "#options-entry", f"{spot - 0.5:.2f}")
    _set(page, "#options-target", f"{spot + 5:.2f}")
    _set(page, "#options-stop", f"{spot - 3:.2f}")
    for limit in ("2.51", "3.05"):
        seen = {o["id"] for o in _orders(live)}
        before = len(seen)
        _set(page, "#options-limit", limit)
        wait_until(
            lambda limit=limit: (
                _state(page).startswith("Ready:") and f"LIMIT ${limit}" in _state(page)
            ),
            timeout=45,
            what=f"AAPL ready at {limit}",
        )
        assert page.inner_text("#options-limit-error").strip() == ""
        _review_and_send(page, live, before)
        (new,) = [o for o in _orders(live) if o["id"] not in seen]
        assert new["symbol"].startswith("AAPL") and new["limit_price"] == limit
        assert new["status"] not in ("rejected", "canceled")
        # The ticket reset after the send: fill it again for the next price.
        if limit == "2.51":
            _aapl_refill(page, spot)
    _aapl_refill(page, spot)
    _set(page, "#options-limit", "3.07")
    wait_until(
        lambda: "$0.05 tick" in page.inner_text("#options-limit-error"),
        what="an off-grid AAPL limit to be refused",
    )
    assert "try $3.05 or $3.10" in page.inner_text("#options-limit-error")


def _aapl_refill(page: Any, spot: float) -> None:
    _set(page, "#options-symbol", "AAPL")
    wait_until(
        lambda: page.eval_on_selector("#options-expiry", "e => e.options.length") > 1,
        timeout=30,
        what="AAPL's expiries",
    )
    page.select_option("#options-expiry", index=1)
    wait_until(
        lambda: page.eval_on_selector("#options-strike", "e => e.options.length") > 1,
        timeout=30,
        what="AAPL's strikes",
    )
    page.select_option("#options-strike", index=1)
    _set(page, "#options-contracts", "1")
    _set(page, "#options-entry", f"{spot - 0.5:.2f}")
    _set(page, "#options-target", f"{spot + 5:.2f}")
    _set(page, "#options-stop", f"{spot - 3:.2f}")
