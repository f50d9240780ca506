"""Request hygiene for the Dash server: malformed callback bodies get a 4xx, never a 500.

Why: ``/_dash-update-component`` takes any JSON a client sends. Dash trusts its shape, so
a missing key, a wrong type, an unknown callback or a number where a URL hash belongs
used to end in a traceback and a 500 (issue 23). Here:

- the body is checked before Dash sees it: size, JSON (nesting and huge integers
  included), the shape dash-renderer sends, a callback this app registered, and string
  values for the address bar's properties (``dcc.Location``);
- any exception a callback still raises is logged with its traceback and answered with
  422 and a one-line message, so a worker never returns a 500 for a request's values;
- every response that may carry account data is ``Cache-Control: no-store``; only the
  static bundles stay cacheable.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import Dash, dcc
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import InternalServerError

__all__ = ["MAX_BODY_BYTES", "check_update_body", "install_request_guards"]

log = logging.getLogger(__name__)

UPDATE_PATH = "/_dash-update-component"
MAX_BODY_BYTES = 4 * 2**20  # a callback body (inputs and states) is a few KB in this app
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
LOCATION_PROPS = frozenset({"hash", "pathname", "search", "href"})


def _is_prop(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("property"), str)
        and isinstance(item.get("id"), (str, dict))
    )


def _props(items: Any) -> list[dict[str, Any]] | None:
    """A list of {id, property, value?} as dash-renderer sends, flattening the lists that
    pattern-matching (ALL) inputs carry; None when the shape is wrong."""
    if not isinstance(items, list):
        return None
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, list):
            if not all(_is_prop(x) for x in item):
                return None
            out.extend(item)
        elif _is_prop(item):
            out.append(item)
        else:
            return None
    return out


def check_update_body(payload: Any, callbacks: Any, location_ids: frozenset[str]) -> str | None:
    """Why a parsed ``/_dash-update-component`` body cannot be a real one, or None."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    output = payload.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "unknown callback output"
    outputs = payload.get("outputs")
    if not (_is_prop(outputs) or _props(outputs) is not None):
        return "'outputs' must be one or more {id, property}"
    inputs = _props(payload.get("inputs"))
    if inputs is None:
        return "'inputs' must be a list of {id, property, value}"
    state = _props(payload.get("state", []))
    if state is None:
        return "'state' must be a list of {id, property, value}"
    spec = callbacks[output]
    if len(payload["inputs"]) != len(spec.get("inputs", [])):
        return "wrong number of inputs for this callback"
    if len(payload.get("state", [])) != len(spec.get("state", [])):
        return "wrong number of states for this callback"
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    for item in (*inputs, *state):
        if (
            isinstance(item["id"], str)  # pattern-matching ids are dicts
            and item["id"] in location_ids
            and item["property"] in LOCATION_PROPS
            and not isinstance(item.get("value"), (str, type(None)))
        ):
            return f"{item['id']}.{item['property']} must be text"
    return None


def _location_ids(app: Dash) -> frozenset[str]:
    ids: set[str] = set()
    for layout in (getattr(app, "validation_layout", None), app.layout):
        if layout is None or callable(layout):
            continue
        for node in layout._traverse():
            node_id = getattr(node, "id", None)
            if isinstance(node, dcc.Location) and isinstance(node_id, str):
                ids.add(node_id)
    return frozenset(ids)


def _refuse(status: int, message: str) -> Response:
    resp = jsonify(error=message)
    resp.status_code = status
    return resp


def install_request_guards(app: Dash) -> None:
    """Check callback bodies, turn callback exceptions into 422s, and mark responses
    ``no-store``. Install after the login, so strangers are refused before any parsing."""
    server: Flask = app.server
    server.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    location_ids: frozenset[str] | None = None

    @server.before_request
    def check_update() -> Response | None:
        nonlocal location_ids
        if request.path != UPDATE_PATH or request.method != "POST":
            return None
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _refuse(413, "callback body too large")
        try:
            payload = request.get_json(silent=True, cache=True)
        except RecursionError:  # nesting deeper than the JSON decoder's recursion
            payload = None
        if payload is None:
            return _refuse(400, "callback body must be JSON")
        if location_ids is None:
            location_ids = _location_ids(app)
        problem = check_update_body(payload, app.callback_map, location_ids)
        if problem is not None:
            log.info("refused a callback body: %s", problem)
            return _refuse(400, problem)
        return None

    @server.errorhandler(InternalServerError)
    def callback_failed(exc: InternalServerError) -> Any:
        # Flask has already logged the original exception with its traceback.
        if request.path == UPDATE_PATH:
            return _refuse(422, "this update could not be applied to these values")
        return exc

    @server.after_request
    def no_store(resp: Response) -> Response:
        if not request.path.startswith(STATIC_PREFIXES):
            resp.headers["Cache-Control"] = "no-store"
        return resp
