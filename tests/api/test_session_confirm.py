from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.settings import api_settings

from sessions_app.models import SessionEvent, UserProfile, WingmanSession

from .conftest import assert_problem


def test_it_confirms_the_buddy(alice_api, due_session):
    response = alice_api.post(f"/api/sessions/{due_session.pk}/confirm/")
    assert response.status_code == 200
    assert response.json()["user2_completed_confirmed_by_user1"] is True
    assert response.json()["participants"]["user2"]["confirmed"] is True
    due_session.refresh_from_db()
    assert due_session.user2_completed_confirmed_by_user1 is True
    assert due_session.status == "scheduled"


def test_it_completes_when_both_confirm_on_the_original_path(alice_api, bob_api, alice, bob, due_session):
    first = alice_api.post(f"/api/session/{due_session.pk}/confirm")
    assert first.status_code == 200
    assert first.json() == {
        "success": True, "message": first.json()["message"], "session_status": "scheduled",
        "both_confirmed": False, "reputation_updated": False, "user_reputation_delta": 0,
    }
    second = bob_api.post("/api/session/confirm-completion", {"session_id": str(due_session.pk)})
    assert second.status_code == 200
    assert second.json()["both_confirmed"] is True
    assert second.json()["reputation_updated"] is True
    assert second.json()["user_reputation_delta"] == 25
    assert second.json()["session_status"] == "completed"
    assert WingmanSession.objects.get().status == "completed"
    assert UserProfile.objects.get(user=alice).reputation == 10
    assert UserProfile.objects.get(user=bob).reputation == 25


@pytest.mark.parametrize("path", ["/api/sessions/{}/confirm/", "/api/session/{}/confirm"])
def test_it_refuses_a_second_confirm_with_409(alice_api, due_session, path, unchanged):
    alice_api.post(path.format(due_session.pk))
    with unchanged():
        assert_problem(alice_api.post(path.format(due_session.pk)), 409, "already_confirmed")


def test_it_refuses_self_confirmation(alice_api, alice, due_session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", {"buddy_id": alice.pk}), 400,
                       "self_confirmation")
        assert_problem(alice_api.post("/api/session/confirm-completion",
                                     {"session_id": str(due_session.pk), "buddy_id": alice.pk}), 400,
                       "self_confirmation")


def test_it_refuses_before_time_without_check_in(alice_api, session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{session.pk}/confirm/"), 400, "confirm_too_early")


def test_it_refuses_an_outsider(carol_api, due_session, unchanged):
    with unchanged():
        assert_problem(carol_api.post(f"/api/sessions/{due_session.pk}/confirm/"), 403, "not_participant")
        assert_problem(carol_api.post(f"/api/session/{due_session.pk}/confirm"), 403, "not_participant")
        assert_problem(carol_api.post("/api/session/confirm-completion", {"session_id": str(due_session.pk)}), 403)


def test_it_answers_404_and_422(alice_api, db, unchanged):
    with unchanged():
        assert_problem(alice_api.post("/api/session/confirm-completion",
                                     {"session_id": "6f1c1f9e-0000-4000-8000-000000000000"}), 404)
        problem = assert_problem(alice_api.post("/api/session/confirm-completion", {"session_id": 5}), 422)
        assert "session_id" in problem["errors"]
        problem = assert_problem(alice_api.post("/api/session/confirm-completion", {}), 422)
        assert "session_id" in problem["errors"]
        assert_problem(alice_api.post("/api/sessions/xyz/confirm/"), 422, "invalid_id")
        assert_problem(alice_api.post("/api/sessions/6f1c1f9e-0000-4000-8000-000000000000/confirm/",
                                     {"buddy_id": "two"}), 422, "invalid_input")


def test_it_refuses_a_final_session(alice_api, due_session, unchanged):
    WingmanSession.objects.filter(pk=due_session.pk).update(status="cancelled")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/confirm/"), 400, "session_final")


def test_it_throttles_with_429_and_retry_after(alice_api, make_session):
    first, second, third = (make_session(starts_in=-timedelta(minutes=20)) for _ in range(3))
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "confirm": "2/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        assert alice_api.post(f"/api/sessions/{first.pk}/confirm/").status_code == 200
        assert alice_api.post(f"/api/session/{second.pk}/confirm").status_code == 200
        response = alice_api.post("/api/session/confirm-completion", {"session_id": str(third.pk)})
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # The throttled confirm did nothing; the two before it counted.
    assert [WingmanSession.objects.get(pk=s.pk).user2_completed_confirmed_by_user1 for s in (first, second, third)] == [
        True, True, False]
    assert not SessionEvent.objects.filter(session=third).exists()
