"""API fixtures: clients authenticated as each named user (JWT); the clean cache per test is tests/conftest.py's."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


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
