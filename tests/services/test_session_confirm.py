from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import Conflict, NotParticipant, RuleViolation
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile


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
