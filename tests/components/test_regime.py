"""Regime tab: pure view helpers on hand-made data, and the callbacks on a real fit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash import Dash

from dashboard.analytics.regime import regime_segments, regime_statistics
from dashboard.app import create_app
from dashboard.components import regime as tab
from dashboard.data_loaders.loop import run_async
from dashboard.regime_service import RegimeSnapshot, get_regime_service
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.conftest import settings_for

UTC_DAYS = pd.date_range("2015-01-02", periods=2000, freq="B", tz="UTC")


def _callback(app: Dash, output: str) -> Any:
    key = next(k for k in app.callback_map if output in k)
    fn = app.callback_map[key]["callback"]
    return getattr(fn, "__wrapped__", fn)


@pytest.fixture(scope="module")
def wired(
    sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dash, Services]]:
    settings = settings_for(sim, tmp_path_factory.mktemp("regime-tab"), watchlist=("SPY", "QQQ"))
    services = build_services(settings)
    app = create_app(services=services)
    yield app, services
    services.close()


# ---------------------------------------------------------------- pure helpers


def test_display_window_presets_and_explicit_dates() -> None:
    first, last = UTC_DAYS[0], UTC_DAYS[-1]
    lo, hi = tab.display_window(first, last, "1Y")
    assert hi == last and lo == last - pd.DateOffset(years=1)
    assert tab.display_window(first, last, "All") == (first, last)
    lo, hi = tab.display_window(first, last, "10Y")  # longer than the history: clipped
    assert lo == first
    lo, hi = tab.display_window(first, last, "1Y", "2016-03-01", "2016-03-31")
    assert lo == pd.Timestamp("2016-03-01", tz="UTC")
    assert hi.date().isoformat() == "2016-03-31" and hi > pd.Timestamp("2016-03-31", tz="UTC")


def test_heatmap_cells_bar_types_and_continuity() -> None:
    def frame(rows: list[tuple[float, float, float, float]], start: str, freq: str) -> Any:
        idx = pd.date_range(start, periods=len(rows), freq=freq, tz="UTC")
        return pd.DataFrame(rows, index=idx, columns=["open", "high", "low", "close"])

    bars = {
        # month: 2U bar opened at 100; week: inside bar opened at 106; day: 2D bar opened 104
        ("AAA", "1Month"): frame([(95, 105, 90, 100), (100, 110, 95, 103)], "2024-01-01", "MS"),
        ("AAA", "1Week"): frame([(101, 109, 96, 106), (106, 108, 97, 103)], "2024-02-05", "W-MON"),
        ("AAA", "1Day"): frame([(103, 107, 101, 104), (104, 106, 100, 103)], "2024-02-13", "D"),
    }
    cells = tab.heatmap_cells(bars, ["AAA"], ("1Month", "1Week", "1Day"), {"AAA": "TREND_BULL"})
    got = {c.timeframe: (c.regime, c.bar_type, c.tfc_label) for c in cells}
    # price 103 (newest close): above the month open 100, below the week open 106 and day 104
    assert got["1Month"] == ("TREND_BULL", "2U", "FTFC up")
    assert got["1Week"] == ("TREND_BULL", "1", "0/2")  # +1 and −1: no direction
    assert got["1Day"] == ("TREND_BULL", "2D", "2/3 down")
    missing = tab.heatmap_cells({}, ["BBB"], ("1Day",), {"BBB": None})
    assert missing[0].regime is None and missing[0].tfc_label is None


def test_render_shows_fitting_state_without_a_fit() -> None:
    out = tab.render_regime(RegimeSnapshot("fitting", None, True), "5Y", None, None, None)
    timeline, features = out[0], out[1]
    assert timeline.layout.meta["empty_kind"] == "loading"
    assert features.layout.meta["empty_kind"] == "loading"
    assert out[7] is False  # poll stays on while fitting
    assert "Fitting" in out[6]
    failed = tab.render_regime(RegimeSnapshot("error", None, False, "boom"), "5Y", None, None, None)
    assert failed[0].layout.meta["empty_kind"] == "error"


# ---------------------------------------------------------------- callbacks on a real fit


def test_timeline_shading_matches_regime_segments(wired: tuple[Dash, Services]) -> None:
    app, services = wired
    snap = get_regime_service(services).wait(timeout=180)
    fit = snap.fit
    assert fit is not None
    update = _callback(app, "regime-timeline.figure")
    out = update(1, 1, "3Y", None, None, None)
    timeline, features, rows = out[0], out[1], out[2]
    lo, hi = tab.display_window(fit.result.dates[0], fit.result.dates[-1], "3Y")
    labels = tab.window_labels(fit, lo, hi)
    segments = regime_segments(labels.index, labels.to_numpy())
    rects = [s for s in timeline.layout.shapes if s.type == "rect"]
    assert len(rects) == len(segments) > 1
    for rect, seg in zip(rects, segments, strict=True):
        assert pd.Timestamp(rect.x0) == seg.start
    strip = next(t for t in timeline.data if t.type == "heatmap")
    assert np.asarray(strip.z).size == len(labels)
    price = next(t for t in timeline.data if t.type == "scatter")
    assert np.allclose(np.asarray(price.y, dtype=float)[-5:], fit.close.loc[:hi].to_numpy()[-5:])

    # feature panels carry the model's own thresholds
    th = fit.result.thresholds
    levels = sorted(round(s.y0, 6) for s in features.layout.shapes)
    assert levels == sorted(
        round(v, 6) for v in (th["crash_dd_z"], th["crash_sortino_z"], th["bull_sortino_z"])
    )

    # statistics are regime_statistics over the shown window
    close = fit.close[(fit.close.index >= lo) & (fit.close.index <= hi)]
    want = regime_statistics(close, labels)
    assert [r["days"] for r in rows] == want["days"].tolist()
    assert sum(r["days"] for r in rows) == len(labels) - 1
    for row, (_, w) in zip(rows, want.iterrows(), strict=True):
        if w["days"] > 1:
            assert row["sharpe"] == pytest.approx(round(w["sharpe"], 2))
            assert row["ann_vol_pct"] == pytest.approx(round(w["ann_vol"] * 100, 1))
    assert out[7] is True  # poll switched off once the fit is in

    # same inputs again: nothing is re-sent
    again = update(2, 2, "3Y", None, None, out[8])
    assert again[0] is not None and again[0].__class__.__name__ == "NoUpdate"


def test_heatmap_uses_fit_and_continuity(wired: tuple[Dash, Services]) -> None:
    app, services = wired
    regime = get_regime_service(services)
    regime.symbol_regimes(["SPY", "QQQ"])
    regime.wait(timeout=180)
    fits = regime.symbol_regimes(["SPY", "QQQ"])
    assert not isinstance(fits["QQQ"], str) and fits["QQQ"] is not None
    fig, _status = _callback(app, "regime-heatmap.figure")(1, 1)
    heat = fig.data[0]
    assert list(heat.y) == ["SPY", "QQQ"] and list(heat.x) == list(tab.HEATMAP_TIMEFRAMES)
    names = np.asarray(heat.customdata)[:, :, 0]
    from dashboard.visualizations.theme import REGIME_NAMES

    spy = fits["SPY"]
    assert spy is not None and not isinstance(spy, str)
    assert set(names[0]) == {REGIME_NAMES[str(spy.result.current)]}
    bars = run_async(services.data.fetch_bars_many(["SPY"], tab.HEATMAP_TIMEFRAMES, 3))
    cells = tab.heatmap_cells(
        {k: v.value for k, v in bars.items()}, ["SPY"], tab.HEATMAP_TIMEFRAMES, {"SPY": "x"}
    )
    tfc = np.asarray(heat.customdata)[0, :, 1]
    assert list(tfc) == [c.tfc_label for c in cells]
