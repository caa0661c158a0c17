"""Lua scripts run in Redis by their SHA1 (EVALSHA), each thread on a connection of its own.

Redis hashes and parses a script sent with EVAL on every call: for the
session lookup of every read, that was most of Redis's own CPU per request.
So a script is sent by its SHA1, and when Redis has lost it (a restart,
SCRIPT FLUSH) it is loaded again and run, so nothing else changes.

Every read answered before Django runs one script, so the client's own cost
counts: redis-py's ``execute_command`` takes a connection from the pool and
gives it back (a lock, a check that nothing is left unread, metrics) on
every command, about 30 µs of CPU of a ~65 µs call measured in one process.
Each thread here keeps one connection of redis-py's own class, made with
the pool's settings (address, database, password, TLS, timeouts), and
sends the command and reads the answer on it directly. A request thread
runs one request at a time, so the connection is never shared; a forked
process makes its own.

Failures are redis-py's: a ``TimeoutError`` or ``ConnectionError``
(both ``RedisError``) leaves the connection closed, to be opened again by
the next call. A connection Redis closed while it sat idle (a restart)
gets one retry on a new connection; a timeout does not, since a Redis that
hangs must cost a request one timeout, not two. Callers handle the error
as before: reads go to the database, a write is refused.
"""

import hashlib
import os
import threading

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

_shas: dict[str, str] = {}  # source -> its SHA1, computed once per process
_own = threading.local()  # .connections: {id(pool): (pool, connection)}, .pid: the process that made them


def run(client, source: str, keys, args=()):
    """The script's answer, run with ``keys`` and ``args`` in the Redis of ``client`` (a redis-py client)."""
    sha = _shas.get(source)
    if sha is None:
        sha = _shas[source] = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
    connection = _connection(client)
    try:
        return _call(connection, sha, keys, args)
    except NoScriptError:
        sha = _shas[source] = client.script_load(source)
        return _call(connection, sha, keys, args)
    except RedisConnectionError:  # closed by Redis while idle, most likely: once more, on a new connection
        return _call(connection, sha, keys, args)


def _call(connection, sha: str, keys, args):
    connection.send_command("EVALSHA", sha, len(keys), *keys, *args, check_health=False)
    return connection.read_response()


def _connection(client):
    """This thread's connection to the Redis of ``client``: made with its pool's class and settings."""
    pid = os.getpid()
    if getattr(_own, "pid", None) != pid:  # a new thread, or a forked process: nothing of the parent's
        _own.pid, _own.connections = pid, {}
    pool = client.connection_pool
    mine = _own.connections.get(id(pool))
    if mine is None or mine[0] is not pool:
        mine = _own.connections[id(pool)] = (pool, pool.connection_class(**pool.connection_kwargs))
    return mine[1]


def forget_connections() -> None:
    """Close this thread's connections (tests that restart or replace Redis)."""
    for _, connection in getattr(_own, "connections", {}).values():
        connection.disconnect()
    _own.connections = {}
