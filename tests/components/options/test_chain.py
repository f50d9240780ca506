"""The chain grid, clicking a price, and the flow, against the simulator's own snapshot."""

from __future__ import annotations

import pytest
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

    row = next(r for r in rows if r.get("p_symbol"))
    cell = {"colId": "p_ask", "rowId": row["strike_key"]}
    direction, expiry, strike, limit, why = CN.pick_from_chain(tab.reads, cell, rows, value, "SPY")
    assert (direction, expiry, strike) == ("short", value, row["strike_key"])
    assert limit is not None and limit > 0 and "Picked from the chain" in why
    with pytest.raises(PreventUpdate):  # the strike column is not a price
        CN.pick_from_chain(
            tab.reads, {"colId": "strike", "rowId": row["strike_key"]}, rows, value, "SPY"
        )


def test_flow_lists_the_most_active_contracts(tab: OptionsTab) -> None:
    tab.sim.advance(30)  # let the session trade
    fig, rows, status = CN.flow(tab.services, "SPY")
    assert "flow" in (fig.layout.title.text or "") or fig.layout.meta
    premiums = [r["premium"] for r in rows if r["premium"] is not None]
    assert premiums == sorted(premiums, reverse=True)
    assert status is not None
