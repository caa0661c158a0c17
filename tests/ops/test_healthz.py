"""/healthz: the process answers, whatever the database and the cache do."""

from django.db import OperationalError, connection


def test_it_answers_without_touching_the_database(client):
    # No db fixture: pytest-django raises on any database access in this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_it_stays_up_while_the_database_is_down(client, db, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", down)
        response = client.get("/healthz")
    assert response.status_code == 200


def test_it_needs_no_login_and_refuses_writes(client):
    assert client.post("/healthz").status_code == 405
