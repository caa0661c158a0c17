"""The lifecycle rules, each written once.

Every ``check_*`` function looks at a session (already locked by the caller
when it is about to change it), the acting participant's role and the time,
and raises a domain error when the action is not allowed. Services call them
before changing anything; ``allowed_actions`` calls the very same functions
to tell pages and API clients what the viewer may do now, and why not.
"""

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from .errors import Conflict, DomainError, InvalidInput, NotParticipant, RuleViolation
from .models import SessionStatus, WingmanSession, buddy_of

CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
LATE_CANCEL_WINDOW = timedelta(hours=2)
NO_SHOW_GRACE = timedelta(minutes=15)
STALE_AFTER = timedelta(hours=48)
NOTES_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500
VENUE_MAX_LENGTH = 200


def require_participant(session: WingmanSession, user) -> str:
    role = session.role_of(user)
    if role is None:
        raise NotParticipant("Only the two participants of this session can do that.")
    return role


def _require_open(session: WingmanSession) -> None:
    if session.is_final:
        raise RuleViolation(
            f"This session is {session.get_status_display().lower()}; it can no longer change.",
            code="session_final",
        )


def check_in_opens_at(session: WingmanSession) -> datetime:
    return session.scheduled_time - CHECK_IN_OPENS_BEFORE


def check_check_in(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.checked_in_at(role):
        raise Conflict("You have already checked in.", code="already_checked_in")
    if now < check_in_opens_at(session):
        raise RuleViolation(
            "Check-in opens 30 minutes before the scheduled time.",
            code="check_in_not_open",
            data={"opens_at": check_in_opens_at(session).isoformat()},
        )


def check_start(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.status == SessionStatus.IN_PROGRESS:
        raise Conflict("The session has already started.", code="already_started")
    if now < check_in_opens_at(session):
        raise RuleViolation(
            "The session can start at the earliest 30 minutes before the scheduled time.",
            code="start_not_open",
            data={"opens_at": check_in_opens_at(session).isoformat()},
        )


def check_pause(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.status != SessionStatus.IN_PROGRESS:
        raise RuleViolation("Only a session in progress can be paused.", code="not_in_progress")
    if session.is_paused:
        raise Conflict("The session is already paused.", code="already_paused")


def check_resume(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.status != SessionStatus.IN_PROGRESS:
        raise RuleViolation("Only a session in progress can be resumed.", code="not_in_progress")
    if not session.is_paused:
        raise Conflict("The session is not paused.", code="not_paused")


def check_confirm(session: WingmanSession, role: str, now: datetime) -> None:
    """``role`` confirms that the buddy completed the buddy's challenge.

    A confirmation already on record is a conflict even once the session is
    final, so a retried confirm (say, the one that completed the session)
    tells the client its confirmation counts, not that something failed.
    """
    if session.is_confirmed(buddy_of(role)):
        raise Conflict("You have already confirmed your buddy.", code="already_confirmed")
    _require_open(session)
    if now < session.scheduled_time and not session.checked_in_at(role):
        raise RuleViolation(
            "You can confirm your buddy once the scheduled time has passed or after you have checked in.",
            code="confirm_too_early",
        )


def check_cancel(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.status != SessionStatus.SCHEDULED:
        raise RuleViolation("A session that has started can no longer be cancelled.", code="already_started")


def cancel_penalty(session: WingmanSession, role: str, now: datetime) -> int:
    """Half the canceller's challenge points, rounded up, when cancelling late."""
    if now > session.scheduled_time - LATE_CANCEL_WINDOW:
        return math.ceil(session.challenge_snapshot(role)["points"] / 2)
    return 0


def check_no_show(session: WingmanSession, role: str, now: datetime) -> None:
    """``role`` reports the buddy absent."""
    _require_open(session)
    if not session.checked_in_at(role):
        raise RuleViolation("Check in first; only a participant who is present can report a no-show.",
                            code="reporter_not_checked_in")
    if session.checked_in_at(buddy_of(role)):
        raise RuleViolation("Your buddy has checked in.", code="buddy_checked_in")
    if now < session.scheduled_time + NO_SHOW_GRACE:
        raise RuleViolation(
            "A no-show can be reported 15 minutes after the scheduled time.",
            code="no_show_too_early",
            data={"opens_at": (session.scheduled_time + NO_SHOW_GRACE).isoformat()},
        )


def check_edit_notes(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)


def check_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A reason is required.", fields={"reason": ["A reason is required."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"The reason may be at most {REASON_MAX_LENGTH} characters.",
            fields={"reason": [f"At most {REASON_MAX_LENGTH} characters."]},
        )
    return reason


ACTION_CHECKS: dict[str, Callable[[WingmanSession, str, datetime], None]] = {
    "check_in": check_check_in,
    "start": check_start,
    "pause": check_pause,
    "resume": check_resume,
    "confirm": check_confirm,
    "cancel": check_cancel,
    "no_show": check_no_show,
    "edit_notes": check_edit_notes,
}


def allowed_actions(session: WingmanSession, user, now: datetime) -> dict[str, dict]:
    """For each action: whether ``user`` may take it now, and if not, why.

    {"confirm": {"allowed": False, "code": "confirm_too_early", "reason": "..."}, ...}
    """
    role = session.role_of(user)
    result = {}
    for action, check in ACTION_CHECKS.items():
        try:
            if role is None:
                raise NotParticipant("Only the two participants of this session can do that.")
            check(session, role, now)
        except DomainError as refusal:
            result[action] = {"allowed": False, "code": refusal.code, "reason": refusal.message}
        else:
            result[action] = {"allowed": True, "code": None, "reason": None}
    return result


def reputation_preview(session: WingmanSession, now: datetime) -> dict[str, int]:
    """What each participant gains (or has gained, or lost) through this session."""
    deltas = {"user1": 0, "user2": 0}
    for role in ("user1", "user2"):
        points = session.challenge_snapshot(role)["points"]
        if session.status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
            deltas[role] = points
        elif session.status == SessionStatus.COMPLETED:
            deltas[role] = points if session.is_confirmed(role) else 0
        elif session.status == SessionStatus.CANCELLED:
            if session.cancelled_by_id == session.user_id_for(role):
                deltas[role] = -session.cancellation_penalty
        elif session.status == SessionStatus.NO_SHOW:
            if session.no_show_user_id == session.user_id_for(role):
                deltas[role] = -points
    return {"user1_delta": deltas["user1"], "user2_delta": deltas["user2"]}
