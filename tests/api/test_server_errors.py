"""When something breaks on our side the client still gets problem+json, and learns whether to retry."""

from unittest import mock

from django.db import OperationalError
from rest_framework.test import APIClient

from .conftest import assert_problem


def test_it_answers_503_when_the_database_is_down(alice_api, session):
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=OperationalError("down")):
        response = alice_api.get(f"/api/sessions/{session.pk}/")
    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"]


def test_it_answers_a_bug_with_a_500_problem(alice, session):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    with mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=RuntimeError("bug")):
        response = client.get(f"/api/sessions/{session.pk}/")
    body = assert_problem(response, 500)
    assert "bug" not in str(body)


def test_it_answers_options_with_a_405_problem_not_a_500(alice_api, session):
    # the OpenAPI schema is the one description of the API; OPTIONS is a verb no route takes
    for path in ("/api/sessions/", f"/api/sessions/{session.pk}/notes/"):
        response = alice_api.options(path)
        assert_problem(response, 405, "method_not_allowed")
        assert "OPTIONS" not in response["Allow"] and response["Allow"]


def test_it_renders_the_browsable_api(client, alice, session):
    client.force_login(alice)
    response = client.get(f"/api/sessions/{session.pk}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"The Blue Door" in response.content
