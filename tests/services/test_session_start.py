"""session_start: an explicit start moves a scheduled session to in_progress without a check-in."""

from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import Conflict, NotParticipant, RuleViolation
from tests.services.conftest import FINAL_STATES, events, fresh


def test_it_starts_a_scheduled_session(make_session, bob):
    session = make_session(starts_in=timedelta(minutes=20))
    services.session_start(session_id=session.pk, user=bob)

    stored = fresh(session)
    assert stored.status == "in_progress"
    assert stored.started_at is not None and stored.running_since == stored.started_at
    assert stored.user1_checked_in_at is None and stored.user2_checked_in_at is None
    assert stored.version == session.version + 1
    assert events(stored) == [("started", bob.pk)]


def test_it_refuses_to_start_more_than_30_minutes_early(make_session, alice, unchanged):
    session = make_session(starts_in=timedelta(minutes=31))
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_start(session_id=session.pk, user=alice)
    assert refusal.value.code == "start_not_open"


def test_it_refuses_a_session_already_started(running_session, bob, unchanged):
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_start(session_id=running_session.pk, user=bob)
    assert refusal.value.code == "already_started"


def test_it_refuses_an_outsider(due_session, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.session_start(session_id=due_session.pk, user=carol)


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final):
    session = make_session(starts_in=-timedelta(minutes=5), **final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_start(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"


def test_it_allows_one_session_in_progress_per_user(make_session, running_session, alice_dave_match, alice, unchanged):
    other = make_session(of_match=alice_dave_match, starts_in=timedelta(minutes=5))
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_start(session_id=other.pk, user=alice)
    assert refusal.value.code == "another_session_in_progress"


def test_it_does_not_mind_other_users_sessions_in_progress(make_session, carol_match, alice, carol):
    theirs = make_session(of_match=carol_match, starts_in=timedelta(minutes=5))
    services.session_start(session_id=theirs.pk, user=carol)
    mine = make_session(starts_in=timedelta(minutes=5))
    services.session_start(session_id=mine.pk, user=alice)
    assert fresh(theirs).status == fresh(mine).status == "in_progress"
