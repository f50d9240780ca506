"""The layer contracts in pyproject.toml fail when broken.

``make lint`` runs ``lint-imports`` on the real package; this copies the package, breaks
each contract once (the pure core imports Dash, one tab imports another, the trading shell
imports a component) and checks that import-linter names all three as broken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_BREAKS = {
    "dashboard/strat/_broken_contract.py": "import dash  # noqa: F401\n",
    "dashboard/components/risk/_broken_contract.py": (
        "from dashboard.components import portfolio  # noqa: F401\n"
    ),
    "dashboard/trading/_broken_contract.py": "from dashboard.components import ui  # noqa: F401\n",
}


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe)], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_each_contract_fails_when_broken(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "dashboard",
        tmp_path / "dashboard",
        ignore=shutil.ignore_patterns("__pycache__", "assets"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, text in _BREAKS.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    assert "Contracts: 0 kept, 3 broken." in result.stdout, result.stdout
    for module in (
        "dashboard.strat._broken_contract",
        "dashboard.components.risk._broken_contract",
        "dashboard.trading._broken_contract",
    ):
        assert module in result.stdout
