"""The app under a real gunicorn, with a Redis of its own, for the fault tests.

- ``server``: gunicorn (gunicorn.conf.py, 2 workers × 4 threads, DEBUG off) on a
  free loopback port, pointed at pytest-django's test database. Its database
  connections carry the application_name ``APP_NAME`` so the tests can find and
  kill exactly those. Tests write their data with ``transactional_db`` (committed,
  so the server sees it; flushed afterwards).
- ``redis``: a redis-server on a free loopback port that only the server uses;
  tests stop it (SIGTERM) or hang it (SIGSTOP) and it is back after each test.
  The shared Redis and PostgreSQL are never touched.
- ``alice_api``/``bob_api`` (JWT) and ``alice_page``/``bob_page`` (session
  cookie and CSRF) talk HTTP to it.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app import services
from sessions_app.models import ReputationLedger, SessionEvent, WingmanSession
from tests.conftest import on_postgres, require_or_skip

ROOT = Path(__file__).resolve().parents[2]
APP_NAME = "wingman-faults-web"
CSRF_SECRET = "faultsfaultsfaultsfaultsfaults12"  # 32 characters: Django accepts the bare secret as the token
REQUEST_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(autouse=True)
def _needs_postgres_and_tools():
    require_or_skip(on_postgres(), "fault tests need PostgreSQL (they kill its connections and hold its locks)",
                    "WINGMAN_REQUIRE_POSTGRES")
    missing = [tool for tool in ("redis-server",) if not any(
        (Path(d) / tool).exists() for d in os.environ.get("PATH", "/usr/bin").split(os.pathsep))]
    require_or_skip(not missing, f"fault tests need {', '.join(missing)}", "WINGMAN_REQUIRE_POSTGRES")


# --- Redis of our own -------------------------------------------------------------------------


class OwnRedis:
    """A redis-server subprocess on a free loopback port, with no persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.hung = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server to answer")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Shut it down, as a crashed or restarted Redis would be."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def hang(self) -> None:
        """Freeze it: connections open, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.hung = True

    def heal(self) -> None:
        if self.hung:
            os.kill(self.process.pid, signal.SIGCONT)
            self.hung = False
        if self.process.poll() is not None:
            self.start()
        wait_until(self.answers, timeout=10, what="redis-server to answer again")

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            if self.hung:
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def _own_redis():
    own = OwnRedis()
    own.start()
    yield own
    own.close()


@pytest.fixture
def redis(_own_redis):
    yield _own_redis
    _own_redis.heal()


# --- gunicorn ---------------------------------------------------------------------------------


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def healthy(self) -> bool:
        try:
            return requests.get(self.url("/healthz"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def test_database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
    return (f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(s['NAME'])}"
            f"?application_name={APP_NAME}")


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def _gunicorn(django_db_setup, _own_redis, tmp_path_factory):
    if connection.vendor != "postgresql":
        yield None
        return
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PORT": str(port),
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # the tests sign JWTs and session hashes with it
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_MANIFEST": "0",  # no collectstatic run for tests
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": _own_redis.url,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "THROTTLE_CONFIRM": "100000/min",
        "THROTTLE_NOTES": "100000/min",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "wingman.wsgi"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        wait_until(server.healthy, timeout=60, what="gunicorn to answer /healthz", interval=0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def server(_gunicorn, redis, transactional_db, settings):
    assert _gunicorn.process.poll() is None, _gunicorn.log_tail()
    # The tests write through the services too: they must mark the server's Redis (sessions_app/freshness.py).
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": redis.url,
                                                      "KEY_PREFIX": "wingman"}}
    wait_until(_gunicorn.healthy, timeout=60, what="gunicorn workers", interval=0.2)
    return _gunicorn


# --- clients ----------------------------------------------------------------------------------


class ApiClient:
    def __init__(self, server: Server, user) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {AccessToken.for_user(user)}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.server.url(path), timeout=REQUEST_TIMEOUT, **kwargs)


class PageClient(ApiClient):
    """A logged-in browser: the session cookie (made by Django's test client in the same database) and CSRF."""

    def __init__(self, server: Server, user) -> None:
        self.server = server
        login = Client()
        login.force_login(user)
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, login.cookies[settings.SESSION_COOKIE_NAME].value)
        self.http.cookies.set(settings.CSRF_COOKIE_NAME, CSRF_SECRET)
        self.http.headers["X-CSRFToken"] = CSRF_SECRET

    def post_form(self, path: str, data: dict | None = None) -> requests.Response:
        self.http.cookies.pop("messages", None)
        return self.request("POST", path, data=data or {}, allow_redirects=False)


def warm_up(session, *clients: ApiClient, rounds: int = 4) -> None:
    """Read the session a few times over fresh connections, so that every worker has served the API and
    the pages once (a worker's first request loads the URLconf; a replaced worker starts cold)."""
    for _ in range(rounds):
        for client in clients:
            client.http.close()
            path = f"/sessions/{session.pk}/" if isinstance(client, PageClient) else f"/api/sessions/{session.pk}/"
            answer = sent_as_asked(lambda client=client, path=path: client.request("GET", path))
            assert answer.status_code == 200, answer.text[:300]


def sent_as_asked(send) -> requests.Response:
    """Send a request, and once more if it is answered 503 with Retry-After: a worker whose idle database
    connection an earlier test killed answers its first database request so (no health check per request,
    by design: tests/faults/test_database_faults.py)."""
    answer = send()
    if answer.status_code == 503 and "Retry-After" in answer.headers:
        answer = send()
    return answer


def flashes(response: requests.Response) -> list[str]:
    """The messages a redirect carries to the next page (Django's cookie message storage)."""
    value = response.cookies.get("messages")
    if not value:
        return []
    storage = CookieStorage(None)
    return [str(message) for message in storage._decode(value.strip('"').replace("\\054", ","))]


@pytest.fixture
def alice_api(server, alice):
    return ApiClient(server, alice)


@pytest.fixture
def bob_api(server, bob):
    return ApiClient(server, bob)


@pytest.fixture
def alice_page(server, alice):
    return PageClient(server, alice)


@pytest.fixture
def bob_page(server, bob):
    return PageClient(server, bob)


# --- faults -----------------------------------------------------------------------------------


def connect_params() -> dict:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in {"cursor_factory", "context"}}


class ConnectionKiller(threading.Thread):
    """Terminates the server's busy database connections (in a query or a transaction) until stopped.

    Idle ones are left alone (the server would just reconnect on their next use). The dice are rolled
    once per transaction (or statement outside one) seen busy, and it is killed with ``chance``: however
    slow the machine, and however many looks a long transaction spans, each attempt of a retried request
    gets through with ``1 - chance``.
    """

    # Every 20 ms: the writes are a few statements long now that reads come from Redis copies, and a
    # slower look found none busy in a whole run of ten saves.
    def __init__(self, interval: float = 0.02, chance: float = 0.6) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.chance = chance
        self.stopped = threading.Event()
        self.killed = 0
        self.dice = random.Random(8)
        self.rolled: set[tuple] = set()  # (backend pid, start of its transaction or statement) already decided

    def run(self) -> None:
        with psycopg.connect(**connect_params(), autocommit=True) as admin:
            while not self.stopped.is_set():
                busy = admin.execute(
                    "SELECT pid, coalesce(xact_start, query_start) FROM pg_stat_activity WHERE datname = %s "
                    "AND application_name = %s AND state <> 'idle' AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"], APP_NAME],
                ).fetchall()
                for pid, started in busy:
                    if (pid, started) in self.rolled:
                        continue
                    self.rolled.add((pid, started))
                    if self.dice.random() < self.chance:
                        done = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
                        self.killed += int(done)
                self.stopped.wait(self.interval)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join(timeout=10)


@pytest.fixture
def kill_connections():
    return ConnectionKiller


class RowLock:
    """Holds ``SELECT ... FOR UPDATE`` on a session row from a connection of the test's own."""

    def __init__(self, session_id) -> None:
        self.session_id = session_id

    def __enter__(self):
        self.holder = psycopg.connect(**connect_params(), autocommit=False)
        self.holder.execute("SELECT id FROM wingman_sessions WHERE id = %s FOR UPDATE", [self.session_id])
        return self

    def __exit__(self, *exc) -> None:
        self.holder.rollback()
        self.holder.close()


@pytest.fixture
def row_lock():
    return RowLock


# --- the database is whole ----------------------------------------------------------------------


def assert_database_whole(sessions, users) -> None:
    """Confirmation flags match the events, a completion is recorded once with one ledger row per
    participant, no (user, session, reason) has two ledger rows, and the counters match the ledger."""
    for session in sessions:
        session = WingmanSession.objects.get(pk=session.pk)
        events = SessionEvent.objects.filter(session=session)
        confirmed_by = Counter(events.filter(kind="confirmed").values_list("actor_id", flat=True))
        assert confirmed_by[session.user1_id] == int(session.user2_completed_confirmed_by_user1), session.pk
        assert confirmed_by[session.user2_id] == int(session.user1_completed_confirmed_by_user2), session.pk
        both = session.user1_completed_confirmed_by_user2 and session.user2_completed_confirmed_by_user1
        assert (session.status == "completed") == both, session.pk
        assert events.filter(kind="completed").count() == int(both), session.pk
        completion_rows = ReputationLedger.objects.filter(session=session, reason="completion")
        assert sorted(completion_rows.values_list("user_id", flat=True)) == (
            sorted([session.user1_id, session.user2_id]) if both else []), session.pk
    rows = Counter(ReputationLedger.objects.values_list("user_id", "session_id", "reason"))
    assert all(count == 1 for count in rows.values()), rows
    for user in users:
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}, user


def assert_503_retry_after(response: requests.Response, *, api: bool, code: str | None = None) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["Retry-After"]) > 0
    if api:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 503 and body["code"] in {"database_busy", "service_unavailable"}, body
        if code:
            assert body["code"] == code, body
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "try again" in response.text
