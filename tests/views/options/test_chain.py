"""The chain and flow grids on hand-made quotes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from dashboard.views.options.chain import chain_rows, flow_rows
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
