"""The outbox: one row per (recipient, kind, session, due time), written in the
same transaction as the change that causes it and delivered later by the
sweep in services.py. Preferences live here too; the unread count is a column of the user's
profile (sessions_app), moved through sessions_app.services (accounts.py).
"""

import uuid

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    SESSION_SCHEDULED = "session_scheduled", "Session scheduled"
    SESSION_RESCHEDULED = "session_rescheduled", "Session moved"
    RESCHEDULE_PROPOSED = "reschedule_proposed", "New time proposed"
    RESCHEDULE_DECLINED = "reschedule_declined", "New time declined"
    SESSION_CANCELLED = "session_cancelled", "Session cancelled"
    BUDDY_CHECKED_IN = "buddy_checked_in", "Buddy checked in"
    SESSION_COMPLETED = "session_completed", "Session completed"
    NO_SHOW_REPORTED = "no_show_reported", "No-show reported"
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"
    REMINDER_24H = "reminder_24h", "Reminder a day before"
    REMINDER_1H = "reminder_1h", "Reminder an hour before"
    CHECK_IN_OPEN = "check_in_open", "Check-in open"
    CONFIRM_BUDDY = "confirm_buddy", "Confirm your buddy"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped (no e-mail to send)"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded"
    UNKNOWN = "unknown", "Unknown (may have reached the mail server)"


# A delivery still to come or under way; every other status is final.
UNFINISHED = (Status.PENDING, Status.SENDING)


class Notification(models.Model):
    """What to tell whom, and when. The e-mail channel is at most once: a row is
    claimed (pending -> sending, with a lease and a claim token) and committed
    before the mail leaves, and ``smtp_started_at`` is committed right before
    the message goes to the server. A row still "sending" after its lease
    becomes "unknown" (never resent) if the server may have it, or pending
    again if the mail never started.

    ``status`` tells what became of the e-mail: "sent" when the server took it,
    "skipped" when there was none to send (the kind's e-mail is off, or the
    recipient has no address); ``last_error`` says why a row was skipped,
    superseded or failed. In-app delivery is ``shown_at``."""

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the stable Message-ID
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    session = models.ForeignKey("sessions_app.WingmanSession", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="notifications")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Channels: wanted when the row was written (preferences), and when each was delivered.
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    shown_at = models.DateTimeField(null=True, blank=True)  # in-app: visible from then on
    read_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)  # whose delivery attempt this is
    smtp_started_at = models.DateTimeField(null=True, blank=True)  # from then on the server may have the mail
    last_error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "session", "due_at"], name="notification_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="notification_due",
                         condition=models.Q(status="pending")),
            models.Index(fields=["lease_until"], name="notification_leased",
                         condition=models.Q(status="sending")),
            models.Index(fields=["recipient", "-shown_at"], name="notification_inbox",
                         condition=models.Q(shown_at__isnull=False)),
            models.Index(fields=["session", "status"], name="notification_session"),
            # The daily purge of old ones, oldest first (notifications_purge_old).
            models.Index(fields=["due_at"], name="notification_finished",
                         condition=~models.Q(status__in=UNFINISHED)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id} ({self.status})"


class Preference(models.Model):
    """One user's choice for one kind; no row means both channels on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: e-mail {self.email}, in-app {self.in_app}"


class CalendarToken(models.Model):
    """A user's calendar subscription secret, stored only as its SHA-256 (the URL is shown once)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="calendar_token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"calendar token of {self.user_id}"
