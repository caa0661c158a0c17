"""A session's life as its two participants live it: scheduling, check-in, the running session,
confirmation, cancelling, no-shows, rescheduling, disputing the outcome, the shared notes; and the
system's sweep of sessions left open."""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

import notifications.services as notify

from .. import rules
from ..errors import InvalidInput, VersionMismatch
from ..models import (
    OPEN_STATUSES,
    ApproachChallenge,
    Block,
    Dispute,
    EventKind,
    LedgerReason,
    SessionStatus,
    WingmanMatch,
    WingmanSession,
    buddy_of,
)
from ._base import (
    _attach_profiles,
    _begin,
    _cancel,
    _complete,
    _event,
    _lock_participants,
    _lock_profiles,
    _lock_session,
    _move_counters,
    _no_show,
    _reason,
    _save,
    clean_text,
    reputation_award,
)

logger = logging.getLogger(__name__)


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
