"""The README's picture, from the demo: docs/active-session.png.

    .venv/bin/python docs/screenshot.py

Loads seed_demo into a throwaway SQLite database (a temporary folder, the local-memory
cache: DATABASE_URL and REDIS_URL are ignored, so no real data is touched), serves the app
on a free loopback port, logs in as alice in Debian's Chromium (/usr/bin/chromium) and takes
her in-progress session (Corner Coffee House) at 1280 px wide, the whole page.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / "docs" / "active-session.png"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}
LIVE_SESSION = (  # alice's session in progress, as seed_demo makes it
    "from sessions_app.models import WingmanSession; "
    "print(WingmanSession.objects.get(user1__username='alice', status='in_progress').pk)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,  # noqa: S603 (ours)
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr}")
    return done.stdout


def wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit code {server.returncode}):\n{log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (our own server on loopback)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


def main() -> int:
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="wingman-screenshot-") as folder:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        env.update(DEBUG="1", LOG_FORMAT="text", SQLITE_PATH=str(Path(folder) / "demo.sqlite3"))
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", "--password", password, env=env)
        session_id = manage("shell", "--no-imports", "-c", LIVE_SESSION, env=env).strip()
        port = free_port()
        log = Path(folder) / "server.log"
        server = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/healthz", server, log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"{base}/accounts/login/")
                page.fill("#id_username", "alice")
                page.fill("#id_password", password)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                page.goto(f"{base}/sessions/{session_id}/")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(PICTURE), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"wrote {PICTURE.relative_to(ROOT)} (alice's session {session_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
