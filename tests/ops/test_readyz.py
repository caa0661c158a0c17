"""/readyz: 200 when the database and the cache answer, else 503 problem+json naming what failed."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from ..conftest import require_or_skip

DEAD_REDIS = {
    "default": {
        # The production configuration, pointed at a port nobody listens on:
        # IGNORE_EXCEPTIONS would hide the failure from cache.get/set.
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
        },
    }
}


@pytest.fixture
def database_down(monkeypatch):
    """The readiness check's database is the real configuration pointed at a closed port
    (PostgreSQL) or at a file that cannot be opened (SQLite)."""
    from django.db.utils import ConnectionHandler

    from sessions_app import health

    config = dict(settings.DATABASES["default"])
    if connection.vendor == "postgresql":
        config.update(HOST="127.0.0.1", PORT="1")
    else:
        config.update(NAME="/nonexistent-directory/wingman.sqlite3")
    broken = ConnectionHandler({"default": config})
    monkeypatch.setattr(health, "connections", broken)
    yield
    broken.close_all()


def test_it_reports_ready(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_it_uses_the_real_redis_client_when_configured(client, db):
    # CI sets REDIS_URL together with DATABASE_URL and WINGMAN_REQUIRE_POSTGRES.
    require_or_skip(settings.CACHES["default"]["BACKEND"].startswith("django_redis"),
                    "REDIS_URL is not set: the local-memory cache is checked instead", "WINGMAN_REQUIRE_POSTGRES")
    from django_redis import get_redis_connection

    assert get_redis_connection("default").ping()
    assert client.get("/readyz").json()["cache"] == "ok"


@override_settings(CACHES=DEAD_REDIS, DJANGO_REDIS_IGNORE_EXCEPTIONS=True)
def test_it_reports_a_stopped_redis(client, db):
    from django.core.cache import cache

    assert cache.get("anything") is None  # the cache API hides the dead Redis...
    response = client.get("/readyz")
    assert response.status_code == 503  # ...readiness does not
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == 503 and body["code"] == "dependency_unavailable"
    assert body["checks"] == {"database": "ok", "cache": "unavailable"}
    assert body["detail"] == "Unavailable: cache."
    assert body["instance"] == "/readyz"


def test_it_reports_a_stopped_database(client, db, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["checks"] == {"database": "unavailable", "cache": "ok"}
    assert response.json()["detail"] == "Unavailable: database."


@override_settings(CACHES=DEAD_REDIS)
def test_it_reports_both(client, db, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable", "cache": "unavailable"}
    assert response.json()["detail"] == "Unavailable: database, cache."


def test_it_reports_a_cache_that_loses_values(client, db, monkeypatch):
    from django.core.cache import caches
    from django_redis.cache import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        from django_redis import get_redis_connection

        client_class = type(get_redis_connection("default"))
        monkeypatch.setattr(client_class, "get", lambda self, key: None)
    else:
        monkeypatch.setattr(type(cache), "get", lambda self, key, default=None, version=None: default)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"
