"""Scripts and commands on each thread's own Redis connection: the same answers as redis-py's, and its failures."""

import threading

import pytest
import redis
from django.conf import settings

from sessions_app import freshness, redis_calls

from ..conftest import redis_round_trips, require_or_skip

ECHO = "return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1])}"


@pytest.fixture
def client():
    require_or_skip(settings.FRESHNESS_MARKERS, "scripts run only in a shared Redis (REDIS_URL)",
                    "WINGMAN_REQUIRE_REDIS")
    redis_calls.forget_connections()
    yield freshness._client()
    redis_calls.forget_connections()


@pytest.fixture
def key(client):
    name = freshness._key("scripts:probe")  # under the test's own prefix: deleted with its other keys
    client.set(name, b"stored")
    return name


def connection_id(connection) -> int:
    connection.send_command("CLIENT", "ID")
    return connection.read_response()


def test_a_script_answers_as_redis_py_does(client, key):
    assert redis_calls.script(client, ECHO, [key], ["an argument"]) == client.eval(ECHO, 1, key, "an argument")
    assert redis_calls.script(client, ECHO, [key], [7]) == [key.encode(), b"7", b"stored"]


def test_a_command_answers_as_redis_gives_it(client, key):
    assert redis_calls.command(client, "MGET", key, freshness._key("scripts:none")) == [b"stored", None]
    assert redis_calls.command(client, "MGET", key) == client.mget([key])


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one(client, key):
    redis_calls.script(client, ECHO, [key], ["x"])
    mine = redis_calls._connection(client)
    redis_calls.script(client, ECHO, [key], ["y"])
    assert redis_calls._connection(client) is mine and mine._sock is not None

    theirs = []

    def other_thread():
        redis_calls.script(client, ECHO, [key], ["z"])
        theirs.append(redis_calls._connection(client))
        redis_calls.forget_connections()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert theirs and theirs[0] is not mine


def test_one_round_trip_per_script(client, key, monkeypatch):
    redis_calls.script(client, ECHO, [key], ["warm"])  # connected, the script known to Redis
    calls = redis_round_trips(monkeypatch)
    redis_calls.script(client, ECHO, [key], ["again"])
    assert calls == ["evalsha"]


def test_a_connection_redis_closed_is_opened_again_once(client, key, monkeypatch):
    """Redis restarted, or dropped an idle client: the next call still answers, on a new connection."""
    redis_calls.script(client, ECHO, [key], ["warm"])
    connection = redis_calls._connection(client)
    before = connection_id(connection)
    assert client.client_kill_filter(_id=before) == 1  # our own connection, nobody else's
    calls = redis_round_trips(monkeypatch)
    assert redis_calls.script(client, ECHO, [key], ["after"]) == [key.encode(), b"after", b"stored"]
    assert calls.count("evalsha") == 2  # the one that found the connection closed, and the one that answered
    assert "select" in calls  # a new connection, set up as the pool's are (our test database)
    assert connection_id(connection) != before


def test_a_timeout_is_not_retried(client, key, redis_hanging):
    """A Redis that hangs costs a call one timeout; the caller then stops asking it (freshness.prefetch)."""
    redis_calls.script(client, ECHO, [key], ["warm"])
    calls = redis_hanging()
    with pytest.raises(redis.exceptions.TimeoutError):
        redis_calls.script(client, ECHO, [key], ["hung"])
    assert calls == ["evalsha"]


def test_a_refused_connection_is_a_redis_error_for_the_caller(client, key):
    """Nothing listens: the caller gets redis-py's ConnectionError (reads then use the database)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # a port nobody listens on once the probe is closed
    nobody = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.25, socket_timeout=0.25)
    with pytest.raises(redis.exceptions.ConnectionError):
        redis_calls.script(nobody, ECHO, [key], ["x"])
    assert redis_calls.script(client, ECHO, [key], ["still"])[1] == b"still"  # the other Redis is untouched


def test_a_forked_process_does_not_use_its_parents_connection(client, key, monkeypatch):
    redis_calls.script(client, ECHO, [key], ["parent"])
    parents = redis_calls._connection(client)
    monkeypatch.setattr(redis_calls.os, "getpid", lambda: -1)  # as os.getpid() reads in a child
    childs = redis_calls._connection(client)
    assert childs is not parents
    assert redis_calls.script(client, ECHO, [key], ["child"])[1] == b"child"
