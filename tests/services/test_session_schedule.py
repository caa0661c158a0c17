"""session_schedule: an accepted match, a member of it, a future time, active challenges; snapshots taken."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import InvalidInput, NotParticipant, RuleViolation
from sessions_app.models import WingmanMatch, WingmanSession
from tests.services.conftest import events, profile


@pytest.fixture
def schedule(match, easy_challenge, hard_challenge):
    """Schedule with good defaults; override any argument."""

    def call(user, **overrides):
        arguments = dict(
            match_id=match.pk,
            venue_name="The Blue Door",
            scheduled_time=timezone.now() + timedelta(days=1),
            user1_challenge_id=easy_challenge.pk,
            user2_challenge_id=hard_challenge.pk,
        )
        arguments.update(overrides)
        return services.session_schedule(user=user, **arguments)

    return call


def test_it_schedules_a_session_with_snapshots(schedule, match, alice, bob, easy_challenge, hard_challenge):
    when = timezone.now() + timedelta(days=2)
    session = schedule(alice, scheduled_time=when)

    stored = WingmanSession.objects.get(pk=session.pk)
    assert stored.status == "scheduled"
    assert stored.match_id == match.pk
    assert (stored.user1_id, stored.user2_id) == (alice.pk, bob.pk)
    assert stored.scheduled_time == when
    assert stored.version == 1
    assert stored.challenge_snapshot("user1") == {
        "title": easy_challenge.title, "description": easy_challenge.description,
        "difficulty": "beginner", "points": 10,
    }
    assert stored.challenge_snapshot("user2")["points"] == 25
    assert not stored.user1_completed_confirmed_by_user2 and not stored.user2_completed_confirmed_by_user1
    assert events(stored) == [("scheduled", alice.pk)]
    assert profile(alice).total_sessions == 1
    assert profile(bob).total_sessions == 1


def test_it_lets_user2_schedule_too(schedule, bob):
    session = schedule(bob)
    assert events(session) == [("scheduled", bob.pk)]


def test_it_keeps_the_venue_as_typed_minus_scripts_and_extra_spaces(schedule, alice):
    session = schedule(alice, venue_name="  <b>Blue</b>   Door<script>alert(1)</script> ")
    assert WingmanSession.objects.get(pk=session.pk).venue_name == "<b>Blue</b> Door"


def test_it_refuses_an_outsider(schedule, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant) as refusal:
        schedule(carol)
    assert refusal.value.code == "not_participant"


@pytest.mark.parametrize("status", ["pending", "declined", "ended"])
def test_it_refuses_a_match_that_is_not_accepted(schedule, match, alice, unchanged, status):
    WingmanMatch.objects.filter(pk=match.pk).update(status=status)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        schedule(alice)
    assert refusal.value.code == "match_not_accepted"


def test_it_refuses_a_time_in_the_past(schedule, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        schedule(alice, scheduled_time=timezone.now() - timedelta(minutes=1))
    assert refusal.value.code == "time_in_past"


def test_it_refuses_a_time_more_than_a_year_ahead(schedule, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        schedule(alice, scheduled_time=timezone.now() + timedelta(days=400))
    assert refusal.value.code == "time_too_far"


def test_it_refuses_an_unknown_match(schedule, alice, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        schedule(alice, match_id=uuid.uuid4())
    assert list(refusal.value.fields) == ["match_id"]


def test_it_refuses_an_inactive_challenge(schedule, alice, easy_challenge, unchanged):
    easy_challenge.is_active = False
    easy_challenge.save()
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        schedule(alice)
    assert list(refusal.value.fields) == ["user1_challenge_id"]


@pytest.mark.parametrize("venue", ["", "   ", "<script>x</script>", "x" * 201, 42])
def test_it_refuses_a_bad_venue(schedule, alice, unchanged, venue):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        schedule(alice, venue_name=venue)
    assert "venue_name" in refusal.value.fields


def test_it_names_every_bad_field_at_once(schedule, alice, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        schedule(alice, venue_name="", user2_challenge_id=uuid.uuid4(), match_id=uuid.uuid4())
    assert set(refusal.value.fields) == {"venue_name", "user2_challenge_id", "match_id"}


def test_editing_a_challenge_later_never_changes_the_snapshot(schedule, alice, bob, easy_challenge, hard_challenge):
    session = schedule(alice)
    easy_challenge.title = "Renamed"
    easy_challenge.description = "Something else"
    easy_challenge.difficulty = "advanced"
    easy_challenge.points = 99
    easy_challenge.save()
    hard_challenge.is_active = False
    hard_challenge.save()

    stored = WingmanSession.objects.get(pk=session.pk)
    assert stored.challenge_snapshot("user1") == {
        "title": "Ask for a recommendation", "description": "Ask a stranger what to order.",
        "difficulty": "beginner", "points": 10,
    }
    # The points earned later are the snapshot's, not the edited challenge's.
    WingmanSession.objects.filter(pk=session.pk).update(scheduled_time=timezone.now() - timedelta(minutes=1))
    services.session_confirm(session_id=session.pk, user=alice)
    services.session_confirm(session_id=session.pk, user=bob)
    assert profile(alice).reputation == 10
    assert profile(bob).reputation == 25
