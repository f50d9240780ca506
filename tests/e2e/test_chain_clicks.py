"""Clicking the option chain's prices in a browser (issue 19, chain clicks).

With a signal in the ticket, clicking its contract's Bid, Ask or Mid loads a buy limit at
exactly the price shown in that cell; clicking the other right (a put under a long) is
refused with a message and the ticket keeps its direction, contract and limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    LiveApp,
    open_page,
    show_chain,
    show_tab,
    start_live_app,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

# The ticket's contract's row: lit, and scrolled into view when the signal loads it.
TICKET_ROW = "#options-chain-grid .ag-center-cols-container .ag-row.chain-ticket"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_live_app(tmp_path_factory.mktemp("e2e-chain"), refresh_seconds=5.0)
    try:
        yield app
    finally:
        app.stop()


def _ticket(page: Any) -> tuple[str, str, str, str]:
    return (
        page.input_value("#options-direction"),
        page.input_value("#options-expiry"),
        page.input_value("#options-strike"),
        page.input_value("#options-limit"),
    )


def _price(page: Any, cell: str) -> float:
    """The price a chain cell shows, read as a trader reads it: scrolled into view. AG Grid
    sets ``content-visibility: auto`` on its root, so an off-screen grid's cells have no
    rendered text."""
    page.locator(cell).scroll_into_view_if_needed()
    text = wait_until(lambda: page.inner_text(cell).strip(), timeout=10, what=f"text in {cell}")
    return float(text)


def test_bid_ask_and_mid_load_the_price_clicked(browser, live: LiveApp) -> None:
    page, watch = open_page(browser, live.url, width=1400, height=1000)
    try:
        page.wait_for_selector("#main-tabs")
        show_tab(page, "options")
        page.click(
            "#options-signals-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell"
        )
        # The signal's contract in the ticket (a ready ticket is not needed: a signal whose
        # T1 has traded is refused, and its chain clicks still load prices).
        wait_until(
            lambda: page.input_value("#options-strike") and page.input_value("#options-expiry"),
            timeout=90,
            what="the ticket to hold the first signal's contract",
        )
        show_chain(page)
        page.wait_for_selector(TICKET_ROW, timeout=30_000)
        strike = page.get_attribute(TICKET_ROW, "row-id")
        direction = page.input_value("#options-direction")
        mine, other = ("c", "p") if direction == "long" else ("p", "c")
        for side in ("bid", "ask", "mid"):
            cell = f"{TICKET_ROW} [col-id='{mine}_{side}']"
            shown = _price(page, cell)
            page.click(cell)
            wait_until(
                lambda shown=shown: (
                    page.input_value("#options-strike") == strike
                    and float(page.input_value("#options-limit") or 0) == shown
                ),
                what=f"the ticket's limit to be the clicked {side} {shown}",
            )
            why = page.inner_text("#options-contract-why")
            assert f"buy limit at the {side} ${shown:,.2f}" in why
            assert page.input_value("#options-direction") == direction
        assert page.get_attribute(TICKET_ROW, "row-id") == strike  # still the lit row

        before = _ticket(page)
        page.click(f"{TICKET_ROW} [col-id='{other}_ask']")
        message = wait_until(
            lambda: (
                (text := page.inner_text("#options-chain-pick")) and "contradicts" in text and text
            ),
            what="the refusal message",
        )
        assert "contradicts the ticket's" in message and "unchanged" in message
        page.wait_for_timeout(1500)  # nothing else arrives later
        assert _ticket(page) == before
        watch.assert_clean()
    finally:
        page.context.close()
