"""The STRAT scanner in a browser: edit the watchlist (a bad symbol is refused, a listed
one is scanned and kept after a restart, then removed), filter to TFC-aligned longs,
sort a column, and load a row into the ticket."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    DOCS_SCREENSHOTS,
    LiveApp,
    open_page,
    screenshot,
    show_tab,
    start_live_app,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

GRID = "options-signals-grid"
# The rows the grid displays, in its order (after its own filters and sorting).
SHOWN_ROWS_JS = """(id) => {
  try {
    const api = dash_ag_grid.getApi(id);
    const out = [];
    api.forEachNodeAfterFilterAndSort(n => out.push(n.data));
    return out;
  } catch (e) { return null; }
}"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-scanner")


@pytest.fixture(scope="module")
def live(data_dir: Path) -> Iterator[LiveApp]:
    app = start_live_app(data_dir, refresh_seconds=5.0)
    try:
        yield app
    finally:
        app.stop()


def _rows(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(SHOWN_ROWS_JS, GRID) or []


def _chips(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#options-watchlist-chips .watchlist-symbol", "els => els.map(e => e.innerText)"
    )


def _add(page: Any, symbol: str) -> str:
    """Type ``symbol``, press Add, and return the editor's answer (a new message)."""
    before = page.inner_text("#options-watchlist-message").strip()
    page.fill("#options-watchlist-input", symbol)
    page.click("#options-watchlist-add")
    return wait_until(
        lambda: (m := page.inner_text("#options-watchlist-message").strip()) != before and m,
        timeout=45,
        what=f"the answer to adding {symbol}",
    )


def _open_scanner(browser: Any, live: LiveApp) -> tuple[Any, Any]:
    page, watch = open_page(browser, live.url, width=1400, height=1000)
    show_tab(page, "options")
    wait_until(lambda: _rows(page), timeout=90, what="the scanner's rows")
    return page, watch


def test_scanner_watchlist_filters_sort_and_ticket(browser: Any, live: LiveApp) -> None:
    page, watch = _open_scanner(browser, live)
    try:
        assert _chips(page) == ["SPY", "QQQ"]
        assert page.inner_text("#options-watchlist-count").startswith("2 of 30 symbols")

        # A symbol the broker does not list: a clear message, and nothing changes.
        assert _add(page, "zzzzq") == "The broker lists no asset ZZZZQ."
        assert _chips(page) == ["SPY", "QQQ"]
        assert live.services.journal.watchlist() == ("SPY", "QQQ")

        # A listed one is added, scanned on the next refresh, and stored.
        message = _add(page, "aapl")
        assert message.startswith("Added AAPL"), message
        assert _chips(page) == ["SPY", "QQQ", "AAPL"]
        wait_until(
            lambda: any(r["symbol"] == "AAPL" for r in _rows(page)),
            timeout=90,
            what="AAPL's ideas on the board",
        )
        assert "3 symbols × 8 timeframes scanned" in page.inner_text("#options-signals-shown")
        assert live.services.journal.watchlist() == ("SPY", "QQQ", "AAPL")

        # The default order is the readiness rank.
        rows = _rows(page)
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
        assert [r["tier"] for r in rows] == sorted(r["tier"] for r in rows)

        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            _board_screenshot(page)

        # Sort by the move left to T1, ascending then descending (the grid's own sort).
        header = f"#{GRID} .ag-header-cell[col-id='to_t1_pct'] .ag-header-cell-label"
        page.click(header)
        wait_until(lambda: _sorted(_rows(page), "to_t1_pct"), timeout=20, what="ascending To T1 %")
        page.click(header)
        wait_until(
            lambda: _sorted(_rows(page), "to_t1_pct", reverse=True),
            timeout=20,
            what="descending To T1 %",
        )

        # Filter to TFC-aligned longs: every row left is a long whose TFC is ✓.
        total = len(rows)
        page.click("#options-signal-direction input[value='long']")
        page.click("#options-signal-tfc input[value='aligned']")

        def aligned_long(r: dict[str, Any]) -> bool:
            return (
                r["direction"] == "long"
                and r["tfc_stance"] == "aligned"
                and r["tfc"].startswith("✓")
            )

        def filtered() -> list[dict[str, Any]] | None:
            shown = _rows(page)
            text = page.inner_text("#options-signals-shown")
            agrees = text.startswith(f"{len(shown)} of {total} ideas shown")
            return shown if agrees and shown and all(map(aligned_long, shown)) else None

        aligned_longs = wait_until(filtered, timeout=60, what="TFC-aligned longs only")
        assert 0 < len(aligned_longs) < total

        # Load the first row into the ticket: its symbol, direction and levels.
        first = _rows(page)[0]
        cell = f"#{GRID} .ag-center-cols-container .ag-row[row-id='{first['id']}'] .ag-cell"
        page.click(cell)
        wait_until(
            lambda: page.input_value("#options-symbol") == first["symbol"],
            timeout=45,
            what="the ticket to take the row's symbol",
        )
        assert page.input_value("#options-direction") == "long"
        assert float(page.input_value("#options-entry")) == pytest.approx(first["entry"])
        assert float(page.input_value("#options-stop")) == pytest.approx(first["stop"])
        signal = page.inner_text("#options-ticket-signal-text")
        assert first["label"] in signal and first["timeframe"] in signal
        watch.assert_clean()
    except BaseException:
        screenshot(page, "scanner-failed")
        raise
    finally:
        page.context.close()


def test_the_added_symbol_is_kept_after_a_restart_and_can_be_removed(
    browser: Any, live: LiveApp, data_dir: Path
) -> None:
    """Runs after the test above (same module app), which added AAPL."""
    if live.services.journal.watchlist() != ("SPY", "QQQ", "AAPL"):
        pytest.skip("the test above did not add AAPL")
    # A restart: new services and app on the same journal database keep AAPL.
    live.served.stop()
    live.services.close()
    again = start_live_app(data_dir, handle=live.handle, refresh_seconds=5.0)
    live.services, live.served = again.services, again.served
    page, watch = _open_scanner(browser, live)
    try:
        assert _chips(page) == ["SPY", "QQQ", "AAPL"]
        wait_until(lambda: any(r["symbol"] == "AAPL" for r in _rows(page)), timeout=90)
        # Remove it: the chip goes, the board no longer scans it.
        page.click("#options-watchlist-AAPL .watchlist-remove")
        wait_until(
            lambda: page.inner_text("#options-watchlist-message").strip() == "Removed AAPL.",
            timeout=45,
            what="the removal",
        )
        assert _chips(page) == ["SPY", "QQQ"]
        wait_until(
            lambda: _rows(page) and not any(r["symbol"] == "AAPL" for r in _rows(page)),
            timeout=90,
            what="a board without AAPL",
        )
        assert live.services.journal.watchlist() == ("SPY", "QQQ")
        watch.assert_clean()
    finally:
        page.context.close()


def _sorted(rows: list[dict[str, Any]], field: str, *, reverse: bool = False) -> bool:
    values = [r[field] for r in rows if r.get(field) is not None]
    return len(values) > 1 and values == sorted(values, reverse=reverse)


def _board_screenshot(page: Any) -> None:
    """docs/screenshots/scanner.png: the scanner card as the browser drew it."""
    card = page.locator(f"#{GRID}").locator(
        "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' card ')][1]"
    )
    path = screenshot(page, "scanner-page")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box = card.bounding_box()  # a clip, not an element shot: the refresh never "settles"
    assert box is not None
    page.screenshot(path=str(DOCS_SCREENSHOTS / "scanner.png"), clip=box, full_page=True)
    assert path.exists()
