"""Moderators' decisions: ending a session for its participants, deciding disputes (with the
reputation they move undone and redone), reviewing reports, and the switches on matches and
booking limits."""

import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import notifications.services as notify

from .. import rules
from ..errors import Conflict, InvalidInput, NotFound
from ..models import (
    OPEN_STATUSES,
    Dispute,
    DisputeStatus,
    EventKind,
    LedgerReason,
    MatchStatus,
    Report,
    ReportStatus,
    ReputationLedger,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)
from ._base import (
    _audit,
    _cancel,
    _complete,
    _event,
    _lock_participants,
    _lock_profiles,
    _lock_session,
    _move_counters,
    _no_show,
    _participant_ids,
    _reason,
    _require_moderator,
    _save,
    clean_text,
    reputation_award,
)
from .accounts import _streak_from_ledger

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
