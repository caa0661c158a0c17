"""API fixtures: the anonymous client and the problem+json check (named clients: tests/conftest.py)."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def anon():
    return APIClient()


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
