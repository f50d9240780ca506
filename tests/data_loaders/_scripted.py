"""A scripted HTTP server (aiohttp TestServer on the data loop) for backend-agnostic tests."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

from dashboard.data_loaders.loop import run_async


@dataclass
class Step:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0  # seconds between body bytes (a slow-drip body)


class Scripted:
    """Each path answers its queued steps in order, then repeats the last one."""

    def __init__(self) -> None:
        self.steps: dict[str, list[Step]] = defaultdict(list)
        self.calls: Counter[str] = Counter()
        self.bodies: list[bytes] = []
        self.server: TestServer | None = None

    def on(self, path: str, *steps: Step) -> None:
        self.steps[path].extend(steps)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        key = f"{request.method} {request.path}"
        self.calls[key] += 1
        self.bodies.append(await request.read())
        queue = self.steps.get(key) or [Step(404, {"message": "no script"})]
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if step.delay:
            await asyncio.sleep(step.delay)
        body = step.raw if step.raw is not None else orjson.dumps(step.body)
        if step.trickle:
            out = web.StreamResponse(status=step.status, headers=step.headers)
            out.content_type = "application/json"
            out.content_length = len(body)
            await out.prepare(request)
            for i in range(len(body)):
                await out.write(body[i : i + 1])
                await asyncio.sleep(step.trickle)
            await out.write_eof()
            return out
        return web.Response(
            body=body, status=step.status, headers=step.headers, content_type="application/json"
        )

    def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)

        async def go() -> str:
            self.server = TestServer(app, host="127.0.0.1")
            await self.server.start_server()
            return str(self.server.make_url("")).rstrip("/")

        return run_async(go())

    def stop(self) -> None:
        if self.server is not None:
            run_async(self.server.close())
