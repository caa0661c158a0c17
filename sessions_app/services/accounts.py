"""The people: profiles and their counters, blocking a buddy, rebuilding reputation from the
ledger, erasing an account and revoking its tokens."""

import logging
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

import notifications.services as notify

from .. import freshness, rules
from ..errors import InvalidInput, NotFound
from ..models import (
    LEDGER_COUNTER_EFFECTS,
    OPEN_STATUSES,
    Block,
    EventKind,
    IdempotencyRecord,
    LedgerReason,
    MatchStatus,
    Report,
    ReputationLedger,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
    validate_timezone,
)
from ..reliability import reliability_scores
from ._base import _audit, _cancel, _lock_profiles, _lock_session, clean_text

logger = logging.getLogger(__name__)


@transaction.atomic
def profile_update(*, user, actor=None, display_name: str | None = None,
                   timezone_name: str | None = None) -> UserProfile:
    """Change the user's display name or time zone (``actor``: who does it, the user by default); audited."""
    profile = _lock_profiles(user.pk)[user.pk]
    changes = {}
    if display_name is not None:
        changes["display_name"] = clean_text(display_name, field="display_name",
                                             max_length=rules.DISPLAY_NAME_MAX_LENGTH)
    if timezone_name is not None:
        try:
            validate_timezone(timezone_name)
        except Exception:
            raise InvalidInput("Unknown time zone.", fields={"timezone": ["Must be an IANA time zone."]}) from None
        changes["timezone"] = timezone_name
    changes = {name: value for name, value in changes.items() if getattr(profile, name) != value}
    if not changes:
        return profile
    _audit(actor=actor or user, kind=EventKind.PROFILE_UPDATED, subject_user=user,
           **{name: {"from": getattr(profile, name), "to": value} for name, value in changes.items()})
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.save(update_fields=list(changes))
    return profile


def profile_unread_move(*, user_id, step: int) -> None:
    """Move a user's unread-notifications counter (the notifications app's; creates a missing profile)."""
    release = freshness.writing(users=[user_id])  # a release back only when called in autocommit mode
    if not UserProfile.objects.filter(pk=user_id).update(notifications_unread=F("notifications_unread") + step):
        UserProfile.objects.bulk_create([UserProfile(user_id=user_id)], ignore_conflicts=True)
        UserProfile.objects.filter(pk=user_id).update(notifications_unread=F("notifications_unread") + step)
    if release:
        release()


def profile_unread_set(*, user_id, count: int) -> None:
    """Set a user's unread-notifications counter to a recount (the notifications app's)."""
    release = freshness.writing(users=[user_id])
    UserProfile.objects.bulk_create([UserProfile(user_id=user_id)], ignore_conflicts=True)
    UserProfile.objects.filter(pk=user_id).update(notifications_unread=count)
    if release:
        release()


@transaction.atomic
def match_block(*, match_id: uuid.UUID, user, reason: str | None = None, report: bool = False) -> WingmanMatch:
    """The user blocks the buddy of this match, in one transaction: every match of the pair ends, their open
    sessions are cancelled by the system with reason "blocked" and no penalty (the blocked user is told
    neutrally, the blocker not at all), the pair can never be scheduled again, and what is still waiting
    to reach the blocker about the pair is withdrawn; with ``report`` a report reaches the moderators' queue.

    Locks the pair's matches in key order (session_schedule locks the one it schedules for, user_erase
    all of a user's in the same order), then each open session, then the profiles.
    """
    reason = clean_text(reason, field="reason", max_length=rules.REASON_MAX_LENGTH)
    match = WingmanMatch.objects.filter(pk=match_id).first()
    if match is None:
        raise NotFound("No such match.")
    pair = Q(user1_id=match.user1_id, user2_id=match.user2_id) | Q(user1_id=match.user2_id, user2_id=match.user1_id)
    matches = {m.pk: m for m in WingmanMatch.objects.select_for_update().filter(pair).order_by("pk")}
    match = matches[match.pk]
    buddy_id = match.user2_id if match.user1_id == user.pk else match.user1_id
    rules.check_block(match, user, already_blocked=Block.objects.filter(blocker=user, blocked_id=buddy_id).exists())
    Block.objects.create(blocker=user, blocked_id=buddy_id, match=match, reason=reason)
    now = timezone.now()
    cancelled = []
    open_ids = (WingmanSession.objects.filter(match_id__in=matches, status__in=OPEN_STATUSES)
                .order_by("scheduled_time").values_list("pk", flat=True))
    for pk in list(open_ids):
        session = _lock_session(pk)
        if not session.is_final:  # not closed meanwhile
            session.blocked_by = user
            _cancel(session, now, None, reason=rules.BLOCKED_REASON, by_block=True, blocked=buddy_id)
            cancelled.append(str(pk))
    notify.notify_pair_blocked(blocker_id=user.pk, blocked_id=buddy_id)
    filed = Report.objects.create(reporter=user, reported_id=buddy_id, match=match, reason=reason) if report else None
    also_ended = [str(pk) for pk, other in matches.items() if pk != match.pk and other.status != MatchStatus.ENDED]
    _audit(actor=user, kind=EventKind.BLOCKED, match=match, blocked=buddy_id, previous_status=match.status,
           cancelled=cancelled, report=filed.pk if filed else None, other_matches_ended=also_ended)
    WingmanMatch.objects.filter(pk__in=matches).update(status=MatchStatus.ENDED)
    match.status = MatchStatus.ENDED
    return match


def _streak_from_ledger(profile: UserProfile) -> tuple[int, object]:
    """The weekly streak (weeks, last week): consecutive weeks, up to the latest, with a completion that stands
    (not reversed under its own decision number)."""
    ledger = ReputationLedger.objects.filter(user_id=profile.pk)
    reversal = ledger.filter(reason=LedgerReason.COMPLETION_REVERSED, session=OuterRef("session"),
                             decision=OuterRef("decision"))
    zone = ZoneInfo(profile.timezone)
    days = (
        ledger.filter(reason=LedgerReason.COMPLETION).exclude(Exists(reversal))
        .values_list("created_at", flat=True)
    )
    weeks = {day - timedelta(days=day.weekday()) for day in (created.astimezone(zone).date() for created in days)}
    last = max(weeks, default=None)
    streak = 0
    while last is not None and last - timedelta(weeks=streak) in weeks:
        streak += 1
    return streak, last


def _counters_from_history(profile: UserProfile) -> dict[str, int]:
    """Every counter of the profile, recomputed from the ledger and the sessions."""
    user_id = profile.pk
    ledger = ReputationLedger.objects.filter(user_id=user_id)
    by_reason = dict(ledger.values_list("reason").annotate(n=Count("id")).values_list("reason", "n"))
    totals = {"reputation": ledger.aggregate(s=Sum("points"))["s"] or 0}
    for counter in ("completed_sessions", "no_show_count"):
        totals[counter] = sum(n * LEDGER_COUNTER_EFFECTS[reason].get(counter, 0) for reason, n in by_reason.items())
    mine = WingmanSession.objects.filter(Q(user1_id=user_id) | Q(user2_id=user_id))
    totals.update(mine.aggregate(
        total_sessions=Count("id"),
        cancelled_sessions=Count("id", filter=Q(status=SessionStatus.CANCELLED)),
        no_show_sessions=Count("id", filter=Q(status=SessionStatus.NO_SHOW)),
        total_active_seconds=Coalesce(
            Sum("active_seconds", filter=Q(status=SessionStatus.COMPLETED, started_at__isnull=False)), 0
        ),
    ))
    totals["streak_weeks"], totals["streak_last_week"] = _streak_from_ledger(profile)
    totals["reliability_percent"] = reliability_scores(user_ids=[user_id]).get(user_id)
    return totals


@transaction.atomic
def reputation_rebuild(*, user_id, fix: bool = True) -> dict[str, tuple]:
    """Recompute every counter of a user's profile from the ledger and the sessions.

    Returns the drift found as {counter: (stored, recomputed)}; with ``fix``
    the stored counters are set to the recomputed figures.
    """
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise NotFound("No such user.")
    profile = _lock_profiles(user_id)[user_id]
    drift = {}
    for counter, expected in _counters_from_history(profile).items():
        stored = getattr(profile, counter)
        if stored != expected:
            drift[counter] = (stored, expected)
            setattr(profile, counter, expected)
    if drift and fix:
        profile.save(update_fields=list(drift))
        logger.warning("counter drift for user %s repaired: %s", user_id, drift)
    return drift


ERASED_DISPLAY_NAME = "Former member"


@transaction.atomic
def user_erase(*, user, keep_idempotency_key: str | None = None) -> None:
    """Close the account (the caller has checked the password): the user's matches end, their open sessions
    are cancelled by the system as "erased" with no penalty for anyone, the account is anonymised and can no
    longer sign in (refresh tokens revoked; access tokens fail with the password and the active flag), and
    the data only they own goes (idempotency records, login records). What the buddy shares stays intact:
    sessions, notes, the timelines and everyone's ledger rows, so every counter stays consistent.

    ``keep_idempotency_key``: the key this very request came with; its record stays (it holds the answer,
    no personal data) so that a repeat gets the same answer.

    Locks the user's matches, then each open session (then profiles), in the order match_block uses.
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    now = timezone.now()
    matches = list(WingmanMatch.objects.select_for_update().filter(Q(user1=user) | Q(user2=user)).order_by("pk"))
    open_ids = (WingmanSession.objects.filter(Q(user1=user) | Q(user2=user), status__in=OPEN_STATUSES)
                .order_by("scheduled_time").values_list("pk", flat=True))
    cancelled = []
    for pk in list(open_ids):
        session = _lock_session(pk)
        if not session.is_final:
            _cancel(session, now, None, reason=rules.ERASED_REASON, by_erasure=True)
            cancelled.append(str(pk))
    WingmanMatch.objects.filter(pk__in=[m.pk for m in matches]).update(status=MatchStatus.ENDED)
    username = user.get_username()
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=username).delete()
    records = IdempotencyRecord.objects.filter(user=user)
    if keep_idempotency_key is not None:
        records = records.exclude(key=keep_idempotency_key)
    records.delete()
    notify.user_notification_data_erase(user=user)
    _audit(actor=user, kind=EventKind.ACCOUNT_ERASED, subject_user=user, cancelled=cancelled,
           matches_ended=[str(m.pk) for m in matches])
    profile = _lock_profiles(user.pk)[user.pk]
    profile.display_name = ERASED_DISPLAY_NAME
    profile.save(update_fields=["display_name"])
    user_tokens_revoke(user=user)
    user.username = f"erased-{user.pk}"
    user.email = user.first_name = user.last_name = ""
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


@transaction.atomic
def user_tokens_revoke(*, user) -> int:
    """Blacklist every unexpired refresh token the user holds; returns how many.

    The API's sign-out everywhere: a revoked refresh token can no longer be
    exchanged (401 token_not_valid). Called whenever a password changes
    (sessions_app.passwords) and by anything that ends an account. Access
    tokens are not listed anywhere: after a password change they fail on
    their own (SIMPLE_JWT CHECK_REVOKE_TOKEN), otherwise they run out within
    ACCESS_TOKEN_LIFETIME.
    """
    outstanding = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).select_for_update(of=("self",))
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)
