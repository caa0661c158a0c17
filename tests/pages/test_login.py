import pytest
from django.test import Client

from tests.conftest import PASSWORD

PAGES = ["/", "/sessions/", "/sessions/new/", "/progress/"]


def test_it_shows_the_login_form(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b'name="password"' in response.content


def test_it_logs_in_and_lands_on_the_dashboard(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_it_needs_csrf_to_log_in(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_logs_out_with_post_only(alice_web):
    assert alice_web.get("/accounts/logout/").status_code == 405
    response = alice_web.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert alice_web.get("/").status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_it_sends_anonymous_users_to_log_in(client, db, path, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_it_sends_anonymous_users_from_a_session_page_to_log_in(client, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(f"/sessions/{session.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("action", ["check-in", "confirm", "notes"])
def test_it_refuses_anonymous_posts(client, due_session, action, unchanged, django_assert_max_num_queries):
    with unchanged(), django_assert_max_num_queries(0):
        response = client.post(f"/sessions/{due_session.pk}/{action}/", {"notes": "x", "expected_version": 1})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_sends_an_anonymous_htmx_poll_to_log_in(client, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(f"/sessions/{session.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    assert b"The Blue Door" not in response.content
