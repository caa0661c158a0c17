"""Moderators decide through the same services: complete, cancel, no-show; a final outcome can be re-decided once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import Conflict, InvalidInput, NotParticipant, RuleViolation
from sessions_app.models import ReputationLedger
from tests.services.conftest import events, fresh, profile


def ledger(session) -> list[tuple]:
    rows = ReputationLedger.objects.filter(session=session).order_by("id")
    return list(rows.values_list("user__username", "reason", "points"))


def counters(user) -> tuple:
    p = profile(user)
    return p.reputation, p.completed_sessions, p.no_show_count, p.cancelled_sessions, p.no_show_sessions


@pytest.fixture
def completed(running_session, alice, bob):
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)
    return running_session


def test_it_completes_an_open_session(session, mod, alice, bob):
    services.session_complete_by_moderator(session_id=session.pk, moderator=mod)

    stored = fresh(session)
    assert stored.status == "completed" and stored.completed_at is not None
    assert stored.user1_completed_confirmed_by_user2 and stored.user2_completed_confirmed_by_user1
    assert stored.version == session.version + 1
    assert events(stored) == [("completed", mod.pk)]
    assert stored.events.get().data["by_moderator"] is True
    assert ledger(stored) == [("alice", "completion", 10), ("bob", "completion", 25)]
    assert counters(alice)[:2] == (10, 1) and counters(bob)[:2] == (25, 1)


@pytest.mark.parametrize("who", ["alice", "staff", "carol"])
def test_only_moderators_may_decide(session, request, unchanged, who):
    user = request.getfixturevalue(who)
    with unchanged():
        with pytest.raises(NotParticipant) as refusal:
            services.session_complete_by_moderator(session_id=session.pk, moderator=user)
        assert refusal.value.code == "not_moderator"
        with pytest.raises(NotParticipant):
            services.session_cancel_by_moderator(session_id=session.pk, moderator=user, reason="x")
        with pytest.raises(NotParticipant):
            services.session_mark_no_show(session_id=session.pk, moderator=user, absent_user_id=session.user2_id)


def test_an_inactive_moderator_is_refused(session, mod, unchanged):
    mod.is_active = False
    mod.save()
    with unchanged(), pytest.raises(NotParticipant):
        services.session_complete_by_moderator(session_id=session.pk, moderator=mod)


def test_it_cancels_a_running_session_without_a_penalty(running_session, mod, alice, bob):
    services.session_cancel_by_moderator(session_id=running_session.pk, moderator=mod, reason="Venue closed")
    stored = fresh(running_session)
    assert stored.status == "cancelled"
    assert stored.cancelled_by_id == mod.pk and stored.cancellation_penalty == 0
    assert events(stored) == [("cancelled", mod.pk)]
    assert stored.events.get().data["by_moderator"] is True
    assert ledger(stored) == []
    assert counters(alice)[3] == counters(bob)[3] == 1


def test_it_marks_a_named_participant_absent_at_any_time(session, mod, alice, bob):
    services.session_mark_no_show(session_id=session.pk, moderator=mod, absent_user_id=alice.pk)
    stored = fresh(session)
    assert stored.status == "no_show" and stored.no_show_user_id == alice.pk
    assert events(stored) == [("no_show", mod.pk)]
    assert ledger(stored) == [("alice", "no_show", -10)]
    assert counters(alice)[:3] == (-10, 0, 1)


@pytest.mark.parametrize("absent", [None, "carol", "garbage"])
def test_it_needs_the_absent_participant_named(session, mod, carol, unchanged, absent):
    absent_user_id = {None: None, "carol": carol.pk, "garbage": "x"}[absent]
    with unchanged(), pytest.raises(InvalidInput) as refusal:
        services.session_mark_no_show(session_id=session.pk, moderator=mod, absent_user_id=absent_user_id)
    assert "absent_user_id" in refusal.value.fields


def test_it_reverses_a_completion_when_cancelling_it(completed, mod, alice, bob):
    services.session_cancel_by_moderator(session_id=completed.pk, moderator=mod, reason="Fake confirmations")

    stored = fresh(completed)
    assert stored.status == "cancelled" and stored.completed_at is None
    assert not stored.user1_completed_confirmed_by_user2 and not stored.user2_completed_confirmed_by_user1
    assert events(stored)[-1] == ("cancelled", mod.pk)
    assert stored.events.order_by("id").last().data["redecided_from"] == "completed"
    assert ledger(stored) == [
        ("alice", "completion", 10), ("bob", "completion", 25),
        ("alice", "completion_reversed", -10), ("bob", "completion_reversed", -25),
    ]
    assert counters(alice) == (0, 0, 0, 1, 0)
    assert counters(bob) == (0, 0, 0, 1, 0)
    assert profile(alice).total_active_seconds == profile(bob).total_active_seconds == 0
    assert services.reputation_rebuild(user_id=alice.pk) == services.reputation_rebuild(user_id=bob.pk) == {}


def test_it_turns_a_late_cancel_into_a_no_show(make_session, mod, alice, bob):
    session = make_session(starts_in=timedelta(hours=1))
    services.session_cancel(session_id=session.pk, user=bob, reason="Late")
    services.session_mark_no_show(session_id=session.pk, moderator=mod, absent_user_id=bob.pk)

    stored = fresh(session)
    assert stored.status == "no_show" and stored.no_show_user_id == bob.pk
    assert stored.cancellation_penalty == 0 and stored.cancelled_by_id is None and stored.cancellation_reason == ""
    assert ledger(stored) == [("bob", "late_cancel", -13), ("bob", "late_cancel_reversed", 13), ("bob", "no_show", -25)]
    assert counters(bob) == (-25, 0, 1, 0, 1)
    assert counters(alice) == (0, 0, 0, 0, 1)


def test_it_completes_a_no_show(make_session, mod, alice, bob):
    now = timezone.now()
    session = make_session(starts_in=-timedelta(minutes=30), status="in_progress", user1_checked_in_at=now,
                           started_at=now, running_since=now)
    services.session_report_no_show(session_id=session.pk, user=alice)
    services.session_complete_by_moderator(session_id=session.pk, moderator=mod)

    assert fresh(session).status == "completed" and fresh(session).no_show_user_id is None
    assert counters(bob) == (25, 1, 0, 0, 0)
    assert counters(alice) == (10, 1, 0, 0, 0)
    assert services.reputation_rebuild(user_id=bob.pk) == {}


def test_a_final_session_can_be_re_decided_only_once(completed, mod, alice, unchanged):
    services.session_cancel_by_moderator(session_id=completed.pk, moderator=mod, reason="Dispute")
    with unchanged():
        with pytest.raises(Conflict) as refusal:
            services.session_complete_by_moderator(session_id=completed.pk, moderator=mod)
        assert refusal.value.code == "already_redecided"
        with pytest.raises(Conflict):
            services.session_mark_no_show(session_id=completed.pk, moderator=mod, absent_user_id=alice.pk)


def test_it_refuses_deciding_the_state_a_session_is_in(completed, mod, unchanged):
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_complete_by_moderator(session_id=completed.pk, moderator=mod)
    assert refusal.value.code == "already_in_state"


def test_participants_still_cannot_change_a_re_decided_session(completed, mod, alice, unchanged):
    services.session_cancel_by_moderator(session_id=completed.pk, moderator=mod, reason="Dispute")
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_confirm(session_id=completed.pk, user=alice)
    assert refusal.value.code == "session_final"
