#!/usr/bin/env python3
"""The two commands of this project, needing nothing but Python 3.11:

    python3 dev.py run     create .venv, install, migrate, load demo data, serve on 127.0.0.1:8000
    python3 dev.py test    create .venv, install the test tools (and axe-core: npm ci), run the whole test suite
    python3 dev.py lint    create .venv, install the test tools, run ruff (as CI does)

Both use SQLite and the local-memory cache unless DATABASE_URL / REDIS_URL are
set; `run` serves on PORT when it is set. Extra arguments after `test` go to
pytest (e.g. `python3 dev.py test -k confirm`). When a step fails, the last
line printed says what failed and what to do.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
RUN_AGAIN = "then run the same command again"


class StepFailed(Exception):
    """A step went wrong; the message is the one line telling the user what failed and what to do."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def execute(command: list, *, failed: str, **options) -> int:
    """Run our own interpreter or tool (fixed arguments, no shell); StepFailed with `failed` on a non-zero exit."""
    result = subprocess.run([str(part) for part in command], **options)  # noqa: S603 (no shell; our own tools)
    if result.returncode != 0:
        raise StepFailed(f"{failed} (exit code {result.returncode}; its own message is above)")
    return result.returncode


def ensure_environment(requirements: str) -> None:
    """Create .venv if needed and install `requirements` when they changed since the last install."""
    if not PYTHON.exists():
        say(f"creating virtual environment in {VENV}")
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            raise StepFailed(
                f"could not create {VENV} ({error}): on Debian or Ubuntu install the venv module "
                f"(apt-get install python3-venv), delete {VENV}, {RUN_AGAIN}"
            ) from None
    if installed(requirements):
        return
    say(f"installing {requirements}")
    fix = f"check the network or your pip index (PIP_INDEX_URL), {RUN_AGAIN}"
    execute([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            failed=f"upgrading pip in {VENV} failed: {fix}")
    execute([PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / requirements],
            failed=f"installing {requirements} failed: {fix}")
    stamp(requirements).write_text(digest(requirements))


def digest(requirements: str) -> str:
    files = [ROOT / "requirements.txt", ROOT / requirements]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def stamp(requirements: str) -> Path:
    return VENV / f".installed-{requirements}"


def installed(requirements: str) -> bool:
    """Already installed as they are now (requirements-dev.txt includes requirements.txt, so it covers `run`)."""
    candidates = {requirements, "requirements-dev.txt"}
    return any(stamp(name).exists() and stamp(name).read_text() == digest(name) for name in candidates)


def ensure_node_modules(env: dict) -> None:
    """`npm ci` when package-lock.json changed since the last install: the browser tests load axe-core
    from node_modules/. Without npm they are skipped, or fail under WINGMAN_REQUIRE_BROWSER=1 (CI)."""
    lock = ROOT / "package-lock.json"
    installed_stamp = ROOT / "node_modules" / ".installed-package-lock"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    if installed_stamp.exists() and installed_stamp.read_text() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        fix = "install Node.js 20 with npm (apt-get install nodejs npm)"
        if env.get("WINGMAN_REQUIRE_BROWSER") == "1":
            raise StepFailed(f"npm is not installed, and the browser tests need axe-core from npm: {fix}, {RUN_AGAIN}")
        say(f"no npm: the accessibility (axe) browser tests will be skipped ({fix} to run them)")
        return
    say("installing axe-core for the browser tests (npm ci, package-lock.json)")
    execute([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT,
            failed=f"npm ci failed: check the network or your npm registry (npm config get registry), {RUN_AGAIN}")
    installed_stamp.write_text(wanted)


def manage(*args: str, env: dict, failed: str) -> None:
    execute([PYTHON, ROOT / "manage.py", *args], env=env, cwd=ROOT, failed=failed)


def check_port_free(port: int) -> None:
    """Fail before installing or migrating anything when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # as the server will: ignore connections lingering in TIME_WAIT
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise StepFailed(
                f"port {port} on 127.0.0.1 is in use ({error.strerror}): stop what listens there "
                f"(another dev.py run?), or choose another port, e.g. PORT={port + 1} python3 dev.py run"
            ) from None


def server_port() -> int:
    value = os.environ.get("PORT", "").strip() or "8000"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StepFailed(f"PORT={value!r} is not a port number: set PORT to a number such as 8000, {RUN_AGAIN}")
    return int(value)


def run() -> int:
    port = server_port()
    check_port_free(port)
    ensure_environment("requirements.txt")
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("LOG_FORMAT", "text")  # readable lines in a terminal; production logs JSON
    sqlite = env.get("SQLITE_PATH") or str(ROOT / "db.sqlite3")
    database = "PostgreSQL (DATABASE_URL)" if env.get("DATABASE_URL") else f"SQLite ({sqlite})"
    say(f"database: {database}; cache: {'Redis (REDIS_URL)' if env.get('REDIS_URL') else 'local memory'}")
    manage("migrate", "--noinput", env=env,
           failed=f"migrating the database failed: check that {database} can be reached and opened, {RUN_AGAIN}")
    seed = ["seed_demo"]
    if env.get("DEMO_PASSWORD"):
        seed += ["--password", env["DEMO_PASSWORD"]]
    manage(*seed, env=env, failed=f"loading the demo data (seed_demo) failed: fix what it says, {RUN_AGAIN}")
    # The notification worker with its periodic sweep, beside the server: Redis as the broker with
    # REDIS_URL, else a folder (.celery-broker/). Mails are printed here unless EMAIL_HOST is set.
    say(f"notification worker: celery -A wingman worker --beat (broker: "
        f"{'Redis' if env.get('REDIS_URL') else 'the .celery-broker/ folder'}; "
        f"e-mail: {'SMTP ' + env['EMAIL_HOST'] if env.get('EMAIL_HOST') else 'printed on this console'})")
    worker = subprocess.Popen(  # noqa: S603 (our venv's Celery, no shell)
        [str(PYTHON), "-m", "celery", "-A", "wingman", "worker", "--beat", "--loglevel", "WARNING",
         "--pool", "solo", "--without-gossip", "--without-mingle"], env=env, cwd=ROOT,
    )
    say(f"open http://127.0.0.1:{port}/ and log in with one of the demo users above (Ctrl+C stops)")
    try:
        manage("runserver", f"127.0.0.1:{port}", env=env,
               failed=f"the development server stopped with an error: fix what it says, {RUN_AGAIN}")
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def test(pytest_args: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        say("DATABASE_URL unset: testing on SQLite (concurrency tests will say they are skipped)")
    if not Path("/usr/bin/chromium").exists():
        say("no /usr/bin/chromium: browser tests will be skipped (apt-get install chromium to run them)")
    ensure_node_modules(env)
    result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], env=env, cwd=ROOT)  # noqa: S603 (our venv)
    if result.returncode == 5:
        say("pytest collected no tests: that is a failure here")
        return 1
    return result.returncode


def lint() -> int:
    ensure_environment("requirements-dev.txt")
    execute([BIN / "ruff", "check", "."], cwd=ROOT,
            failed="ruff found problems: fix them (or `ruff check --fix .` where it offers), then run it again")
    return 0


COMMANDS = {"run": lambda args: run(), "test": test, "lint": lambda args: lint()}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[argv[1]](argv[2:])
    except StepFailed as failure:
        say(f"FAILED: {failure}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
