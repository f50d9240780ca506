"""The chain and flow grids on hand-made quotes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from dashboard.views.options.chain import (
    ChainPick,
    ChainRefusal,
    chain_click,
    chain_rows,
    flow_rows,
)
from tests.options._chains import make_chain, make_quote

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_chain_rows_pair_calls_and_puts_and_flag_the_strike_nearest_spot() -> None:
    expiry = date(2026, 12, 18)
    chain = make_chain([expiry], [580, 590, 600, 610, 650], spot=603.0, now=NOW)
    rows, spot = chain_rows(chain, expiry, moneyness_pct=2.0)
    assert spot == 603.0
    assert [r["strike"] for r in rows] == [600.0, 610.0]  # 590 is 2.2% away, 650 further
    assert [r.get("atm", False) for r in rows] == [True, False]
    assert rows[0]["c_symbol"] == "SPY261218C00600000"
    assert rows[0]["p_symbol"] == "SPY261218P00600000"
    assert rows[0]["c_delta"] > 0 > rows[0]["p_delta"]


def test_flow_rows_aggregate_hand_made_prints() -> None:
    expiry = date(2026, 12, 18)
    base = make_quote(expiry, "C", 600, spot=600, now=NOW)
    quiet = replace(base, volume=0)
    call = replace(base, bid=2.00, ask=2.10, last=2.10, volume=500, open_interest=1000)
    put_q = make_quote(expiry, "P", 590, spot=600, now=NOW)
    put = replace(put_q, bid=1.00, ask=1.04, last=1.00, volume=3000, open_interest=1500)
    rows = flow_rows([quiet, call, put])
    assert [r["right"] for r in rows] == ["P", "C"]  # sorted by premium traded
    p, c = rows
    assert p["premium"] == 3000 * 1.02 * 100  # volume × mid × 100
    assert c["premium"] == 500 * 2.05 * 100
    assert (p["vol_oi"], c["vol_oi"]) == (2.0, 0.5)
    assert (p["side"], c["side"]) == ("bid", "ask")  # last at the bid / at the ask


def test_theta_and_vega_are_dollars_per_contract_and_the_ticket_row_is_marked() -> None:
    expiry = date(2026, 12, 18)
    chain = make_chain([expiry], [600, 610], spot=603.0, now=NOW)
    put = next(q for q in chain.quotes if q.contract.right == "P" and q.contract.strike == 600)
    assert put.theta is not None and put.vega is not None
    rows, _ = chain_rows(chain, expiry, moneyness_pct=5.0, ticket=("P", put.contract.strike))
    row = next(r for r in rows if r["strike"] == 600.0)
    assert row["p_theta"] == round(put.theta * 100, 2)  # per share per day × 100 shares
    assert row["p_vega"] == round(put.vega * 100, 2)
    assert row["ticket"] == "P"
    assert [r.get("ticket") for r in rows] == ["P", None]
    assert all("ticket" not in r for r in chain_rows(chain, expiry, 5.0)[0])


def _issue_row() -> dict[str, object]:
    """The 600 strike of a hand-made chain with the prices from issue 19's report: the
    call 23.30 × 23.37 (mid 23.335, shown 23.34), the put 28.49 × 28.70 (mid 28.595 in
    binary floating point just under, shown 28.59)."""
    expiry = date(2026, 12, 18)
    call = replace(make_quote(expiry, "C", 600, spot=603, now=NOW), bid=23.30, ask=23.37)
    put = replace(make_quote(expiry, "P", 600, spot=603, now=NOW), bid=28.49, ask=28.70)
    chain = replace(make_chain([expiry], [600], spot=603.0, now=NOW), quotes=(call, put))
    (row,), _ = chain_rows(chain, expiry, 5.0)
    assert (row["c_mid"], row["p_mid"]) == (23.34, 28.59)
    return row


@pytest.mark.parametrize(
    ("column", "held", "side", "limit", "direction"),
    [
        # long (bull) signal: calls load at exactly the price clicked
        ("c_ask", "long", "ask", 23.37, "long"),
        ("c_bid", "long", "bid", 23.30, "long"),
        ("c_mid", "long", "mid", 23.34, "long"),
        # short (bear) signal: puts
        ("p_ask", "short", "ask", 28.70, "short"),
        ("p_bid", "short", "bid", 28.49, "short"),
        ("p_mid", "short", "mid", 28.59, "short"),
        # no signal held: the contract sets the direction
        ("p_bid", None, "bid", 28.49, "short"),
        ("c_ask", None, "ask", 23.37, "long"),
        # a greek or IV cell loads the contract at the mid its row shows
        ("c_delta", "long", "mid", 23.34, "long"),
        ("p_iv", None, "mid", 28.59, "short"),
    ],
)
def test_a_chain_click_loads_the_price_clicked(
    column: str, held: str | None, side: str, limit: float, direction: str
) -> None:
    row = _issue_row()
    clicked = row.get(column)
    pick = chain_click(row, column, clicked, held)
    assert isinstance(pick, ChainPick)
    assert (pick.side, pick.limit, pick.direction, pick.strike) == (side, limit, direction, "600")
    right = "C" if column.startswith("c_") else "P"
    assert pick.contract == f"SPY261218{right}00600000" and pick.right == right
    assert pick.why.endswith(f"buy limit at the {side} ${limit:,.2f}")


def test_the_price_is_the_clicked_cell_not_the_row_or_a_refetch() -> None:
    row = _issue_row()
    # The grid showed 23.35 when the user clicked (a refresh moved the row since): the
    # price clicked is the one loaded.
    pick = chain_click(row, "c_ask", 23.35, "long")
    assert isinstance(pick, ChainPick) and pick.limit == 23.35


@pytest.mark.parametrize(
    ("column", "held", "wanted"),
    [("p_ask", "long", "call"), ("p_mid", "long", "call"), ("c_bid", "short", "put")],
)
def test_a_contract_against_the_signal_is_refused(column: str, held: str, wanted: str) -> None:
    row = _issue_row()
    refusal = chain_click(row, column, row[column], held)
    assert isinstance(refusal, ChainRefusal)
    assert f"buys a {wanted}" in refusal.message and "unchanged" in refusal.message
    name = "put" if column.startswith("p_") else "call"
    assert f"is a {name}: it contradicts the ticket's {held}" in refusal.message


def test_nothing_to_buy_at_is_refused_and_the_strike_column_is_not_a_contract() -> None:
    row = _issue_row()
    for bad in (None, 0.0, -1.0, float("nan"), "23.37", True):
        refusal = chain_click(row, "c_bid", bad, "long")
        assert isinstance(refusal, ChainRefusal), bad
        assert refusal.message.endswith("has no bid to buy at; the ticket is unchanged.")
    half = {k: v for k, v in row.items() if not k.startswith("p_")}  # no put at this strike
    refusal = chain_click(half, "p_ask", 1.0, None)
    assert isinstance(refusal, ChainRefusal) and "No put at this strike" in refusal.message
    assert chain_click(row, "strike", 600.0, "long") is None
