"""POST /api/sessions/{id}/dispute/ and the `dispute` field of the full session."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Dispute, WingmanSession

from .conftest import assert_problem


@pytest.fixture
def cancelled(session, alice):
    services.session_cancel(session_id=session.pk, user=alice, reason="Ill")
    return WingmanSession.objects.get(pk=session.pk)


def test_it_disputes_and_both_see_it(alice_api, bob_api, cancelled, bob):
    response = bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "She cancelled to avoid me"},
                           format="json")
    assert response.status_code == 200
    seen = alice_api.get(f"/api/sessions/{cancelled.pk}/").json()
    assert seen["dispute"]["status"] == "open"
    assert seen["dispute"]["opened_by"] == bob.pk
    assert seen["dispute"]["reason"] == "She cancelled to avoid me"
    assert seen["dispute"]["resolved_at"] is None and seen["dispute"]["resolution_note"] == ""
    assert seen["allowed_actions"]["dispute"]["code"] == "dispute_open"
    assert Dispute.objects.get().opened_by == bob


def test_the_resolution_shows_in_the_full_session(bob_api, cancelled, mod):
    bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "unfair"}, format="json")
    services.dispute_resolve(dispute_id=Dispute.objects.get().pk, moderator=mod, decision="uphold", note="Fine.")
    body = bob_api.get(f"/api/sessions/{cancelled.pk}/").json()
    assert body["dispute"]["status"] == "upheld" and body["dispute"]["resolution_note"] == "Fine."
    assert body["allowed_actions"]["dispute"]["code"] == "already_disputed"


def test_no_dispute_is_null(alice_api, session):
    assert alice_api.get(f"/api/sessions/{session.pk}/").json()["dispute"] is None


def test_a_repeat_with_the_same_key_replays(bob_api, cancelled):
    first = bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "x"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="d-1")
    again = bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "x"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == again.status_code == 200 and Dispute.objects.count() == 1


def test_refusals_are_problems_and_change_nothing(alice_api, bob_api, carol_api, cancelled, session, unchanged):
    bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "unfair"}, format="json")
    with unchanged():
        assert_problem(bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "again"}, format="json"),
                       409, "already_disputed")
        assert_problem(alice_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "me"}, format="json"),
                       409, "dispute_open")
        assert_problem(carol_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "me"}, format="json"),
                       403, "not_participant")
        assert_problem(alice_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {}, format="json"), 422)
        assert_problem(alice_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": 3}, format="json"), 422)


def test_after_72_hours_it_is_refused(bob_api, cancelled, unchanged):
    WingmanSession.objects.filter(pk=cancelled.pk).update(finished_at=timezone.now() - timedelta(hours=73))
    with unchanged():
        assert_problem(bob_api.post(f"/api/sessions/{cancelled.pk}/dispute/", {"reason": "late"}, format="json"),
                       400, "dispute_window_closed")
