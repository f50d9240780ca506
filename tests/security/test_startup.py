"""Start-up refuses unsafe or broken configurations in one line that names the variable:
in-process for the rules, and through the real entry points (the Procfile's ``web`` line
under ``sh``, the exit worker, ``python -m dashboard``) for "no traceback"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.__main__ import main as dashboard_main
from dashboard.security.auth import hash_password
from dashboard.security.startup import (
    StartupRefused,
    check_data_dir,
    check_demo_snapshot,
    check_production_settings,
    check_redis,
    check_serving,
    is_loopback,
    open_journal,
)
from dashboard.settings import load_settings
from dashboard.trading.journal import Journal
from tests.trading._fixtures import NOW, ticket
from tests.trading._fixtures import order as make_order

ROOT = Path(__file__).resolve().parents[2]
HASH = hash_password("correct horse")
LOGIN = {"DASHBOARD_USERNAME": "trader", "DASHBOARD_PASSWORD_HASH": HASH}
KEY = {"DASHBOARD_SECRET_KEY": "k" * 64}


def _refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(StartupRefused) as info:
        fn(*args, **kwargs)
    line = str(info.value.code)
    assert "\n" not in line
    return line


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_bind_needs_a_login_even_with_auth_off() -> None:
    off = load_settings({"DASHBOARD_AUTH": "off"}, env_file=None)
    line = _refusal(check_serving, off, hosts=["0.0.0.0"], workers=1)
    assert line.startswith("DASHBOARD_USERNAME: refusing to serve on 0.0.0.0 without a login")
    check_serving(off, hosts=["127.0.0.1"], workers=2)  # loopback without a login is fine
    line = _refusal(check_production_settings, {"DASHBOARD_AUTH": "off"}, hosts=["::"])
    assert line.startswith("DASHBOARD_USERNAME:")
    with_login = load_settings({**LOGIN, **KEY}, env_file=None)
    check_serving(with_login, hosts=["0.0.0.0"], workers=2)


def test_a_login_under_several_workers_needs_the_shared_secret_key() -> None:
    no_key = load_settings(LOGIN, env_file=None)
    line = _refusal(check_serving, no_key, hosts=["0.0.0.0"], workers=2)
    assert line.startswith("DASHBOARD_SECRET_KEY: a login served by 2 workers")
    check_serving(no_key, hosts=["0.0.0.0"], workers=1)  # one worker signs its own sessions
    line = _refusal(check_production_settings, LOGIN, hosts=["0.0.0.0"], workers=3)
    assert line.startswith("DASHBOARD_SECRET_KEY:")
    assert check_production_settings({**LOGIN, **KEY}, hosts=["0.0.0.0"], workers=3)


def test_an_unwritable_data_dir_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = load_settings({"DASHBOARD_DATA_DIR": str(blocker / "data")}, env_file=None)
    line = _refusal(check_data_dir, settings)
    assert line.startswith(f"DASHBOARD_DATA_DIR: cannot write to {blocker / 'data'}")
    check_data_dir(load_settings({"DASHBOARD_DATA_DIR": str(tmp_path / "new")}, env_file=None))
    assert (tmp_path / "new").is_dir()


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    from tests._servers import free_port

    settings = load_settings(
        {"DATABASE_URL": f"postgresql://app:s3cret@127.0.0.1:{free_port()}/journal"},
        env_file=None,
    )
    line = _refusal(open_journal, settings)
    assert line.startswith("DATABASE_URL: cannot open the journal at")
    assert "s3cret" not in line


def test_an_unreachable_redis_is_named_and_a_live_one_passes(redis_url: str) -> None:
    from tests._servers import free_port

    down = load_settings({"REDIS_URL": f"redis://:pw@127.0.0.1:{free_port()}/0"}, env_file=None)
    line = _refusal(check_redis, down, timeout=2.0)
    assert line.startswith("REDIS_URL: cannot reach Redis at 127.0.0.1") and "pw" not in line
    check_redis(load_settings({"REDIS_URL": redis_url}, env_file=None))
    check_redis(load_settings({}, env_file=None))  # no Redis configured: nothing to check


# ---- the demo account's snapshot against the journal ---------------------------------------


def _demo(tmp_path: Path):
    return load_settings({"DASHBOARD_DATA_DIR": str(tmp_path)}, env_file=None)


def _journal_with_a_sent_trade(settings) -> Journal:
    journal = Journal.from_settings(settings)
    trade, _ = journal.create_intent(ticket(), request_key="sent", now=NOW)
    journal.record_entry_order(
        trade.id,
        make_order(trade.entry_client_order_id, status="filled", filled_qty="2", price="2.5"),
    )
    return journal


def _snapshot(orders: list[str]) -> dict:
    from dashboard.simulator.simulation import _SNAPSHOT_VERSION

    return {
        "version": _SNAPSHOT_VERSION,
        "seed": 7,
        "start": "2026-11-02T14:30:00+00:00",
        "sim_time": "2026-11-03T15:00:00+00:00",
        "broker": {
            "account_id": "a",
            "cash": "100000",
            "positions": [],
            "orders": [{"client_order_id": c} for c in orders],
        },
    }


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_text('{"version": 1, "seed": 7, "broker": {"orders": ['),
        lambda p: p.write_bytes(b"\x00\xff" * 10),
        lambda p: p.write_text("[]"),
        lambda p: p.write_text(json.dumps({**_snapshot([]), "version": 999})),
        lambda p: p.write_text(json.dumps({**_snapshot([]), "broker": {"orders": []}})),
    ],
)
def test_a_corrupt_snapshot_is_refused_and_left_in_place(tmp_path: Path, damage) -> None:
    settings = _demo(tmp_path)
    journal = _journal_with_a_sent_trade(settings)
    path = tmp_path / "simulator-snapshot.json"
    damage(path)
    before = path.read_bytes()
    line = _refusal(check_demo_snapshot, settings, journal)
    assert line.startswith(f"DASHBOARD_DATA_DIR: the demo account snapshot {path} is unreadable")
    assert "restore it, or move it and the journal aside" in line
    assert path.read_bytes() == before  # nothing reset, nothing moved
    assert len(journal.list_trades()) == 1
    journal.close()


def test_a_missing_snapshot_under_sent_trades_is_refused(tmp_path: Path) -> None:
    settings = _demo(tmp_path)
    journal = _journal_with_a_sent_trade(settings)
    line = _refusal(check_demo_snapshot, settings, journal)
    assert "is missing, but the journal holds 1 trade(s) sent to that account" in line
    journal.close()


def test_a_fresh_demo_and_a_matching_snapshot_start(tmp_path: Path) -> None:
    settings = _demo(tmp_path)
    empty = Journal.from_settings(settings)
    check_demo_snapshot(settings, empty)  # first run: no snapshot, no trades
    empty.close()
    custom = tmp_path / "elsewhere.json"
    settings = load_settings(
        {"DASHBOARD_DATA_DIR": str(tmp_path), "DASHBOARD_SIM_SNAPSHOT": str(custom)},
        env_file=None,
    )
    journal = _journal_with_a_sent_trade(settings)
    trade = journal.list_trades()[0]
    custom.write_text(json.dumps(_snapshot([trade.entry_client_order_id])))
    check_demo_snapshot(settings, journal)
    custom.write_text("{")
    assert _refusal(check_demo_snapshot, settings, journal).startswith("DASHBOARD_SIM_SNAPSHOT:")
    journal.close()


def test_python_m_dashboard_refuses_a_corrupt_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("DASHBOARD_", "APCA_", "ALPACA_", "DATABASE_", "REDIS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    _journal_with_a_sent_trade(_demo(tmp_path)).close()
    (tmp_path / "simulator-snapshot.json").write_text("{ truncated")
    assert dashboard_main(["--port", "8124"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("DASHBOARD_DATA_DIR: the demo account snapshot")


# ---- the real entry points: one line, no traceback -------------------------------------------

_CLEAN = ("DASHBOARD_", "APCA_", "ALPACA_", "DATABASE_", "REDIS_", "WEB_", "GUNICORN_", "THETA")


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(_CLEAN)}
    base["PATH"] = f"{Path(sys.executable).parent}:{base.get('PATH', '')}"
    return subprocess.run(
        command, env={**base, **env}, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(name)


def _assert_one_line(done: subprocess.CompletedProcess[str], variable: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    naming = [ln for ln in done.stderr.splitlines() if variable + ":" in ln]
    assert len(naming) == 1, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY"),
        ({"DATABASE_URL": "postgres//nohost"}, "DATABASE_URL"),
        ({"REDIS_URL": "cache:6379"}, "REDIS_URL"),
        ({"APCA_API_BASE_URL": "https://api.alpaca.markets"}, "APCA_API_BASE_URL"),
        ({"DASHBOARD_AUTH": "off"}, "DASHBOARD_USERNAME"),  # public bind, no login
        (LOGIN, "DASHBOARD_SECRET_KEY"),  # two workers, no shared session key
    ],
)
def test_the_procfile_web_line_refuses_in_one_line(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    from tests._servers import free_port

    keys = {"APCA_API_KEY_ID": "PKTEST", "APCA_API_SECRET_KEY": "x"} if "APCA" in variable else {}
    done = _run(
        ["sh", "-c", _procfile("web")],
        {"PORT": str(free_port()), "DASHBOARD_DATA_DIR": str(tmp_path), **keys, **env},
        ROOT,
    )
    _assert_one_line(done, variable)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"THETADATA_URL": "not a url"}, "THETADATA_URL"),
        (
            {"DASHBOARD_SIMULATOR_URL": "http://127.0.0.1:9", "DATABASE_URL": "mysql://x/y"},
            "DATABASE_URL",
        ),
        (
            {"DASHBOARD_SIMULATOR_URL": "http://127.0.0.1:9", "REDIS_URL": "redis://127.0.0.1:9/0"},
            "REDIS_URL",
        ),
    ],
)
def test_the_procfile_worker_line_refuses_in_one_line(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    done = _run(
        ["sh", "-c", _procfile("worker")], {"DASHBOARD_DATA_DIR": str(tmp_path), **env}, ROOT
    )
    _assert_one_line(done, variable)


@pytest.mark.slow
def test_python_m_dashboard_refuses_in_one_line(tmp_path: Path) -> None:
    done = _run(
        [sys.executable, "-m", "dashboard"],
        {"DASHBOARD_DATA_DIR": str(tmp_path / "f" / "x"), "APCA_API_DATA_URL": "ftp://x"},
        tmp_path,
    )
    _assert_one_line(done, "APCA_API_DATA_URL")
