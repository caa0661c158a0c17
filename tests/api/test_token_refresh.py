"""Refresh tokens work once (rotation + blacklist), and a password change revokes them all."""

from functools import partial
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import PASSWORD, on_postgres, require_or_skip
from tests.services.test_concurrency import race

from .conftest import assert_problem

NEW_PASSWORD = "a-brand-new-secret-42"


def tokens(client, username="alice", password=PASSWORD) -> dict:
    response = client.post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token: str):
    return client.post("/api/auth/token/refresh/", {"refresh": token}, format="json")


def jti(token: str) -> str:
    return RefreshToken(token, verify=False)["jti"]


def test_it_rotates_the_refresh_token(anon, alice, session):
    first = tokens(anon)["refresh"]
    response = refresh(anon, first)
    assert response.status_code == 200
    second = response.json()["refresh"]
    assert second != first
    assert BlacklistedToken.objects.filter(token__jti=jti(first)).exists()
    assert OutstandingToken.objects.filter(jti=jti(second), user=alice, blacklistedtoken__isnull=True).exists()
    # The new pair works.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert client.get(f"/api/sessions/{session.pk}/").status_code == 200
    assert refresh(anon, second).status_code == 200


@pytest.mark.reliability("attack", "reused refresh token")
def test_it_refuses_a_used_refresh_token(anon, alice, unchanged):
    first = tokens(anon)["refresh"]
    assert refresh(anon, first).status_code == 200
    before = OutstandingToken.objects.count()
    with unchanged():
        response = refresh(anon, first)
    assert_problem(response, 401, "token_not_valid")
    assert "access" not in response.json()
    assert OutstandingToken.objects.count() == before  # nothing new was issued


def _set_password(user: User) -> None:
    user.set_password(NEW_PASSWORD)
    user.save()


def _admin_form(user: User) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/auth/user/{user.pk}/password/",
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]


def _changepassword_command(user: User) -> None:
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", user.username, stdout=StringIO())


@pytest.mark.reliability("attack", "refresh token used after a password change")
@pytest.mark.parametrize("change", [_set_password, _admin_form, _changepassword_command],
                         ids=["set_password", "admin", "changepassword"])
def test_it_revokes_refresh_tokens_when_the_password_changes(anon, alice, bob, change):
    alice_pairs = [tokens(anon) for _ in range(2)]
    bob_token = tokens(anon, "bob")["refresh"]
    change(alice)
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    for pair in alice_pairs:
        assert_problem(refresh(anon, pair["refresh"]), 401, "token_not_valid")
        # The access token issued with the old password is refused at once, too.
        refused = assert_problem(anon.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}"), 401,
                                 "password_changed")
        assert "password has been changed" in refused["detail"]
    assert BlacklistedToken.objects.filter(token__user=alice).count() == 2
    # Only alice's: bob's still works, and alice logs in with the new password.
    assert refresh(anon, bob_token).status_code == 200
    assert refresh(anon, tokens(anon, "alice", NEW_PASSWORD)["refresh"]).status_code == 200


def test_the_blacklist_and_login_limit_tables_are_migrated(db):
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    applied = {app for app, _ in executor.loader.applied_migrations}
    assert {"token_blacklist", "axes"} <= applied
    tables = set(connection.introspection.table_names())
    assert {"token_blacklist_outstandingtoken", "token_blacklist_blacklistedtoken", "axes_accessattempt"} <= tables


@pytest.mark.postgres
@pytest.mark.reliability("race", "one refresh token used twice at once")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_refreshes_once_when_two_requests_race(alice, settings, record_property):
    require_or_skip(on_postgres(), "concurrency tests need PostgreSQL (SQLite serialises every write)",
                    "WINGMAN_REQUIRE_POSTGRES")
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "1000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    runs, doubled = 10, 0
    for _ in range(runs):
        token = tokens(APIClient())["refresh"]
        statuses = [response.status_code
                    for response in race(partial(refresh, APIClient(), token), partial(refresh, APIClient(), token))]
        assert sorted(statuses) in ([200, 401], [200, 200]), statuses
        doubled += statuses == [200, 200]
    record_property("reliability", f"{runs} races of two refreshes with one token: {doubled} × both refreshed")
    assert doubled == 0, f"{doubled} of {runs} races refreshed the same token twice"
    assert BlacklistedToken.objects.filter(token__user=alice).count() == runs
