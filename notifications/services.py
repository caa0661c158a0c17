"""Every state change of notifications: writing the outbox, delivering it, reading and preferences.

The ``notify_*`` functions are the public entry points for other apps. They
are called by the sessions services inside their own transaction, so a change
that rolls back leaves no notification behind. They only write rows; the sweep
(``notifications_deliver_due``, run by ``manage.py deliver_notifications`` and
the Celery beat task) delivers them later:

1. claim one due row with a conditional UPDATE (pending -> sending, with a
   lease and a claim token) and commit it, so no row lock is held while a
   mail is on its way;
2. re-check the session (a reminder for a cancelled or moved session is
   superseded, never sent);
3. show it in-app, connect to the mail server, and commit ``smtp_started_at``
   right before the message goes, each step only while the row is still this
   claim's: a cancel or move supersedes a claimed row up to that last step
   (without waiting for it), so a mail claimed before a cancel is not sent
   after it;
4. send the e-mail outside any transaction, under the row's stable Message-ID;
5. record the result: sent; skipped when there is no e-mail to send; pending
   again after a backoff while the mail server refuses; failed after the last
   try; "unknown" when the outcome cannot be known (a timeout mid-conversation,
   or a worker that died after the message started to go).
   A row is never sent again once it might have been sent: at most once. A
   worker that died before that point leaves a row that is safely tried again.
"""

import hashlib
import logging
import secrets
import smtplib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sessions_app import rules
from sessions_app.batches import delete_oldest_in_batches
from sessions_app.models import OPEN_STATUSES, Block, SessionStatus, WingmanSession, buddy_of

from .models import UNFINISHED, CalendarToken, Kind, Notification, Preference, Status

logger = logging.getLogger(__name__)

REMINDER_KINDS = (Kind.REMINDER_24H, Kind.REMINDER_1H, Kind.CHECK_IN_OPEN, Kind.CONFIRM_BUDDY)
# How long before the session's time each reminder is due (negative: after it).
REMINDER_OFFSETS = {
    Kind.REMINDER_24H: timedelta(hours=24),
    Kind.REMINDER_1H: timedelta(hours=1),
    Kind.CHECK_IN_OPEN: rules.CHECK_IN_OPENS_BEFORE,
    Kind.CONFIRM_BUDDY: -timedelta(hours=1),
}
# The SMTP replies that say for certain the message was not accepted: safe to try again.
NOT_DELIVERED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                 smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)
# Why a row ends "skipped" (kept in its last_error, shown in the admin).
NO_EMAIL_WANTED = "e-mail is off for this kind"
NO_ADDRESS = "the recipient has no e-mail address"


# --- writing the outbox ---------------------------------------------------------------------


def _channels(user_id, kind: str) -> tuple[bool, bool]:
    """(e-mail, in-app) wanted by this user for this kind; no preference row: both."""
    preference = Preference.objects.filter(user_id=user_id, kind=kind).values_list("email", "in_app").first()
    return preference or (True, True)


def _unread_move(user_id, step: int) -> None:
    # The counter is a column of the profile (read with it by every page); sessions_app owns that table.
    from sessions_app.services import profile_unread_move

    profile_unread_move(user_id=user_id, step=step)


@dataclass(frozen=True)
class _Planned:
    recipient_id: int
    kind: str
    due_at: datetime
    expires_at: datetime
    payload: dict


def _write(planned: list[_Planned], *, session: WingmanSession | None, now: datetime) -> int:
    """Outbox rows in one INSERT (one query for the preferences), skipping a recipient who wants
    neither channel and a row that already exists. Returns how many were planned.

    A row due now is shown in-app at once, in this transaction, so the bell
    moves with the change; its e-mail still waits for the sweep.
    """
    if not planned:
        return 0
    chosen = {
        (user_id, kind): (email, in_app)
        for user_id, kind, email, in_app in Preference.objects.filter(
            user_id__in={p.recipient_id for p in planned}, kind__in={p.kind for p in planned}
        ).values_list("user_id", "kind", "email", "in_app")
    }
    rows, shown = [], Counter()
    for plan in planned:
        email, in_app = chosen.get((plan.recipient_id, plan.kind), (True, True))
        if not (email or in_app):
            continue
        visible = in_app and plan.due_at <= now
        done = visible and not email
        rows.append(Notification(
            recipient_id=plan.recipient_id, kind=plan.kind, session=session, payload=plan.payload,
            due_at=plan.due_at, expires_at=plan.expires_at, email=email, in_app=in_app,
            next_attempt_at=plan.due_at, shown_at=now if visible else None,
            status=Status.SKIPPED if done else Status.PENDING, finished_at=now if done else None,
            last_error=NO_EMAIL_WANTED if done else "",
        ))
        shown[plan.recipient_id] += visible
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    for user_id, count in shown.items():
        if count:
            _unread_move(user_id, count)
    return len(rows)


def _session_payload(session: WingmanSession) -> dict:
    return {"scheduled_time": session.scheduled_time.isoformat(), "venue": session.venue_name,
            "version": session.version}


def _event_expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.NOTIFICATIONS_EVENT_TTL_DAYS)


def _now_for(recipient_ids, kind: str, session: WingmanSession, *, now: datetime, **payload) -> list[_Planned]:
    data = {**_session_payload(session), **payload}
    return [_Planned(user_id, kind, now, _event_expiry(now), data) for user_id in recipient_ids]


def _tell(recipient_ids, kind: str, session: WingmanSession, *, now: datetime, **payload) -> int:
    """Notifications about something that just happened, due now."""
    return _write(_now_for(recipient_ids, kind, session, now=now, **payload), session=session, now=now)


def _reminders(session: WingmanSession, *, now: datetime) -> list[_Planned]:
    """The reminders of a scheduled session for both participants; those already past due are left out."""
    planned = []
    for kind, before in REMINDER_OFFSETS.items():
        due_at = session.scheduled_time - before
        if due_at <= now:
            continue
        # A reminder before the start is worthless once the session starts; "confirm your buddy" lasts
        # until the session is closed as stale.
        expires_at = session.scheduled_time + (rules.STALE_AFTER if kind == Kind.CONFIRM_BUDDY else timedelta(0))
        planned += [_Planned(user_id, kind, due_at, expires_at, _session_payload(session))
                    for user_id in (session.user1_id, session.user2_id)]
    return planned


def _supersede(session: WingmanSession, *, now: datetime, why: str, kinds=REMINDER_KINDS) -> int:
    """Rows of these kinds for this session will not be sent: pending ones, and claimed ones whose mail
    has not started to go (their worker sees it at its next step and stops). A mail already on its way
    is left alone: no lock is waited for."""
    not_started = Q(status=Status.PENDING) | Q(status=Status.SENDING, smtp_started_at__isnull=True)
    return Notification.objects.filter(not_started, session=session, kind__in=kinds).update(
        status=Status.SUPERSEDED, finished_at=now, last_error=why, lease_until=None
    )


def _participants(session: WingmanSession) -> list:
    return [session.user1_id, session.user2_id]


def _others(session: WingmanSession, actor) -> list:
    """The participants other than the actor (both when a moderator or the system acted)."""
    actor_id = getattr(actor, "pk", None)
    return [pk for pk in _participants(session) if pk != actor_id]


def notify_session_scheduled(*, session: WingmanSession, actor) -> None:
    """The buddy hears of the new session (with a calendar invitation); both get their reminders."""
    now = timezone.now()
    _write(_now_for(_others(session, actor), Kind.SESSION_SCHEDULED, session, now=now)
           + _reminders(session, now=now), session=session, now=now)


def notify_session_rescheduled(*, session: WingmanSession, actor) -> None:
    """The session has a new time (call after saving it): the old reminders are superseded, new ones
    planned, and the other participant gets an updated invitation (same UID, higher SEQUENCE)."""
    now = timezone.now()
    _supersede(session, now=now, why="the session was moved")
    _write(_now_for(_others(session, actor), Kind.SESSION_RESCHEDULED, session, now=now)
           + _reminders(session, now=now), session=session, now=now)


def notify_reschedule_proposed(*, session: WingmanSession, actor, proposed_time: datetime) -> None:
    now = timezone.now()
    _tell(_others(session, actor), Kind.RESCHEDULE_PROPOSED, session, now=now, proposed_time=proposed_time.isoformat())


def notify_reschedule_declined(*, session: WingmanSession, actor) -> None:
    now = timezone.now()
    _tell(_others(session, actor), Kind.RESCHEDULE_DECLINED, session, now=now)


def notify_session_cancelled(*, session: WingmanSession, actor) -> None:
    """The other participant (both, when a moderator or the system cancelled) hears of it, with a
    calendar cancellation and the reason as they see it; every reminder still waiting is superseded.

    A cancellation by a block reaches only the blocked user, neutrally (rules.cancellation_reason_for):
    the blocker did it.
    """
    now = timezone.now()
    _supersede(session, now=now, why="the session was cancelled")
    _supersede(session, now=now, why="the session was cancelled", kinds=(Kind.SESSION_SCHEDULED,
                                                                          Kind.SESSION_RESCHEDULED))
    planned = []
    for user_id in _others(session, actor):
        if user_id != session.blocked_by_id:
            planned += _now_for([user_id], Kind.SESSION_CANCELLED, session, now=now,
                                reason=rules.cancellation_reason_for(session, user_id))
    _write(planned, session=session, now=now)


def notify_pair_blocked(*, blocker_id, blocked_id) -> None:
    """Nothing about the pair that is still waiting reaches the blocker any more (whatever the blocked user
    did before the block); rows already on their way are left alone."""
    pair = (Q(session__user1_id=blocker_id, session__user2_id=blocked_id)
            | Q(session__user1_id=blocked_id, session__user2_id=blocker_id))
    Notification.objects.filter(pair, recipient_id=blocker_id, status=Status.PENDING).update(
        status=Status.SUPERSEDED, finished_at=timezone.now(), last_error="the buddy was blocked", lease_until=None
    )


def notify_checked_in(*, session: WingmanSession, user) -> None:
    now = timezone.now()
    _tell(_others(session, user), Kind.BUDDY_CHECKED_IN, session, now=now)


def notify_session_completed(*, session: WingmanSession, earned: dict) -> None:
    """Both participants hear of the completion with the points each earned."""
    now = timezone.now()
    _supersede(session, now=now, why="the session is over")
    for user_id in (session.user1_id, session.user2_id):  # each with their own points
        _tell([user_id], Kind.SESSION_COMPLETED, session, now=now, points=earned.get(user_id, 0))


def notify_no_show(*, session: WingmanSession) -> None:
    """The participant reported absent hears of it, and how to dispute it."""
    now = timezone.now()
    _supersede(session, now=now, why="the session is over")
    _tell([session.no_show_user_id], Kind.NO_SHOW_REPORTED, session, now=now)


def notify_dispute_opened(*, session: WingmanSession, actor) -> None:
    """Both participants, except a buddy who has blocked the one disputing: after a block, disputing an
    earlier outcome is all the blocked user can still do with the pair's sessions (every open one was
    cancelled, no new one can be scheduled), and nothing they do reaches the blocker."""
    now = timezone.now()
    blocking = set(Block.objects.filter(blocked_id=actor.pk, blocker_id__in=_participants(session))
                   .values_list("blocker_id", flat=True))
    _tell([pk for pk in _participants(session) if pk not in blocking], Kind.DISPUTE_OPENED, session, now=now)


def notify_dispute_resolved(*, session: WingmanSession, outcome: str) -> None:
    now = timezone.now()
    _tell(_participants(session), Kind.DISPUTE_RESOLVED, session, now=now, outcome=outcome)


# --- delivering ---------------------------------------------------------------------------


@dataclass
class SweepReport:
    outcomes: Counter = field(default_factory=Counter)
    lost: int = 0  # rows whose lease ran out after their mail started to go: now "unknown"
    retried: int = 0  # rows whose lease ran out before their mail started to go: pending again

    def __str__(self) -> str:
        parts = [f"{name} {count}" for name, count in sorted(self.outcomes.items())]
        if self.lost:
            parts.append(f"unknown (lease ran out) {self.lost}")
        if self.retried:
            parts.append(f"tried again (lease ran out before sending) {self.retried}")
        return ", ".join(parts) or "nothing due"


def _stale_reason(notification: Notification, now: datetime) -> str:
    """Why this row must not go out any more ("" when it still should), from the session as it is now."""
    if notification.expires_at <= now:
        return "expired before it could be delivered"
    session = notification.session
    if session is None or notification.kind not in REMINDER_KINDS + (Kind.SESSION_SCHEDULED,):
        return ""
    if notification.kind == Kind.SESSION_SCHEDULED:
        return "the session was cancelled" if session.status == SessionStatus.CANCELLED else ""
    if notification.payload.get("scheduled_time") != session.scheduled_time.isoformat():
        return "the session was moved"
    if session.status not in OPEN_STATUSES:
        return "the session is over"
    role = session.role_of(notification.recipient)
    if notification.kind == Kind.CHECK_IN_OPEN and session.checked_in_at(role):
        return "the recipient has checked in"
    if notification.kind == Kind.CONFIRM_BUDDY and session.is_confirmed(buddy_of(role)):
        return "the recipient has confirmed"
    if notification.kind in (Kind.REMINDER_24H, Kind.REMINDER_1H) and session.status != SessionStatus.SCHEDULED:
        return "the session has started"
    return ""


def _claim(notification_id, now: datetime, claim: uuid.UUID) -> bool:
    """pending -> sending with a lease, committed at once: whoever's UPDATE matches owns the row, and
    every later step of the delivery is conditional on ``claim`` still being its token."""
    with transaction.atomic():
        return bool(
            Notification.objects.filter(pk=notification_id, status=Status.PENDING, next_attempt_at__lte=now).update(
                status=Status.SENDING, lease_until=now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS),
                attempts=F("attempts") + 1, claim=claim, smtp_started_at=None,
            )
        )


def _claimed(notification: Notification):
    """The row, while it is still this delivery's: not superseded, nor given to another worker."""
    return Notification.objects.filter(pk=notification.pk, claim=notification.claim, status=Status.SENDING)


def _record(notification: Notification, status: str, *, now: datetime, error: str = "", **fields) -> None:
    """The outcome of a claimed row. Also from "unknown": a slow worker may still say how it went."""
    Notification.objects.filter(
        pk=notification.pk, claim=notification.claim, status__in=(Status.SENDING, Status.UNKNOWN)
    ).update(
        status=status, last_error=error[:2000], lease_until=None,
        finished_at=None if status == Status.PENDING else now, **fields,
    )


@transaction.atomic
def _show(notification: Notification, now: datetime) -> bool:
    """In-app from now on; False when the row is no longer this delivery's (a cancel superseded it)."""
    if not _claimed(notification).filter(shown_at__isnull=True).update(shown_at=now):
        return False
    _unread_move(notification.recipient_id, 1)
    return True


def _start_sending(notification: Notification, now: datetime) -> bool:
    """The last step before the message goes, committed: from here on the server may have it, so a
    cancel no longer supersedes the row and a lease that runs out makes it "unknown". False when a
    cancel or move superseded the row since it was claimed (or its lease ran out): nothing is sent."""
    return bool(_claimed(notification).filter(smtp_started_at__isnull=True).update(smtp_started_at=now))


def _given_up(notification: Notification) -> str:
    """What became of a row this delivery lost between two steps (nothing was sent)."""
    status = Notification.objects.filter(pk=notification.pk).values_list("status", flat=True).first()
    return Status.SUPERSEDED if status == Status.SUPERSEDED else "taken"


def _retry_or_fail(notification: Notification, error: Exception, now: datetime) -> str:
    """The server certainly does not have the mail: try again after a backoff, or fail after the last try."""
    backoff = settings.NOTIFICATIONS_RETRY_BACKOFF
    message = f"{type(error).__name__}: {error}"
    if notification.attempts > len(backoff):
        _record(notification, Status.FAILED, now=now, error=message)
        logger.error("notification %s failed after %s tries: %s", notification.pk, notification.attempts, message)
        return Status.FAILED
    next_attempt = now + timedelta(seconds=backoff[notification.attempts - 1])
    if next_attempt >= notification.expires_at:
        _record(notification, Status.FAILED, now=now, error=f"{message} (would expire before the next try)")
        return Status.FAILED
    _record(notification, Status.PENDING, now=now, error=message, next_attempt_at=next_attempt, smtp_started_at=None)
    return "retry"


def _open(connection) -> None:
    """Connect and greet the mail server (Django's backend leaves EHLO to the first send without TLS or
    a login), so that the next thing the server hears after ``smtp_started_at`` is the mail itself."""
    connection.open()
    smtp = getattr(connection, "connection", None)  # the SMTP backend's smtplib client; other backends have none
    if isinstance(smtp, smtplib.SMTP):
        smtp.ehlo_or_helo_if_needed()


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 (the message is already accepted, recorded, or never went)
        pass


def notification_deliver(*, notification_id, now: datetime | None = None) -> str:
    """Deliver one due row if this caller can claim it; returns what happened to it.

    Never call inside a transaction: the claim and each later step must be
    committed before the next one, and the SMTP conversation must hold no lock.
    """
    from .emails import build_message  # the templates need the app registry; keep this import lazy

    now = now or timezone.now()
    claim = uuid.uuid4()
    if not _claim(notification_id, now, claim):
        return "taken"
    notification = (
        Notification.objects.select_related("recipient", "recipient__profile", "session", "session__user1",
                                            "session__user2", "session__user1__profile", "session__user2__profile")
        .get(pk=notification_id)
    )
    if notification.claim != claim:  # the lease ran out already and another worker took it
        return "taken"
    why = _stale_reason(notification, now)
    if why:
        _record(notification, Status.SUPERSEDED, now=now, error=why)
        return Status.SUPERSEDED
    email, in_app = _channels(notification.recipient_id, notification.kind)
    if notification.in_app and in_app and notification.shown_at is None and not _show(notification, now):
        return _given_up(notification)
    if not (notification.email and email) or not notification.recipient.email:
        _record(notification, Status.SKIPPED, now=now,
                error=NO_ADDRESS if notification.email and email else NO_EMAIL_WANTED)
        return Status.SKIPPED
    connection = get_connection(fail_silently=False)
    try:
        message = build_message(notification, connection=connection, now=now)
        message.message()  # headers are checked here: a mail that cannot be written will never be
    except Exception as error:  # noqa: BLE001 (recorded for moderators; no retry can help)
        logger.exception("notification %s could not be written", notification.pk)
        _record(notification, Status.FAILED, now=now, error=f"could not write the mail: {error}")
        return Status.FAILED
    try:
        _open(connection)  # nothing was sent if this fails: safe to try again
    except Exception as error:  # noqa: BLE001 (any failure to connect means "not sent")
        return _retry_or_fail(notification, error, now)
    if not _start_sending(notification, now):
        _close(connection)
        return _given_up(notification)
    try:
        connection.send_messages([message])
    except NOT_DELIVERED as error:
        return _retry_or_fail(notification, error, now)
    except Exception as error:  # noqa: BLE001 (the server may have the message: never send it again)
        _record(notification, Status.UNKNOWN, now=now, error=f"{type(error).__name__}: {error}")
        return Status.UNKNOWN
    finally:
        _close(connection)
    _record(notification, Status.SENT, now=now, emailed_at=now)
    return Status.SENT


def notifications_deliver_due(*, now: datetime | None = None) -> SweepReport:
    """One sweep: every row due at ``now`` is delivered (safe to run often and concurrently).

    First, rows left "sending" past their lease (a worker died or hung
    mid-delivery): those whose mail had started to go become "unknown", shown
    to moderators and never sent again; those whose mail had not are pending
    again and delivered by this sweep.
    """
    now = now or timezone.now()
    report = SweepReport()
    expired = Notification.objects.filter(status=Status.SENDING, lease_until__lt=now)
    report.lost = expired.filter(smtp_started_at__isnull=False).update(
        status=Status.UNKNOWN, finished_at=now, last_error="the lease ran out while the mail was being sent "
                                                           "(worker died?)"
    )
    report.retried = expired.filter(smtp_started_at__isnull=True).update(
        status=Status.PENDING, lease_until=None, claim=None,
        last_error="the lease ran out before the mail started to go (worker died?): tried again",
    )
    last_id = 0
    while True:
        ids = list(
            Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, pk__gt=last_id)
            .order_by("pk").values_list("pk", flat=True)[: settings.NOTIFICATIONS_BATCH]
        )
        if not ids:
            return report
        for notification_id in ids:
            report.outcomes[notification_deliver(notification_id=notification_id, now=now)] += 1
        last_id = ids[-1]


# --- retention --------------------------------------------------------------------------------

def notifications_purge_old(*, now: datetime | None = None, batch: int = 5_000) -> int:
    """Delete the notifications that were due more than NOTIFICATIONS_KEEP_DAYS ago and are done with: no
    delivery pending or under way, and read in the inbox or never shown there (an unread one stays, since
    the unread count counts it). Oldest first, ``batch`` rows per statement, each its own short transaction;
    how many went. Safe to run often and concurrently."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS)
    done_with = (Notification.objects.filter(due_at__lt=cutoff).exclude(status__in=UNFINISHED)
                 .filter(Q(shown_at__isnull=True) | Q(read_at__isnull=False)))
    return delete_oldest_in_batches(done_with, oldest_first="due_at", batch=batch)


# --- reading and preferences ------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user, ids=None, everything: bool = False) -> int:
    """Mark the user's shown notifications read (these ids, or all); returns the unread count after,
    recounted, which also sets the profile's counter right should it ever drift."""
    from sessions_app.services import profile_unread_move, profile_unread_set

    profile_unread_move(user_id=user.pk, step=0)  # locks the counter first: a delivery's +1 waits for the recount
    rows = Notification.objects.filter(recipient=user, shown_at__isnull=False, read_at__isnull=True)
    rows.filter(**({} if everything else {"pk__in": list(ids or [])})).update(read_at=timezone.now())
    unread = rows.count()
    profile_unread_set(user_id=user.pk, count=unread)
    return unread


@transaction.atomic
def preference_set(*, user, kind: str, email: bool | None = None, in_app: bool | None = None) -> Preference:
    """Switch one kind's channels for a user (None: leave as it is)."""
    preference, _ = Preference.objects.select_for_update().get_or_create(user=user, kind=kind)
    changes = {name: value for name, value in (("email", email), ("in_app", in_app)) if value is not None}
    for name, value in changes.items():
        setattr(preference, name, value)
    if changes:
        preference.save(update_fields=list(changes))
    return preference


def calendar_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_token_rotate(*, user) -> str:
    """A new secret for the user's calendar feed (returned once, stored hashed); the old URL stops working."""
    token = secrets.token_urlsafe(32)
    CalendarToken.objects.update_or_create(user=user, defaults={"digest": calendar_token_digest(token)})
    return token


def user_notification_data_erase(*, user) -> int:
    """An erased account's own notifications, preferences and calendar feed go (the buddy's stay)."""
    deleted, _ = Notification.objects.filter(recipient=user).delete()
    Preference.objects.filter(user=user).delete()
    CalendarToken.objects.filter(user=user).delete()
    return deleted
