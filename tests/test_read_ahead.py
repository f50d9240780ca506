"""A page's layout built while its scripts load: handed out once, fresh, same generation."""

from __future__ import annotations

import threading

from dashboard.read_ahead import LayoutReadAhead


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Builds:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, key: str) -> str:
        self.calls.append(key)
        self.release.wait(10)
        return f"{key}#{len(self.calls)}"


def _ahead(builds: _Builds, clock: _Clock, generation: list[int]) -> LayoutReadAhead:
    return LayoutReadAhead(builds, lambda: generation[0], 5.0, clock=clock)


def test_a_started_build_is_handed_to_one_layout_request() -> None:
    builds, clock, gen = _Builds(), _Clock(), [1]
    ahead = _ahead(builds, clock, gen)
    builds.release.clear()
    ahead.start("risk")
    ahead.start("risk")  # a second navigation while the first build waits: no new read
    builds.release.set()
    assert ahead.take("risk") == "risk#1"
    assert ahead.take("risk") is None  # handed out once
    assert ahead.take("options") is None  # never started
    assert builds.calls == ["risk"]


def test_a_build_older_than_max_age_or_from_another_generation_is_not_used() -> None:
    builds, clock, gen = _Builds(), _Clock(), [1]
    ahead = _ahead(builds, clock, gen)
    ahead.start("risk")
    clock.now += 5.0
    assert ahead.take("risk") is None  # as old as the refresh period: stale
    ahead.start("risk")
    gen[0] = 2  # an order moved the data
    assert ahead.take("risk") is None
    ahead.start("risk")
    clock.now += 4.9
    assert ahead.take("risk") == "risk#3"


def test_a_stale_waiting_build_is_replaced_by_a_new_navigation() -> None:
    builds, clock, gen = _Builds(), _Clock(), [1]
    ahead = _ahead(builds, clock, gen)
    ahead.start("options")
    clock.now += 6.0
    ahead.start("options")  # the first one is too old to hand out: read again
    assert ahead.take("options") == "options#2"


def test_a_failed_build_leaves_the_layout_request_to_build_its_own() -> None:
    def broken(key: str) -> str:
        raise RuntimeError("upstream down")

    ahead = LayoutReadAhead(broken, lambda: 1, 5.0, clock=_Clock())
    ahead.start("risk")
    assert ahead.take("risk") is None
