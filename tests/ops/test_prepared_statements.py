"""PostgreSQL parses and plans a repeated statement once per connection (wingman/settings.py).

Server-side binding, and psycopg prepares a statement once it has run
DB_PREPARE_THRESHOLD times on a connection. The settings are read in a fresh
process (as test_database_timeouts does); that the test database's own
connection really prepares is checked against pg_prepared_statements.
"""

import uuid

import pytest
from django.db import connection

from tests.conftest import on_postgres, require_or_skip
from tests.ops.test_database_timeouts import PREPARED, PRINT_OPTIONS, options_in


def test_it_binds_on_the_server_and_prepares_after_five_runs_by_default():
    assert options_in(["-c", f"import wingman.wsgi; {PRINT_OPTIONS}"]) == {
        "options": "-c lock_timeout=2000 -c statement_timeout=5000", "connect_timeout": 3, **PREPARED}


def test_it_reads_the_threshold_from_the_environment():
    options = options_in(["manage.py", "shell", "-c", PRINT_OPTIONS], DB_PREPARE_THRESHOLD="2")
    assert options == {"server_side_binding": True, "prepare_threshold": 2}


def test_it_switches_preparing_off_and_keeps_server_side_binding():
    options = options_in(["manage.py", "shell", "-c", PRINT_OPTIONS], DB_PREPARE_THRESHOLD="off")
    assert options == {"server_side_binding": True, "prepare_threshold": None}


def test_it_refuses_a_threshold_that_is_no_number():
    with pytest.raises(Exception) as refused:
        options_in(["manage.py", "shell", "-c", PRINT_OPTIONS], DB_PREPARE_THRESHOLD="often")
    assert "DB_PREPARE_THRESHOLD is a number of runs or 'off', not 'often'" in refused.value.stderr


def test_it_leaves_sqlite_alone():
    assert options_in(["manage.py", "shell", "-c", PRINT_OPTIONS], DATABASE_URL="") == {"timeout": 20}


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_prepares_a_statement_run_more_than_the_threshold_on_one_connection(alice):
    require_or_skip(on_postgres(), "prepared statements are PostgreSQL's", "WINGMAN_REQUIRE_POSTGRES")
    probe = f"probe_{uuid.uuid4().hex}"  # a statement text this connection has never run
    statement = f"SELECT user_id AS {probe} FROM user_profiles WHERE user_id = %s"  # noqa: S608 (no input)

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{probe}%"])
            return cursor.fetchone()[0]

    for run in range(1, 6):
        with connection.cursor() as cursor:
            cursor.execute(statement, [alice.pk])
            assert cursor.fetchone() == (alice.pk,)
        assert prepared() == 0, f"prepared already after {run} runs"
    with connection.cursor() as cursor:
        cursor.execute(statement, [alice.pk])
        assert cursor.fetchone() == (alice.pk,)
    assert prepared() == 1
