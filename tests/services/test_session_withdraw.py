"""session_withdraw: the system cancels an open session for nobody's doing (here: a demo refresh)."""

from datetime import timedelta

import pytest

from sessions_app import rules, services
from sessions_app.errors import InvalidInput, RuleViolation
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile


def test_it_cancels_a_running_session_without_penalty(make_session, alice):
    s = make_session(starts_in=-timedelta(minutes=5))
    services.session_check_in(session_id=s.pk, user=alice)
    services.session_withdraw(session_id=s.pk, reason=rules.DEMO_REFRESHED_REASON)
    s.refresh_from_db()
    assert (s.status, s.cancelled_by_id, s.cancellation_reason, s.cancellation_penalty) == (
        "cancelled", None, "demo refreshed", 0)
    assert not ReputationLedger.objects.exists()
    assert UserProfile.objects.get(user=alice).running_session_id is None  # free for another session
    event = SessionEvent.objects.filter(session=s).latest("id")
    assert (event.kind, event.actor_id, event.data["reason"]) == ("cancelled", None, "demo refreshed")
    assert rules.allowed_actions(s, alice, s.finished_at)["dispute"]["code"] == "not_disputable"


def test_it_refuses_a_reason_of_its_own(session, unchanged):
    with unchanged(), pytest.raises(InvalidInput):
        services.session_withdraw(session_id=session.pk, reason="because")


def test_it_leaves_a_final_session_alone(due_session, alice, bob, unchanged):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    with unchanged(), pytest.raises(RuleViolation):
        services.session_withdraw(session_id=due_session.pk, reason=rules.DEMO_REFRESHED_REASON)
