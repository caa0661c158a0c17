"""session_cancel: a participant, before the start, with a reason; late cancels cost ceil(points / 2)."""

from datetime import timedelta

import pytest

from sessions_app import services
from sessions_app.errors import InvalidInput, NotParticipant, RuleViolation
from sessions_app.models import ReputationLedger
from tests.services.conftest import FINAL_STATES, events, fresh, profile


def test_it_cancels_early_without_a_penalty(session, alice, bob):
    services.session_cancel(session_id=session.pk, user=alice, reason="Flu, sorry")

    stored = fresh(session)
    assert stored.status == "cancelled"
    assert stored.cancellation_reason == "Flu, sorry"
    assert stored.cancelled_by_id == alice.pk
    assert stored.cancelled_at is not None
    assert stored.cancellation_penalty == 0
    assert stored.version == session.version + 1
    assert events(stored) == [("cancelled", alice.pk)]
    assert stored.events.get().data == {"reason": "Flu, sorry", "penalty": 0, "by_moderator": False}
    assert not ReputationLedger.objects.exists()
    assert profile(alice).reputation == 0
    assert profile(alice).cancelled_sessions == profile(bob).cancelled_sessions == 1


def test_it_charges_half_the_points_rounded_up_when_late(make_session, bob):
    session = make_session(starts_in=timedelta(hours=1))
    services.session_cancel(session_id=session.pk, user=bob, reason="Missed the train")

    stored = fresh(session)
    assert stored.cancellation_penalty == 13  # bob carries 25 points
    assert profile(bob).reputation == -13
    ledger = ReputationLedger.objects.get()
    assert (ledger.user_id, ledger.reason, ledger.points) == (bob.pk, "late_cancel", -13)


def test_the_penalty_is_the_cancellers_own_challenge(make_session, alice, bob):
    session = make_session(starts_in=timedelta(hours=1))
    services.session_cancel(session_id=session.pk, user=alice, reason="Missed the train")
    assert fresh(session).cancellation_penalty == 5  # alice carries 10 points
    assert profile(alice).reputation == -5
    assert profile(bob).reputation == 0


def test_the_late_window_is_two_hours(make_session, alice):
    just_early = make_session(starts_in=timedelta(hours=2, minutes=1))
    just_late = make_session(starts_in=timedelta(hours=1, minutes=59))
    services.session_cancel(session_id=just_early.pk, user=alice, reason="x")
    services.session_cancel(session_id=just_late.pk, user=alice, reason="x")
    assert fresh(just_early).cancellation_penalty == 0
    assert fresh(just_late).cancellation_penalty == 5


def test_it_still_cancels_a_due_session_nobody_started_with_the_penalty(due_session, alice):
    services.session_cancel(session_id=due_session.pk, user=alice, reason="Could not find it")
    assert fresh(due_session).cancellation_penalty == 5


def test_it_keeps_the_reason_as_typed_minus_scripts(session, alice):
    services.session_cancel(session_id=session.pk, user=alice, reason="<i>Rain</i><script>x()</script> a<b")
    assert fresh(session).cancellation_reason == "<i>Rain</i> a<b"


@pytest.mark.parametrize("reason", ["", "   ", None, "<style>p{}</style>", "x" * 501, 7])
def test_it_requires_a_reason(session, alice, unchanged, reason):
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        services.session_cancel(session_id=session.pk, user=alice, reason=reason)
    assert "reason" in refusal.value.fields


def test_it_refuses_after_the_start(running_session, bob, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_cancel(session_id=running_session.pk, user=bob, reason="Changed my mind")
    assert refusal.value.code == "already_started"


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final):
    session = make_session(**final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_cancel(session_id=session.pk, user=alice, reason="x")
    assert refusal.value.code == "session_final"


def test_it_refuses_an_outsider(session, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.session_cancel(session_id=session.pk, user=carol, reason="Sabotage")


def test_a_participant_cannot_claim_to_be_a_moderator(session, alice, unchanged):
    with unchanged(), pytest.raises(NotParticipant) as refusal:
        services.session_cancel_by_moderator(session_id=session.pk, moderator=alice, reason="x")
    assert refusal.value.code == "not_moderator"
