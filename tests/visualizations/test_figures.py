"""Shared figure helpers."""

from __future__ import annotations

from dashboard.visualizations import theme
from dashboard.visualizations.figures import empty_figure


def test_empty_kinds_look_different():
    figs = {k: empty_figure("x", kind=k) for k in ("empty", "error", "loading")}
    colours = {k: f.layout.annotations[0].font.color for k, f in figs.items()}
    assert len(set(colours.values())) == 3
    assert colours["error"] == theme.BEAR
    assert figs["error"].layout.annotations[0].text.startswith("⚠")
    assert figs["error"].layout.meta["empty_kind"] == "error"
    assert figs["empty"].layout.xaxis.visible is False
