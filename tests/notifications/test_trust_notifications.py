"""The trust features notify like every other change: in the same transaction, to the right person."""

from datetime import timedelta

from notifications.models import Kind, Notification, Status
from sessions_app import services


def told(kind) -> list:
    return list(Notification.objects.filter(kind=kind).order_by("recipient_id").values_list("recipient_id", flat=True))


def test_a_proposal_tells_the_buddy_and_an_acceptance_tells_the_proposer(session, alice, bob):
    new_time = session.scheduled_time + timedelta(days=1)
    services.session_reschedule_propose(session_id=session.pk, user=alice, scheduled_time=new_time)
    assert told(Kind.RESCHEDULE_PROPOSED) == [bob.pk]
    services.session_reschedule_accept(session_id=session.pk, user=bob)
    assert told(Kind.SESSION_RESCHEDULED) == [alice.pk]
    # The reminders follow the new time; none is left for the old one.
    reminders = Notification.objects.filter(kind=Kind.REMINDER_1H)
    assert {n.due_at for n in reminders.exclude(status=Status.SUPERSEDED)} == {new_time - timedelta(hours=1)}


def test_a_decline_tells_the_proposer_and_a_withdrawal_tells_nobody(session, alice, bob):
    later = session.scheduled_time + timedelta(days=1)
    services.session_reschedule_propose(session_id=session.pk, user=alice, scheduled_time=later)
    services.session_reschedule_decline(session_id=session.pk, user=bob)
    assert told(Kind.RESCHEDULE_DECLINED) == [alice.pk]
    services.session_reschedule_propose(session_id=session.pk, user=alice, scheduled_time=later)
    services.session_reschedule_decline(session_id=session.pk, user=alice)
    assert told(Kind.RESCHEDULE_DECLINED) == [alice.pk]


def test_a_dispute_and_its_resolution_tell_both(due_session, alice, bob, mod):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    session = services.session_dispute(session_id=due_session.pk, user=bob, reason="Alice was not there")
    assert told(Kind.DISPUTE_OPENED) == [alice.pk, bob.pk]
    services.dispute_resolve(dispute_id=session.current_dispute_id, moderator=mod, decision="uphold",
                             note="Both confirmed at the venue")
    assert told(Kind.DISPUTE_RESOLVED) == [alice.pk, bob.pk]
