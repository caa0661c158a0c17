"""The counting pass counts every statement a request sends, the connection health check included."""

import pytest
from django.db import connection

from bench import counting_wsgi
from tests.conftest import on_postgres, require_or_skip


@pytest.fixture
def counted():
    counting_wsgi.install()
    yield counting_wsgi.counting
    counting_wsgi.uninstall()


def call(app) -> dict[str, str]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(headers)

    b"".join(app({}, start_response))
    return seen


def test_it_counts_django_queries_and_the_health_check(db, counted):
    require_or_skip(on_postgres(), "the counting pass patches psycopg: PostgreSQL only", "WINGMAN_REQUIRE_POSTGRES")
    connection.ensure_connection()

    def app(environ, start_response):
        assert connection.is_usable()  # what CONN_HEALTH_CHECKS runs, on a raw psycopg cursor
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute("SELECT 2")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    headers = call(counted(app))
    assert headers["X-Bench-SQL"] == "3"
    assert headers["X-Bench-Redis"] == "0"
    assert headers["Content-Type"] == "text/plain"


def test_it_counts_nothing_outside_a_request_and_puts_the_driver_back(db, counted):
    require_or_skip(on_postgres(), "the counting pass patches psycopg: PostgreSQL only", "WINGMAN_REQUIRE_POSTGRES")
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # no request being counted: nothing breaks
    assert hasattr(psycopg.Cursor.__dict__["execute"], "__wrapped__")
    counting_wsgi.uninstall()
    assert not hasattr(psycopg.Cursor.__dict__["execute"], "__wrapped__")
