"""Market model: determinism, one minute path behind every timeframe, history, calendar, clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from dashboard.simulator.calendar import NEW_YORK, SessionCalendar, nyse_holidays
from dashboard.simulator.clock import SimClock
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.simulator.market import Market, _extremes, parse_timeframe

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


def _ts(r: dict) -> datetime:
    return datetime.fromisoformat(r["t"].replace("Z", "+00:00"))


def test_every_timeframe_aggregates_the_same_minute_path(pinned: SimulatorHandle) -> None:
    """1Min → 5/15/30Min and 1Hour (clock bins), 4Hour (from the 09:30 open), 1Day."""
    day = "2025-05-30"  # a completed minute day before the pinned start
    minute = _bars(pinned, "QQQ", "1Min", day, day)
    assert len(minute) == 390
    assert minute[0]["t"] == "2025-05-30T13:30:00Z" and minute[-1]["t"] == "2025-05-30T19:59:00Z"
    # One continuous path: each minute opens where the last one closed.
    assert all(b["o"] == a["c"] for a, b in itertools.pairwise(minute))
    assert all(r["l"] <= min(r["o"], r["c"]) <= max(r["o"], r["c"]) <= r["h"] for r in minute)
    for tf, size in (("5Min", 5), ("15Min", 15), ("30Min", 30)):
        rows = _bars(pinned, "QQQ", tf, day, day)
        assert len(rows) == 390 // size
        assert _ohlcv(rows) == _aggregate(
            minute, lambda r, n=size: (_ts(r).hour, _ts(r).minute // n)
        )
    hour = _bars(pinned, "QQQ", "1Hour", day, day)
    assert len(hour) == 7 and hour[0]["t"] == "2025-05-30T13:00:00Z"  # 09:30-10:00 in the 9:00 bar
    assert _ohlcv(hour) == _aggregate(minute, lambda r: _ts(r).hour)
    # 4-hour bars count from the open, as STRAT traders do: 09:30-13:30 and 13:30-16:00.
    four = _bars(pinned, "QQQ", "4Hour", day, day)
    assert [r["t"] for r in four] == ["2025-05-30T13:30:00Z", "2025-05-30T17:30:00Z"]
    assert _ohlcv(four) == _aggregate(minute, lambda r: r["t"] >= "2025-05-30T17:30:00Z")
    daily = _bars(pinned, "QQQ", "1Day", day, day)
    assert len(daily) == 1
    assert _ohlcv(daily) == _aggregate(minute, lambda r: 0)
    # Alpaca stamps daily bars at midnight New York time (04:00Z in summer).
    assert daily[0]["t"] == "2025-05-30T04:00:00Z"


def test_a_week_of_minute_days_aggregates_to_its_weekly_bar(pinned: SimulatorHandle) -> None:
    """The weekly bar, its daily bars and their minute bars are one path (26-30 May 2025)."""
    minute = _bars(pinned, "SPY", "1Min", "2025-05-26", "2025-05-30")
    daily = _bars(pinned, "SPY", "1Day", "2025-05-26", "2025-05-30")
    weekly = _bars(pinned, "SPY", "1Week", "2025-05-26", "2025-05-30")
    assert len(minute) == 4 * 390 and len(daily) == 4  # Memorial Day closed on the 26th
    assert _ohlcv(daily) == _aggregate(minute, lambda r: _ny_day(r["t"]))
    assert _ohlcv(weekly) == _aggregate(minute, lambda r: 0)


def test_timeframes_alpaca_refuses_are_refused_in_its_error_shape(
    pinned: SimulatorHandle,
) -> None:
    """Alpaca takes [1-59]Min, [1-23]Hour, 1Day, 1Week and [1,2,3,4,6,12]Month: quarters are
    3Month (or the client's own aggregation of months); "1Quarter" is a 400."""
    with pinned.client() as c:
        for tf in ("1Quarter", "60Min", "24Hour", "2Day", "5Month", "1Year"):
            r = c.get("/v2/stocks/bars", params={"symbols": "SPY", "timeframe": tf})
            assert r.status_code == 400, tf
            body = r.json()
            assert set(body) == {"code", "message"} and "timeframe" in body["message"]


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


# ---- calibration against the real index ----------------------------------------------------
# Daily bar types of the S&P 500 index, computed by us from the S&P 500 (^GSPC) daily OHLC
# that the ``arch`` package ships (arch 8.0.0, ``arch.data.sp500.load()``, Yahoo Finance
# data, 4 Jan 1999 - 31 Dec 2018, 5,031 sessions, so 5,030 bars with a previous bar), with
# strict > and < as STRAT counts a break (strat.md §1.1). To recompute:
#     d = arch.data.sp500.load(); h, l, c = d.High.values, d.Low.values, d["Adj Close"].values
#     up, dn = h[1:] > h[:-1], l[1:] < l[:-1]
#     inside, outside = (~up & ~dn).mean(), (up & dn).mean()   # and 2U = up & ~dn, …
#     ratio = np.log(h / l)[1:].mean() / np.abs(np.diff(np.log(c))).mean()
# giving 1: 13.0%, 2U: 42.4%, 2D: 35.7%, 3: 8.9%, and a mean daily range ln(H/L) of 1.66
# times the mean absolute close-to-close move. The figures are stable across sub-periods
# (1999-2008: 13.1 / 39.9 / 37.4 / 9.6%; 2009-2018: 12.9 / 44.8 / 34.0 / 8.3%).
# Caveats, stated rather than hidden: this is the index, not SPY (SPY tracks it, but the
# index opens at a stale print, so its overnight gaps fall inside its daily ranges; no
# published SPY-specific count was available offline), and Adj Close equals Close for an
# index. A plain Brownian path gives about 9.5% inside and 9.5% outside bars; the
# simulator's old independent wicks gave about 15.5% of each.
SP500_BAR_TYPES = {"1": 0.130, "2U": 0.424, "2D": 0.357, "3": 0.089}
SP500_RANGE_TO_MOVE = 1.66


def _bar_type_shares(high: np.ndarray, low: np.ndarray) -> dict[str, float]:
    up, dn = high[1:] > high[:-1], low[1:] < low[:-1]
    return {
        "1": float((~up & ~dn).mean()),
        "2U": float((up & ~dn).mean()),
        "2D": float((dn & ~up).mean()),
        "3": float((up & dn).mean()),
    }


def test_daily_bar_types_and_range_match_the_sp500() -> None:
    """The simulated SPY's daily bars, as served, over 2005 → the anchor for three seeds
    (about 16,000 bars): inside and outside shares within 1.5 points of the index's, 2U and
    2D within 3 points (they also depend on the simulated regimes' drifts), and the range to
    close-to-close ratio within 0.10. Seed-to-seed spread of each share is about 0.5 points."""
    now = datetime(2025, 6, 3, 13, 30, tzinfo=UTC)
    highs, lows, ratios = [], [], []
    for seed in (7, 11, 3):
        bars = Market(seed, ANCHOR).daily_bars("SPY", date(2005, 1, 3), ANCHOR, now)
        shares = _bar_type_shares(bars.h, bars.low)
        highs.append(bars.h)
        lows.append(bars.low)
        move = np.abs(np.diff(np.log(bars.c))).mean()
        ratios.append(float(np.log(bars.h / bars.low)[1:].mean() / move))
        assert abs(shares["1"] - SP500_BAR_TYPES["1"]) < 0.025, (seed, shares)
        assert abs(shares["3"] - SP500_BAR_TYPES["3"]) < 0.025, (seed, shares)
    pooled = {
        k: float(np.mean([_bar_type_shares(h, lo)[k] for h, lo in zip(highs, lows, strict=True)]))
        for k in SP500_BAR_TYPES
    }
    assert abs(pooled["1"] - SP500_BAR_TYPES["1"]) < 0.015, pooled
    assert abs(pooled["3"] - SP500_BAR_TYPES["3"]) < 0.015, pooled
    assert abs(pooled["2U"] - SP500_BAR_TYPES["2U"]) < 0.03, pooled
    assert abs(pooled["2D"] - SP500_BAR_TYPES["2D"]) < 0.03, pooled
    assert abs(float(np.mean(ratios)) - SP500_RANGE_TO_MOVE) < 0.10, ratios


def test_volatility_clusters_and_gaps_exist() -> None:
    """Big-range days follow big-range days (the index's lag-1 autocorrelation of ln(H/L)
    is 0.65 over 1999-2018), and sessions open away from the previous close."""
    m = Market(7, ANCHOR)
    i = m.col("SPY")
    rng = np.log(m.d_high[:, i] / m.d_low[:, i])[: m.day_index(ANCHOR)]
    assert np.corrcoef(rng[1:], rng[:-1])[0, 1] > 0.45
    gaps = m.d_open[1:, i] != m.d_close[:-1, i]
    assert gaps.mean() > 0.9


def test_the_path_extremes_follow_the_brownian_bridge_law() -> None:
    """``_extremes`` inverts P(max > m) = exp(-2 (m-a)(m-b)/var): check against a fine
    discretised bridge (the discrete maximum sits a little under the continuous one)."""
    rng = np.random.default_rng(0)
    a, b, var = 0.0, 0.5, 1.0
    u = 1.0 - rng.random((2, 20000))
    hi, lo = _extremes(np.full(20000, a), np.full(20000, b), np.full(20000, var), u[0], u[1])
    steps = 1000
    walk = np.cumsum(rng.standard_normal((3000, steps)) * np.sqrt(var / steps), axis=1)
    clock = np.arange(1, steps + 1) / steps
    bridge = walk - clock * (walk[:, -1:] - b)
    for m in (0.75, 1.0, 1.5):
        exact = np.exp(-2 * (m - a) * (m - b) / var)
        assert abs((hi > m).mean() - exact) < 0.015
        assert abs((bridge.max(axis=1) > m).mean() - exact) < 0.045
    assert abs(np.median(lo) - np.median(bridge.min(axis=1))) < 0.03


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
    assert parse_timeframe("30T").amount == 30
    assert parse_timeframe("1Hour").amount == 60
    assert parse_timeframe("4Hour") == parse_timeframe("4H")
    assert parse_timeframe("4Hour").amount == 240
    assert parse_timeframe("1M").unit == "month"
    assert parse_timeframe("3Month").amount == 3
    for bad in ("2Day", "1Quarter", "60Min", "24Hour", "5Month", "0Min", ""):
        with pytest.raises(ValueError):
            parse_timeframe(bad)


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


def test_the_simulators_4hour_bars_are_the_ones_the_dashboard_builds(
    pinned: SimulatorHandle,
) -> None:
    """The dashboard builds 4Hour bars from 30Min ones (09:30-13:30, 13:30-16:00) and never
    asks for them; the simulator's own 4Hour bars, from the same minute path, agree."""
    import pandas as pd

    from dashboard.data_loaders.bars import bars_frame
    from dashboard.strat.timeframes import four_hour_bars

    served = bars_frame(_bars(pinned, "SPY", "4Hour", "2025-05-27", "2025-05-29"))
    built = four_hour_bars(bars_frame(_bars(pinned, "SPY", "30Min", "2025-05-27", "2025-05-29")))
    assert list(served.index.tz_convert(NEW_YORK).strftime("%H:%M")) == ["09:30", "13:30"] * 3
    pd.testing.assert_frame_equal(served, built, check_freq=False)


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
