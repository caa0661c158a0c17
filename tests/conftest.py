"""Shared fixtures, healthchecks style: alice and bob are matched, carol is an
outsider who must see nothing, dave is carol's buddy, mod is a moderator and
staff a plain staff member without the Moderators group."""

import contextlib
import copy
import functools
import importlib
import os
import re
import threading
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import CacheHandler
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import F
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app.models import (
    ApproachChallenge,
    Block,
    Dispute,
    MatchStatus,
    Report,
    ReputationLedger,
    SessionEvent,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)

pytest_plugins = ["tests.reliability", "pytester"]

PASSWORD = "correct-horse-battery"


class CacheNamespace:
    """The default cache under a key prefix of this test's own, and only those keys deleted afterwards.

    Every test gets an empty cache (cached sessions, user sessions, throttle
    counters) without touching anyone else's keys: never cache.clear(), which
    is FLUSHDB on whatever Redis database REDIS_URL names. The prefix carries
    the process id, so a test run's keys can be told apart from another's.
    """

    def __init__(self, settings):
        self.settings = settings
        self.used: list[tuple[str, dict]] = []  # (prefix, the cache configuration it was written through)

    def fresh(self) -> str:
        """Switch the default cache to a new, empty prefix (the test goes on with a cold cache)."""
        prefix = f"test-{os.getpid()}-{uuid.uuid4().hex}"
        caches = copy.deepcopy(self.settings.CACHES)
        caches["default"]["KEY_PREFIX"] = prefix
        self.settings.CACHES = caches
        self.used.append((prefix, caches["default"]))
        return prefix

    def erase(self) -> None:
        """Delete the keys under each prefix, through the cache it was used with (a test may since have
        pointed CACHES elsewhere, e.g. at a Redis it stopped)."""
        for prefix, config in self.used:
            delete_keys_under_prefix(CacheHandler({"default": config})["default"], prefix)


def delete_keys_under_prefix(backend, prefix: str) -> int:
    """Delete a cache's keys under `prefix` (Redis: SCAN + DEL, in batches); return how many."""
    from django_redis.cache import RedisCache

    if isinstance(backend, RedisCache):
        redis = backend.client.get_client(write=True)
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + ":*"
        batch, deleted = [], 0
        for key in redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 500:
                deleted += redis.delete(*batch)
                batch = []
        if batch:
            deleted += redis.delete(*batch)
        backend.close()
        return deleted
    # The local-memory cache has no way to list keys; this process owns all of
    # it, so its private dictionary (shared by every instance with the same
    # LOCATION) is walked under its lock.
    with backend._lock:
        keys = [key for key in backend._cache if key.startswith(f"{prefix}:")]
        for key in keys:
            del backend._cache[key]
            backend._expire_info.pop(key, None)
    return len(keys)


@pytest.fixture(autouse=True)
def cache_namespace(settings):
    """Each test starts with an empty cache of its own and leaves no key behind (see CacheNamespace)."""
    namespace = CacheNamespace(settings)
    namespace.fresh()
    yield namespace
    namespace.erase()


@pytest.fixture
def go_cold(cache_namespace):
    """Call it to continue the test with an empty cache (session rows, user sessions, throttles)."""
    return cache_namespace.fresh


def _user(username: str, display_name: str, tz: str = "UTC", **extra) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=PASSWORD, **extra)
    UserProfile.objects.create(user=user, display_name=display_name, timezone=tz)
    return user


@pytest.fixture
def alice(db):
    return _user("alice", "Alice", "Europe/Berlin")


@pytest.fixture
def bob(db):
    return _user("bob", "Bob", "America/New_York")


@pytest.fixture
def carol(db):
    return _user("carol", "Carol")


@pytest.fixture
def dave(db):
    return _user("dave", "Dave")


# The migrations that write the Moderators group and its permissions (seed data, not created by any model).
MODERATOR_MIGRATIONS = (
    ("sessions_app.migrations.0002_moderators_group", "create_group"),
    ("sessions_app.migrations.0008_moderators_trust_queues", "grant"),
    ("notifications.migrations.0002_moderators_see_the_outbox", "grant"),
)


def moderators_group() -> Group:
    """The Moderators group as the migrations leave it.

    A transactional test ends by emptying every table; the next one gets the
    migrations' data back from the serialized copy, but that was seen to miss
    after a long run of transactional tests in CI (the Celery worker tests).
    Then the migrations' own functions write it again, on the migrations'
    state of the models.
    """
    group = Group.objects.filter(name="Moderators").first()
    if group is not None:
        return group
    state_apps = MigrationLoader(connection).project_state().apps
    for module, function in MODERATOR_MIGRATIONS:
        getattr(importlib.import_module(module), function)(state_apps, None)
    return Group.objects.get(name="Moderators")


@pytest.fixture
def mod(db):
    user = _user("mod", "Moderator Mo", is_staff=True)
    user.groups.add(moderators_group())
    return user


@pytest.fixture
def staff(db):
    return _user("staff", "Plain Staff", is_staff=True)


@pytest.fixture
def easy_challenge(db):
    return ApproachChallenge.objects.create(
        title="Ask for a recommendation", description="Ask a stranger what to order.", difficulty="beginner",
        points=10,
    )


@pytest.fixture
def hard_challenge(db):
    return ApproachChallenge.objects.create(
        title="Start a group conversation", description="Join a group and introduce yourself.",
        difficulty="advanced", points=25,
    )


@pytest.fixture
def match(alice, bob):
    return WingmanMatch.objects.create(user1=alice, user2=bob, status=MatchStatus.ACCEPTED)


@pytest.fixture
def carol_match(carol, dave):
    return WingmanMatch.objects.create(user1=carol, user2=dave, status=MatchStatus.ACCEPTED)


@pytest.fixture
def make_session(match, easy_challenge, hard_challenge):
    """Create a session directly (bypassing the scheduling rules, e.g. in the past).

    user1 (alice) carries the easy challenge (10 points), user2 (bob) the
    hard one (25 points), unless overridden.
    """

    def make(*, starts_in=timedelta(hours=3), of_match=None, c1=None, c2=None, **fields):
        m = of_match or match
        c1, c2 = c1 or easy_challenge, c2 or hard_challenge
        values = dict(
            match=m,
            user1_id=m.user1_id,
            user2_id=m.user2_id,
            venue_name="The Blue Door",
            scheduled_time=timezone.now() + starts_in,
            **WingmanSession.snapshot_fields(c1, c2),
        )
        values.update(fields)
        session = WingmanSession.objects.create(**values)
        # As the services do: each participant's session count moves with the new session, and a
        # session made in progress is both participants' running session.
        participants = UserProfile.objects.filter(pk__in=[m.user1_id, m.user2_id])
        participants.update(total_sessions=F("total_sessions") + 1)
        if session.status == "in_progress":
            participants.update(running_session=session)
        return session

    return make


@pytest.fixture
def session(make_session):
    """alice + bob, scheduled three hours from now."""
    return make_session()


@pytest.fixture
def due_session(make_session):
    """alice + bob, scheduled time passed 20 minutes ago, nobody checked in."""
    return make_session(starts_in=-timedelta(minutes=20))


def snapshot_db() -> dict:
    """Everything a refused request must leave untouched."""
    return {
        "sessions": list(WingmanSession.objects.order_by("pk").values()),
        "events": SessionEvent.objects.count(),
        "ledger": list(ReputationLedger.objects.order_by("pk").values("user_id", "session_id", "reason", "points")),
        "profiles": list(UserProfile.objects.order_by("pk").values()),
        "matches": list(WingmanMatch.objects.order_by("pk").values()),
        "blocks": list(Block.objects.order_by("pk").values()),
        "reports": list(Report.objects.order_by("pk").values()),
        "disputes": list(Dispute.objects.order_by("pk").values()),
    }


@pytest.fixture
def unchanged(db):
    """Usage: with unchanged(): <refused request>  -- asserts the database did not change."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = snapshot_db()
        yield
        assert snapshot_db() == before, "a refused request changed the database"

    return check


# --- logged-in clients: one style everywhere -------------------------------------------------
# web_client(user): Django's test client with the user's session cookie (pages, admin; None: anonymous);
# api_client(user): DRF's client with a JWT for the user (the API); <name>_web and <name>_api fixtures.


class EarlyReadsFirst:
    """A test client whose requests meet the early session reads first, as gunicorn's do (wingman/wsgi.py):
    the same offer, answer and learning as EarlySessionReads, with Django's test handler behind them."""

    def request(self, **request):
        from django.http import HttpResponse

        from sessions_app import session_reads

        if not hasattr(self, "_before_view"):  # as the test handler loads the middleware: on the first request
            self._before_view = session_reads.before_view()
        environ = self._base_environ(**{**getattr(self, "_credentials", {}), **request})
        early = session_reads.offer(environ, self._before_view)
        answer = early.answer() if early is not None else None
        if answer is None:
            with early.handover() if early is not None else contextlib.nullcontext():
                response = super().request(**request)
            if early is not None:
                cookies = [("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()]
                early.learn(response.status_code, [*response.items(), *cookies])
            return response
        status, headers, body = answer
        response = HttpResponse(body, status=status)
        del response["Content-Type"]  # only the headers of the answer
        for name, value in headers:
            response[name] = value
        response.client, response.request, response.wsgi_request = self, request, early.request
        response.json = functools.partial(self._parse_json, response)
        return response


class WebClient(EarlyReadsFirst, Client):
    pass


class ApiClient(EarlyReadsFirst, APIClient):
    pass


def web_client(user) -> Client:
    client = WebClient()
    if user is not None:
        client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = ApiClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def alice_web(alice):
    return web_client(alice)


@pytest.fixture
def bob_web(bob):
    return web_client(bob)


@pytest.fixture
def carol_web(carol):
    return web_client(carol)


@pytest.fixture
def alice_api(alice):
    return api_client(alice)


@pytest.fixture
def bob_api(bob):
    return api_client(bob)


@pytest.fixture
def carol_api(carol):
    return api_client(carol)


def command_output(name: str, *args) -> str:
    """Run a management command as cron would and return what it printed."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def at_once(call, times: int, *, timeout: float = 30) -> list:
    """What ``call()`` returned in each of ``times`` threads released together (each on a database connection
    of its own, closed after), in the order they finished; the first error any of them raised, raised."""
    barrier, results, errors = threading.Barrier(times), [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except BaseException as error:  # noqa: BLE001 (raised below, in the test's thread)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    assert len(results) == times, f"{times - len(results)} of {times} threads did not finish in {timeout} s"
    return results


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def require_or_skip(condition: bool, why: str, env: str) -> None:
    """Skip, saying why; but fail when the environment says this must run (CI)."""
    if condition:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{why} ({env}=1 says this test must run here)")
    pytest.skip(why)


@pytest.fixture
def early_reads():
    """For tests of the early session reads (sessions_app/session_reads.py): they come only from the shared
    Redis, and each test starts as a new worker would (no headers learnt, no JSON kept, no paths resolved)."""
    from django.conf import settings

    from sessions_app import session_reads

    require_or_skip(settings.FRESHNESS_MARKERS, "early answers come only from a shared Redis (REDIS_URL)",
                    "WINGMAN_REQUIRE_REDIS")

    def forget():
        session_reads._answered.clear()
        session_reads.rendered._items.clear()
        session_reads._routes._items.clear()

    forget()
    yield
    forget()


def _command_name(packed) -> str:
    """The name of the first command in what a redis-py connection sends (bytes, or a list of chunks)."""
    data = packed if isinstance(packed, bytes | bytearray) else b"".join(bytes(chunk) for chunk in packed)
    return data.split(b"\r\n")[2].decode().lower()  # *<count>, $<length>, the name


def redis_round_trips(monkeypatch, *, failing_with: Exception | None = None) -> list[str]:
    """From now on, every round trip to Redis, named by its (first) command: every connection's sends are
    counted, the client's pool's and the threads' own of sessions_app/redis_calls.py. With ``failing_with``,
    each is counted and then fails with it instead of reaching Redis."""
    from redis.connection import AbstractConnection

    calls, original = [], AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        calls.append(_command_name(command))
        if failing_with is not None:
            raise failing_with
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return calls


@pytest.fixture
def redis_hanging():
    """From when it is called on until the test ends, every command sent to Redis fails as it does when Redis
    hangs (redis-py's TimeoutError once the socket's timeout has passed); it returns the list of the commands
    tried. (Its own patch, undone before the autouse fixtures' teardown deletes the test's keys.)"""
    from redis.exceptions import TimeoutError as RedisTimeoutError

    monkeypatch = pytest.MonkeyPatch()
    yield lambda: redis_round_trips(monkeypatch,
                                    failing_with=RedisTimeoutError("Timeout reading from 127.0.0.1:6379"))
    monkeypatch.undo()


def requests_reaching(monkeypatch, view_class) -> list:
    """The paths of the requests that reach ``view_class`` (DRF's dispatch) from now on: for the tests of the
    answers given before the view (sessions_app/session_reads.py)."""
    calls = []
    original = view_class.dispatch

    def counting(self, request, *args, **kwargs):
        calls.append(request.get_full_path())
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(view_class, "dispatch", counting)
    return calls


def comparable_headers(response) -> dict:
    """A response's headers but those that differ on every answer (Date, X-Request-ID)."""
    return {name: value for name, value in response.items() if name not in ("Date", "X-Request-ID")}


@pytest.fixture
def redis_down(settings):
    """The default cache is django-redis (configured as in production) pointing at a port nobody listens on."""
    import socket
    import uuid

    from sessions_app.api.throttling import ThrottleStore

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": True,
                    "SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
    }}
    yield
    ThrottleStore.shared_down_until = 0.0  # the next test starts with the shared cache again
