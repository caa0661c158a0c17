"""Every state change of WingmanMatch Sessions.

Each service is keyword-only and transactional: it locks the session row it
changes (then the participants' profiles, always in primary-key order, so two
services never wait on each other in a circle), checks the rules from
rules.py, writes its audit event in the same transaction, bumps the session's
version, and forgets the cached copy once the transaction has committed.

Pages, API, admin and management commands all call these functions.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from . import rules
from .cache import session_cache_forget
from .errors import Conflict, InvalidInput, NotFound, NotParticipant, RuleViolation, VersionMismatch
from .models import (
    LEDGER_COUNTER_EFFECTS,
    OPEN_STATUSES,
    ApproachChallenge,
    EventKind,
    LedgerReason,
    MatchStatus,
    ReputationLedger,
    SessionEvent,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
    buddy_of,
    validate_timezone,
)
from .text import without_script_markup

logger = logging.getLogger(__name__)

MODERATE_PERMISSION = "sessions_app.moderate_wingmansession"
MAX_SCHEDULE_AHEAD = timedelta(days=365)

# Control characters other than tab and newline; PostgreSQL refuses NUL outright.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- input cleaning -----------------------------------------------------------


def clean_text(value, *, field: str, max_length: int, required: bool = False, multiline: bool = False) -> str:
    """Plain text from user input, kept as typed minus control characters and script-bearing markup.

    Raises InvalidInput (422) for a non-string, an over-long value, or an empty
    required one. The result is plain text, to be escaped wherever it is shown.
    """
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.", fields={field: ["Must be a string."]})
    if len(value) > max_length:
        raise InvalidInput(
            f"{field} may be at most {max_length} characters.",
            fields={field: [f"At most {max_length} characters (got {len(value)})."]},
        )
    text = without_script_markup(_CONTROL_CHARS.sub("", value.replace("\r\n", "\n")))
    if not multiline:
        text = " ".join(text.split())
    else:
        text = text.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required.", fields={field: ["This field is required."]})
    return text


def _parse_uuid(value, *, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise InvalidInput(f"{field} is not a valid id.", fields={field: ["Must be a UUID."]}) from None


# --- building blocks ------------------------------------------------------------


def _lock_session(session_id) -> WingmanSession:
    try:
        pk = _parse_uuid(session_id, field="session_id")
    except InvalidInput:
        raise NotFound("No such session.") from None
    try:
        return WingmanSession.objects.select_for_update().get(pk=pk)
    except WingmanSession.DoesNotExist:
        raise NotFound("No such session.") from None


def _lock_profiles(*user_ids) -> dict:
    """Lock (creating where missing) the profiles of these users, in key order."""
    ids = sorted(set(user_ids))
    UserProfile.objects.bulk_create([UserProfile(user_id=pk) for pk in ids], ignore_conflicts=True)
    return {p.pk: p for p in UserProfile.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _event(session: WingmanSession, actor, kind: str, **data) -> SessionEvent:
    return SessionEvent.objects.create(session=session, actor=actor, kind=kind, data=data)


def _save(session: WingmanSession, *fields: str) -> None:
    """Write the changed fields with a new version; forget the cache after commit."""
    session.version += 1
    session.save(update_fields=[*fields, "version", "updated_at"])
    session_id = session.pk
    transaction.on_commit(lambda: session_cache_forget(session_id))


def _is_moderator(user) -> bool:
    return bool(user and user.is_active and user.has_perm(MODERATE_PERMISSION))


def _require_moderator(user) -> None:
    if not _is_moderator(user):
        raise NotParticipant("Only moderators can do that.", code="not_moderator")


def _require_no_other_in_progress(session: WingmanSession) -> None:
    """At most one session in progress per user; the caller holds both profile locks."""
    ids = [session.user1_id, session.user2_id]
    busy = (
        WingmanSession.objects.filter(status=SessionStatus.IN_PROGRESS)
        .filter(Q(user1_id__in=ids) | Q(user2_id__in=ids))
        .exclude(pk=session.pk)
        .exists()
    )
    if busy:
        raise Conflict(
            "You or your buddy already have another session in progress; finish it first.",
            code="another_session_in_progress",
        )


def _begin(session: WingmanSession, now: datetime, actor) -> None:
    """scheduled -> in_progress, for the first check-in or an explicit start."""
    _lock_profiles(session.user1_id, session.user2_id)
    _require_no_other_in_progress(session)
    session.status = SessionStatus.IN_PROGRESS
    session.started_at = now
    session.running_since = now
    _event(session, actor, EventKind.STARTED)


def _stop_clock(session: WingmanSession, now: datetime) -> None:
    session.active_seconds = session.active_seconds_at(now)
    session.running_since = None
    session.paused_at = None


def reputation_award(*, profile: UserProfile, session: WingmanSession, reason: str, points: int) -> bool:
    """Write one ledger row and move the profile's counters with it, exactly once.

    ``profile`` must be locked by the caller. Returns False (and changes
    nothing) when this (user, session, reason) is already in the ledger.
    """
    _, created = ReputationLedger.objects.get_or_create(
        user_id=profile.pk, session=session, reason=reason, defaults={"points": points}
    )
    if not created:
        return False
    profile.reputation += points
    changed = ["reputation"]
    for counter, step in LEDGER_COUNTER_EFFECTS[reason].items():
        setattr(profile, counter, getattr(profile, counter) + step)
        changed.append(counter)
    profile.save(update_fields=changed)
    return True


def _bump_streak(profile: UserProfile, day) -> None:
    week = day - timedelta(days=day.weekday())
    if profile.streak_last_week == week:
        return
    if profile.streak_last_week == week - timedelta(days=7):
        profile.streak_weeks += 1
    else:
        profile.streak_weeks = 1
    profile.streak_last_week = week
    profile.save(update_fields=["streak_weeks", "streak_last_week"])


def _complete(session: WingmanSession, now: datetime, actor, *, kind: str = EventKind.COMPLETED, **event_data) -> dict:
    """Close the session as completed; each confirmed participant earns their points.

    Returns {user_id: points earned}.
    """
    was_running = session.started_at is not None
    _stop_clock(session, now)
    session.status = SessionStatus.COMPLETED
    session.completed_at = now
    profiles = _lock_profiles(session.user1_id, session.user2_id)
    earned = {session.user1_id: 0, session.user2_id: 0}
    for role in ("user1", "user2"):
        profile = profiles[session.user_id_for(role)]
        if was_running:
            profile.total_active_seconds += session.active_seconds
            profile.save(update_fields=["total_active_seconds"])
        if session.is_confirmed(role):
            points = session.challenge_snapshot(role)["points"]
            if reputation_award(profile=profile, session=session, reason=LedgerReason.COMPLETION, points=points):
                earned[profile.pk] = points
                _bump_streak(profile, now.astimezone(ZoneInfo(profile.timezone)).date())
    _event(
        session,
        actor,
        kind,
        active_seconds=session.active_seconds,
        points={str(k): v for k, v in earned.items()},
        **event_data,
    )
    return earned


# --- scheduling -------------------------------------------------------------------


@transaction.atomic
def session_schedule(
    *,
    user,
    match_id,
    venue_name,
    scheduled_time,
    user1_challenge_id,
    user2_challenge_id,
) -> WingmanSession:
    """Schedule a session of an accepted match the user belongs to."""
    now = timezone.now()
    fields: dict[str, list[str]] = {}

    def collect(func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InvalidInput as error:
            fields.update(error.fields)
            return None

    match_pk = collect(_parse_uuid, match_id, field="match_id")
    venue = collect(clean_text, venue_name, field="venue_name", max_length=rules.VENUE_MAX_LENGTH, required=True)
    challenge_pks = {
        name: collect(_parse_uuid, value, field=name)
        for name, value in (("user1_challenge_id", user1_challenge_id), ("user2_challenge_id", user2_challenge_id))
    }
    if not isinstance(scheduled_time, datetime):
        fields["scheduled_time"] = ["Must be a date and time."]
    elif timezone.is_naive(scheduled_time):
        fields["scheduled_time"] = ["Must include a time zone offset."]

    match = None
    if match_pk:
        match = WingmanMatch.objects.filter(pk=match_pk).first()
        if match is None:
            fields["match_id"] = ["No such match."]
    challenges = {}
    wanted = [pk for pk in challenge_pks.values() if pk]
    found = {c.pk: c for c in ApproachChallenge.objects.filter(pk__in=wanted, is_active=True)}
    for name, pk in challenge_pks.items():
        if pk and pk not in found:
            fields[name] = ["No active challenge has this id."]
        challenges[name] = found.get(pk)
    if fields:
        raise InvalidInput("Some fields are not valid.", fields=fields)

    if not match.has_member(user):
        raise NotParticipant("You are not part of this match.")
    if match.status != MatchStatus.ACCEPTED:
        raise RuleViolation("Sessions can be scheduled only for an accepted match.", code="match_not_accepted")
    if scheduled_time <= now:
        raise RuleViolation("The scheduled time must be in the future.", code="time_in_past")
    if scheduled_time > now + MAX_SCHEDULE_AHEAD:
        raise RuleViolation("Sessions can be scheduled at most a year ahead.", code="time_too_far")

    c1, c2 = challenges["user1_challenge_id"], challenges["user2_challenge_id"]
    session = WingmanSession.objects.create(
        match=match,
        user1_id=match.user1_id,
        user2_id=match.user2_id,
        venue_name=venue,
        scheduled_time=scheduled_time,
        **WingmanSession.snapshot_fields(c1, c2),
    )
    profiles = _lock_profiles(match.user1_id, match.user2_id)
    for profile in profiles.values():
        profile.total_sessions += 1
        profile.save(update_fields=["total_sessions"])
    _event(
        session,
        user,
        EventKind.SCHEDULED,
        venue_name=venue,
        scheduled_time=scheduled_time.isoformat(),
    )
    return session


# --- the lifecycle -------------------------------------------------------------------


@transaction.atomic
def session_check_in(*, session_id, user) -> WingmanSession:
    """Mark the participant present; the first check-in starts the session."""
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_check_in(session, role, now)
    setattr(session, f"{role}_checked_in_at", now)
    changed = [f"{role}_checked_in_at"]
    _event(session, user, EventKind.CHECKED_IN, participant=role)
    if session.status == SessionStatus.SCHEDULED:
        _begin(session, now, user)
        changed += ["status", "started_at", "running_since"]
    _save(session, *changed)
    return session


@transaction.atomic
def session_start(*, session_id, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_start(session, role, now)
    _begin(session, now, user)
    _save(session, "status", "started_at", "running_since")
    return session


@transaction.atomic
def session_pause(*, session_id, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_pause(session, role, now)
    _stop_clock(session, now)
    session.paused_at = now
    _event(session, user, EventKind.PAUSED, active_seconds=session.active_seconds)
    _save(session, "active_seconds", "running_since", "paused_at")
    return session


@transaction.atomic
def session_resume(*, session_id, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_resume(session, role, now)
    paused_seconds = int((now - session.paused_at).total_seconds())
    session.paused_at = None
    session.running_since = now
    _event(session, user, EventKind.RESUMED, paused_seconds=paused_seconds)
    _save(session, "running_since", "paused_at")
    return session


@dataclass(frozen=True)
class ConfirmResult:
    session: WingmanSession
    both_confirmed: bool
    reputation_updated: bool
    user_reputation_delta: int


@transaction.atomic
def session_confirm(*, session_id, user, buddy_id=None) -> ConfirmResult:
    """The participant confirms that the buddy completed the buddy's challenge.

    ``buddy_id``, when a client names whom it confirms, must be the buddy:
    naming oneself is refused as self-confirmation.
    """
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    if buddy_id is not None:
        if str(buddy_id) == str(user.pk):
            raise RuleViolation("You cannot confirm your own challenge; your buddy does that.",
                                code="self_confirmation")
        if str(buddy_id) != str(session.user_id_for(buddy_of(role))):
            raise InvalidInput("buddy_id is not your buddy in this session.",
                               fields={"buddy_id": ["Not your buddy in this session."]})
    rules.check_confirm(session, role, now)
    flag = "user1_completed_confirmed_by_user2" if role == "user2" else "user2_completed_confirmed_by_user1"
    setattr(session, flag, True)
    changed = [flag]
    _event(session, user, EventKind.CONFIRMED, confirmed=buddy_of(role))
    earned: dict = {}
    both = session.user1_completed_confirmed_by_user2 and session.user2_completed_confirmed_by_user1
    if both:
        earned = _complete(session, now, user)
        changed += ["status", "completed_at", "active_seconds", "running_since", "paused_at"]
    _save(session, *changed)
    delta = earned.get(user.pk, 0)
    return ConfirmResult(
        session=session, both_confirmed=both, reputation_updated=bool(earned), user_reputation_delta=delta
    )


@transaction.atomic
def session_cancel(*, session_id, user, reason, as_moderator: bool = False) -> WingmanSession:
    """A participant cancels before the start (late: half their points, rounded up).

    A moderator (``as_moderator``) may cancel at any stage, with no penalty.
    """
    reason = clean_text(rules.check_reason(reason), field="reason", max_length=rules.REASON_MAX_LENGTH,
                        required=True)
    now = timezone.now()
    session = _lock_session(session_id)
    penalty, redecided = 0, {}
    if as_moderator:
        _require_moderator(user)
        redecided = _redecide(session, now, user, SessionStatus.CANCELLED)
    else:
        role = rules.require_participant(session, user)
        rules.check_cancel(session, role, now)
        penalty = rules.cancel_penalty(session, role, now)
    _stop_clock(session, now)
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = now
    session.cancelled_by = user
    session.cancellation_reason = reason
    session.cancellation_penalty = penalty
    profiles = _lock_profiles(session.user1_id, session.user2_id)
    for profile in profiles.values():
        profile.cancelled_sessions += 1
        profile.save(update_fields=["cancelled_sessions"])
    if penalty:
        reputation_award(profile=profiles[user.pk], session=session, reason=LedgerReason.LATE_CANCEL, points=-penalty)
    _event(session, user, EventKind.CANCELLED, reason=reason, penalty=penalty, by_moderator=as_moderator,
           **redecided)
    _save(session, "status", "cancelled_at", "cancelled_by", "cancellation_reason", "cancellation_penalty",
          "active_seconds", "running_since", "paused_at", *_OUTCOME_FIELDS)
    return session


@transaction.atomic
def session_report_no_show(*, session_id, user, absent_user_id=None, as_moderator: bool = False) -> WingmanSession:
    """A present participant reports the buddy absent after the grace period.

    A moderator (``as_moderator``) names the absent participant and may do so
    at any stage.
    """
    now = timezone.now()
    session = _lock_session(session_id)
    redecided = {}
    if as_moderator:
        _require_moderator(user)
        if absent_user_id is None or str(absent_user_id) not in (str(session.user1_id), str(session.user2_id)):
            raise InvalidInput("Name the absent participant.",
                               fields={"absent_user_id": ["Must be one of the two participants."]})
        absent_role = "user1" if str(absent_user_id) == str(session.user1_id) else "user2"
        redecided = _redecide(session, now, user, SessionStatus.NO_SHOW)
    else:
        role = rules.require_participant(session, user)
        if absent_user_id is not None and str(absent_user_id) != str(session.user_id_for(buddy_of(role))):
            raise RuleViolation("You can only report your buddy absent.", code="no_show_not_buddy")
        rules.check_no_show(session, role, now)
        absent_role = buddy_of(role)
    _stop_clock(session, now)
    session.status = SessionStatus.NO_SHOW
    session.no_show_user_id = session.user_id_for(absent_role)
    profiles = _lock_profiles(session.user1_id, session.user2_id)
    for profile in profiles.values():
        profile.no_show_sessions += 1
        profile.save(update_fields=["no_show_sessions"])
    points = session.challenge_snapshot(absent_role)["points"]
    reputation_award(profile=profiles[session.no_show_user_id], session=session, reason=LedgerReason.NO_SHOW,
                     points=-points)
    _event(session, user, EventKind.NO_SHOW, absent=absent_role, points=-points, by_moderator=as_moderator,
           **redecided)
    _save(session, "status", "no_show_user", "active_seconds", "running_since", "paused_at", *_OUTCOME_FIELDS)
    return session


@transaction.atomic
def session_complete(*, session_id, user) -> WingmanSession:
    """A moderator marks the session completed: both participants confirmed."""
    _require_moderator(user)
    now = timezone.now()
    session = _lock_session(session_id)
    redecided = _redecide(session, now, user, SessionStatus.COMPLETED)
    session.user1_completed_confirmed_by_user2 = True
    session.user2_completed_confirmed_by_user1 = True
    _complete(session, now, user, by_moderator=True, **redecided)
    _save(session, "status", "completed_at", "active_seconds", "running_since", "paused_at", *_OUTCOME_FIELDS)
    return session


_REVERSALS = {
    LedgerReason.COMPLETION: LedgerReason.COMPLETION_REVERSED,
    LedgerReason.LATE_CANCEL: LedgerReason.LATE_CANCEL_REVERSED,
    LedgerReason.NO_SHOW: LedgerReason.NO_SHOW_REVERSED,
}


# What a final outcome leaves on the session; _redecide clears them and the caller saves them
# together with the new status (saving them apart would leave a completed session without its time).
_OUTCOME_FIELDS = (
    "completed_at", "cancelled_at", "cancelled_by", "cancellation_reason", "cancellation_penalty",
    "no_show_user", "user1_completed_confirmed_by_user2", "user2_completed_confirmed_by_user1",
)


def _redecide(session: WingmanSession, now: datetime, moderator, new_status: str) -> dict:
    """Let a moderator replace a final outcome: undo its ledger rows and counters.

    An open session needs no undoing. A final one can be re-decided once (the
    ledger keeps one row per user, session and reason); the old outcome's
    points are reversed with ledger rows of their own. The cleared outcome
    fields (_OUTCOME_FIELDS) are saved by the caller along with the new status.
    """
    if not session.is_final:
        return {}
    if session.status == new_status:
        raise Conflict(f"The session is already {session.get_status_display().lower()}.", code="already_in_state")
    entries = list(ReputationLedger.objects.filter(session=session))
    if any(entry.reason not in _REVERSALS for entry in entries):
        raise Conflict("This session's outcome was already changed by a moderator once.", code="already_redecided")
    profiles = _lock_profiles(session.user1_id, session.user2_id)
    for entry in entries:
        reputation_award(profile=profiles[entry.user_id], session=session, reason=_REVERSALS[entry.reason],
                         points=-entry.points)
    counter = {SessionStatus.CANCELLED: "cancelled_sessions", SessionStatus.NO_SHOW: "no_show_sessions"}.get(
        session.status
    )
    for profile in profiles.values():
        if counter:
            setattr(profile, counter, max(getattr(profile, counter) - 1, 0))
            profile.save(update_fields=[counter])
        if session.status == SessionStatus.COMPLETED and session.started_at is not None:
            # _complete added this session's active time; a completion undone takes it back.
            profile.total_active_seconds = max(profile.total_active_seconds - session.active_seconds, 0)
            profile.save(update_fields=["total_active_seconds"])
    decided = {"redecided_from": session.status, "reversed": [e.reason for e in entries]}
    session.completed_at = None
    session.cancelled_at = None
    session.cancelled_by = None
    session.cancellation_reason = ""
    session.cancellation_penalty = 0
    session.no_show_user = None
    session.user1_completed_confirmed_by_user2 = False
    session.user2_completed_confirmed_by_user1 = False
    return decided


# --- notes ----------------------------------------------------------------------------


@transaction.atomic
def notes_update(
    *, session_id, user, notes, expected_version: int | None = None, base_notes_digest: str | None = None
) -> WingmanSession:
    """Replace the shared notes (plain text kept as typed, script-bearing markup removed, at most 5,000 characters).

    With ``expected_version`` the write happens only if nobody changed the
    session since that version (VersionMismatch otherwise, carrying the
    current notes and version so the client can show both texts). An editor
    that also sends ``base_notes_digest`` (notes_digest of the text it started
    from) conflicts only with a change of the notes themselves: when just
    something else moved the version on (a check-in, say), the edit goes
    through.
    """
    text = clean_text(notes, field="notes", max_length=rules.NOTES_MAX_LENGTH, multiline=True)
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_edit_notes(session, role, now)
    stale = expected_version is not None and expected_version != session.version
    if stale and (base_notes_digest is None or base_notes_digest != notes_digest(session.notes)):
        raise VersionMismatch(
            "Your buddy changed the session meanwhile.",
            data={"current_version": session.version, "current_notes": session.notes},
        )
    if text == session.notes:
        return session
    session.notes = text
    _event(session, user, EventKind.NOTES_UPDATED, length=len(text))
    _save(session, "notes")
    return session


def notes_digest(notes: str) -> str:
    """A short fingerprint of a notes text, for editors to say which text they started from."""
    return hashlib.sha256(notes.encode()).hexdigest()[:20]


# --- the system ------------------------------------------------------------------------


def sessions_close_stale(*, now: datetime | None = None) -> dict[str, int]:
    """Close sessions left open 48 hours after their time. Safe to run often and concurrently."""
    now = now or timezone.now()
    cutoff = now - rules.STALE_AFTER
    stale_ids = list(
        WingmanSession.objects.filter(status__in=OPEN_STATUSES, scheduled_time__lt=cutoff)
        .order_by("scheduled_time")
        .values_list("pk", flat=True)
    )
    outcome = {"cancelled": 0, "completed": 0}
    for pk in stale_ids:
        closed_as = session_close_stale(session_id=pk, now=now)
        if closed_as:
            outcome[closed_as] += 1
    return outcome


@transaction.atomic
def session_close_stale(*, session_id, now: datetime) -> str | None:
    """Close one stale session; None if someone else closed or changed it first."""
    session = (
        WingmanSession.objects.select_for_update(skip_locked=True)
        .filter(pk=session_id, status__in=OPEN_STATUSES, scheduled_time__lt=now - rules.STALE_AFTER)
        .first()
    )
    if session is None:
        return None
    if not session.user1_checked_in_at and not session.user2_checked_in_at:
        _stop_clock(session, now)
        session.status = SessionStatus.CANCELLED
        session.cancelled_at = now
        session.cancellation_reason = "expired"
        profiles = _lock_profiles(session.user1_id, session.user2_id)
        for profile in profiles.values():
            profile.cancelled_sessions += 1
            profile.save(update_fields=["cancelled_sessions"])
        _event(session, None, EventKind.EXPIRED, outcome="cancelled", reason="expired")
        _save(session, "status", "cancelled_at", "cancellation_reason", "active_seconds", "running_since",
              "paused_at")
        return "cancelled"
    earned = _complete(session, now, None, kind=EventKind.EXPIRED)
    _save(session, "status", "completed_at", "active_seconds", "running_since", "paused_at")
    logger.info("closed stale session %s as completed, points %s", session.pk, earned)
    return "completed"


# --- profiles and reputation ------------------------------------------------------------


@transaction.atomic
def profile_update(*, user, display_name=None, timezone_name=None) -> UserProfile:
    profile = _lock_profiles(user.pk)[user.pk]
    changed = []
    if display_name is not None:
        profile.display_name = clean_text(display_name, field="display_name", max_length=100)
        changed.append("display_name")
    if timezone_name is not None:
        try:
            validate_timezone(timezone_name)
        except Exception:
            raise InvalidInput("Unknown time zone.", fields={"timezone": ["Must be an IANA time zone."]}) from None
        profile.timezone = timezone_name
        changed.append("timezone")
    if changed:
        profile.save(update_fields=changed)
    if "display_name" in changed:
        _forget_sessions_of(user.pk)
    return profile


def _forget_sessions_of(user_id) -> None:
    """Cached sessions carry the participants' names, which a session's version does not cover."""
    ids = list(
        WingmanSession.objects.filter(Q(user1_id=user_id) | Q(user2_id=user_id)).values_list("pk", flat=True)
    )

    def forget():
        for pk in ids:
            session_cache_forget(pk)

    transaction.on_commit(forget)


def _ledger_totals(user_id) -> dict[str, int]:
    by_reason = dict(
        ReputationLedger.objects.filter(user_id=user_id)
        .values_list("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    totals = {"reputation": ReputationLedger.objects.filter(user_id=user_id).aggregate(s=Sum("points"))["s"] or 0}
    for counter in ("completed_sessions", "no_show_count"):
        totals[counter] = sum(
            n * LEDGER_COUNTER_EFFECTS[reason].get(counter, 0) for reason, n in by_reason.items()
        )
    return totals


@transaction.atomic
def reputation_rebuild(*, user_id, fix: bool = True) -> dict[str, tuple[int, int]]:
    """Recompute a user's reputation counters from the ledger.

    Returns the drift found as {counter: (stored, from_ledger)}; with ``fix``
    the stored counters are set to the ledger's figures.
    """
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise NotFound("No such user.")
    profile = _lock_profiles(user_id)[user_id]
    drift = {}
    for counter, expected in _ledger_totals(user_id).items():
        stored = getattr(profile, counter)
        if stored != expected:
            drift[counter] = (stored, expected)
            setattr(profile, counter, expected)
    if drift and fix:
        profile.save(update_fields=list(drift))
        logger.warning("reputation drift for user %s repaired: %s", user_id, drift)
    return drift
