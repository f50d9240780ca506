"""Regime Detection callbacks: the fitting state, and the tab on a real fit."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from dash import Dash, no_update

from dashboard.analytics.regime import regime_segments, regime_statistics
from dashboard.analytics.regime_fits import RegimeSnapshot
from dashboard.app import create_app
from dashboard.components.regime import callbacks as C
from dashboard.data_loaders.loop import run_async
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.views import regime as V
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def wired(
    sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dash, Services]]:
    settings = settings_for(sim, tmp_path_factory.mktemp("regime-tab"), watchlist=("SPY", "QQQ"))
    services = build_services(settings)
    app = create_app(services=services)
    yield app, services
    services.close()


def test_render_shows_fitting_state_without_a_fit() -> None:
    out = C.render_regime(RegimeSnapshot("fitting", None, True), "5Y", None, None, None)
    assert set(out) == set(C.REGIME_OUTPUTS)
    assert out["timeline"].layout.meta["empty_kind"] == "loading"
    assert out["features"].layout.meta["empty_kind"] == "loading"
    assert out["poll_off"] is False  # poll stays on while fitting
    assert "Fitting" in out["summary"]
    failed = C.render_regime(RegimeSnapshot("error", None, False, "boom"), "5Y", None, None, None)
    assert failed["timeline"].layout.meta["empty_kind"] == "error"


def test_timeline_shading_matches_regime_segments(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    snap = services.regime.wait(timeout=180)
    fit = snap.fit
    assert fit is not None
    out = C.render_regime(services.regime.snapshot(), "3Y", None, None, None)
    timeline, features, rows = out["timeline"], out["features"], out["stats"]
    lo, hi = V.display_window(fit.result.dates[0], fit.result.dates[-1], "3Y")
    labels = V.window_labels(fit, lo, hi)
    segments = regime_segments(labels.index, labels.to_numpy())
    rects = [s for s in timeline.layout.shapes if s.type == "rect"]
    assert len(rects) == len(segments) > 1
    for rect, seg in zip(rects, segments, strict=True):
        assert pd.Timestamp(rect.x0).date() == seg.start.tz_convert("America/New_York").date()
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
    assert out["poll_off"] is True  # poll switched off once the fit is in

    # same inputs again: nothing is re-sent
    again = C.render_regime(services.regime.snapshot(), "3Y", None, None, out["rendered"])
    assert again["timeline"] is no_update and again["stats"] is no_update


def test_heatmap_uses_fit_and_continuity(wired: tuple[Dash, Services]) -> None:
    _app, services = wired
    regime = services.regime
    regime.symbol_regimes(["SPY", "QQQ"])
    regime.wait(timeout=180)
    fits = regime.symbol_regimes(["SPY", "QQQ"])
    assert not isinstance(fits["QQQ"], str) and fits["QQQ"] is not None
    fig, _status = C.refresh_heatmap(services)
    heat = fig.data[0]
    assert list(heat.y) == ["SPY", "QQQ"] and list(heat.x) == list(V.HEATMAP_TIMEFRAMES)
    names = np.asarray(heat.customdata)[:, :, 0]
    spy = fits["SPY"]
    assert spy is not None and not isinstance(spy, str) and spy.result.current is not None
    assert set(names[0]) == {spy.result.current.label}
    bars = run_async(services.data.fetch_bars_many(["SPY"], V.HEATMAP_TIMEFRAMES, 3))
    cells = V.heatmap_cells(
        {k: v.value for k, v in bars.items()}, ["SPY"], V.HEATMAP_TIMEFRAMES, {"SPY": "x"}
    )
    tfc = np.asarray(heat.customdata)[0, :, 1]
    assert list(tfc) == [c.tfc_label for c in cells]
