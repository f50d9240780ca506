"""Send a callback's update request the way dash-renderer does, through the app's Flask
server (and so through the request guard and Dash's callback context), for the callbacks
that read ``ctx.triggered``: a test then clicks a button without a browser."""

from __future__ import annotations

from typing import Any

UNCHANGED = object()  # the callback answered no_update for the output


def _parts(key: str) -> list[str]:
    return key[2:-2].split("...") if key.startswith("..") else [key]


def post_update(
    app: Any, output: str, inputs: list[Any], changed: str, state: Any = ()
) -> dict[str, Any]:
    """Run the callback one of whose outputs is ``output`` ("id.prop"; where several
    write it, the one with fewest outputs), with ``inputs`` and
    ``state`` as the renderer lists them (``{"id", "property", "value"}``; a list of them
    for a pattern-matching ``ALL``) and ``changed`` as the prop that fired. Returns each
    output's answer by "id.prop" (``UNCHANGED`` where the callback sent no_update)."""
    keys = [k for k in app.callback_map if output in (p.split("@")[0] for p in _parts(k))]
    key = min(keys, key=lambda k: len(_parts(k)))  # its own callback before a shared one
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in _parts(key)]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": list(state),
        "changedPropIds": [changed],
    }
    r = app.server.test_client().post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204), r.get_data(as_text=True)
    answer = {} if r.status_code == 204 else r.get_json()["response"]
    out: dict[str, Any] = {}
    for o in outputs:
        prop = o["property"].split("@")[0]
        out[f"{o['id']}.{prop}"] = answer.get(o["id"], {}).get(prop, UNCHANGED)
    return out
