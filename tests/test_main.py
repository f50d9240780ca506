from __future__ import annotations

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
