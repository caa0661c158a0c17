"""session_check_in: opens 30 minutes before; the first check-in starts the session."""

import uuid
from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import Conflict, NotFound, NotParticipant, RuleViolation
from tests.services.conftest import FINAL_STATES, events, fresh


def test_it_starts_the_session_on_the_first_check_in(make_session, alice):
    session = make_session(starts_in=timedelta(minutes=29))
    services.session_check_in(session_id=session.pk, user=alice)

    stored = fresh(session)
    assert stored.status == "in_progress"
    assert stored.user1_checked_in_at is not None
    assert stored.user2_checked_in_at is None
    assert stored.started_at == stored.user1_checked_in_at == stored.running_since
    assert stored.version == session.version + 1
    assert events(stored) == [("checked_in", alice.pk), ("started", alice.pk)]


def test_it_records_the_buddy_checking_in_later(running_session, bob):
    started_at = running_session.started_at
    services.session_check_in(session_id=running_session.pk, user=bob)

    stored = fresh(running_session)
    assert stored.status == "in_progress"
    assert stored.started_at == started_at
    assert stored.user2_checked_in_at is not None
    assert stored.version == running_session.version + 1
    assert events(stored) == [("checked_in", bob.pk)]


def test_it_refuses_check_in_more_than_30_minutes_before(make_session, alice, unchanged):
    session = make_session(starts_in=timedelta(minutes=31))
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_check_in(session_id=session.pk, user=alice)
    assert refusal.value.code == "check_in_not_open"
    assert "opens_at" in refusal.value.data


def test_it_refuses_a_second_check_in(running_session, alice, unchanged):
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_check_in(session_id=running_session.pk, user=alice)
    assert refusal.value.code == "already_checked_in"


def test_it_refuses_an_outsider(due_session, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant) as refusal:
        services.session_check_in(session_id=due_session.pk, user=carol)
    assert refusal.value.code == "not_participant"


def test_it_refuses_an_unknown_session(alice, unchanged):
    with unchanged(), pytest.raises(NotFound):
        services.session_check_in(session_id=uuid.uuid4(), user=alice)


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final):
    session = make_session(starts_in=-timedelta(minutes=5), **final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_check_in(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"


def test_it_refuses_when_the_user_has_another_session_in_progress(
    make_session, running_session, alice_dave_match, alice, unchanged
):
    other = make_session(of_match=alice_dave_match, starts_in=timedelta(minutes=5))
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_check_in(session_id=other.pk, user=alice)
    assert refusal.value.code == "another_session_in_progress"


def test_it_refuses_when_the_buddy_has_another_session_in_progress(
    make_session, running_session, alice_dave_match, dave, unchanged
):
    # alice is busy with bob; dave cannot pull her into a second running session.
    other = make_session(of_match=alice_dave_match, starts_in=timedelta(minutes=5))
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_check_in(session_id=other.pk, user=dave)
    assert refusal.value.code == "another_session_in_progress"


def test_it_allows_a_new_session_once_the_other_one_ended(
    make_session, running_session, alice_dave_match, alice, bob
):
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)
    other = make_session(of_match=alice_dave_match, starts_in=timedelta(minutes=5))
    services.session_check_in(session_id=other.pk, user=alice)
    assert fresh(other).status == "in_progress"
