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
from dashboard.simulator.embedded import SimulatorHandle

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


# --- units, tiers and tolerant rows ---------------------------------------------------------

from dashboard.data_loaders.errors import UpstreamError  # noqa: E402
from dashboard.data_loaders.thetadata import (  # noqa: E402
    TIER_RECHECK_SECONDS,
    is_subscription_refusal,
)

QUOTE_ROW = {
    "symbol": "SPY",
    "expiration": "2025-12-19",
    "strike": 600.0,
    "right": "CALL",
    "timestamp": "2025-11-25T10:15:00.000",
    "bid": 12.1,
    "ask": 12.3,
}
GREEKS_ROW = {
    "expiration": "2025-12-19",
    "strike": 600.0,
    "right": "CALL",
    "delta": 0.52,
    "theta": -0.21,
    "vega": 26.3226,  # ThetaData units: per 1.00 of volatility
    "rho": 9.105,
    "implied_vol": 0.18,
    "underlying_price": 601.5,
}
REFUSAL = httpx.Response(
    471, text="Your account does not have the permissions required to execute the request."
)


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _routes(mock: respx.MockRouter, *, all_: httpx.Response, first: httpx.Response) -> dict:
    quote = mock.get(f"{U}/v3/option/snapshot/quote").mock(
        return_value=httpx.Response(200, json={"response": [QUOTE_ROW]})
    )
    mock.get(f"{U}/v3/option/snapshot/open_interest").mock(return_value=httpx.Response(472))
    mock.get(f"{U}/v3/option/snapshot/ohlc").mock(return_value=httpx.Response(472))
    return {
        "quote": quote,
        "all": mock.get(f"{U}/v3/option/snapshot/greeks/all").mock(return_value=all_),
        "first": mock.get(f"{U}/v3/option/snapshot/greeks/first_order").mock(return_value=first),
    }


def _ok(row: dict) -> httpx.Response:
    return httpx.Response(200, json={"response": [row]})


def test_vega_and_rho_are_scaled_to_model_units_theta_is_not() -> None:
    with respx.mock(assert_all_called=False) as mock:
        _routes(mock, all_=_ok({**GREEKS_ROW, "gamma": 0.0027}), first=REFUSAL)
        chain = run_async(_client("v3").get_option_chain("SPY", EXP))
    (q,) = chain.quotes
    assert q.vega == pytest.approx(0.263226)  # per vol point
    assert q.rho == pytest.approx(0.09105)  # per 1 % of rate
    assert q.theta == pytest.approx(-0.21)  # per calendar day already
    assert q.gamma == pytest.approx(0.0027) and q.delta == 0.52 and q.iv == 0.18
    assert chain.greeks is not None and chain.greeks.tier == "pro"
    assert chain.greeks.missing == () and chain.greeks.endpoint == "greeks/all"


def test_standard_tier_is_learned_once_remembered_and_rechecked_later() -> None:
    clock = _Clock()
    client = ThetaDataAsyncClient(AsyncHTTPClient(U, source="thetadata"), "v3", clock=clock)
    with respx.mock(assert_all_called=False) as mock:
        r = _routes(mock, all_=REFUSAL, first=_ok(GREEKS_ROW))
        first = run_async(client.get_option_chain("SPY", EXP))
        assert r["all"].call_count == 1 and r["first"].call_count == 1
        (q,) = first.quotes
        assert q.iv == 0.18 and q.delta == 0.52 and q.theta == -0.21
        assert q.vega == pytest.approx(0.263226) and q.gamma is None
        assert client.tier == "standard"
        cov = first.greeks
        assert cov is not None and cov.tier == "standard" and cov.missing == ("gamma",)
        assert cov.endpoint == "greeks/first_order" and "gamma needs" in cov.reason
        assert "Pro" in cov.reason

        clock.t += TIER_RECHECK_SECONDS - 1
        run_async(client.get_option_chain("SPY", EXP))
        assert r["all"].call_count == 1  # remembered: Pro is not asked again yet
        assert r["first"].call_count == 2

        clock.t += 2  # the recheck is due: the user may have upgraded
        r["all"].mock(return_value=_ok({**GREEKS_ROW, "gamma": 0.01}))
        upgraded = run_async(client.get_option_chain("SPY", EXP))
    assert r["all"].call_count == 2 and r["first"].call_count == 2
    assert client.tier == "pro" and upgraded.quotes[0].gamma == 0.01
    assert upgraded.greeks is not None and upgraded.greeks.missing == ()


def test_value_tier_has_quotes_without_greeks_and_says_why() -> None:
    client = _client("v3")
    with respx.mock(assert_all_called=False) as mock:
        r = _routes(mock, all_=REFUSAL, first=REFUSAL)
        chain = run_async(client.get_option_chain("SPY", EXP))
        again = run_async(client.get_option_chain("SPY", EXP))
    (q,) = chain.quotes
    assert q.bid == 12.1 and q.iv is None and q.delta is None and q.vega is None
    assert client.tier == "value"
    assert chain.greeks is not None and chain.greeks.tier == "value"
    assert set(chain.greeks.missing) == {"iv", "delta", "gamma", "theta", "vega", "rho"}
    assert "Standard" in chain.greeks.reason
    assert r["all"].call_count == 1 and r["first"].call_count == 1  # not asked again
    assert again.greeks == chain.greeks


@pytest.mark.parametrize(
    ("response", "refusal"),
    [
        (httpx.Response(471, text="PERMISSION"), True),
        (httpx.Response(403, json={"message": "forbidden"}), True),
        (httpx.Response(401, text="unauthorized"), True),
        (httpx.Response(400, text="Not subscribed to this data"), True),
        (httpx.Response(470, text="Please upgrade your subscription"), True),
        (httpx.Response(472, text="No data found for your request"), False),
        (httpx.Response(473, text="invalid parameters"), False),
        (httpx.Response(404, text="There is no implementation of this request"), False),
    ],
)
def test_refusal_is_any_permission_status_or_subscription_text(
    response: httpx.Response, refusal: bool
) -> None:
    client = _client("v3")
    with respx.mock(assert_all_called=False) as mock:
        _routes(mock, all_=response, first=_ok(GREEKS_ROW))
        chain = run_async(client.get_option_chain("SPY", EXP))
    assert chain.quotes  # the chain never fails for its greeks
    assert chain.greeks is not None
    if refusal:
        assert client.tier == "standard" and chain.quotes[0].delta == 0.52
    else:
        assert client.tier is None and chain.quotes[0].delta is None
        assert chain.greeks.reason.startswith("greeks unavailable")


def test_a_server_error_on_greeks_does_not_teach_a_tier() -> None:
    client = _client("v3")
    with respx.mock(assert_all_called=False) as mock:
        r = _routes(mock, all_=httpx.Response(503, text="busy"), first=_ok(GREEKS_ROW))
        chain = run_async(client.get_option_chain("SPY", EXP))
    assert client.tier is None and r["first"].call_count == 0
    assert chain.quotes[0].delta is None
    assert chain.greeks is not None and "greeks unavailable" in chain.greeks.reason
    assert is_subscription_refusal(UpstreamError("x", status=503)) is False


def test_v2_greeks_refused_means_value_tier() -> None:
    quote = {
        "header": {"format": ["ms_of_day", "bid", "ask", "date"], "next_page": "null"},
        "response": [
            {
                "contract": {"root": "SPY", "expiration": 20251219, "strike": 600000, "right": "C"},
                "ticks": [[36900000, 12.1, 12.3, 20251125]],
            }
        ],
    }
    refusal = httpx.Response(
        471,
        json={
            "header": {"error_type": "PERMISSION", "error_msg": "no permission", "format": None},
            "response": [],
        },
    )
    client = _client("v2")
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{U}/v2/bulk_snapshot/option/quote").mock(
            return_value=httpx.Response(200, json=quote)
        )
        mock.get(f"{U}/v2/bulk_snapshot/option/greeks").mock(return_value=refusal)
        mock.get(f"{U}/v2/bulk_snapshot/option/open_interest").mock(
            return_value=httpx.Response(472)
        )
        mock.get(f"{U}/v2/bulk_snapshot/option/ohlc").mock(return_value=httpx.Response(472))
        chain = run_async(client.get_option_chain("SPY", EXP))
    assert client.tier == "value" and chain.quotes[0].iv is None
    assert chain.greeks is not None and "Standard" in chain.greeks.reason


def test_quotes_refused_fail_the_chain_with_the_subscription_named() -> None:
    with respx.mock(assert_all_called=False) as mock:
        r = _routes(mock, all_=_ok(GREEKS_ROW), first=_ok(GREEKS_ROW))
        r["quote"].mock(return_value=REFUSAL)
        with pytest.raises(UpstreamError, match="need a ThetaData Value subscription"):
            run_async(_client("v3").get_option_chain("SPY", EXP))


def test_one_unreadable_chain_row_is_counted_not_fatal() -> None:
    bad_right = {**QUOTE_ROW, "strike": 605.0, "right": "SIDEWAYS"}
    no_strike = {k: v for k, v in QUOTE_ROW.items() if k != "strike"}
    bad_greeks = {**GREEKS_ROW, "strike": "n/a"}
    with respx.mock(assert_all_called=False) as mock:
        r = _routes(mock, all_=httpx.Response(200, json=[GREEKS_ROW, bad_greeks]), first=REFUSAL)
        r["quote"].mock(
            return_value=httpx.Response(200, json={"response": [QUOTE_ROW, bad_right, no_strike]})
        )
        chain = run_async(_client("v3").get_option_chain("SPY", EXP))
    (q,) = chain.quotes
    assert q.delta == 0.52
    report = chain.report
    assert report.received == 3 and report.skipped_count == 3
    reasons = {(s.kind, s.reason): s.count for s in report.skipped}
    assert reasons[("chain row", "malformed record (option right 'SIDEWAYS')")] == 1
    assert reasons[("chain row", "missing field 'strike'")] == 1
    assert ("greeks row", "malformed number") in reasons


def test_thetadata_and_alpaca_give_the_grid_the_same_vega(sim: SimulatorHandle) -> None:
    """One contract, one instant: the OptionQuote the chain grid shows has the same
    greeks whether ThetaData (v3 or v2, in ThetaData's units on the wire) or Alpaca
    served it."""
    from dashboard.data_loaders.alpaca import AlpacaAsyncClient

    def theta(version: str) -> ThetaDataAsyncClient:
        return ThetaDataAsyncClient(AsyncHTTPClient(sim.url, source="thetadata"), version)  # type: ignore[arg-type]

    headers = sim.headers
    alpaca = AlpacaAsyncClient(
        AsyncHTTPClient(sim.url, source="alpaca-trading", headers=headers),
        AsyncHTTPClient(sim.url, source="alpaca-data", headers=headers),
        simulator=True,
    )
    sim.sim.faults.clear()
    t3, t2 = theta("v3"), theta("v2")
    try:
        expiry = run_async(t3.list_expirations("SPY"))[1]
        before = sim.now()
        v3 = run_async(t3.get_option_chain("SPY", expiry))
        v2 = run_async(t2.get_option_chain("SPY", expiry))
        alp = run_async(alpaca.get_option_chain("SPY", expiry))
    finally:
        for c in (t3, t2, alpaca):
            run_async(c.aclose())
    assert sim.now() == before  # the session simulator's clock is manual
    spot = v3.underlying_price
    assert spot is not None
    a_by = {q.contract.symbol: q for q in alp.quotes}
    atm = min(v3.quotes, key=lambda q: abs(float(q.contract.strike) - spot))
    a = a_by[atm.contract.symbol]
    b = {q.contract.symbol: q for q in v2.quotes}[atm.contract.symbol]
    assert a.vega is not None and a.vega < 5  # per vol point
    for q in (atm, b):
        assert q.vega == pytest.approx(a.vega, abs=1e-6)
        assert q.rho == pytest.approx(a.rho, abs=1e-6)
        assert q.theta == pytest.approx(a.theta, abs=1e-6)
        assert q.delta == pytest.approx(a.delta, abs=1e-6)
        assert q.iv == pytest.approx(a.iv, abs=1e-6)
    assert atm.gamma == pytest.approx(a.gamma, abs=1e-6) and b.gamma is None  # v2: first order


def test_standard_tier_chain_from_the_simulator_says_gamma_needs_pro(
    fresh_sim: SimulatorHandle,
) -> None:
    fresh_sim.set_thetadata_tier("standard")
    client = ThetaDataAsyncClient(AsyncHTTPClient(fresh_sim.url, source="thetadata"), "v3")
    try:
        expiry = run_async(client.list_expirations("SPY"))[0]
        chain = run_async(client.get_option_chain("SPY", expiry))
    finally:
        run_async(client.aclose())
    assert chain.quotes and client.tier == "standard"
    shown = [q for q in chain.quotes if q.bid and q.ask]
    assert all(None not in (q.iv, q.delta, q.theta, q.vega) for q in shown)
    assert all(q.gamma is None for q in chain.quotes)
    assert chain.greeks is not None and chain.greeks.reason == (
        "gamma needs a ThetaData Pro subscription"
    )
