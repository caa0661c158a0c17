"""Moderator action: mark a named participant absent (asked on an intermediate page)."""

from datetime import timedelta

from sessions_app import services
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile
from tests.conftest import web_client

from .conftest import SESSIONS, act, messages_of


def test_it_asks_which_participant_by_name(mod, due_session, unchanged):
    with unchanged():
        response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session])
    choices = dict(response.context["form"].fields["absent"].choices)
    assert choices == {"user1": "alice (alice@example.com)", "user2": "bob (bob@example.com)"}


def test_it_asks_by_role_for_several_sessions(mod, due_session, session, unchanged):
    with unchanged():
        response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session, session])
    assert set(dict(response.context["form"].fields["absent"].choices)) == {"user1", "user2"}
    assert "user1 (the match" in response.content.decode()


def test_it_refuses_an_unknown_participant(mod, due_session, unchanged):
    with unchanged():
        response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session], apply="1", absent="user3")
    assert response.status_code == 200
    assert response.context["form"].errors["absent"]


def test_it_marks_the_named_participant_absent(mod, due_session, alice, bob):
    response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session], apply="1", absent="user2")
    assert messages_of(response) == ["Recorded a no-show on 1 session."]
    due_session.refresh_from_db()
    assert (due_session.status, due_session.no_show_user) == ("no_show", bob)
    ledger = ReputationLedger.objects.get(session=due_session)
    assert (ledger.user, ledger.reason, ledger.points) == (bob, "no_show", -25)
    bob_profile, alice_profile = UserProfile.objects.get(user=bob), UserProfile.objects.get(user=alice)
    assert (bob_profile.reputation, bob_profile.no_show_count, bob_profile.no_show_sessions) == (-25, 1, 1)
    assert (alice_profile.reputation, alice_profile.no_show_count, alice_profile.no_show_sessions) == (0, 0, 1)
    event = SessionEvent.objects.get(session=due_session)
    assert (event.kind, event.actor, event.data["absent"], event.data["by_moderator"]) == ("no_show", mod, "user2",
                                                                                          True)


def test_it_marks_user1_absent_in_bulk(mod, due_session, make_session, alice):
    other = make_session(starts_in=-timedelta(hours=2), venue_name="Later Bar")
    act(web_client(mod), SESSIONS, "mark_no_show", [due_session, other], apply="1", absent="user1")
    for s in (due_session, other):
        s.refresh_from_db()
        assert (s.status, s.no_show_user) == ("no_show", alice)
    profile = UserProfile.objects.get(user=alice)
    assert (profile.reputation, profile.no_show_count) == (-20, 2)
    assert ReputationLedger.objects.filter(user=alice, reason="no_show").count() == 2


def test_it_redecides_a_completed_session_once(mod, due_session, alice, bob):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    assert UserProfile.objects.get(user=alice).reputation == 10
    response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session], apply="1", absent="user1")
    assert messages_of(response) == ["Recorded a no-show on 1 session."]
    reasons = sorted(ReputationLedger.objects.filter(session=due_session).values_list("user__username", "reason",
                                                                                      "points"))
    assert reasons == [
        ("alice", "completion", 10), ("alice", "completion_reversed", -10), ("alice", "no_show", -10),
        ("bob", "completion", 25), ("bob", "completion_reversed", -25),
    ]
    alice_profile, bob_profile = UserProfile.objects.get(user=alice), UserProfile.objects.get(user=bob)
    assert (alice_profile.reputation, alice_profile.completed_sessions, alice_profile.no_show_count) == (-10, 0, 1)
    assert (bob_profile.reputation, bob_profile.completed_sessions) == (0, 0)


def test_it_reports_a_refused_second_redecision(mod, due_session, unchanged):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    services.session_cancel_by_moderator(session_id=due_session.pk, moderator=mod, reason="dispute")
    with unchanged():
        response = act(web_client(mod), SESSIONS, "mark_no_show", [due_session], apply="1", absent="user1")
    assert messages_of(response) == [
        f"Refused: The Blue Door @ {due_session.scheduled_time:%Y-%m-%d %H:%M}: "
        "This session's outcome was already changed by a moderator once."
    ]
