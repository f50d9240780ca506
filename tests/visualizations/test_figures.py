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
