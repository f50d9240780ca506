"""ThetaDataAsyncClient against ThetaData's own published examples, on the Terminal's ports.

Bodies are the examples of ThetaData's v3 OpenAPI spec and v2 docs (wrapper ``source``;
served byte for byte from ``body_raw_text``, so ``275.000`` stays as published), with
respx on ``127.0.0.1:25503`` (v3) and ``127.0.0.1:25510`` (v2). The unit tests recompute
Black-Scholes from each example row: delta, theta and gamma come out as sent, vega and
rho 100 times smaller, which is ThetaData's "Rho & Vega must be divided by 100" rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
import vollib.black_scholes.greeks.analytical as vollib_greeks
from scipy.optimize import brentq

from dashboard.data_loaders.loop import run_async
from dashboard.data_loaders.thetadata import ThetaDataAsyncClient
from dashboard.options.pricing import bs_greeks, implied_vol
from dashboard.settings import load_settings
from tests.contract._fixtures import THETA_V2, THETA_V3, body, reply, wrapper

NEW_YORK = ZoneInfo("America/New_York")

# The v2 docs' error table: what a Terminal answers a request the subscription lacks.
_PERMISSION = next(
    e
    for e in wrapper("thetadata_tier_refusal_info.json")["v2_error_codes"]
    if e["error_name"] == "PERMISSION"
)


def _client(version: str) -> ThetaDataAsyncClient:
    url = THETA_V3 if version == "v3" else THETA_V2
    settings = load_settings(
        env={"THETADATA_URL": url, "THETADATA_VERSION": version}, env_file=None
    )
    client = ThetaDataAsyncClient.from_settings(settings)
    assert client is not None
    return client


@pytest.fixture
def v3() -> Iterator[ThetaDataAsyncClient]:
    c = _client("v3")
    yield c
    run_async(c.aclose())


def _refusal() -> httpx.Response:
    return httpx.Response(_PERMISSION["http_code"], text=_PERMISSION["description"])


def _no_data() -> httpx.Response:
    # No public body exists for the OI/OHLC snapshots; 472 NO_DATA is the documented
    # answer when there is nothing to send, and the chain must stand without them.
    return httpx.Response(472, text="No data found for your request")


# --- lists -----------------------------------------------------------------------------------


def test_v3_expirations_and_strikes(v3: ThetaDataAsyncClient) -> None:
    with respx.mock() as mock:
        exp = mock.get(f"{THETA_V3}/v3/option/list/expirations").mock(
            return_value=reply("thetadata_v3_option_list_expirations.json")
        )
        strikes = mock.get(f"{THETA_V3}/v3/option/list/strikes").mock(
            return_value=reply("thetadata_v3_option_list_strikes.json")
        )
        expirations = run_async(v3.list_expirations("aapl"))
        listed = run_async(v3.list_strikes("AAPL", date(2022, 9, 30)))
    assert exp.calls.last.request.url.params["symbol"] == "AAPL"
    assert exp.calls.last.request.url.params["format"] == "json"
    assert strikes.calls.last.request.url.params["expiration"] == "20220930"
    assert expirations == [date(2012, 6, 1), date(2012, 6, 8), date(2012, 6, 16),
                           date(2012, 6, 22), date(2012, 6, 29)]  # fmt: skip
    assert listed == [D(80), D(128), D(144), D(160), D(240)]  # dollars, sorted


def test_v2_expirations() -> None:
    client = _client("v2")
    with respx.mock() as mock:
        route = mock.get(f"{THETA_V2}/v2/list/expirations").mock(
            return_value=reply("thetadata_v2_list_expirations.json")
        )
        got = run_async(client.list_expirations("AAPL"))
    assert route.calls.last.request.url.params["root"] == "AAPL"
    assert got == [date(2024, 10, 11), date(2024, 10, 18)]  # integers YYYYMMDD


# --- chain: quotes joined with greeks, by subscription -----------------------------------------


def _chain_routes(mock: respx.MockRouter) -> dict[str, respx.Route]:
    base = f"{THETA_V3}/v3/option/snapshot"
    return {
        "quote": mock.get(f"{base}/quote").mock(
            return_value=reply("thetadata_v3_option_snapshot_quote.json")
        ),
        "all": mock.get(f"{base}/greeks/all").mock(return_value=_refusal()),
        "first": mock.get(f"{base}/greeks/first_order").mock(
            return_value=reply("thetadata_v3_greeks_first_order.json")
        ),
        "oi": mock.get(f"{base}/open_interest").mock(return_value=_no_data()),
        "ohlc": mock.get(f"{base}/ohlc").mock(return_value=_no_data()),
    }


def test_standard_chain_from_the_spec_examples(v3: ThetaDataAsyncClient) -> None:
    """The quote and first-order examples are the same AAPL 2026-01-16 275 call at
    15:59:59.805 New York. ``greeks/all`` is Pro: refused as the docs describe."""
    with respx.mock() as mock:
        r = _chain_routes(mock)
        chain = run_async(v3.get_option_chain("AAPL", date(2026, 1, 16)))
    q = r["quote"].calls.last.request.url.params
    assert (q["symbol"], q["expiration"], q["format"]) == ("AAPL", "20260116", "json")
    (row,) = chain.quotes
    c = row.contract
    assert (c.symbol, c.right, c.strike, c.expiry) == (
        "AAPL260116C00275000", "C", D(275), date(2026, 1, 16),
    )  # fmt: skip
    assert (row.bid, row.ask) == (1.47, 1.5) and row.mid == pytest.approx(1.485)
    # New York wall time without offset: 15:59:59.805 EDT is 19:59:59.805 UTC.
    assert row.as_of == datetime(2025, 8, 20, 19, 59, 59, 805000, UTC)
    assert chain.underlying_price == 225.74
    assert row.iv == 0.2142  # a fraction
    assert row.delta == 0.106
    assert row.theta == -0.0217  # per calendar day, as sent
    assert row.vega == pytest.approx(0.263226)  # 26.3226 per 1.00 → per vol point
    assert row.rho == pytest.approx(0.09105)  # 9.1050 per 1.00 → per 1 % of rate
    assert row.gamma is None  # first order has none
    cov = chain.greeks
    assert cov is not None and (cov.tier, cov.endpoint, cov.missing) == (
        "standard", "greeks/first_order", ("gamma",),
    )  # fmt: skip
    assert cov.reason == "gamma needs a ThetaData Pro subscription"
    assert row.open_interest is None and row.volume is None and chain.report.clean


def test_pro_chain_from_the_greeks_all_example(v3: ThetaDataAsyncClient) -> None:
    """``greeks/all`` (2026-05-15 170 call). No quote example exists for that contract,
    so its quote row is built from the greeks row's own bid, ask and timestamp."""
    greeks = wrapper("thetadata_v3_option_snapshot_greeks_all.json")
    (entry,) = greeks["body"]["response"]
    data = entry["data"][0]
    quote = {"response": [{"contract": entry["contract"], "data": [
        {"bid": data["bid"], "ask": data["ask"], "timestamp": data["timestamp"]}
    ]}]}  # fmt: skip
    with respx.mock(assert_all_called=False) as mock:
        r = _chain_routes(mock)
        r["quote"].mock(return_value=httpx.Response(200, json=quote))
        r["all"].mock(return_value=reply("thetadata_v3_option_snapshot_greeks_all.json"))
        chain = run_async(v3.get_option_chain("AAPL", date(2026, 5, 15)))
    assert r["first"].call_count == 0
    (row,) = chain.quotes
    assert row.contract.symbol == "AAPL260515C00170000"
    assert (row.delta, row.gamma, row.theta, row.iv) == (0.9085, 0.0027, -0.0352, 0.3075)
    assert row.vega == pytest.approx(0.317235) and row.rho == pytest.approx(1.032513)
    assert chain.greeks is not None and chain.greeks.tier == "pro" and chain.greeks.missing == ()


def test_value_tier_chain_has_quotes_and_says_greeks_need_standard(
    v3: ThetaDataAsyncClient,
) -> None:
    with respx.mock() as mock:
        r = _chain_routes(mock)
        r["first"].mock(return_value=_refusal())
        chain = run_async(v3.get_option_chain("AAPL", date(2026, 1, 16)))
    (row,) = chain.quotes
    assert (row.bid, row.ask) == (1.47, 1.5)
    assert (row.iv, row.delta, row.gamma, row.theta, row.vega, row.rho) == (None,) * 6
    assert chain.greeks is not None and chain.greeks.tier == "value"
    assert chain.greeks.reason == "IV and greeks need a ThetaData Standard subscription"


# --- units: Black-Scholes recomputed from each example row ---------------------------------------


def _years(stamp: str, expiry: str) -> float:
    """From the row's New York time to 16:00 New York on expiry, on 365 days."""
    now = datetime.fromisoformat(stamp).replace(tzinfo=NEW_YORK)
    end = datetime.fromisoformat(expiry + "T16:00").replace(tzinfo=NEW_YORK)
    return (end - now).total_seconds() / (365 * 86400)


def _row(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (entry,) = body(name)["response"]
    return entry["contract"], entry["data"][0]


@pytest.mark.parametrize(
    "name",
    ["thetadata_v3_greeks_first_order.json", "thetadata_v3_option_snapshot_greeks_all.json"],
)
def test_vendor_example_rows_pin_the_units(name: str) -> None:
    """The rate is the one that makes the row's IV reproduce its own mid (ThetaData
    solves IV from the mid); then Black-Scholes, here and in vollib, gives delta, gamma
    and theta per calendar day as sent, and vega and rho per 1.00 (100 x per point)."""
    contract, row = _row(name)
    s, k = row["underlying_price"], contract["strike"]
    t = _years(row["timestamp"], contract["expiration"])
    mid = (row["bid"] + row["ask"]) / 2
    iv = row["implied_vol"]
    rate = brentq(lambda r: float(implied_vol(mid, s, k, t, r, "C")) - iv, 0.0, 0.06)
    assert 0.035 < rate < 0.05  # the US short rate in August 2025 was about 4.3 %
    g = bs_greeks(s, k, t, rate, iv, "C")
    assert row["delta"] == pytest.approx(float(g.delta), abs=0.002)
    assert row["theta"] == pytest.approx(float(g.theta), rel=0.03)  # per day
    assert row["vega"] / 100 == pytest.approx(float(g.vega), rel=0.03)
    assert row["rho"] / 100 == pytest.approx(float(g.rho), rel=0.03)
    if "gamma" in row:
        assert row["gamma"] == pytest.approx(float(g.gamma), abs=0.0001)
    # vollib (an independent implementation): vega per 1 % of vol, theta per day.
    assert row["vega"] / 100 == pytest.approx(vollib_greeks.vega("c", s, k, t, rate, iv), rel=0.03)
    assert row["theta"] == pytest.approx(vollib_greeks.theta("c", s, k, t, rate, iv), rel=0.03)
    # ...and not per year, nor vega per 1 % (the scale the rule corrects).
    assert abs(row["theta"] * 365 - float(g.theta)) > 1.0
    assert abs(row["vega"] - float(g.vega)) > 10 * float(g.vega)


# --- history ---------------------------------------------------------------------------------


def test_v3_eod_history(v3: ThetaDataAsyncClient) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{THETA_V3}/v3/option/history/eod").mock(
            return_value=reply("thetadata_v3_option_history_eod.json")
        )
        frame = run_async(
            v3.get_eod(
                "AAPL", date(2024, 11, 15), D(170), "C", date(2024, 11, 4), date(2024, 11, 4)
            )
        )
    q = route.calls.last.request.url.params
    assert (q["symbol"], q["expiration"], q["strike"], q["right"]) == (
        "AAPL",
        "20241115",
        "170",
        "call",
    )
    assert (q["start_date"], q["end_date"], q["format"]) == ("20241104", "20241104", "json")
    assert len(frame) == 1
    # No date field: the trading day is the New York date of ``created`` (17:16 ET).
    assert frame.index[0] == datetime(2024, 11, 4, tzinfo=UTC)
    row = frame.iloc[0]
    assert (row["open"], row["high"], row["low"], row["close"]) == (52.54, 52.75, 52.4, 52.4)
    assert (row["volume"], row["bid"], row["ask"]) == (10, 52.05, 52.45)


def test_fixture_bodies_name_their_public_sources() -> None:
    from tests.contract._fixtures import FIXTURES

    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert len(names) > 50
    for name in names:
        data = json.loads((FIXTURES / name).read_text())
        src = data["source"]
        text = " ".join(src) if isinstance(src, list) else src
        assert len(text) > 30 and data.get("note"), name  # where it came from, and caveats
