"""check-in, start, pause, resume, cancel and no-show over the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import ReputationLedger, SessionEvent, UserProfile, WingmanSession

from .conftest import assert_problem


def test_it_checks_in_and_starts(alice_api, due_session):
    response = alice_api.post(f"/api/sessions/{due_session.pk}/check-in/")
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    assert response.json()["participants"]["user1"]["checked_in_at"] is not None
    due_session.refresh_from_db()
    assert due_session.user1_checked_in_at is not None
    assert due_session.status == "in_progress"


def test_it_refuses_check_in_too_early(alice_api, session, unchanged):
    with unchanged():
        problem = assert_problem(alice_api.post(f"/api/sessions/{session.pk}/check-in/"), 400, "check_in_not_open")
    assert "opens_at" in problem


def test_it_refuses_a_second_check_in(alice_api, due_session, unchanged):
    alice_api.post(f"/api/sessions/{due_session.pk}/check-in/")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/check-in/"), 409, "already_checked_in")


def test_it_starts_pauses_and_resumes(alice_api, bob_api, due_session):
    assert alice_api.post(f"/api/sessions/{due_session.pk}/start/").json()["status"] == "in_progress"
    paused = bob_api.post(f"/api/sessions/{due_session.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["timing"]["paused"] is True
    resumed = alice_api.post(f"/api/sessions/{due_session.pk}/resume/")
    assert resumed.status_code == 200 and resumed.json()["timing"]["paused"] is False
    kinds = list(SessionEvent.objects.values_list("kind", flat=True))
    assert kinds == ["started", "paused", "resumed"]


def test_it_refuses_pause_when_not_running_and_resume_when_not_paused(alice_api, due_session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/pause/"), 400, "not_in_progress")
    alice_api.post(f"/api/sessions/{due_session.pk}/start/")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/resume/"), 409, "not_paused")
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/start/"), 409, "already_started")


def test_it_refuses_a_second_session_in_progress(alice_api, make_session, unchanged):
    first = make_session(starts_in=-timedelta(minutes=5))
    second = make_session(starts_in=-timedelta(minutes=10))
    alice_api.post(f"/api/sessions/{first.pk}/start/")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{second.pk}/start/"), 409, "another_session_in_progress")


def test_it_cancels_with_a_reason(alice_api, session):
    response = alice_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "Rain"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"] == "Rain"
    assert WingmanSession.objects.get().status == "cancelled"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 3}, {"reason": "x" * 501}])
def test_it_refuses_cancel_without_a_proper_reason(alice_api, session, body, unchanged):
    with unchanged():
        problem = assert_problem(alice_api.post(f"/api/sessions/{session.pk}/cancel/", body), 422)
    assert "reason" in problem["errors"]


def test_it_refuses_cancel_after_start(alice_api, due_session, unchanged):
    alice_api.post(f"/api/sessions/{due_session.pk}/start/")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/cancel/", {"reason": "bored"}), 400,
                       "already_started")


def test_it_reports_a_no_show(alice_api, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=30), user1_checked_in_at=timezone.now(),
                           status="in_progress", started_at=timezone.now())
    response = alice_api.post(f"/api/sessions/{session.pk}/no-show/", {"absent_user_id": bob.pk})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "no_show"
    assert response.json()["no_show_user_id"] == bob.pk
    stored = WingmanSession.objects.get(pk=session.pk)
    assert (stored.status, stored.no_show_user_id) == ("no_show", bob.pk)
    assert list(SessionEvent.objects.filter(session=session).values_list("kind", "actor_id")) == [
        ("no_show", session.user1_id)]
    assert ReputationLedger.objects.get(session=session).points == -25
    assert UserProfile.objects.get(pk=bob.pk).no_show_count == 1


def test_it_refuses_a_no_show_without_check_in(alice_api, due_session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/no-show/"), 400, "reporter_not_checked_in")


@pytest.mark.parametrize("action", ["check-in", "start", "pause", "resume", "no-show"])
def test_it_refuses_an_outsider(carol_api, due_session, action, unchanged):
    with unchanged():
        assert_problem(carol_api.post(f"/api/sessions/{due_session.pk}/{action}/"), 403, "not_participant")


def test_it_refuses_an_outsider_cancelling(carol_api, session, unchanged):
    with unchanged():
        assert_problem(carol_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "mine now"}), 403,
                       "not_participant")


@pytest.mark.parametrize("action", ["check-in", "start", "pause", "resume", "no-show", "cancel", "confirm"])
def test_it_answers_404_for_an_unknown_session(alice_api, db, action, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/2b3c1f9e-0000-4000-8000-000000000000/{action}/",
                                     {"reason": "r"}), 404, "not_found")


def test_it_requires_authentication(anon, due_session, unchanged):
    with unchanged():
        assert_problem(anon.post(f"/api/sessions/{due_session.pk}/check-in/"), 401)
