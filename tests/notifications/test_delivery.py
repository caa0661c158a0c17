"""The sweep against a real SMTP server: each row at most once, at its time, retried while the server is down."""

import threading
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from notifications.models import Kind, Notification, Status
from notifications.services import notifications_deliver_due
from sessions_app import services
from tests.conftest import command_output, on_postgres, require_or_skip
from tests.services.test_concurrency import race


def deliver(at=None) -> str:
    return command_output("deliver_notifications", *(["--now", at.isoformat(), "--force"] if at else []))


def test_it_delivers_a_due_mail_once(smtp, schedule, bob):
    schedule()
    deliver()
    deliver()
    mails = smtp.inbox.to("bob@example.com")
    assert [m["Subject"] for m in mails] == ["Alice scheduled a session with you"]
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.attempts) == (Status.SENT, 1) and row.emailed_at is not None
    assert mails[0]["Message-ID"] == f"<{row.key}@notifications.wingmanmatch>"


def test_reminders_go_out_at_their_time_to_both(smtp, schedule):
    session = schedule()
    deliver(session.scheduled_time - timedelta(hours=24, seconds=1))
    assert not [m for _, m in smtp.inbox.messages if "Tomorrow" in m["Subject"]]
    deliver(session.scheduled_time - timedelta(hours=24))
    tomorrow = [(rcpt, m) for rcpt, m in smtp.inbox.messages if m["Subject"].startswith("Tomorrow")]
    assert sorted(r[0] for r, _ in tomorrow) == ["alice@example.com", "bob@example.com"]
    assert not [m for _, m in smtp.inbox.messages if m["Subject"].startswith("In an hour")]
    assert set(Notification.objects.filter(kind=Kind.REMINDER_24H).values_list("status", flat=True)) == {"sent"}


def test_a_cancelled_sessions_reminders_never_go_out(smtp, schedule, bob):
    session = schedule()
    services.session_cancel(session_id=session.pk, user=bob, reason="Feeling unwell")
    deliver(session.scheduled_time - timedelta(minutes=30))
    subjects = [m["Subject"] for _, m in smtp.inbox.messages]
    assert subjects == ["Session at Corner Coffee House cancelled"]
    assert smtp.inbox.to("alice@example.com")[0]["Subject"] == subjects[0]


def test_a_moved_sessions_old_reminder_is_superseded_by_the_worker(smtp, schedule):
    session = schedule()
    old = session.scheduled_time
    session.scheduled_time = old + timedelta(hours=3)  # as a reschedule that did not supersede would leave it
    session.save()
    deliver(old - timedelta(hours=1))
    assert not [m for _, m in smtp.inbox.messages if m["Subject"].startswith(("In an hour", "Tomorrow"))]
    stale = Notification.objects.filter(kind=Kind.REMINDER_1H)
    assert set(stale.values_list("status", "last_error")) == {(Status.SUPERSEDED, "the session was moved")}


def test_a_check_in_reminder_is_not_sent_to_who_already_checked_in(smtp, schedule, alice):
    session = schedule(starts_in=timedelta(minutes=40))
    session.user1_checked_in_at = timezone.now()
    session.save()
    deliver(session.scheduled_time - timedelta(minutes=30))
    assert [m["Subject"] for m in smtp.inbox.to("alice@example.com")] == []
    assert [m["Subject"] for m in smtp.inbox.to("bob@example.com")] == [
        "Alice scheduled a session with you", "Check-in is open for Corner Coffee House"]


@pytest.mark.reliability("fault", "mail server down, then up")
def test_smtp_down_then_up_delivers_once_after_recovery(smtp, schedule):
    schedule()
    smtp.down()
    now = timezone.now()
    deliver(now)
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.PENDING, 1, now + timedelta(seconds=1))
    assert "ConnectionRefusedError" in row.last_error
    deliver(now + timedelta(milliseconds=500))  # before the backoff: not tried again
    assert Notification.objects.get(pk=row.pk).attempts == 1
    smtp.up()
    deliver(now + timedelta(seconds=1))
    deliver(now + timedelta(seconds=5))
    assert len(smtp.inbox.to("bob@example.com")) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def test_it_fails_after_the_last_try_and_moderators_see_the_error(smtp, schedule, client, mod):
    schedule()
    smtp.down()
    now = timezone.now()
    for seconds in (0, 1, 3, 10):  # backoff [1, 2]: three tries, then nothing more
        deliver(now + timedelta(seconds=seconds))
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.attempts) == (Status.FAILED, 3) and "ConnectionRefusedError" in row.last_error
    client.force_login(mod)
    page = client.get("/admin/notifications/notification/?status__exact=failed")
    assert page.status_code == 200 and b"ConnectionRefusedError" in page.content


@pytest.mark.reliability("fault", "delivery worker gone mid-send (lease runs out)")
def test_a_row_left_sending_past_its_lease_becomes_unknown_and_is_never_resent(smtp, schedule, settings):
    schedule()
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    now = timezone.now()
    # A worker claimed it, started to send it, and died before recording anything.
    Notification.objects.filter(pk=row.pk).update(status=Status.SENDING, attempts=1, lease_until=now,
                                                  claim=uuid.uuid4(), smtp_started_at=now)
    assert "unknown (lease ran out) 1" in deliver(now + timedelta(seconds=1))
    deliver(now + timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN and "lease ran out while the mail was being sent" in row.last_error
    assert smtp.inbox.to("bob@example.com") == []


@pytest.mark.reliability("fault", "delivery worker gone before sending (lease runs out)")
def test_a_row_claimed_by_a_worker_that_died_before_sending_is_sent_once_after_its_lease(smtp, schedule):
    schedule()
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    now = timezone.now()
    # A worker claimed it and died before the mail started to go: the server cannot have it.
    Notification.objects.filter(pk=row.pk).update(status=Status.SENDING, attempts=1, lease_until=now,
                                                  claim=uuid.uuid4())
    deliver(now)  # the lease has not run out: left alone
    assert Notification.objects.get(pk=row.pk).status == Status.SENDING and smtp.inbox.messages == []
    assert "tried again (lease ran out before sending) 1" in deliver(now + timedelta(seconds=1))
    deliver(now + timedelta(hours=1))
    row.refresh_from_db()
    assert (row.status, row.attempts, row.emailed_at) == (Status.SENT, 2, now + timedelta(seconds=1))
    assert [m["Subject"] for m in smtp.inbox.to("bob@example.com")] == ["Alice scheduled a session with you"]


def test_a_worker_that_lost_its_claim_sends_nothing(smtp, schedule):
    """A hung worker whose lease ran out and whose row went to another worker cannot start the mail."""
    from notifications import services as notify

    schedule()
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    now = timezone.now()
    assert notify._claim(row.pk, now, uuid.uuid4())
    hung = Notification.objects.get(pk=row.pk)
    later = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1)
    assert notify.notifications_deliver_due(now=later).outcomes == {Status.SENT: 1}
    assert not notify._start_sending(hung, now) and not notify._show(hung, now)
    notify._record(hung, Status.FAILED, now=now, error="the hung worker's late word")
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
    assert len(smtp.inbox.to("bob@example.com")) == 1


def test_it_refuses_a_future_now_with_debug_off_unless_forced(smtp, schedule, settings):
    session = schedule()
    settings.DEBUG = False
    at = session.scheduled_time - timedelta(hours=24)
    with pytest.raises(CommandError, match="future"):
        call_command("deliver_notifications", "--now", at.isoformat())
    assert not Notification.objects.filter(status=Status.SENT).exists()
    call_command("deliver_notifications", "--now", at.isoformat(), "--force", stdout=StringIO())
    assert Notification.objects.filter(kind=Kind.REMINDER_24H, status=Status.SENT).count() == 2


def test_it_refuses_a_now_that_is_not_iso_8601(db):
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("deliver_notifications", "--now", "tomorrow")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.reliability("race", "two notification sweeps at the same instant")
def test_two_sweeps_at_once_deliver_each_mail_once(smtp, make_session, match, alice):
    require_or_skip(on_postgres(), "concurrent sweeps need PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    from notifications import services as notify

    for hours in range(30):
        notify.notify_session_scheduled(session=make_session(starts_in=timedelta(days=3, hours=hours)), actor=alice)
    reports = race(notifications_deliver_due, notifications_deliver_due)
    assert not [r for r in reports if isinstance(r, Exception)], reports
    ids = [m["Message-ID"] for m in smtp.inbox.to("bob@example.com")]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sum(r.outcomes["sent"] for r in reports) == 30
    assert Notification.objects.filter(kind=Kind.SESSION_SCHEDULED, status=Status.SENT).count() == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.reliability("race", "a cancel while its mail is being sent")
def test_a_cancel_does_not_wait_for_a_mail_being_sent(smtp, schedule, alice, bob):
    """The SMTP conversation holds no row lock: a cancel superseding reminders goes through meanwhile."""
    require_or_skip(on_postgres(), "lock waits need PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    session = schedule()
    inside, release = threading.Event(), threading.Event()
    accept = smtp.inbox.handle_DATA

    async def slow_accept(server, smtp_session, envelope):
        inside.set()
        release.wait(timeout=20)
        return await accept(server, smtp_session, envelope)

    smtp.inbox.handle_DATA = slow_accept
    worker = threading.Thread(target=lambda: (notifications_deliver_due(), connection.close()))
    worker.start()
    try:
        assert inside.wait(timeout=10), "the mail never reached the server"
        started = time.monotonic()
        services.session_cancel(session_id=session.pk, user=bob, reason="Plans changed")
        waited = time.monotonic() - started
    finally:
        release.set()
        worker.join(timeout=30)
    assert waited < 2, f"the cancel waited {waited:.1f} s for the mail in flight"
    statuses = dict(Notification.objects.filter(recipient=alice).values_list("kind", "status").distinct())
    assert statuses[Kind.REMINDER_24H] == Status.SUPERSEDED
    assert Notification.objects.get(kind=Kind.SESSION_SCHEDULED).status == Status.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.reliability("race", "a cancel after its mail was claimed, before the mail started")
def test_a_mail_claimed_before_a_cancel_is_not_sent_after_it(smtp, schedule, alice, bob):
    """The worker has claimed the buddy's mail and is still connecting when the session is cancelled:
    the cancel supersedes the claimed row without waiting, and the worker then sends nothing."""
    require_or_skip(on_postgres(), "concurrent delivery needs PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    session = schedule()
    hold = smtp.hold("EHLO")
    reports = []
    worker = threading.Thread(target=lambda: (reports.append(notifications_deliver_due()), connection.close()))
    worker.start()
    try:
        assert hold.reached.wait(timeout=10), "the worker never reached the server"
        row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
        assert (row.status, row.smtp_started_at) == (Status.SENDING, None)
        started = time.monotonic()
        services.session_cancel(session_id=session.pk, user=bob, reason="Plans changed")
        waited = time.monotonic() - started
    finally:
        hold.released.set()
        worker.join(timeout=30)
    assert waited < 2, f"the cancel waited {waited:.1f} s for the claimed mail"
    assert reports and reports[0].outcomes == {Status.SUPERSEDED: 1}, reports
    row.refresh_from_db()
    assert (row.status, row.last_error, row.emailed_at, row.smtp_started_at) == (
        Status.SUPERSEDED, "the session was cancelled", None, None)
    assert smtp.inbox.messages == []
    smtp.inbox.hold = None
    deliver()
    assert [m["Subject"] for m in smtp.inbox.to("alice@example.com")] == ["Session at Corner Coffee House cancelled"]
    assert smtp.inbox.to("bob@example.com") == [] and Notification.objects.get(pk=row.pk).status == Status.SUPERSEDED


@pytest.mark.reliability("fault", "mail server times out mid-conversation")
def test_a_timeout_mid_conversation_is_unknown_and_never_resent(smtp, schedule, settings):
    """The server may have taken the mail before the answer was lost: at most once means no retry."""
    import asyncio

    settings.EMAIL_TIMEOUT = 1
    schedule()
    accept = smtp.inbox.handle_DATA

    async def slow_accept(server, smtp_session, envelope):
        answer = await accept(server, smtp_session, envelope)  # the server has the mail...
        await asyncio.sleep(1.5)  # ...but its answer comes after the client gave up
        return answer

    smtp.inbox.handle_DATA = slow_accept
    now = timezone.now()
    deliver(now)
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert row.status == Status.UNKNOWN and "timed out" in row.last_error.lower()
    smtp.inbox.handle_DATA = accept
    deliver(now + timedelta(hours=1))
    assert len(smtp.inbox.to("bob@example.com")) == 1
    assert Notification.objects.get(pk=row.pk).status == Status.UNKNOWN


def test_a_mail_that_cannot_be_written_fails_at_once(smtp, schedule, bob):
    schedule()
    bob.email = "bob@example.com\nBcc: everyone@example.com"
    bob.save()
    deliver()
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.attempts) == (Status.FAILED, 1) and "could not write" in row.last_error
    assert smtp.inbox.messages == []


def test_an_unsubscribe_after_writing_stops_the_mail_at_delivery(smtp, schedule, bob):
    from notifications.services import preference_set

    schedule()
    preference_set(user=bob, kind=Kind.SESSION_SCHEDULED, email=False)
    deliver()
    assert smtp.inbox.to("bob@example.com") == []
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.last_error, row.emailed_at, row.shown_at is not None) == (
        Status.SKIPPED, "e-mail is off for this kind", None, True)


def test_a_recipient_without_an_address_is_skipped_and_moderators_see_it(smtp, schedule, bob, client, mod):
    schedule()
    bob.email = ""
    bob.save()
    deliver()
    row = Notification.objects.get(kind=Kind.SESSION_SCHEDULED)
    assert (row.status, row.last_error, row.emailed_at) == (
        Status.SKIPPED, "the recipient has no e-mail address", None)
    assert row.shown_at is not None and smtp.inbox.messages == []
    client.force_login(mod)
    page = client.get("/admin/notifications/notification/?status__exact=skipped").content.decode()
    assert f'href="/admin/notifications/notification/{row.pk}/change/' in page
    assert '<td class="field-status">Skipped (no e-mail to send)</td>' in page
    assert '<td class="field-short_error">the recipient has no e-mail address</td>' in page
