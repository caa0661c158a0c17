"""Every read that pages, API and admin share, already scoped to the user."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek
from django.db.models.query import ModelIterable
from django.utils import timezone

from . import freshness, rules
from .errors import NotFound, NotParticipant
from .models import (
    ApproachChallenge,
    Block,
    Dispute,
    IdempotencyRecord,
    Report,
    ReputationLedger,
    SessionEvent,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)

SESSION_ORDERINGS = {
    "-scheduled_time": ("-scheduled_time", "-id"),
    "scheduled_time": ("scheduled_time", "id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
}
SESSION_ORDERING_LABELS = {
    "-scheduled_time": "Newest first",
    "scheduled_time": "Oldest first",
    "-created_at": "Recently booked first",
    "created_at": "Booked longest ago first",
}


def _with_people(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("user1__profile", "user2__profile", "current_dispute")


def _require_participant(session: WingmanSession | None, user) -> WingmanSession:
    """404 for no such session, 403 for someone outside it."""
    if session is None:
        raise NotFound("No such session.")
    if user is None or user.pk not in (session.user1_id, session.user2_id):
        raise NotParticipant("Only the two participants of this session can see it.")
    return session


def session_get_for_participant(*, session_id: uuid.UUID, user) -> WingmanSession:
    """The full session with both participants and their profiles, for one of its participants.

    From the Redis copy when its generations say it is current (no query;
    sessions_app/freshness.py), else one query, whose result becomes the copy.
    Either way a read right after a committed write shows that write.
    """
    found = freshness.lookup_session(session_id)
    if found.value is not None:
        return _require_participant(found.value, user)
    session = _require_participant(_with_people(WingmanSession.objects.filter(pk=session_id)).first(), user)
    found.store(session, people=(session.user1_id, session.user2_id))
    return session


def session_copy_for_participant(*, session_id: uuid.UUID, user) -> WingmanSession | None:
    """The session from its current Redis copy, for one of its participants; else None (never a query).

    None also when the copy is not current or the user is not a participant:
    the caller then reads with session_get_for_participant, which answers
    those cases.
    """
    found = freshness.lookup_session(session_id)
    try:
        return _require_participant(found.value, user) if found.value is not None else None
    except NotParticipant:
        return None


def user_with_profile(user_id):
    """The user with the profile (None if there is no such user): the Redis copy when current, else one query.

    (None also for a read that may use copies only, freshness.copies_only(), when there is no current copy.)
    """
    found = freshness.lookup_user(user_id)
    if found.value is not None or freshness.copies_only():
        return found.value
    user = get_user_model()._default_manager.select_related("profile").filter(pk=user_id).first()
    if user is not None:
        found.store(user)
    return user


def sessions_of_user(user) -> QuerySet:
    return WingmanSession.objects.filter(Q(user1=user) | Q(user2=user))


@dataclass(frozen=True)
class SessionFilters:
    status: str | None = None
    match_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    completed: bool | None = None
    ordering: str = "-scheduled_time"


class HistoryQuerySet(QuerySet):
    """A user's sessions, whose slices read only the top rows of each index.

    "user1 = me OR user2 = me" cannot walk an index in time order, so a plain
    slice sorts all of the user's sessions. A slice [a:b] here first takes the
    top b ids of each side (user1 = me, user2 = me), each an index-ordered
    scan with a LIMIT, and sorts only those (at most 2b rows). Counting still
    runs on the whole filter. Filtered any further, the queryset falls back to
    the plain slice, since the sides would not know the new condition.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sides: tuple[QuerySet, QuerySet] | None = None
        self._sides_where = None
        self._known_count: int | None = None
        self._people = False

    def _clone(self):
        clone = super()._clone()
        clone._sides, clone._sides_where, clone._known_count = self._sides, self._sides_where, self._known_count
        clone._people = self._people
        return clone

    def with_people(self) -> "HistoryQuerySet":
        """Both participants, with their profiles, on every fetched session: one more query per page.

        (select_related joins four more tables into the page's query, and
        PostgreSQL took longer to plan that join than to run both queries.)
        """
        clone = self._clone()
        clone._people = True
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if self._people and not fetched and self._iterable_class is ModelIterable:
            _attach_people(self._result_cache)

    def with_sides(self, side1: QuerySet, side2: QuerySet, *, count: int | None = None) -> "HistoryQuerySet":
        """``count``: how many rows the queryset has, when a counter already says so (no COUNT query)."""
        clone = self._clone()
        clone._sides, clone._sides_where, clone._known_count = (side1, side2), clone.query.where, count
        return clone

    def count(self):
        if self._known_count is not None and self._result_cache is None and self.query.where == self._sides_where:
            return self._known_count
        return super().count()

    def __getitem__(self, k):
        usable = self._sides is not None and self._result_cache is None and self.query.where == self._sides_where
        if not (usable and isinstance(k, slice) and k.stop is not None):
            return super().__getitem__(k)
        try:
            sides = [
                side.order_by(*self.query.order_by).values_list("pk", flat=True)[: k.stop].query.sql_with_params()
                for side in self._sides
            ]
        except EmptyResultSet:
            return self.none()
        # Not built from input: both parts are SQL that Django compiled from our own querysets, and
        # every value stays a separate query parameter (S608, S611).
        sql = f"SELECT pk FROM ({sides[0][0]}) AS side1 UNION ALL SELECT pk FROM ({sides[1][0]}) AS side2"  # noqa: S608
        narrowed = self.filter(pk__in=RawSQL(sql, (*sides[0][1], *sides[1][1])))  # noqa: S611
        return QuerySet.__getitem__(narrowed, k)


def session_list_for_user(*, user, filters: SessionFilters | None = None, tz: str = "UTC") -> QuerySet:
    """The user's sessions as summaries (no notes), filtered and ordered on indexed columns.

    Dates are whole days in the user's time zone ``tz``. Slicing the result is
    index-backed however many sessions the user has (see HistoryQuerySet);
    unfiltered, its count is the profile's ``total_sessions`` counter, which
    the services keep (rebuild_reputation checks it), instead of a COUNT over
    all of the user's sessions on every page.
    """
    filters = filters or SessionFilters()
    zone = ZoneInfo(tz)
    conditions = Q()
    if filters.status:
        conditions &= Q(status=filters.status)
    if filters.completed is True:
        conditions &= Q(status=SessionStatus.COMPLETED)
    elif filters.completed is False:
        conditions &= ~Q(status=SessionStatus.COMPLETED)
    if filters.match_id:
        conditions &= Q(match_id=filters.match_id)
    if filters.date_from:
        conditions &= Q(scheduled_time__gte=datetime.combine(filters.date_from, time.min, zone))
    if filters.date_to:
        conditions &= Q(scheduled_time__lte=datetime.combine(filters.date_to, time.max, zone))
    everything = HistoryQuerySet(model=WingmanSession)
    queryset = everything.filter(conditions & (Q(user1=user) | Q(user2=user))).defer("notes").with_people()
    return queryset.order_by(*SESSION_ORDERINGS[filters.ordering]).with_sides(
        WingmanSession.objects.filter(conditions, user1=user),
        WingmanSession.objects.filter(conditions, user2=user),
        count=None if conditions else profile_for_user(user=user).total_sessions,
    )


def _attach_people(sessions: list[WingmanSession]) -> None:
    """Set user1 and user2 (with their profiles) on each session, from one query for all of them."""
    ids = {pk for session in sessions for pk in (session.user1_id, session.user2_id)}
    if not ids:
        return
    people = get_user_model()._default_manager.select_related("profile").in_bulk(ids)
    for session in sessions:
        session.user1, session.user2 = people[session.user1_id], people[session.user2_id]


def session_current_for_user(*, user, now: datetime | None = None) -> WingmanSession | None:
    """The user's session in progress, else the next scheduled one (still open)."""
    now = now or timezone.now()
    mine = _with_people(sessions_of_user(user))
    running = mine.filter(status=SessionStatus.IN_PROGRESS).order_by("-started_at").first()
    if running:
        return running
    return (
        mine.filter(status=SessionStatus.SCHEDULED, scheduled_time__gte=now - rules.STALE_AFTER)
        .order_by("scheduled_time", "id")
        .first()
    )


def session_needing_action_for_user(*, user, now: datetime | None = None,
                                    limit: int = 10) -> list[tuple[WingmanSession, "rules.NextStep"]]:
    """The user's open sessions where rules.next_action has something for the user to do now, soonest first.

    One query: the candidates are the open sessions not yet stale that check-in has opened for, or
    whose new time the buddy proposed; the rules decide on the rows loaded (people and profiles joined).
    """
    now = now or timezone.now()
    candidates = (
        _with_people(sessions_of_user(user))
        .filter(Q(scheduled_time__lte=now + rules.CHECK_IN_OPENS_BEFORE)
                | (Q(reschedule_proposed_by__isnull=False) & ~Q(reschedule_proposed_by=user)),
                status__in=[SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS],
                scheduled_time__gte=now - rules.STALE_AFTER)
        .defer("notes")
        .order_by("scheduled_time", "id")[: 2 * limit]
    )
    found = []
    for session in candidates:
        step = rules.next_action(session, user, now)
        if step is not None and step.action is not None:
            found.append((session, step))
    return found[:limit]


def session_upcoming_for_user(*, user, now: datetime | None = None, limit: int = 5) -> list[WingmanSession]:
    now = now or timezone.now()
    return list(
        _with_people(sessions_of_user(user))
        .filter(status=SessionStatus.SCHEDULED, scheduled_time__gte=now)
        .defer("notes")
        .order_by("scheduled_time", "id")[:limit]
    )


def session_recent_for_user(*, user, limit: int = 5) -> list[WingmanSession]:
    return list(
        _with_people(sessions_of_user(user))
        .filter(status__in=[SessionStatus.COMPLETED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW])
        .defer("notes")
        .order_by("-scheduled_time", "-id")[:limit]
    )


def session_events(*, session: WingmanSession) -> QuerySet:
    return _events_of(session.pk)


def session_events_for_participant(*, session_id: uuid.UUID, user) -> QuerySet:
    """The timeline of a session for one of its participants, without loading the session.

    Access is decided as in session_get_for_participant (404, then 403): from
    the session's current Redis copy, else by one indexed query of the two
    participants, so a paginated timeline stays within a list's query budget.
    """
    found = freshness.lookup_session(session_id)
    if found.value is not None:
        _require_participant(found.value, user)
    else:
        _require_participant(WingmanSession.objects.filter(pk=session_id).only("user1_id", "user2_id").first(), user)
    return _events_of(session_id)


def _events_of(session_pk) -> QuerySet:
    return SessionEvent.objects.filter(session_id=session_pk).select_related("actor__profile").order_by(
        "created_at", "id"
    )


def match_list_for_user(*, user, schedulable: bool = False) -> QuerySet:
    """The user's matches; with ``schedulable`` only those a session can be scheduled for."""
    matches = WingmanMatch.objects.filter(Q(user1=user) | Q(user2=user))
    if schedulable:
        matches = matches.filter(status=rules.SCHEDULABLE_MATCH_STATUS)
    return (
        matches
        .select_related("user1__profile", "user2__profile")
        .order_by("-created_at", "id")
    )


def match_get_for_user(*, match_id: uuid.UUID, user) -> WingmanMatch:
    match = WingmanMatch.objects.filter(pk=match_id).select_related("user1__profile", "user2__profile").first()
    if match is None:
        raise NotFound("No such match.")
    if not match.has_member(user):
        raise NotParticipant("You are not part of this match.")
    return match


def challenge_list_active() -> QuerySet:
    return ApproachChallenge.objects.filter(is_active=True).order_by("points", "title")


def profile_for_user(*, user, fresh: bool = False) -> UserProfile:
    """The user's profile, or an unsaved default for a user without one.

    By default the one authentication loaded with the user (no query); with
    ``fresh`` read again, for counters a service may have moved during this
    very request.
    """
    if fresh:
        return UserProfile.objects.filter(pk=user.pk).first() or UserProfile(user=user)
    try:
        return user.profile
    except UserProfile.DoesNotExist:
        return UserProfile(user=user)


def reliability_of(user) -> int | None:
    """The user's reliability_percent (None without a profile, or with too few finished sessions)."""
    try:
        return user.profile.reliability_percent
    except UserProfile.DoesNotExist:
        return None


def display_name(user) -> str:
    """The user's display name, falling back to the username (also for a user without a profile)."""
    try:
        return user.profile.name
    except UserProfile.DoesNotExist:
        return UserProfile(user=user).name


def user_stats(*, user, now: datetime | None = None) -> dict:
    """Statistics from the counters the domain layer keeps, on the profile authentication loaded with the
    user (no query; current, since every change to it stops its Redis copy before committing)."""
    now = now or timezone.now()
    profile = profile_for_user(user=user)
    finished = profile.completed_sessions + profile.cancelled_sessions + profile.no_show_sessions
    today = now.astimezone(ZoneInfo(profile.timezone)).date()
    return {
        "total_sessions": profile.total_sessions,
        "completed_sessions": profile.completed_sessions,
        "cancelled_sessions": profile.cancelled_sessions,
        "no_show_sessions": profile.no_show_sessions,
        "completion_rate_percent": round(100 * profile.completed_sessions / finished, 1) if finished else 0.0,
        "total_active_seconds": profile.total_active_seconds,
        "average_duration_seconds": (
            profile.total_active_seconds // profile.completed_sessions if profile.completed_sessions else 0
        ),
        "reputation": profile.reputation,
        "weekly_streak": profile.weekly_streak_on(today),
    }


def _week_of(value, zone: ZoneInfo) -> date:
    return (value.astimezone(zone) if timezone.is_aware(value) else value).date()


def progress_for_user(*, profile: UserProfile, weeks: int = 12, now: datetime | None = None) -> list[dict]:
    """Sessions per week and reputation at the end of each week, oldest week first.

    Two aggregate queries over an index-backed window of ``weeks`` weeks, so
    the cost does not grow with the history. The reputation line runs back
    from the profile's counter through the ledger rows of the window.
    """
    now = now or timezone.now()
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    first_week = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    start = datetime.combine(first_week, time.min, zone)
    end = datetime.combine(today - timedelta(days=today.weekday()) + timedelta(weeks=1), time.min, zone)
    rows = {
        first_week + timedelta(weeks=i): {"week": first_week + timedelta(weeks=i), "completed": 0, "other": 0,
                                          "points": 0, "reputation": 0}
        for i in range(weeks)
    }
    per_week = (
        sessions_of_user(profile.user)
        .filter(scheduled_time__gte=start, scheduled_time__lt=end)
        .annotate(week=TruncWeek("scheduled_time", tzinfo=zone))
        .values("week", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in per_week:
        week = rows.get(_week_of(row["week"], zone))
        if week:
            week["completed" if row["status"] == SessionStatus.COMPLETED else "other"] += row["n"]
    gains = (
        ReputationLedger.objects.filter(user_id=profile.pk, created_at__gte=start)
        .annotate(week=TruncWeek("created_at", tzinfo=zone))
        .values("week")
        .annotate(points=Sum("points"))
        .order_by()
    )
    for row in gains:
        week = rows.get(_week_of(row["week"], zone))
        if week:
            week["points"] += row["points"]
    balance = profile.reputation - sum(week["points"] for week in rows.values())
    for week in rows.values():
        balance += week["points"]
        week["reputation"] = balance
    return list(rows.values())


# --- the user's own data ------------------------------------------------------------------------


def _session_row_seen_by(row: dict, user_id) -> dict:
    """An exported session as its participant sees it: a cancellation by the buddy's block is neutral."""
    if row["blocked_by_id"] is not None and row["blocked_by_id"] != user_id:
        row.update(cancellation_reason=rules.NEUTRAL_CANCELLATION_REASON, blocked_by_id=None)
    return row


def user_export(*, user, now: datetime | None = None) -> dict:
    """Everything stored about the user, as plain data for them to download.

    Shared things (matches, sessions with their notes, the timelines' events the user did or that are
    about them) come whole; what others did about the user stays out (who blocked or reported them is
    moderators' business). Login records and refresh tokens are listed without secrets. A fixed number
    of queries, whatever the user's history.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from notifications.selectors import user_notification_data

    profile = profile_for_user(user=user, fresh=True)
    username = user.get_username()
    login_fields = ("attempt_time", "ip_address", "user_agent")
    return {
        "exported_at": now or timezone.now(),
        "account": {"id": user.pk, "username": username, "email": user.email, "date_joined": user.date_joined,
                    "last_login": user.last_login},
        "profile": {field.attname: getattr(profile, field.attname) for field in profile._meta.concrete_fields},
        "matches": list(WingmanMatch.objects.filter(Q(user1=user) | Q(user2=user)).order_by("created_at").values()),
        "sessions": [_session_row_seen_by(row, user.pk)
                     for row in sessions_of_user(user).order_by("scheduled_time", "id").values()],
        "events": list(SessionEvent.objects.filter(Q(actor=user) | Q(subject_user=user)).order_by("created_at", "id")
                       .values("session_id", "match_id", "kind", "data", "created_at")),
        "ledger": list(ReputationLedger.objects.filter(user=user).order_by("created_at", "id")
                       .values("session_id", "reason", "points", "decision", "created_at")),
        "blocks": list(Block.objects.filter(blocker=user).values("blocked_id", "match_id", "reason", "created_at")),
        "reports": list(Report.objects.filter(reporter=user).values("reported_id", "match_id", "reason", "status",
                                                                   "created_at")),
        "disputes": list(Dispute.objects.filter(opened_by=user).values(
            "session_id", "reason", "disputed_status", "status", "opened_at", "resolution_note", "resolved_at")),
        "idempotency_records": list(IdempotencyRecord.objects.filter(user=user).order_by("created_at")
                                    .values("key", "method", "path", "response_status", "created_at")),
        "login_attempts": list(AccessAttempt.objects.filter(username=username).values(
            *login_fields, "failures_since_start")),
        "login_failures": list(AccessFailureLog.objects.filter(username=username).values(*login_fields)),
        "logins": list(AccessLog.objects.filter(username=username).values(*login_fields, "logout_time")),
        "refresh_tokens": list(OutstandingToken.objects.filter(user=user).order_by("created_at")
                               .values("jti", "created_at", "expires_at")),
        **user_notification_data(user=user),
    }
