"""Shared figure helpers."""

from __future__ import annotations

from dashboard.visualizations import theme
from dashboard.visualizations.figures import empty_figure, skeleton_figure


def test_empty_kinds_look_different():
    figs = {k: empty_figure("x", kind=k) for k in ("empty", "error", "loading")}
    colours = {k: f.layout.annotations[0].font.color for k, f in figs.items()}
    assert len(set(colours.values())) == 3
    assert colours["error"] == theme.BEAR
    assert figs["error"].layout.annotations[0].text.startswith("⚠")
    assert figs["error"].layout.meta["empty_kind"] == "error"
    assert figs["empty"].layout.xaxis.visible is False


def test_a_skeleton_is_a_loading_figure_on_a_transparent_page() -> None:
    """The slot's CSS shimmer shows through the first frame; a real figure's page is the
    theme's opaque background and covers it."""
    fig = skeleton_figure()
    assert fig.layout.meta == {"empty_kind": "loading", "skeleton": True}
    assert fig.layout.paper_bgcolor == fig.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert fig.layout.annotations[0].text == "… loading…" and not fig.data
    real = empty_figure("No data")
    assert real.layout.paper_bgcolor is None  # the installed theme's opaque page
    assert theme.BACKGROUND.startswith("#")


def test_chart_slots_start_as_skeletons() -> None:
    from dashboard.components.ui import fixed_graph, graph

    for slot in (graph("g1"), fixed_graph("g2", 300)):
        assert slot.className == "chart-skeleton"
        assert slot.figure.layout.meta["skeleton"] is True


def test_apply_zoom_puts_back_the_traders_ranges_for_the_same_revision() -> None:
    import plotly.graph_objects as go

    from dashboard.visualizations.figures import apply_zoom

    def fig() -> go.Figure:
        return go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6]), layout={"uirevision": "eq-1M"})

    zoom = {"rev": "eq-1M", "ranges": {"xaxis": ["2026-11-29 16:57", "2026-11-30 16:57"]}}
    out = apply_zoom(fig(), zoom)
    assert list(out.layout.xaxis.range) == ["2026-11-29 16:57", "2026-11-30 16:57"]
    assert out.layout.xaxis.autorange is False and out.layout.yaxis.range is None
    # Another period or signal (another revision), nothing kept, or half-known: unzoomed.
    for other in (
        {**zoom, "rev": "eq-1Y"},
        None,
        {"rev": "eq-1M", "ranges": {"xaxis": [None, 3]}},
        {"rev": "eq-1M", "ranges": {"xaxis": "1,2"}},
        {"rev": "eq-1M", "ranges": {"legend": [1, 2]}},
        {"rev": "eq-1M", "ranges": None},
    ):
        assert apply_zoom(fig(), other).layout.xaxis.range is None, other
    # Every axis named is set (plotly makes an axis it lacks); the others still apply.
    both = {"rev": "eq-1M", "ranges": {"xaxis9": [0, 1], "yaxis": [4.5, 5.5]}}
    assert list(apply_zoom(fig(), both).layout.yaxis.range) == [4.5, 5.5]


def test_wall_ms_is_the_clock_a_date_string_would_show() -> None:
    """New York 09:30 on 2024-03-10 (the spring-forward day, EDT) is sent as the
    milliseconds of 2024-03-10T09:30 read as a plain date: 1710028800 s is that day's
    midnight, plus 9.5 hours."""
    import pandas as pd

    from dashboard.visualizations.figures import wall_ms

    ny = pd.DatetimeIndex([pd.Timestamp("2024-03-10 09:30", tz="America/New_York")])
    assert list(wall_ms(ny)) == [(1710028800 + 34200) * 1000.0]
    plain = pd.DatetimeIndex(["2024-01-03"])
    assert list(wall_ms(plain)) == [1704240000000.0]
