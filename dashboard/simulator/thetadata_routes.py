"""ThetaData Terminal routes (v2 and v3) served from the same option chains as Alpaca's.

Every quote and greek comes from ``OptionChains.quotes`` at the current simulated time,
the same call the Alpaca ``/v1beta1/options/snapshots`` routes make, so both sources
agree number for number. No auth headers (the real Terminal has none). Greeks are in
ThetaData's own units, not Alpaca's: ThetaData's greeks article says "Rho & Vega must be
divided by 100 to get their value", and its v3 spec examples bear it out (vega 26.3 for a
contract whose Black-Scholes vega is 0.263 per vol point). So vega, rho and epsilon are
per 1.00 of volatility / rate / dividend yield (100 x Alpaca's), theta is per calendar
day (as Alpaca's); ``lambda`` is delta x spot / mid; ``iv_error`` is 0 because the IV
reproduces the model mid exactly.

Subscriptions: ``Simulator.thetadata_tier`` ("free", "value", "standard" or "pro";
``SimulatorConfig.thetadata_tier``, ``POST /_sim/thetadata {"tier": ...}``) gates each
route at the tier ThetaData's docs give it (v3 spec ``x-min-subscription``; v2 docs
badges): lists and EOD history free; quotes, open interest and OHLC Value; first-order
greeks Standard; ``greeks/all`` Pro. A route above the tier is refused as the v2 docs
describe, HTTP 471 ``PERMISSION`` "Your account does not have the permissions required to
execute the request." (v2 in its JSON envelope, v3 as plain text; v3's refusal is not
documented, so the simulator reuses v2's code and text).

Routes (contract params: v2 ``root, exp=YYYYMMDD, strike=1/10 cent int, right=C|P``;
v3 ``symbol, expiration=YYYYMMDD|YYYY-MM-DD|*, strike=dollars|*, right=call|put|both``
(C/P accepted too)):

v2 — JSON ``{"header": {"latency_ms", "format", "error_type": null, "error_msg": null,
"next_page": "null"}, "response": [...]}``; rows are arrays keyed by ``header.format``.

* GET /v2/list/expirations?root=SPY -> ``format: null``, response ``[20251219, ...]`` (ints)
* GET /v2/list/strikes?root=SPY&exp=20251219 -> ``format: null``, response ``[600000, ...]``
* GET /v2/snapshot/option/quote?root&exp&strike&right -> one row, format
  ``[ms_of_day, bid_size, bid_exchange, bid, bid_condition, ask_size, ask_exchange, ask,
  ask_condition, date]``
* GET /v2/bulk_snapshot/option/quote?root&exp (exp=0: every expiration) -> response
  ``[{"contract": {"root", "expiration": int, "strike": int, "right": "C"|"P"},
  "ticks": [[row]]}]`` with the quote format above
* GET /v2/bulk_snapshot/option/greeks?root&exp -> same bulk shape, format
  ``[ms_of_day, bid, ask, delta, theta, vega, rho, epsilon, lambda, implied_vol, iv_error,
  ms_of_day2, underlying_price, date]`` (no gamma, as on the real Terminal)
* GET /v2/bulk_snapshot/option/open_interest?root&exp -> format
  ``[ms_of_day, open_interest, date]``
* GET /v2/bulk_snapshot/option/ohlc?root&exp -> format ``[ms_of_day, ms_of_day2, open,
  high, low, close, volume, count, date]`` (the current or last session so far)
* GET /v2/hist/option/eod?root&exp&strike&right&start_date&end_date -> one row per
  completed session, format ``[ms_of_day, ms_of_day2, open, high, low, close, volume,
  count, bid_size, bid_exchange, bid, bid_condition, ask_size, ask_exchange, ask,
  ask_condition, date]`` (ms_of_day = 17:15 ET report time, ms_of_day2 = 16:00 last trade)

v3 — CSV with a header row by default (``text/csv``); ``format=json`` gives
``{"response": [...]}``; ``format=ndjson`` gives one flat JSON object per line.
List endpoints are flat rows; contract data endpoints in JSON are grouped
``{"response": [{"contract": {"symbol", "strike": float, "right": "CALL"|"PUT",
"expiration": "YYYY-MM-DD"}, "data": [{...}]}]}`` (CSV/ndjson flatten contract + data).
Timestamps are New York local time without offset, ``YYYY-MM-DDTHH:MM:SS.mmm``.

* GET /v3/option/list/expirations?symbol=SPY -> columns ``symbol, expiration``
* GET /v3/option/list/strikes?symbol=SPY&expiration=20251219 -> ``symbol, strike``
* GET /v3/option/snapshot/quote?symbol&expiration[&strike&right] -> ``symbol, expiration,
  strike, right, timestamp, bid_size, bid_exchange, bid, bid_condition, ask_size,
  ask_exchange, ask, ask_condition``
* GET /v3/option/snapshot/greeks/first_order?symbol&expiration[&strike&right] ->
  ``symbol, expiration, strike, right, timestamp, bid, ask, delta, theta, vega, rho,
  epsilon, lambda, implied_vol, iv_error, underlying_timestamp, underlying_price``
* GET /v3/option/snapshot/greeks/all -> the first_order columns plus ``gamma`` (the
  simulator does not compute vanna/charm/vomma or third-order greeks)
* GET /v3/option/snapshot/open_interest -> ``..., timestamp, open_interest``
* GET /v3/option/snapshot/ohlc -> ``..., timestamp, open, high, low, close, volume, count``
  (the current or last session so far; high/low on a 15-minute grid of the model mid)
* GET /v3/option/history/eod?symbol&expiration&strike&right&start_date&end_date (one
  expiration; strike/right may be * / both) -> ``symbol, expiration, strike, right,
  created, last_trade, open, high, low, close, volume, count, bid_size, bid_exchange, bid,
  bid_condition, ask_size, ask_exchange, ask, ask_condition``

Errors use ThetaData's codes: 471 permission (above the subscription tier), 472 no data
(unknown root, expiry or strike; empty range), 473 invalid parameters. v2 answers them in
the JSON envelope with ``error_type`` ``PERMISSION``/``NO_DATA``/``INVALID_PARAMS``; v3
answers plain text.

Its size is one concept: the ThetaData Terminal's v2 and v3 routes with their units,
tiers and error envelopes, in one place to compare with ThetaData's documents.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from aiohttp import web

from dashboard.options.occ import build_occ
from dashboard.simulator.calendar import NEW_YORK
from dashboard.simulator.chains import OptionQuotes, occ_of

__all__ = ["THETADATA_TIERS", "add_thetadata_routes", "route_tier"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_MAX_HISTORY_DAYS = 365  # the Terminal caps one history request at a year
_EOD_REPORT = timedelta(hours=17, minutes=15)  # ThetaData builds its EOD report at 17:15 ET
_EOD_SAMPLE_MINUTES = 15  # the day's option high/low is sampled on this grid
_CONTRACTS_PER_TRADE = 4  # average option trade size, for the EOD trade count
_VENUE = 0  # one simulated venue; condition codes are likewise 0 (regular)

_V2_QUOTE_FORMAT = [
    "ms_of_day",
    "bid_size",
    "bid_exchange",
    "bid",
    "bid_condition",
    "ask_size",
    "ask_exchange",
    "ask",
    "ask_condition",
    "date",
]
_V2_GREEKS_FORMAT = [
    "ms_of_day",
    "bid",
    "ask",
    "delta",
    "theta",
    "vega",
    "rho",
    "epsilon",
    "lambda",
    "implied_vol",
    "iv_error",
    "ms_of_day2",
    "underlying_price",
    "date",
]
_V2_EOD_FORMAT = [
    "ms_of_day",
    "ms_of_day2",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "count",
    "bid_size",
    "bid_exchange",
    "bid",
    "bid_condition",
    "ask_size",
    "ask_exchange",
    "ask",
    "ask_condition",
    "date",
]
# ThetaData reports vega, rho and epsilon per 1.00 of vol / rate / yield; the chain model
# (like Alpaca) gives them per 1 point, so they are sent 100 times larger.
_PER_UNIT = 100.0

THETADATA_TIERS = ("free", "value", "standard", "pro")
_PERMISSION_TEXT = "Your account does not have the permissions required to execute the request."
# The lowest subscription that serves each route (v3 spec x-min-subscription; v2 badges).
_ROUTE_TIER = {
    "/v2/list/expirations": "free",
    "/v2/list/strikes": "free",
    "/v2/hist/option/eod": "free",
    "/v2/snapshot/option/quote": "value",
    "/v2/bulk_snapshot/option/quote": "value",
    "/v2/bulk_snapshot/option/open_interest": "value",
    "/v2/bulk_snapshot/option/ohlc": "value",
    "/v2/bulk_snapshot/option/greeks": "standard",
    "/v3/option/list/expirations": "free",
    "/v3/option/list/strikes": "free",
    "/v3/option/history/eod": "free",
    "/v3/option/snapshot/quote": "value",
    "/v3/option/snapshot/open_interest": "value",
    "/v3/option/snapshot/ohlc": "value",
    "/v3/option/snapshot/greeks/first_order": "standard",
    "/v3/option/snapshot/greeks/all": "pro",
}


def route_tier(path: str) -> str:
    """The lowest ThetaData subscription that serves ``path``."""
    return _ROUTE_TIER[path]


def _allowed(sim: Any, path: str) -> bool:
    tier = getattr(sim, "thetadata_tier", "pro")
    return THETADATA_TIERS.index(tier) >= THETADATA_TIERS.index(route_tier(path))


_V3_CONTRACT = ["symbol", "expiration", "strike", "right"]
_V3_QUOTE = [
    "timestamp",
    "bid_size",
    "bid_exchange",
    "bid",
    "bid_condition",
    "ask_size",
    "ask_exchange",
    "ask",
    "ask_condition",
]
_V3_FIRST_ORDER = [
    "timestamp",
    "bid",
    "ask",
    "delta",
    "theta",
    "vega",
    "rho",
    "epsilon",
    "lambda",
    "implied_vol",
    "iv_error",
    "underlying_timestamp",
    "underlying_price",
]
_V3_ALL = [*_V3_FIRST_ORDER[:7], "gamma", *_V3_FIRST_ORDER[7:]]
_V2_OI_FORMAT = ["ms_of_day", "open_interest", "date"]
_V2_OHLC_FORMAT = [
    "ms_of_day",
    "ms_of_day2",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "count",
    "date",
]
_V3_OI = ["timestamp", "open_interest"]
_V3_OHLC = ["timestamp", "open", "high", "low", "close", "volume", "count"]
_V3_EOD = [
    "created",
    "last_trade",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "count",
    "bid_size",
    "bid_exchange",
    "bid",
    "bid_condition",
    "ask_size",
    "ask_exchange",
    "ask",
    "ask_condition",
]


class ThetaError(Exception):
    """A ThetaData error: HTTP status (472/473) plus its error type and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def error_type(self) -> str:
        return _ERROR_TYPES.get(self.status, "GENERAL")


_ERROR_TYPES = {471: "PERMISSION", 472: "NO_DATA", 473: "INVALID_PARAMS"}


def _permission() -> ThetaError:
    return ThetaError(471, _PERMISSION_TEXT)


def _no_data(what: str = "No data found for your request") -> ThetaError:
    return ThetaError(472, what)


def _invalid(what: str) -> ThetaError:
    return ThetaError(473, what)


# ---- parameter parsing ------------------------------------------------------------------
def _required(q: Any, name: str) -> str:
    raw = (q.get(name) or "").strip()
    if not raw:
        raise _invalid(f"missing required parameter '{name}'")
    return raw


def _ymd(text: str, name: str) -> date:
    t = text.strip().replace("-", "")
    if len(t) != 8 or not t.isdigit():
        raise _invalid(f"invalid {name} '{text}': use YYYYMMDD")
    try:
        return date(int(t[:4]), int(t[4:6]), int(t[6:]))
    except ValueError as exc:
        raise _invalid(f"invalid {name} '{text}'") from exc


def _right(text: str | None, *, v3: bool) -> str | None:
    """'C'/'P', or None for both."""
    t = (text or "").strip().lower()
    if t in ("", "both", "*") and v3:
        return None
    if t in ("c", "call"):
        return "C"
    if t in ("p", "put"):
        return "P"
    raise _invalid(f"invalid right '{text}'")


def _v3_strike(text: str | None) -> float | None:
    t = (text or "").strip()
    if t in ("", "*"):
        return None
    try:
        k = float(t)
    except ValueError as exc:
        raise _invalid(f"invalid strike '{text}': dollars, e.g. 600.000") from exc
    if not k > 0:
        raise _invalid(f"invalid strike '{text}'")
    return round(k, 3)


def _v2_strike(text: str) -> float:
    try:
        units = int(text)
    except ValueError as exc:
        raise _invalid(f"invalid strike '{text}': 1/10 cent units, e.g. 600000") from exc
    if units <= 0:
        raise _invalid(f"invalid strike '{text}'")
    return units / 1000.0


# ---- time formats -------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)  # per-row formatting of values a snapshot repeats
def _ms_of_day(t: datetime) -> int:
    local = t.astimezone(NEW_YORK)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int((local - midnight) / timedelta(milliseconds=1))


def _date_int(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


@functools.lru_cache(maxsize=8192)  # per-row formatting of values a snapshot repeats
def _v3_time(t: datetime) -> str:
    local = t.astimezone(NEW_YORK)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


# ---- contract selection -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Selection:
    """Contracts of one request, sorted by (expiry, strike, right)."""

    root: str
    symbols: list[str]


def _select(
    sim: Any,
    root: str,
    now: datetime,
    expiry: date | None,
    strike: float | None,
    right: str | None,
) -> _Selection:
    chains = sim.chains
    root = root.upper()
    if not chains.is_underlying(root):
        raise _no_data(f"No data found for root '{root}'")
    if expiry is not None and expiry not in chains.expiries(now):
        raise _no_data(f"No data found for expiration {expiry:%Y%m%d}")
    rows = chains.listings(
        root,
        now,
        expiry_min=expiry,
        expiry_max=expiry,
        right=right,
        strike_min=strike,
        strike_max=strike,
    )
    if not rows:
        raise _no_data()
    return _Selection(root, [r.symbol for r in rows])


def _snapshot(sim: Any, sel: _Selection, now: datetime) -> OptionQuotes:
    return sim.chains.quotes(sel.symbols, now)


def _epsilon_lambda(qs: OptionQuotes) -> tuple[np.ndarray, np.ndarray]:
    """Dividend sensitivity (per 1.00 of yield, ThetaData's unit) and elasticity.

    For both rights dV/dq = -S*T*delta under Black-Scholes-Merton (delta carries e^{-qT}).
    """
    eps = -qs.spot * qs.T * qs.delta
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(qs.mid > 0, qs.delta * qs.spot / qs.mid, 0.0)
    return eps, lam


def _r(x: float, places: int = 6) -> float:
    return round(float(x), places)


# ---- per-contract rows (name -> value), shared by v2 and v3 ----------------------------------
def _quote_fields(qs: OptionQuotes, i: int, now: datetime) -> dict[str, Any]:
    return {
        "ms_of_day": _ms_of_day(now),
        "timestamp": _v3_time(now),
        "bid_size": int(qs.bid_size[i]),
        "bid_exchange": _VENUE,
        "bid": _r(qs.bid[i], 2),
        "bid_condition": 0,
        "ask_size": int(qs.ask_size[i]),
        "ask_exchange": _VENUE,
        "ask": _r(qs.ask[i], 2),
        "ask_condition": 0,
        "date": _date_int(now.astimezone(NEW_YORK).date()),
    }


def _greek_fields(
    qs: OptionQuotes, i: int, now: datetime, eps: np.ndarray, lam: np.ndarray
) -> dict[str, Any]:
    return {
        "ms_of_day": _ms_of_day(now),
        "timestamp": _v3_time(now),
        "bid": _r(qs.bid[i], 2),
        "ask": _r(qs.ask[i], 2),
        "delta": _r(qs.delta[i]),
        "gamma": _r(qs.gamma[i]),
        "theta": _r(qs.theta[i]),
        "vega": _r(qs.vega[i] * _PER_UNIT, 4),
        "rho": _r(qs.rho[i] * _PER_UNIT, 4),
        "epsilon": _r(eps[i], 4),
        "lambda": _r(lam[i]),
        "implied_vol": _r(qs.iv[i]),
        "iv_error": 0.0,
        "ms_of_day2": _ms_of_day(now),
        "underlying_timestamp": _v3_time(now),
        "underlying_price": _r(qs.spot[i], 2),
        "date": _date_int(now.astimezone(NEW_YORK).date()),
    }


def _day_ohlc(sim: Any, qs: OptionQuotes, now: datetime) -> dict[str, np.ndarray]:
    """Today's session OHLC of every contract in ``qs`` (model mid on the 15-minute grid).

    Before today's open it is the previous session's; volume is the day's cumulative volume.
    """
    cal = sim.calendar
    d = cal.current_or_last_session(now)
    open_t = cal.open_at(d)
    end = min(now, cal.close_at(d))
    grid = [open_t + timedelta(minutes=m) for m in range(0, 391, _EOD_SAMPLE_MINUTES)]
    grid = [t for t in grid if t < end] + [end]
    mids = np.array([np.round(sim.chains.quotes(qs.symbols, t).mid, 2) for t in grid])
    vol = sim.chains.quotes(qs.symbols, end).volume
    return {
        "open": mids[0],
        "high": mids.max(axis=0),
        "low": mids.min(axis=0),
        "close": mids[-1],
        "volume": vol,
        "count": -(-vol // _CONTRACTS_PER_TRADE),
        "ms_of_day2": np.full(len(qs), _ms_of_day(end)),
    }


def _eod_fields(sim: Any, symbol: str, start: date, end: date, now: datetime) -> list[dict]:
    """One EOD report per completed session in ``[start, end]`` up to the expiry.

    Open/close are the model mid at 09:30 and 16:00 (close rounded like Alpaca's
    ``close_price``); high/low are the extremes of the mid on a 15-minute grid; bid/ask,
    sizes and volume are the closing quote of the same chain model.
    """
    cal = sim.calendar
    occ = occ_of(symbol)
    end = min(end, occ.expiry, start + timedelta(days=_MAX_HISTORY_DAYS))
    out: list[dict] = []
    for d in cal.sessions(start, end):
        open_t, close_t = cal.open_at(d), cal.close_at(d)
        if close_t > now:
            break
        grid = [open_t + timedelta(minutes=m) for m in range(0, 391, _EOD_SAMPLE_MINUTES)]
        if grid[-1] != close_t:
            grid.append(close_t)
        mids = sim.chains.mid_series(symbol, grid)
        qs = sim.chains.quotes([symbol], close_t)
        volume = int(qs.volume[0])
        midnight = datetime(d.year, d.month, d.day, tzinfo=NEW_YORK)
        out.append(
            {
                "ms_of_day": int(_EOD_REPORT / timedelta(milliseconds=1)),
                "ms_of_day2": _ms_of_day(close_t),
                "created": _v3_time(midnight + _EOD_REPORT),
                "last_trade": _v3_time(close_t),
                "open": _r(mids[0], 2),
                "high": _r(mids.max(), 2),
                "low": _r(mids.min(), 2),
                "close": _r(mids[-1], 2),
                "volume": volume,
                "count": -(-volume // _CONTRACTS_PER_TRADE),
                "bid_size": int(qs.bid_size[0]),
                "bid_exchange": _VENUE,
                "bid": _r(qs.bid[0], 2),
                "bid_condition": 0,
                "ask_size": int(qs.ask_size[0]),
                "ask_exchange": _VENUE,
                "ask": _r(qs.ask[0], 2),
                "ask_condition": 0,
                "date": _date_int(d),
            }
        )
    return out


# ---- v2 envelope ---------------------------------------------------------------------------
def _v2_response(
    fmt: list[str] | None, rows: list[Any], started: float, status: int = 200, err: str = ""
) -> web.Response:
    header = {
        "latency_ms": int((time.perf_counter() - started) * 1000),
        "format": fmt,
        "error_type": _ERROR_TYPES.get(status, "GENERAL") if err else None,
        "error_msg": err or None,
        "next_page": "null",
    }
    return web.Response(
        body=orjson.dumps({"header": header, "response": rows}),
        status=status,
        content_type="application/json",
    )


def _v2(handler: Callable[[web.Request, float], Awaitable[web.Response]], key: Any) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            if not _allowed(request.app[key], request.path):
                raise _permission()
            return await handler(request, started)
        except ThetaError as exc:
            return _v2_response(None, [], started, status=exc.status, err=exc.message)

    return wrapped


def _v2_contract(symbol: str) -> dict[str, Any]:
    occ = occ_of(symbol)
    return {
        "root": occ.root,
        "expiration": _date_int(occ.expiry),
        "strike": int(occ.strike * 1000),
        "right": occ.right,
    }


def _v2_single(request: web.Request, sim: Any) -> tuple[str, datetime]:
    """The OCC symbol named by root/exp/strike/right, and the simulated time."""
    q = request.query
    root = _required(q, "root").upper()
    expiry = _ymd(_required(q, "exp"), "exp")
    strike = _v2_strike(_required(q, "strike"))
    right = _right(_required(q, "right"), v3=False)
    return build_occ(root, expiry, right or "C", strike), sim.sync()


# ---- v3 output -----------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)  # per-row formatting of values a snapshot repeats
def _v3_contract(symbol: str) -> dict[str, Any]:
    occ = occ_of(symbol)
    return {
        "symbol": occ.root,
        "expiration": occ.expiry.isoformat(),
        "strike": float(occ.strike),
        "right": "CALL" if occ.right == "C" else "PUT",
    }


def _v3_format(request: web.Request) -> str:
    fmt = (request.query.get("format") or "csv").lower()
    if fmt not in ("csv", "json", "ndjson"):
        raise _invalid(f"invalid format '{fmt}': csv, json or ndjson")
    return fmt


def _csv_value(col: str, v: Any) -> Any:
    return f"{v:.3f}" if col == "strike" else v


def _v3_flat(request: web.Request, cols: list[str], rows: list[dict[str, Any]]) -> web.Response:
    """A list endpoint: flat rows in CSV, JSON or NDJSON."""
    fmt = _v3_format(request)
    if fmt == "json":
        return _json({"response": [{c: r[c] for c in cols} for r in rows]})
    if fmt == "ndjson":
        return _ndjson([{c: r[c] for c in cols} for r in rows])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_csv_value(c, r[c]) for c in cols])
    return web.Response(text=buf.getvalue(), content_type="text/csv")


def _v3_grouped(
    request: web.Request, cols: list[str], groups: list[tuple[str, list[dict[str, Any]]]]
) -> web.Response:
    """A contract data endpoint: ``(OCC symbol, data rows)`` per contract."""
    fmt = _v3_format(request)
    if fmt == "json":
        return _json(
            {
                "response": [
                    {"contract": _v3_contract(s), "data": [{c: r[c] for c in cols} for r in rows]}
                    for s, rows in groups
                ]
            }
        )
    flat = [{**_v3_contract(s), **{c: r[c] for c in cols}} for s, rows in groups for r in rows]
    if fmt == "ndjson":
        return _ndjson(flat)
    head = _V3_CONTRACT + cols
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for r in flat:
        w.writerow([_csv_value(c, r[c]) for c in head])
    return web.Response(text=buf.getvalue(), content_type="text/csv")


def _json(obj: Any) -> web.Response:
    return web.Response(body=orjson.dumps(obj), content_type="application/json")


def _ndjson(rows: list[dict[str, Any]]) -> web.Response:
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    return web.Response(body=body, content_type="application/x-ndjson")


def _v3(handler: Handler, key: Any) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            if not _allowed(request.app[key], request.path):
                raise _permission()
            return await handler(request)
        except ThetaError as exc:
            return web.Response(text=exc.message, status=exc.status, content_type="text/plain")

    return wrapped


def _v3_expiry(q: Any, *, allow_all: bool) -> date | None:
    raw = _required(q, "expiration")
    if raw == "*":
        if not allow_all:
            raise _invalid("expiration=* is not supported on this endpoint by the simulator")
        return None
    return _ymd(raw, "expiration")


# ---- handlers ------------------------------------------------------------------------------
def add_thetadata_routes(app: web.Application, key: Any) -> None:
    """Register ThetaData v2/v3 routes on ``app`` (the simulator lives at ``app[key]``)."""

    def sim_of(request: web.Request) -> Any:
        return request.app[key]

    # -- v2 --
    async def v2_expirations(request: web.Request, started: float) -> web.Response:
        sim = sim_of(request)
        root = _required(request.query, "root").upper()
        now = sim.sync()
        if not sim.chains.is_underlying(root):
            raise _no_data(f"No data found for root '{root}'")
        return _v2_response(None, [_date_int(e) for e in sim.chains.expiries(now)], started)

    async def v2_strikes(request: web.Request, started: float) -> web.Response:
        sim = sim_of(request)
        q = request.query
        root = _required(q, "root").upper()
        expiry = _ymd(_required(q, "exp"), "exp")
        now = sim.sync()
        sel = _select(sim, root, now, expiry, None, "C")
        strikes = [_v2_contract(s)["strike"] for s in sel.symbols]
        return _v2_response(None, strikes, started)

    async def v2_quote(request: web.Request, started: float) -> web.Response:
        sim = sim_of(request)
        symbol, now = _v2_single(request, sim)
        occ = occ_of(symbol)
        sel = _select(sim, occ.root, now, occ.expiry, float(occ.strike), occ.right)
        qs = _snapshot(sim, sel, now)
        row = _quote_fields(qs, 0, now)
        return _v2_response(_V2_QUOTE_FORMAT, [[row[c] for c in _V2_QUOTE_FORMAT]], started)

    def _bulk_selection(request: web.Request) -> tuple[Any, _Selection, datetime]:
        sim = sim_of(request)
        q = request.query
        root = _required(q, "root").upper()
        exp_raw = _required(q, "exp")
        expiry = None if exp_raw == "0" else _ymd(exp_raw, "exp")
        now = sim.sync()
        return sim, _select(sim, root, now, expiry, None, None), now

    async def v2_bulk_quote(request: web.Request, started: float) -> web.Response:
        sim, sel, now = _bulk_selection(request)
        qs = _snapshot(sim, sel, now)
        out = []
        for i, s in enumerate(qs.symbols):
            row = _quote_fields(qs, i, now)
            out.append({"contract": _v2_contract(s), "ticks": [[row[c] for c in _V2_QUOTE_FORMAT]]})
        return _v2_response(_V2_QUOTE_FORMAT, out, started)

    async def v2_bulk_greeks(request: web.Request, started: float) -> web.Response:
        sim, sel, now = _bulk_selection(request)
        qs = _snapshot(sim, sel, now)
        eps, lam = _epsilon_lambda(qs)
        out = []
        for i, s in enumerate(qs.symbols):
            row = _greek_fields(qs, i, now, eps, lam)
            out.append(
                {"contract": _v2_contract(s), "ticks": [[row[c] for c in _V2_GREEKS_FORMAT]]}
            )
        return _v2_response(_V2_GREEKS_FORMAT, out, started)

    async def v2_bulk_oi(request: web.Request, started: float) -> web.Response:
        sim, sel, now = _bulk_selection(request)
        qs = _snapshot(sim, sel, now)
        out = []
        for i, s in enumerate(qs.symbols):
            row = {**_quote_fields(qs, i, now), "open_interest": int(qs.open_interest[i])}
            out.append({"contract": _v2_contract(s), "ticks": [[row[c] for c in _V2_OI_FORMAT]]})
        return _v2_response(_V2_OI_FORMAT, out, started)

    async def v2_bulk_ohlc(request: web.Request, started: float) -> web.Response:
        sim, sel, now = _bulk_selection(request)
        qs = _snapshot(sim, sel, now)
        day = _day_ohlc(sim, qs, now)
        out = []
        for i, s in enumerate(qs.symbols):
            row = {
                **_quote_fields(qs, i, now),
                **{k: (int(v[i]) if k in ("volume", "count", "ms_of_day2") else _r(v[i], 2))
                   for k, v in day.items()},
            }  # fmt: skip
            out.append({"contract": _v2_contract(s), "ticks": [[row[c] for c in _V2_OHLC_FORMAT]]})
        return _v2_response(_V2_OHLC_FORMAT, out, started)

    async def v2_hist_eod(request: web.Request, started: float) -> web.Response:
        sim = sim_of(request)
        symbol, now = _v2_single(request, sim)
        q = request.query
        start = _ymd(_required(q, "start_date"), "start_date")
        end = _ymd(_required(q, "end_date"), "end_date")
        if end < start:
            raise _invalid("end_date is before start_date")
        if not sim.chains.is_underlying(occ_of(symbol).root):
            raise _no_data()
        rows = _eod_fields(sim, symbol, start, end, now)
        if not rows:
            raise _no_data()
        return _v2_response(_V2_EOD_FORMAT, [[r[c] for c in _V2_EOD_FORMAT] for r in rows], started)

    # -- v3 --
    async def v3_expirations(request: web.Request) -> web.Response:
        sim = sim_of(request)
        root = _required(request.query, "symbol").upper()
        now = sim.sync()
        if not sim.chains.is_underlying(root):
            raise _no_data(f"No data found for symbol '{root}'")
        rows = [{"symbol": root, "expiration": e.isoformat()} for e in sim.chains.expiries(now)]
        return _v3_flat(request, ["symbol", "expiration"], rows)

    async def v3_strikes(request: web.Request) -> web.Response:
        sim = sim_of(request)
        q = request.query
        root = _required(q, "symbol").upper()
        expiry = _v3_expiry(q, allow_all=False)
        now = sim.sync()
        sel = _select(sim, root, now, expiry, None, "C")
        rows = [{"symbol": root, "strike": float(occ_of(s).strike)} for s in sel.symbols]
        return _v3_flat(request, ["symbol", "strike"], rows)

    def _v3_selection(request: web.Request) -> tuple[Any, _Selection, datetime]:
        sim = sim_of(request)
        q = request.query
        root = _required(q, "symbol").upper()
        expiry = _v3_expiry(q, allow_all=True)
        strike = _v3_strike(q.get("strike"))
        right = _right(q.get("right"), v3=True)
        _v3_format(request)
        now = sim.sync()
        return sim, _select(sim, root, now, expiry, strike, right), now

    async def v3_quote(request: web.Request) -> web.Response:
        sim, sel, now = _v3_selection(request)
        qs = _snapshot(sim, sel, now)
        groups = [(s, [_quote_fields(qs, i, now)]) for i, s in enumerate(qs.symbols)]
        return _v3_grouped(request, _V3_QUOTE, groups)

    def _v3_greeks(cols: list[str]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            sim, sel, now = _v3_selection(request)
            qs = _snapshot(sim, sel, now)
            eps, lam = _epsilon_lambda(qs)
            groups = [(s, [_greek_fields(qs, i, now, eps, lam)]) for i, s in enumerate(qs.symbols)]
            return _v3_grouped(request, cols, groups)

        return handler

    async def v3_oi(request: web.Request) -> web.Response:
        sim, sel, now = _v3_selection(request)
        qs = _snapshot(sim, sel, now)
        groups = [
            (s, [{"timestamp": _v3_time(now), "open_interest": int(qs.open_interest[i])}])
            for i, s in enumerate(qs.symbols)
        ]
        return _v3_grouped(request, _V3_OI, groups)

    async def v3_ohlc(request: web.Request) -> web.Response:
        sim, sel, now = _v3_selection(request)
        qs = _snapshot(sim, sel, now)
        day = _day_ohlc(sim, qs, now)
        groups = []
        for i, s in enumerate(qs.symbols):
            row: dict[str, Any] = {"timestamp": _v3_time(now)}
            for k in ("open", "high", "low", "close"):
                row[k] = _r(day[k][i], 2)
            row["volume"], row["count"] = int(day["volume"][i]), int(day["count"][i])
            groups.append((s, [row]))
        return _v3_grouped(request, _V3_OHLC, groups)

    async def v3_eod(request: web.Request) -> web.Response:
        sim = sim_of(request)
        q = request.query
        root = _required(q, "symbol").upper()
        expiry = _v3_expiry(q, allow_all=False)
        assert expiry is not None
        strike = _v3_strike(q.get("strike"))
        right = _right(q.get("right"), v3=True)
        start = _ymd(_required(q, "start_date"), "start_date")
        end = _ymd(_required(q, "end_date"), "end_date")
        if end < start:
            raise _invalid("end_date is before start_date")
        _v3_format(request)
        now = sim.sync()
        if not sim.chains.is_underlying(root):
            raise _no_data(f"No data found for symbol '{root}'")
        if strike is not None:
            rights = [right] if right else ["C", "P"]
            symbols = [build_occ(root, expiry, r, strike) for r in rights]
        else:
            # Wildcard strikes: the strike grid listed for that expiry on its last session.
            as_of = min(now, sim.calendar.close_at(sim.calendar.prev_session(expiry, include=True)))
            grid = sim.chains.strikes(root, expiry, as_of).tolist()
            rights = [right] if right else ["C", "P"]
            symbols = [build_occ(root, expiry, r, k) for k in grid for r in rights]
        groups = [(s, _eod_fields(sim, s, start, end, now)) for s in symbols]
        groups = [(s, rows) for s, rows in groups if rows]
        if not groups:
            raise _no_data()
        return _v3_grouped(request, _V3_EOD, groups)

    r = app.router
    r.add_get("/v2/list/expirations", _v2(v2_expirations, key))
    r.add_get("/v2/list/strikes", _v2(v2_strikes, key))
    r.add_get("/v2/snapshot/option/quote", _v2(v2_quote, key))
    r.add_get("/v2/bulk_snapshot/option/quote", _v2(v2_bulk_quote, key))
    r.add_get("/v2/bulk_snapshot/option/greeks", _v2(v2_bulk_greeks, key))
    r.add_get("/v2/bulk_snapshot/option/open_interest", _v2(v2_bulk_oi, key))
    r.add_get("/v2/bulk_snapshot/option/ohlc", _v2(v2_bulk_ohlc, key))
    r.add_get("/v2/hist/option/eod", _v2(v2_hist_eod, key))
    r.add_get("/v3/option/list/expirations", _v3(v3_expirations, key))
    r.add_get("/v3/option/list/strikes", _v3(v3_strikes, key))
    r.add_get("/v3/option/snapshot/quote", _v3(v3_quote, key))
    r.add_get("/v3/option/snapshot/greeks/first_order", _v3(_v3_greeks(_V3_FIRST_ORDER), key))
    r.add_get("/v3/option/snapshot/greeks/all", _v3(_v3_greeks(_V3_ALL), key))
    r.add_get("/v3/option/snapshot/open_interest", _v3(v3_oi, key))
    r.add_get("/v3/option/snapshot/ohlc", _v3(v3_ohlc, key))
    r.add_get("/v3/option/history/eod", _v3(v3_eod, key))

    async def get_tier(request: web.Request) -> web.Response:
        return _json({"tier": sim_of(request).thetadata_tier})

    async def set_tier(request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            body = None
        tier = body.get("tier") if isinstance(body, dict) else None
        if tier not in THETADATA_TIERS:
            return web.Response(
                status=400, text=f"tier must be one of {', '.join(THETADATA_TIERS)}"
            )
        sim_of(request).thetadata_tier = tier
        return _json({"tier": tier})

    r.add_get("/_sim/thetadata", get_tier)
    r.add_post("/_sim/thetadata", set_tier)
