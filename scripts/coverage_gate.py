"""Fail when any module under dashboard/components/ has less than 85% line coverage.

Reads the JSON report that ``make coverage`` writes; the components are Dash layout and
callbacks, which the non-browser suite must exercise (issue 18).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLOOR = 85.0


def main(report: str = ".coverage-components.json") -> int:
    files = json.loads(Path(report).read_text(encoding="utf-8"))["files"]
    low = {
        name: data["summary"]["percent_covered"]
        for name, data in sorted(files.items())
        if data["summary"]["percent_covered"] < FLOOR
    }
    for name, pct in low.items():
        print(f"{name}: {pct:.0f}% < {FLOOR:.0f}%")
    print(f"{len(files)} modules, {len(low)} below {FLOOR:.0f}%")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
