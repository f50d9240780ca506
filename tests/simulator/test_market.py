"""Market model: determinism, one minute path behind every timeframe, history, calendar, clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from dashboard.simulator.calendar import NEW_YORK, SessionCalendar, nyse_holidays
from dashboard.simulator.clock import SimClock
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.simulator.market import Market, parse_timeframe

ANCHOR = date(2025, 6, 2)


def _bars(sim: SimulatorHandle, symbol: str, timeframe: str, start: str, end: str) -> list[dict]:
    """All bars of one symbol, following next_page_token."""
    out: list[dict] = []
    token = None
    with sim.client() as c:
        while True:
            params = {"symbols": symbol, "timeframe": timeframe, "start": start, "end": end}
            params["limit"] = "10000"
            if token:
                params["page_token"] = token
            r = c.get("/v2/stocks/bars", params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            out.extend(body["bars"].get(symbol, []))
            token = body["next_page_token"]
            if not token:
                return out


def _ny_day(t: str) -> date:
    return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(NEW_YORK).date()


# ---- determinism ------------------------------------------------------------------------------
def test_same_seed_gives_identical_daily_and_minute_bars() -> None:
    a, b = Market(11, ANCHOR), Market(11, ANCHOR)
    np.testing.assert_array_equal(a.d_close, b.d_close)
    np.testing.assert_array_equal(a.regime, b.regime)
    d = a.minute_start
    ma, mb = a.minute_bars("NVDA", d), b.minute_bars("NVDA", d)
    np.testing.assert_array_equal(ma.c, mb.c)
    np.testing.assert_array_equal(ma.v, mb.v)


def test_different_seed_gives_different_path() -> None:
    a, b = Market(11, ANCHOR), Market(12, ANCHOR)
    assert not np.allclose(a.d_close[:, 0], b.d_close[:, 0])


def test_anchor_session_closes_at_nominal_price() -> None:
    m = Market(3, ANCHOR)
    assert m.close_on("SPY", ANCHOR) == pytest.approx(600.0, abs=0.005)
    assert m.close_on("AAPL", ANCHOR) == pytest.approx(230.0, abs=0.005)


def test_extending_the_horizon_never_changes_history() -> None:
    m = Market(5, ANCHOR)
    before = m.d_close.copy()
    n = before.shape[0]
    m.ensure_horizon(m.horizon + timedelta(days=400))
    assert m.d_close.shape[0] > n
    np.testing.assert_array_equal(m.d_close[:n], before)


def test_regimes_include_bull_bear_and_crash_stretches() -> None:
    m = Market(7, ANCHOR)
    hist = m.regime[m.dates <= np.datetime64(ANCHOR)]
    assert set(np.unique(hist).tolist()) == {0, 1, 2, 3}


# ---- one minute path behind every timeframe --------------------------------------------------
def _aggregate(rows: list[dict], key) -> list[dict]:
    groups: dict = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return [
        {
            "o": g[0]["o"],
            "h": max(x["h"] for x in g),
            "l": min(x["l"] for x in g),
            "c": g[-1]["c"],
            "v": sum(x["v"] for x in g),
        }
        for _, g in sorted(groups.items())
    ]


def _ohlcv(rows: list[dict]) -> list[dict]:
    return [{k: r[k] for k in ("o", "h", "l", "c", "v")} for r in rows]


def test_intraday_and_daily_bars_aggregate_the_same_minute_path(pinned: SimulatorHandle) -> None:
    day = "2025-05-30"  # a completed minute day before the pinned start
    minute = _bars(pinned, "QQQ", "1Min", day, day)
    assert len(minute) == 390
    assert minute[0]["t"] == "2025-05-30T13:30:00Z" and minute[-1]["t"] == "2025-05-30T19:59:00Z"
    five = _bars(pinned, "QQQ", "5Min", day, day)
    hour = _bars(pinned, "QQQ", "1Hour", day, day)
    daily = _bars(pinned, "QQQ", "1Day", day, day)
    assert len(five) == 78 and len(hour) == 7 and len(daily) == 1

    def ts(r: dict) -> datetime:
        return datetime.fromisoformat(r["t"].replace("Z", "+00:00"))

    assert _ohlcv(five) == _aggregate(minute, lambda r: ts(r).replace(minute=ts(r).minute // 5))
    assert _ohlcv(hour) == _aggregate(minute, lambda r: ts(r).hour)
    assert _ohlcv(daily) == _aggregate(minute, lambda r: 0)
    # Alpaca stamps daily bars at midnight New York time (04:00Z in summer).
    assert daily[0]["t"] == "2025-05-30T04:00:00Z"


def test_partial_session_bars_stop_at_the_simulated_time(pinned_fresh: SimulatorHandle) -> None:
    pinned_fresh.advance(47.5)  # 10:17:30 New York
    minute = _bars(pinned_fresh, "SPY", "1Min", "2025-06-03", "2025-06-03")
    daily = _bars(pinned_fresh, "SPY", "1Day", "2025-06-03", "2025-06-03")
    assert len(minute) == 47
    assert _ohlcv(daily) == _aggregate(minute, lambda r: 0)


def test_weekly_and_monthly_bars_aggregate_daily_bars(pinned: SimulatorHandle) -> None:
    # A period bar covers its whole period even when ``end`` falls inside it: the last
    # week starting Mon 2024-12-30 includes 2 and 3 January 2025.
    start, end = "2023-01-01", "2024-12-31"
    daily = _bars(pinned, "MSFT", "1Day", start, "2025-01-05")
    weekly = _bars(pinned, "MSFT", "1Week", start, end)
    monthly = _bars(pinned, "MSFT", "1Month", start, "2024-12-15")
    assert _ohlcv(weekly) == _aggregate(daily, lambda r: _ny_day(r["t"]).isocalendar()[:2])
    in_2024 = [r for r in daily if _ny_day(r["t"]).year < 2025]
    assert _ohlcv(monthly) == _aggregate(in_2024, lambda r: _ny_day(r["t"]).strftime("%Y-%m"))
    assert len(monthly) == 24
    quarterly = _bars(pinned, "MSFT", "3Month", start, end)
    assert _ohlcv(quarterly) == _aggregate(
        in_2024, lambda r: (_ny_day(r["t"]).year, (_ny_day(r["t"]).month - 1) // 3)
    )
    # Each weekly bar is stamped with its first session's daily stamp.
    assert weekly[0]["t"] == daily[0]["t"]


def test_at_least_ten_years_of_daily_history_via_pagination(pinned: SimulatorHandle) -> None:
    daily = _bars(pinned, "SPY", "1Day", "2014-01-01", "2025-06-02")
    assert _ny_day(daily[0]["t"]) == date(2014, 1, 2)
    assert _ny_day(daily[-1]["t"]) == date(2025, 6, 2)
    assert len(daily) == SessionCalendar().count_sessions(date(2014, 1, 1), date(2025, 6, 3))
    # Pages of 1,000 stitched together equal one large page.
    paged: list[dict] = []
    token = None
    pages = 0
    with pinned.client() as c:
        while True:
            params = {"symbols": "SPY,AAPL", "timeframe": "1Day", "start": "2014-01-01"}
            params.update(end="2025-06-02", limit="1000")
            if token:
                params["page_token"] = token
            body = c.get("/v2/stocks/bars", params=params).json()
            assert sum(len(v) for v in body["bars"].values()) <= 1000
            paged.extend(body["bars"].get("SPY", []))
            pages += 1
            token = body["next_page_token"]
            if not token:
                break
    assert pages >= 6
    assert paged == daily


def test_same_seed_same_bars_over_http(pinned: SimulatorHandle) -> None:
    other = Market(7, ANCHOR)
    bars = _bars(pinned, "TSLA", "1Day", "2020-03-02", "2020-03-31")
    expected = other.daily_bars(
        "TSLA", date(2020, 3, 2), date(2020, 3, 31), datetime(2025, 6, 3, 13, 30, tzinfo=UTC)
    )
    assert [b["c"] for b in bars] == expected.c.tolist()


# ---- calendar ----------------------------------------------------------------------------------
def test_no_bars_on_weekends_or_holidays(pinned: SimulatorHandle) -> None:
    days = {_ny_day(b["t"]) for b in _bars(pinned, "IWM", "1Day", "2024-01-01", "2024-12-31")}
    assert all(d.weekday() < 5 for d in days)
    assert not days & set(nyse_holidays(2024))
    # Hand-checked 2024 closures: Good Friday, Juneteenth, July 4th, Thanksgiving, Christmas.
    for d in (date(2024, 3, 29), date(2024, 6, 19), date(2024, 7, 4), date(2024, 11, 28)):
        assert d not in days
    assert date(2024, 12, 25) not in days and date(2024, 12, 24) in days
    assert len(days) == 252


def test_holiday_rules() -> None:
    assert date(2022, 12, 26) in nyse_holidays(2022)  # Christmas on Sunday -> Monday
    assert date(2021, 12, 31) not in nyse_holidays(2021)  # Saturday New Year not observed
    assert date(2021, 6, 18) not in nyse_holidays(2021)  # Juneteenth only from 2022
    assert date(2025, 4, 18) in nyse_holidays(2025)  # Good Friday 2025


def test_calendar_and_clock_routes(pinned: SimulatorHandle) -> None:
    with pinned.client() as c:
        cal = c.get("/v2/calendar", params={"start": "2025-06-30", "end": "2025-07-07"}).json()
        clock = c.get("/v2/clock").json()
    assert [d["date"] for d in cal] == [
        "2025-06-30",
        "2025-07-01",
        "2025-07-02",
        "2025-07-03",
        "2025-07-07",
    ]
    assert {(d["open"], d["close"]) for d in cal} == {("09:30", "16:00")}
    assert clock == {
        "timestamp": "2025-06-03T09:30:00-04:00",
        "is_open": True,
        "next_open": "2025-06-04T09:30:00-04:00",
        "next_close": "2025-06-03T16:00:00-04:00",
    }


def test_clock_after_the_close_points_to_the_next_session() -> None:
    cal = SessionCalendar()
    friday_evening = datetime(2025, 7, 3, 21, 0, tzinfo=UTC)  # 17:00 New York, before July 4th
    assert not cal.is_open(friday_evening)
    assert cal.next_open(friday_evening) == datetime(2025, 7, 7, 13, 30, tzinfo=UTC)


# ---- clock -------------------------------------------------------------------------------------
class _FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_clock_runs_at_its_speed_and_advances() -> None:
    mono = _FakeMonotonic()
    start = datetime(2025, 6, 3, 13, 30, tzinfo=UTC)
    clock = SimClock(start, speed=60, monotonic=mono)
    mono.t += 10  # ten real seconds = ten simulated minutes at 60x
    assert clock.now() == start + timedelta(minutes=10)
    clock.advance(5)
    assert clock.now() == start + timedelta(minutes=15)
    clock.set_speed(0)
    mono.t += 1000
    assert clock.now() == start + timedelta(minutes=15)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.jump_to(start) == start + timedelta(minutes=15)  # never backwards


def test_speed_and_advance_routes(pinned_fresh: SimulatorHandle) -> None:
    with pinned_fresh.client() as c:
        state = c.post("/_sim/advance", json={"minutes": 90}).json()
        assert state["sim_time"] == "2025-06-03T15:00:00.000000Z"
        state = c.post("/_sim/advance", json={"to_open": True}).json()
        assert state["sim_time"] == "2025-06-04T13:30:00.000000Z"
        assert c.post("/_sim/advance", json={"minutes": -1}).status_code == 422
        assert c.post("/_sim/speed", json={"speed": 120}).json()["speed"] == 120


def test_timeframe_grammar() -> None:
    assert parse_timeframe("15Min").amount == 15
    assert parse_timeframe("1Hour").amount == 60
    assert parse_timeframe("1M").unit == "month"
    with pytest.raises(ValueError):
        parse_timeframe("2Day")


def test_closed_hours_pass_faster_but_never_skip_the_open() -> None:
    from datetime import datetime

    from dashboard.simulator.simulation import Simulator, SimulatorConfig

    close = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # Tuesday 16:00 ET
    sim = Simulator(SimulatorConfig(seed=7, speed=60.0, start=close, closed_speedup=20.0))
    before = sim.now()
    after = sim.compress_closed(10.0)  # 10 real s × 60 × 19 extra = 3 h 10 min
    assert 3 * 3600 + 600 <= (after - before).total_seconds() < 3 * 3600 + 660
    later = sim.compress_closed(3600.0)  # far more than the night: stops at the open
    assert timedelta(0) <= later - sim.calendar.next_open(after) < timedelta(seconds=2)
    assert sim.calendar.is_open(later)
    assert sim.compress_closed(10.0) - later < timedelta(seconds=5)  # open: normal speed


def test_vectorised_marks_equal_one_contract_marks(pinned: SimulatorHandle) -> None:
    """The batched mark path (used for account and positions) prices each (contract,
    instant) row exactly as the one-contract path does, across underlyings."""
    chains = pinned.sim.chains
    now = pinned.now()
    later = now + timedelta(hours=3)
    rows = [
        c.symbol
        for u in ("SPY", "QQQ")
        for c in chains.listings(u, now)[::97]  # a spread of expiries, strikes, rights
    ]
    times = [now if i % 2 else later for i in range(len(rows))]
    batched = chains.mids_for_rows(rows, times)
    single = [float(chains.mid_series(s, [t])[0]) for s, t in zip(rows, times, strict=True)]
    assert len(rows) > 20
    assert batched.tolist() == pytest.approx(single, abs=1e-9)
    assert chains.mids_at(rows[:5], now) == {
        s: float(chains.mid_series(s, [now])[0]) for s in rows[:5]
    }


def test_timeframes_alpaca_refuses_are_refused_and_the_ones_it_serves_are_served(
    pinned: SimulatorHandle,
) -> None:
    """Alpaca serves [1-59]Min, [1-23]Hour, 1Day, 1Week and [1,2,3,4,6,12]Month; the
    dashboard builds 4Hour-from-09:30 and quarters itself, so the simulator must not
    offer what Alpaca does not (1Quarter) and must keep Alpaca's clock-aligned hours."""
    for bad in ("1Quarter", "1Q", "24Hour", "60Min", "2Week", "5Month"):
        with pytest.raises(ValueError):
            parse_timeframe(bad)
    with pinned.client() as c:
        refused = c.get(
            "/v2/stocks/bars",
            params={"symbols": "SPY", "timeframe": "1Quarter", "start": "2025-01-01"},
        )
        assert refused.status_code == 400 and "timeframe" in refused.json()["message"]
    # 4Hour is served (Alpaca accepts [1-23]Hour), clock-aligned from midnight New York
    # (08:00, 12:00), not from the 09:30 open: the dashboard never asks for it.
    four = _bars(pinned, "SPY", "4Hour", "2025-05-27", "2025-05-28")
    starts = {
        datetime.fromisoformat(b["t"].replace("Z", "+00:00")).astimezone(NEW_YORK).hour
        for b in four
    }
    assert starts == {8, 12}
    assert len(_bars(pinned, "SPY", "3Month", "2024-01-01", "2025-05-28")) >= 5


def test_asset_records_parse_with_alpaca_py_and_unknown_symbols_are_404(
    pinned: SimulatorHandle,
) -> None:
    from alpaca.common.exceptions import APIError
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import AssetClass, AssetStatus

    client = TradingClient("key", "secret", paper=True, url_override=pinned.url)
    aapl = client.get_asset("AAPL")
    assert aapl.symbol == "AAPL" and aapl.asset_class is AssetClass.US_EQUITY
    assert aapl.status is AssetStatus.ACTIVE and aapl.tradable
    assert "has_options" in (aapl.attributes or [])
    with pytest.raises(APIError) as err:
        client.get_asset("ZZZZQ")
    assert err.value.status_code == 404
    with pytest.raises(APIError):
        client.get_asset("VIX")  # an index is no tradable asset
