"""API fixtures: clients authenticated as each named user (JWT), and a clean cache per test."""

import copy
import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def fresh_cache_namespace(settings) -> None:
    """Point the default cache at a key prefix of its own: an empty cache, without flushing Redis."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    """Throttle counters and cached sessions must not leak from one test into the next.

    A key prefix per test instead of a flush, so parallel workers sharing one
    Redis database never wipe each other's keys.
    """
    fresh_cache_namespace(settings)


@pytest.fixture
def go_cold(settings):
    """Call it to continue the test with an empty cache (session rows, user sessions, throttles)."""
    return lambda: fresh_cache_namespace(settings)


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def as_alice(alice):
    return bearer(alice)


@pytest.fixture
def as_bob(bob):
    return bearer(bob)


@pytest.fixture
def as_carol(carol):
    return bearer(carol)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """The answer is RFC 9457 problem+json with this status (and code)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert {"type", "title", "status", "detail", "instance", "code"} <= set(body), body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body
