"""Public response bodies (tests/contract/fixtures/), each wrapped with its source.

Every ``*.json`` there is ``{source, note, endpoint, body[, body_raw_text, ...]}``: the
body as Alpaca, alpaca-py's tests, Alpaca's docs or ThetaData's OpenAPI spec published
or recorded it, and where it came from. ``INDEX.md`` lists them. Nothing in ``body`` was
written by this project; derived variants are built in the tests, next to their reason.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent / "fixtures"

# The hosts the clients talk to by default (settings.py; ThetaData's documented ports).
PAPER = "https://paper-api.alpaca.markets"
DATA = "https://data.alpaca.markets"
THETA_V3 = "http://127.0.0.1:25503"
THETA_V2 = "http://127.0.0.1:25510"


def wrapper(name: str) -> dict[str, Any]:
    """The whole wrapper of ``name`` (must name its public source)."""
    data = json.loads((FIXTURES / name).read_text())
    assert data.get("source"), f"{name} names no public source"
    return data


def body(name: str) -> Any:
    """A deep copy of the published body (tests may derive variants from it)."""
    return copy.deepcopy(wrapper(name)["body"])


def as_list(name: str) -> list[Any]:
    """Docs examples for list endpoints show one object; the endpoint returns a list."""
    b = body(name)
    return b if isinstance(b, list) else [b]


def reply(name: str, status: int = 200) -> httpx.Response:
    """The published bytes when the wrapper kept them (``body_raw_text``), else the body."""
    w = wrapper(name)
    raw = w.get("body_raw_text")
    if raw is not None:
        return httpx.Response(
            status, content=raw.encode(), headers={"Content-Type": "application/json"}
        )
    return httpx.Response(status, json=w["body"])
