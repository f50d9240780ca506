"""The deploy files agree with pyproject, so Railway installs what the tests ran against."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> set[str]:
    lines = (ROOT / "requirements-railway.txt").read_text().splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def test_railway_requirements_match_pyproject_runtime_dependencies() -> None:
    deps = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert _requirements() == deps
    assert any(r.startswith("gunicorn") for r in deps)


def test_procfile_runs_gunicorn_on_port_and_a_worker() -> None:
    procfile = (ROOT / "Procfile").read_text()
    # The check first (gunicorn's own int(WEB_CONCURRENCY) would end in a traceback), then
    # exec, so gunicorn gets the platform's SIGTERM itself.
    assert re.search(
        r"^web: python -m dashboard\.security\.startup && exec gunicorn dashboard\.app:server "
        r".*--bind 0\.0\.0\.0:\$PORT$",
        procfile,
        re.M,
    )
    assert re.search(r"^worker: exec python -m dashboard\.trading\.exit_worker$", procfile, re.M)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert "make run" in readme
    assert re.search(r"^make test$", ci, re.M)
