"""Shared refresh responses: one render per callback, inputs and TTL for every viewer;
never for clicks or form edits, never across a data invalidation, never before login."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from dash import Dash, Input, Output, State, dcc, html

from dashboard.data_loaders.budget import MemoryBudgetStore
from dashboard.refresh_memo import (
    HEADER,
    RefreshMemo,
    install_refresh_memo,
    refresh_key,
    render_slots_for,
)
from dashboard.security.auth import (
    configure_session_cookies,
    hash_password,
    install_login,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class World:
    """A tiny app: one interval-driven callback that counts its renders."""

    def __init__(
        self, ttl: float = 2.0, login: bool = False, render_slots: int | None = None
    ) -> None:
        self.renders = 0
        self.generation = 0
        self.clock = Clock()
        app = Dash(__name__)
        app.layout = html.Div(
            [
                dcc.Interval(id="demo-interval", interval=5000),
                dcc.Input(id="symbol", value="SPY"),
                html.Div(id="out"),
            ]
        )

        @app.callback(
            Output("out", "children"),
            Input("demo-interval", "n_intervals"),
            Input("symbol", "value"),
            State("symbol", "value"),
        )
        def render(_n: int | None, symbol: str, _state: str) -> str:
            if symbol == "BOOM":
                raise RuntimeError("a render that fails")
            self.renders += 1
            return f"{symbol} render {self.renders}"

        if login:
            configure_session_cookies(app.server, secret_key=secrets.token_hex(32), secure=False)
            install_login(
                app.server,
                username="trader",
                password_hash=hash_password("pw-for-tests"),
                mode_label="PAPER",
                failures=MemoryBudgetStore(),
            )
        self.memo = RefreshMemo(
            ttl, lambda: self.generation, clock=self.clock, render_slots=render_slots
        )
        install_refresh_memo(app.server, self.memo)
        self.client = app.server.test_client()

    def post(self, tick: int | None, symbol: str = "SPY", trigger: str = "demo-interval") -> Any:
        return self.client.post("/_dash-update-component", json=_body(tick, symbol, trigger))


def _text(response: Any) -> str:
    return response.get_json()["response"]["out"]["children"]


def test_viewers_ticks_share_one_render_within_the_ttl() -> None:
    w = World()
    first = w.post(3)
    second = w.post(41)  # another viewer, another tick count, same inputs
    assert (w.renders, _text(first), _text(second)) == (1, "SPY render 1", "SPY render 1")
    assert (first.headers[HEADER], second.headers[HEADER]) == ("miss", "hit")
    assert (w.memo.hits, w.memo.misses) == (1, 1)


def test_other_inputs_expiry_and_invalidation_render_again() -> None:
    w = World()
    w.post(1)
    assert _text(w.post(2, symbol="QQQ")) == "QQQ render 2"  # different inputs
    w.clock.t += 2.0  # the TTL has passed
    assert _text(w.post(3)) == "SPY render 3"
    w.generation += 1  # an order or a manual refresh invalidated the data
    assert _text(w.post(4)) == "SPY render 4"
    assert _text(w.post(5)) == "SPY render 4"


def test_user_actions_are_never_shared() -> None:
    w = World()
    w.post(1)
    edited = w.post(1, trigger="symbol")  # the user typed: the callback always runs
    assert _text(edited) == "SPY render 2" and HEADER not in edited.headers
    assert refresh_key(b"not json", 0) is None
    mixed = {"changedPropIds": ["demo-interval.n_intervals", "symbol.value"], "inputs": []}
    assert refresh_key(json.dumps(mixed).encode(), 0) is None


def test_zero_ttl_disables_sharing() -> None:
    w = World(ttl=0.0)
    w.post(1)
    w.post(2)
    assert w.renders == 2


def test_a_shared_render_is_never_served_before_login() -> None:
    w = World(login=True)
    w.memo.put(
        refresh_key(
            json.dumps(
                {
                    "output": "out.children",
                    "inputs": [
                        {"id": "demo-interval", "property": "n_intervals", "value": None},
                        {"id": "symbol", "property": "value", "value": "SPY"},
                    ],
                    "state": [{"id": "symbol", "property": "value", "value": "SPY"}],
                    "changedPropIds": ["demo-interval.n_intervals"],
                }
            ).encode(),
            0,
        )
        or "",
        b'{"response": {"out": {"children": "private"}}}',
        "application/json",
    )
    refused = w.post(7)
    assert refused.status_code == 401
    assert b"private" not in refused.get_data()


@pytest.mark.parametrize("prop_id", ["demo-interval.n_intervals", "options-interval.n_intervals"])
def test_tick_keys_ignore_the_tick_count(prop_id: str) -> None:
    target = prop_id.rpartition(".")[0]

    def body(n: int) -> bytes:
        inputs = [{"id": target, "property": "n_intervals", "value": n}]
        return json.dumps({"output": "x.y", "inputs": inputs, "changedPropIds": [prop_id]}).encode()

    assert refresh_key(body(1), 0) == refresh_key(body(99), 0) != refresh_key(body(1), 1)


def test_a_tick_during_a_re_render_gets_the_previous_render_if_recent() -> None:
    from dashboard.refresh_memo import STALE_MAX_SECONDS

    w = World()
    w.post(1)
    (key,) = list(w.memo._entries)
    w.clock.t += 2.5  # expired: the next tick re-renders
    lock = w.memo.lock_for(key)
    lock.acquire()  # another viewer's request is rendering it right now
    try:
        during = w.post(2)
    finally:
        lock.release()
    assert (during.headers[HEADER], _text(during), w.renders) == ("stale", "SPY render 1", 1)
    after = w.post(3)
    assert (after.headers[HEADER], _text(after)) == ("miss", "SPY render 2")
    w.clock.t += STALE_MAX_SECONDS + 1
    assert w.memo.get(key, max_age=STALE_MAX_SECONDS) is None  # too old to stand in


def test_outputs_paced_by_bars_keep_their_render_for_the_bars_ttl() -> None:
    memo = RefreshMemo(2.0, lambda: 0, slow_outputs={"options-flow-chart": 10.0})
    assert memo.ttl_for("..options-flow-chart.figure...options-flow-grid.rowData..") == 10.0
    assert memo.ttl_for("options-flow-chart.figure") == 10.0
    assert memo.ttl_for("..options-active-trades.children...options-pnl.children..") == 2.0
    clock = Clock()
    memo.clock = clock
    memo.put("flow", b"{}", "application/json", memo.ttl_for("options-flow-chart.figure"))
    memo.put("trades", b"{}", "application/json")
    clock.t += 5.0
    assert memo.get("flow") is not None and memo.get("trades") is None
    clock.t += 5.0
    assert memo.get("flow") is None


def test_a_tick_never_waits_for_a_render_in_progress() -> None:
    """After an order (a new generation) there is no previous render: a tick that finds
    the render in progress answers 204 at once instead of holding a worker thread."""
    w = World()
    w.post(1)
    w.generation += 1  # an order: every key is new, so no previous render to stand in
    lock_key = refresh_key(_tick_body(3), w.generation)
    assert lock_key is not None
    lock = w.memo.lock_for(lock_key)
    lock.acquire()  # another viewer's request is rendering it
    try:
        during = w.post(3)
    finally:
        lock.release()
    assert (during.status_code, during.headers[HEADER], w.renders) == (204, "yield", 1)
    assert w.memo.yielded == 1
    after = w.post(4)
    assert (after.headers[HEADER], _text(after)) == ("miss", "SPY render 2")


def test_ticks_leave_threads_for_people_when_every_render_slot_is_taken() -> None:
    w = World(render_slots=1)
    assert w.memo.take_slot()  # a tick of another callback is rendering
    try:
        tick = w.post(1)
        click = w.post(None, symbol="QQQ", trigger="symbol")
    finally:
        w.memo.free_slot()
    assert (tick.status_code, tick.headers[HEADER]) == (204, "yield")
    assert click.status_code == 200 and _text(click) == "QQQ render 1"  # people never wait
    later = w.post(2)
    assert (later.headers[HEADER], _text(later)) == ("miss", "SPY render 2")


def test_a_slot_is_given_back_after_a_failed_render() -> None:
    w = World(render_slots=1)
    w.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    failed = w.post(1, symbol="BOOM")
    assert failed.status_code == 500
    ok = w.post(2)
    assert ok.status_code == 200 and _text(ok) == "SPY render 1"


@pytest.mark.parametrize(("threads", "slots"), [(8, 6), (4, 2), (3, 1), (2, 1), (1, 1)])
def test_render_slots_keep_two_threads_for_people(threads: int, slots: int) -> None:
    assert render_slots_for(threads) == slots


def test_render_slots_must_be_positive() -> None:
    with pytest.raises(ValueError, match="render_slots"):
        RefreshMemo(2.0, lambda: 0, render_slots=0)


def _body(tick: int | None, symbol: str = "SPY", trigger: str = "demo-interval") -> dict[str, Any]:
    """The request body the browser sends when ``trigger`` changed."""
    prop = "n_intervals" if trigger == "demo-interval" else "value"
    return {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [
            {"id": "demo-interval", "property": "n_intervals", "value": tick},
            {"id": "symbol", "property": "value", "value": symbol},
        ],
        "state": [{"id": "symbol", "property": "value", "value": symbol}],
        "changedPropIds": [f"{trigger}.{prop}"],
    }


def _tick_body(tick: int, symbol: str = "SPY") -> bytes:
    return json.dumps(_body(tick, symbol)).encode()
