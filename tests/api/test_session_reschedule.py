"""POST /api/sessions/{id}/reschedule/, .../reschedule/accept/, .../reschedule/decline/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import SessionEvent, WingmanSession

from .conftest import assert_problem


def _when(hours=26):
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0)


def test_it_proposes_and_the_buddy_sees_it_in_the_full_session(alice_api, bob_api, session, alice):
    when = _when()
    response = alice_api.post(f"/api/sessions/{session.pk}/reschedule/",
                             {"scheduled_time": when.isoformat(), "venue_name": "Green Park"}, format="json")
    assert response.status_code == 200
    seen = bob_api.get(f"/api/sessions/{session.pk}/").json()
    assert seen["reschedule"]["proposed_by"] == alice.pk
    assert seen["reschedule"]["venue_name"] == "Green Park"
    assert seen["reschedule"]["scheduled_time"] == response.json()["reschedule"]["scheduled_time"]
    assert seen["version"] == session.version + 1
    assert seen["allowed_actions"]["accept_reschedule"]["allowed"] is True
    assert WingmanSession.objects.get().reschedule_time == when


def test_the_buddy_accepts_and_the_session_moves(alice_api, bob_api, session):
    when = _when()
    alice_api.post(f"/api/sessions/{session.pk}/reschedule/", {"scheduled_time": when.isoformat()}, format="json")
    response = bob_api.post(f"/api/sessions/{session.pk}/reschedule/accept/")
    assert response.status_code == 200
    body = response.json()
    assert body["reschedule"] is None
    assert body["version"] == session.version + 2
    row = WingmanSession.objects.get()
    assert row.scheduled_time == when and row.reschedule_proposed_by_id is None


def test_the_proposer_withdraws_with_decline(alice_api, session):
    alice_api.post(f"/api/sessions/{session.pk}/reschedule/", {"scheduled_time": _when().isoformat()}, format="json")
    response = alice_api.post(f"/api/sessions/{session.pk}/reschedule/decline/")
    assert response.status_code == 200 and response.json()["reschedule"] is None
    assert list(SessionEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "reschedule_proposed", "reschedule_withdrawn"]


def test_a_repeated_accept_with_the_same_key_moves_the_session_once(alice_api, bob_api, session):
    alice_api.post(f"/api/sessions/{session.pk}/reschedule/", {"scheduled_time": _when().isoformat()}, format="json")
    first = bob_api.post(f"/api/sessions/{session.pk}/reschedule/accept/", HTTP_IDEMPOTENCY_KEY="k-1")
    again = bob_api.post(f"/api/sessions/{session.pk}/reschedule/accept/", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert SessionEvent.objects.filter(kind="rescheduled").count() == 1


def test_it_refuses_accepting_ones_own_proposal(alice_api, session, unchanged):
    alice_api.post(f"/api/sessions/{session.pk}/reschedule/", {"scheduled_time": _when().isoformat()}, format="json")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{session.pk}/reschedule/accept/"), 400, "own_proposal")


def test_it_refuses_an_answer_with_nothing_pending(bob_api, session, unchanged):
    with unchanged():
        assert_problem(bob_api.post(f"/api/sessions/{session.pk}/reschedule/accept/"), 409, "no_reschedule_pending")
        assert_problem(bob_api.post(f"/api/sessions/{session.pk}/reschedule/decline/"), 409, "no_reschedule_pending")


@pytest.mark.parametrize("body", [{}, {"scheduled_time": "tomorrow"}, {"scheduled_time": "2030-05-01T19:30:00"},
                                  {"scheduled_time": 5}, {"scheduled_time": "2030-05-01T19:30:00+00:00",
                                                          "venue_name": "x" * 201}])
def test_it_refuses_malformed_proposals(alice_api, session, body, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{session.pk}/reschedule/", body, format="json"), 422)


def test_it_refuses_a_past_time(alice_api, session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{session.pk}/reschedule/",
                                     {"scheduled_time": _when(-2).isoformat()}, format="json"), 400, "time_in_past")


def test_outsiders_get_403(carol_api, session, unchanged):
    with unchanged():
        assert_problem(carol_api.post(f"/api/sessions/{session.pk}/reschedule/",
                                     {"scheduled_time": _when().isoformat()}, format="json"), 403, "not_participant")


def test_the_full_session_shows_no_proposal_by_default(alice_api, session):
    assert alice_api.get(f"/api/sessions/{session.pk}/").json()["reschedule"] is None
