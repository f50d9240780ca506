"""No dead wiring: every id a callback reads or writes exists in the layout.

A callback whose Output id is missing never shows anything, and one whose Input id is
missing never fires; Dash only reports either in the browser. This walks the real app's
layout and ``callback_map`` (including pattern-matching ids, matched on their ``type``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.development.base_component import Component

from dashboard.app import create_app
from dashboard.services import build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def app(sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = settings_for(sim, tmp_path_factory.mktemp("wiring")).with_overrides(
        simulator_url=sim.url
    )
    services = build_services(settings, exit_monitor=False)
    try:
        yield create_app(services=services)
    finally:
        services.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread

    handle = start_simulator_thread(SimulatorConfig(seed=7, speed=0, port=0))
    yield handle
    handle.stop()


def _walk(node: Any) -> Iterator[Component]:
    if isinstance(node, Component):
        yield node
        for prop in node._prop_names:
            value = getattr(node, prop, None)
            if isinstance(value, Component | list | tuple):
                yield from _walk(value)
    elif isinstance(node, list | tuple):
        for child in node:
            yield from _walk(child)


def _layout_ids(app: Any) -> tuple[set[str], set[str]]:
    """Plain ids, and the ``type`` of dict ids (pattern-matching components)."""
    plain: set[str] = set()
    types: set[str] = set()
    for comp in _walk(app.validation_layout):  # every tab mounted
        cid = getattr(comp, "id", None)
        if isinstance(cid, dict):
            types.add(str(cid.get("type")))
        elif cid is not None:
            plain.add(str(cid))
    return plain, types


def _dependencies(app: Any) -> list[tuple[str, str, str | dict[str, Any]]]:
    """(callback, role, id) for every Output, Input and State of every callback."""
    out: list[tuple[str, str, str | dict[str, Any]]] = []
    for key, cb in app.callback_map.items():
        for dep in cb.get("output_ids") or _outputs_of(key):
            out.append((key, "Output", dep))
        for role in ("inputs", "state"):
            for dep in cb.get(role, []):
                out.append((key, role, _parse_id(dep["id"])))
    return out


def _outputs_of(key: str) -> list[str | dict[str, Any]]:
    """Output ids from a callback_map key: 'a.prop', '..a.p1...b.p2..' or JSON ids."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    ids = []
    for part in parts:
        comp_id = part.rsplit(".", 1)[0]
        # Duplicate outputs carry an '@<hash>' suffix on the property.
        ids.append(_parse_id(comp_id))
    return ids


def _parse_id(comp_id: str) -> str | dict[str, Any]:
    if comp_id.startswith("{"):
        return json.loads(comp_id)
    return comp_id


# Pattern-matching components that callbacks render later (one per open trade), so they
# are absent from the initial layout: type → (the container they are rendered into, the
# module that builds them).
DYNAMIC_TYPES = {
    "options-manage": ("options-active-trades", "dashboard/components/options/trades.py"),
    "options-watchlist-remove": (
        "options-watchlist-chips",
        "dashboard/components/options/watchlist.py",
    ),
    "options-disarm": ("options-armed-entries", "dashboard/components/options/trades.py"),
    "alerts-ack": ("alerts-history", "dashboard/components/alerts.py"),
    "alerts-unwatch": ("alerts-watches", "dashboard/components/alerts.py"),
}
ROOT = Path(__file__).resolve().parents[1]


def test_dynamic_pattern_types_are_rendered_into_the_layout(app: Any) -> None:
    plain, _types = _layout_ids(app)
    outputs = {str(d) for _k, role, d in _dependencies(app) if role == "Output"}
    for kind, (container, module) in DYNAMIC_TYPES.items():
        assert container in plain and container in outputs, container
        source = (ROOT / module).read_text()
        assert f'id={{"type": "{kind}"' in source, f"{module} no longer builds {kind}"


def test_every_callback_id_exists_in_the_layout(app: Any) -> None:
    plain, types = _layout_ids(app)
    types |= set(DYNAMIC_TYPES)
    deps = _dependencies(app)
    assert len(app.callback_map) > 20 and len(deps) > 80  # the whole app was registered
    missing = []
    for key, role, dep in deps:
        if isinstance(dep, dict):
            if str(dep.get("type")) not in types:
                missing.append(f"{role} type={dep.get('type')} in {key[:80]}")
        elif dep not in plain:
            missing.append(f"{role} {dep} in {key[:80]}")
    assert not missing, "dead wiring:\n" + "\n".join(missing)


def test_every_layout_input_with_an_id_is_unique(app: Any) -> None:
    seen: dict[str, int] = {}
    for comp in _walk(app.validation_layout):
        cid = getattr(comp, "id", None)
        if isinstance(cid, str):
            seen[cid] = seen.get(cid, 0) + 1
    dupes = sorted(k for k, n in seen.items() if n > 1)
    assert not dupes, f"duplicate component ids: {dupes}"


def test_docs_screenshots_exist() -> None:
    # The README links the screenshots folder; each tab has an image there.
    shots = ROOT / "docs" / "screenshots"
    for tab in ("regime", "strategy", "portfolio", "risk", "options"):
        assert (shots / f"{tab}.png").is_file(), f"docs/screenshots/{tab}.png is missing"
