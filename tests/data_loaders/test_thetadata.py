"""ThetaDataAsyncClient: v3 JSON and v2 header/format payloads parse to the same chain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
import respx

from dashboard.data_loaders.http import AsyncHTTPClient
from dashboard.data_loaders.loop import run_async
from dashboard.data_loaders.thetadata import ThetaDataAsyncClient, theta_rows

U = "http://theta.test"
EXP = date(2025, 12, 19)


def _client(version: str) -> ThetaDataAsyncClient:
    return ThetaDataAsyncClient(AsyncHTTPClient(U, source="thetadata"), version)  # type: ignore[arg-type]


def test_v3_chain_joins_quotes_greeks_and_open_interest() -> None:
    quote = [
        {
            "symbol": "SPY",
            "expiration": "2025-12-19",
            "strike": 600.0,
            "right": "call",
            "timestamp": "2025-11-25T10:15:00.000",
            "bid": 12.1,
            "ask": 12.3,
        },
        {
            "symbol": "SPY",
            "expiration": "2025-12-19",
            "strike": 612.5,
            "right": "put",
            "timestamp": "2025-11-25T10:15:01.000",
            "bid": 9.0,
            "ask": 9.4,
        },
    ]
    greeks = [
        {
            "expiration": "2025-12-19",
            "strike": 600.0,
            "right": "call",
            "delta": 0.52,
            "gamma": 0.01,
            "theta": -0.2,
            "vega": 0.6,
            "rho": 0.1,
            "implied_vol": 0.18,
            "underlying_price": 601.5,
        },
    ]
    oi = [{"expiration": "2025-12-19", "strike": 612.5, "right": "put", "open_interest": 1234}]
    with respx.mock() as mock:
        q = mock.get(f"{U}/v3/option/snapshot/quote").mock(
            return_value=httpx.Response(200, json=quote)
        )
        mock.get(f"{U}/v3/option/snapshot/greeks/all").mock(
            return_value=httpx.Response(200, json={"response": greeks})
        )
        mock.get(f"{U}/v3/option/snapshot/open_interest").mock(
            return_value=httpx.Response(200, json=oi)
        )
        mock.get(f"{U}/v3/option/snapshot/ohlc").mock(return_value=httpx.Response(500, json={}))
        chain = run_async(_client("v3").get_option_chain("spy", EXP))
    params = q.calls.last.request.url.params
    assert (
        params["symbol"] == "SPY"
        and params["expiration"] == "20251219"
        and params["format"] == "json"
    )
    assert chain.source == "thetadata:v3" and chain.underlying_price == 601.5
    call, put = chain.quotes
    assert call.contract.symbol == "SPY251219C00600000" and call.delta == 0.52 and call.iv == 0.18
    assert call.mid == pytest.approx(12.2)
    assert put.contract.symbol == "SPY251219P00612500" and put.open_interest == 1234
    assert put.delta is None  # no greeks row for it
    # 10:15 New York (EST) = 15:15 UTC
    assert call.as_of == datetime(2025, 11, 25, 15, 15, tzinfo=UTC)
    assert chain.as_of == datetime(2025, 11, 25, 15, 15, 1, tzinfo=UTC)


def test_v2_bulk_format_and_tenth_cent_strikes() -> None:
    quote = {
        "header": {"format": ["ms_of_day", "bid", "ask", "date"], "next_page": "null"},
        "response": [
            {
                "contract": {"root": "SPY", "expiration": 20251219, "strike": 600000, "right": "C"},
                "ticks": [[36900000, 12.1, 12.3, 20251125]],
            },
        ],
    }
    greeks = {
        "header": {"format": ["delta", "theta", "vega", "implied_vol", "underlying_price"]},
        "response": [
            {
                "contract": {"root": "SPY", "expiration": 20251219, "strike": 600000, "right": "C"},
                "ticks": [[0.5, -0.2, 0.6, 0.2, 600.25]],
            },
        ],
    }
    with respx.mock() as mock:
        mock.get(f"{U}/v2/bulk_snapshot/option/quote").mock(
            return_value=httpx.Response(200, json=quote)
        )
        mock.get(f"{U}/v2/bulk_snapshot/option/greeks").mock(
            return_value=httpx.Response(200, json=greeks)
        )
        mock.get(f"{U}/v2/bulk_snapshot/option/open_interest").mock(
            return_value=httpx.Response(404)
        )
        mock.get(f"{U}/v2/bulk_snapshot/option/ohlc").mock(return_value=httpx.Response(404))
        chain = run_async(_client("v2").get_option_chain("SPY", EXP))
    (q,) = chain.quotes
    assert q.contract.strike == Decimal("600") and q.contract.right == "C"
    assert q.delta == 0.5 and q.iv == 0.2 and chain.underlying_price == 600.25
    assert q.as_of == datetime(2025, 11, 25, 15, 15, tzinfo=UTC)  # 10:15 ET
    assert chain.source == "thetadata:v2"


def test_lists_v3_and_v2() -> None:
    with respx.mock() as mock:
        mock.get(f"{U}/v3/option/list/expirations").mock(
            return_value=httpx.Response(
                200,
                json=[
                    {"symbol": "SPY", "expiration": "2025-12-19"},
                    {"symbol": "SPY", "expiration": "2025-11-28"},
                ],
            )
        )
        mock.get(f"{U}/v2/list/strikes").mock(
            return_value=httpx.Response(
                200, json={"header": {"format": None}, "response": [612500, 600000]}
            )
        )
        exps = run_async(_client("v3").list_expirations("SPY"))
        strikes = run_async(_client("v2").list_strikes("SPY", EXP))
    assert exps == [date(2025, 11, 28), date(2025, 12, 19)]
    assert strikes == [Decimal("600"), Decimal("612.5")]


def test_v2_pagination_follows_next_page() -> None:
    page1 = {
        "header": {
            "format": ["date", "open", "high", "low", "close", "volume"],
            "next_page": f"{U}/v2/hist/option/eod?page=2",
        },
        "response": [[20251124, 1.0, 1.5, 0.9, 1.2, 10]],
    }
    page2 = {
        "header": {
            "format": ["date", "open", "high", "low", "close", "volume"],
            "next_page": "null",
        },
        "response": [[20251125, 1.2, 1.6, 1.1, 1.4, 12]],
    }
    with respx.mock() as mock:
        route = mock.get(f"{U}/v2/hist/option/eod").mock(
            side_effect=[httpx.Response(200, json=page1), httpx.Response(200, json=page2)]
        )
        eod = run_async(
            _client("v2").get_eod(
                "SPY", EXP, Decimal("600"), "C", date(2025, 11, 24), date(2025, 11, 25)
            )
        )
    first = route.calls[0].request.url.params
    assert (
        first["strike"] == "600000" and first["right"] == "C" and first["start_date"] == "20251124"
    )
    assert route.calls[1].request.url.params["page"] == "2"
    assert list(eod["close"]) == [1.2, 1.4]
    assert [d.date() for d in eod.index] == [date(2025, 11, 24), date(2025, 11, 25)]


def test_theta_rows_accepts_columnar_json() -> None:
    rows = theta_rows({"strike": [600.0, 605.0], "right": ["call", "put"]})
    assert rows == [{"strike": 600.0, "right": "call"}, {"strike": 605.0, "right": "put"}]
