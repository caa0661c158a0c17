"""When the database connection drops, pages answer a friendly 503 "try again" page, never a plain 500."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from sessions_app import errorpages

from .conftest import HTMX

DROPPED = OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def bob_web(bob):
    client = Client(raise_request_exception=False)  # a 500 must show as a 500 here, not as an exception
    client.force_login(bob)
    return client


def assert_try_again_page(response) -> str:
    assert response.status_code == 503, response.status_code
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "We can't reach our data right now" in page and "Please try again in 5 seconds" in page
    return page


def test_it_answers_a_confirm_post_with_the_try_again_page(bob_web, due_session, unchanged):
    with unchanged(), mock.patch("sessions_app.services.session_confirm", side_effect=DROPPED):
        assert_try_again_page(bob_web.post(f"/sessions/{due_session.pk}/confirm/"))


def test_it_answers_a_notes_post_with_the_try_again_page(bob_web, session, unchanged):
    form = {"notes": "meet at the bar", "expected_version": session.version}
    with unchanged(), mock.patch("sessions_app.services.notes_update", side_effect=DROPPED):
        assert_try_again_page(bob_web.post(f"/sessions/{session.pk}/notes/", form))
        assert_try_again_page(bob_web.post(f"/sessions/{session.pk}/notes/", form, **HTMX))


def test_it_answers_a_page_read_with_the_try_again_page(bob_web, session):
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=DROPPED):
        assert_try_again_page(bob_web.get(f"/sessions/{session.pk}/"))


def test_it_still_answers_a_bug_with_the_500_page(bob_web, session, settings):
    settings.DEBUG = False
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=RuntimeError("bug")):
        response = bob_web.get(f"/sessions/{session.pk}/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_it_answers_a_fault_outside_any_view_with_503_too(rf):
    """The site's 500 handler sees the exception Django is handling (e.g. raised by a middleware)."""
    try:
        raise DROPPED
    except OperationalError:
        page = errorpages.server_error(rf.get("/sessions/"))
        problem = errorpages.server_error(rf.get("/api/sessions/"))
    assert_try_again_page(page)
    assert problem.status_code == 503 and problem["Retry-After"] == "5"
    assert problem["Content-Type"].startswith("application/problem+json")
