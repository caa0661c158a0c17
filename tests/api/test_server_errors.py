"""When something breaks on our side the client still gets problem+json, and learns whether to retry."""

from unittest import mock

from django.db import OperationalError
from rest_framework.test import APIClient

from .conftest import assert_problem


def test_it_answers_503_when_the_database_is_down(as_alice, session):
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=OperationalError("down")):
        response = as_alice.get(f"/api/sessions/{session.pk}/")
    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"]


def test_it_answers_a_bug_with_a_500_problem(alice, session):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=RuntimeError("bug")):
        response = client.get(f"/api/sessions/{session.pk}/")
    body = assert_problem(response, 500)
    assert "bug" not in str(body)


def test_it_answers_options_without_a_500(as_alice, session):
    assert as_alice.options("/api/sessions/").status_code == 200
    assert as_alice.options(f"/api/sessions/{session.pk}/notes/").status_code == 200


def test_it_renders_the_browsable_api(client, alice, session):
    client.force_login(alice)
    response = client.get(f"/api/sessions/{session.pk}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"The Blue Door" in response.content
