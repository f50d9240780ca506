"""The partial plotly.js bundle as the tests see it: its trace list (frontend/plotly-bundle/
traces.json, which the build also reads) and the header of the built file in
dashboard/assets, which records what the committed file was built from."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACES_JSON = ROOT / "frontend" / "plotly-bundle" / "traces.json"
BUNDLE = ROOT / "dashboard" / "assets" / "05-plotly-partial.min.js"
REBUILD = "run `make plotly-bundle` and commit dashboard/assets/05-plotly-partial.min.js"


def listed_traces() -> frozenset[str]:
    """The trace types frontend/plotly-bundle/traces.json asks the bundle to hold."""
    return frozenset(json.loads(TRACES_JSON.read_text())["traces"])


def bundle_header() -> dict[str, str]:
    """``key: value`` lines of the built file's leading comment (version, traces, builder)."""
    with BUNDLE.open(encoding="utf-8") as f:
        head = f.read(2000)
    comment = head.split("*/", 1)[0]
    return dict(re.findall(r"^ \* ([\w.-]+): (.+)$", comment, flags=re.MULTILINE))


def bundled_traces() -> frozenset[str]:
    """The trace types the committed file was built with (from its header)."""
    return frozenset(bundle_header()["traces"].split(","))
