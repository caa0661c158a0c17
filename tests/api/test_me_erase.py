"""DELETE /api/me/ with the password: closes the account; a login path for the guessing limits."""

from rest_framework_simplejwt.tokens import RefreshToken

from sessions_app.models import WingmanSession
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
