"""Odd records from a real account in the browser: a crypto position, a malformed one, an
open multi-leg order and a short-sale fill (Alpaca's published bodies, injected into the
simulator) render beside every other row with a note; the spread cancels from the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract._fixtures import as_list, body
from tests.e2e.conftest import LiveApp, open_page, show_lazy, start_live_app, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_live_app(tmp_path_factory.mktemp("e2e-tolerant"), refresh_seconds=5.0)
    try:
        with app.handle.client(timeout=10) as c:
            order = {"symbol": "SPY", "qty": "3", "side": "buy", "type": "market",
                     "time_in_force": "day"}  # fmt: skip
            assert c.post("/v2/orders", json=order).status_code == 200
        app.handle.advance(2)
        crypto = body("alpaca_trading_position_crypto_docs.json")
        broken = {**crypto, "symbol": "ETHUSD"}
        del broken["qty"]
        (spread,) = as_list("alpaca_trading_orders_mleg.json")  # docs example, made open
        spread.update(status="new", filled_qty="0", filled_avg_price=None, filled_at=None)
        for leg in spread["legs"]:
            leg.update(status="new", filled_qty="0", filled_avg_price=None, filled_at=None)
        app.handle.inject("positions", [crypto, broken])
        app.handle.inject("orders", [spread])
        # No public body has a short-sale fill; the recorded sell is made one (see
        # tests/contract/test_alpaca_contract.py), stamped now so it is recent.
        short = body("alpaca_trading_account_activities_fill_recorded.json")[0]
        short.update(side="sell_short", transaction_time=app.handle.now().isoformat())
        app.handle.inject("fills", [short])
        yield app
    finally:
        app.stop()


@pytest.fixture
def opened(browser: Any, live: LiveApp) -> Iterator[Any]:
    """Open a tab by its address (a page load mounts only that tab)."""
    contexts: list[Any] = []

    def open_tab(tab: str) -> tuple[Any, Any]:
        page, watch = open_page(browser, f"{live.url}/{tab}", width=1400, height=1000)
        contexts.append(page.context)
        page.wait_for_selector(f"#{tab}-root", state="visible", timeout=60_000)
        return page, watch

    yield open_tab
    for c in contexts:
        c.close()


def _row_ids(page: Any, grid: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{grid} .ag-center-cols-container .ag-row",
        "rows => rows.map(r => r.getAttribute('row-id'))",
    )


def test_portfolio_lists_every_usable_row_and_says_what_it_left_out(
    opened: Any, live: LiveApp
) -> None:
    page_, watch = opened("portfolio")
    wait_until(
        lambda: set(_row_ids(page_, "portfolio-positions-grid")) == {"SPY", "BTCUSD"},
        timeout=60,
        what="SPY and the crypto position in the positions grid",
    )
    status = wait_until(
        lambda: (t := page_.inner_text("#portfolio-positions-status")) and "not shown" in t and t,
        timeout=30,
        what="the positions note",
    )
    assert status.startswith("● fresh") and "1 record not shown: missing field 'qty'" in status
    btc = '#portfolio-positions-grid .ag-row[row-id="BTCUSD"]'
    assert page_.inner_text(f'{btc} [col-id="asset_class"]') == "crypto"
    assert "50,931.03" in page_.inner_text(f'{btc} [col-id="market_value"]')

    show_lazy(page_, "portfolio-lower", "#portfolio-orders-grid .ag-root-wrapper")
    spread_id = as_list("alpaca_trading_orders_mleg.json")[0]["id"]
    row = f'#portfolio-orders-grid .ag-row[row-id="{spread_id}"]'
    page_.wait_for_selector(row, timeout=30_000)
    contract = page_.inner_text(f'{row} [col-id="contract"]')
    assert contract == "+3 AAPL Dec 13 '24 $250 C / −1 AAPL Dec 13 '24 $260 C"
    assert page_.inner_text(f'{row} [col-id="side"]') == "2-leg spread"
    assert page_.inner_text("#portfolio-orders-status").startswith("● fresh")
    short_id = body("alpaca_trading_account_activities_fill_recorded.json")[0]["id"]
    fill = f'#portfolio-fills-grid .ag-row[row-id="{short_id}"] [col-id="side"]'
    page_.wait_for_selector(fill, timeout=30_000)
    assert page_.inner_text(fill) == "sell short"

    page_.locator(f"{row} .ag-selection-checkbox input").first.click()
    page_.click("#portfolio-cancel-open")
    page_.wait_for_selector("#portfolio-cancel-confirm", state="visible")
    page_.click("#portfolio-cancel-confirm")
    wait_until(
        lambda: spread_id not in _row_ids(page_, "portfolio-orders-grid"),
        timeout=30,
        what="the cancelled spread to leave Open orders",
    )
    assert live.sim_get(f"/v2/orders/{spread_id}")["status"] == "canceled"
    watch.assert_clean()
