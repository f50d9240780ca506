"""A paper broker with Alpaca's semantics: account, positions, orders, fills, expiries.

State is an append-only ledger of cash and quantity changes plus the order book, so the
equity at any past instant is recomputed (positions from the ledger, marks from the
market) instead of sampled; that is what makes portfolio history exact for any timeframe.
Everything is JSON-serialisable for snapshots. Responses mirror Alpaca's field names and
string-valued numbers so alpaca-py's pydantic models parse them.

Its size is one concept: Alpaca's paper broker (orders, fills, positions, account,
history) as one state machine that snapshots as a whole.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np

from dashboard.conventions import CONTRACT_MULTIPLIER as MULTIPLIER
from dashboard.simulator.calendar import MINUTES_PER_SESSION
from dashboard.simulator.chains import OptionChains, occ_of
from dashboard.simulator.market import Market, midnight_ny

__all__ = ["OPEN_STATUSES", "BrokerError", "PaperBroker", "iso"]

OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled", "held"})
_CENT = Decimal("0.01")
_ZERO = Decimal(0)


class BrokerError(Exception):
    """An Alpaca-shaped rejection: HTTP status plus ``{"code", "message"}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def iso(t: datetime | None) -> str | None:
    """RFC 3339 with microseconds and ``Z``, as Alpaca writes timestamps."""
    if t is None:
        return None
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _dec(value: Any, name: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BrokerError(422, 40010001, f"invalid {name}: {value!r}") from exc
    if not d.is_finite():
        raise BrokerError(422, 40010001, f"invalid {name}: {value!r}")
    return d


def _s(d: Decimal | float | None) -> str | None:
    """Decimal/float to Alpaca's string form (no exponent)."""
    if d is None:
        return None
    if isinstance(d, float):
        d = Decimal(repr(d))
    text = format(d.normalize(), "f")
    return text if text not in ("-0",) else "0"


def _money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class OrderState:
    id: str
    client_order_id: str
    symbol: str
    asset_id: str
    asset_class: str  # us_equity | us_option
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime
    position_intent: str | None
    extended_hours: bool
    session: date  # the session a day order lives in
    filled_qty: Decimal = _ZERO
    filled_avg_price: Decimal | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    triggered: bool = False  # a stop order whose stop has been hit

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "submitted_at": iso(self.submitted_at),
            "filled_at": iso(self.filled_at),
            "expired_at": iso(self.expired_at),
            "expires_at": None,
            "canceled_at": iso(self.canceled_at),
            "failed_at": iso(self.failed_at),
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "asset_class": self.asset_class,
            "notional": _s(self.notional),
            "qty": _s(self.qty),
            "filled_qty": _s(self.filled_qty),
            "filled_avg_price": _s(self.filled_avg_price),
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": self.position_intent,
            "time_in_force": self.time_in_force,
            "limit_price": _s(self.limit_price),
            "stop_price": _s(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "source": None,
            "subtag": None,
        }

    def to_state(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, Decimal):
                d[k] = str(v)
            elif isinstance(v, datetime):
                d[k] = iso(v)
            elif isinstance(v, date):
                d[k] = v.isoformat()
        return d

    @staticmethod
    def from_state(d: dict[str, Any]) -> OrderState:
        dec = {"qty", "notional", "limit_price", "stop_price", "filled_qty", "filled_avg_price"}
        times = {
            "created_at",
            "updated_at",
            "submitted_at",
            "filled_at",
            "canceled_at",
            "expired_at",
            "failed_at",
        }
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if v is None:
                kw[k] = None
            elif k in dec:
                kw[k] = Decimal(v)
            elif k in times:
                kw[k] = _parse_iso(v)
            elif k == "session":
                kw[k] = date.fromisoformat(v)
            else:
                kw[k] = v
        if kw.get("filled_qty") is None:
            kw["filled_qty"] = _ZERO
        return OrderState(**kw)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change of cash and holdings: a fill or an option expiry."""

    ts: float  # UTC epoch seconds
    symbol: str
    qty: float  # signed shares/contracts
    cash: float  # signed dollars
    kind: str  # "fill" | "expiry"


@dataclass(slots=True)
class PositionState:
    symbol: str
    asset_class: str
    qty: Decimal
    avg_entry_price: Decimal
    opened_at: datetime


@dataclass(slots=True)
class BrokerState:
    account_id: str
    account_number: str
    created_at: datetime
    starting_cash: Decimal
    cash: Decimal
    orders: list[OrderState] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    positions: dict[str, PositionState] = field(default_factory=dict)
    processed_until: datetime | None = None


class PaperBroker:
    """Order handling and account state on top of a ``Market`` and ``OptionChains``."""

    def __init__(
        self,
        market: Market,
        chains: OptionChains,
        *,
        created_at: datetime,
        starting_cash: float = 100_000.0,
        seed: int = 7,
    ) -> None:
        self.market = market
        self.chains = chains
        self.calendar = market.calendar
        self._rng = random.Random(seed * 7919 + 17)
        self.lock = threading.RLock()
        self.state = BrokerState(
            account_id=str(self._uuid()),
            account_number=f"PA{self._rng.randrange(10**9, 10**10)}",
            created_at=created_at,
            starting_cash=Decimal(str(starting_cash)),
            cash=Decimal(str(starting_cash)),
            processed_until=created_at,
        )
        self._by_id: dict[str, OrderState] = {}
        self._by_client: dict[str, OrderState] = {}

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    # ---- assets -----------------------------------------------------------------------
    def asset_id(self, symbol: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sim-asset:{symbol}"))

    def asset_class_of(self, symbol: str, now: datetime) -> str:
        """us_equity / us_option, or a 422 for symbols the simulator does not trade."""
        if self.market.has(symbol) and not self.market.spec(symbol).is_index:
            return "us_equity"
        if len(symbol) > 15:
            try:
                occ = occ_of(symbol)
            except ValueError:
                occ = None
            if occ is not None and self.chains.is_underlying(occ.root):
                held = symbol in self.state.positions
                if held or self.chains.is_listed(symbol, now):
                    return "us_option"
        raise BrokerError(422, 40010001, f'invalid symbol: asset "{symbol}" not found')

    # ---- marks --------------------------------------------------------------------------
    def mark(self, symbol: str, asset_class: str, t: datetime) -> float:
        if asset_class == "us_equity":
            return self.market.price_at(symbol, t)
        return float(self.chains.mid_series(symbol, [t])[0])

    def quote(self, symbol: str, asset_class: str, t: datetime) -> tuple[float, float]:
        if asset_class == "us_equity":
            return self.market.quote_at(symbol, t)
        bid, ask = self.chains.quote_series(symbol, [t])
        return float(bid[0]), float(ask[0])

    # ---- time ----------------------------------------------------------------------------
    def advance_to(self, now: datetime) -> None:
        """Process everything that happens up to ``now``: fills, day-order expiry, option expiry."""
        with self.lock:
            t0 = self.state.processed_until or now
            if now <= t0:
                return
            cal = self.calendar
            for d in cal.sessions(cal.ny_date(t0), cal.ny_date(now)):
                open_t, close_t = cal.open_at(d), cal.close_at(d)
                if close_t <= t0 or open_t > now:
                    # A session fully before t0 needs nothing; one after now is not reached.
                    if close_t <= t0:
                        continue
                    break
                self._scan_session(d, max(t0, open_t), min(now, close_t))
                if t0 < close_t <= now:
                    self._session_close(d, close_t)
            self.state.processed_until = now

    def _working(self) -> list[OrderState]:
        return [o for o in self.state.orders if o.is_open]

    def _scan_session(self, d: date, start: datetime, end: datetime) -> None:
        """Check working orders at each minute boundary in ``[start, end]`` of session ``d``."""
        open_t = self.calendar.open_at(d)
        first = int(np.ceil((start - open_t).total_seconds() / 60.0))
        last = int((end - open_t).total_seconds() // 60)
        first = max(first, 0)
        last = min(last, MINUTES_PER_SESSION)
        if last < first:
            return
        for order in self._working():
            if order.session > d and order.time_in_force == "day":
                continue
            created_min = int(np.floor((order.created_at - open_t).total_seconds() / 60.0)) + 1
            lo = max(first, created_min if order.created_at > open_t else 0)
            if lo > last:
                continue
            times = [open_t + timedelta(minutes=m) for m in range(lo, last + 1)]
            self._try_fill_over(order, times)

    def _try_fill_over(self, order: OrderState, times: list[datetime]) -> None:
        """Fill ``order`` at the first instant in ``times`` where it is marketable."""
        if not times:
            return
        if order.asset_class == "us_equity":
            q = [self.market.quote_at(order.symbol, t) for t in times]
            bid = np.array([x[0] for x in q])
            ask = np.array([x[1] for x in q])
            last = np.array([self.market.price_at(order.symbol, t) for t in times])
        else:
            bid, ask = self.chains.quote_series(order.symbol, times)
            last = (bid + ask) / 2.0
        buy = order.side == "buy"
        n = len(times)
        active = np.ones(n, dtype=bool)
        if order.type in ("stop", "stop_limit") and not order.triggered:
            stop = float(order.stop_price or 0)
            hit = last >= stop if buy else last <= stop
            idx = np.flatnonzero(hit)
            if idx.size == 0:
                return
            active[: idx[0]] = False
        if order.type in ("market", "stop"):
            ok = active
        else:
            lim = float(order.limit_price or 0)
            ok = active & ((ask <= lim + 1e-9) if buy else (bid >= lim - 1e-9))
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            if order.type in ("stop", "stop_limit") and active.any():
                order.triggered = True
            return
        k = int(idx[0])
        if order.type in ("market", "stop"):
            px = ask[k] if buy else bid[k]
        else:
            # A resting limit that becomes marketable trades at its limit (or better at open).
            lim = float(order.limit_price or 0)
            px = min(lim, ask[k]) if buy else max(lim, bid[k])
        self._fill(order, float(px), times[k])

    def _session_close(self, d: date, close_t: datetime) -> None:
        for order in self._working():
            if order.time_in_force in ("day", "opg", "cls") and order.session <= d:
                order.status = "expired"
                order.expired_at = close_t
                order.updated_at = close_t
        for sym, pos in list(self.state.positions.items()):
            if pos.asset_class != "us_option":
                continue
            occ = occ_of(sym)
            if occ.expiry <= d:
                self._expire_option(pos, close_t)
        for order in self._working():
            if order.asset_class == "us_option" and occ_of(order.symbol).expiry <= d:
                order.status = "expired"
                order.expired_at = close_t
                order.updated_at = close_t

    def _expire_option(self, pos: PositionState, t: datetime) -> None:
        intrinsic = self.chains.settlement_value(pos.symbol)
        qty = float(pos.qty)
        cash = _money(intrinsic * MULTIPLIER * qty)
        self.state.cash += cash
        self.state.ledger.append(
            LedgerEntry(t.timestamp(), pos.symbol, -qty, float(cash), "expiry")
        )
        if intrinsic > 0:
            kind = "OPEXC" if qty > 0 else "OPASN"
            desc = f"Option {'exercise' if qty > 0 else 'assignment'} (cash settled at {intrinsic:.2f})"
        else:
            kind, desc = "OPEXP", "Option expiry"
        self.state.activities.append(
            {
                "id": f"{t.astimezone(UTC):%Y%m%d%H%M%S%f}"[:17] + f"::{self._uuid()}",
                "account_id": self.state.account_id,
                "activity_type": kind,
                "date": self.calendar.ny_date(t).isoformat(),
                "net_amount": _s(cash),
                "description": desc,
                "symbol": pos.symbol,
                "qty": _s(-pos.qty),
                "price": _s(_money(intrinsic)),
                "per_share_amount": None,
                "status": "executed",
                "_ts": t.timestamp(),
            }
        )
        del self.state.positions[pos.symbol]

    # ---- fills ---------------------------------------------------------------------------
    def _fill(self, order: OrderState, price: float, t: datetime) -> None:
        px = (
            _money(price)
            if order.asset_class == "us_option" or price >= 1
            else Decimal(str(round(price, 4)))
        )
        qty = order.qty if order.qty is not None else self._notional_qty(order, price)
        order.qty = qty
        mult = MULTIPLIER if order.asset_class == "us_option" else 1
        signed = qty if order.side == "buy" else -qty
        cash = -(signed * px * mult)
        self.state.cash += cash
        self._apply_position(order, signed, px, t)
        order.filled_qty = qty
        order.filled_avg_price = px
        order.filled_at = t
        order.updated_at = t
        order.status = "filled"
        self.state.ledger.append(
            LedgerEntry(t.timestamp(), order.symbol, float(signed), float(cash), "fill")
        )
        self.state.activities.append(
            {
                "id": f"{t.astimezone(UTC):%Y%m%d%H%M%S%f}"[:17] + f"::{self._uuid()}",
                "account_id": self.state.account_id,
                "activity_type": "FILL",
                "transaction_time": iso(t),
                "type": "fill",
                "price": _s(px),
                "qty": _s(qty),
                "side": order.side,
                "symbol": order.symbol,
                "leaves_qty": "0",
                "order_id": order.id,
                "cum_qty": _s(qty),
                "order_status": "filled",
                "_ts": t.timestamp(),
            }
        )

    def _notional_qty(self, order: OrderState, price: float) -> Decimal:
        q = (order.notional or _ZERO) / Decimal(str(price))
        return q.quantize(Decimal("0.000000001"))

    def _apply_position(self, order: OrderState, signed: Decimal, px: Decimal, t: datetime) -> None:
        pos = self.state.positions.get(order.symbol)
        if pos is None:
            self.state.positions[order.symbol] = PositionState(
                order.symbol, order.asset_class, signed, px, t
            )
            return
        new_qty = pos.qty + signed
        if new_qty == 0:
            del self.state.positions[order.symbol]
            return
        if (pos.qty > 0) == (signed > 0):
            pos.avg_entry_price = (pos.avg_entry_price * pos.qty + px * signed) / new_qty
        elif (pos.qty > 0) != (new_qty > 0):
            # Crossed through zero: the remainder is a new position at the fill price.
            pos.avg_entry_price = px
            pos.opened_at = t
        pos.qty = new_qty

    # ---- account ---------------------------------------------------------------------------
    def marks_at(self, positions: list[PositionState], t: datetime) -> dict[str, float]:
        """Marks of many positions at one instant (options priced in one vectorised pass)."""
        opts = [p.symbol for p in positions if p.asset_class == "us_option"]
        out = self.chains.mids_at(opts, t) if opts else {}
        for p in positions:
            if p.asset_class != "us_option":
                out[p.symbol] = self.market.price_at(p.symbol, t)
        return out

    def _position_values(self, now: datetime) -> list[tuple[PositionState, float, float]]:
        """(position, current price, previous close price) for each open position."""
        positions = list(self.state.positions.values())
        cur = self.marks_at(positions, now)
        last = self.marks_at(positions, self._last_close_time(now))
        return [(p, cur[p.symbol], last[p.symbol]) for p in positions]

    def _reserved(self) -> tuple[float, float]:
        """Buying power held by working orders: (stock cost, option cost)."""
        stock = opt = 0.0
        for o in self._working():
            if o.side != "buy" and not (o.asset_class == "us_equity" and self._opens_short(o)):
                continue
            qty = float(o.qty) if o.qty is not None else 0.0
            if o.asset_class == "us_option":
                px = float(o.limit_price or 0) or self._last_quote_ask(o)
                opt += qty * px * MULTIPLIER
            else:
                px = float(o.limit_price or o.stop_price or 0) or self._last_quote_ask(o)
                stock += float(o.notional) if o.notional is not None else qty * px
        return stock, opt

    def _opens_short(self, o: OrderState) -> bool:
        pos = self.state.positions.get(o.symbol)
        held = pos.qty if pos is not None else _ZERO
        return o.side == "sell" and (o.qty or _ZERO) > max(held, _ZERO)

    def _last_quote_ask(self, o: OrderState) -> float:
        t = self.state.processed_until or o.created_at
        return self.quote(o.symbol, o.asset_class, t)[1]

    def account_numbers(self, now: datetime) -> dict[str, float]:
        vals = self._position_values(now)
        long_mv = short_mv = stock_abs = opt_long = 0.0
        for pos, cur, _ in vals:
            mult = MULTIPLIER if pos.asset_class == "us_option" else 1
            mv = float(pos.qty) * cur * mult
            if mv >= 0:
                long_mv += mv
            else:
                short_mv += mv
            if pos.asset_class == "us_equity":
                stock_abs += abs(mv)
            elif mv > 0:
                opt_long += mv
        cash = float(self.state.cash)
        equity = cash + long_mv + short_mv
        initial = 0.5 * stock_abs + opt_long
        maint = 0.3 * stock_abs + opt_long
        excess = equity - initial
        res_stock, res_opt = self._reserved()
        avail = excess - 0.5 * res_stock - res_opt
        last_equity = self.equity_at([self._last_close_time(now)])[0]
        return {
            "cash": cash,
            "equity": equity,
            "long_market_value": long_mv,
            "short_market_value": short_mv,
            "initial_margin": initial,
            "maintenance_margin": maint,
            "buying_power": max(0.0, 2.0 * avail),
            "options_buying_power": max(0.0, avail),
            "daytrading_buying_power": max(0.0, 4.0 * (equity - maint)),
            "non_marginable_buying_power": max(0.0, avail),
            "last_equity": last_equity,
        }

    def _last_close_time(self, now: datetime) -> datetime:
        """Close of the session before the current one (the close of "yesterday")."""
        cur = self.calendar.current_or_last_session(now)
        return self.calendar.close_at(self.calendar.prev_session(cur))

    def account_json(self, now: datetime) -> dict[str, Any]:
        with self.lock:
            n = self.account_numbers(now)
            m = lambda k: _s(_money(n[k]))  # noqa: E731
            return {
                "id": self.state.account_id,
                "account_number": self.state.account_number,
                "status": "ACTIVE",
                "crypto_status": "INACTIVE",
                "currency": "USD",
                "cash": m("cash"),
                "equity": m("equity"),
                "last_equity": m("last_equity"),
                "portfolio_value": m("equity"),
                "buying_power": m("buying_power"),
                "regt_buying_power": m("buying_power"),
                "daytrading_buying_power": m("daytrading_buying_power"),
                "effective_buying_power": m("buying_power"),
                "non_marginable_buying_power": m("non_marginable_buying_power"),
                "options_buying_power": m("options_buying_power"),
                "bod_dtbp": m("daytrading_buying_power"),
                "accrued_fees": "0",
                "pending_transfer_in": "0",
                "long_market_value": m("long_market_value"),
                "short_market_value": m("short_market_value"),
                "position_market_value": _s(
                    _money(n["long_market_value"] - n["short_market_value"])
                ),
                "initial_margin": m("initial_margin"),
                "maintenance_margin": m("maintenance_margin"),
                "last_maintenance_margin": m("maintenance_margin"),
                "sma": m("equity"),
                "multiplier": "2",
                "shorting_enabled": True,
                "pattern_day_trader": False,
                "trading_blocked": False,
                "transfers_blocked": False,
                "account_blocked": False,
                "trade_suspended_by_user": False,
                "daytrade_count": 0,
                "options_approved_level": 2,
                "options_trading_level": 2,
                "created_at": iso(self.state.created_at),
                "balance_asof": self.calendar.last_completed_session(now).isoformat(),
                "crypto_tier": 0,
            }

    def positions_json(self, now: datetime) -> list[dict[str, Any]]:
        with self.lock:
            vals = self._position_values(now)
            today_open = self.calendar.open_at(self.calendar.current_or_last_session(now))
            held = self._held_for_orders()
            out = []
            for pos, cur, last in sorted(vals, key=lambda v: v[0].symbol):
                mult = MULTIPLIER if pos.asset_class == "us_option" else 1
                qty = float(pos.qty)
                avg = float(pos.avg_entry_price)
                mv = qty * cur * mult
                cost = qty * avg * mult
                upl = mv - cost
                base_intraday = last if pos.opened_at < today_open else avg
                ipl = (cur - base_intraday) * qty * mult
                ibase = abs(qty * base_intraday * mult)
                avail = pos.qty - held.get(pos.symbol, _ZERO) if pos.qty > 0 else pos.qty
                out.append(
                    {
                        "asset_id": self.asset_id(pos.symbol),
                        "symbol": pos.symbol,
                        "exchange": self.market.spec(pos.symbol).exchange
                        if pos.asset_class == "us_equity"
                        else "",
                        "asset_class": pos.asset_class,
                        "asset_marginable": pos.asset_class == "us_equity",
                        "qty": _s(pos.qty),
                        "qty_available": _s(avail),
                        "avg_entry_price": _s(pos.avg_entry_price.quantize(Decimal("0.0001"))),
                        "side": "long" if qty > 0 else "short",
                        "market_value": _s(_money(mv)),
                        "cost_basis": _s(_money(cost)),
                        "unrealized_pl": _s(_money(upl)),
                        "unrealized_plpc": _s(_ratio(upl, abs(cost))),
                        "unrealized_intraday_pl": _s(_money(ipl)),
                        "unrealized_intraday_plpc": _s(_ratio(ipl, ibase)),
                        "current_price": _s(_money(cur)),
                        "lastday_price": _s(_money(last)),
                        "change_today": _s(_ratio(cur - last, last)),
                    }
                )
            return out

    def position_json(self, symbol: str, now: datetime) -> dict[str, Any]:
        for p in self.positions_json(now):
            if p["symbol"] == symbol:
                return p
        raise BrokerError(404, 40410000, "position does not exist")

    def _held_for_orders(self) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for o in self._working():
            if o.side == "sell" and o.qty is not None:
                held[o.symbol] = held.get(o.symbol, _ZERO) + o.qty
        return held

    # ---- orders --------------------------------------------------------------------------
    def submit(self, payload: dict[str, Any], now: datetime) -> OrderState:
        with self.lock:
            self.advance_to(now)
            order = self._validate(payload, now)
            self.state.orders.append(order)
            self._by_id[order.id] = order
            self._by_client[order.client_order_id] = order
            if self.calendar.is_open(now):
                self._try_fill_over(order, [now])
                if order.is_open and order.time_in_force in ("ioc", "fok"):
                    order.status = "canceled"
                    order.canceled_at = now
            return order

    def _validate(self, p: dict[str, Any], now: datetime) -> OrderState:
        def bad(msg: str) -> BrokerError:
            return BrokerError(422, 40010001, msg)

        symbol = str(p.get("symbol") or "").strip().upper()
        if not symbol:
            raise bad("symbol is required")
        asset_class = self.asset_class_of(symbol, now)
        side = str(p.get("side") or "").lower()
        if side not in ("buy", "sell"):
            raise bad("side must be buy or sell")
        otype = str(p.get("type") or p.get("order_type") or "").lower()
        if otype not in ("market", "limit", "stop", "stop_limit", "trailing_stop"):
            raise bad(f"invalid order type: {otype!r}")
        tif = str(p.get("time_in_force") or "").lower()
        if tif not in ("day", "gtc", "opg", "cls", "ioc", "fok"):
            raise bad(f"invalid time_in_force: {tif!r}")
        order_class = str(p.get("order_class") or "simple").lower()
        is_opt = asset_class == "us_option"
        if is_opt:
            if order_class not in ("simple", ""):
                raise bad("complex orders are not supported for options trading")
            if otype == "trailing_stop":
                raise bad("trailing_stop orders are not supported for options trading")
            if tif not in ("day", "gtc"):
                raise bad("invalid time_in_force for options trading: must be day or gtc")
            if p.get("extended_hours"):
                raise bad("extended hours orders are not supported for options trading")
        elif order_class not in ("simple", ""):
            raise bad(f"order_class {order_class} is not supported by the simulator")
        if otype == "trailing_stop":
            raise bad("trailing_stop orders are not supported by the simulator")
        qty = notional = None
        if p.get("qty") is not None and p.get("notional") is not None:
            raise bad("only one of qty or notional may be specified")
        if p.get("qty") is not None:
            qty = _dec(p["qty"], "qty")
            if qty <= 0:
                raise bad("qty must be > 0")
            if is_opt and qty != qty.to_integral_value():
                raise bad("qty must be integer for options")
            if is_opt:
                qty = qty.quantize(Decimal(1))
        elif p.get("notional") is not None:
            if is_opt:
                raise bad("notional orders are not supported for options")
            notional = _dec(p["notional"], "notional")
            if notional <= 0:
                raise bad("notional must be > 0")
            if otype != "market" or tif != "day":
                raise bad("notional orders must be market day orders")
        else:
            raise bad("qty or notional is required")
        limit = stop = None
        if otype in ("limit", "stop_limit"):
            if p.get("limit_price") is None:
                raise bad("limit_price is required for limit orders")
            limit = _dec(p["limit_price"], "limit_price")
            if limit <= 0:
                raise bad("limit_price must be > 0")
            self._check_tick(limit, is_opt, "limit_price")
        if otype in ("stop", "stop_limit"):
            if p.get("stop_price") is None:
                raise bad("stop_price is required for stop orders")
            stop = _dec(p["stop_price"], "stop_price")
            if stop <= 0:
                raise bad("stop_price must be > 0")
            self._check_tick(stop, is_opt, "stop_price")
        coid = p.get("client_order_id")
        if coid is None or coid == "":
            coid = str(self._uuid())
        coid = str(coid)
        if len(coid) > 128:
            raise bad("client_order_id must be no more than 128 characters")
        if coid in self._by_client:
            raise bad("client_order_id must be unique")
        pos = self.state.positions.get(symbol)
        held = pos.qty if pos is not None else _ZERO
        intent = p.get("position_intent")
        if is_opt:
            if intent is None:
                if side == "buy":
                    intent = "buy_to_close" if held < 0 else "buy_to_open"
                else:
                    intent = "sell_to_close" if held > 0 else "sell_to_open"
            if side == "sell":
                pending = self._held_for_orders().get(symbol, _ZERO)
                if intent == "sell_to_open" or (qty or _ZERO) > held - pending:
                    raise BrokerError(
                        403,
                        40310000,
                        "account not eligible to trade uncovered option contracts",
                    )
        # Buying power: new buys (and short sales) must fit what is free.
        bid, ask = self.quote(symbol, asset_class, now)
        if side == "buy" or (not is_opt and (qty or _ZERO) > max(held, _ZERO)):
            ref = float(limit) if limit is not None else (ask if side == "buy" else bid)
            if stop is not None and limit is None:
                ref = max(ref, float(stop))
            if notional is not None:
                cost = float(notional)
            else:
                opening = float(qty or 0)
                if side == "buy" and held < 0:
                    opening = max(0.0, opening - float(-held))
                if side == "sell":
                    opening = float(qty or 0) - float(max(held, _ZERO))
                cost = opening * ref * (MULTIPLIER if is_opt else 1)
            nums = self.account_numbers(now)
            room = nums["options_buying_power"] if is_opt else nums["buying_power"]
            if cost > room + 1e-6:
                raise BrokerError(403, 40310000, "insufficient buying power")
        session = self.calendar.current_or_last_session(now)
        if not self.calendar.is_open(now):
            session = self.calendar.ny_date(self.calendar.next_open(now))
        status = "new" if self.calendar.is_open(now) else "accepted"
        return OrderState(
            id=str(self._uuid()),
            client_order_id=coid,
            symbol=symbol,
            asset_id=self.asset_id(symbol),
            asset_class=asset_class,
            side=side,
            type=otype,
            time_in_force=tif,
            qty=qty,
            notional=notional,
            limit_price=limit,
            stop_price=stop,
            status=status,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            position_intent=intent,
            extended_hours=bool(p.get("extended_hours") or False),
            session=session,
        )

    @staticmethod
    def _check_tick(price: Decimal, is_opt: bool, name: str) -> None:
        places = 2 if (is_opt or price >= 1) else 4
        if price != price.quantize(Decimal(1).scaleb(-places)):
            raise BrokerError(
                422,
                40010001,
                f"invalid {name} {price}. sub-penny increment does not fulfill minimum pricing criteria",
            )

    def get_order(self, order_id: str) -> OrderState:
        o = self._by_id.get(order_id)
        if o is None:
            raise BrokerError(404, 40410000, "order not found")
        return o

    def get_by_client_id(self, client_order_id: str) -> OrderState:
        o = self._by_client.get(client_order_id)
        if o is None:
            raise BrokerError(404, 40410000, "order not found")
        return o

    def cancel(self, order_id: str, now: datetime) -> None:
        with self.lock:
            self.advance_to(now)
            o = self.get_order(order_id)
            if not o.is_open:
                raise BrokerError(422, 42210000, f'order is already in "{o.status}" state')
            o.status = "canceled"
            o.canceled_at = now
            o.updated_at = now

    def cancel_all(self, now: datetime) -> list[OrderState]:
        with self.lock:
            self.advance_to(now)
            out = []
            for o in self._working():
                o.status = "canceled"
                o.canceled_at = now
                o.updated_at = now
                out.append(o)
            return out

    def close_position(
        self, symbol: str, now: datetime, qty: str | None = None, percentage: str | None = None
    ) -> OrderState:
        with self.lock:
            self.advance_to(now)
            pos = self.state.positions.get(symbol)
            if pos is None:
                raise BrokerError(404, 40410000, "position does not exist")
            amount = abs(pos.qty)
            if qty is not None:
                amount = min(amount, _dec(qty, "qty"))
            elif percentage is not None:
                amount = (amount * _dec(percentage, "percentage") / 100).quantize(
                    Decimal(1) if pos.asset_class == "us_option" else Decimal("0.000000001")
                )
            # Working orders on the symbol would double-sell; Alpaca cancels them first.
            for o in self._working():
                if o.symbol == symbol:
                    o.status = "canceled"
                    o.canceled_at = now
                    o.updated_at = now
            payload = {
                "symbol": symbol,
                "qty": str(amount),
                "side": "sell" if pos.qty > 0 else "buy",
                "type": "market",
                "time_in_force": "day",
            }
            if pos.asset_class == "us_option":
                payload["position_intent"] = "sell_to_close" if pos.qty > 0 else "buy_to_close"
            return self.submit(payload, now)

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        after: datetime | None = None,
        until: datetime | None = None,
        direction: str = "desc",
        symbols: set[str] | None = None,
        side: str | None = None,
    ) -> list[OrderState]:
        rows = self.state.orders
        if status == "open":
            rows = [o for o in rows if o.is_open]
        elif status == "closed":
            rows = [o for o in rows if not o.is_open]
        if after is not None:
            rows = [o for o in rows if o.submitted_at > after]
        if until is not None:
            rows = [o for o in rows if o.submitted_at < until]
        if symbols:
            rows = [o for o in rows if o.symbol in symbols]
        if side:
            rows = [o for o in rows if o.side == side]
        rows = sorted(rows, key=lambda o: o.submitted_at, reverse=direction != "asc")
        return rows[: max(1, min(limit, 500))]

    def activities(
        self,
        types: set[str] | None,
        *,
        direction: str = "desc",
        after: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
        page_token: str | None = None,
        extra: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Activities, paged by id; ``extra`` (injected records) are merged in by time."""
        every = self.state.activities + list(extra or ())
        rows = [a for a in every if types is None or a.get("activity_type") in types]
        if after is not None:
            rows = [a for a in rows if a["_ts"] > after.timestamp()]
        if until is not None:
            rows = [a for a in rows if a["_ts"] < until.timestamp()]
        rows = sorted(rows, key=lambda a: (a["_ts"], str(a.get("id"))), reverse=direction != "asc")
        if page_token:
            ids = [a.get("id") for a in rows]
            if page_token in ids:
                rows = rows[ids.index(page_token) + 1 :]
        rows = rows[: max(1, min(page_size, 100))]
        return [{k: v for k, v in a.items() if not k.startswith("_")} for a in rows]

    # ---- equity over time --------------------------------------------------------------
    def equity_at(self, times: list[datetime]) -> np.ndarray:
        """Account equity at each instant, rebuilt from the ledger and the market."""
        ts = np.array([t.timestamp() for t in times], dtype=float)
        ledger = self.state.ledger
        cash0 = float(self.state.starting_cash)
        if not ledger:
            return np.full(ts.size, cash0)
        lt = np.array([e.ts for e in ledger])
        cash = (
            cash0
            + np.r_[0.0, np.cumsum([e.cash for e in ledger])][np.searchsorted(lt, ts, side="right")]
        )
        equity = cash.copy()
        entries: dict[str, list[Any]] = {}
        for e in ledger:
            entries.setdefault(e.symbol, []).append(e)
        option_rows: list[tuple[str, np.ndarray, np.ndarray]] = []
        for sym in sorted(entries):
            ent = entries[sym]
            et = np.array([e.ts for e in ent])
            qty = np.r_[0.0, np.cumsum([e.qty for e in ent])][np.searchsorted(et, ts, side="right")]
            held = np.flatnonzero(np.abs(qty) > 1e-12)
            if held.size == 0:
                continue
            if self.market.has(sym):
                marks = np.array([self.market.price_at(sym, times[i]) for i in held])
                equity[held] += qty[held] * marks
            else:
                option_rows.append((sym, held, qty[held]))
        if option_rows:
            # All option marks in one vectorised pass per underlying (not one per contract).
            syms = [sym for sym, held, _ in option_rows for _ in held]
            when = [times[i] for _, held, _ in option_rows for i in held]
            marks = self.chains.mids_for_rows(syms, when)
            idx = np.concatenate([held for _, held, _ in option_rows])
            qty = np.concatenate([q for _, _, q in option_rows])
            np.add.at(equity, idx, qty * marks * MULTIPLIER)
        return equity

    def portfolio_history(
        self, now: datetime, period: str | None, timeframe: str | None, extended: bool = False
    ) -> dict[str, Any]:
        """Alpaca's ``/v2/account/portfolio/history`` arrays for ``period``/``timeframe``."""
        cal = self.calendar
        period = period or "1M"
        unit = period[-1].upper() if period[-1] != "A" else "A"
        try:
            n = int(period[:-1] or 1)
        except ValueError as exc:
            raise BrokerError(422, 40010001, f"invalid period {period!r}") from exc
        if unit not in ("D", "W", "M", "A") or n < 1:
            raise BrokerError(422, 40010001, f"invalid period {period!r}")
        if timeframe is None:
            timeframe = "5Min" if unit == "D" and n < 7 else "1D"
        step = {"1Min": 1, "5Min": 5, "15Min": 15, "1H": 60, "1D": 0}.get(timeframe)
        if step is None:
            raise BrokerError(422, 40010001, f"invalid timeframe {timeframe!r}")
        last = cal.current_or_last_session(now)
        days = {"D": n, "W": 5 * n, "M": 21 * n, "A": 252 * n}[unit]
        if step and days > 30:
            raise BrokerError(
                422, 40010001, "intraday timeframe is only available for periods up to 30 days"
            )
        first = cal.offset_sessions(last, -(days - 1))
        created_day = cal.current_or_last_session(self.state.created_at)
        first = max(first, created_day)
        sessions = cal.sessions(first, last)
        stamps: list[datetime] = []
        marks: list[datetime] = []
        if step == 0:
            # Alpaca stamps daily points at midnight New York time of the session's date.
            for d in sessions:
                stamps.append(datetime.fromtimestamp(midnight_ny(d), tz=UTC))
                marks.append(min(cal.close_at(d), now))
        else:
            for d in sessions:
                o = cal.open_at(d)
                for m in range(0, MINUTES_PER_SESSION, step):
                    t = o + timedelta(minutes=m)
                    if t >= now:  # an interval starting now has no data yet
                        break
                    end = min(t + timedelta(minutes=step), now)
                    stamps.append(t)
                    marks.append(end)
        if not marks:
            return {
                "timestamp": [],
                "equity": [],
                "profit_loss": [],
                "profit_loss_pct": [],
                "base_value": float(self.state.starting_cash),
                "timeframe": timeframe,
                "cashflow": {},
            }
        eq = self.equity_at(marks)
        if step:
            base_t = cal.close_at(cal.prev_session(sessions[0]))
            base = float(self.equity_at([base_t])[0])
        else:
            base = float(eq[0])
        pl = eq - base
        pct = pl / base if base else np.zeros_like(pl)
        return {
            "timestamp": [int(t.timestamp()) for t in stamps],
            "equity": [round(float(x), 2) for x in eq],
            "profit_loss": [round(float(x), 2) for x in pl],
            "profit_loss_pct": [round(float(x), 6) for x in pct],
            "base_value": round(base, 2),
            "base_value_asof": sessions[0].isoformat(),
            "timeframe": timeframe,
            "cashflow": {},
        }

    # ---- snapshots -------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        with self.lock:
            s = self.state
            return {
                "account_id": s.account_id,
                "account_number": s.account_number,
                "created_at": iso(s.created_at),
                "starting_cash": str(s.starting_cash),
                "cash": str(s.cash),
                "processed_until": iso(s.processed_until),
                "orders": [o.to_state() for o in s.orders],
                "activities": s.activities,
                "ledger": [asdict(e) for e in s.ledger],
                "positions": [
                    {
                        "symbol": p.symbol,
                        "asset_class": p.asset_class,
                        "qty": str(p.qty),
                        "avg_entry_price": str(p.avg_entry_price),
                        "opened_at": iso(p.opened_at),
                    }
                    for p in s.positions.values()
                ],
                "rng": self._rng.getstate()[1][:],
            }

    def load_state(self, d: dict[str, Any]) -> None:
        with self.lock:
            self.state = BrokerState(
                account_id=d["account_id"],
                account_number=d["account_number"],
                created_at=_parse_iso(d["created_at"]),  # type: ignore[arg-type]
                starting_cash=Decimal(d["starting_cash"]),
                cash=Decimal(d["cash"]),
                orders=[OrderState.from_state(o) for o in d["orders"]],
                activities=list(d["activities"]),
                ledger=[LedgerEntry(**e) for e in d["ledger"]],
                positions={
                    p["symbol"]: PositionState(
                        p["symbol"],
                        p["asset_class"],
                        Decimal(p["qty"]),
                        Decimal(p["avg_entry_price"]),
                        _parse_iso(p["opened_at"]),  # type: ignore[arg-type]
                    )
                    for p in d["positions"]
                },
                processed_until=_parse_iso(d.get("processed_until")),
            )
            self._by_id = {o.id: o for o in self.state.orders}
            self._by_client = {o.client_order_id: o for o in self.state.orders}
            if d.get("rng"):
                self._rng.setstate((3, tuple(d["rng"]), None))


def _ratio(num: float, den: float) -> Decimal:
    if not den:
        return _ZERO
    return Decimal(str(round(num / den, 6)))
