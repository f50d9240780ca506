"""ThetaData Terminal routes (filled in once the client's contract is known)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

__all__ = ["add_thetadata_routes"]


def add_thetadata_routes(app: web.Application, key: Any) -> None:
    """Register ThetaData v2/v3 routes on ``app`` (the simulator lives at ``app[key]``)."""
    return None
