"""Hostile-input fixtures: the API's bearer clients, the pages'
logged-in browser, and the checks every refusal makes."""

import io

from tests.api.conftest import assert_problem  # noqa: F401


def cut_short(body: bytes, announced: int) -> dict:
    """WSGI environ for a body that stops before the announced Content-Length (a dropped connection)."""
    return {"CONTENT_LENGTH": str(announced), "wsgi.input": io.BytesIO(body)}


def assert_refused_page(response, status: int) -> str:
    """A readable HTML page with this 4xx status (never a 5xx, never a crash page)."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()
