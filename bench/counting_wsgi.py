"""WSGI entry for the bench's counting pass: the product (or the floor) with round trips counted.

    BENCH_COUNT_APP=wingman.wsgi gunicorn -c gunicorn.conf.py bench.counting_wsgi

Counts, per request, at the driver level so nothing escapes Django's
execute_wrapper: every statement psycopg sends through a cursor (including
the `SELECT 1` of CONN_HEALTH_CHECKS, which Django runs on a raw psycopg
cursor, and savepoints), the transactions committed or rolled back (BEGIN is
implicit in psycopg), and Redis round trips (what a connection sends at once: a
command, or a whole pipeline; the calls of sessions_app/redis_calls.py
go to Redis on a connection of their own, not through the client). The counts
go back in X-Bench-SQL, X-Bench-Tx and X-Bench-Redis response headers. Only
the bench's separate counting pass serves this; throughput runs never do.
"""

import importlib
import os
import threading

import psycopg
import redis.connection

_counts = threading.local()


def _bump(kind: str) -> None:
    current = getattr(_counts, "values", None)
    if current is not None:
        current[kind] += 1


def _counted(method, kind: str):
    def wrapper(self, *args, **kwargs):
        _bump(kind)
        return method(self, *args, **kwargs)

    wrapper.__wrapped__ = method
    return wrapper


PATCHED = [
    (psycopg.Cursor, "execute", "sql"),
    (psycopg.Cursor, "executemany", "sql"),
    (psycopg.Connection, "commit", "tx"),
    (psycopg.Connection, "rollback", "tx"),
    (redis.connection.AbstractConnection, "send_packed_command", "redis"),
]


def install() -> None:
    """Wrap the driver methods (once)."""
    for owner, name, kind in PATCHED:
        method = owner.__dict__[name]
        if not hasattr(method, "__wrapped__"):
            setattr(owner, name, _counted(method, kind))


def uninstall() -> None:
    """Put the driver methods back (tests)."""
    for owner, name, _ in PATCHED:
        method = owner.__dict__[name]
        if hasattr(method, "__wrapped__"):
            setattr(owner, name, method.__wrapped__)


def counting(app):
    """Wrap a WSGI app: count while it builds the response, report in headers."""

    def counted_app(environ, start_response):
        _counts.values = {"sql": 0, "tx": 0, "redis": 0}

        def start(status, headers, exc_info=None):
            values = _counts.values
            headers = [*headers, ("X-Bench-SQL", str(values["sql"])), ("X-Bench-Tx", str(values["tx"])),
                       ("X-Bench-Redis", str(values["redis"]))]
            return start_response(status, headers, exc_info)

        try:
            return app(environ, start)
        finally:
            _counts.values = None

    return counted_app


install()
application = counting(importlib.import_module(os.environ.get("BENCH_COUNT_APP", "wingman.wsgi")).application)
