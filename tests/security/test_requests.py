"""Hostile callback bodies against the real app: every one answers 4xx, never a 500, and
nothing is sent or journaled; account-bearing responses are ``no-store``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.services import build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def app_and_services(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, Any, SimulatorHandle]]:
    from dashboard.app import create_app
    from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread

    handle = start_simulator_thread(SimulatorConfig(seed=7, speed=0.0, port=0))
    tmp = tmp_path_factory.mktemp("guards")
    settings = settings_for(handle, tmp).with_overrides(simulator_url=handle.url)
    services = build_services(settings, exit_monitor=False)
    app = create_app(services=services)
    try:
        yield app, services, handle
    finally:
        services.close()
        handle.stop()


def _key(app: Any, fragment: str) -> str:
    return next(k for k in app.callback_map if fragment in k)


def _body(app: Any, fragment: str, values: dict[str, Any]) -> dict[str, Any]:
    key = _key(app, fragment)
    spec = app.callback_map[key]

    def item(i: dict[str, Any]) -> dict[str, Any]:
        name = f"{i['id']}.{i['property']}"
        return {"id": i["id"], "property": i["property"], "value": values.get(name)}

    outs: Any
    if key.startswith(".."):
        outs = [
            dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
            for p in key[2:-2].split("...")
        ]
    else:
        outs = dict(zip(("id", "property"), key.rsplit(".", 1), strict=True))
    return {
        "output": key,
        "outputs": outs,
        "inputs": [item(i) for i in spec["inputs"]],
        "state": [item(s) for s in spec.get("state", [])],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"][:1]],
    }


def _post(client: Any, body: Any) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/_dash-update-component", data=raw, content_type="application/json")


def test_malformed_callback_bodies_get_4xx(app_and_services: Any) -> None:
    app, _services, _sim = app_and_services
    client = app.server.test_client()
    good = _body(
        app,
        "mounted-tabs.data",
        {"main-tabs.active_tab": "tab-risk", "header-autorefresh.value": True},
    )
    bad_bodies: list[Any] = [
        b"not json",
        b"[1, 2, 3]",
        b"{}",
        {"output": "no-such.children", "outputs": {"id": "x", "property": "y"}, "inputs": []},
        {**good, "inputs": "main-tabs.active_tab"},
        {**good, "inputs": [{"id": "main-tabs"}]},
        {**good, "inputs": []},
        {**good, "outputs": 7},
        {**good, "state": {"a": 1}},
        {**good, "changedPropIds": [1, 2]},
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON decoder recurses
        ('{"output": ' + "9" * 5000 + "}").encode(),  # beyond int's digit limit
        {**good, "inputs": [{"id": "main-tabs", "property": "active_tab", "value": 12345}]},
        {**good, "inputs": [{"id": "main-tabs", "property": "active_tab", "value": {"x": 1}}]},
    ]
    codes = [_post(client, b).status_code for b in bad_bodies]
    assert all(400 <= c < 500 for c in codes), codes
    # The well-formed body still works (the Risk tab is mounted).
    ok = _post(client, good)
    assert ok.status_code == 200 and "risk-root" in ok.get_data(as_text=True)


def test_a_callback_that_raises_answers_422_not_500(app_and_services: Any) -> None:
    """A value of the wrong type that passes the shape check reaches the callback and
    raises there: the client gets a 422 with a line, the log keeps the traceback."""
    app, _services, _sim = app_and_services
    client = app.server.test_client()
    body = _body(
        app,
        "options-payoff-chart.figure",
        {
            "options-symbol.value": ["SPY"],  # a list where text belongs
            "options-expiry.value": "2025-12-19",
            "options-strike.value": "600",
        },
    )
    r = _post(client, body)
    assert r.status_code in (200, 204, 422), r.status_code
    assert r.status_code != 500


def test_hostile_ticket_values_send_and_journal_nothing(app_and_services: Any) -> None:
    """Through the ticket callbacks: each value gets a message; the submit callback
    refuses; the broker sees no order and the journal no trade."""
    app, services, sim = app_and_services
    client = app.server.test_client()
    journal = services.journal
    orders_before = len(sim.sim.broker.state.orders)
    trades_before = len(journal.active_trades())
    base = {
        "options-symbol.value": "SPY",
        "options-direction.value": "long",
        "options-contracts.value": "1",
        "options-expiry.value": "2030-01-18",
        "options-strike.value": "600",
        "options-limit.value": "1.00",
        "options-entry.value": "600",
        "options-target.value": "610",
        "options-stop.value": "590",
    }
    hostile = [
        {"options-contracts.value": "1e2500000"},
        {"options-limit.value": "1e27"},
        {"options-limit.value": "9" * 5000},
        {"options-strike.value": "1e999999999"},
        {"options-expiry.value": 20301218},
        {"options-stop.value": "1e309"},
        {"options-stop.value": 1e308 * 10},  # a JSON number that parses to infinity
    ]
    for over in hostile:
        values = {**base, **over}
        check = _post(client, _body(app, "options-review.disabled", values))
        assert check.status_code == 200, (over, check.status_code)
        text = check.get_data(as_text=True)
        assert "issue(s) to fix" in text, (over, text[:400])
        submit = _post(client, _body(app, "options-toast.is_open", values))
        assert submit.status_code == 200, (over, submit.status_code)
        assert "Order not sent" in submit.get_data(as_text=True)
    assert len(journal.active_trades()) == trades_before
    assert len(sim.sim.broker.state.orders) == orders_before


def test_account_bearing_responses_are_no_store(app_and_services: Any) -> None:
    app, _services, _sim = app_and_services
    client = app.server.test_client()
    for path in ("/", "/_dash-layout", "/_dash-dependencies", "/healthz"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    body = _body(app, "main-tabs.active_tab", {"url.hash": "#risk"})
    assert _post(client, body).headers.get("Cache-Control") == "no-store"


def test_healthz_reports_budget_use(app_and_services: Any, tmp_path: Path) -> None:
    app, services, _sim = app_and_services
    from dashboard.data_loaders.loop import run_async

    services.data.invalidate()
    run_async(services.data.fetch_account())
    budget = app.server.test_client().get("/healthz").get_json()["budget"]
    assert budget["broker_limit_per_minute"] == 200
    assert budget["budget_per_minute"] == 160 and budget["window_bound"] < 200
    assert budget["sent_last_minute"] >= 1 and budget["store"] == "diskcache"


def test_a_huge_strike_in_the_payoff_preview_is_refused_not_computed(app_and_services: Any) -> None:
    """The payoff preview builds the contract from the raw strike on every edit; a strike
    of 1e500000 used to cost minutes of big-integer work in one worker (issue 23)."""
    app, _services, _sim = app_and_services
    body = _body(
        app,
        "options-payoff-chart.figure",
        {
            "options-symbol.value": "SPY",
            "options-direction.value": "long",
            "options-expiry.value": "2030-01-18",
            "options-strike.value": "1e500000",
        },
    )
    r = _post(app.server.test_client(), body)
    assert r.status_code == 200
    assert "Not a valid contract" in r.get_data(as_text=True)


def test_pattern_matching_callbacks_pass_the_guard(app_and_services: Any) -> None:
    """Inputs with dict ids (``{"type": ..., "index": ALL}``) arrive as lists of
    {id, property, value}; the guard lets them through to the callback."""
    app, _services, _sim = app_and_services
    key = _key(app, "options-manage-modal.is_open")
    body = {
        "output": key,
        "outputs": [
            dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
            for p in key[2:-2].split("...")
        ],
        "inputs": [
            [{"id": {"type": "options-manage", "index": 7}, "property": "n_clicks", "value": 1}],
            {"id": "options-manage-cancel", "property": "n_clicks", "value": None},
        ],
        "state": [],
        "changedPropIds": ['{"index":7,"type":"options-manage"}.n_clicks'],
    }
    r = _post(app.server.test_client(), body)
    assert r.status_code in (200, 204), (r.status_code, r.get_data(as_text=True)[:300])
