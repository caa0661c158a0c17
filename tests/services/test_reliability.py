"""reliability_percent (kept by the services when a session becomes final) and the booking limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.errors import Conflict, NotParticipant
from sessions_app.models import SessionEvent, UserProfile, WingmanSession

from .conftest import profile


def _finish(make_session, user, how: str, n: int):
    """One session of alice and bob, finished as ``how`` through the services."""
    session = make_session(starts_in=timedelta(days=1 + n) if how.startswith("cancel") else -timedelta(minutes=20))
    if how == "cancel_late":
        WingmanSession.objects.filter(pk=session.pk).update(scheduled_time=timezone.now() + timedelta(minutes=30))
    if how in ("cancel", "cancel_late"):
        services.session_cancel(session_id=session.pk, user=user, reason="cannot")
    elif how == "complete":
        services.session_confirm(session_id=session.pk, user=session.user1)
        services.session_confirm(session_id=session.pk, user=session.user2)
    elif how == "no_show_of_bob":
        services.session_check_in(session_id=session.pk, user=session.user1)
        services.session_report_no_show(session_id=session.pk, user=session.user1)
    return session


def test_it_is_null_until_three_sessions_have_finished(make_session, alice, bob):
    _finish(make_session, alice, "complete", 0)
    _finish(make_session, alice, "complete", 1)
    assert profile(alice).reliability_percent is None
    _finish(make_session, alice, "complete", 2)
    assert profile(alice).reliability_percent == 100 and profile(bob).reliability_percent == 100


def test_no_shows_and_late_cancels_count_against_only_whoever_did_them(make_session, alice, bob):
    _finish(make_session, alice, "complete", 0)
    _finish(make_session, alice, "no_show_of_bob", 1)
    _finish(make_session, alice, "cancel_late", 2)  # alice, late: her penalty
    _finish(make_session, bob, "cancel", 3)  # bob, well ahead: not unreliable
    assert profile(alice).reliability_percent == 75
    assert profile(bob).reliability_percent == 75
    for user in (alice, bob):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}


def test_cancellations_that_are_nobodys_doing_do_not_count(make_session, match, alice, bob):
    for n in range(3):
        _finish(make_session, alice, "complete", n)
    _finish(make_session, alice, "no_show_of_bob", 3)
    make_session(starts_in=timedelta(days=9))
    services.match_block(match_id=match.pk, user=alice)  # cancelled by the system: "blocked"
    assert profile(bob).reliability_percent == 75


@pytest.mark.parametrize(("score", "limit"), [(None, 10), (59, 1), (60, 3), (79, 3), (80, 10), (100, 10)])
def test_the_limit_follows_the_score(alice, score, limit):
    assert rules.booking_limit(UserProfile(user=alice, reliability_percent=score)) == limit


def _schedule(user, match, challenge, days):
    return services.session_schedule(user=user, match_id=match.pk, venue_name="Park", user1_challenge_id=challenge.pk,
                                     user2_challenge_id=challenge.pk,
                                     scheduled_time=timezone.now() + timedelta(days=days))


def test_scheduling_past_the_limit_is_refused_saying_whose(match, alice, bob, easy_challenge, mod, unchanged):
    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=50)
    _schedule(alice, match, easy_challenge, 2)
    for user, whose in ((alice, "Your buddy's"), (bob, "Your")):
        with unchanged(), pytest.raises(Conflict) as refused:
            _schedule(user, match, easy_challenge, 3)
        assert refused.value.code == "booking_limit" and refused.value.message.startswith(whose)
        assert refused.value.data == {"user_id": bob.pk, "limit": 1, "reliability_percent": 50}
    services.profile_waive_booking_limit(user_id=bob.pk, moderator=mod)
    assert _schedule(alice, match, easy_challenge, 3).status == "scheduled"
    audit = SessionEvent.objects.get(kind="booking_limit_waived")
    assert (audit.actor, audit.subject_user, audit.data["waived"]) == (mod, bob, True)


def test_only_moderators_waive(alice, bob, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.profile_waive_booking_limit(user_id=bob.pk, moderator=alice)
