"""Active trades and their P&L against the simulator's fills, and the Manage modal
opened on one."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from dashboard.components.options import manage as M
from dashboard.components.options import trades as TR
from tests.components.options.conftest import OptionsTab


def test_refresh_without_trades_says_so(tab: OptionsTab) -> None:
    out = TR.refresh_trades(tab.services)
    assert set(out) == set(TR.TRADES_OUTPUTS)
    assert out["count"] == "0" and "No active trades" in str(out["cards"])
    assert out["journal"] == [] and "no trades yet" in str(out["journal_status"])
    assert out["total"] == "$0.00"


def test_refresh_shows_the_open_trade_and_manage_saves_levels(tab: OptionsTab) -> None:
    trade_id = tab.open_trade()
    out = TR.refresh_trades(tab.services)
    assert out["count"] == "1"
    assert f"options-trade-{trade_id}" in str(out["cards"])
    assert len(out["journal"]) == 1 and out["journal"][0]["id"] == trade_id
    assert out["progress"].data  # the trade is on the progress chart

    is_open, body, tid, target, stop, stop_px, why = M.open_manage(
        tab.services, trade_id, cancelled=False
    )
    assert is_open and tid == trade_id and "entry" in str(body)
    # The broker stop's default is the projection's option value at the underlying stop.
    assert stop_px is not None and stop_px > 0 and "Projection" in why
    with pytest.raises(PreventUpdate):
        M.open_manage(tab.services, 10_000, cancelled=False)

    # a long's target below its entry is refused, and nothing changes
    bad = M.manage(tab.services, trade_id, False, stop - 1.0, stop)
    assert bad[1] == "Levels not saved" and "wrong side" in bad[2] and bad[3] == "danger"
    assert tab.services.journal.get(trade_id).target_level == pytest.approx(target)
    missing = M.manage(tab.services, trade_id, False, "", stop)
    assert missing[6] == "Enter a number."

    saved = M.manage(tab.services, trade_id, False, target + 1.0, stop)
    assert saved[1] == "Levels saved"
    assert tab.services.journal.get(trade_id).target_level == pytest.approx(target + 1.0)


def test_an_open_trade_older_than_the_books_rows_is_still_on_the_card(
    tab: OptionsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The active-trades card reads the active trades themselves, not the latest journal
    rows: a trade opened before the book's last ``JOURNAL_ROWS`` is still shown."""
    from tests.trading._fixtures import ticket

    trade_id = tab.open_trade()
    journal = tab.services.journal
    later, _ = journal.create_intent(ticket(signal_id="sig-later"), request_key="later")
    journal.mark_canceled(later.id, "a newer row that is not active")
    monkeypatch.setattr(TR, "JOURNAL_ROWS", 1)
    card = TR.read_trades(tab.services, with_journal=False)
    assert [t.id for t in card.trades] == [t.id for t in card.active] == [trade_id]
    book = TR.read_trades(tab.services)
    assert [t.id for t in book.trades] == [later.id]  # the latest row only
    out = TR.refresh_trades(tab.services)
    assert out["count"] == "1" and f"options-trade-{trade_id}" in str(out["cards"])
