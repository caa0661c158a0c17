"""DELETE /api/me/ with the password: closes the account; a login path for the guessing limits."""

import hashlib

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from sessions_app.models import IdempotencyRecord, SessionEvent, WingmanSession
from tests.conftest import api_client

from ..conftest import PASSWORD
from .conftest import assert_problem


def test_it_closes_the_account_and_signs_out_everywhere(alice, session, anon):
    refresh = RefreshToken.for_user(alice)
    client = api_client(alice)
    response = client.delete("/api/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert WingmanSession.objects.get().cancellation_reason == "erased"
    assert client.get("/api/me/").status_code == 401  # the access token no longer works
    assert anon.post("/api/auth/token/refresh/", {"refresh": str(refresh)}, format="json").status_code == 401
    assert anon.post("/api/auth/token/", {"username": "alice", "password": PASSWORD},
                     format="json").status_code == 401


def test_a_wrong_password_changes_nothing(alice_api, session, unchanged):
    with unchanged():
        assert_problem(alice_api.delete("/api/me/", {"password": "nope"}, format="json"), 403, "wrong_password")
        assert_problem(alice_api.delete("/api/me/", {}, format="json"), 422)
    assert alice_api.get("/api/me/").status_code == 200


def test_guessing_is_limited_like_any_login(alice_api, settings, session, unchanged):
    settings.AXES_FAILURE_LIMIT = 3
    with unchanged():
        statuses = [alice_api.delete("/api/me/", {"password": f"guess-{n}"}, format="json").status_code
                    for n in range(4)]
        assert statuses[:2] == [403, 403] and statuses[2:] == [429, 429]
        locked = alice_api.delete("/api/me/", {"password": PASSWORD}, format="json")  # even the right one
        assert_problem(locked, 429, "login_locked")


def erase(client, key: str, password: str = PASSWORD):
    return client.delete("/api/me/", {"password": password}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeat_with_the_same_key_gets_the_same_answer_although_the_account_is_closed(alice, bob, session):
    token = str(AccessToken.for_user(alice))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.post(f"/api/sessions/{session.pk}/check-in/", HTTP_IDEMPOTENCY_KEY="earlier")  # erased with the rest
    first = erase(client, "close-1")
    assert first.status_code == 204
    again = erase(client, "close-1")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (204, b"", "true")
    assert SessionEvent.objects.filter(kind="account_erased").count() == 1
    (record,) = IdempotencyRecord.objects.all()  # only the erasure's answer is kept, and not the password
    assert (record.user_id, record.key, record.response_status) == (alice.pk, "close-1", 204)
    assert record.request_hash == hashlib.sha256(b"DELETE\n/api/me/\n{}").hexdigest()  # the body minus the password

    # The closed account's token does nothing else; the key replays only for the account it belongs to.
    assert client.get("/api/me/").status_code == 401
    assert erase(client, "close-2").status_code == 401
    assert erase(APIClient(), "close-1").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {token[:-4]}AAAA")  # the signature no longer matches
    assert erase(forged, "close-1").status_code == 401
    assert_problem(erase(api_client(bob), "close-1", password="nope"), 403, "wrong_password")


def test_a_repeat_through_the_session_cookie_gets_the_same_answer(alice, session):
    client = APIClient()
    client.force_login(alice)
    assert erase(client, "cookie-1").status_code == 204
    again = erase(client, "cookie-1")
    assert (again.status_code, again["Idempotent-Replayed"]) == (204, "true")
    assert client.get("/api/me/").status_code in (401, 403)


def test_a_refused_erasure_is_replayed_and_a_different_key_can_still_close_the_account(alice_api, session, unchanged):
    with unchanged():
        assert_problem(erase(alice_api, "wrong", password="nope"), 403, "wrong_password")
        assert_problem(erase(alice_api, "wrong", password="nope"), 403, "wrong_password")
    assert erase(alice_api, "right").status_code == 204


def test_keys_do_not_sidestep_the_guessing_limits(alice_api, settings, session, unchanged):
    settings.AXES_FAILURE_LIMIT = 3
    with unchanged():
        statuses = [erase(alice_api, f"guess-{n}", password=f"guess-{n}").status_code for n in range(3)]
        assert statuses == [403, 403, 429]
        # A key already used replays its answer without looking at the password at all.
        assert erase(alice_api, "guess-0").status_code == 403
        assert_problem(erase(alice_api, "fresh"), 429, "login_locked")
