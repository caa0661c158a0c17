"""/healthz: the process answers, whatever the database and the cache do."""

from django.db import OperationalError, connection
from django.test import override_settings


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


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["wingman.example.com"])
def test_it_answers_a_plain_http_probe_in_production(client, db):
    """A load balancer probes the app server over HTTP: health answers, everything else still goes to HTTPS."""
    assert client.get("/healthz", HTTP_HOST="wingman.example.com").status_code == 200
    assert client.get("/readyz", HTTP_HOST="wingman.example.com").status_code == 200
    page = client.get("/accounts/login/", HTTP_HOST="wingman.example.com")
    assert (page.status_code, page["Location"]) == (301, "https://wingman.example.com/accounts/login/")
