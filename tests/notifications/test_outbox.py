"""The outbox rows each session change writes, in its own transaction."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services as notify
from notifications.models import Kind, Notification, Status
from sessions_app import services
from sessions_app.models import UserProfile, WingmanSession

REMINDERS = {Kind.REMINDER_24H: timedelta(hours=24), Kind.REMINDER_1H: timedelta(hours=1),
             Kind.CHECK_IN_OPEN: timedelta(minutes=30), Kind.CONFIRM_BUDDY: -timedelta(hours=1)}


def rows(**filters):
    return list(Notification.objects.filter(**filters).order_by("due_at", "recipient_id", "kind"))


def unread(user) -> int:
    return UserProfile.objects.get(pk=user.pk).notifications_unread


def test_it_tells_the_buddy_and_plans_both_participants_reminders(schedule, alice, bob):
    session = schedule()
    told = rows(kind=Kind.SESSION_SCHEDULED)
    assert [(n.recipient, n.status) for n in told] == [(bob, Status.PENDING)]
    assert told[0].shown_at is not None and unread(bob) == 1 and unread(alice) == 0
    for kind, before in REMINDERS.items():
        planned = rows(kind=kind)
        assert {n.recipient for n in planned} == {alice, bob}
        assert {n.due_at for n in planned} == {session.scheduled_time - before}
        assert all(n.status == Status.PENDING and n.shown_at is None for n in planned)
    assert all(n.expires_at == session.scheduled_time for n in rows(kind=Kind.REMINDER_1H))


def test_it_leaves_out_reminders_already_past_due(schedule):
    session = schedule(starts_in=timedelta(minutes=45))
    assert {n.kind for n in rows(session=session)} == {Kind.SESSION_SCHEDULED, Kind.CHECK_IN_OPEN,
                                                       Kind.CONFIRM_BUDDY}


def test_a_rolled_back_schedule_notifies_no_one(schedule, bob):
    with pytest.raises(RuntimeError), transaction.atomic():
        schedule()
        assert Notification.objects.exists()  # written inside the transaction...
        raise RuntimeError("the request failed after scheduling")
    assert not Notification.objects.exists()  # ...and gone with it
    assert unread(bob) == 0 and not WingmanSession.objects.exists()


def test_a_rolled_back_cancel_supersedes_nothing(schedule, bob):
    session = schedule()
    before = list(Notification.objects.order_by("pk").values())
    with pytest.raises(RuntimeError), transaction.atomic():
        services.session_cancel(session_id=session.pk, user=bob, reason="Feeling unwell")
        raise RuntimeError("boom")
    assert list(Notification.objects.order_by("pk").values()) == before


def test_a_cancel_supersedes_the_reminders_and_tells_the_other(schedule, alice, bob):
    session = schedule()
    services.session_cancel(session_id=session.pk, user=bob, reason="Feeling unwell")
    cancelled = rows(kind=Kind.SESSION_CANCELLED)
    assert [(n.recipient, n.payload["reason"]) for n in cancelled] == [(alice, "Feeling unwell")]
    assert {n.status for n in rows(kind__in=list(REMINDERS))} == {Status.SUPERSEDED}
    assert rows(kind=Kind.SESSION_SCHEDULED)[0].status == Status.SUPERSEDED


def test_a_moderators_cancel_tells_both(schedule, alice, bob, mod):
    session = schedule()
    services.session_cancel_by_moderator(session_id=session.pk, moderator=mod, reason="Venue closed")
    assert {n.recipient for n in rows(kind=Kind.SESSION_CANCELLED)} == {alice, bob}


def test_a_check_in_tells_the_buddy(make_session, alice, bob):
    session = make_session(starts_in=timedelta(minutes=10))
    services.session_check_in(session_id=session.pk, user=alice)
    assert [n.recipient for n in rows(kind=Kind.BUDDY_CHECKED_IN)] == [bob]
    assert unread(bob) == 1


def test_a_completion_tells_both_with_their_points(schedule, alice, bob, mod):
    session = schedule()
    services.session_complete_by_moderator(session_id=session.pk, moderator=mod)
    points = {n.recipient: n.payload["points"] for n in rows(kind=Kind.SESSION_COMPLETED)}
    assert points == {alice: 10, bob: 25}
    assert {n.status for n in rows(kind__in=list(REMINDERS))} == {Status.SUPERSEDED}


def test_a_no_show_tells_the_absent_user(schedule, bob, mod):
    session = schedule()
    services.session_mark_no_show(session_id=session.pk, moderator=mod, absent_user_id=bob.pk)
    assert [n.recipient for n in rows(kind=Kind.NO_SHOW_REPORTED)] == [bob]
    assert {n.status for n in rows(kind__in=list(REMINDERS))} == {Status.SUPERSEDED}


def test_a_move_supersedes_the_old_reminders_and_plans_new_ones(schedule, alice, bob):
    session = schedule()
    old = session.scheduled_time
    session.scheduled_time = old + timedelta(days=1)
    session.version += 1
    session.save()
    notify.notify_session_rescheduled(session=session, actor=alice)
    assert {n.status for n in rows(kind__in=list(REMINDERS), due_at__lt=old)} == {Status.SUPERSEDED}
    fresh = rows(kind=Kind.REMINDER_1H, status=Status.PENDING)
    assert {n.due_at for n in fresh} == {session.scheduled_time - timedelta(hours=1)}
    assert [n.recipient for n in rows(kind=Kind.SESSION_RESCHEDULED)] == [bob]


def test_a_move_supersedes_a_claimed_reminder_unless_its_mail_has_started(schedule, alice, bob):
    session = schedule()
    now = timezone.now()
    claimed, started = rows(kind=Kind.REMINDER_24H)
    Notification.objects.filter(pk=claimed.pk).update(status=Status.SENDING, claim=uuid.uuid4())
    Notification.objects.filter(pk=started.pk).update(status=Status.SENDING, claim=uuid.uuid4(), smtp_started_at=now)
    session.scheduled_time += timedelta(days=1)
    session.version += 1
    session.save()
    notify.notify_session_rescheduled(session=session, actor=alice)
    claimed.refresh_from_db()
    started.refresh_from_db()
    assert (claimed.status, claimed.last_error) == (Status.SUPERSEDED, "the session was moved")
    assert started.status == Status.SENDING  # it may be at the server already: its worker records the outcome


def test_it_respects_the_recipients_preferences(schedule, bob):
    notify.preference_set(user=bob, kind=Kind.SESSION_SCHEDULED, in_app=False)
    notify.preference_set(user=bob, kind=Kind.REMINDER_24H, email=False, in_app=False)
    schedule()
    told = rows(kind=Kind.SESSION_SCHEDULED)
    assert [(n.email, n.in_app, n.shown_at) for n in told] == [(True, False, None)]
    assert unread(bob) == 0
    assert [n.recipient for n in rows(kind=Kind.REMINDER_24H)] != [] and bob not in [
        n.recipient for n in rows(kind=Kind.REMINDER_24H)]


def test_an_in_app_only_notification_due_now_is_shown_and_its_mail_skipped(schedule, bob):
    notify.preference_set(user=bob, kind=Kind.SESSION_SCHEDULED, email=False)
    schedule()
    [told] = rows(kind=Kind.SESSION_SCHEDULED)
    assert (told.status, told.last_error, told.email, told.emailed_at) == (
        Status.SKIPPED, "e-mail is off for this kind", False, None)
    assert told.shown_at is not None and told.finished_at is not None
    assert unread(bob) == 1


def test_a_second_identical_reminder_is_not_written(schedule, bob):
    session = schedule()
    before = Notification.objects.count()
    notify._write(notify._reminders(session, now=timezone.now()), session=session, now=timezone.now())
    assert Notification.objects.count() == before  # every reminder already existed
    assert len(rows(kind=Kind.REMINDER_1H)) == 2
