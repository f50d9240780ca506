"""Every tab as a user sees it, on one served app and one manual-clock simulator.

The tests run in file order and share state: the tab tests read a seeded account (one
stock and one option position), the refresh test moves the clock, and the outage test
(last) breaks and restores the upstream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from dashboard.simulator.faults import FaultConfig
from tests.e2e.conftest import (
    TAB_IDS,
    LiveApp,
    open_page,
    save_tab_screenshot,
    show_chain,
    show_lazy,
    show_tab,
    start_live_app,
    tab_snapshot,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

# Charts that stay empty until the user picks something (a signal, an open trade).
EMPTY_UNTIL_SELECTED = {"options-progress-chart"}
BUSY_WORDS = ("loading", "fitting", "waiting", "running")


def _money(text: str) -> float:
    """'$100,123.45' / '-$12.00' → float."""
    cleaned = re.sub(r"[^0-9.\-]", "", text.replace("−", "-"))
    return float(cleaned)


def _seed_account(live: LiveApp) -> None:
    """Buy 10 SPY and one near-the-money SPY call, then let a minute pass so both fill."""
    quote = live.sim_get("/v2/stocks/quotes/latest", symbols="SPY")["quotes"]["SPY"]
    spot = (float(quote["bp"]) + float(quote["ap"])) / 2
    start = (live.handle.now() + timedelta(days=14)).date().isoformat()
    contracts = live.sim_get(
        "/v2/options/contracts",
        underlying_symbols="SPY",
        type="call",
        expiration_date_gte=start,
        expiration_date_lte=(live.handle.now() + timedelta(days=45)).date().isoformat(),
        strike_price_gte=f"{spot * 0.97:.0f}",
        strike_price_lte=f"{spot * 1.03:.0f}",
        limit=1000,
    )["option_contracts"]
    assert contracts, f"no SPY calls from {start} near {spot:.2f}"
    call = min(
        contracts, key=lambda c: (c["expiration_date"], abs(float(c["strike_price"]) - spot))
    )
    with live.handle.client(timeout=10) as c:
        for symbol, qty in (("SPY", "10"), (call["symbol"], "1")):
            body = {"symbol": symbol, "qty": qty, "side": "buy", "type": "market"}
            r = c.post("/v2/orders", json={**body, "time_in_force": "day"})
            assert r.status_code == 200, r.text
    live.handle.advance(2)
    positions = live.sim_get("/v2/positions")
    assert {p["symbol"] for p in positions} == {"SPY", call["symbol"]}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_live_app(
        tmp_path_factory.mktemp("e2e-tabs"),
        # The default 5 s refresh: at 2 s the page's interval callbacks keep both cores
        # busy and the background regime fit takes minutes (see the report).
        refresh_seconds=5.0,
        warm_regime=True,
    )
    try:
        _seed_account(app)
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def page(browser, live: LiveApp) -> Iterator[tuple[Any, Any]]:
    page, watch = open_page(browser, live.url, width=1400, height=1000)
    page.wait_for_selector("#main-tabs")
    yield page, watch
    page.context.close()


def _grid_cell(page: Any, grid: str, row_id: str, col: str) -> str:
    sel = f'#{grid} .ag-row[row-id="{row_id}"] [col-id="{col}"]'
    page.wait_for_selector(sel)
    return page.inner_text(sel)


def _select_first_signal(page: Any) -> None:
    """Load a signal with a contract into the ticket (fills the signal chart and payoff)."""
    page.click("#options-signals-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell")
    wait_until(
        lambda: page.inner_text("#options-ticket-state").startswith("Ready:"),
        timeout=30,
        what="the ticket to be filled from the signal",
    )


# Grids that are legitimately empty for this account (no open orders, no closed trades);
# the DTE/delta grid is empty for the default (underlying) strategy and says why.
ALLOWED_EMPTY_GRIDS = {
    "portfolio-orders-grid",
    "strategy-journal-grid",
    "strategy-journal-dte-grid",
    "strategy-option-grid",
    "options-journal-grid",
}


@pytest.mark.parametrize("tab", TAB_IDS)
def test_tab_renders_real_numbers(page, live: LiveApp, tab: str) -> None:
    page_, watch = page
    page_.evaluate("window.scrollTo(0, 0)")  # a tab opens at the top of the page
    show_tab(page_, tab)
    if tab == "options":
        _select_first_signal(page_)
        # The flow and the book are below the fold: they mount when scrolled near
        # (ui.lazy_block).
        assert page_.locator("#options-flow-chart").count() == 0
        assert page_.locator("#options-journal-grid").count() == 0
        show_lazy(page_, "options-book-body", "#options-journal-grid")
        show_lazy(page_, "options-flow-body", "#options-flow-chart")
    elif tab == "portfolio":  # the open orders and fills are below the fold
        assert page_.locator("#portfolio-fills-grid").count() == 0
        show_lazy(page_, "portfolio-lower", "#portfolio-fills-grid .ag-root-wrapper")
        page_.wait_for_timeout(1000)  # a callback the mount set off would have answered
        assert page_.inner_text("#portfolio-cancel-result") == ""  # no click, no warning
    elif tab == "regime":  # the watchlist heatmap is below the fold too
        assert page_.locator("#regime-heatmap").count() == 0
        show_lazy(page_, "regime-lower", "#regime-heatmap")
    elif tab == "strategy":  # so are the method, the equity and rolling charts and the tables
        assert page_.locator("#strategy-equity-chart").count() == 0
        assert page_.locator("#strategy-journal-grid").count() == 0
        show_lazy(page_, "strategy-equity-block", "#strategy-rolling-chart")
        show_lazy(page_, "strategy-lower", "#strategy-journal-grid")

    seen: dict[str, Any] = {}

    def ready() -> dict[str, Any] | None:
        snap = seen["last"] = tab_snapshot(page_, tab)
        if any(w in s for s in snap["states"] for w in BUSY_WORDS):
            return None
        drawn = {k: p["drawn"] for k, p in snap["plots"].items() if k not in EMPTY_UNTIL_SELECTED}
        if not drawn or min(drawn.values()) == 0:
            return None
        if any(n == 0 for k, n in snap["grids"].items() if k not in ALLOWED_EMPTY_GRIDS):
            return None
        return snap

    try:
        snap = wait_until(ready, timeout=90, interval=0.5, what=f"{tab} to render")
    except AssertionError as exc:
        save_tab_screenshot(page_, f"{tab}-failed", docs=False)
        raise AssertionError(f"{exc}; last seen: {seen.get('last')}") from None
    assert not any(s.startswith(("✕", "error")) for s in snap["states"]), snap["states"]

    if tab == "portfolio":
        account = live.sim_get("/v2/account")
        shown = page_.inner_text("#portfolio-card-equity")
        assert _money(shown) == pytest.approx(float(account["equity"]), abs=0.005)
        assert _money(page_.inner_text("#portfolio-card-cash")) == pytest.approx(
            float(account["cash"]), abs=0.005
        )
        assert page_.inner_text("#portfolio-card-positions") == "2"
    elif tab == "risk":
        spy = next(p for p in live.sim_get("/v2/positions") if p["symbol"] == "SPY")
        cell = _grid_cell(page_, "risk-heat-grid", "SPY", "market_value")
        assert _money(cell) == pytest.approx(float(spy["market_value"]), abs=0.005)
    elif tab == "options":
        symbol = page_.input_value("#options-symbol")
        assert symbol in live.settings.watchlist
        assert float(page_.input_value("#options-limit")) > 0
    page_.wait_for_timeout(300)  # let the last frame paint before the screenshot
    save_tab_screenshot(page_, tab)
    watch.assert_clean()


def test_strategy_option_variant_and_date_range(page, live: LiveApp) -> None:
    """Pick a modelled option strategy: the DTE/delta grid fills and says it is modelled;
    a start after the end is refused with a message and the numbers stay as they were."""
    page_, watch = page
    show_tab(page_, "strategy")
    show_lazy(page_, "strategy-lower", "#strategy-option-grid")
    page_.locator("#strategy-strategy").scroll_into_view_if_needed()
    page_.click("#strategy-strategy")
    page_.click(".dash-dropdown-option >> text=~0.50Δ")

    def option_rows() -> int:
        snap = tab_snapshot(page_, "strategy")
        busy = any(w in s for s in snap["states"] for w in BUSY_WORDS)
        return 0 if busy else snap["grids"].get("strategy-option-grid", 0)

    wait_until(option_rows, timeout=90, interval=0.5, what="the option DTE/delta grid")
    assert "modelled" in page_.inner_text("#strategy-option-status")
    assert "Black-Scholes" in page_.inner_text("#strategy-note")
    # An end date alone is a valid range: let that update land, then make it invalid.
    page_.fill("input[aria-label='to latest']", "2020-01-01")
    page_.keyboard.press("Tab")
    page_.keyboard.press("Escape")
    wait_until(
        lambda: "in range" in page_.inner_text("#strategy-progress"),
        timeout=30,
        what="the numbers for the end date alone",
    )
    before = page_.inner_text("#strategy-progress")
    page_.fill("input[aria-label='all data from']", "2030-01-01")
    page_.keyboard.press("Tab")
    page_.keyboard.press("Escape")
    wait_until(
        lambda: "after end" in page_.inner_text("#strategy-dates-status"),
        timeout=15,
        what="the bad-range message",
    )
    assert page_.inner_text("#strategy-progress") == before
    # Back to the defaults for the tests that follow.
    page_.click("#strategy-root .dash-datepicker-clear")
    page_.keyboard.press("Escape")
    page_.click("#strategy-strategy")
    page_.click(".dash-dropdown-option >> text=All patterns")
    wait_until(
        lambda: "pick an option strategy" in page_.inner_text("#strategy-option-status"),
        timeout=30,
        what="the default strategy again",
    )
    wait_until(
        lambda: (
            not page_.inner_text("#strategy-dates-status")
            and not any(
                w in s for s in tab_snapshot(page_, "strategy")["states"] for w in BUSY_WORDS
            )
        ),
        timeout=60,
        what="the default strategy's numbers",
    )
    # AG Grid leaves grids outside the viewport blank, and this tab is taller than the
    # window: grow the viewport to the page for the full-page shot, then restore it.
    height = int(page_.evaluate("document.documentElement.scrollHeight"))
    page_.set_viewport_size({"width": 1400, "height": height})
    page_.wait_for_timeout(800)
    save_tab_screenshot(page_, "strategy")
    page_.set_viewport_size({"width": 1400, "height": 1000})
    watch.assert_clean()


def test_a_tab_address_opens_that_tab_alone_and_follows_switches(browser, live: LiveApp) -> None:
    """``/risk`` opens Risk in the first layout without building the Options tab; an older
    ``/#risk`` address moves onto the path first; switching tabs writes the path."""
    for address in ("/risk", "/#risk"):
        page, watch = open_page(browser, live.url + address, width=1400, height=1000)
        try:
            page.wait_for_selector("#risk-root", state="visible", timeout=30_000)
            assert page.query_selector("#options-root") is None  # never mounted, never fetched
            assert page.evaluate("location.pathname + location.hash") == "/risk"
            show_tab(page, "portfolio")
            wait_until(lambda p=page: p.evaluate("location.pathname") == "/portfolio", timeout=10)
            assert page.is_hidden("#risk-root")  # kept mounted, hidden
            watch.assert_clean()
        finally:
            page.context.close()


def test_header_badges(page, live: LiveApp) -> None:
    page_, watch = page
    assert page_.inner_text("#header-mode-badge") == "DEMO"
    wait_until(
        lambda: page_.inner_text("#header-connection-badge") == "CONNECTED",
        what="the connection badge",
    )
    clock = live.sim_get("/v2/clock")
    ts = datetime.fromisoformat(clock["timestamp"])
    if clock["is_open"]:
        left = datetime.fromisoformat(clock["next_close"]) - ts
        prefix = "MARKET OPEN · closes in "
    else:
        left = datetime.fromisoformat(clock["next_open"]) - ts
        prefix = "MARKET CLOSED · opens in "
    hours, rem = divmod(int(left.total_seconds()), 3600)
    expected = prefix + (f"{hours}h {rem // 60:02d}m" if hours else f"{rem // 60}m {rem % 60:02d}s")
    if left.days:
        expected = prefix + f"{left.days}d {(left.seconds // 3600)}h"
    wait_until(
        lambda: page_.inner_text("#header-clock-badge") == expected,
        what=f"clock badge {expected!r}",
    )
    watch.assert_clean()


ZOOM_JS = """async () => {
  const gd = document.querySelector('#portfolio-equity-chart .js-plotly-plot');
  const [a, b] = gd._fullLayout.xaxis.range.map(v => new Date(v).getTime());
  const lo = new Date(a + (b - a) * 0.25).toISOString(), hi = new Date(a + (b - a) * 0.75).toISOString();
  await Plotly.relayout(gd, {'xaxis.range': [lo, hi]});
  window.__e2eDraws = 0;
  gd.on('plotly_afterplot', () => { window.__e2eDraws += 1; });
  return gd._fullLayout.xaxis.range.map(v => gd._fullLayout.xaxis.r2l(v));
}"""
# The x range as epoch milliseconds (Plotly rewrites date strings in its own format).
RANGE_JS = """() => {
  const ax = document.querySelector('#portfolio-equity-chart .js-plotly-plot')._fullLayout.xaxis;
  return ax.range.map(v => ax.r2l(v));
}"""


def test_interval_refresh_keeps_zoom(page, live: LiveApp) -> None:
    page_, watch = page
    show_tab(page_, "portfolio")
    page_.wait_for_selector("#portfolio-equity-chart .js-plotly-plot g.trace", state="attached")
    before_equity = page_.inner_text("#portfolio-card-equity")
    zoomed = page_.evaluate(ZOOM_JS)
    page_.evaluate("() => { window.__e2eDraws = 0; }")

    live.handle.advance(60)  # an hour of prices: the SPY position's value moves
    wait_until(
        lambda: page_.inner_text("#portfolio-card-equity") != before_equity,
        timeout=30,
        what="the equity card to refresh",
    )
    # The chart was redrawn by an interval refresh (not only the card).
    wait_until(lambda: page_.evaluate("() => window.__e2eDraws") > 0, what="a chart redraw")
    after = page_.evaluate(RANGE_JS)
    assert after == pytest.approx(zoomed, abs=1.0)
    account = live.sim_get("/v2/account")
    wait_until(
        lambda: (
            _money(page_.inner_text("#portfolio-card-equity"))
            == pytest.approx(float(account["equity"]), abs=0.005)
        ),
        what="the equity card to match the broker",
    )
    watch.assert_clean()


def test_chain_click_loads_the_contract_and_draws_its_payoff(page, live: LiveApp) -> None:
    page_, watch = page
    show_tab(page_, "options")
    if not page_.input_value("#options-symbol"):
        _select_first_signal(page_)
    # The ticket's contract's row: the chain scrolls it into view when the signal loads it.
    first = "#options-chain-grid .ag-center-cols-container .ag-row.chain-ticket"
    show_chain(page_)
    page_.wait_for_selector(first, timeout=30_000)
    strike = page_.get_attribute(first, "row-id")
    # The contract the ticket's (signal's) direction buys: the other right is refused.
    direction = page_.input_value("#options-direction")
    right, col = ("C", "c_mid") if direction == "long" else ("P", "p_mid")
    cell = page_.locator(f"{first} [col-id='{col}']")
    cell.scroll_into_view_if_needed()  # AG Grid leaves off-screen cells unpainted
    mid = float(wait_until(lambda: cell.inner_text().strip(), what="the contract's mid"))
    page_.click(f"{first} [col-id='{col}']")
    wait_until(
        lambda: (
            page_.input_value("#options-strike") == strike
            and float(page_.input_value("#options-limit") or 0) == mid
        ),
        what=f"the ticket to take the {strike} {right} at its mid {mid}",
    )
    assert page_.input_value("#options-direction") == direction
    assert "Picked from the chain" in page_.inner_text("#options-contract-why")
    wait_until(
        lambda: f"${strike} {right}" in page_.inner_text("#options-payoff-title"),
        timeout=30,
        what="the payoff chart for the clicked contract",
    )
    traces = page_.locator("#options-payoff-chart .trace").count()
    assert traces >= 2  # expiry and hold-time curves at least
    watch.assert_clean()


def test_mobile_width_has_no_horizontal_overflow(browser, live: LiveApp) -> None:
    page_, watch = open_page(browser, live.url, width=390, height=844)
    try:
        page_.wait_for_selector("#main-tabs")
        for tab in TAB_IDS:
            show_tab(page_, tab)
            page_.wait_for_timeout(400)
            sizes = page_.evaluate(
                "() => { const m = document.getElementById('main-content');"
                " return [m.scrollWidth, m.clientWidth]; }"
            )
            assert sizes[0] <= sizes[1] + 1, f"{tab}: main content overflows {sizes}"
        save_tab_screenshot(page_, "mobile-options", docs=False)
        watch.assert_clean()
    finally:
        page_.context.close()


def test_upstream_outage_shows_stale_then_recovers(page, live: LiveApp) -> None:
    page_, watch = page
    show_tab(page_, "portfolio")
    wait_until(
        lambda: page_.inner_text("#header-connection-badge") == "CONNECTED",
        what="a connected start",
    )
    live.handle.set_faults(FaultConfig(error_rate=1.0, status=503, routes="/v2/*,/v1beta1/*"))
    try:
        wait_until(
            lambda: page_.inner_text("#header-connection-badge") in ("DEGRADED", "DOWN"),
            timeout=45,
            what="the connection badge to leave CONNECTED",
        )
        status = wait_until(
            lambda: (
                (t := page_.inner_text("#portfolio-cards-status")).startswith(
                    ("◐ stale since", "✕ error")
                )
                and t
            ),
            timeout=45,
            what="the cards status to say stale or error",
        )
        assert "simulator" in status or "503" in status
        save_tab_screenshot(page_, "outage-portfolio", docs=False)
    finally:
        live.handle.clear_faults()
    wait_until(
        lambda: page_.inner_text("#portfolio-cards-status").startswith("● fresh"),
        timeout=45,
        what="the cards to recover to fresh",
    )
    wait_until(
        lambda: page_.inner_text("#header-connection-badge") == "CONNECTED",
        timeout=45,
        what="the connection badge to recover",
    )
    # Failed upstream reads are shown in the page; the callbacks themselves must not fail.
    assert not watch.failed_callbacks
