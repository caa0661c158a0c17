import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

from .conftest import assert_problem


def test_it_issues_and_refreshes_jwt(anon, alice, session):
    tokens = anon.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    refreshed = anon.post("/api/auth/token/refresh/", {"refresh": tokens.json()["refresh"]})
    assert refreshed.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert client.get(f"/api/sessions/{session.pk}/").status_code == 200


def test_it_refuses_wrong_credentials_with_a_problem(anon, alice):
    problem = assert_problem(anon.post("/api/auth/token/", {"username": "alice", "password": "nope"}), 401)
    assert problem["code"] == "no_active_account"


def test_it_refuses_a_malformed_token_request(anon, db):
    problem = assert_problem(anon.post("/api/auth/token/", {"username": "alice"}), 422, "invalid_input")
    assert "password" in problem["errors"]
    assert_problem(anon.post("/api/auth/token/refresh/", {"refresh": "garbage"}), 401, "token_not_valid")


def test_it_throttles_token_requests(anon, alice):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "2/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        for _ in range(2):
            anon.post("/api/auth/token/", {"username": "alice", "password": "nope"})
        response = anon.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_it_accepts_the_session_cookie_and_enforces_csrf(alice, due_session, unchanged):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(f"/api/sessions/{due_session.pk}/").status_code == 200
    with unchanged():
        assert_problem(client.post(f"/api/sessions/{due_session.pk}/confirm/"), 403, "csrf_failed")


def test_it_ignores_the_test_user_header_unless_allowed(anon, alice, session):
    assert_problem(anon.get(f"/api/sessions/{session.pk}/", HTTP_X_TEST_USER_ID=str(alice.pk)), 401)
    with override_settings(WINGMAN_ALLOW_TEST_USER_HEADER=True, DEBUG=False):
        assert_problem(anon.get(f"/api/sessions/{session.pk}/", HTTP_X_TEST_USER_ID=str(alice.pk)), 401)


def test_it_accepts_the_test_user_header_in_development(anon, alice, session):
    with override_settings(WINGMAN_ALLOW_TEST_USER_HEADER=True, DEBUG=True):
        assert anon.get(f"/api/sessions/{session.pk}/", HTTP_X_TEST_USER_ID=str(alice.pk)).status_code == 200
        assert_problem(anon.get(f"/api/sessions/{session.pk}/", HTTP_X_TEST_USER_ID="abc"), 401)
        assert_problem(anon.get(f"/api/sessions/{session.pk}/", HTTP_X_TEST_USER_ID="99999"), 401)


@pytest.mark.reliability("attack", "X-Forwarded-For rotation against the token throttle")
def test_it_throttles_token_requests_whatever_x_forwarded_for_says(anon, alice):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        answers = [anon.post("/api/auth/token/", {"username": "alice", "password": "nope"},
                             HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(5)]
    assert answers == [401, 401, 401, 429, 429]
