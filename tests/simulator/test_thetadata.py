"""ThetaData Terminal routes (v2 and v3) agree with Alpaca's option snapshot at the same time,
in ThetaData's own units (vega, rho and epsilon per 1.00, i.e. 100 x Alpaca's per-point
values), and refuse what the emulated subscription does not cover."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from dashboard.options.occ import parse_occ
from dashboard.simulator.embedded import SimulatorHandle


@pytest.fixture(scope="module")
def contract(pinned: SimulatorHandle) -> dict:
    """A near-the-money SPY call and Alpaca's snapshot of it (the pinned clock never moves)."""
    with pinned.client() as c:
        spot = c.get("/v2/stocks/trades/latest", params={"symbols": "SPY"}).json()
        spot = spot["trades"]["SPY"]["p"]
        chain = c.get(
            "/v1beta1/options/snapshots/SPY", params={"type": "call", "limit": "1000"}
        ).json()["snapshots"]
    occs = {s: parse_occ(s) for s in chain}
    first = min(o.expiry for o in occs.values())
    sym = min(
        (s for s, o in occs.items() if o.expiry == first),
        key=lambda s: abs(float(occs[s].strike) - spot),
    )
    return {"symbol": sym, "occ": occs[sym], "alpaca": chain[sym]}


def _theta(pinned: SimulatorHandle, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{pinned.url}{path}", params=params)  # the Terminal needs no auth


# ThetaData's greeks article: "Rho & Vega must be divided by 100 to get their value".
PER_UNIT = {"delta": 1.0, "gamma": 1.0, "theta": 1.0, "vega": 100.0, "rho": 100.0}


def test_v2_lists_match_the_chain(pinned: SimulatorHandle, contract: dict) -> None:
    occ = contract["occ"]
    exps = _theta(pinned, "/v2/list/expirations", root="SPY").json()
    assert exps["header"]["error_type"] is None and exps["header"]["next_page"] == "null"
    assert int(occ.expiry.strftime("%Y%m%d")) in exps["response"]
    strikes = _theta(pinned, "/v2/list/strikes", root="SPY", exp=occ.expiry.strftime("%Y%m%d"))
    assert int(occ.strike * 1000) in strikes.json()["response"]
    assert strikes.json()["response"] == sorted(strikes.json()["response"])


def test_v2_quote_and_greeks_agree_with_alpaca(pinned: SimulatorHandle, contract: dict) -> None:
    occ, alp = contract["occ"], contract["alpaca"]
    exp = occ.expiry.strftime("%Y%m%d")
    body = _theta(
        pinned, "/v2/snapshot/option/quote", root="SPY", exp=exp,
        strike=int(occ.strike * 1000), right="C",
    ).json()  # fmt: skip
    [row] = body["response"]
    q = dict(zip(body["header"]["format"], row, strict=True))
    lq = alp["latestQuote"]
    assert (q["bid"], q["ask"], q["bid_size"], q["ask_size"]) == (lq["bp"], lq["ap"], lq["bs"],
                                                                 lq["as"])  # fmt: skip
    assert q["ms_of_day"] == 9 * 3_600_000 + 30 * 60_000  # 09:30 New York
    assert q["date"] == 20250603
    bulk = _theta(pinned, "/v2/bulk_snapshot/option/greeks", root="SPY", exp=exp).json()
    fmt = bulk["header"]["format"]
    mine = [
        dict(zip(fmt, e["ticks"][0], strict=True))
        for e in bulk["response"]
        if e["contract"] == {"root": "SPY", "expiration": int(exp),
                             "strike": int(occ.strike * 1000), "right": "C"}
    ]  # fmt: skip
    [g] = mine
    for k in ("delta", "theta", "vega", "rho"):
        assert g[k] == pytest.approx(alp["greeks"][k] * PER_UNIT[k], abs=1e-4), k
    assert g["vega"] / 100 == pytest.approx(alp["greeks"]["vega"], rel=1e-4)
    assert g["implied_vol"] == pytest.approx(alp["impliedVolatility"], abs=1e-6)
    # lambda is the elasticity: delta x spot / option value.
    mid = (g["bid"] + g["ask"]) / 2
    assert g["lambda"] == pytest.approx(g["delta"] * g["underlying_price"] / mid, rel=0.02)
    quotes = _theta(pinned, "/v2/bulk_snapshot/option/quote", root="SPY", exp=exp).json()
    assert len(quotes["response"]) == len(bulk["response"])


def test_v3_csv_and_json_agree_with_alpaca(pinned: SimulatorHandle, contract: dict) -> None:
    occ, alp = contract["occ"], contract["alpaca"]
    params = {"symbol": "SPY", "expiration": occ.expiry.strftime("%Y%m%d"),
              "strike": f"{occ.strike:.3f}", "right": "call"}  # fmt: skip
    text = _theta(pinned, "/v3/option/snapshot/quote", **params)
    assert text.headers["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(text.text)))
    assert row["right"] == "CALL" and row["expiration"] == occ.expiry.isoformat()
    assert float(row["strike"]) == float(occ.strike)
    assert float(row["bid"]) == alp["latestQuote"]["bp"]
    assert float(row["ask"]) == alp["latestQuote"]["ap"]
    assert row["timestamp"] == "2025-06-03T09:30:00.000"
    greeks = _theta(pinned, "/v3/option/snapshot/greeks/all", **params, format="json").json()
    [entry] = greeks["response"]
    assert entry["contract"] == {"symbol": "SPY", "expiration": occ.expiry.isoformat(),
                                 "strike": float(occ.strike), "right": "CALL"}  # fmt: skip
    [data] = entry["data"]
    for k in ("delta", "gamma", "theta", "vega", "rho"):
        assert data[k] == pytest.approx(alp["greeks"][k] * PER_UNIT[k], abs=1e-4), k
    assert data["implied_vol"] == pytest.approx(alp["impliedVolatility"], abs=1e-6)
    first = _theta(pinned, "/v3/option/snapshot/greeks/first_order", **params, format="ndjson")
    [line] = [json.loads(x) for x in first.text.splitlines()]
    assert "gamma" not in line and line["delta"] == data["delta"]


def test_v3_whole_chain_and_lists(pinned: SimulatorHandle, contract: dict) -> None:
    occ = contract["occ"]
    exp = occ.expiry.strftime("%Y%m%d")
    strikes = list(csv.DictReader(io.StringIO(
        _theta(pinned, "/v3/option/list/strikes", symbol="SPY", expiration=exp).text
    )))  # fmt: skip
    chain = list(csv.DictReader(io.StringIO(
        _theta(pinned, "/v3/option/snapshot/quote", symbol="SPY", expiration=exp).text
    )))  # fmt: skip
    assert len(chain) == 2 * len(strikes)
    assert {r["right"] for r in chain} == {"CALL", "PUT"}
    exps = _theta(pinned, "/v3/option/list/expirations", symbol="SPY", format="json").json()
    assert {"symbol": "SPY", "expiration": occ.expiry.isoformat()} in exps["response"]


def test_put_call_parity_on_the_theta_chain(pinned: SimulatorHandle, contract: dict) -> None:
    occ = contract["occ"]
    body = _theta(pinned, "/v3/option/snapshot/greeks/all", symbol="SPY",
                  expiration=occ.expiry.isoformat(), strike=f"{occ.strike:.3f}",
                  format="json").json()  # fmt: skip
    by_right = {e["contract"]["right"]: e["data"][0] for e in body["response"]}
    call, put = by_right["CALL"], by_right["PUT"]
    # C - P = S e^{-qT} - K e^{-rT}; with tiny T the spread brackets S - K.
    lo = call["bid"] - put["ask"]
    hi = call["ask"] - put["bid"]
    fwd = call["underlying_price"] - float(occ.strike)
    assert lo - 0.5 <= fwd <= hi + 0.5


def test_eod_history_matches_alpaca_close_price(pinned: SimulatorHandle, contract: dict) -> None:
    occ = contract["occ"]
    exp = occ.expiry.strftime("%Y%m%d")
    v2 = _theta(pinned, "/v2/hist/option/eod", root="SPY", exp=exp,
                strike=int(occ.strike * 1000), right="C",
                start_date=20250526, end_date=20250603).json()  # fmt: skip
    rows = [dict(zip(v2["header"]["format"], r, strict=True)) for r in v2["response"]]
    # Completed sessions only (Memorial Day 26 May is a holiday; 3 June is still open).
    assert [r["date"] for r in rows] == [20250527, 20250528, 20250529, 20250530, 20250602]
    for r in rows:
        assert r["low"] <= min(r["open"], r["close"]) and r["high"] >= max(r["open"], r["close"])
        assert r["bid"] <= r["ask"]
    with pinned.client() as c:
        alp = c.get(f"/v2/options/contracts/{contract['symbol']}").json()
    assert alp["close_price_date"] == "2025-06-02"
    assert rows[-1]["close"] == float(alp["close_price"])
    v3 = _theta(pinned, "/v3/option/history/eod", symbol="SPY", expiration=exp,
                strike=f"{occ.strike:.3f}", right="call", start_date="2025-05-27",
                end_date="20250602", format="json").json()  # fmt: skip
    [entry] = v3["response"]
    assert [d["close"] for d in entry["data"]] == [r["close"] for r in rows]
    assert entry["data"][0]["created"] == "2025-05-27T17:15:00.000"


def test_errors_use_thetadata_codes(pinned: SimulatorHandle, contract: dict) -> None:
    exp = contract["occ"].expiry.strftime("%Y%m%d")
    assert _theta(pinned, "/v2/list/strikes", root="ZZZZ", exp=exp).status_code == 472
    bad = _theta(pinned, "/v2/snapshot/option/quote", root="SPY", exp=exp, strike=1, right="C")
    assert bad.status_code == 472 and bad.json()["header"]["error_type"] == "NO_DATA"
    missing = _theta(pinned, "/v2/list/strikes", root="SPY")
    assert missing.status_code == 473
    assert _theta(pinned, "/v3/option/snapshot/quote", symbol="SPY").status_code == 473
    past = _theta(pinned, "/v3/option/snapshot/quote", symbol="SPY", expiration="20200117")
    assert past.status_code == 472 and past.headers["Content-Type"].startswith("text/plain")


def test_open_interest_and_ohlc_snapshots(pinned: SimulatorHandle, contract: dict) -> None:
    occ = contract["occ"]
    params = {"symbol": "SPY", "expiration": occ.expiry.strftime("%Y%m%d"),
              "strike": f"{occ.strike:.3f}", "right": "call", "format": "json"}  # fmt: skip
    oi = _theta(pinned, "/v3/option/snapshot/open_interest", **params).json()
    with pinned.client() as c:
        alp = c.get(f"/v2/options/contracts/{contract['symbol']}").json()
    assert oi["response"][0]["data"][0]["open_interest"] == int(alp["open_interest"])
    ohlc = _theta(pinned, "/v3/option/snapshot/ohlc", **params).json()["response"][0]["data"][0]
    # At 09:30 the session has just opened: one sample, so open = high = low = close = mid.
    mid = pinned.sim.chains.mid_series(contract["symbol"], [pinned.now()])[0]
    assert ohlc["open"] == ohlc["high"] == ohlc["low"] == ohlc["close"] == pytest.approx(mid)
    v2 = _theta(pinned, "/v2/bulk_snapshot/option/ohlc", root="SPY", exp=params["expiration"])
    assert v2.json()["header"]["format"][:3] == ["ms_of_day", "ms_of_day2", "open"]


def test_epsilon_is_per_unit_of_dividend_yield(pinned: SimulatorHandle, contract: dict) -> None:
    """Epsilon like vega and rho is per 1.00 (ThetaData's example: -9.70 for a 0.106-delta,
    0.41-year AAPL call at 225.74, i.e. -S*T*delta)."""
    from dashboard.options.pricing import bs_price

    occ = contract["occ"]
    body = _theta(pinned, "/v3/option/snapshot/greeks/all", symbol="SPY",
                  expiration=occ.expiry.isoformat(), strike=f"{occ.strike:.3f}", right="call",
                  format="json").json()  # fmt: skip
    row = body["response"][0]["data"][0]
    qs = pinned.sim.chains.quotes([contract["symbol"]], pinned.now())
    spec_q = pinned.sim.market.spec("SPY").dividend_yield
    spot, t, iv = float(qs.spot[0]), float(qs.T[0]), float(qs.iv[0])
    h = 1e-5
    args = (spot, float(occ.strike), t, 0.04, iv, "C")
    bump = (bs_price(*args, q=spec_q + h) - bs_price(*args, q=spec_q - h)) / (2 * h)
    assert row["epsilon"] == pytest.approx(bump, rel=1e-3)


def _refusal(resp: httpx.Response) -> None:
    assert resp.status_code == 471
    assert "does not have the permissions" in resp.text


def test_tier_refuses_routes_above_the_subscription(
    pinned: SimulatorHandle, contract: dict
) -> None:
    occ = contract["occ"]
    v3 = {"symbol": "SPY", "expiration": occ.expiry.strftime("%Y%m%d"), "format": "json"}
    v2 = {"root": "SPY", "exp": occ.expiry.strftime("%Y%m%d")}
    try:
        pinned.set_thetadata_tier("standard")
        refused = _theta(pinned, "/v3/option/snapshot/greeks/all", **v3)
        _refusal(refused)
        assert refused.headers["Content-Type"].startswith("text/plain")
        first = _theta(pinned, "/v3/option/snapshot/greeks/first_order", **v3)
        assert first.status_code == 200 and "vega" in first.json()["response"][0]["data"][0]
        assert _theta(pinned, "/v2/bulk_snapshot/option/greeks", **v2).status_code == 200

        pinned.set_thetadata_tier("value")
        _refusal(_theta(pinned, "/v3/option/snapshot/greeks/first_order", **v3))
        v2_refused = _theta(pinned, "/v2/bulk_snapshot/option/greeks", **v2)
        _refusal(v2_refused)
        header = v2_refused.json()["header"]
        assert header["error_type"] == "PERMISSION" and header["format"] is None
        assert _theta(pinned, "/v3/option/snapshot/quote", **v3).status_code == 200

        pinned.set_thetadata_tier("free")
        _refusal(_theta(pinned, "/v3/option/snapshot/quote", **v3))
        assert _theta(pinned, "/v3/option/list/expirations", symbol="SPY").status_code == 200
    finally:
        pinned.set_thetadata_tier("pro")
    assert _theta(pinned, "/v3/option/snapshot/greeks/all", **v3).status_code == 200


def test_tier_is_set_over_http(pinned: SimulatorHandle) -> None:
    try:
        assert httpx.get(f"{pinned.url}/_sim/thetadata").json() == {"tier": "pro"}
        bad = httpx.post(f"{pinned.url}/_sim/thetadata", json={"tier": "gold"})
        assert bad.status_code == 400 and pinned.sim.thetadata_tier == "pro"
        ok = httpx.post(f"{pinned.url}/_sim/thetadata", json={"tier": "standard"})
        assert ok.json() == {"tier": "standard"} and pinned.sim.thetadata_tier == "standard"
    finally:
        pinned.set_thetadata_tier("pro")
