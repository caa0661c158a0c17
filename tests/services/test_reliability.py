"""reliability_percent (kept by the services when a session becomes final) and the booking limits."""

import math
import random
from datetime import timedelta

import pytest
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.errors import Conflict, NotParticipant
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile, WingmanSession
from sessions_app.reliability import reliability_refresh, reliability_scores

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


def _by_the_definition(user_id) -> int | None:
    """SPEC's definition read straight off the rows, one user at a time (what sessions_app.reliability's one
    statement must agree with)."""
    late = ReputationLedger.objects.filter(user_id=user_id, reason="late_reschedule", session=OuterRef("pk"))
    rows = list(
        WingmanSession.objects.filter(Q(user1_id=user_id) | Q(user2_id=user_id),
                                      status__in=["completed", "cancelled", "no_show"])
        .exclude(status="cancelled", cancelled_by__isnull=True)
        .annotate(late=Exists(late)).order_by("-finished_at", "-id")
        .values_list("no_show_user_id", "cancelled_by_id", "cancellation_penalty", "late")[:20]
    )
    if len(rows) < 3:
        return None
    kept = sum(1 for absent, canceller, penalty, late in rows
               if not (absent == user_id or (canceller == user_id and penalty) or late))
    return math.floor(100 * kept / len(rows) + 0.5)


def test_one_statement_scores_everyone_as_the_definition_does(make_session, match, carol_match, alice, bob, carol,
                                                              dave, mod):
    chance = random.Random(11)
    now = timezone.now()
    for n in range(60):
        pair = chance.choice([match, carol_match])
        user1, user2 = pair.user1, pair.user2
        outcome = chance.choice(["completed", "no_show", "cancelled_by", "cancelled_late", "system", "open"])
        fields = {"status": "cancelled" if outcome.startswith("cancelled") or outcome == "system" else outcome,
                  "finished_at": None if n % 13 == 0 else now - timedelta(hours=chance.randrange(1, 500))}
        if outcome == "open":
            fields = {"status": "scheduled"}
        elif outcome == "completed":
            fields["completed_at"] = now
        elif outcome == "no_show":
            fields["no_show_user"] = chance.choice([user1, user2])
        elif outcome == "system":
            fields["cancellation_reason"] = chance.choice(["expired", "blocked", "erased"])
        else:
            fields["cancelled_by"] = chance.choice([user1, user2, mod])
            fields["cancellation_penalty"] = 5 if outcome == "cancelled_late" else 0
        session = make_session(of_match=pair, starts_in=-timedelta(days=n), **fields)
        if outcome != "open" and chance.random() < 0.15:
            ReputationLedger.objects.create(user=chance.choice([user1, user2]), session=session,
                                            reason="late_reschedule", points=-5)
    users = [alice, bob, carol, dave, mod]
    UserProfile.objects.filter(pk__in=[u.pk for u in users]).update(reliability_percent=None)

    assert reliability_refresh() >= 1
    expected = {u.pk: _by_the_definition(u.pk) for u in users}
    assert dict(UserProfile.objects.filter(pk__in=expected).values_list("pk", "reliability_percent")) == expected
    assert len({score for score in expected.values() if score is not None}) >= 3  # the data is varied enough
    two = [alice.pk, carol.pk]
    assert reliability_scores(user_ids=two) == {pk: expected[pk] for pk in two}
    assert reliability_refresh() == 0  # nothing changed: nothing written


@pytest.mark.parametrize(("kept", "finished", "score"), [(5, 8, 63), (1, 8, 13), (2, 3, 67), (1, 3, 33)])
def test_it_rounds_half_up(make_session, alice, bob, kept, finished, score):
    for n in range(finished):
        make_session(starts_in=-timedelta(days=n + 1), status="no_show", no_show_user=bob if n < kept else alice,
                     finished_at=timezone.now() - timedelta(days=n))
    assert reliability_scores(user_ids=[alice.pk]) == {alice.pk: score}
