"""A tab's first state: callbacks' first answers set on the layout that mounts them."""

from __future__ import annotations

import logging
import threading

import pytest
from dash import Input, Output, State, dcc, html, no_update

from dashboard.components import first_state


def _layout() -> html.Div:
    return html.Div(
        [
            dcc.Dropdown(id="period", value="1M", options=["1D", "1M"]),
            dcc.Input(id="unset"),
            html.Div("loading…", id="status"),
            dcc.Graph(id="chart"),
        ],
        id="root",
    )


def test_outputs_pair_with_answers_and_no_update_keeps_the_layout_value() -> None:
    listed = first_state.of_outputs(
        [Output("status", "children"), Output("chart", "figure")], ["ok", no_update]
    )
    assert listed == {("status", "children"): "ok"}
    named = first_state.of_outputs(
        {"s": Output("status", "children"), "c": Output("chart", "figure")},
        {"c": {"data": []}, "s": no_update},
    )
    assert named == {("chart", "figure"): {"data": []}}
    with pytest.raises(ValueError):
        first_state.of_outputs([Output("status", "children")], ["a", "b"])


def test_inputs_read_what_the_layout_starts_with_and_unset_is_none() -> None:
    layout = _layout()
    deps = [Input("period", "value"), State("unset", "value"), State("root", "id")]
    assert first_state.values_in(layout, deps) == ["1M", None, "root"]


def test_apply_sets_each_property_and_an_unknown_id_is_an_error() -> None:
    layout = _layout()
    out = first_state.apply(
        layout, {("status", "children"): "as of 10:00", ("chart", "figure"): {}}
    )
    assert out is layout
    status = next(c for c in layout._traverse() if getattr(c, "id", None) == "status")
    assert status.children == "as of 10:00"
    assert first_state.apply(layout, {}) is layout
    with pytest.raises(KeyError):
        first_state.apply(layout, {("nowhere", "children"): 1})


def test_combine_reads_the_parts_at_once_and_merges_them() -> None:
    both_started = threading.Barrier(2, timeout=10)  # each part waits for the other

    def part(key: str) -> first_state.FirstState:
        both_started.wait()
        return {(key, "children"): key}

    merged = first_state.combine(lambda: part("a"), lambda: part("b"))
    assert merged == {("a", "children"): "a", ("b", "children"): "b"}


def test_a_failing_read_serves_the_loading_layout_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> first_state.FirstState:
        raise RuntimeError("upstream down")

    with caplog.at_level(logging.ERROR):
        assert first_state.read("risk", broken) == {}
    assert "risk tab's first state" in caplog.text and "upstream down" in caplog.text
    assert first_state.read("risk", None) == {}
    assert first_state.read("risk", lambda: {("x", "y"): 1}) == {("x", "y"): 1}
