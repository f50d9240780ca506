"""A webhook receiver for the tests: a real HTTP server on loopback that records every
POST and answers from a script (status codes, then 200), optionally holding each answer
until the test opens a gate (a receiver that hangs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """What the server got and what it answers next."""

    url: str
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    gate: threading.Event | None = None  # set: answer; unset: hold the request
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        """The alert keys of every request that was answered 2xx, in order."""
        with self.lock:
            return [a["key"] for r in self.received if r.body.get("ok") for a in r.body["alerts"]]

    def attempts(self) -> list[list[str]]:
        with self.lock:
            return [[a["key"] for a in r.body.get("alerts", [])] for r in self.received]


@contextmanager
def webhook_receiver(
    statuses: list[int] | None = None,
    *,
    gate: threading.Event | None = None,
    path: str = "/hook/t0ken-s3cret-abcdef",
) -> Iterator[Receiver]:
    state = Receiver(url="", statuses=list(statuses or []), gate=gate)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            with state.lock:
                status = state.statuses.pop(0) if state.statuses else 200
            if state.gate is not None:
                state.gate.wait(30)
            body["ok"] = 200 <= status < 300
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body))
            state.arrived.set()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if gate is not None:
            gate.set()
        server.shutdown()
        server.server_close()
