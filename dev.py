#!/usr/bin/env python3
"""The two commands of this project, needing nothing but Python 3.11:

    python3 dev.py run     create .venv, install, migrate, load demo data, serve on 127.0.0.1:8000
    python3 dev.py test    create .venv, install the test tools, run the whole test suite

Both use SQLite and the local-memory cache unless DATABASE_URL / REDIS_URL are
set. Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k confirm`).
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_environment(requirements: str) -> None:
    """Create .venv if needed and install `requirements` when they changed since the last install."""
    if not PYTHON.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {requirements}")
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / requirements], check=True)
    stamp.write_text(digest)


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, ROOT / "manage.py", *args], check=True, env=env, cwd=ROOT)


def run() -> int:
    ensure_environment("requirements.txt")
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("LOG_FORMAT", "text")  # readable lines in a terminal; production logs JSON
    backend = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite (db.sqlite3)"
    say(f"database: {backend}; cache: {'Redis' if env.get('REDIS_URL') else 'local memory'}")
    manage("migrate", "--noinput", env=env)
    seed = ["seed_demo"]
    if env.get("DEMO_PASSWORD"):
        seed += ["--password", env["DEMO_PASSWORD"]]
    manage(*seed, env=env)
    say("open http://127.0.0.1:8000/ and log in with one of the demo users above (Ctrl+C stops)")
    try:
        manage("runserver", "127.0.0.1:8000", env=env)
    except KeyboardInterrupt:
        pass
    return 0


def test(pytest_args: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        say("DATABASE_URL unset: testing on SQLite (concurrency tests will say they are skipped)")
    if not Path("/usr/bin/chromium").exists():
        say("no /usr/bin/chromium: browser tests will be skipped (apt-get install chromium to run them)")
    result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], env=env, cwd=ROOT)
    if result.returncode == 5:
        say("pytest collected no tests: that is a failure here")
        return 1
    return result.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"run", "test"}:
        print(__doc__)
        return 2
    return run() if argv[1] == "run" else test(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
