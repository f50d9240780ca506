"""A tab's first state, served inside the layout that mounts it.

A tab's refresh callbacks used to fill an empty layout: the browser rendered the
skeletons, asked for every callback, waited a round trip, then rendered again. A tab
module may instead offer ``first_state(services, layout)``: what those callbacks would
answer first, given the inputs ``layout`` starts with, read and rendered on the server
while it builds the layout (the page's ``/_dash-layout`` request, or the callback that
mounts the tab on its first visit). The callbacks then skip the load
(``prevent_initial_call``) and take over on the tab's first interval tick or input change.

Only callbacks whose inputs the browser cannot change before the first call qualify:
an input with ``persistence`` (the Strategy selectors, the header's refresh settings) is
restored in the browser, so its callbacks still run on the load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dash import Output, no_update
from dash.dependencies import DashDependency
from dash.development.base_component import Component

log = logging.getLogger(__name__)

# (component id, property) -> the value the layout starts with.
FirstState = dict[tuple[str, str], Any]


def of_outputs(
    outputs: Mapping[str, Output] | Sequence[Output], values: Mapping[str, Any] | Sequence[Any]
) -> FirstState:
    """Pair a callback's outputs with what it answered (a dict of outputs with a dict of
    values, or a list with a list); ``no_update`` leaves the layout's own value."""
    if isinstance(outputs, Mapping) and isinstance(values, Mapping):
        pairs = [(outputs[k], values[k]) for k in outputs]
    elif not isinstance(outputs, Mapping) and not isinstance(values, Mapping):
        pairs = list(zip(outputs, values, strict=True))  # ValueError on a length mismatch
    else:
        raise TypeError("outputs and values must both be dicts or both be lists")
    return {(str(o.component_id), o.component_property): v for o, v in pairs if v is not no_update}


def _by_id(layout: Component) -> dict[str, Component]:
    return {
        c.id: c for c in (layout, *layout._traverse()) if isinstance(getattr(c, "id", None), str)
    }


def values_in(layout: Component, deps: Sequence[DashDependency]) -> list[Any]:
    """The values ``layout`` starts with for these inputs or states, as Dash would send
    them to the first call (an unset property is None)."""
    by_id = _by_id(layout)
    return [getattr(by_id[str(d.component_id)], d.component_property, None) for d in deps]


def combine(*parts: Callable[[], FirstState]) -> FirstState:
    """Several callbacks' first answers, read at once as the browser's requests were."""
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="first-state") as pool:
        futures = [pool.submit(part) for part in parts]
        state: FirstState = {}
        for future in futures:
            state |= future.result()
    return state


def apply(layout: Component, state: FirstState) -> Component:
    """Set each (id, property) of ``state`` on ``layout``'s component of that id. An id
    the layout lacks is a programming error, as a callback output without its component
    would be."""
    if not state:
        return layout
    by_id = _by_id(layout)
    for (id_, prop), value in state.items():
        setattr(by_id[id_], prop, value)
    return layout


def read(tab: str, first_state: Callable[[], FirstState] | None) -> FirstState:
    """``first_state()``, or nothing if it fails: the layout is then served with its
    loading states, which the tab's first interval tick replaces, rather than a page
    that cannot load at all."""
    if first_state is None:
        return {}
    try:
        return first_state()
    except Exception:
        log.exception("the %s tab's first state could not be read; it loads on its tick", tab)
        return {}
