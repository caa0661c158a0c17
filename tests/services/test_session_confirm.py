from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import Conflict, InvalidInput, NotFound, NotParticipant, RuleViolation
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile
from tests.services.conftest import FINAL_STATES, events, fresh, profile


def test_it_completes_when_both_confirm(due_session, alice, bob):
    first = services.session_confirm(session_id=due_session.pk, user=alice)
    assert first.both_confirmed is False
    second = services.session_confirm(session_id=due_session.pk, user=bob)
    assert second.both_confirmed is True
    assert second.reputation_updated is True
    assert second.user_reputation_delta == 25

    due_session.refresh_from_db()
    assert due_session.status == "completed"
    assert due_session.completed_at is not None
    assert due_session.user1_completed_confirmed_by_user2 and due_session.user2_completed_confirmed_by_user1
    assert UserProfile.objects.get(user=alice).reputation == 10
    assert UserProfile.objects.get(user=bob).reputation == 25
    assert UserProfile.objects.get(user=alice).completed_sessions == 1
    assert ReputationLedger.objects.filter(session=due_session, reason="completion").count() == 2
    kinds = list(SessionEvent.objects.filter(session=due_session).values_list("kind", flat=True))
    assert kinds == ["confirmed", "confirmed", "completed"]


def test_it_refuses_a_second_confirm_by_the_same_user(due_session, alice, unchanged):
    services.session_confirm(session_id=due_session.pk, user=alice)
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_confirm(session_id=due_session.pk, user=alice)
    assert refusal.value.code == "already_confirmed"


def test_it_refuses_an_outsider(due_session, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.session_confirm(session_id=due_session.pk, user=carol)


def test_it_refuses_self_confirmation(due_session, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_confirm(session_id=due_session.pk, user=alice, buddy_id=alice.pk)
    assert refusal.value.code == "self_confirmation"


def test_it_refuses_before_time_without_check_in(session, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_confirm(session_id=session.pk, user=alice)
    assert refusal.value.code == "confirm_too_early"


def test_it_allows_early_confirm_after_check_in(make_session, alice):
    soon = make_session(starts_in=timedelta(minutes=10))
    services.session_check_in(session_id=soon.pk, user=alice)
    result = services.session_confirm(session_id=soon.pk, user=alice)
    assert result.session.user2_completed_confirmed_by_user1 is True


# --- further rules ---------------------------------------------------------------------------

def test_it_records_the_first_confirmation_and_bumps_the_version(due_session, alice):
    services.session_confirm(session_id=due_session.pk, user=alice)
    stored = fresh(due_session)
    assert stored.status == "scheduled"
    assert stored.user2_completed_confirmed_by_user1 is True
    assert stored.user1_completed_confirmed_by_user2 is False
    assert stored.version == due_session.version + 1
    assert events(stored) == [("confirmed", alice.pk)]
    assert not ReputationLedger.objects.exists()


def test_it_completes_from_in_progress_with_the_second_confirmer_as_actor(running_session, alice, bob):
    services.session_confirm(session_id=running_session.pk, user=bob)
    result = services.session_confirm(session_id=running_session.pk, user=alice)
    assert result.both_confirmed and result.user_reputation_delta == 10
    stored = fresh(running_session)
    assert stored.status == "completed"
    assert stored.version == running_session.version + 2
    assert events(stored) == [("confirmed", bob.pk), ("confirmed", alice.pk), ("completed", alice.pk)]
    completed = stored.events.get(kind="completed")
    assert completed.data["points"] == {str(alice.pk): 10, str(bob.pk): 25}


def test_a_replayed_confirm_after_completion_is_a_conflict_and_adds_nothing(due_session, alice, bob, unchanged):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    for user in (alice, bob):
        with unchanged(), pytest.raises(Conflict) as refusal:
            services.session_confirm(session_id=due_session.pk, user=user)
        assert refusal.value.code == "already_confirmed"
    assert profile(alice).reputation == 10 and profile(alice).completed_sessions == 1
    assert profile(bob).reputation == 25 and profile(bob).completed_sessions == 1


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final):
    session = make_session(starts_in=-timedelta(hours=1), **final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_confirm(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"


def test_it_accepts_naming_the_buddy(due_session, alice, bob):
    services.session_confirm(session_id=due_session.pk, user=alice, buddy_id=bob.pk)
    assert fresh(due_session).user2_completed_confirmed_by_user1 is True


def test_it_refuses_naming_someone_else(due_session, alice, carol, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        services.session_confirm(session_id=due_session.pk, user=alice, buddy_id=carol.pk)
    assert "buddy_id" in refusal.value.fields


def test_the_buddys_check_in_does_not_open_an_early_confirm(make_session, alice, bob, unchanged):
    soon = make_session(starts_in=timedelta(minutes=10))
    services.session_check_in(session_id=soon.pk, user=bob)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_confirm(session_id=soon.pk, user=alice)
    assert refusal.value.code == "confirm_too_early"


def test_it_refuses_an_unknown_session(alice, unchanged):
    with unchanged(), pytest.raises(NotFound):
        services.session_confirm(session_id="00000000-0000-0000-0000-000000000000", user=alice)

