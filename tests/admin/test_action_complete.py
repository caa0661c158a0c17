"""Moderator action: mark sessions completed (both participants confirmed)."""

from sessions_app import services
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile
from tests.conftest import web_client

from .conftest import SESSIONS, act, change_url, messages_of


def test_it_completes_and_awards_each_participant_once(mod, due_session, alice, bob):
    response = act(web_client(mod), SESSIONS, "complete_sessions", [due_session])
    assert messages_of(response) == ["Completed 1 session."]
    due_session.refresh_from_db()
    assert due_session.status == "completed" and due_session.completed_at is not None
    assert due_session.user1_completed_confirmed_by_user2 and due_session.user2_completed_confirmed_by_user1
    ledger = sorted(ReputationLedger.objects.filter(session=due_session).values_list("user__username", "reason",
                                                                                     "points"))
    assert ledger == [("alice", "completion", 10), ("bob", "completion", 25)]
    alice_profile, bob_profile = UserProfile.objects.get(user=alice), UserProfile.objects.get(user=bob)
    assert (alice_profile.reputation, alice_profile.completed_sessions) == (10, 1)
    assert (bob_profile.reputation, bob_profile.completed_sessions) == (25, 1)
    event = SessionEvent.objects.get(session=due_session)
    assert (event.kind, event.actor, event.data["by_moderator"]) == ("completed", mod, True)


def test_it_refuses_an_already_completed_session(mod, due_session, session, unchanged):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    response = act(web_client(mod), SESSIONS, "complete_sessions", [due_session, session])
    assert messages_of(response) == [
        "Completed 1 session.",
        f"Refused: The Blue Door @ {due_session.scheduled_time:%Y-%m-%d %H:%M}: The session is already completed.",
    ]
    assert ReputationLedger.objects.filter(session=due_session).count() == 2


def test_it_turns_a_no_show_into_a_completion(mod, due_session, bob):
    services.session_mark_no_show(session_id=due_session.pk, moderator=mod, absent_user_id=bob.pk)
    act(web_client(mod), SESSIONS, "complete_sessions", [due_session])
    due_session.refresh_from_db()
    assert due_session.status == "completed" and due_session.no_show_user is None
    profile = UserProfile.objects.get(user=bob)
    assert (profile.reputation, profile.no_show_count, profile.completed_sessions, profile.no_show_sessions) == (
        25, 0, 1, 0)


def test_it_completes_from_the_session_page(mod, due_session):
    response = act(web_client(mod), SESSIONS, "complete_sessions", [due_session], _from_change="1")
    assert response["Location"] == change_url(due_session)
    due_session.refresh_from_db()
    assert due_session.status == "completed"
