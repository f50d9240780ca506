"""``ThetaDataAsyncClient``: the ThetaData Terminal's local REST API, v3 (default) or v2.

v3 serves ``/v3/option/...`` with ``format=json``: rows of named fields, strikes in
dollars, ``right`` as call/put. v2 serves ``/v2/...`` with ``{"header": {"format": [...]},
"response": [...]}``: rows are arrays named by ``header.format``, strikes in tenths of a
cent, rights C/P, and pages chained by ``header.next_page``. Both are parsed into the
same ``OptionChain`` so the UI only ever sees the source label change.

Units are converted here, at the edge. ThetaData's greeks article says "Rho & Vega must
be divided by 100 to get their value"; recomputing Black-Scholes for the v3 spec's
example rows confirms it and shows theta is already per calendar day (pinned in
``tests/contract/test_thetadata_contract.py``). So vega and rho are scaled by 1/100 to the
model's per-vol-point and per-1%-rate units, the units Alpaca's snapshots use.

Greeks are sold by subscription (v3 spec ``x-min-subscription``): ``greeks/all`` needs
Pro, ``greeks/first_order`` (IV, delta, theta, vega, rho; no gamma) Standard, and Value
has none. The client asks for the best, learns the tier from the Terminal's refusal,
remembers it, and asks again for the better one every ``TIER_RECHECK_SECONDS``; the
chain's ``greeks`` says which tier answered and what the chain lacks because of it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from dashboard.conventions import NEW_YORK, Right
from dashboard.data_loaders.errors import BadResponse, UpstreamError
from dashboard.data_loaders.health import HealthTracker
from dashboard.data_loaders.http import AsyncHTTPClient
from dashboard.data_loaders.parsing import ReportLog, parse_each, parsed, to_datetime
from dashboard.models import (
    GREEK_NAMES,
    GreekName,
    GreeksCoverage,
    OptionChain,
    OptionContract,
    OptionQuote,
    ParseReport,
)
from dashboard.options.occ import build_occ

if TYPE_CHECKING:
    from dashboard.settings import Settings

__all__ = [
    "RHO_TO_MODEL",
    "THETA_TO_MODEL",
    "TIER_RECHECK_SECONDS",
    "VEGA_TO_MODEL",
    "ThetaDataAsyncClient",
    "is_subscription_refusal",
    "theta_rows",
]

log = logging.getLogger(__name__)
Version = Literal["v2", "v3"]
Tier = Literal["pro", "standard", "value"]
MAX_PAGES = 50

# ThetaData units → the model's (``models.OptionQuote``): see the module docstring.
VEGA_TO_MODEL = 0.01  # per 1.00 of volatility → per vol point
RHO_TO_MODEL = 0.01  # per 1.00 of rate → per 1 percentage point
THETA_TO_MODEL = 1.0  # already per calendar day
TIER_RECHECK_SECONDS = 3600.0  # a lower tier is re-tested this often (the user may upgrade)

# How a Terminal refuses a request the subscription does not cover: v2 documents HTTP
# 471 PERMISSION; v3 documents no error responses, so any 401/402/403/471, or any other
# 4xx whose text speaks of permissions or subscriptions, counts as a refusal.
_REFUSAL_STATUS = frozenset({401, 402, 403, 471})
_REFUSAL_WORDS = ("permission", "subscription", "subscribed", "upgrade", "not entitled")
_TIER_NAMES: dict[Tier, str] = {"pro": "Pro", "standard": "Standard", "value": "Value"}


def is_subscription_refusal(exc: UpstreamError) -> bool:
    """Whether ``exc`` is the Terminal saying the subscription does not cover a request."""
    status = exc.status
    if status is None or not 400 <= status < 500:
        return False
    if status in _REFUSAL_STATUS:
        return True
    text = exc.message.lower()
    return any(w in text for w in _REFUSAL_WORDS)


@dataclass(frozen=True, slots=True)
class _GreeksRoute:
    tier: Tier  # the lowest subscription that serves it
    path: str
    name: str  # shown in the chain's coverage, e.g. "greeks/first_order"
    missing: tuple[GreekName, ...]  # what it never sends
    reason: str  # why those are missing


_V3_GREEKS = (
    _GreeksRoute("pro", "/v3/option/snapshot/greeks/all", "greeks/all", (), ""),
    _GreeksRoute(
        "standard",
        "/v3/option/snapshot/greeks/first_order",
        "greeks/first_order",
        ("gamma",),
        "gamma needs a ThetaData Pro subscription",
    ),
)
_V2_GREEKS = (
    _GreeksRoute(
        "standard",
        "/v2/bulk_snapshot/option/greeks",
        "bulk_snapshot/option/greeks",
        ("gamma",),
        "gamma: the v2 Terminal's greeks snapshot is first-order only",
    ),
)
_NO_GREEKS_REASON = "IV and greeks need a ThetaData Standard subscription"


def _right(value: Any) -> Right:
    text = str(value).strip().upper()
    if text in ("C", "CALL"):
        return "C"
    if text in ("P", "PUT"):
        return "P"
    raise ValueError(f"option right {value!r}")


def _date(value: Any) -> date:
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


@functools.lru_cache(maxsize=65536)
def _contract_key(
    exp: Any, strike: Any, right: Any, version: str, default_expiry: date
) -> tuple[date, Decimal, Right]:
    """(expiry, strike, right) of a row. Cached: a chain snapshot repeats the same few
    hundred contracts in each of its four responses, refresh after refresh."""
    dec = Decimal(str(strike))
    if version == "v2":
        dec = dec / 1000
    return (_date(exp) if exp is not None else default_expiry, dec.normalize(), _right(right))


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    v = float(value)
    return None if np.isnan(v) else v


def theta_rows(payload: Any) -> list[dict[str, Any]]:
    """Rows of named fields from any ThetaData JSON shape.

    Accepts a list of records, ``{"response": ...}``, v2 ``header.format`` arrays,
    bulk ``{"contract": {...}, "ticks"|"data": [...]}`` groups and column dicts.
    """
    if isinstance(payload, dict):
        header = payload.get("header")
        if isinstance(header, dict) and "response" in payload:
            fmt = header.get("format") or []
            return _flatten(payload["response"], fmt)
        if "response" in payload:
            return theta_rows(payload["response"])
        cols = {k: v for k, v in payload.items() if isinstance(v, list)}
        if cols and len(cols) == len(payload):
            n = len(next(iter(cols.values())))
            return [{k: v[i] for k, v in cols.items()} for i in range(n)]
        return [payload]
    if isinstance(payload, list):
        return _flatten(payload, [])
    raise TypeError(f"unexpected ThetaData payload {type(payload).__name__}")


def _flatten(items: Iterable[Any], fmt: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("contract"), dict):
            contract = item["contract"]
            ticks = item.get("ticks", item.get("data")) or []
            for tick in ticks:
                row = dict(zip(fmt, tick, strict=False)) if isinstance(tick, list) else dict(tick)
                rows.append({**contract, **row})
        elif isinstance(item, dict):
            rows.append(item)
        elif isinstance(item, list):
            rows.append(dict(zip(fmt, item, strict=False)))
        else:  # list endpoints: bare values
            rows.append({"value": item})
    return rows


class ThetaDataAsyncClient:
    """Expirations, strikes, chain snapshots (quotes, greeks, OI) and EOD history."""

    def __init__(
        self,
        http: AsyncHTTPClient,
        version: Version = "v3",
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if version not in ("v2", "v3"):
            raise ValueError(f"unknown ThetaData version {version!r}")
        self.http = http
        self.version = version
        self._clock = clock
        self._tier: Tier | None = None  # learned from the Terminal's answers
        self._tier_at = 0.0
        self.skips = ReportLog(self.source)

    @property
    def tier(self) -> Tier | None:
        """The subscription tier as far as the greeks endpoints have shown (None: unknown)."""
        return self._tier

    @classmethod
    def from_settings(
        cls, settings: Settings, *, health: HealthTracker | None = None
    ) -> ThetaDataAsyncClient | None:
        """None when no Terminal is configured (the Alpaca option snapshots serve instead)."""
        if not settings.thetadata_url:
            return None
        http = AsyncHTTPClient(
            settings.thetadata_url,
            source="thetadata",
            health_key="thetadata",
            backend=settings.http_backend,
            health=health,
            connect_timeout=2.0,  # a local process: if it is not there, say so quickly
            read_timeout=30.0,
        )
        return cls(http, settings.thetadata_version)

    @property
    def source(self) -> str:
        return f"thetadata:{self.version}"

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- transport -----------------------------------------------------------------------
    async def _rows(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        query = dict(params)
        if self.version == "v3":
            query["format"] = "json"
        rows: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            payload = await self.http.get_json(path, query)
            try:
                rows.extend(parsed(theta_rows, payload, source=self.http.source))
            except BadResponse as exc:
                self.http.note_bad_response(f"GET {path}", exc)
                raise
            nxt = payload.get("header", {}).get("next_page") if isinstance(payload, dict) else None
            if not nxt or str(nxt).lower() == "null":
                break
            parts = urlsplit(str(nxt))
            path, query = parts.path, dict(parse_qsl(parts.query))
        return rows

    def _parse(self, path: str, fn: Any, *args: Any) -> Any:
        try:
            return parsed(fn, *args, source=self.http.source)
        except BadResponse as exc:
            self.http.note_bad_response(f"GET {path}", exc)
            raise

    # -- lists ---------------------------------------------------------------------------
    async def list_expirations(self, root: str) -> list[date]:
        if self.version == "v3":
            path, params = "/v3/option/list/expirations", {"symbol": root.upper()}
        else:
            path, params = "/v2/list/expirations", {"root": root.upper()}
        rows = await self._rows(path, params)
        return self._parse(
            path,
            lambda rs: sorted({_date(r.get("expiration", r.get("value"))) for r in rs}),
            rows,
        )

    async def list_strikes(self, root: str, exp: date) -> list[Decimal]:
        if self.version == "v3":
            path = "/v3/option/list/strikes"
            params = {"symbol": root.upper(), "expiration": _ymd(exp)}
            scale = Decimal(1)
        else:
            path, params = "/v2/list/strikes", {"root": root.upper(), "exp": _ymd(exp)}
            scale = Decimal(1000)
        rows = await self._rows(path, params)
        return self._parse(
            path,
            lambda rs: sorted(
                {(Decimal(str(r.get("strike", r.get("value")))) / scale).normalize() for r in rs}
            ),
            rows,
        )

    # -- chain ---------------------------------------------------------------------------
    async def get_option_chain(self, root: str, expiry: date) -> OptionChain:
        """Quotes (required) joined with greeks, open interest and the day's OHLC (optional).

        Quotes need a Value subscription; their refusal fails the chain (the data service
        then falls back to Alpaca). Greeks follow the subscription (see the module doc).
        """
        root = root.upper()
        if self.version == "v3":
            base = {"symbol": root, "expiration": _ymd(expiry)}
            paths = {
                "quote": "/v3/option/snapshot/quote",
                "oi": "/v3/option/snapshot/open_interest",
                "ohlc": "/v3/option/snapshot/ohlc",
            }
        else:
            base = {"root": root, "exp": _ymd(expiry)}
            paths = {
                "quote": "/v2/bulk_snapshot/option/quote",
                "oi": "/v2/bulk_snapshot/option/open_interest",
                "ohlc": "/v2/bulk_snapshot/option/ohlc",
            }
        quote, oi, ohlc, greeks = await asyncio.gather(
            *(self._rows(p, base) for p in paths.values()),
            self._greeks(base),
            return_exceptions=True,
        )
        if isinstance(quote, UpstreamError) and is_subscription_refusal(quote):
            raise UpstreamError(
                f"option quotes need a ThetaData Value subscription ({quote.message})",
                status=quote.status,
                source=quote.source,
            )
        if isinstance(quote, BaseException):
            raise quote
        if isinstance(greeks, BaseException):
            raise greeks  # _greeks turns upstream failures into coverage; this is a bug
        greek_rows, coverage = greeks
        chain: OptionChain = self._parse(
            paths["quote"],
            self._chain,
            root,
            expiry,
            quote,
            greek_rows,
            [] if isinstance(oi, BaseException) else oi,
            [] if isinstance(ohlc, BaseException) else ohlc,
            coverage,
        )
        self.skips.note(chain.report)
        return chain

    # -- greeks by subscription ------------------------------------------------------------
    def _greeks_routes(self) -> tuple[_GreeksRoute, ...]:
        """The greeks endpoints to try, best first, from what is known of the tier."""
        routes = _V3_GREEKS if self.version == "v3" else _V2_GREEKS
        if self._tier is None or self._clock() - self._tier_at >= TIER_RECHECK_SECONDS:
            return routes
        if self._tier == "value":
            return ()
        return tuple(r for r in routes if _rank(r.tier) <= _rank(self._tier))

    def _learn(self, tier: Tier) -> None:
        """Remember ``tier`` as of now (the recheck of a better tier counts from here)."""
        if tier != self._tier:
            log.info("%s: the subscription serves %s greeks", self.source, _TIER_NAMES[tier])
        self._tier = tier
        self._tier_at = self._clock()

    async def _greeks(self, base: Mapping[str, Any]) -> tuple[list[dict[str, Any]], GreeksCoverage]:
        """Greek rows from the best endpoint the subscription allows, and what they cover.

        A refusal moves down one tier at once and is remembered; any other failure leaves
        the tier alone and returns no greeks with the error as the reason.
        """
        for route in self._greeks_routes():
            try:
                rows = await self._rows(route.path, base)
            except UpstreamError as exc:
                if is_subscription_refusal(exc):
                    below = [t for t in _ALL_TIERS if _rank(t) < _rank(route.tier)]
                    self._learn(below[0] if below else "value")
                    continue
                reason = f"greeks unavailable: {exc.message}"
                return [], GreeksCoverage(self.source, self._tier, None, GREEK_NAMES, reason)
            if self._tier != route.tier:
                self._learn(route.tier)
            return rows, GreeksCoverage(
                self.source, route.tier, route.name, route.missing, route.reason
            )
        return [], GreeksCoverage(self.source, "value", None, GREEK_NAMES, _NO_GREEKS_REASON)

    def _key(self, row: Mapping[str, Any], expiry: date) -> tuple[date, Decimal, Right]:
        exp = row.get("expiration")
        return _contract_key(
            None if exp in (None, "") else exp, row["strike"], row["right"], self.version, expiry
        )

    def _stamp(self, row: Mapping[str, Any]) -> datetime | None:
        if row.get("timestamp"):
            return _ny_stamp(row["timestamp"])
        if row.get("date") and row.get("ms_of_day") is not None:
            d = _date(row["date"])
            ny = datetime(d.year, d.month, d.day, tzinfo=NEW_YORK)
            return (ny + timedelta(milliseconds=int(row["ms_of_day"]))).astimezone(UTC)
        return None

    def _index(
        self, rows: list[dict[str, Any]], expiry: date, kind: str
    ) -> tuple[dict[tuple[date, Decimal, Right], dict[str, Any]], ParseReport]:
        """Rows by contract; a row whose contract cannot be read is counted, not fatal."""
        keyed = parse_each(rows, lambda r: (self._key(r, expiry), r), kind)
        return dict(keyed.items), keyed.report

    def _chain(
        self,
        root: str,
        expiry: date,
        quotes: list[dict[str, Any]],
        greeks: list[dict[str, Any]],
        oi: list[dict[str, Any]],
        ohlc: list[dict[str, Any]],
        coverage: GreeksCoverage | None = None,
    ) -> OptionChain:
        g, g_report = self._index(greeks, expiry, "greeks row")
        o, o_report = self._index(oi, expiry, "open interest row")
        h, h_report = self._index(ohlc, expiry, "ohlc row")
        underlying: list[float] = []

        def one(q: dict[str, Any]) -> OptionQuote:
            key = self._key(q, expiry)
            exp, strike, right = key
            gr, oir, ohr = g.get(key, {}), o.get(key, {}), h.get(key, {})
            spot = _num(gr.get("underlying_price"))
            if spot is not None:
                underlying.append(spot)
            open_interest = oir.get("open_interest")
            volume = ohr.get("volume")
            contract = OptionContract(
                symbol=_occ(root, exp, right, strike),
                underlying=root,
                expiry=exp,
                right=right,
                strike=strike,
                open_interest=None if open_interest is None else int(open_interest),
            )
            return OptionQuote(
                contract=contract,
                bid=_num(q.get("bid")),
                ask=_num(q.get("ask")),
                last=_num(ohr.get("close")),
                volume=None if volume is None else int(volume),
                open_interest=contract.open_interest,
                iv=_num(gr.get("implied_vol", gr.get("implied_volatility"))),
                delta=_num(gr.get("delta")),
                gamma=_num(gr.get("gamma")),
                theta=_scaled(gr.get("theta"), THETA_TO_MODEL),
                vega=_scaled(gr.get("vega"), VEGA_TO_MODEL),
                as_of=self._stamp(q),
                rho=_scaled(gr.get("rho"), RHO_TO_MODEL),
            )

        parsed_quotes = parse_each(quotes, one, "chain row")
        out = sorted(parsed_quotes.items, key=lambda x: (x.contract.strike, x.contract.right))
        stamps = [x.as_of for x in out if x.as_of is not None]
        return OptionChain(
            underlying=root,
            underlying_price=underlying[0] if underlying else None,
            quotes=tuple(out),
            source=self.source,
            as_of=max(stamps) if stamps else None,
            expiries=(expiry,),
            report=parsed_quotes.report + _aux_report(g_report, o_report, h_report),
            greeks=coverage,
        )

    # -- history -------------------------------------------------------------------------
    async def get_eod(
        self,
        root: str,
        expiry: date,
        strike: Decimal | float,
        right: str,
        start: date,
        end: date,
    ) -> pd.DataFrame:
        """Daily EOD rows for one contract: open/high/low/close/volume (+ bid/ask), by date."""
        r = _right(right)
        if self.version == "v3":
            path = "/v3/option/history/eod"
            params: dict[str, Any] = {
                "symbol": root.upper(),
                "expiration": _ymd(expiry),
                "strike": format(Decimal(str(strike)), "f"),
                "right": "call" if r == "C" else "put",
                "start_date": _ymd(start),
                "end_date": _ymd(end),
            }
        else:
            path = "/v2/hist/option/eod"
            params = {
                "root": root.upper(),
                "exp": _ymd(expiry),
                "strike": int(Decimal(str(strike)) * 1000),
                "right": r,
                "start_date": _ymd(start),
                "end_date": _ymd(end),
            }
        rows = await self._rows(path, params)
        return self._parse(path, _eod_frame, rows)


_ALL_TIERS: tuple[Tier, ...] = ("pro", "standard", "value")


def _rank(tier: Tier) -> int:
    """Higher is more: value 0, standard 1, pro 2."""
    return len(_ALL_TIERS) - 1 - _ALL_TIERS.index(tier)


def _scaled(value: Any, factor: float) -> float | None:
    v = _num(value)
    return None if v is None else v * factor


def _aux_report(*reports: ParseReport) -> ParseReport:
    """Greeks/OI/OHLC rows that could not be matched to a contract: they hide no chain
    row (the row shows without them), so they are counted but not as received rows."""
    merged = ParseReport()
    for r in reports:
        merged = merged + ParseReport(0, r.skipped)
    return merged


@functools.lru_cache(maxsize=65536)
def _occ(root: str, expiry: date, right: Right, strike: Decimal) -> str:
    return build_occ(root, expiry, right, strike)


def _has_tz(text: str) -> bool:
    tail = text[10:]
    return text.endswith("Z") or "+" in tail or "-" in tail


@functools.lru_cache(maxsize=4096)
def _ny_stamp(value: Any) -> datetime:
    """v3 stamps are New York wall time without an offset; explicit offsets are respected."""
    text = str(value).strip()
    if _has_tz(text):
        return to_datetime(text)
    naive = datetime.fromisoformat(text[:26])
    return naive.replace(tzinfo=NEW_YORK).astimezone(UTC)


def _eod_day(value: Any) -> date:
    text = str(value).strip()
    if "T" not in text:
        return _date(text)
    return _ny_stamp(text).astimezone(NEW_YORK).date()


def _eod_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ("open", "high", "low", "close", "volume", "bid", "ask")
    days = [
        _eod_day(r.get("date") or r.get("created") or r.get("last_trade") or r.get("timestamp"))
        for r in rows
    ]
    idx = pd.DatetimeIndex(pd.to_datetime(days), name="timestamp").tz_localize("UTC")
    data = {c: np.asarray([_num(r.get(c)) for r in rows], dtype="float64") for c in cols}
    frame = pd.DataFrame(data, index=idx)
    return frame[~frame.index.duplicated(keep="last")].sort_index()
