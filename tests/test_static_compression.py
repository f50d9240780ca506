"""Bundles compressed once per encoding; other responses left alone."""

from __future__ import annotations

import gzip

import brotli
from flask import Flask, Response

from dashboard.static_compression import (
    CompressedBundles,
    chosen_encoding,
    install_static_compression,
)

SCRIPT = b"window.x = function () { return 'strat'; };\n" * 400


def _server() -> tuple[Flask, CompressedBundles]:
    server = Flask(__name__)

    @server.get("/_dash-component-suites/pkg/bundle.js")
    def bundle() -> Response:
        response = Response(SCRIPT, mimetype="application/javascript")
        response.set_etag("v1")
        return response

    @server.get("/_dash-component-suites/pkg/tiny.js")
    def tiny() -> Response:
        return Response(b"x=1", mimetype="application/javascript")

    @server.get("/_dash-layout")
    def layout() -> Response:
        return Response(SCRIPT, mimetype="application/json")

    @server.get("/_dash-component-suites/pkg/missing.js")
    def missing() -> Response:
        return Response(SCRIPT, status=404, mimetype="application/javascript")

    return server, install_static_compression(server, ("/_dash-component-suites/",))


def test_the_encoding_follows_accept_encoding_and_its_q_values() -> None:
    assert chosen_encoding("gzip, deflate, br, zstd") == "br"
    assert chosen_encoding("gzip;q=1.0, br;q=0") == "gzip"
    assert chosen_encoding("identity") is None
    assert chosen_encoding("") is None
    assert chosen_encoding("*") == "br"
    assert chosen_encoding("*;q=0.5, br;q=0") == "gzip"
    assert chosen_encoding("br;q=nonsense, gzip") == "gzip"


def test_a_bundle_is_compressed_once_per_encoding_and_decodes_to_itself() -> None:
    server, bundles = _server()
    client = server.test_client()
    url = "/_dash-component-suites/pkg/bundle.js"
    for _ in range(3):
        br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
        assert br.headers["Content-Encoding"] == "br"
        assert brotli.decompress(br.data) == SCRIPT
        assert "Accept-Encoding" in br.headers["Vary"]
        assert br.headers["ETag"] == '"v1:br"'  # a cache never mixes the two encodings
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == SCRIPT
    assert bundles.compressions == 2
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == SCRIPT
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_layouts_errors_and_tiny_files_are_left_as_they_are() -> None:
    server, bundles = _server()
    client = server.test_client()
    headers = {"Accept-Encoding": "br"}
    for url in (
        "/_dash-layout",
        "/_dash-component-suites/pkg/missing.js",
        "/_dash-component-suites/pkg/tiny.js",
    ):
        response = client.get(url, headers=headers)
        assert "Content-Encoding" not in response.headers, url
    assert bundles.compressions == 0


def test_the_kept_bodies_are_bounded() -> None:
    kept = CompressedBundles(max_entries=2)
    for i in range(5):
        kept.body((f"/b{i}.js", "gzip"), lambda: SCRIPT)
    assert gzip.decompress(kept.body(("/b4.js", "gzip"), lambda: b"")) == SCRIPT  # kept
    assert kept.compressions == 5
    kept.body(("/b0.js", "gzip"), lambda: SCRIPT)  # evicted: compressed again
    assert kept.compressions == 6
