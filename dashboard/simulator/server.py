"""One aiohttp app serving Alpaca's Trading v2, Market Data v2/v1beta1 and ThetaData routes.

Handlers are thin: parse the query the way Alpaca does, ask the ``Simulator``, and write
Alpaca-shaped JSON (string numbers on trading routes, short keys on data routes). A
middleware adds ``X-RateLimit-*`` headers and applies injected faults; Alpaca routes
require the two ``APCA-API-*`` headers (any non-empty value).

Its size is one concept: the Alpaca REST surface the app and alpaca-py call, route by
route, in one place to compare with Alpaca's documents.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from aiohttp import web

from dashboard.conventions import CONTRACT_MULTIPLIER as MULTIPLIER
from dashboard.simulator.broker import OPEN_STATUSES, BrokerError, iso
from dashboard.simulator.calendar import NEW_YORK
from dashboard.simulator.chains import occ_of
from dashboard.simulator.faults import FaultConfig
from dashboard.simulator.market import BarArrays, parse_timeframe
from dashboard.simulator.simulation import Simulator
from dashboard.simulator.thetadata_routes import add_thetadata_routes

__all__ = ["SIM_KEY", "build_app"]

log = logging.getLogger(__name__)
SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator", Simulator)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TAPE = {"ARCA": "B", "NYSE": "A", "AMEX": "B", "NASDAQ": "C", "CBOE": "C"}


# ---- helpers --------------------------------------------------------------------------------
def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error(status: int, code: int, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status=status)


class BadRequest(Exception):
    """A bad query parameter (400 on data routes, 422 on trading routes)."""


def _sim(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


def _tstr(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def parse_time(text: str | None, *, end_of_day: bool = False) -> datetime | None:
    """RFC 3339 or YYYY-MM-DD (a bare date is midnight New York time)."""
    if text is None or text == "":
        return None
    t = text.strip().replace(" ", "+")
    try:
        if len(t) == 10:
            d = date.fromisoformat(t)
            dt = datetime(d.year, d.month, d.day, tzinfo=NEW_YORK)
            if end_of_day:
                dt = dt + timedelta(days=1) - timedelta(microseconds=1)
            return dt.astimezone(UTC)
        if t.endswith("Z"):
            t = t[:-1] + "+00:00"
        # Python < 3.11 forms with nanoseconds: trim to microseconds.
        if "." in t:
            head, _, rest = t.partition(".")
            digits = "".join(ch for ch in rest if ch.isdigit())
            tz = rest[len(digits) :]
            t = f"{head}.{digits[:6]}{tz}"
        dt = datetime.fromisoformat(t)
    except ValueError as exc:
        raise BadRequest(f"invalid time {text!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise BadRequest(f"invalid date {text!r}") from exc


def _int(q: Any, name: str, default: int, lo: int, hi: int) -> int:
    raw = q.get(name)
    if raw in (None, ""):
        return default
    try:
        v = int(raw)
    except ValueError as exc:
        raise BadRequest(f"invalid {name} {raw!r}") from exc
    if v < lo:
        raise BadRequest(f"{name} must be >= {lo}")
    return min(v, hi)


def _float(q: Any, name: str) -> float | None:
    raw = q.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise BadRequest(f"invalid {name} {raw!r}") from exc


def _symbols(q: Any) -> list[str]:
    raw = q.get("symbols") or ""
    return [s.strip().upper() for s in raw.split(",") if s.strip()]


def _token(*parts: Any) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode()


def _untoken(tok: str | None) -> list[str] | None:
    if not tok:
        return None
    try:
        pad = "=" * (-len(tok) % 4)
        return base64.urlsafe_b64decode(tok + pad).decode().split("|")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid page_token") from exc


def alpaca(handler: Handler, *, data: bool = False) -> Handler:
    """Require Alpaca's key headers and turn errors into Alpaca's JSON shapes."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("APCA-API-KEY-ID", "")
        secret = request.headers.get("APCA-API-SECRET-KEY", "")
        bearer = request.headers.get("Authorization", "").startswith("Bearer ")
        if not ((key and secret) or bearer):
            return error(401, 40110000, "request is not authorized")
        try:
            return await handler(request)
        except BrokerError as exc:
            return json_response(exc.body(), status=exc.status)
        except BadRequest as exc:
            return error(400 if data else 422, 40010001, str(exc))

    wrapped.alpaca_route = True  # type: ignore[attr-defined]  # counts toward the 200/min
    return wrapped


# ---- trading: account, clock, calendar, assets -----------------------------------------------
async def get_account(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    return json_response(sim.broker.account_json(now))


async def get_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    cal = sim.calendar
    return json_response(
        {
            "timestamp": now.astimezone(NEW_YORK).isoformat(),
            "is_open": cal.is_open(now),
            "next_open": cal.next_open(now).astimezone(NEW_YORK).isoformat(),
            "next_close": cal.next_close(now).astimezone(NEW_YORK).isoformat(),
        }
    )


async def get_calendar(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.now()
    q = request.query
    start = parse_date(q.get("start")) or sim.calendar.ny_date(now) - timedelta(days=30)
    end = parse_date(q.get("end")) or sim.calendar.ny_date(now) + timedelta(days=30)
    rows = [
        {
            "date": d.isoformat(),
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": sim.calendar.next_session(d).isoformat(),
        }
        for d in sim.calendar.sessions(start, end)
    ]
    return json_response(rows)


def _asset_json(sim: Simulator, symbol: str) -> dict[str, Any]:
    spec = sim.market.spec(symbol)
    return {
        "id": sim.broker.asset_id(symbol),
        "class": "us_equity",
        "exchange": spec.exchange,
        "symbol": symbol,
        "name": spec.name,
        "status": "active",
        "tradable": True,
        "marginable": True,
        "maintenance_margin_requirement": 30,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": True,
        "attributes": ["has_options"],
    }


async def get_asset(request: web.Request) -> web.Response:
    sim = _sim(request)
    symbol = request.match_info["symbol"].upper()
    for s in sim.chains.underlyings():
        if symbol in (s, sim.broker.asset_id(s)):
            return json_response(_asset_json(sim, s))
    return error(404, 40410000, "asset not found")


async def list_assets(request: web.Request) -> web.Response:
    sim = _sim(request)
    return json_response([_asset_json(sim, s) for s in sim.chains.underlyings()])


# ---- trading: positions and orders -------------------------------------------------------------
async def list_positions(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    return json_response(sim.broker.positions_json(now) + sim.injected.positions())


def _resolve_position_symbol(sim: Simulator, key: str) -> str:
    key = key.upper() if len(key) != 36 else key
    for sym in sim.broker.state.positions:
        if key in (sym, sim.broker.asset_id(sym)):
            return sym
    return key


async def get_position(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    sym = _resolve_position_symbol(sim, request.match_info["symbol"])
    return json_response(sim.broker.position_json(sym, now))


async def close_position(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    sym = _resolve_position_symbol(sim, request.match_info["symbol"])
    q = request.query
    order = sim.broker.close_position(sym, now, q.get("qty"), q.get("percentage"))
    return json_response(order.to_json())


async def close_all_positions(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    if request.query.get("cancel_orders", "").lower() == "true":
        sim.broker.cancel_all(now)
    out = []
    for sym in sorted(sim.broker.state.positions):
        try:
            order = sim.broker.close_position(sym, now)
            out.append({"symbol": sym, "status": 200, "body": order.to_json()})
        except BrokerError as exc:
            out.append({"symbol": sym, "status": exc.status, "body": exc.body()})
    return json_response(out, status=207)


async def list_orders(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.sync()
    q = request.query
    status = (q.get("status") or "open").lower()
    if status not in ("open", "closed", "all"):
        raise BadRequest("status must be open, closed or all")
    direction = (q.get("direction") or "desc").lower()
    if direction not in ("asc", "desc"):
        raise BadRequest("direction must be asc or desc")
    syms = set(_symbols(q)) or None
    with sim.broker.lock:
        rows = sim.broker.list_orders(
            status=status,
            limit=_int(q, "limit", 50, 1, 500),
            after=parse_time(q.get("after")),
            until=parse_time(q.get("until")),
            direction=direction,
            symbols=syms,
            side=q.get("side"),
        )
        return json_response([o.to_json() for o in rows] + sim.injected.orders(status))


async def post_order(request: web.Request) -> web.Response:
    sim = _sim(request)
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(400, 40010000, "request body format is invalid")
    if not isinstance(payload, dict):
        return error(400, 40010000, "request body format is invalid")
    now = sim.sync()
    order = sim.broker.submit(payload, now)
    return json_response(order.to_json())


async def get_order(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.sync()
    injected = sim.injected.get_order(request.match_info["order_id"])
    if injected is not None:
        return json_response(injected)
    return json_response(sim.broker.get_order(request.match_info["order_id"]).to_json())


async def get_order_by_client_id(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.sync()
    coid = request.query.get("client_order_id")
    if not coid:
        raise BadRequest("client_order_id is required")
    return json_response(sim.broker.get_by_client_id(coid).to_json())


async def cancel_order(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    before = sim.injected.cancel(request.match_info["order_id"], iso(now) or "")
    if before is None:
        sim.broker.cancel(request.match_info["order_id"], now)
    elif before not in OPEN_STATUSES:
        return error(422, 42210000, f'order is already in "{before}" state')
    return web.Response(status=204)


async def cancel_all_orders(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    rows = sim.broker.cancel_all(now)
    return json_response(
        [{"id": o.id, "status": 200, "body": o.to_json()} for o in rows], status=207
    )


async def get_activities(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.sync()
    q = request.query
    kind = request.match_info.get("activity_type")
    types: set[str] | None
    if kind:
        types = {kind.upper()}
    elif q.get("activity_types"):
        types = {t.strip().upper() for t in q["activity_types"].split(",") if t.strip()}
    else:
        types = None
    day = parse_date(q.get("date"))
    after = parse_time(q.get("after"))
    until = parse_time(q.get("until"))
    if day is not None:
        after = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK).astimezone(UTC)
        until = after + timedelta(days=1)
    with sim.broker.lock:
        rows = sim.broker.activities(
            types,
            direction=(q.get("direction") or "desc").lower(),
            after=after,
            until=until,
            page_size=_int(q, "page_size", 100, 1, 100),
            page_token=q.get("page_token"),
            extra=sim.injected.fill_activities(),
        )
    return json_response(rows)


async def portfolio_history(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    q = request.query
    with sim.broker.lock:
        return json_response(sim.broker.portfolio_history(now, q.get("period"), q.get("timeframe")))


# ---- trading: option contracts --------------------------------------------------------------
def _contract_json(
    sim: Simulator, symbol: str, oi: int, close: float, close_day: date
) -> dict[str, Any]:
    occ = occ_of(symbol)
    kind = "call" if occ.right == "C" else "put"
    strike = format(occ.strike.normalize(), "f")
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sim-option:{symbol}")),
        "symbol": symbol,
        "name": f"{occ.root} {occ.expiry:%b} {occ.expiry.day} {occ.expiry.year} {strike} {kind.capitalize()}",
        "status": "active",
        "tradable": True,
        "expiration_date": occ.expiry.isoformat(),
        "root_symbol": occ.root,
        "underlying_symbol": occ.root,
        "underlying_asset_id": sim.broker.asset_id(occ.root),
        "type": kind,
        "style": "american",
        "strike_price": strike,
        "multiplier": str(MULTIPLIER),
        "size": str(MULTIPLIER),
        "open_interest": str(int(oi)),
        "open_interest_date": close_day.isoformat(),
        "close_price": f"{close:.2f}",
        "close_price_date": close_day.isoformat(),
        "ppind": True,
    }


async def list_option_contracts(request: web.Request) -> web.Response:
    """``/v2/options/contracts``; like Alpaca, without an expiry filter it stops at next weekend."""
    sim = _sim(request)
    now = sim.sync()
    q = request.query
    unders_raw = q.get("underlying_symbols") or q.get("root_symbol") or ""
    unders = [u.strip().upper() for u in unders_raw.split(",") if u.strip()]
    unders = (
        [u for u in unders if sim.chains.is_underlying(u)]
        if unders
        else list(sim.chains.underlyings())
    )
    exact = parse_date(q.get("expiration_date"))
    gte = parse_date(q.get("expiration_date_gte"))
    lte = parse_date(q.get("expiration_date_lte"))
    if exact is None and lte is None:
        today = sim.calendar.ny_date(now)
        lte = today + timedelta(days=(5 - today.weekday()) % 7 or 7)  # the coming Saturday
    if exact is not None:
        gte = lte = exact
    kind = (q.get("type") or "").lower()
    right = {"call": "C", "put": "P", "": None}.get(kind)
    if kind and right is None:
        raise BadRequest("type must be call or put")
    if (q.get("status") or "active").lower() != "active":
        return json_response({"option_contracts": [], "next_page_token": None})
    limit = _int(q, "limit", 100, 1, 10000)
    tok = _untoken(q.get("page_token"))
    rows = []
    for u in sorted(unders):
        rows.extend(
            sim.chains.listings(
                u,
                now,
                expiry_min=gte,
                expiry_max=lte,
                right=right,
                strike_min=_float(q, "strike_price_gte"),
                strike_max=_float(q, "strike_price_lte"),
            )
        )
    symbols = [r.symbol for r in rows]
    symbols = sorted(symbols)
    start = next((i for i, s in enumerate(symbols) if s > tok[0]), len(symbols)) if tok else 0
    page = symbols[start : start + limit]
    nxt = _token(page[-1]) if start + limit < len(symbols) and page else None
    out = []
    if page:
        quotes = sim.chains.quotes(page, now)
        close_day = sim.calendar.prev_session(sim.calendar.ny_date(now))
        out = [
            _contract_json(sim, s, quotes.open_interest[i], quotes.close_price[i], close_day)
            for i, s in enumerate(page)
        ]
    return json_response({"option_contracts": out, "next_page_token": nxt})


async def get_option_contract(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    key = request.match_info["symbol_or_id"].upper()
    if not sim.chains.is_listed(key, now):
        return error(404, 40410000, "option contract not found")
    quotes = sim.chains.quotes([key], now)
    close_day = sim.calendar.prev_session(sim.calendar.ny_date(now))
    return json_response(
        _contract_json(sim, key, quotes.open_interest[0], quotes.close_price[0], close_day)
    )


# ---- market data: stocks --------------------------------------------------------------------
def _bar_rows(b: BarArrays) -> list[dict[str, Any]]:
    t, o, h, lo, c = b.t.tolist(), b.o.tolist(), b.h.tolist(), b.low.tolist(), b.c.tolist()
    v, n, vw = b.v.tolist(), b.n.tolist(), b.vw.tolist()
    return [
        {
            "t": _tstr(t[i]),
            "o": o[i],
            "h": h[i],
            "l": lo[i],
            "c": c[i],
            "v": v[i],
            "n": n[i],
            "vw": vw[i],
        }
        for i in range(len(t))
    ]


def _collect_bars(
    sim: Simulator, symbols: list[str], q: Any, now: datetime
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Alpaca's bar paging: symbols in order, ``limit`` across all of them, a key token."""
    try:
        tf = parse_timeframe(q.get("timeframe") or "")
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    today_open = datetime.combine(sim.calendar.ny_date(now), datetime.min.time(), tzinfo=NEW_YORK)
    start = parse_time(q.get("start")) or today_open.astimezone(UTC)
    end = parse_time(q.get("end"), end_of_day=True) or now
    if end < start:
        raise BadRequest("end should not be before start")
    limit = _int(q, "limit", 1000, 1, 10000)
    sort = (q.get("sort") or "asc").lower()
    if sort not in ("asc", "desc"):
        raise BadRequest("sort must be asc or desc")
    tok = _untoken(q.get("page_token"))
    out: dict[str, list[dict[str, Any]]] = {}
    remaining = limit
    nxt = None
    for sym in sorted(set(symbols)):
        if tok and sym < tok[0]:
            continue
        if not sim.market.has(sym):
            continue
        bars = sim.market.bars(sym, tf, start, end, now)
        if sort == "desc":
            bars = bars.take(slice(None, None, -1))
        if tok and sym == tok[0]:
            t0 = int(tok[1])
            keep = bars.t > t0 if sort == "asc" else bars.t < t0
            bars = bars.take(np.flatnonzero(keep))
        if not len(bars):
            continue
        if remaining <= 0:
            nxt = _token(sym, (int(bars.t[0]) - 1) if sort == "asc" else (int(bars.t[0]) + 1))
            break
        page = bars.take(slice(0, remaining))
        out[sym] = _bar_rows(page)
        remaining -= len(page)
        if len(page) < len(bars):
            nxt = _token(sym, int(page.t[-1]))
            break
    return out, nxt


async def stock_bars(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    symbols = _symbols(request.query)
    if not symbols:
        raise BadRequest("symbols is required")
    bars, nxt = _collect_bars(sim, symbols, request.query, now)
    return json_response({"bars": bars, "next_page_token": nxt})


async def stock_bars_single(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    sym = request.match_info["symbol"].upper()
    bars, nxt = _collect_bars(sim, [sym], request.query, now)
    return json_response({"bars": bars.get(sym, []), "symbol": sym, "next_page_token": nxt})


def _quote_json(sim: Simulator, sym: str, now: datetime) -> dict[str, Any]:
    bid, ask = sim.market.quote_at(sym, now)
    spec = sim.market.spec(sym)
    seed = int(now.timestamp()) // 60 + len(sym)
    return {
        "t": iso(now),
        "ax": "V",
        "ap": ask,
        "as": 1 + seed % 7,
        "bx": "V",
        "bp": bid,
        "bs": 1 + (seed * 3) % 9,
        "c": ["R"],
        "z": _TAPE.get(spec.exchange, "C"),
    }


def _trade_json(sim: Simulator, sym: str, now: datetime) -> dict[str, Any]:
    spec = sim.market.spec(sym)
    minute = int(now.timestamp()) // 60
    in_session = sim.calendar.session_of(now) is not None
    last_close = sim.calendar.close_at(sim.calendar.last_completed_session(now))
    last_t = now if in_session else min(now, last_close)
    return {
        "t": iso(last_t),
        "x": "V",
        "p": sim.market.price_at(sym, now),
        "s": 100,
        "c": ["@"],
        "i": minute,
        "z": _TAPE.get(spec.exchange, "C"),
    }


def _known(sim: Simulator, symbols: list[str]) -> list[str]:
    return [s for s in symbols if sim.market.has(s)]


async def quotes_latest(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _known(sim, _symbols(request.query))
    return json_response({"quotes": {s: _quote_json(sim, s, now) for s in syms}})


async def trades_latest(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _known(sim, _symbols(request.query))
    return json_response({"trades": {s: _trade_json(sim, s, now) for s in syms}})


async def bars_latest(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    out = {}
    for s in _known(sim, _symbols(request.query)):
        b = _latest_minute_bar(sim, s, now)
        if b:
            out[s] = b
    return json_response({"bars": out})


def _latest_minute_bar(sim: Simulator, sym: str, now: datetime) -> dict[str, Any] | None:
    d = sim.calendar.current_or_last_session(now)
    done = sim.market.completed_minutes(d, now) if d == sim.calendar.ny_date(now) else 390
    if done == 0:
        d = sim.calendar.prev_session(d)
        done = 390
    if not sim.market.is_minute_day(d):
        return None
    rows = _bar_rows(sim.market.minute_bars(sym, d, done).take(slice(-1, None)))
    return rows[0] if rows else None


def _snapshot_json(sim: Simulator, sym: str, now: datetime) -> dict[str, Any]:
    cal = sim.calendar
    today = cal.ny_date(now)
    daily = sim.market.daily_bars(sym, cal.offset_sessions(today, -3), today, now)
    rows = _bar_rows(daily.take(slice(-2, None)))
    return {
        "latestTrade": _trade_json(sim, sym, now),
        "latestQuote": _quote_json(sim, sym, now),
        "minuteBar": _latest_minute_bar(sim, sym, now),
        "dailyBar": rows[-1] if rows else None,
        "prevDailyBar": rows[-2] if len(rows) > 1 else None,
    }


async def stock_snapshots(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _known(sim, _symbols(request.query))
    return json_response({s: _snapshot_json(sim, s, now) for s in syms})


async def stock_snapshot_single(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    sym = request.match_info["symbol"].upper()
    if not sim.market.has(sym):
        return error(404, 40410000, "symbol not found")
    return json_response({"symbol": sym, **_snapshot_json(sim, sym, now)})


# ---- market data: options -------------------------------------------------------------------
def _option_rows(sim: Simulator, symbols: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    if not symbols:
        return {}
    qs = sim.chains.quotes(symbols, now)
    t = iso(now)
    session = sim.calendar.session_of(now)
    trade_t = iso(
        now
        if session
        else sim.calendar.close_at(sim.calendar.last_completed_session(now)) - timedelta(seconds=1)
    )
    out = {}
    for i, s in enumerate(qs.symbols):
        out[s] = {
            "latestQuote": {
                "t": t,
                "ax": "C",
                "ap": float(qs.ask[i]),
                "as": int(qs.ask_size[i]),
                "bx": "C",
                "bp": float(qs.bid[i]),
                "bs": int(qs.bid_size[i]),
                "c": "A",
            },
            "latestTrade": {
                "t": trade_t,
                "x": "C",
                "p": float(qs.last[i]),
                "s": int(qs.last_size[i]),
                "c": "I",
            },
            "greeks": {
                "delta": round(float(qs.delta[i]), 6),
                "gamma": round(float(qs.gamma[i]), 6),
                "theta": round(float(qs.theta[i]), 6),
                "vega": round(float(qs.vega[i]), 6),
                "rho": round(float(qs.rho[i]), 6),
            },
            "impliedVolatility": round(float(qs.iv[i]), 6),
        }
    return out


async def option_chain_snapshots(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    q = request.query
    under = request.match_info["underlying"].upper()
    if not sim.chains.is_underlying(under):
        return json_response({"snapshots": {}, "next_page_token": None})
    exact = parse_date(q.get("expiration_date"))
    gte = parse_date(q.get("expiration_date_gte"))
    lte = parse_date(q.get("expiration_date_lte"))
    if exact is not None:
        gte = lte = exact
    kind = (q.get("type") or "").lower()
    right = {"call": "C", "put": "P", "": None}.get(kind)
    if kind and right is None:
        raise BadRequest("type must be call or put")
    rows = sim.chains.listings(
        under,
        now,
        expiry_min=gte,
        expiry_max=lte,
        right=right,
        strike_min=_float(q, "strike_price_gte"),
        strike_max=_float(q, "strike_price_lte"),
    )
    symbols = sorted(r.symbol for r in rows)
    tok = _untoken(q.get("page_token"))
    start = next((i for i, s in enumerate(symbols) if s > tok[0]), len(symbols)) if tok else 0
    limit = _int(q, "limit", 100, 1, 1000)
    page = symbols[start : start + limit]
    nxt = _token(page[-1]) if page and start + limit < len(symbols) else None
    return json_response({"snapshots": _option_rows(sim, page, now), "next_page_token": nxt})


def _valid_option_symbols(sim: Simulator, symbols: list[str], now: datetime) -> list[str]:
    return [s for s in symbols if sim.chains.is_listed(s, now) or s in sim.broker.state.positions]


async def option_snapshots(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _valid_option_symbols(sim, _symbols(request.query), now)
    return json_response({"snapshots": _option_rows(sim, syms, now), "next_page_token": None})


async def option_quotes_latest(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _valid_option_symbols(sim, _symbols(request.query), now)
    rows = _option_rows(sim, syms, now)
    return json_response({"quotes": {s: r["latestQuote"] for s, r in rows.items()}})


async def option_trades_latest(request: web.Request) -> web.Response:
    sim = _sim(request)
    now = sim.sync()
    syms = _valid_option_symbols(sim, _symbols(request.query), now)
    rows = _option_rows(sim, syms, now)
    return json_response({"trades": {s: r["latestTrade"] for s, r in rows.items()}})


# ---- simulator control ------------------------------------------------------------------------
async def sim_state(request: web.Request) -> web.Response:
    return json_response(_sim(request).state_json())


async def sim_advance(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = orjson.loads(await request.read() or b"{}")
    if body.get("to_open"):
        sim.advance_to_open()
    minutes = float(body.get("minutes", 0) or 0)
    if minutes < 0:
        return error(422, 40010001, "minutes must be >= 0")
    if minutes:
        sim.advance(minutes)
    return json_response(sim.state_json())


async def sim_speed(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = orjson.loads(await request.read() or b"{}")
    try:
        sim.clock.set_speed(float(body["speed"]))
    except (KeyError, ValueError, TypeError) as exc:
        return error(422, 40010001, f"invalid speed: {exc}")
    return json_response(sim.state_json())


async def sim_set_faults(request: web.Request) -> web.Response:
    sim = _sim(request)
    try:
        body = orjson.loads(await request.read() or b"{}")
        seed = body.pop("seed", None)
        cfg = FaultConfig.from_json(body)
    except (ValueError, TypeError) as exc:
        return error(422, 40010001, str(exc))
    sim.faults.set(cfg, seed=seed)
    return json_response(cfg.to_json())


async def sim_clear_faults(request: web.Request) -> web.Response:
    _sim(request).faults.clear()
    return web.Response(status=204)


async def sim_rate(request: web.Request) -> web.Response:
    """Alpaca requests served, in the last 60 s, and refused by the enforced limit."""
    rate = _sim(request).faults.rate
    return json_response(
        {"total": rate.total, "last_60s": rate.used(), "refused_429": rate.refused}
    )


async def sim_get_faults(request: web.Request) -> web.Response:
    cfg = _sim(request).faults.config
    return json_response(cfg.to_json() if cfg else None)


async def sim_get_records(request: web.Request) -> web.Response:
    return json_response(_sim(request).injected.to_json())


async def sim_set_records(request: web.Request) -> web.Response:
    """``{"kind": "positions"|"orders"|"fills", "records": [...]}``: served beside the
    broker's own (see ``injected.py``)."""
    try:
        body = orjson.loads(await request.read())
        _sim(request).injected.set(body["kind"], body["records"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        return error(400, 40010000, f"bad records request: {exc}")
    return json_response(_sim(request).injected.to_json())


async def sim_clear_records(request: web.Request) -> web.Response:
    _sim(request).injected.clear()
    return web.Response(status=204)


async def sim_save(request: web.Request) -> web.Response:
    path = _sim(request).save()
    return json_response({"saved": str(path) if path else None})


# ---- middleware: rate-limit headers and faults -----------------------------------------------
@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sim = _sim(request)
    if request.path.startswith("/_sim"):
        return await handler(request)
    # Only Alpaca's routes count toward Alpaca's per-account limit (not ThetaData's).
    counted = bool(getattr(request.match_info.handler, "alpaca_route", False))
    rate_headers: dict[str, str] = {}
    if counted:
        limit, remaining, reset = sim.faults.rate.hit()
        cfg = sim.faults.config
        if cfg is not None and cfg.rate_limit_per_minute is not None:
            limit = cfg.rate_limit_per_minute
            remaining = max(0, limit - sim.faults.rate.used())
        rate_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
    decision = sim.faults.decide(request.path, rate_counted=counted)
    if decision.delay_s > 0:
        await asyncio.sleep(decision.delay_s)
    if decision.action == "drop":
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # nothing can be written on an aborted socket
    if decision.action == "rate_limit":
        rate_headers["X-RateLimit-Remaining"] = "0"
        rate_headers["Retry-After"] = f"{decision.retry_after:g}"
        return json_response(
            {"code": 42910000, "message": "rate limit exceeded"}, status=429, headers=rate_headers
        )
    if decision.action == "status":
        msg = {
            500: "internal server error",
            502: "bad gateway",
            503: "service unavailable",
            504: "gateway timeout",
        }
        return json_response(
            {
                "code": decision.status * 100000,
                "message": msg.get(decision.status, "simulated error"),
            },
            status=decision.status,
            headers=rate_headers,
        )
    resp = await handler(request)
    for k, v in rate_headers.items():
        resp.headers[k] = v
    if decision.action == "malformed" and isinstance(resp, web.Response) and resp.body is not None:
        body = bytes(resp.body)  # type: ignore[arg-type]
        bad = body[: max(1, len(body) // 2)] + b'",,{'
        resp = web.Response(
            body=bad, status=resp.status, content_type="application/json", headers=rate_headers
        )
    if (
        decision.trickle_bytes_per_s > 0
        and isinstance(resp, web.Response)
        and resp.body is not None
    ):
        return await _trickle(request, resp, decision.trickle_bytes_per_s)
    return resp


async def _trickle(request: web.Request, resp: web.Response, rate: float) -> web.StreamResponse:
    body = bytes(resp.body)  # type: ignore[arg-type]
    out = web.StreamResponse(
        status=resp.status,
        headers={
            k: v
            for k, v in resp.headers.items()
            if k.lower() not in ("content-length", "content-type")
        },
    )
    out.content_type = resp.content_type
    out.content_length = len(body)
    await out.prepare(request)
    chunk = max(1, int(rate / 20))
    for i in range(0, len(body), chunk):
        await out.write(body[i : i + chunk])
        await asyncio.sleep(chunk / rate)
    await out.write_eof()
    return out


# ---- the app ---------------------------------------------------------------------------------
async def _ticker(app: web.Application) -> Any:
    """Keep the broker current (resting orders, expiries) and autosave the snapshot."""
    sim = app[SIM_KEY]

    async def loop() -> None:
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(sim.config.tick_seconds)
            try:
                sim.compress_closed(sim.config.tick_seconds)
                sim.sync()
                if (
                    sim.config.snapshot_path
                    and time.monotonic() - last_save > sim.config.autosave_seconds
                ):
                    await asyncio.get_running_loop().run_in_executor(None, sim.save)
                    last_save = time.monotonic()
            except Exception:  # the ticker must survive a bad tick
                log.exception("simulator tick failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        sim.save()
    except OSError:
        log.exception("could not save the simulator snapshot")


def build_app(sim: Simulator) -> web.Application:
    """The aiohttp application serving every simulated API for ``sim``."""
    app = web.Application(middlewares=[fault_middleware])
    app[SIM_KEY] = sim
    app.cleanup_ctx.append(_ticker)
    r = app.router
    a = alpaca

    def d(h: Handler) -> Handler:
        return alpaca(h, data=True)

    # Trading API v2
    r.add_get("/v2/account", a(get_account))
    r.add_get("/v2/clock", a(get_clock))
    r.add_get("/v2/calendar", a(get_calendar))
    r.add_get("/v2/assets", a(list_assets))
    r.add_get("/v2/assets/{symbol}", a(get_asset))
    r.add_get("/v2/positions", a(list_positions))
    r.add_delete("/v2/positions", a(close_all_positions))
    r.add_get("/v2/positions/{symbol}", a(get_position))
    r.add_delete("/v2/positions/{symbol}", a(close_position))
    r.add_get("/v2/orders", a(list_orders))
    r.add_post("/v2/orders", a(post_order))
    r.add_delete("/v2/orders", a(cancel_all_orders))
    r.add_get("/v2/orders:by_client_order_id", a(get_order_by_client_id))
    r.add_get("/v2/orders/{order_id}", a(get_order))
    r.add_delete("/v2/orders/{order_id}", a(cancel_order))
    r.add_get("/v2/account/activities", a(get_activities))
    r.add_get("/v2/account/activities/{activity_type}", a(get_activities))
    r.add_get("/v2/account/portfolio/history", a(portfolio_history))
    r.add_get("/v2/options/contracts", a(list_option_contracts))
    r.add_get("/v2/options/contracts/{symbol_or_id}", a(get_option_contract))
    # Market Data v2 (stocks)
    r.add_get("/v2/stocks/bars", d(stock_bars))
    r.add_get("/v2/stocks/bars/latest", d(bars_latest))
    r.add_get("/v2/stocks/quotes/latest", d(quotes_latest))
    r.add_get("/v2/stocks/trades/latest", d(trades_latest))
    r.add_get("/v2/stocks/snapshots", d(stock_snapshots))
    r.add_get("/v2/stocks/{symbol}/bars", d(stock_bars_single))
    r.add_get("/v2/stocks/{symbol}/snapshot", d(stock_snapshot_single))
    # Market Data v1beta1 (options)
    r.add_get("/v1beta1/options/snapshots", d(option_snapshots))
    r.add_get("/v1beta1/options/snapshots/{underlying}", d(option_chain_snapshots))
    r.add_get("/v1beta1/options/quotes/latest", d(option_quotes_latest))
    r.add_get("/v1beta1/options/trades/latest", d(option_trades_latest))
    # Simulator control
    r.add_get("/_sim/state", sim_state)
    r.add_post("/_sim/advance", sim_advance)
    r.add_post("/_sim/speed", sim_speed)
    r.add_get("/_sim/faults", sim_get_faults)
    r.add_get("/_sim/rate", sim_rate)
    r.add_post("/_sim/faults", sim_set_faults)
    r.add_delete("/_sim/faults", sim_clear_faults)
    r.add_post("/_sim/save", sim_save)
    r.add_get("/_sim/records", sim_get_records)
    r.add_post("/_sim/records", sim_set_records)
    r.add_delete("/_sim/records", sim_clear_records)
    add_thetadata_routes(app, SIM_KEY)
    return app
