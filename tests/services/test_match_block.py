"""match_block: the match ends, its open sessions are cancelled ("blocked", no penalty), the pair is never
scheduled again; report_review: moderators work the reports queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from sessions_app import services
from sessions_app.errors import Conflict, NotFound, NotParticipant
from sessions_app.models import Block, Report, ReputationLedger, SessionEvent, WingmanMatch

from .conftest import fresh, profile


def _schedule(user, match, challenge, days=2):
    return services.session_schedule(user=user, match_id=match.pk, venue_name="Somewhere",
                                     scheduled_time=timezone.now() + timedelta(days=days),
                                     user1_challenge_id=challenge.pk, user2_challenge_id=challenge.pk)


def test_it_ends_the_match_and_cancels_upcoming_and_running_sessions_without_penalty(
        match, make_session, running_session, alice, bob):
    late = make_session(starts_in=timedelta(minutes=30))  # a participant cancelling now would pay
    later = make_session(starts_in=timedelta(days=3))
    services.match_block(match_id=match.pk, user=alice, reason="rude")
    assert WingmanMatch.objects.get().status == "ended"
    for session in (late, later, running_session):
        row = fresh(session)
        assert (row.status, row.cancellation_reason, row.cancelled_by_id, row.cancellation_penalty) == (
            "cancelled", "blocked", None, 0)
    assert not ReputationLedger.objects.exists()
    assert profile(alice).running_session_id is None and profile(bob).running_session_id is None
    assert profile(bob).cancelled_sessions == 3
    block = Block.objects.get()
    assert (block.blocker, block.blocked, block.reason) == (alice, bob, "rude")
    assert not Report.objects.exists()
    audit = SessionEvent.objects.get(kind="blocked")
    assert (audit.actor, audit.match_id, audit.data["report"]) == (alice, match.pk, None)
    assert services.reputation_rebuild(user_id=bob.pk, fix=False) == {}


def test_finished_sessions_stay_as_they_are(match, make_session, alice):
    done = make_session(starts_in=-timedelta(days=2), status="completed", completed_at=timezone.now())
    services.match_block(match_id=match.pk, user=alice)
    assert fresh(done).status == "completed"


def test_with_report_it_files_an_open_report(match, alice, bob):
    services.match_block(match_id=match.pk, user=bob, reason="no-show again", report=True)
    report = Report.objects.get()
    assert (report.reporter, report.reported, report.match, report.status, report.reason) == (
        bob, alice, match, "open", "no-show again")


def test_the_pair_can_never_be_scheduled_again_by_either_side(match, alice, bob, easy_challenge, unchanged):
    services.match_block(match_id=match.pk, user=alice)
    again = WingmanMatch.objects.create(user1=bob, user2=alice, status="accepted")  # even a new match
    for user in (alice, bob):
        with unchanged(), pytest.raises(Conflict) as refused:
            _schedule(user, again, easy_challenge)
        assert refused.value.code == "blocked"


def test_other_pairs_are_not_affected(match, carol_match, carol, easy_challenge, alice):
    services.match_block(match_id=match.pk, user=alice)
    assert _schedule(carol, carol_match, easy_challenge).status == "scheduled"


def test_it_refuses_blocking_twice_and_outsiders(match, alice, carol, unchanged):
    services.match_block(match_id=match.pk, user=alice)
    with unchanged(), pytest.raises(Conflict) as refused:
        services.match_block(match_id=match.pk, user=alice)
    assert refused.value.code == "already_blocked"
    with unchanged(), pytest.raises(NotParticipant):
        services.match_block(match_id=match.pk, user=carol)


def test_the_blocked_user_may_block_back(match, alice, bob):
    services.match_block(match_id=match.pk, user=alice)
    services.match_block(match_id=match.pk, user=bob)
    assert Block.objects.count() == 2


def test_a_moderator_reviews_a_report_once(match, alice, bob, mod, unchanged):
    services.match_block(match_id=match.pk, user=alice, report=True)
    report = Report.objects.get()
    services.report_review(report_id=report.pk, moderator=mod)
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("reviewed", mod)
    assert report.reviewed_at is not None
    audit = SessionEvent.objects.get(kind="report_reviewed")
    assert (audit.actor, audit.subject_user, audit.data["report"]) == (mod, bob, report.pk)
    with unchanged(), pytest.raises(Conflict):
        services.report_review(report_id=report.pk, moderator=mod)
    with unchanged(), pytest.raises(NotParticipant):
        services.report_review(report_id=report.pk, moderator=alice)
    with unchanged(), pytest.raises(NotFound):
        services.report_review(report_id=report.pk + 100, moderator=mod)


def _notifications(kind: str) -> list[tuple]:
    rows = Notification.objects.filter(kind=kind)
    return sorted(rows.values_list("recipient__username", "status", "payload__reason"))


def test_only_the_blocked_user_hears_of_the_cancellation_and_neutrally(match, alice, bob, easy_challenge):
    scheduled = _schedule(bob, match, easy_challenge)  # alice is told (her e-mail still pending)
    services.session_reschedule_propose(session_id=scheduled.pk, user=bob,
                                        scheduled_time=timezone.now() + timedelta(days=3))
    assert Notification.objects.filter(recipient=alice, status="pending", session=scheduled).count() >= 2

    services.match_block(match_id=match.pk, user=alice, reason="rude")

    row = fresh(scheduled)
    assert (row.cancellation_reason, row.blocked_by_id) == ("blocked", alice.pk)
    assert _notifications("session_cancelled") == [("bob", "pending", "")]
    # What bob did before the block no longer reaches alice.
    assert not Notification.objects.filter(recipient=alice, status="pending").exists()
    assert set(Notification.objects.filter(recipient=alice).values_list("status", flat=True)) == {"superseded"}
    cancel = SessionEvent.objects.get(session=scheduled, kind="cancelled")
    assert (cancel.actor, cancel.data["reason"], cancel.data["blocked"]) == (None, "blocked", bob.pk)


def test_the_blocked_users_dispute_of_an_earlier_outcome_does_not_reach_the_blocker(
        match, make_session, alice, bob, mod):
    first, second = (make_session(starts_in=-timedelta(hours=hours)) for hours in (3, 4))
    for earlier in (first, second):
        services.session_cancel_by_moderator(session_id=earlier.pk, moderator=mod, reason="Rain")
    services.session_dispute(session_id=first.pk, user=bob, reason="It did not rain")
    assert _notifications("dispute_opened") == [("alice", "pending", None), ("bob", "pending", None)]
    Notification.objects.all().delete()

    services.match_block(match_id=match.pk, user=alice)
    services.session_dispute(session_id=second.pk, user=bob, reason="It did not rain either")
    assert _notifications("dispute_opened") == [("bob", "pending", None)]


def test_every_match_of_the_pair_ends_and_its_open_sessions_are_cancelled(match, make_session, alice, bob):
    other = WingmanMatch.objects.create(user1=bob, user2=alice, status="accepted")
    elsewhere = make_session(of_match=other, starts_in=timedelta(days=2))
    services.match_block(match_id=match.pk, user=bob)
    assert set(WingmanMatch.objects.values_list("status", flat=True)) == {"ended"}
    row = fresh(elsewhere)
    assert (row.status, row.cancellation_reason, row.blocked_by_id) == ("cancelled", "blocked", bob.pk)
    audit = SessionEvent.objects.get(kind="blocked")
    assert audit.data["cancelled"] == [str(elsewhere.pk)] and audit.data["other_matches_ended"] == [str(other.pk)]
    assert services.reputation_rebuild(user_id=alice.pk, fix=False) == {}


def test_a_moderators_later_decision_is_no_longer_the_blocks(match, session, alice, bob, mod):
    services.match_block(match_id=match.pk, user=alice)
    services.session_complete_by_moderator(session_id=session.pk, moderator=mod)
    row = fresh(session)
    assert (row.status, row.cancellation_reason, row.blocked_by_id, row.redecisions) == ("completed", "", None, 1)
    assert _notifications("session_completed") == [("alice", "pending", None), ("bob", "pending", None)]
