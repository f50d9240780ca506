"""Script and style bundles compressed once per deployment, not once per request.

flask-compress (Dash's ``compress=True``) compresses every response as it goes out: for
a page load that is about 4.5 MB of JavaScript, a quarter of a second of a worker's CPU
each time, while the browser waits for the bundles before it can run anything. The
bundles do not change while the server runs (their addresses carry the package version
or the file's modification time), so each is compressed once per encoding and kept.

Only responses under the component-suite and assets routes are handled; everything else
(layouts, callbacks) is left to flask-compress, which sees the Content-Encoding set here
and leaves these alone.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable

import brotli
from flask import Flask, Request, Response, request

MAX_ENTRIES = 64  # about 30 bundles × 2 encodings; odd query strings cannot grow it
MIN_SIZE = 500  # bytes: smaller bodies gain less than the header costs
COMPRESSIBLE = ("application/javascript", "text/javascript", "text/css", "application/json")

# Brotli where the browser takes it (every current browser over HTTPS and on loopback),
# gzip otherwise. Higher levels than per-request compression can afford: it runs once.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "br": lambda data: brotli.compress(data, quality=6),
    "gzip": lambda data: gzip.compress(data, compresslevel=9),
}


def chosen_encoding(accept_encoding: str) -> str | None:
    """The first of ``ENCODERS`` the Accept-Encoding header takes (q=0 refuses one)."""
    offered: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        offered[name.strip()] = q
    for encoding in ENCODERS:
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


class CompressedBundles:
    """An LRU of compressed bodies keyed by (address with query, encoding)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._bodies: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.compressions = 0  # how many bodies were compressed (tests, bench)

    def body(self, key: tuple[str, str], data: Callable[[], bytes]) -> bytes:
        with self._lock:
            cached = self._bodies.get(key)
            if cached is not None:
                self._bodies.move_to_end(key)
                return cached
        compressed = ENCODERS[key[1]](data())
        with self._lock:
            self.compressions += 1
            self._bodies[key] = compressed
            while len(self._bodies) > self.max_entries:
                self._bodies.popitem(last=False)
        return compressed


def _is_bundle(req: Request, prefixes: tuple[str, ...], response: Response) -> bool:
    return (
        req.method == "GET"
        and response.status_code == 200
        and req.path.startswith(prefixes)
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
    )


def install_static_compression(server: Flask, prefixes: tuple[str, ...]) -> CompressedBundles:
    """Compress responses under ``prefixes`` once per encoding. Registered after
    flask-compress, so it runs before it (Flask runs after-request hooks last first)."""
    bundles = CompressedBundles()

    @server.after_request
    def _compress_bundle(response: Response) -> Response:
        if not _is_bundle(request, prefixes, response):
            return response
        response.vary.add("Accept-Encoding")
        encoding = chosen_encoding(request.headers.get("Accept-Encoding", ""))
        if encoding is None:
            return response
        response.direct_passthrough = False
        raw = response.get_data()
        if len(raw) < MIN_SIZE:
            return response
        body = bundles.body((request.full_path, encoding), lambda: raw)
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        etag, weak = response.get_etag()
        if etag and not weak:
            response.set_etag(f"{etag}:{encoding}")
        return response

    return bundles
