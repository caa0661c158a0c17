"""The bench creates its own database and refuses to touch any other."""

import os

import pytest
from django.db import connection

from bench import database
from tests.conftest import on_postgres, require_or_skip


@pytest.fixture
def server_url(db):
    require_or_skip(on_postgres(), "creates PostgreSQL databases", "WINGMAN_REQUIRE_POSTGRES")
    return os.environ["DATABASE_URL"]


def databases(server_url) -> set[str]:
    import psycopg

    with psycopg.connect(database.url_for(server_url, "postgres")) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_it_refuses_a_database_that_exists_and_drops_only_its_own(server_url):
    name = database.new_name()
    url = database.create_database(server_url, name, "run-a")
    try:
        assert url.endswith(f"/{name}")
        with pytest.raises(database.BenchDatabaseError, match="already exists"):
            database.create_database(server_url, name, "run-b")
        with pytest.raises(database.BenchDatabaseError, match="did not create"):
            database.drop_database(server_url, name, "run-b")
        assert name in databases(server_url)
    finally:
        database.drop_database(server_url, name, "run-a")
    assert name not in databases(server_url)


def test_it_never_drops_a_database_it_did_not_create(server_url):
    test_database = connection.settings_dict["NAME"]
    with pytest.raises(database.BenchDatabaseError):
        database.drop_database(server_url, test_database, "any-run")
    assert test_database in databases(server_url)


def test_it_refuses_names_it_does_not_use(server_url):
    before = databases(server_url)
    with pytest.raises(database.BenchDatabaseError, match="does not use"):
        database.create_database(server_url, "wingman", "run-a")
    assert databases(server_url) == before
