"""The chain grid, clicking a price, and the flow, against the simulator's own snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options import chain as CN
from dashboard.data_loaders.loop import run_async
from dashboard.views.options.chain import chain_rows
from tests.components.options.conftest import OptionsTab


def test_chain_rows_match_the_simulators_snapshot(tab: OptionsTab) -> None:
    """Grid cells equal the broker's own snapshot fields for the same contract."""
    chain = run_async(tab.services.data.fetch_option_chain("SPY")).value
    expiry = chain.quotes[0].contract.expiry
    rows, _spot = chain_rows(chain, expiry, moneyness_pct=3.0)
    atm = next(r for r in rows if r.get("atm"))
    with tab.sim.client() as c:
        snap = c.get("/v1beta1/options/snapshots", params={"symbols": atm["c_symbol"]}).json()
    snap = snap["snapshots"][atm["c_symbol"]]
    quote = snap["latestQuote"]
    assert atm["c_bid"] == quote["bp"] and atm["c_ask"] == quote["ap"]
    assert atm["c_mid"] == round((quote["bp"] + quote["ap"]) / 2, 2)
    assert atm["c_delta"] == round(snap["greeks"]["delta"], 3)
    assert atm["c_iv"] == round(snap["impliedVolatility"] * 100, 1)


def test_grid_expiries_and_a_click_load_the_contract(tab: OptionsTab) -> None:
    options, value = CN.chain_expiries_for(tab.reads, "spy", None)
    assert options and value == options[0]["value"]
    assert CN.chain_expiries_for(tab.reads, None, None) == ([], None)
    rows, title, status = CN.chain_grid(tab.reads, value, "5", "SPY")
    assert rows and title.startswith("Option chain · SPY") and "fresh" in str(status)
    empty_rows, _t, note = CN.chain_grid(tab.reads, value, "5", None)
    assert empty_rows == [] and "no underlying chosen" in str(note)

    assert len(rows) >= 2


def _tickets(tab: OptionsTab) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """The chain grid's SPY rows for its first expiry, and the row nearest spot."""
    _options, expiry = CN.chain_expiries_for(tab.reads, "SPY", None)
    rows, _title, _status = CN.chain_grid(tab.reads, expiry, "5", "SPY")
    row = next(r for r in rows if r.get("atm"))
    assert row.get("c_symbol") and row.get("p_symbol")
    return expiry, rows, row


@pytest.mark.parametrize(
    ("column", "held"),
    [
        ("c_ask", "long"),
        ("c_bid", "long"),
        ("c_mid", "long"),
        ("p_ask", "short"),
        ("p_bid", "short"),
        ("p_mid", "short"),
    ],
)
def test_a_click_loads_the_exact_price_clicked(tab: OptionsTab, column: str, held: str) -> None:
    expiry, rows, row = _tickets(tab)
    cell = {"colId": column, "rowId": row["strike_key"], "value": row[column]}
    signal = {"id": "sig-1", "direction": held}
    out = CN.pick_from_chain(cell, rows, expiry, held, signal)
    assert out["limit"] == row[column]  # the cell's value, not a re-fetched rounded mid
    assert out["direction"] is no_update  # already the signal's
    assert (out["expiry"], out["strike"]) == (expiry, row["strike_key"])
    side = column[2:]
    assert f"buy limit at the {side} ${row[column]:,.2f}" in out["why"]
    assert "loaded into the ticket" in str(out["message"])


def test_a_click_without_a_signal_sets_the_direction(tab: OptionsTab) -> None:
    expiry, rows, row = _tickets(tab)
    cell = {"colId": "p_bid", "rowId": row["strike_key"], "value": row["p_bid"]}
    out = CN.pick_from_chain(cell, rows, expiry, "long", None)
    assert (out["direction"], out["limit"]) == ("short", row["p_bid"])


@pytest.mark.parametrize(("column", "held"), [("p_ask", "long"), ("c_mid", "short")])
def test_a_contract_against_the_signal_changes_nothing(
    tab: OptionsTab, column: str, held: str
) -> None:
    expiry, rows, row = _tickets(tab)
    cell = {"colId": column, "rowId": row["strike_key"], "value": row[column]}
    out = CN.pick_from_chain(cell, rows, expiry, held, {"id": "sig-1", "direction": held})
    ticket_fields = ("direction", "expiry", "strike", "limit", "why")
    assert all(out[k] is no_update for k in ticket_fields)  # no direction flip, no limit
    assert "contradicts the ticket's" in str(out["message"])


def test_the_strike_column_and_unknown_rows_load_nothing(tab: OptionsTab) -> None:
    expiry, rows, row = _tickets(tab)
    for cell in (
        {"colId": "strike", "rowId": row["strike_key"], "value": row["strike"]},
        {"colId": "c_ask", "rowId": "no-such-strike", "value": 1.0},
        None,
    ):
        with pytest.raises(PreventUpdate):
            CN.pick_from_chain(cell, rows, expiry, "long", None)


def test_flow_lists_the_most_active_contracts(tab: OptionsTab) -> None:
    tab.sim.advance(30)  # let the session trade
    fig, rows, status = CN.flow(tab.services, "SPY")
    assert "flow" in (fig.layout.title.text or "") or fig.layout.meta
    premiums = [r["premium"] for r in rows if r["premium"] is not None]
    assert premiums == sorted(premiums, reverse=True)
    assert status is not None


def test_the_chain_reads_calls_strike_puts_and_lights_the_tickets_contract(tab: OptionsTab) -> None:
    groups = [c.get("headerName") for c in CN.CHAIN_COLUMNS]
    assert groups == ["CALLS", "Strike", "PUTS"]  # the strike in the centre
    calls, _strike, puts = CN.CHAIN_COLUMNS
    fields = [c["field"] for c in calls["children"]]
    assert fields == [c["field"].replace("p_", "c_") for c in reversed(puts["children"])]
    assert fields[-3:] == ["c_bid", "c_mid", "c_ask"]  # prices next to the strike
    headers = {c["field"]: c["headerName"] for c in calls["children"]}
    assert headers["c_theta"] == "Θ $/day" and headers["c_vega"] == "Vega $/pt"

    values = tab.ticket()
    expiry, strike = values["expiry"], values["strike"]
    ticket = {"direction": "long", "strike": strike, "expiry": expiry}
    rows, _title, _status = CN.chain_grid(tab.reads, expiry, "5", "SPY", ticket)
    lit = [r for r in rows if r.get("ticket")]
    assert len(lit) == 1 and lit[0]["strike_key"] == strike and lit[0]["ticket"] == "C"
    other_expiry = {**ticket, "expiry": "2099-01-01"}  # another expiry's contract: none lit
    rows, *_ = CN.chain_grid(tab.reads, expiry, "5", "SPY", other_expiry)
    assert not [r for r in rows if r.get("ticket")]
