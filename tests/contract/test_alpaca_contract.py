"""AlpacaAsyncClient against bodies Alpaca published or others recorded, on the real hosts.

Each test runs the real client (built from settings, as the app builds it) with respx on
``paper-api.alpaca.markets`` and ``data.alpaca.markets`` and asserts every field the app
uses, with its value and unit. Sources are in each fixture's wrapper (see
``fixtures/INDEX.md``); variants derived from a public body say why next to the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal as D

import httpx
import pytest
import respx
from scipy.optimize import fsolve

from dashboard.data_loaders.alpaca import AlpacaAsyncClient, OrderRequest
from dashboard.data_loaders.loop import run_async
from dashboard.options.pricing import bs_greeks
from dashboard.settings import load_settings
from tests.contract._fixtures import DATA, PAPER, as_list, body

KEY, SECRET = "contract-test-placeholder-key-id", "contract-test-placeholder-secret"


@pytest.fixture
def client() -> Iterator[AlpacaAsyncClient]:
    settings = load_settings(
        env={"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET}, env_file=None
    )
    assert settings.alpaca_trading_url == PAPER and settings.alpaca_data_url == DATA
    c = AlpacaAsyncClient.from_settings(settings)
    yield c
    run_async(c.aclose())


def _authed(request: httpx.Request) -> None:
    assert request.headers["APCA-API-KEY-ID"] == KEY
    assert request.headers["APCA-API-SECRET-KEY"] == SECRET


# --- account, clock ---------------------------------------------------------------------------


def test_account_alpaca_py(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/account").mock(
            return_value=httpx.Response(200, json=body("alpaca_trading_account_alpacapy.json"))
        )
        a = run_async(client.get_account())
    _authed(route.calls.last.request)
    assert a.account_number == "010203ABCD" and a.status == "ACTIVE" and a.currency == "USD"
    assert a.cash == D("-23140.2")  # dollars, exact (a margin account can be negative)
    assert a.equity == D("103820.56") and a.last_equity == D("103529.24")
    assert a.portfolio_value == D("103820.56") and a.buying_power == D("262113.632")
    # No options_buying_power in this body: buying power stands in for it.
    assert a.options_buying_power == D("262113.632")
    assert a.long_market_value == D("126960.76") and a.short_market_value == D(0)
    assert a.trading_blocked is False and a.pattern_day_trader is False
    assert a.options_trading_level is None


def test_account_recorded_with_a_renamed_key_is_an_error_not_half_an_account(
    client: AlpacaAsyncClient,
) -> None:
    """The 2020 recording has ``ACCOUNT_NUMBER`` (the recorder's filter renamed it)."""
    from dashboard.data_loaders.errors import BadResponse

    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/account").mock(
            return_value=httpx.Response(200, json=body("alpaca_trading_account_recorded.json"))
        )
        with pytest.raises(BadResponse, match="account_number"):
            run_async(client.get_account())
    fixed = body("alpaca_trading_account_recorded.json")
    fixed["account_number"] = fixed.pop("ACCOUNT_NUMBER")
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/account").mock(return_value=httpx.Response(200, json=fixed))
        a = run_async(client.get_account())
    assert a.account_number == "PA2XNN7L2QU0" and a.cash == D(100000)
    assert a.buying_power == D(400000) and a.equity == a.last_equity == D(100000)


@pytest.mark.parametrize(
    ("name", "stamp", "next_open", "next_close"),
    [
        (  # recorded: nanoseconds (cut to microseconds) and a New York offset
            "alpaca_trading_clock_recorded.json",
            datetime(2020, 6, 9, 2, 38, 49, 42731, UTC),
            datetime(2020, 6, 9, 13, 30, tzinfo=UTC),
            datetime(2020, 6, 9, 20, 0, tzinfo=UTC),
        ),
        (  # alpaca-py: eight fractional digits
            "alpaca_trading_clock_alpacapy.json",
            datetime(2022, 5, 16, 20, 32, 24, 143735, UTC),
            datetime(2022, 5, 17, 13, 30, tzinfo=UTC),
            datetime(2022, 5, 17, 20, 0, tzinfo=UTC),
        ),
    ],
)
def test_clock(
    client: AlpacaAsyncClient,
    name: str,
    stamp: datetime,
    next_open: datetime,
    next_close: datetime,
) -> None:
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/clock").mock(return_value=httpx.Response(200, json=body(name)))
        c = run_async(client.get_clock())
    assert (c.timestamp, c.is_open, c.next_open, c.next_close) == (
        stamp, False, next_open, next_close,
    )  # fmt: skip


# --- positions --------------------------------------------------------------------------------


def test_positions_recorded_and_docs(client: AlpacaAsyncClient) -> None:
    rows = body("alpaca_trading_positions_recorded.json") + as_list(
        "alpaca_trading_positions_docs_current.json"
    )
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/positions").mock(return_value=httpx.Response(200, json=rows))
        got = run_async(client.get_positions())
    assert got.report.clean and len(got) == len(rows)
    tsla = got.items[0]
    assert (tsla.symbol, tsla.asset_class, tsla.side) == ("TSLA", "us_equity", "long")
    assert tsla.qty == D(5) and tsla.avg_entry_price == D("892.736")
    assert tsla.market_value == D("4411.95") and tsla.cost_basis == D("4463.68")
    assert tsla.unrealized_pl == D("-51.73")
    assert tsla.unrealized_plpc == D("-0.0115890924080579")  # a fraction, not percent
    assert tsla.current_price == D("882.39") and tsla.lastday_price == D("898.1")
    assert tsla.change_today == D("-0.01749248413317")
    docs = got.items[-1]
    assert docs.symbol == "AAPL" and docs.unrealized_intraday_pl == D("-0.98")


def test_positions_with_crypto_keep_every_row(client: AlpacaAsyncClient) -> None:
    """Crypto positions (Alpaca's legacy docs example and ccxt's pasted live reply) are
    listed with their value; they never break the read."""
    rows = (
        body("alpaca_trading_positions_alpacapy.json")
        + body("alpaca_trading_positions_crypto_ccxt.json")
        + [body("alpaca_trading_position_crypto_docs.json")]
    )
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/positions").mock(return_value=httpx.Response(200, json=rows))
        got = run_async(client.get_positions())
    assert [(p.symbol, p.asset_class) for p in got] == [
        ("AAPL", "us_equity"),
        ("BTCUSD", "crypto"),
        ("BTCUSD", "crypto"),
    ]
    ccxt, docs = got.items[1], got.items[2]
    assert ccxt.qty == D("0.0167") and ccxt.market_value == D("988.423067")
    assert docs.qty == D("2.61937") and docs.market_value == D("50931.03028")
    assert docs.avg_entry_price == D("19660.5738784516887649")  # every digit kept
    assert docs.unrealized_intraday_pl == D("-514.790552088631999405963")
    assert got.report.clean


def test_positions_variant_one_unknown_class_and_one_malformed(client: AlpacaAsyncClient) -> None:
    """Derived from the recorded reply: alpaca-py's AssetClass also lists classes the app
    does not model (e.g. ``treasury``), and a record may lose a field."""
    rows = body("alpaca_trading_positions_recorded.json")
    rows[1]["asset_class"] = "treasury"
    del rows[2]["qty"]
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/positions").mock(return_value=httpx.Response(200, json=rows))
        got = run_async(client.get_positions())
    assert [p.symbol for p in got] == ["TSLA"]
    assert {(s.reason, s.count) for s in got.report.skipped} == {
        ("unknown asset class 'treasury'", 1),
        ("missing field 'qty'", 1),
    }


# --- orders ----------------------------------------------------------------------------------


def test_orders_equity_option_crypto_and_multileg(client: AlpacaAsyncClient) -> None:
    rows = [
        *as_list("alpaca_trading_orders_equity.json"),
        *as_list("alpaca_trading_orders_option_simple.json"),
        *as_list("alpaca_trading_orders_crypto.json"),
        *as_list("alpaca_trading_orders_mleg.json"),
    ]
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/orders").mock(return_value=httpx.Response(200, json=rows))
        got = run_async(client.get_orders(status="open", limit=500))
    q = route.calls.last.request.url.params
    assert (q["status"], q["limit"], q["direction"], q["nested"]) == (
        "open",
        "500",
        "desc",
        "false",
    )
    assert got.report.clean and len(got) == 4
    eq, opt, crypto, mleg = got.items
    assert (eq.symbol, eq.side, eq.type, eq.time_in_force) == ("AAPL", "buy", "limit", "gtc")
    assert eq.order_class == "" or eq.order_class == "simple"
    assert eq.qty == D(2) and eq.limit_price == D(150) and eq.filled_qty == D(0)
    assert eq.created_at == datetime(2023, 12, 12, 22, 31, 24, 668464, UTC)
    assert (opt.symbol, opt.asset_class, opt.status) == (
        "AAPL250620C00100000",
        "us_option",
        "pending_new",
    )
    assert opt.limit_price == D(10)  # dollars per share of the contract
    assert (crypto.symbol, crypto.asset_class, crypto.qty) == ("ETH/USD", "crypto", D("0.02"))
    assert mleg.is_multileg and mleg.symbol is None and mleg.side is None
    assert mleg.asset_class is None and mleg.type == "limit" and mleg.status == "filled"
    assert mleg.qty == D(1) and mleg.limit_price == D(10) and mleg.filled_avg_price == D("1.28")
    buy, sell = mleg.legs
    assert (buy.symbol, buy.side, buy.ratio_qty, buy.position_intent) == (
        "AAPL241213C00250000", "buy", D(3), "buy_to_open",
    )  # fmt: skip
    assert (sell.symbol, sell.side, sell.ratio_qty, sell.position_intent) == (
        "AAPL241213C00260000", "sell", D(1), "sell_to_open",
    )  # fmt: skip
    assert buy.filled_avg_price == D("0.43") and sell.filled_avg_price == D("0.01")


def test_order_by_client_order_id(client: AlpacaAsyncClient) -> None:
    for name in (
        "alpaca_trading_order_by_client_order_id_alpacapy.json",
        "alpaca_trading_order_by_client_order_id_recorded.json",
    ):
        raw = body(name)
        with respx.mock() as mock:
            route = mock.get(f"{PAPER}/v2/orders:by_client_order_id").mock(
                return_value=httpx.Response(200, json=raw)
            )
            o = run_async(client.get_order_by_client_id(raw["client_order_id"]))
        assert route.calls.last.request.url.params["client_order_id"] == raw["client_order_id"]
        assert o is not None and o.id == raw["id"] and o.symbol == raw["symbol"]
        assert o.qty == (D(str(raw["qty"])) if raw.get("qty") is not None else None)
        assert o.status == raw["status"] and o.side == raw["side"]


def test_submit_cancel_and_close_use_the_order_shape(client: AlpacaAsyncClient) -> None:
    """POST /v2/orders and DELETE /v2/positions/{symbol} answer an Order (docs example);
    DELETE /v2/orders/{id} answers 204 with no body."""
    (placed,) = as_list("alpaca_trading_orders_option_simple.json")
    req = OrderRequest(
        "AAPL250620C00100000", D(2), "buy", "limit", limit_price=D(10),
        client_order_id=placed["client_order_id"], position_intent="buy_to_open",
    )  # fmt: skip
    with respx.mock() as mock:
        post = mock.post(f"{PAPER}/v2/orders").mock(return_value=httpx.Response(200, json=placed))
        cancel = mock.delete(f"{PAPER}/v2/orders/{placed['id']}").mock(
            return_value=httpx.Response(204)
        )
        close = mock.delete(f"{PAPER}/v2/positions/AAPL").mock(
            return_value=httpx.Response(200, json=as_list("alpaca_trading_orders_equity.json")[0])
        )
        o = run_async(client.submit_order(req))
        run_async(client.cancel_order(o.id))
        closing = run_async(client.close_position("AAPL", D(2)))
    import json

    sent = json.loads(post.calls.last.request.content)
    assert sent == {
        "symbol": "AAPL250620C00100000", "qty": "2", "side": "buy", "type": "limit",
        "time_in_force": "day", "client_order_id": placed["client_order_id"],
        "limit_price": "10", "position_intent": "buy_to_open",
    }  # fmt: skip
    assert o.id == placed["id"] and o.limit_price == D(10) and cancel.called
    assert close.calls.last.request.url.params["qty"] == "2"
    assert closing.symbol == "AAPL" and closing.qty == D(2)


# --- fills ------------------------------------------------------------------------------------


def test_fills_recorded_with_partial_fill(client: AlpacaAsyncClient) -> None:
    rows = body("alpaca_trading_account_activities_fill_recorded.json")
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/account/activities/FILL").mock(
            return_value=httpx.Response(200, json=rows)
        )
        fills = run_async(client.get_fills(after=datetime(2020, 6, 1, tzinfo=UTC)))
    q = route.calls.last.request.url.params
    assert q["direction"] == "desc" and q["after"] == "2020-06-01T00:00:00Z"
    assert len(fills) == len(rows) and fills.report.clean
    first = fills.items[0]
    assert (first.symbol, first.side, first.qty, first.price) == ("TSLA", "sell", D(5), D("886.55"))
    assert first.transaction_time == datetime(2020, 6, 3, 13, 30, 14, 199812, UTC)
    assert first.order_id == "c47ff82f-fa83-4083-9121-3623f4b3cb8d" and not first.short_sale
    partial = next(f for f in fills if f.type == "partial_fill")
    assert partial.leaves_qty == D(1) and partial.cum_qty == D(4) and partial.price == D("893.5")
    ts = next(f for f in fills if f.id.startswith("20200603093004179"))
    assert ts.transaction_time == datetime(2020, 6, 3, 13, 30, 4, 179120, UTC)  # '.17912Z'


def test_fills_variant_short_sale_and_non_fill_activity(client: AlpacaAsyncClient) -> None:
    """``side: "sell_short"`` on a fill is reported by Alpaca API users (alpaca-py's
    OrderSide has SELL_SHORT; Finance::Alpaca documents "buy, sell, or sell_short"); no
    public body shows one, so the recorded sell is changed to it. The mixed list is
    alpaca-py's own mock (a CSD beside a FILL)."""
    rows = body("alpaca_trading_account_activities_fill_recorded.json")[:2]
    rows[0]["side"] = "sell_short"
    rows += body("alpaca_trading_account_activities_mixed_alpacapy.json")
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/account/activities/FILL").mock(
            return_value=httpx.Response(200, json=rows)
        )
        fills = run_async(client.get_fills())
    short, sell, googl = fills.items
    assert short.side == "sell" and short.short_sale and short.qty == D(5)
    assert sell.side == "sell" and not sell.short_sale
    assert googl.symbol == "GOOGL" and googl.cum_qty == D("10.177047834")
    assert [(s.reason, s.count) for s in fills.report.skipped] == [
        ("not a fill (activity type 'CSD')", 1)
    ]


# --- portfolio history ------------------------------------------------------------------------


def test_portfolio_history_in_epoch_seconds(client: AlpacaAsyncClient) -> None:
    raw = body("alpaca_trading_portfolio_history_recorded_seconds.json")
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/account/portfolio/history").mock(
            return_value=httpx.Response(200, json=raw)
        )
        h = run_async(client.get_portfolio_history("1M", "1D"))
    q = route.calls.last.request.url.params
    assert (q["period"], q["timeframe"]) == ("1M", "1D")
    assert h.timestamps[0] == datetime(2020, 5, 11, 13, 30, tzinfo=UTC)  # 09:30 New York
    assert h.timestamps[-1] == datetime(2020, 6, 10, 20, 0, tzinfo=UTC)
    assert h.equity[15] == 100031.91 and h.profit_loss[15] == 31.91
    assert len(h.timestamps) == len(h.equity) == len(h.profit_loss_pct) == 22


@pytest.mark.parametrize(
    "name",
    ["alpaca_trading_portfolio_history_docs_1d.json",
     "alpaca_trading_portfolio_history_docs_intraday_15min.json"],
)  # fmt: skip
def test_portfolio_history_docs_examples(client: AlpacaAsyncClient, name: str) -> None:
    raw = body(name)
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/account/portfolio/history").mock(
            return_value=httpx.Response(200, json=raw)
        )
        h = run_async(client.get_portfolio_history())
    # Epoch seconds in these docs: 1697241600 is 2023-10-14 00:00 UTC.
    assert h.timestamps == tuple(datetime.fromtimestamp(t, UTC) for t in raw["timestamp"])
    assert h.timestamps[0].year == 2023
    assert h.equity == tuple(float(v) for v in raw["equity"])  # dollars
    assert h.profit_loss_pct == tuple(float(v) for v in raw["profit_loss_pct"])  # fractions
    assert h.base_value == float(raw["base_value"]) and h.timeframe == raw["timeframe"]


def test_portfolio_history_in_epoch_milliseconds(client: AlpacaAsyncClient) -> None:
    """Alpaca's docs "Sample Object" sends 13-digit milliseconds where its attribute table
    says seconds: both read as the same instants."""
    raw = body("alpaca_trading_portfolio_history_docs_ms.json")
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/account/portfolio/history").mock(
            return_value=httpx.Response(200, json=raw)
        )
        h = run_async(client.get_portfolio_history("1D", "15Min"))
    assert h.timestamps == (
        datetime(2020, 2, 4, 14, 30, tzinfo=UTC),  # 09:30 New York (EST)
        datetime(2020, 2, 4, 14, 45, tzinfo=UTC),
        datetime(2020, 2, 4, 15, 0, tzinfo=UTC),
    )
    assert h.equity == (27423.73, 27408.19, 27515.97) and h.base_value == 27411.93
    assert h.profit_loss == (11.8, -3.74, 104.04) and h.timeframe == "15Min"


# --- option contracts and snapshots -----------------------------------------------------------


def test_option_contracts(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/options/contracts").mock(
            return_value=httpx.Response(200, json=body("alpaca_trading_option_contracts.json"))
        )
        got = run_async(client.get_option_contracts("aapl", expiration_gte=date(2023, 11, 1)))
    q = route.calls.last.request.url.params
    assert q["underlying_symbols"] == "AAPL" and q["expiration_date_gte"] == "2023-11-01"
    (c,) = got
    assert (c.symbol, c.underlying, c.right, c.expiry) == (
        "AAPL231103C00170000", "AAPL", "C", date(2023, 11, 3),
    )  # fmt: skip
    assert c.strike == D(170) and c.open_interest == 0 and c.close_price is None and c.tradable


def _fit_spot_and_years(k: float, right: str, iv: float, delta: float, mid: float) -> tuple:
    """Spot and time the quote's own delta and mid imply at its IV (the bodies give
    neither), so the remaining greeks can be recomputed and compared."""

    def gap(x: list[float]) -> list[float]:
        g = bs_greeks(x[0], k, max(x[1], 1e-6), 0.05, iv, right)
        return [float(g.delta) - delta, float(g.price) - mid]

    s, t = fsolve(gap, [k, 0.02])
    return float(s), float(t)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("alpaca_data_option_chain.json", "/v1beta1/options/snapshots/AAPL"),
        ("alpaca_data_option_snapshots_docs.json", "/v1beta1/options/snapshots"),
    ],
)
def test_option_snapshot_greeks_are_already_in_model_units(
    client: AlpacaAsyncClient, name: str, path: str
) -> None:
    """Alpaca's vega is per vol point and theta per calendar day (the model's units):
    with spot and time fitted to the row's delta and mid, Black-Scholes gives the other
    greeks within 6 %, and nothing is scaled."""
    raw = body(name)
    ((sym, snap),) = raw["snapshots"].items()
    with respx.mock() as mock:
        mock.get(f"{DATA}{path}").mock(return_value=httpx.Response(200, json=raw))
        if path.endswith("AAPL"):
            mock.get(f"{DATA}/v2/stocks/trades/latest").mock(return_value=httpx.Response(500))
            chain = run_async(client.get_option_chain("AAPL"))
            (q,) = chain.quotes
            assert chain.underlying_price is None and chain.report.clean
        else:
            q = run_async(client.get_option_snapshots([sym]))[sym]
    g = snap["greeks"]
    assert (q.delta, q.gamma, q.theta, q.vega, q.rho) == (
        g["delta"], g["gamma"], g["theta"], g["vega"], g["rho"],
    )  # fmt: skip
    assert q.iv == snap["impliedVolatility"]  # a fraction (0.34 = 34 %)
    lq = snap["latestQuote"]
    assert (q.bid, q.ask, q.last) == (lq["bp"], lq["ap"], snap["latestTrade"]["p"])
    s, t = _fit_spot_and_years(
        float(q.contract.strike), q.contract.right, q.iv, q.delta, (q.bid + q.ask) / 2
    )
    model = bs_greeks(s, float(q.contract.strike), t, 0.05, q.iv, q.contract.right)
    assert q.vega == pytest.approx(float(model.vega), rel=0.06)  # per vol point
    assert q.theta == pytest.approx(float(model.theta), rel=0.06)  # per calendar day
    assert q.gamma == pytest.approx(float(model.gamma), rel=0.06)


def test_option_snapshot_without_greeks(client: AlpacaAsyncClient) -> None:
    raw = body("alpaca_data_option_snapshots_quote_only.json")
    (sym,) = raw["snapshots"]
    with respx.mock() as mock:
        mock.get(f"{DATA}/v1beta1/options/snapshots").mock(
            return_value=httpx.Response(200, json=raw)
        )
        q = run_async(client.get_option_snapshots([sym]))[sym]
    assert q.delta is None and q.vega is None and q.iv is None and q.bid is not None


# --- stock data -------------------------------------------------------------------------------


def test_stock_bars_multi(client: AlpacaAsyncClient) -> None:
    for name in ("alpaca_data_stock_bars_multi.json", "alpaca_data_stock_bars_multi_docs.json"):
        raw = body(name)
        syms = sorted(raw["bars"])
        with respx.mock() as mock:
            route = mock.get(f"{DATA}/v2/stocks/bars").mock(
                return_value=httpx.Response(200, json=raw)
            )
            frames = run_async(client.get_bars(syms, "1Day", datetime(2021, 1, 1, tzinfo=UTC)))
        q = route.calls.last.request.url.params
        assert q["symbols"] == ",".join(syms) and q["feed"] == "iex" and q["timeframe"] == "1Day"
        for sym in syms:
            first = raw["bars"][sym][0]
            frame = frames[sym]
            assert len(frame) == len(raw["bars"][sym])
            row = frame.iloc[0]
            assert (row["open"], row["high"], row["low"], row["close"]) == (
                first["o"], first["h"], first["l"], first["c"],
            )  # fmt: skip
            assert row["volume"] == first["v"]
            assert frame.index[0] == datetime.fromisoformat(first["t"].replace("Z", "+00:00"))


def test_latest_quotes_and_trades(client: AlpacaAsyncClient) -> None:
    quotes = body("alpaca_data_stock_latest_quotes_multi_docs.json")
    trades = body("alpaca_data_stock_latest_trades_multi.json")
    with respx.mock() as mock:
        mock.get(f"{DATA}/v2/stocks/quotes/latest").mock(
            return_value=httpx.Response(200, json=quotes)
        )
        mock.get(f"{DATA}/v2/stocks/trades/latest").mock(
            return_value=httpx.Response(200, json=trades)
        )
        got_q = run_async(client.get_latest_quotes(list(quotes["quotes"])))
        got_t = run_async(client.get_latest_trades(list(trades["trades"])))
    for sym, raw in quotes["quotes"].items():
        q = got_q[sym]
        assert (q.bid, q.ask, q.bid_size, q.ask_size) == (
            raw["bp"],
            raw["ap"],
            raw["bs"],
            raw["as"],
        )
        assert q.timestamp.tzinfo is not None
    for sym, raw in trades["trades"].items():
        t = got_t[sym]
        assert (t.price, t.size) == (raw["p"], raw["s"])


# --- assets (the watchlist's broker check) ----------------------------------------------------


def test_asset_alpaca_py(client: AlpacaAsyncClient) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{PAPER}/v2/assets/AAPL").mock(
            return_value=httpx.Response(200, json=body("alpaca_trading_asset_alpacapy.json"))
        )
        a = run_async(client.get_asset("aapl"))
    _authed(route.calls.last.request)
    assert a is not None
    assert (a.symbol, a.asset_class, a.exchange, a.status) == (
        "AAPL",
        "us_equity",
        "NASDAQ",
        "active",
    )
    assert a.tradable is True and a.name == "Apple Inc. Common Stock"
    assert a.attributes == ("attribute1", "attribute2") and a.has_options is False


def test_unknown_asset_is_none_and_other_errors_raise(client: AlpacaAsyncClient) -> None:
    from dashboard.data_loaders.errors import UpstreamError

    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/assets/ZZZZQ").mock(
            return_value=httpx.Response(404, json={"code": 40410000, "message": "asset not found"})
        )
        assert run_async(client.get_asset("ZZZZQ")) is None
    with respx.mock() as mock:
        mock.get(f"{PAPER}/v2/assets/AAPL").mock(
            return_value=httpx.Response(403, json={"code": 40310000, "message": "forbidden"})
        )
        with pytest.raises(UpstreamError):
            run_async(client.get_asset("AAPL"))
