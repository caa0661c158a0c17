"""Failed-login limits on the login page and the admin login (django-axes, sessions_app/logins.py).

10 failures within 15 minutes lock the account and, separately, the client
address; the lock answers 429 with Retry-After and a readable page, refuses
the right password too, and lifts after the cool-off. The token endpoint has
the same limits (tests/api/test_token_limits.py).
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.db.models import F, Sum
from django.test import Client

from tests.conftest import PASSWORD

LIMIT = 10
LOGIN_PATHS = {
    "page": ("/accounts/login/", "alice", "/"),
    "admin": ("/admin/login/", "mod", "/admin/"),
}
LOGIN_PATHS_NEXT = {path: next_url for path, _, next_url in LOGIN_PATHS.values()}


def login(client: Client, path: str, username: str, password: str, **extra):
    return client.post(path, {"username": username, "password": password, "next": LOGIN_PATHS_NEXT.get(path, "/")},
                       **extra)


def failures(**filters) -> int:
    return AccessAttempt.objects.filter(**filters).aggregate(n=Sum("failures_since_start"))["n"] or 0


def assert_locked(response) -> None:
    assert response.status_code == 429, response.status_code
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert b"Too many failed logins" in response.content
    assert b"try again in 15 minutes" in response.content
    assert "no-cache" in response["Cache-Control"]


def assert_not_logged_in(client: Client, user: User) -> None:
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.reliability("attack", "password guessing on the login page and the admin login")
@pytest.mark.parametrize("where", LOGIN_PATHS)
def test_it_locks_an_account_after_10_wrong_passwords(where, alice, mod, client, unchanged):
    path, username, _ = LOGIN_PATHS[where]
    user = User.objects.get(username=username)
    answers = [login(client, path, username, f"guess-{n}").status_code for n in range(LIMIT)]
    # Nine ordinary "wrong password" forms; the tenth failure locks and says so.
    assert answers == [200] * (LIMIT - 1) + [429]
    with unchanged():
        assert_locked(login(client, path, username, "guess-11"))
        assert_locked(login(client, path, username, PASSWORD))
    assert_not_logged_in(client, user)
    # Attempts while locked do not prolong the lock.
    assert failures(username=username) == LIMIT


@pytest.mark.reliability("attack", "password guessing on the login page and the admin login")
def test_it_locks_the_account_whatever_address_the_guesses_come_from(alice, client):
    for n in range(LIMIT):
        login(client, "/accounts/login/", "alice", "nope", REMOTE_ADDR=f"203.0.113.{n + 1}")
    assert_locked(login(client, "/accounts/login/", "alice", PASSWORD, REMOTE_ADDR="198.51.100.1"))
    assert_not_logged_in(client, alice)


@pytest.mark.reliability("attack", "password guessing on the login page and the admin login")
def test_it_locks_an_address_that_tries_many_accounts(alice, bob, client):
    for n in range(LIMIT):
        login(client, "/accounts/login/", f"user{n}", "nope", REMOTE_ADDR="203.0.113.7")
    assert_locked(login(client, "/accounts/login/", "bob", PASSWORD, REMOTE_ADDR="203.0.113.7"))
    assert_not_logged_in(client, bob)
    # Another address still logs bob in: the address, not bob, is locked.
    assert login(Client(), "/accounts/login/", "bob", PASSWORD, REMOTE_ADDR="203.0.113.8").status_code == 302


@pytest.mark.reliability("attack", "X-Forwarded-For rotation against login limits")
def test_it_ignores_x_forwarded_for_without_a_named_proxy(settings, alice, bob, client):
    settings.FORWARDED_ALLOW_IPS = []
    for n in range(LIMIT):
        login(client, "/accounts/login/", f"user{n}", "nope", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}")
    assert_locked(login(client, "/accounts/login/", "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))
    assert_not_logged_in(client, bob)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_it_counts_the_forwarded_address_behind_the_named_proxy(settings, alice, bob, client):
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    for n in range(LIMIT):
        login(client, "/accounts/login/", f"user{n}", "nope", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert_locked(login(client, "/accounts/login/", "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.5"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.5"}
    # Another client behind the same proxy is not locked.
    other = Client()
    assert login(other, "/accounts/login/", "bob", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.6").status_code == 302
    assert other.session["_auth_user_id"] == str(bob.pk)


@pytest.mark.parametrize("where", LOGIN_PATHS)
def test_it_lets_the_right_password_in_after_the_cool_off(where, alice, mod, client):
    path, username, next_url = LOGIN_PATHS[where]
    for _ in range(LIMIT):
        login(client, path, username, "nope")
    assert_locked(login(client, path, username, PASSWORD))
    # Travel past the cool-off: every recorded failure is now 15 minutes and a second old.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15, seconds=1))
    response = login(client, path, username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == next_url
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_it_says_how_long_is_left(settings, alice, client):
    for _ in range(LIMIT):
        login(client, "/accounts/login/", "alice", "nope")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    response = login(client, "/accounts/login/", "alice", PASSWORD)
    assert response.status_code == 429
    assert 290 <= int(response["Retry-After"]) <= 300
    assert b"try again in 5 minutes" in response.content


@pytest.mark.reliability("fault", "Redis down during login guessing")
def test_it_keeps_counting_with_redis_down(alice, client, request):
    request.getfixturevalue("redis_down")  # after alice is stored: writing a user needs Redis
    for _ in range(LIMIT):
        login(client, "/accounts/login/", "alice", "nope")
    assert_locked(login(client, "/accounts/login/", "alice", PASSWORD))
    assert_not_logged_in(client, alice)
    assert failures(username="alice") == LIMIT
