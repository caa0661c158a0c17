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
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

import notifications.services as notify

from . import freshness, rules
from .errors import Conflict, InvalidInput, NotFound, NotParticipant, VersionMismatch
from .models import (
    LEDGER_COUNTER_EFFECTS,
    OPEN_STATUSES,
    ApproachChallenge,
    Block,
    Dispute,
    DisputeStatus,
    EventKind,
    IdempotencyRecord,
    LedgerReason,
    MatchStatus,
    Report,
    ReportStatus,
    ReputationLedger,
    SessionEvent,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
    buddy_of,
    validate_timezone,
)
from .reliability import reliability_refresh, reliability_scores
from .text import without_script_markup

logger = logging.getLogger(__name__)

MODERATE_PERMISSION = "sessions_app.moderate_wingmansession"

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


# --- building blocks ------------------------------------------------------------


def _state(session: WingmanSession) -> dict:
    return {field.attname: getattr(session, field.attname) for field in session._meta.concrete_fields}


def _lock_session(session_id: uuid.UUID, *, skip_locked: bool = False, **conditions) -> WingmanSession | None:
    """Lock the session row (only it) and load both users with it; _save writes what changed since.

    With ``skip_locked`` (the system's sweeps) a row someone else holds, or one that no longer meets
    ``conditions``, gives None; otherwise NotFound.
    """
    session = next(iter(  # one row by its key: no ORDER BY (first() would add one for Django to compile)
        WingmanSession.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("user1", "user2")
        .filter(pk=session_id, **conditions)[:1]
    ), None)
    if session is None:
        if skip_locked:
            return None
        raise NotFound("No such session.")
    session._as_locked = _state(session)
    return session


def _save(session: WingmanSession) -> None:
    """Write the fields changed since the lock with a new version (its Redis copy stops first: signals.py)."""
    changed = [name for name, value in _state(session).items() if session._as_locked[name] != value]
    session.version += 1
    session.save(update_fields=[*changed, "version", "updated_at"])
    session._as_locked = _state(session)
    _attach_profiles(session)


def _attach_profiles(session: WingmanSession) -> None:
    """Both profiles on the written session, for the answer: nothing is then loaded lazily after the write.

    One query, read with the session lock held, so current (a join in the locking query would show them as
    they were before any wait for the lock); none when the service already locked them (_lock_participants).
    """
    users = [user for user in (session.user1, session.user2) if not type(user).profile.is_cached(user)]
    if users:
        profiles = UserProfile.objects.in_bulk([user.pk for user in users])
        for user in users:
            if user.pk in profiles:
                user.profile = profiles[user.pk]


def _lock_profiles(*user_ids) -> dict:
    """Lock (creating where missing) the profiles of these users, in key order, to change them.

    Redis copies of these users (and of sessions showing them) stop being used
    before the change commits (sessions_app/freshness.py).
    """
    ids = sorted(set(user_ids))
    freshness.writing(users=ids)
    UserProfile.objects.bulk_create([UserProfile(user_id=pk) for pk in ids], ignore_conflicts=True)
    return {p.pk: p for p in UserProfile.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _lock_participants(session: WingmanSession) -> dict:
    """Lock both participants' profiles (after the session row, in key order) and attach them to the session,
    so the rules read what is locked."""
    profiles = _lock_profiles(session.user1_id, session.user2_id)
    session.user1.profile = profiles[session.user1_id]
    session.user2.profile = profiles[session.user2_id]
    return profiles


def _move_counters(user_ids, **steps: int) -> None:
    """Add ``steps`` to these users' profile counters in one UPDATE (the caller holds the profile locks).

    A counter that would fall below zero is out of step with the ledger: the
    write is refused with a domain error instead of hiding the drift.
    """
    ids = set(user_ids)
    rows = UserProfile.objects.filter(pk__in=ids)
    for counter, step in steps.items():
        if step < 0 and counter != "reputation":
            rows = rows.filter(**{f"{counter}__gte": -step})
    if rows.update(**{counter: F(counter) + step for counter, step in steps.items()}) != len(ids):
        raise Conflict(
            "A participant's statistics are out of step with the ledger; run rebuild_reputation for both "
            "participants, then try again.",
            code="counter_drift",
        )


def _participant_ids(session: WingmanSession) -> tuple:
    return session.user1_id, session.user2_id


def _event(session: WingmanSession, actor, kind: str, **data) -> SessionEvent:
    return SessionEvent.objects.create(session=session, actor=actor, kind=kind, data=data)


def _is_moderator(user) -> bool:
    return bool(user and user.is_active and user.has_perm(MODERATE_PERMISSION))


def _require_moderator(user) -> None:
    if not _is_moderator(user):
        raise NotParticipant("Only moderators can do that.", code="not_moderator")


def _begin(session: WingmanSession, now: datetime, actor) -> None:
    """scheduled -> in_progress (the caller has checked the rules with the profiles locked)."""
    session.status = SessionStatus.IN_PROGRESS
    session.started_at = now
    session.running_since = now
    UserProfile.objects.filter(pk__in=_participant_ids(session)).update(running_session=session)
    _event(session, actor, EventKind.STARTED)


def _close(session: WingmanSession, now: datetime, status: str) -> None:
    """Leave the open states: stop the clock, free both participants for another session."""
    if session.status == SessionStatus.IN_PROGRESS:
        UserProfile.objects.filter(pk__in=_participant_ids(session), running_session=session).update(
            running_session=None
        )
    session.active_seconds = session.active_seconds_at(now)
    session.running_since = None
    session.paused_at = None
    session.status = status
    session.finished_at = now  # the dispute window counts from here


def reputation_award(*, user_id, session: WingmanSession, reason: str, points: int) -> bool:
    """Write one ledger row and move the user's counters with it, exactly once.

    The row belongs to the session's outcome standing now (its ``redecisions``). The caller holds the
    profile lock. Returns False (and changes nothing) when this (user, session, reason, decision) is
    already in the ledger.
    """
    _, created = ReputationLedger.objects.get_or_create(
        user_id=user_id, session=session, reason=reason, decision=session.redecisions, defaults={"points": points}
    )
    if created:
        _move_counters([user_id], reputation=points, **LEDGER_COUNTER_EFFECTS[reason])
    return created


def _bump_streak(profile: UserProfile, day) -> None:
    week = day - timedelta(days=day.weekday())
    if profile.streak_last_week == week:
        return
    profile.streak_weeks = profile.streak_weeks + 1 if profile.streak_last_week == week - timedelta(days=7) else 1
    profile.streak_last_week = week
    profile.save(update_fields=["streak_weeks", "streak_last_week"])


def _complete(session: WingmanSession, now: datetime, actor, *, kind: str = EventKind.COMPLETED, **event_data) -> dict:
    """Close the session as completed; each confirmed participant earns their points.

    Returns {user_id: points earned}.
    """
    profiles = _lock_participants(session)
    was_running = session.started_at is not None
    _close(session, now, SessionStatus.COMPLETED)
    session.completed_at = now
    if was_running and session.active_seconds:
        _move_counters(_participant_ids(session), total_active_seconds=session.active_seconds)
    earned = {session.user1_id: 0, session.user2_id: 0}
    for role in ("user1", "user2"):
        user_id = session.user_id_for(role)
        points = session.challenge_snapshot(role)["points"]
        if session.is_confirmed(role) and reputation_award(
            user_id=user_id, session=session, reason=LedgerReason.COMPLETION, points=points
        ):
            earned[user_id] = points
            _bump_streak(profiles[user_id], now.astimezone(ZoneInfo(profiles[user_id].timezone)).date())
    _event(session, actor, kind, active_seconds=session.active_seconds,
           points={str(k): v for k, v in earned.items()}, **event_data)
    _save(session)
    _reliability_refresh(session)
    notify.notify_session_completed(session=session, earned=earned)
    return earned


def _cancel(session: WingmanSession, now: datetime, actor, *, reason: str, penalty: int = 0,
            kind: str = EventKind.CANCELLED, **event_data) -> None:
    """Close the session as cancelled; a late canceller pays ``penalty`` points."""
    _lock_participants(session)
    _close(session, now, SessionStatus.CANCELLED)
    session.cancelled_at = now
    session.cancelled_by = actor
    session.cancellation_reason = reason
    session.cancellation_penalty = penalty
    _move_counters(_participant_ids(session), cancelled_sessions=1)
    if penalty:
        reputation_award(user_id=actor.pk, session=session, reason=LedgerReason.LATE_CANCEL, points=-penalty)
    _event(session, actor, kind, reason=reason, penalty=penalty, **event_data)
    _save(session)
    _reliability_refresh(session)
    notify.notify_session_cancelled(session=session, actor=actor)


def _no_show(session: WingmanSession, now: datetime, actor, *, absent_role: str, **event_data) -> None:
    """Close the session as a no-show of ``absent_role``, who loses their challenge's points."""
    _lock_participants(session)
    _close(session, now, SessionStatus.NO_SHOW)
    session.no_show_user_id = session.user_id_for(absent_role)
    _move_counters(_participant_ids(session), no_show_sessions=1)
    points = session.challenge_snapshot(absent_role)["points"]
    reputation_award(user_id=session.no_show_user_id, session=session, reason=LedgerReason.NO_SHOW, points=-points)
    _event(session, actor, EventKind.NO_SHOW, absent=absent_role, points=-points, **event_data)
    _save(session)
    _reliability_refresh(session)
    notify.notify_no_show(session=session)


# --- scheduling -------------------------------------------------------------------


@transaction.atomic
def session_schedule(
    *,
    user,
    match_id: uuid.UUID,
    venue_name: str,
    scheduled_time: datetime,
    user1_challenge_id: uuid.UUID,
    user2_challenge_id: uuid.UUID,
) -> WingmanSession:
    """Schedule a session of an accepted match the user belongs to (typed input, parsed at the edge).

    The match row is locked, so a block of the pair (match_block) waits for this or comes before it.
    """
    match = WingmanMatch.objects.select_for_update().filter(pk=match_id).first()
    wanted = {"user1_challenge_id": user1_challenge_id, "user2_challenge_id": user2_challenge_id}
    found = {c.pk: c for c in ApproachChallenge.objects.filter(pk__in=wanted.values(), is_active=True)}
    fields = {name: ["No active challenge has this id."] for name, pk in wanted.items() if pk not in found}
    if match is None:
        fields["match_id"] = ["No such match."]
    try:
        venue = clean_text(venue_name, field="venue_name", max_length=rules.VENUE_MAX_LENGTH, required=True)
    except InvalidInput as error:
        fields.update(error.fields)
    if fields:
        raise InvalidInput("Some fields are not valid.", fields=fields)
    rules.check_schedule(match, user, scheduled_time, timezone.now(),
                         blocked=Block.objects.between(match.user1_id, match.user2_id).exists())

    profiles = _lock_profiles(match.user1_id, match.user2_id)
    rules.check_booking_limits(user, profiles, {pk: _upcoming_count(pk) for pk in profiles})
    session = WingmanSession.objects.create(
        match=match, user1_id=match.user1_id, user2_id=match.user2_id, venue_name=venue,
        scheduled_time=scheduled_time,
        **WingmanSession.snapshot_fields(found[user1_challenge_id], found[user2_challenge_id]),
    )
    _move_counters([match.user1_id, match.user2_id], total_sessions=1)
    _event(session, user, EventKind.SCHEDULED, venue_name=venue, scheduled_time=scheduled_time.isoformat())
    notify.notify_session_scheduled(session=session, actor=user)
    return session


def _upcoming_count(user_id) -> int:
    """The user's scheduled sessions (the booking limit counts these), through the per-side status indexes."""
    scheduled = WingmanSession.objects.filter(status=SessionStatus.SCHEDULED)
    return scheduled.filter(user1_id=user_id).count() + scheduled.filter(user2_id=user_id).count()


def _reliability_refresh(session: WingmanSession) -> None:
    """After a session became final: both participants' reliability (the caller holds the profile locks)."""
    reliability_refresh(user_ids=_participant_ids(session))


# --- the lifecycle -------------------------------------------------------------------


@transaction.atomic
def session_check_in(*, session_id: uuid.UUID, user) -> WingmanSession:
    """Mark the participant present; the first check-in starts the session."""
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    _lock_participants(session)
    rules.check_check_in(session, role, now)
    setattr(session, f"{role}_checked_in_at", now)
    _event(session, user, EventKind.CHECKED_IN, participant=role)
    if session.status == SessionStatus.SCHEDULED:
        _begin(session, now, user)
    _save(session)
    notify.notify_checked_in(session=session, user=user)
    return session


@transaction.atomic
def session_start(*, session_id: uuid.UUID, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    _lock_participants(session)
    rules.check_start(session, role, now)
    _begin(session, now, user)
    _save(session)
    return session


@transaction.atomic
def session_pause(*, session_id: uuid.UUID, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    rules.check_pause(session, rules.require_participant(session, user), now)
    session.active_seconds = session.active_seconds_at(now)
    session.running_since = None
    session.paused_at = now
    _event(session, user, EventKind.PAUSED, active_seconds=session.active_seconds)
    _save(session)
    return session


@transaction.atomic
def session_resume(*, session_id: uuid.UUID, user) -> WingmanSession:
    now = timezone.now()
    session = _lock_session(session_id)
    rules.check_resume(session, rules.require_participant(session, user), now)
    paused_seconds = int((now - session.paused_at).total_seconds())
    session.paused_at = None
    session.running_since = now
    _event(session, user, EventKind.RESUMED, paused_seconds=paused_seconds)
    _save(session)
    return session


@dataclass(frozen=True)
class ConfirmResult:
    session: WingmanSession
    both_confirmed: bool
    reputation_updated: bool
    user_reputation_delta: int


@transaction.atomic
def session_confirm(*, session_id: uuid.UUID, user, buddy_id: int | None = None) -> ConfirmResult:
    """The participant confirms that the buddy completed the buddy's challenge.

    ``buddy_id``, when a client names whom it confirms, must be the buddy.
    """
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_confirm_target(session, role, buddy_id)
    rules.check_confirm(session, role, now)
    setattr(session, WingmanSession.confirmation_field(buddy_of(role)), True)
    _event(session, user, EventKind.CONFIRMED, confirmed=buddy_of(role))
    both = session.is_confirmed("user1") and session.is_confirmed("user2")
    earned = _complete(session, now, user) if both else {}
    if not both:
        _save(session)
    return ConfirmResult(session=session, both_confirmed=both, reputation_updated=any(earned.values()),
                         user_reputation_delta=earned.get(user.pk, 0))


def _reason(reason: str) -> str:
    return clean_text(rules.check_reason(reason), field="reason", max_length=rules.REASON_MAX_LENGTH, required=True)


@transaction.atomic
def session_cancel(*, session_id: uuid.UUID, user, reason: str) -> WingmanSession:
    """A participant cancels before the start (late: half their points, rounded up)."""
    reason = _reason(reason)
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_cancel(session, role, now)
    _cancel(session, now, user, reason=reason, penalty=rules.cancel_penalty(session, role, now), by_moderator=False)
    return session


@transaction.atomic
def session_report_no_show(*, session_id: uuid.UUID, user, absent_user_id: int | None = None) -> WingmanSession:
    """A present participant reports the buddy absent after the grace period."""
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_no_show_target(session, role, absent_user_id)
    rules.check_no_show(session, role, now)
    _no_show(session, now, user, absent_role=buddy_of(role), by_moderator=False)
    return session


# --- rescheduling ----------------------------------------------------------------------


@transaction.atomic
def session_reschedule_propose(*, session_id: uuid.UUID, user, scheduled_time: datetime,
                               venue_name: str | None = None) -> WingmanSession:
    """Propose a new time (and optionally venue); it replaces any pending proposal, from either side."""
    venue = clean_text(venue_name, field="venue_name", max_length=rules.VENUE_MAX_LENGTH)
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_reschedule(session, role, now)
    rules.check_reschedule_proposal(session, scheduled_time, venue, now)
    replaced = rules.pending_reschedule(session, now)
    session.reschedule_proposed_by = user
    session.reschedule_time = scheduled_time
    session.reschedule_venue_name = venue
    session.reschedule_proposed_at = now
    _event(session, user, EventKind.RESCHEDULE_PROPOSED, scheduled_time=scheduled_time.isoformat(),
           venue_name=venue, replaced=replaced)
    _save(session)
    notify.notify_reschedule_proposed(session=session, actor=user, proposed_time=scheduled_time)
    return session


@transaction.atomic
def session_reschedule_accept(*, session_id: uuid.UUID, user) -> WingmanSession:
    """The buddy accepts: the session moves; a late proposal costs its proposer the late-cancel penalty.

    "Late" is measured when the proposal was made, against the time it would
    replace; the ledger takes the penalty once per user and session.
    """
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_accept_reschedule(session, role, now)
    proposer_role = buddy_of(role)
    penalty = rules.cancel_penalty(session, proposer_role, session.reschedule_proposed_at)
    charged = False
    if penalty:
        _lock_participants(session)
        charged = reputation_award(user_id=session.reschedule_proposed_by_id, session=session,
                                   reason=LedgerReason.LATE_RESCHEDULE, points=-penalty)
    moved = {"from": {"scheduled_time": session.scheduled_time.isoformat(), "venue_name": session.venue_name},
             "to": {"scheduled_time": session.reschedule_time.isoformat(),
                    "venue_name": session.reschedule_venue_name or session.venue_name}}
    session.scheduled_time = session.reschedule_time
    session.venue_name = session.reschedule_venue_name or session.venue_name
    session.clear_reschedule_proposal()
    _event(session, user, EventKind.RESCHEDULED, proposed_by=proposer_role, penalty=penalty if charged else 0,
           **moved)
    _save(session)
    notify.notify_session_rescheduled(session=session, actor=user)
    return session


@transaction.atomic
def session_reschedule_decline(*, session_id: uuid.UUID, user) -> WingmanSession:
    """The buddy declines the pending proposal, or its proposer withdraws it."""
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_decline_reschedule(session, role, now)
    own = session.reschedule_proposed_by_id == user.pk
    session.clear_reschedule_proposal()
    _event(session, user, EventKind.RESCHEDULE_WITHDRAWN if own else EventKind.RESCHEDULE_DECLINED)
    _save(session)
    if not own:  # a withdrawal is the proposer's own doing; the buddy sees it on the page
        notify.notify_reschedule_declined(session=session, actor=user)
    return session


@transaction.atomic
def session_withdraw(*, session_id: uuid.UUID, reason: str) -> WingmanSession:
    """The system cancels an open session for nobody's doing (``reason``: one of
    rules.SYSTEM_WITHDRAWAL_REASONS): no penalty, not disputable, not counted in anyone's reliability."""
    session = _lock_session(session_id)
    rules.check_system_withdrawal(session, reason)
    _cancel(session, timezone.now(), None, reason=reason, withdrawn=True)
    return session


# --- moderators' decisions ---------------------------------------------------------------


@transaction.atomic
def session_cancel_by_moderator(*, session_id: uuid.UUID, moderator, reason: str) -> WingmanSession:
    """A moderator cancels at any stage, with no penalty; a final outcome is replaced (see _undo_outcome)."""
    _require_moderator(moderator)
    reason = _reason(reason)
    session = _lock_session(session_id)
    _cancel_by_moderator(session, moderator, reason=reason)
    return session


@transaction.atomic
def session_mark_no_show(*, session_id: uuid.UUID, moderator, absent_user_id: int) -> WingmanSession:
    """A moderator marks the named participant absent, at any stage."""
    _require_moderator(moderator)
    session = _lock_session(session_id)
    _mark_no_show(session, moderator, absent_user_id=absent_user_id)
    return session


@transaction.atomic
def session_complete_by_moderator(*, session_id: uuid.UUID, moderator) -> WingmanSession:
    """A moderator marks the session completed: both participants confirmed."""
    _require_moderator(moderator)
    session = _lock_session(session_id)
    _complete_by_moderator(session, moderator)
    return session


# The decisions themselves, on a session the caller has locked; ``overturning``: the dispute whose
# resolution this is (rules.check_redecision lets it change an outcome a moderator already changed).


def _cancel_by_moderator(session: WingmanSession, moderator, *, reason: str,
                         overturning: Dispute | None = None) -> None:
    redecided = _undo_outcome(session, SessionStatus.CANCELLED, overturning=overturning)
    _cancel(session, timezone.now(), moderator, reason=reason, by_moderator=True, **redecided)


def _mark_no_show(session: WingmanSession, moderator, *, absent_user_id,
                  overturning: Dispute | None = None) -> None:
    absent_role = rules.absent_role_named(session, absent_user_id)
    redecided = _undo_outcome(session, SessionStatus.NO_SHOW, overturning=overturning)
    _no_show(session, timezone.now(), moderator, absent_role=absent_role, by_moderator=True, **redecided)


def _complete_by_moderator(session: WingmanSession, moderator, *, overturning: Dispute | None = None) -> None:
    redecided = _undo_outcome(session, SessionStatus.COMPLETED, overturning=overturning)
    session.user1_completed_confirmed_by_user2 = True
    session.user2_completed_confirmed_by_user1 = True
    _complete(session, timezone.now(), moderator, by_moderator=True, **redecided)


# --- disputes ------------------------------------------------------------------------------


@transaction.atomic
def session_dispute(*, session_id: uuid.UUID, user, reason: str) -> WingmanSession:
    """A participant contests the final outcome (once each, within 72 hours); it stands until a moderator decides.

    Both participants disputing at once: the session lock orders them and the
    second finds the first one's dispute open (409 dispute_open).
    """
    reason = _reason(reason)
    now = timezone.now()
    session = _lock_session(session_id)
    role = rules.require_participant(session, user)
    rules.check_dispute(session, role, now)
    dispute = Dispute.objects.create(session=session, opened_by=user, reason=reason, disputed_status=session.status)
    setattr(session, f"{role}_disputed", True)
    session.current_dispute = dispute
    _event(session, user, EventKind.DISPUTE_OPENED, dispute=dispute.pk, reason=reason, outcome=session.status)
    _save(session)
    notify.notify_dispute_opened(session=session, actor=user)
    return session


DISPUTE_DECISIONS = ("uphold", SessionStatus.COMPLETED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


@transaction.atomic
def dispute_resolve(*, dispute_id: int, moderator, decision: str, note: str,
                    absent_user_id: int | None = None) -> Dispute:
    """A moderator resolves an open dispute with a note: "uphold" the outcome, or overturn it to another
    outcome through the moderators' own decision (as session_complete_by_moderator, session_cancel_by_moderator
    with the note as reason, session_mark_no_show naming ``absent_user_id``), so the ledger is reversed and
    re-awarded exactly as there; an overturn may change an outcome a moderator already changed once
    (rules.check_redecision). Locks the session first, like every service, so a participant disputing at
    the same moment waits for this or comes before it.
    """
    _require_moderator(moderator)
    note = clean_text(note, field="note", max_length=rules.REASON_MAX_LENGTH, required=True)
    if decision not in DISPUTE_DECISIONS:
        raise InvalidInput("Unknown decision.", fields={"decision": [f"One of {', '.join(DISPUTE_DECISIONS)}."]})
    session_id = Dispute.objects.filter(pk=dispute_id).values_list("session_id", flat=True).first()
    if session_id is None:
        raise NotFound("No such dispute.")
    session = _lock_session(session_id)
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict("This dispute has already been resolved.", code="dispute_resolved")
    if decision == SessionStatus.COMPLETED:
        _complete_by_moderator(session, moderator, overturning=dispute)
    elif decision == SessionStatus.CANCELLED:
        _cancel_by_moderator(session, moderator, reason=note, overturning=dispute)
    elif decision == SessionStatus.NO_SHOW:
        _mark_no_show(session, moderator, absent_user_id=absent_user_id, overturning=dispute)
    dispute.status = DisputeStatus.UPHELD if decision == "uphold" else DisputeStatus.OVERTURNED
    dispute.resolution_note = note
    dispute.resolved_at = timezone.now()
    dispute.resolved_by = moderator
    dispute.save(update_fields=["status", "resolution_note", "resolved_at", "resolved_by"])
    _event(session, moderator, EventKind.DISPUTE_RESOLVED, dispute=dispute.pk, decision=decision, note=note)
    _save(session)  # the session shows its dispute: a new version
    notify.notify_dispute_resolved(session=session, outcome=decision)
    return dispute


_REVERSALS = {
    LedgerReason.COMPLETION: LedgerReason.COMPLETION_REVERSED,
    LedgerReason.LATE_CANCEL: LedgerReason.LATE_CANCEL_REVERSED,
    LedgerReason.NO_SHOW: LedgerReason.NO_SHOW_REVERSED,
    LedgerReason.LATE_RESCHEDULE: LedgerReason.LATE_RESCHEDULE_REVERSED,
}
_OUTCOME_COUNTERS = {SessionStatus.CANCELLED: "cancelled_sessions", SessionStatus.NO_SHOW: "no_show_sessions"}


def _undo_outcome(session: WingmanSession, new_status: str, *, overturning: Dispute | None = None) -> dict:
    """Before a moderator's decision: undo a final outcome's ledger rows and counters.

    An open session needs no undoing. A final one is re-decided as
    rules.check_redecision allows: the standing outcome's ledger rows (those
    numbered with the session's ``redecisions``) are reversed with rows of
    their own under the same number, and the count moves on, so the new
    outcome's rows get a number of their own. Returns what the decision's
    audit event records about it.
    """
    if not session.is_final:
        return {}
    rules.check_redecision(session, new_status, overturning=overturning is not None)
    entries = list(ReputationLedger.objects.filter(session=session, decision=session.redecisions))
    profiles = _lock_participants(session)
    for entry in entries:
        reputation_award(user_id=entry.user_id, session=session, reason=_REVERSALS[entry.reason],
                         points=-entry.points)
        if entry.reason == LedgerReason.COMPLETION:  # the week may no longer count towards the streak
            profile = profiles[entry.user_id]
            profile.streak_weeks, profile.streak_last_week = _streak_from_ledger(profile)
            profile.save(update_fields=["streak_weeks", "streak_last_week"])
    if session.status in _OUTCOME_COUNTERS:
        _move_counters(_participant_ids(session), **{_OUTCOME_COUNTERS[session.status]: -1})
    if session.status == SessionStatus.COMPLETED and session.started_at is not None and session.active_seconds:
        # _complete added this session's active time; a completion undone takes it back.
        _move_counters(_participant_ids(session), total_active_seconds=-session.active_seconds)
    decided = {"redecided_from": session.status, "reversed": [e.reason for e in entries]}
    if overturning is not None:
        decided["overturns"] = overturning.pk
    session.redecisions += 1
    session.completed_at = session.cancelled_at = session.cancelled_by = session.no_show_user = None
    session.blocked_by = None
    session.cancellation_reason = ""
    session.cancellation_penalty = 0
    session.user1_completed_confirmed_by_user2 = session.user2_completed_confirmed_by_user1 = False
    return decided


# --- notes ----------------------------------------------------------------------------


@transaction.atomic
def notes_update(
    *, session_id: uuid.UUID, user, notes: str, expected_version: int | None = None,
    base_notes_digest: str | None = None,
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
        _attach_profiles(session)  # nothing to write; the answer still shows both participants
        return session
    session.notes = text
    _event(session, user, EventKind.NOTES_UPDATED, length=len(text))
    _save(session)
    return session


def notes_digest(notes: str) -> str:
    """A short fingerprint of a notes text, for editors to say which text they started from."""
    return hashlib.sha256(notes.encode()).hexdigest()[:20]


# --- the system ------------------------------------------------------------------------


def stale_sessions_close(*, now: datetime | None = None) -> dict[str, int]:
    """Close sessions left open 48 hours after their time. Safe to run often and concurrently."""
    now = now or timezone.now()
    stale_ids = list(
        WingmanSession.objects.filter(status__in=OPEN_STATUSES, scheduled_time__lt=now - rules.STALE_AFTER)
        .order_by("scheduled_time")
        .values_list("pk", flat=True)
    )
    outcome = {"cancelled": 0, "completed": 0}
    for pk in stale_ids:
        closed_as = session_expire(session_id=pk, now=now)
        if closed_as:
            outcome[closed_as] += 1
    return outcome


@transaction.atomic
def session_expire(*, session_id: uuid.UUID, now: datetime) -> str | None:
    """Close one stale session as the system; None if someone else closed or changed it first.

    With no check-in at all it is cancelled as "expired" (no penalty);
    otherwise it completes with the confirmations given.
    """
    session = _lock_session(session_id, skip_locked=True, status__in=OPEN_STATUSES,
                            scheduled_time__lt=now - rules.STALE_AFTER)
    if session is None:
        return None
    if not session.user1_checked_in_at and not session.user2_checked_in_at:
        _cancel(session, now, None, reason="expired", kind=EventKind.EXPIRED, outcome="cancelled")
        return "cancelled"
    earned = _complete(session, now, None, kind=EventKind.EXPIRED)
    logger.info("closed stale session %s as completed, points %s", session.pk, earned)
    return "completed"


# --- profiles, matches and reputation ------------------------------------------------------------


def _audit(*, actor, kind: str, match: WingmanMatch | None = None, subject_user=None, **data) -> SessionEvent:
    """An audit event for a write that has no session."""
    return SessionEvent.objects.create(actor=actor, kind=kind, match=match, subject_user=subject_user, data=data)


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
def profile_waive_booking_limit(*, user_id, moderator, waived: bool = True) -> UserProfile:
    """A moderator lifts (or restores) a user's booking limit; audited."""
    _require_moderator(moderator)
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise NotFound("No such user.")
    profile = _lock_profiles(user_id)[user_id]
    if profile.booking_limit_waived == waived:
        return profile
    _audit(actor=moderator, kind=EventKind.BOOKING_LIMIT_WAIVED, subject_user=profile.user, waived=waived,
           reliability_percent=profile.reliability_percent)
    profile.booking_limit_waived = waived
    profile.save(update_fields=["booking_limit_waived"])
    return profile


@transaction.atomic
def match_set_status(*, match_id: uuid.UUID, moderator, status: str) -> WingmanMatch:
    """A moderator changes a match's status; audited. A match with open sessions stays accepted."""
    _require_moderator(moderator)
    match = WingmanMatch.objects.select_for_update().filter(pk=match_id).first()
    if match is None:
        raise NotFound("No such match.")
    if status not in MatchStatus.values:
        raise InvalidInput("Unknown match status.", fields={"status": [f"One of {', '.join(MatchStatus.values)}."]})
    if status == match.status:
        return match
    if match.status == MatchStatus.ACCEPTED and match.sessions.filter(status__in=OPEN_STATUSES).exists():
        raise Conflict("This match has open sessions; cancel them before changing its status.",
                       code="match_has_open_sessions")
    _audit(actor=moderator, kind=EventKind.MATCH_STATUS_CHANGED, match=match, **{"from": match.status, "to": status})
    match.status = status
    match.save(update_fields=["status"])
    return match


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


@transaction.atomic
def report_review(*, report_id: int, moderator) -> Report:
    """A moderator marks an open report reviewed; audited."""
    _require_moderator(moderator)
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound("No such report.")
    if report.status != ReportStatus.OPEN:
        raise Conflict("This report has already been reviewed.", code="already_reviewed")
    report.status = ReportStatus.REVIEWED
    report.reviewed_at = timezone.now()
    report.reviewed_by = moderator
    report.save(update_fields=["status", "reviewed_at", "reviewed_by"])
    _audit(actor=moderator, kind=EventKind.REPORT_REVIEWED, match=report.match, subject_user=report.reported,
           report=report.pk)
    return report


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
