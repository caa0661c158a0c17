"""gunicorn servers for the bench: started with the repo's gunicorn.conf.py, bound to loopback."""

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def worker_rss_mb(self) -> dict[int, float]:
        sizes = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1]) / 1024
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, app: str, env: dict, workdir: Path, *, ready_path: str, extra_env: dict | None = None) -> Server:
    """`gunicorn -c gunicorn.conf.py -b 127.0.0.1:<port> <app>`, waiting until `ready_path` answers."""
    port = free_port()
    log = workdir / f"{name}.log"
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}", app],
        cwd=ROOT, env={**env, **(extra_env or {})}, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
    )
    server = Server(name=name, port=port, process=process, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} server exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + ready_path, timeout=2) as answer:
                if answer.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    else:
        server.stop()
        raise RuntimeError(f"{name} server did not answer {ready_path} within 60 s; see {log}")
    # Every worker imports the app lazily; give them a moment to be up before measuring.
    _wait_for_workers(server, int(env.get("WEB_CONCURRENCY") or 0) or None)
    return server


def _wait_for_workers(server: Server, expected: int | None) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if expected is None or len(server.worker_pids()) >= expected:
            return
        time.sleep(0.2)
