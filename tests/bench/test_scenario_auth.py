"""The bench's load users sign in as real clients do: its minted tokens and cookie sessions authenticate."""

from django.test import Client

from bench.scenario import access_token, session_cookie


def test_its_token_and_its_cookie_both_sign_in(alice, session):
    path = f"/api/sessions/{session.pk}/"
    assert Client().get(path, HTTP_AUTHORIZATION=f"Bearer {access_token(alice.pk)}").status_code == 200
    name, key = session_cookie(alice.pk).split("=", 1)
    browser = Client()
    browser.cookies[name] = key
    assert browser.get(path).status_code == 200
