"""Failed-login limits on POST /api/auth/token/: the same django-axes counters as the login page.

A locked account or address answers 429 problem+json ``login_locked`` with
Retry-After, for the right password too, and issues no token.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from tests.conftest import PASSWORD

from .conftest import assert_problem

LIMIT = 10


def token(client, username: str, password: str, **extra):
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json", **extra)


def assert_locked(response) -> None:
    body = assert_problem(response, 429, "login_locked")
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert body["retry_after"] == int(response["Retry-After"])
    assert "access" not in body and "refresh" not in body


@pytest.mark.reliability("attack", "password guessing on the token endpoint")
def test_it_locks_an_account_after_10_wrong_passwords(anon, alice, unchanged):
    answers = [token(anon, "alice", f"guess-{n}").status_code for n in range(LIMIT)]
    assert answers == [401] * (LIMIT - 1) + [429]
    with unchanged():
        assert_locked(token(anon, "alice", "guess-11"))
        assert_locked(token(anon, "alice", PASSWORD))
    alice.refresh_from_db()
    assert alice.last_login is None
    assert AccessAttempt.objects.get(username="alice").failures_since_start == LIMIT


@pytest.mark.reliability("attack", "password guessing on the token endpoint")
def test_it_shares_the_counters_with_the_login_page(anon, alice):
    page = Client()
    for _ in range(LIMIT - 1):
        assert page.post("/accounts/login/", {"username": "alice", "password": "nope"}).status_code == 200
    assert_locked(token(anon, "alice", "nope"))
    assert page.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


@pytest.mark.reliability("attack", "X-Forwarded-For rotation against login limits")
def test_it_ignores_x_forwarded_for_without_a_named_proxy(settings, anon, alice, bob):
    settings.FORWARDED_ALLOW_IPS = []
    for n in range(LIMIT):
        token(anon, f"user{n}", "nope", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}")
    assert_locked(token(anon, "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))


def test_it_counts_the_forwarded_address_behind_the_named_proxy(settings, anon, alice, bob):
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    for n in range(LIMIT):
        token(anon, f"user{n}", "nope", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert_locked(token(anon, "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.5"))
    assert token(anon, "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.6").status_code == 200


def test_it_issues_tokens_again_after_the_cool_off(anon, alice):
    for _ in range(LIMIT):
        token(anon, "alice", "nope")
    assert_locked(token(anon, "alice", PASSWORD))
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15, seconds=1))
    response = token(anon, "alice", PASSWORD)
    assert response.status_code == 200
    assert {"access", "refresh"} <= set(response.json())
