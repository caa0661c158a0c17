from datetime import timedelta

import pytest
from django.test import Client

from sessions_app.models import ReputationLedger, SessionEvent, UserProfile, WingmanSession
from tests.pages.conftest import HTMX


def act(client, session, action, **data):
    return client.post(f"/sessions/{session.pk}/{action}/", data, **data.pop("headers", {}))


def test_it_checks_in_and_redirects_back(alice_web, due_session, django_assert_max_num_queries):
    # 10, plus 3 for telling bob (his preferences, the outbox row, his unread counter)
    with django_assert_max_num_queries(13):
        response = act(alice_web, due_session, "check-in")
    assert response.status_code == 302
    assert response["Location"] == f"/sessions/{due_session.pk}/"
    due_session.refresh_from_db()
    assert due_session.user1_checked_in_at is not None
    assert due_session.status == "in_progress"
    page = alice_web.get(response["Location"]).content.decode()
    assert "You checked in." in page


def test_it_answers_htmx_with_the_refreshed_panel(alice_web, due_session, django_assert_max_num_queries):
    # the check-in's 8 (+3 to tell bob: preferences, outbox row, unread counter), then the panel's 5
    with django_assert_max_num_queries(17):
        response = alice_web.post(f"/sessions/{due_session.pk}/check-in/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="session-panel"')
    assert "You checked in." in html and "In progress" in html
    assert response["ETag"].startswith('"p2-')  # check-in and start are one write
    assert WingmanSession.objects.get(pk=due_session.pk).user1_checked_in_at is not None


def test_it_shows_a_refusal_and_changes_nothing(alice_web, session, unchanged):
    with unchanged():
        response = act(alice_web, session, "check-in")
    assert response.status_code == 302
    page = alice_web.get(response["Location"]).content.decode()
    assert "Check-in opens 30 minutes before the scheduled time." in page
    assert 'class="msg msg-error"' in page


def test_it_shows_a_refusal_in_the_htmx_panel(alice_web, session, unchanged):
    with unchanged():
        response = alice_web.post(f"/sessions/{session.pk}/confirm/", **HTMX)
    assert response.status_code == 200
    assert 'class="msg msg-error"' in response.content.decode()


@pytest.mark.parametrize("action", ["check-in", "start", "pause", "resume", "confirm", "cancel", "no-show"])
def test_it_refuses_an_outsider_with_the_403_page(carol_web, due_session, action, unchanged,
                                                  django_assert_max_num_queries):
    with unchanged(), django_assert_max_num_queries(5):
        response = carol_web.post(f"/sessions/{due_session.pk}/{action}/", {"reason": "x"})
    assert response.status_code == 403
    assert "The Blue Door" not in response.content.decode()


def test_it_404s_an_unknown_action(alice_web, due_session, unchanged):
    with unchanged():
        assert alice_web.post(f"/sessions/{due_session.pk}/explode/").status_code == 404


def test_it_404s_an_unknown_session(alice_web, db, unchanged):
    with unchanged():
        assert alice_web.post("/sessions/00000000-0000-0000-0000-000000000000/check-in/").status_code == 404


def test_it_refuses_get_on_an_action(alice_web, due_session, unchanged):
    with unchanged():
        assert alice_web.get(f"/sessions/{due_session.pk}/check-in/").status_code == 405


def test_it_needs_the_csrf_token(alice, due_session, unchanged):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    with unchanged():
        assert client.post(f"/sessions/{due_session.pk}/check-in/").status_code == 403
        assert client.post(f"/sessions/{due_session.pk}/check-in/", **HTMX).status_code == 403


def test_it_accepts_the_csrf_token_from_the_htmx_header(alice, due_session):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get(f"/sessions/{due_session.pk}/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/sessions/{due_session.pk}/check-in/", HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert WingmanSession.objects.get(pk=due_session.pk).user1_checked_in_at is not None


def test_it_completes_when_both_confirm(alice_web, bob_web, alice, bob, due_session):
    act(alice_web, due_session, "confirm")
    response = act(bob_web, due_session, "confirm")
    due_session.refresh_from_db()
    assert due_session.status == "completed"
    assert UserProfile.objects.get(user=bob).reputation == 25
    page = bob_web.get(response["Location"]).content.decode()
    assert "Session completed. You earned +25 reputation." in page
    assert '<strong data-testid="reputation">25</strong>' in page


def test_it_refuses_a_second_confirm(alice_web, due_session, unchanged):
    act(alice_web, due_session, "confirm")
    with unchanged():
        response = act(alice_web, due_session, "confirm")
    assert "You have already confirmed your buddy." in alice_web.get(response["Location"]).content.decode()


def test_it_cancels_with_a_reason(bob_web, bob, make_session):
    s = make_session(starts_in=timedelta(hours=1))
    response = act(bob_web, s, "cancel", reason="Sick <b>today</b>")
    s.refresh_from_db()
    assert s.status == "cancelled" and s.cancellation_reason == "Sick <b>today</b>"
    assert ReputationLedger.objects.get(user=bob).points == -13  # late: half of 25, rounded up
    page = bob_web.get(response["Location"]).content.decode()
    assert "Late cancellation: -13 reputation." in page


def test_it_refuses_to_cancel_without_a_reason(alice_web, session, unchanged):
    with unchanged():
        response = act(alice_web, session, "cancel", reason="   ")
    assert "A reason is required." in alice_web.get(response["Location"]).content.decode()


def test_it_pauses_and_resumes(alice_web, due_session):
    act(alice_web, due_session, "start")
    act(alice_web, due_session, "pause")
    due_session.refresh_from_db()
    assert due_session.is_paused
    page = alice_web.get(f"/sessions/{due_session.pk}/").content.decode()
    assert 'data-action="resume"' in page and 'data-action="pause"' not in page
    act(alice_web, due_session, "resume")
    due_session.refresh_from_db()
    assert not due_session.is_paused
    kinds = list(SessionEvent.objects.filter(session=due_session).values_list("kind", flat=True))
    assert kinds == ["started", "paused", "resumed"]


def test_it_reports_a_no_show(alice_web, alice, make_session):
    s = make_session(starts_in=-timedelta(minutes=20))
    act(alice_web, s, "check-in")
    act(alice_web, s, "no-show")
    s.refresh_from_db()
    assert s.status == "no_show" and s.no_show_user_id == s.user2_id
    assert UserProfile.objects.get(pk=s.user2_id).no_show_count == 1
