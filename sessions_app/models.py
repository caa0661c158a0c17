"""Tables, constraints and indexes of WingmanMatch Sessions.

Table and column names of the original schema are kept (approach_challenges,
wingman_matches, wingman_sessions, ...). Only single-row logic lives here;
every state change is a function of the services package.
"""

import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class ApproachChallenge(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    difficulty = models.CharField(max_length=20, choices=Difficulty.choices)
    points = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "approach_challenges"
        ordering = ["points", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=1) & Q(points__lte=100),
                name="challenge_points_1_100",
            ),
            models.CheckConstraint(
                condition=Q(difficulty__in=Difficulty.values),
                name="challenge_difficulty_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_difficulty_display()}, {self.points} pts)"


class PairOfUsers(models.Model):
    """A match or a session: two users, user1 and user2."""

    class Meta:
        abstract = True

    def has_member(self, user) -> bool:
        return user.pk in (self.user1_id, self.user2_id)

    def other_member(self, user):
        """The member who is not ``user`` (the buddy)."""
        return self.user2 if self.user1_id == user.pk else self.user1


class MatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    ENDED = "ended", "Ended"


class WingmanMatch(PairOfUsers):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user1 = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="matches_as_user1"
    )
    user2 = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="matches_as_user2"
    )
    status = models.CharField(max_length=20, choices=MatchStatus.choices, default=MatchStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "wingman_matches"
        ordering = ["-created_at"]
        verbose_name_plural = "wingman matches"
        constraints = [
            models.CheckConstraint(condition=~Q(user1=F("user2")), name="match_users_differ"),
            models.CheckConstraint(condition=Q(status__in=MatchStatus.values), name="match_status_valid"),
        ]
        indexes = [
            models.Index(fields=["user1", "status"], name="match_user1_status"),
            models.Index(fields=["user2", "status"], name="match_user2_status"),
        ]

    def __str__(self) -> str:
        return f"{self.user1} + {self.user2} ({self.status})"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


OPEN_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
FINAL_STATUSES = (SessionStatus.COMPLETED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


class WingmanSession(PairOfUsers):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    match = models.ForeignKey(WingmanMatch, on_delete=models.PROTECT, related_name="sessions")
    # Copied from the match when scheduling (a match never changes its users),
    # so "sessions of this user" is an indexed lookup without a join.
    user1 = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_as_user1"
    )
    user2 = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_as_user2"
    )
    user1_challenge = models.ForeignKey(
        ApproachChallenge, on_delete=models.PROTECT, related_name="+"
    )
    user2_challenge = models.ForeignKey(
        ApproachChallenge, on_delete=models.PROTECT, related_name="+"
    )
    venue_name = models.CharField(max_length=200)
    scheduled_time = models.DateTimeField()
    status = models.CharField(
        max_length=50, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    user1_completed_confirmed_by_user2 = models.BooleanField(default=False)
    user2_completed_confirmed_by_user1 = models.BooleanField(default=False)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    # Challenge snapshots, taken when the session is scheduled.
    user1_challenge_title = models.CharField(max_length=200)
    user1_challenge_description = models.TextField(blank=True, default="")
    user1_challenge_difficulty = models.CharField(max_length=20, choices=Difficulty.choices)
    user1_challenge_points = models.PositiveSmallIntegerField()
    user2_challenge_title = models.CharField(max_length=200)
    user2_challenge_description = models.TextField(blank=True, default="")
    user2_challenge_difficulty = models.CharField(max_length=20, choices=Difficulty.choices)
    user2_challenge_points = models.PositiveSmallIntegerField()

    # Timing.
    user1_checked_in_at = models.DateTimeField(null=True, blank=True)
    user2_checked_in_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Active time is active_seconds (closed stretches) plus now - running_since
    # while the session runs; paused_at is set while it is paused.
    running_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    active_seconds = models.PositiveIntegerField(default=0)

    # Endings.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancellation_reason = models.CharField(max_length=500, blank=True, default="")
    cancellation_penalty = models.PositiveSmallIntegerField(default=0)
    no_show_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # The pending reschedule proposal, if any (at most one; a newer one replaces it). Kept on the
    # row so reading a session costs no extra query; it lapses at the current scheduled_time.
    reschedule_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reschedule_time = models.DateTimeField(null=True, blank=True)
    reschedule_venue_name = models.CharField(max_length=200, blank=True, default="")
    reschedule_proposed_at = models.DateTimeField(null=True, blank=True)

    # Disputes: when the session last became final (the 72-hour window counts from it), whether each
    # participant has used their one dispute, and the dispute the session shows (loaded with the row).
    finished_at = models.DateTimeField(null=True, blank=True)
    user1_disputed = models.BooleanField(default=False)
    user2_disputed = models.BooleanField(default=False)
    current_dispute = models.ForeignKey(
        "Dispute", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who blocked the other participant when a block cancelled the session (the other one sees a neutral
    # cancellation: rules.sees_neutral_cancellation). Never looked up by, so no index.
    blocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", db_index=False)
    # How often moderators changed the final outcome; the ledger rows of the outcome standing now carry
    # this number (ReputationLedger.decision).
    redecisions = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "wingman_sessions"
        ordering = ["-scheduled_time"]
        permissions = [("moderate_wingmansession", "Can moderate sessions (cancel, no-show, complete)")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="session_status_valid"),
            models.CheckConstraint(condition=~Q(user1=F("user2")), name="session_users_differ"),
            models.CheckConstraint(
                condition=Q(user1_challenge_points__gte=1, user1_challenge_points__lte=100)
                & Q(user2_challenge_points__gte=1, user2_challenge_points__lte=100),
                name="session_snapshot_points_1_100",
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.COMPLETED) | Q(completed_at__isnull=False),
                name="session_completed_has_time",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="session_version_positive"),
            models.CheckConstraint(
                condition=Q(reschedule_proposed_by__isnull=True, reschedule_time__isnull=True,
                            reschedule_proposed_at__isnull=True)
                | Q(reschedule_proposed_by__isnull=False, reschedule_time__isnull=False,
                    reschedule_proposed_at__isnull=False),
                name="session_reschedule_whole",
            ),
        ]
        indexes = [
            # History of one user, newest first, optionally by status.
            models.Index(fields=["user1", "-scheduled_time"], name="session_user1_time"),
            models.Index(fields=["user2", "-scheduled_time"], name="session_user2_time"),
            models.Index(fields=["user1", "status", "-scheduled_time"], name="session_user1_status_time"),
            models.Index(fields=["user2", "status", "-scheduled_time"], name="session_user2_status_time"),
            models.Index(fields=["match", "-scheduled_time"], name="session_match_time"),
            # close_stale_sessions: open sessions by time.
            models.Index(
                fields=["scheduled_time"],
                name="session_open_by_time",
                condition=Q(status__in=["scheduled", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.venue_name} @ {self.scheduled_time:%Y-%m-%d %H:%M} ({self.status})"

    # -- single-row helpers --------------------------------------------------

    @staticmethod
    def snapshot_fields(user1_challenge: ApproachChallenge, user2_challenge: ApproachChallenge) -> dict:
        """The challenge columns of a new session: the challenges and a copy of what they say now."""
        fields = {"user1_challenge": user1_challenge, "user2_challenge": user2_challenge}
        for role, challenge in (("user1", user1_challenge), ("user2", user2_challenge)):
            for name in ("title", "description", "difficulty", "points"):
                fields[f"{role}_challenge_{name}"] = getattr(challenge, name)
        return fields

    def role_of(self, user) -> str | None:
        """'user1', 'user2' or None for someone outside the session."""
        if user is None or not getattr(user, "pk", None):
            return None
        if user.pk == self.user1_id:
            return "user1"
        if user.pk == self.user2_id:
            return "user2"
        return None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def checked_in_at(self, role: str) -> datetime | None:
        return getattr(self, f"{role}_checked_in_at")

    @staticmethod
    def confirmation_field(role: str) -> str:
        """The flag that says this participant's completion was confirmed by the buddy."""
        return "user1_completed_confirmed_by_user2" if role == "user1" else "user2_completed_confirmed_by_user1"

    def is_confirmed(self, role: str) -> bool:
        """Has this participant's completion been confirmed by the buddy?"""
        return getattr(self, self.confirmation_field(role))

    def challenge_snapshot(self, role: str) -> dict:
        return {
            "title": getattr(self, f"{role}_challenge_title"),
            "description": getattr(self, f"{role}_challenge_description"),
            "difficulty": getattr(self, f"{role}_challenge_difficulty"),
            "points": getattr(self, f"{role}_challenge_points"),
        }

    def user_for(self, role: str):
        return self.user1 if role == "user1" else self.user2

    def user_id_for(self, role: str):
        return self.user1_id if role == "user1" else self.user2_id

    def running_session_id_of(self, role: str):
        """The id of the participant's session in progress (this one or another), or None."""
        try:
            return self.user_for(role).profile.running_session_id
        except UserProfile.DoesNotExist:
            return None

    def active_seconds_at(self, now: datetime) -> int:
        running = int((now - self.running_since).total_seconds()) if self.running_since else 0
        return self.active_seconds + max(running, 0)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def has_reschedule_proposal(self) -> bool:
        """A proposal is on the row (whether it still counts is rules.pending_reschedule's call)."""
        return self.reschedule_proposed_by_id is not None

    def has_disputed(self, role: str) -> bool:
        return getattr(self, f"{role}_disputed")

    def clear_reschedule_proposal(self) -> None:
        self.reschedule_proposed_by = None
        self.reschedule_time = self.reschedule_proposed_at = None
        self.reschedule_venue_name = ""


def buddy_of(role: str) -> str:
    return "user2" if role == "user1" else "user1"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    display_name = models.CharField(max_length=100, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    # Reputation counters: each moves only together with a ledger row.
    reputation = models.IntegerField(default=0)
    completed_sessions = models.PositiveIntegerField(default=0)
    no_show_count = models.PositiveIntegerField(default=0)

    # Statistics counters kept by the domain layer, so no hot path counts
    # history; reputation_rebuild recounts every counter above and below from
    # the ledger and the sessions and reports any drift.
    total_sessions = models.PositiveIntegerField(default=0)
    cancelled_sessions = models.PositiveIntegerField(default=0)
    no_show_sessions = models.PositiveIntegerField(default=0)
    total_active_seconds = models.PositiveBigIntegerField(default=0)
    streak_weeks = models.PositiveIntegerField(default=0)
    streak_last_week = models.DateField(null=True, blank=True)

    # The user's session in progress, if any: set and cleared by the services
    # under this row's lock, so "one session in progress per user" is a rule
    # allowed_actions can read without a query.
    running_session = models.ForeignKey(
        "WingmanSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # In-app notifications shown and not read yet (the bell): moved by the notifications app
    # through profile_unread_move / profile_unread_set, read with the profile at no extra query.
    notifications_unread = models.PositiveIntegerField(default=0)

    # Share (0-100) of the last finished sessions the user was reliable in (rules.RELIABILITY_*), kept by
    # the services whenever one of the user's sessions becomes final; null until enough have finished.
    reliability_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # A moderator lifted the booking limit for this user (services.profile_waive_booking_limit).
    booking_limit_waived = models.BooleanField(default=False)

    class Meta:
        db_table = "user_profiles"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.user.get_username()

    def weekly_streak_on(self, today) -> int:
        """Consecutive weeks with a completed session, still alive this week or last."""
        if self.streak_last_week is None:
            return 0
        this_week = today - timedelta(days=today.weekday())
        if (this_week - self.streak_last_week).days > 7:
            return 0
        return self.streak_weeks


class EventKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CHECKED_IN = "checked_in", "Checked in"
    STARTED = "started", "Started"
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    CONFIRMED = "confirmed", "Confirmed buddy"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"
    NOTES_UPDATED = "notes_updated", "Notes updated"
    EXPIRED = "expired", "Closed as expired"
    PROFILE_UPDATED = "profile_updated", "Profile updated"
    MATCH_STATUS_CHANGED = "match_status_changed", "Match status changed"
    RESCHEDULE_PROPOSED = "reschedule_proposed", "Proposed a new time"
    RESCHEDULE_DECLINED = "reschedule_declined", "Declined the new time"
    RESCHEDULE_WITHDRAWN = "reschedule_withdrawn", "Withdrew the new time"
    RESCHEDULED = "rescheduled", "Rescheduled"
    BLOCKED = "blocked", "Blocked the buddy"
    DISPUTE_OPENED = "dispute_opened", "Disputed the outcome"
    BOOKING_LIMIT_WAIVED = "booking_limit_waived", "Booking limit waived"
    ACCOUNT_ERASED = "account_erased", "Account erased"
    DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"
    REPORT_REVIEWED = "report_reviewed", "Report reviewed"


class SessionEvent(models.Model):
    """Append-only audit log: one row per state change or notes edit.

    Its subject is a session, or, for writes that have none (a display name,
    a match's status), the match or the user the write is about.
    """

    session = models.ForeignKey(
        WingmanSession, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    match = models.ForeignKey(WingmanMatch, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "session_events"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False) | Q(match__isnull=False) | Q(subject_user__isnull=False),
                name="event_has_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "created_at"], name="event_session_time"),
            models.Index(fields=["match", "created_at"], name="event_match_time", condition=Q(match__isnull=False)),
            models.Index(
                fields=["subject_user", "created_at"], name="event_user_time", condition=Q(subject_user__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        subject = self.session_id or (f"match {self.match_id}" if self.match_id else f"user {self.subject_user_id}")
        return f"{self.kind} on {subject}"


class LedgerReason(models.TextChoices):
    COMPLETION = "completion", "Session completed"
    LATE_CANCEL = "late_cancel", "Late cancellation"
    NO_SHOW = "no_show", "No-show"
    COMPLETION_REVERSED = "completion_reversed", "Completion reversed by a moderator"
    LATE_CANCEL_REVERSED = "late_cancel_reversed", "Late-cancel penalty reversed by a moderator"
    NO_SHOW_REVERSED = "no_show_reversed", "No-show reversed by a moderator"
    LATE_RESCHEDULE = "late_reschedule", "Late reschedule"
    LATE_RESCHEDULE_REVERSED = "late_reschedule_reversed", "Late-reschedule penalty reversed by a moderator"


# How each ledger reason moves the counters besides reputation.
LEDGER_COUNTER_EFFECTS: dict[str, dict[str, int]] = {
    LedgerReason.COMPLETION: {"completed_sessions": 1},
    LedgerReason.COMPLETION_REVERSED: {"completed_sessions": -1},
    LedgerReason.NO_SHOW: {"no_show_count": 1},
    LedgerReason.NO_SHOW_REVERSED: {"no_show_count": -1},
    LedgerReason.LATE_CANCEL: {},
    LedgerReason.LATE_CANCEL_REVERSED: {},
    LedgerReason.LATE_RESCHEDULE: {},
    LedgerReason.LATE_RESCHEDULE_REVERSED: {},
}


class ReputationLedger(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger")
    session = models.ForeignKey(WingmanSession, on_delete=models.PROTECT, related_name="ledger")
    reason = models.CharField(max_length=40, choices=LedgerReason.choices)
    points = models.IntegerField()
    # Which of the session's outcomes the row belongs to: 0 for the first, n after the n-th moderator
    # re-decision (the session's ``redecisions`` then). A re-decision reverses the rows of the outcome it
    # replaces under their number, so each outcome's rows are written, and reversed, once.
    decision = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "reputation_ledger"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "session", "reason", "decision"],
                                    name="ledger_once_per_decision"),
            models.CheckConstraint(condition=Q(reason__in=LedgerReason.values), name="ledger_reason_valid"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="ledger_user_time")]

    def __str__(self) -> str:
        return f"{self.user} {self.points:+d} ({self.reason})"


class BlockQuerySet(models.QuerySet):
    def between(self, user_a_id, user_b_id) -> "BlockQuerySet":
        """Blocks between these two users, whoever blocked whom."""
        return self.filter(Q(blocker_id=user_a_id, blocked_id=user_b_id)
                           | Q(blocker_id=user_b_id, blocked_id=user_a_id))


class Block(models.Model):
    """One user blocked another: the pair is never scheduled again (kept forever, like the ledger)."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    match = models.ForeignKey(WingmanMatch, on_delete=models.PROTECT, null=True, blank=True, related_name="blocks")
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        db_table = "user_blocks"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once_per_pair"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_users_differ"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocked {self.blocked}"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    REVIEWED = "reviewed", "Reviewed"


class Report(models.Model):
    """A participant reports the buddy they block; moderators review it in the admin."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports_against")
    match = models.ForeignKey(WingmanMatch, on_delete=models.PROTECT, related_name="reports")
    reason = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        db_table = "user_reports"
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="report_status_valid")]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"{self.reporter} reported {self.reported} ({self.status})"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld"
    OVERTURNED = "overturned", "Overturned"


class Dispute(models.Model):
    """A participant contests a session's final outcome; a moderator upholds it or overturns it."""

    session = models.ForeignKey(WingmanSession, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    disputed_status = models.CharField(max_length=50, choices=SessionStatus.choices,
                                       help_text="The outcome contested.")
    status = models.CharField(max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    resolution_note = models.CharField(max_length=500, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        db_table = "session_disputes"
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "opened_by"], name="dispute_once_per_participant"),
            models.UniqueConstraint(fields=["session"], condition=Q(status="open"), name="dispute_one_open"),
            models.CheckConstraint(condition=Q(status__in=DisputeStatus.values), name="dispute_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="dispute_queue")]

    def __str__(self) -> str:
        return f"dispute of {self.session} by {self.opened_by} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a mutation sent with an Idempotency-Key, replayed on repeats."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "idempotency_records"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
