"""Moderator action: rebuild reputation counters from the ledger (profiles, and session participants)."""

from sessions_app import services
from sessions_app.models import UserProfile
from tests.conftest import web_client

from .conftest import PROFILES, SESSIONS, act, change_url, messages_of


def test_it_repairs_drift_of_a_profile(mod, due_session, alice, bob):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    UserProfile.objects.filter(user=alice).update(reputation=999, completed_sessions=7)
    profile = UserProfile.objects.get(user=alice)
    response = act(web_client(mod), PROFILES, "rebuild_reputation", [profile])
    assert messages_of(response) == [
        "alice: repaired completed_sessions 7 → 1, reputation 999 → 10.",
        "Rebuilt the reputation of 1 user.",
    ]
    profile.refresh_from_db()
    assert (profile.reputation, profile.completed_sessions) == (10, 1)


def test_it_leaves_counters_without_drift_alone(mod, due_session, alice, unchanged):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    with unchanged():
        response = act(web_client(mod), PROFILES, "rebuild_reputation", [UserProfile.objects.get(user=alice)])
    assert messages_of(response) == ["Rebuilt the reputation of 1 user."]


def test_it_rebuilds_both_participants_of_selected_sessions(mod, due_session, session, alice, bob):
    services.session_complete_by_moderator(session_id=due_session.pk, moderator=mod)
    UserProfile.objects.filter(user__in=[alice, bob]).update(reputation=0, completed_sessions=0)
    response = act(web_client(mod), SESSIONS, "rebuild_participants_reputation", [due_session, session])
    assert messages_of(response)[-1] == "Rebuilt the reputation of 2 users."
    assert UserProfile.objects.get(user=alice).reputation == 10
    assert UserProfile.objects.get(user=bob).reputation == 25


def test_it_rebuilds_from_the_profile_page(mod, alice):
    profile = UserProfile.objects.get(user=alice)
    page = web_client(mod).get(change_url(profile)).content.decode()
    assert 'value="rebuild_reputation"' in page
    UserProfile.objects.filter(user=alice).update(reputation=5)
    response = act(web_client(mod), PROFILES, "rebuild_reputation", [profile], _from_change="1")
    assert response["Location"] == change_url(profile)
    profile.refresh_from_db()
    assert profile.reputation == 0
