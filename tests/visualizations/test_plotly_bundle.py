"""The partial plotly.js bundle in dashboard/assets holds every trace type the app draws,
and nothing it does not, for the plotly.js version the installed plotly package targets.

Two independent walks find the trace types: every figure builder in
``dashboard.visualizations`` is called (each builder found by its ``go.Figure`` return type
must have been called by the sample set, so a new builder cannot slip past), and every
module of ``dashboard`` is read for trace constructors (``go.Bar(...)``,
``dict(type="bar")``, ``{"type": "bar"}``, ``fig.add_bar(...)``), which covers branches
the samples do not reach and any figure a component or view builds itself. Browser tests
of the bundle are in tests/e2e/test_plotly_bundle.py.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import pkgutil
import sys
import typing
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

import dashboard
import dashboard.visualizations
from tests.visualizations._plotly_bundle import (
    REBUILD,
    ROOT,
    TRACES_JSON,
    bundle_header,
    bundled_traces,
    listed_traces,
)

# Trace classes of plotly.graph_objects (go.Bar → "bar"): the names a trace type can take.
TRACE_CLASSES = {
    name: name.lower()
    for name in dir(go)
    if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)
}
TRACE_TYPES = frozenset(TRACE_CLASSES.values())
GO_MODULES = ("plotly.graph_objects", "plotly.graph_objs")


def figure_builders() -> dict[str, Callable[..., go.Figure]]:
    """Public functions defined in any dashboard.visualizations module that return a Figure."""
    found: dict[str, Callable[..., go.Figure]] = {}
    pkg = dashboard.visualizations
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != module.__name__:
                continue
            if typing.get_type_hints(fn).get("return") is go.Figure:
                found[f"{module.__name__}.{name}"] = fn
    return found


def _record(
    builders: dict[str, Callable[..., go.Figure]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[go.Figure]]:
    """Wrap every builder wherever a dashboard or test module holds it by name, so calls
    through a module (``ec.create_x``), a ``from`` import or another builder all count."""
    made: dict[str, list[go.Figure]] = defaultdict(list)

    def wrap(key: str, fn: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
        @functools.wraps(fn)
        def recording(*args: Any, **kwargs: Any) -> go.Figure:
            fig = fn(*args, **kwargs)
            made[key].append(fig)
            return fig

        return recording

    wrappers = {id(fn): wrap(key, fn) for key, fn in builders.items()}
    for module in list(sys.modules.values()):
        if module is None or not module.__name__.startswith(("dashboard", "tests")):
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in wrappers and inspect.isfunction(value):
                monkeypatch.setattr(module, attr, wrappers[id(value)])
    return made


def _sample_figures() -> None:
    """Call every builder: the browser render test's samples, plus the builders and the
    branches it does not reach."""
    from dashboard.visualizations import enhanced_charts as ec
    from tests.visualizations.test_render_browser import _figures

    _figures()
    idx = pd.date_range("2025-01-02", periods=120, freq="B", tz="UTC")
    ratio = pd.Series(np.sin(np.arange(120) / 9.0), index=idx)
    ec.create_rolling_ratio_chart(
        {"Strategy": ratio, "Buy & hold": ratio / 2}, {"Strategy": ratio * 1.3}, window=63
    )
    ec.create_rolling_ratio_chart({"Strategy": ratio.iloc[:0]}, {}, window=63)  # empty state
    from dashboard.visualizations.figures import apply_zoom, skeleton_figure

    skeleton_figure()  # a chart slot's first frame
    apply_zoom(ec.create_rolling_ratio_chart({"Strategy": ratio}, {}, window=63), None)


def trace_types(fig: go.Figure) -> set[str]:
    return {trace.type for trace in fig.data}


def test_every_figure_builder_draws_only_bundled_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    builders = figure_builders()
    assert len(builders) >= 15, sorted(builders)  # the walk found the chart library
    made = _record(builders, monkeypatch)
    _sample_figures()

    not_called = sorted(set(builders) - set(made))
    assert not not_called, f"add a sample call to _sample_figures for {not_called}"
    # Each chart drew something in at least one sample (the empty and skeleton figures draw
    # nothing by design).
    drew_nothing = sorted(
        key
        for key, figs in made.items()
        if not key.endswith((".empty_figure", ".skeleton_figure"))
        and not any(fig.data for fig in figs)
    )
    assert not drew_nothing, f"only empty states were sampled for {drew_nothing}"

    by_type: dict[str, set[str]] = defaultdict(set)
    for key, figs in made.items():
        for fig in figs:
            for t in trace_types(fig):
                by_type[t].add(key.rsplit(".", 1)[1])
    missing = {t: sorted(b) for t, b in by_type.items() if t not in listed_traces()}
    drawn = f"trace types drawn but not in {TRACES_JSON.name}: {missing}"
    assert not missing, f"{drawn}; list them, {REBUILD}"
    # The samples reach every trace type on the list: each is drawn by a real chart.
    unused = sorted(listed_traces() - set(by_type))
    assert not unused, f"{TRACES_JSON.name} lists {unused}, which no sample figure draws"


def _scan_trace_types(path: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Trace types a source file constructs, each with where (``file:line``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = str(path.relative_to(root))
    found: dict[str, list[str]] = defaultdict(list)

    def hit(kind: str | None, node: ast.AST) -> None:
        if kind in TRACE_TYPES:
            found[kind].append(f"{where}:{getattr(node, 'lineno', 0)}")

    # Names the file binds to plotly's graph_objects module, and trace classes it imports.
    modules: set[str] = set()
    classes: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in GO_MODULES and a.asname:
                    modules.add(a.asname)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if node.module == "plotly" and f"plotly.{a.name}" in GO_MODULES:
                    modules.add(a.asname or a.name)
                elif node.module in GO_MODULES and a.name in TRACE_CLASSES:
                    classes[a.asname or a.name] = TRACE_CLASSES[a.name]

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in modules
                and name in TRACE_CLASSES
            ):  # go.Bar(...)
                hit(TRACE_CLASSES[name], node)
            elif isinstance(func, ast.Name) and name in classes:  # from ... import Bar; Bar(...)
                hit(classes[name], node)
            elif isinstance(func, ast.Attribute) and func.attr.startswith("add_"):
                hit(func.attr.removeprefix("add_"), node)  # fig.add_bar(...)
            elif name == "dict":  # dict(type="bar", ...)
                for kw in node.keywords:
                    if kw.arg == "type" and isinstance(kw.value, ast.Constant):
                        hit(kw.value.value, node)
        elif isinstance(node, ast.Dict):  # {"type": "bar", ...}
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                ):
                    hit(value.value, node)
    return found


def test_no_module_constructs_a_trace_type_missing_from_the_bundle() -> None:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(Path(dashboard.__file__).parent.rglob("*.py")):
        for kind, places in _scan_trace_types(path).items():
            found[kind] += places
    missing = {t: places for t, places in found.items() if t not in listed_traces()}
    built = f"trace types built but not in {TRACES_JSON.name}: {missing}"
    assert not missing, f"{built}; list them, {REBUILD}"
    unused = sorted(listed_traces() - set(found))
    assert not unused, f"{TRACES_JSON.name} lists {unused}, which no module draws: drop them"


def test_the_scan_sees_every_way_a_trace_is_written(tmp_path: Path) -> None:
    src = tmp_path / "figs.py"
    src.write_text(
        "import plotly.graph_objects as go\n"
        "from plotly.graph_objects import Box as B\n"
        "a = go.Scattergl(x=[1]) or B(y=[1]) or dbc.Table([])\n"
        "b = dict(type='ohlc', x=[1])\n"
        "c = {'type': 'pie', 'values': [1]}\n"
        "fig.add_violin(y=[1])\n"
        "d = dict(type='date')\n"  # an axis type, not a trace
        "e = {'type': 'line', 'x0': 0}\n"  # a shape
        "f = dcc.Input(type='number')\n"
    )
    found = _scan_trace_types(src, root=tmp_path)
    assert found == {
        "scattergl": ["figs.py:3"],
        "box": ["figs.py:3"],  # not dbc.Table: only plotly's classes count
        "ohlc": ["figs.py:4"],
        "pie": ["figs.py:5"],
        "violin": ["figs.py:6"],
    }


def test_the_committed_bundle_matches_its_inputs_and_the_plotly_package() -> None:
    target = get_plotlyjs_version()  # what the installed plotly Python package draws with
    header = bundle_header()
    assert header["plotly.js-version"] == target, f"the bundle is stale: {REBUILD}"
    assert bundled_traces() == listed_traces(), f"traces.json changed since the build: {REBUILD}"
    assert header["built-by"].startswith("make plotly-bundle")
    pkg = json.loads((TRACES_JSON.parent / "package.json").read_text())
    lock = json.loads((TRACES_JSON.parent / "package-lock.json").read_text())
    assert pkg["dependencies"]["plotly.js"] == target
    assert lock["packages"]["node_modules/plotly.js"]["version"] == target
