"""dev.py, as a newcomer runs it: a failure ends with one line saying what failed and what to do,
never with a traceback of dev.py, and a busy port is found before anything is installed or migrated."""

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the test run sets and a newcomer's shell would not have.
NOT_A_NEWCOMERS = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",
                   "DJANGO_ALLOW_ASYNC_UNSAFE", "PORT", "DEMO_PASSWORD", "SQLITE_PATH", "PYTEST_XDIST_WORKER"}


def dev_py(*args: str, **env: str) -> tuple[int, list[str]]:
    """Run `python3 dev.py ...` in a plain environment; its exit code and output lines (stdout and stderr as
    a terminal shows them)."""
    plain = {k: v for k, v in os.environ.items() if k not in NOT_A_NEWCOMERS}
    result = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), *args], cwd=ROOT, env={**plain, **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
    )
    return result.returncode, result.stdout.strip().splitlines()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def busy_port():
    """A port something already listens on (another dev.py run, say)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def assert_no_traceback_of_dev_py(output: list[str]) -> None:
    assert not [line for line in output if 'dev.py", line' in line], "\n".join(output)


def test_it_stops_at_a_busy_port_before_installing_or_migrating(busy_port, tmp_path):
    database = tmp_path / "db.sqlite3"
    code, output = dev_py("run", PORT=str(busy_port), SQLITE_PATH=str(database))
    assert code == 1, output
    assert output[-1] == (
        f"==> FAILED: port {busy_port} on 127.0.0.1 is in use (Address already in use): stop what listens there "
        f"(another dev.py run?), or choose another port, e.g. PORT={busy_port + 1} python3 dev.py run"
    )
    assert len(output) == 1, output  # nothing installed, migrated or seeded before
    assert not database.exists()


def test_it_refuses_a_port_that_is_not_a_number(tmp_path):
    database = tmp_path / "db.sqlite3"
    code, output = dev_py("run", PORT="eighty", SQLITE_PATH=str(database))
    assert code == 1
    assert output == ["==> FAILED: PORT='eighty' is not a port number: set PORT to a number such as 8000, "
                      "then run the same command again"]
    assert not database.exists()


def test_it_ends_a_failing_migrate_with_what_to_do(tmp_path):
    database = tmp_path / "no-such-folder" / "db.sqlite3"
    code, output = dev_py("run", PORT=str(free_port()), SQLITE_PATH=str(database))
    assert code == 1
    assert output[-1] == (
        f"==> FAILED: migrating the database failed: check that SQLite ({database}) can be reached and opened, "
        "then run the same command again (exit code 1; its own message is above)"
    )
    assert any("unable to open database file" in line for line in output)  # the real error is shown
    assert_no_traceback_of_dev_py(output)
    assert not database.parent.exists()


def test_it_ends_a_refused_seed_with_what_to_do(tmp_path):
    """With DEBUG=0 in the shell, seed_demo refuses: dev.py says so last, and no demo user exists."""
    database = tmp_path / "db.sqlite3"
    code, output = dev_py("run", PORT=str(free_port()), SQLITE_PATH=str(database), DEBUG="0",
                          SECRET_KEY="x" * 50, ALLOWED_HOSTS="127.0.0.1")
    assert code == 1
    assert output[-1] == (
        "==> FAILED: loading the demo data (seed_demo) failed: fix what it says, then run the same command again "
        "(exit code 1; its own message is above)"
    )
    assert any(line.startswith("CommandError: DEBUG is off") for line in output), output
    assert_no_traceback_of_dev_py(output)
    with sqlite3.connect(database) as db:  # migrated, but nothing seeded
        assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM auth_user").fetchone()[0] == 0


def test_it_ends_a_failing_install_with_what_to_do(tmp_path):
    """A fresh checkout whose requirements cannot be installed (here: pip told to use no index at all)."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "dev.py").write_bytes((ROOT / "dev.py").read_bytes())
    (checkout / "requirements.txt").write_text("Django==5.2.19\n")
    plain = {k: v for k, v in os.environ.items() if k not in NOT_A_NEWCOMERS}
    result = subprocess.run(
        [sys.executable, "dev.py", "run"], cwd=checkout, timeout=300, text=True,
        env={**plain, "PORT": str(free_port()), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    output = result.stdout.strip().splitlines()
    assert result.returncode == 1
    assert output[-1].startswith("==> FAILED: "), output
    assert output[-1].endswith(
        "failed: check the network or your pip index (PIP_INDEX_URL), then run the same command again "
        "(exit code 1; its own message is above)"
    ), output
    assert_no_traceback_of_dev_py(output)
    assert not (checkout / ".venv" / ".installed-requirements.txt").exists()
