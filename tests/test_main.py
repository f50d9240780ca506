from __future__ import annotations

import contextlib

import pytest

from dashboard.__main__ import main


def test_refuses_a_public_bind_without_a_login(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DASHBOARD_AUTH", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert main(["--host", "0.0.0.0", "--port", "8123"]) == 2
    assert "refusing to serve on 0.0.0.0 without a login" in capsys.readouterr().err


def test_bad_env_value_stops_with_one_line(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "soon")
    assert main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("configuration error: DASHBOARD_REFRESH_SECONDS")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("flag", ["--help"])
def test_help_exits_cleanly(flag: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main([flag])
    assert exc.value.code == 0


# ---- SIGTERM: the app and everything it started stop within the graceful time-out --------

GRACEFUL_SECONDS = 30  # gunicorn.conf.py's graceful_timeout; Railway waits at least this long
# The header's badges (connection, clock, regime) are one callback; its regime badge
# starts the regime fit in the compute process.
BADGE_OUTPUTS = [
    *(("header-connection-badge", p) for p in ("children", "color")),
    *(("header-clock-badge", p) for p in ("children", "color", "title")),
    *(("header-regime-badge", p) for p in ("children", "color", "title")),
]
HEADER_BADGES = {
    "output": ".." + "...".join(f"{i}.{p}" for i, p in BADGE_OUTPUTS) + "..",
    "outputs": [{"id": i, "property": p} for i, p in BADGE_OUTPUTS],
    "inputs": [{"id": "global-interval", "property": "n_intervals", "value": 1}],
    "changedPropIds": ["global-interval.n_intervals"],
    "state": [],
}


@pytest.mark.slow
def test_sigterm_stops_the_app_its_threads_and_its_children(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from tests._procs import cmdline, descendants, wait_for, wait_until_gone
    from tests._servers import free_port

    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASHBOARD_", "APCA_", "ALPACA_", "DATABASE_", "REDIS_"))
    }
    env.update(DASHBOARD_DATA_DIR=str(tmp_path), DASHBOARD_SIM_SPEED="60")
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(url + "/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(healthy, 180), Path(tmp_path / "app.log").read_text()[-2000:]
        # The header's regime badge starts the regime fit in the compute process.
        httpx.post(url + "/_dash-update-component", json=HEADER_BADGES, timeout=60)
        computing = wait_for(
            lambda: [p for p in descendants(app.pid) if "spawn_main" in cmdline(p)], 300
        )
        assert computing, "the compute process never started"
        started = descendants(app.pid)
        assert any("resource_tracker" in cmdline(p) for p in started)
        app.send_signal(signal.SIGTERM)
        assert app.wait(GRACEFUL_SECONDS) == 0
        assert wait_until_gone(started, 10) == [], [cmdline(p) for p in started]
        assert (tmp_path / "simulator-snapshot.json").exists()  # the demo account was saved
    finally:
        for pid in [app.pid, *descendants(app.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        app.wait(10)
        log.close()
