"""The hot path's Redis calls (Lua scripts and single commands), each thread on a connection of its own.

Every read answered before Django runs one script, and every signed-in
request through Django one lookup of its user, so the client's own cost
counts: redis-py's ``execute_command`` takes a connection from the pool and
gives it back (a lock, a check that nothing is left unread, metrics) on
every command, about 30 µs of CPU of a ~65 µs call measured in one process.
Each thread here keeps one connection of redis-py's own class, made with
the pool's settings (address, database, password, TLS, timeouts), and sends
the command and reads the answer on it directly. A request thread runs one
request at a time, so the connection is never shared; a forked process
makes its own.

Scripts are sent by their SHA1 (EVALSHA): Redis hashes and parses a script
sent with EVAL on every call, which was most of its own CPU per read. When
Redis has lost a script (a restart, SCRIPT FLUSH), it is loaded again and
run, so nothing else changes.

Failures are redis-py's: a ``TimeoutError`` or ``ConnectionError`` (both
``RedisError``) leaves the connection closed, to be opened again by the
next call. A connection Redis closed while it sat idle (a restart) gets one
retry on a new connection; a timeout does not, since a Redis that hangs
must cost a request one timeout, not two. Callers handle the error as
before: reads go to the database, a write is refused.
"""

import hashlib
import os
import threading

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

_shas: dict[str, str] = {}  # source -> its SHA1, computed once per process
_own = threading.local()  # .connections: {id(pool): (pool, connection)}, .pid: the process that made them


def script(client, source: str, keys, args=()):
    """The answer of the Lua script ``source``, run with ``keys`` and ``args`` in the Redis of ``client`` (a
    redis-py client)."""
    sha = _shas.get(source)
    if sha is None:
        sha = _shas[source] = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
    try:
        return command(client, "EVALSHA", sha, len(keys), *keys, *args)
    except NoScriptError:
        sha = _shas[source] = client.script_load(source)
        return command(client, "EVALSHA", sha, len(keys), *keys, *args)


def command(client, *args):
    """The answer of one command (``args``: its name and arguments) in the Redis of ``client``, as Redis
    sends it: bytes, integers, lists, None (no redis-py response callback is applied)."""
    connection = _connection(client)
    try:
        return _call(connection, args)
    except RedisConnectionError:  # closed by Redis while idle, most likely: once more, on a new connection
        return _call(connection, args)


def _call(connection, args: tuple):
    connection.send_command(*args, check_health=False)
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
    """Close this thread's connections (tests)."""
    for _, connection in getattr(_own, "connections", {}).values():
        connection.disconnect()
    _own.connections = {}
