"""Hostile-input fixtures: logged-in clients for the pages and bearer clients for
the API, a session of alice and bob to aim at, and the checks every case makes."""

import io

import pytest
from django.test import Client

from tests.api.conftest import assert_problem, bearer, fresh_cache_namespace  # noqa: F401


@pytest.fixture(autouse=True)
def own_cache_namespace(settings):
    fresh_cache_namespace(settings)


@pytest.fixture
def as_alice(alice):
    return bearer(alice)


@pytest.fixture
def as_carol(carol):
    return bearer(carol)


@pytest.fixture
def alice_browser(alice):
    client = Client()
    client.force_login(alice)
    return client


def cut_short(body: bytes, announced: int) -> dict:
    """WSGI environ for a body that stops before the announced Content-Length (a dropped connection)."""
    return {"CONTENT_LENGTH": str(announced), "wsgi.input": io.BytesIO(body)}


def assert_refused_page(response, status: int) -> str:
    """A readable HTML page with this 4xx status (never a 5xx, never a crash page)."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()
