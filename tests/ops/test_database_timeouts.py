"""Short database timeouts for web requests: a stuck lock is a quick 503, never a hung worker.

The timeouts are set per process: wingman/wsgi.py marks a web process,
manage.py commands keep the server's defaults. The in-process tests below set
the same lock_timeout on the test connection to see what a request answers
when it expires; tests/faults does it for real under gunicorn.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from sessions_app.models import WingmanSession
from tests.api.conftest import assert_problem
from tests.conftest import api_client, on_postgres, require_or_skip, web_client
from tests.faults.conftest import RowLock

ROOT = Path(__file__).resolve().parents[2]
PRINT_OPTIONS = ("import json; from django.conf import settings; "
                 "print(json.dumps(settings.DATABASES['default']['OPTIONS']))")
URL = "postgres://wingman@127.0.0.1:5432/wingman"
PREPARED = {"server_side_binding": True, "prepare_threshold": 5}  # tests/ops/test_prepared_statements.py


def options_in(argv: list[str], **env) -> dict:
    """The database OPTIONS a fresh process started with ``argv`` ends up with (it never connects)."""
    environment = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "DATABASE_URL": URL, **env}
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_gives_a_web_process_the_timeouts_as_connection_options():
    options = options_in(["-c", f"import wingman.wsgi; {PRINT_OPTIONS}"])
    assert options == {"options": "-c lock_timeout=2000 -c statement_timeout=5000", "connect_timeout": 3,
                       **PREPARED}


def test_it_reads_the_timeouts_from_the_environment_and_lets_the_url_win():
    options = options_in(["-c", f"import wingman.wsgi; {PRINT_OPTIONS}"], DB_LOCK_TIMEOUT_MS="700",
                         DB_STATEMENT_TIMEOUT_MS="900", DATABASE_URL=URL + "?connect_timeout=9")
    assert options == {"options": "-c lock_timeout=700 -c statement_timeout=900", "connect_timeout": 9,
                       **PREPARED}


def test_it_leaves_management_commands_the_server_defaults():
    assert options_in(["manage.py", "shell", "-c", PRINT_OPTIONS]) == PREPARED


def test_it_gives_sqlite_no_postgres_options():
    options = options_in(["-c", f"import wingman.wsgi; {PRINT_OPTIONS}"], DATABASE_URL="")
    assert options == {"timeout": 20}


@pytest.fixture
def locked_session(due_session):
    """The session row locked FOR UPDATE by another connection, and this connection's lock_timeout at 300 ms."""
    require_or_skip(on_postgres(), "lock timeouts need PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    with RowLock(due_session.pk):
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 300")
        try:
            yield due_session
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_answers_a_lock_timeout_on_the_api_with_a_quick_503(alice, locked_session, unchanged):
    with unchanged():
        started = time.monotonic()
        response = api_client(alice).post(f"/api/sessions/{locked_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="k")
        elapsed = time.monotonic() - started
    problem = assert_problem(response, 503, "database_busy")
    assert response["Retry-After"] == "2"
    assert "nothing was changed" in problem["detail"]
    assert elapsed < 2
    assert not WingmanSession.objects.get().user2_completed_confirmed_by_user1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_answers_a_lock_timeout_on_a_page_with_the_busy_page(bob, locked_session, unchanged):
    client = web_client(bob)
    with unchanged():
        response = client.post(f"/sessions/{locked_session.pk}/confirm/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    page = response.content.decode()
    assert "Busy right now" in page and "your change was not made" in page




def test_it_tells_busy_from_unavailable_from_a_bug():
    from django.db import IntegrityError, InterfaceError, OperationalError

    from sessions_app.unavailable import BUSY, UNAVAILABLE, database_fault

    def chained(error, cause):
        error.__cause__ = cause
        return error

    assert database_fault(chained(OperationalError("lock"), psycopg.errors.LockNotAvailable())) is BUSY
    assert database_fault(chained(OperationalError("slow"), psycopg.errors.QueryCanceled())) is BUSY
    assert database_fault(OperationalError("database is locked")) is BUSY  # SQLite's busy timeout
    assert database_fault(chained(OperationalError("killed"), psycopg.errors.AdminShutdown())) is UNAVAILABLE
    assert database_fault(InterfaceError("connection already closed")) is UNAVAILABLE
    assert database_fault(IntegrityError("duplicate key")) is None
    assert database_fault(RuntimeError("bug")) is None
