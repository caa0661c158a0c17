"""The lifecycle rules, each written once.

Every ``check_*`` function looks at a session (already locked by the caller
when it is about to change it), the acting participant's role and the time,
and raises a domain error when the action is not allowed. Services call them
before changing anything; ``allowed_actions`` calls the very same functions
to tell pages and API clients what the viewer may do now, and why not.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import Conflict, DomainError, InvalidInput, NotParticipant, RuleViolation
from .models import DisputeStatus, MatchStatus, SessionStatus, WingmanMatch, WingmanSession, buddy_of

CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
LATE_CANCEL_WINDOW = timedelta(hours=2)
NO_SHOW_GRACE = timedelta(minutes=15)
STALE_AFTER = timedelta(hours=48)
DISPUTE_WINDOW = timedelta(hours=72)
# Reliability: over the last RELIABILITY_WINDOW finished sessions, shown from RELIABILITY_MINIMUM on.
RELIABILITY_WINDOW = 20
RELIABILITY_MINIMUM = 3
# Upcoming scheduled sessions a user may hold: (reliability below, at most); otherwise BOOKING_LIMIT_DEFAULT.
BOOKING_LIMITS = ((60, 1), (80, 3))
BOOKING_LIMIT_DEFAULT = 10
MAX_SCHEDULE_AHEAD = timedelta(days=365)
NOTES_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500
VENUE_MAX_LENGTH = 200
DISPLAY_NAME_MAX_LENGTH = 100
# The cancellation reasons of sessions the system ends for a block or an account erasure (nobody's
# doing: no penalty, no dispute).
BLOCKED_REASON = "blocked"
ERASED_REASON = "erased"
# seed_demo's own open sessions, withdrawn by the system when it refreshes the demo relative to now.
DEMO_REFRESHED_REASON = "demo refreshed"
# The system's cancellations that are nobody's doing: no penalty, nothing to dispute.
SYSTEM_WITHDRAWAL_REASONS = (BLOCKED_REASON, ERASED_REASON, DEMO_REFRESHED_REASON)
# What the blocked participant is told of a cancellation by a block: no reason, like a cancellation
# nobody explained (the blocker and moderators see "blocked").
NEUTRAL_CANCELLATION_REASON = ""
# Sessions can be scheduled for matches in this status only.
SCHEDULABLE_MATCH_STATUS = MatchStatus.ACCEPTED


def minutes(span: timedelta) -> str:
    """A span for messages, e.g. "30 minutes", so no message restates a constant."""
    count = int(span.total_seconds() // 60)
    return f"{count} minute{'' if count == 1 else 's'}"


def require_participant(session: WingmanSession, user) -> str:
    role = session.role_of(user)
    if role is None:
        raise NotParticipant("Only the two participants of this session can do that.")
    return role


def check_schedule(match: WingmanMatch, user, scheduled_time: datetime, now: datetime, *,
                   blocked: bool = False) -> None:
    """A member of an accepted match schedules a session in the coming year, unless one blocked the other."""
    if not match.has_member(user):
        raise NotParticipant("You are not part of this match.")
    if blocked:
        raise Conflict("Sessions can no longer be scheduled with this person.", code="blocked")
    if match.status != SCHEDULABLE_MATCH_STATUS:
        raise RuleViolation("Sessions can be scheduled only for an accepted match.", code="match_not_accepted")
    check_session_time(scheduled_time, now)


def booking_limit(profile) -> int:
    """How many upcoming scheduled sessions this user may hold."""
    score = profile.reliability_percent
    if profile.booking_limit_waived or score is None:
        return BOOKING_LIMIT_DEFAULT
    return next((limit for below, limit in BOOKING_LIMITS if score < below), BOOKING_LIMIT_DEFAULT)


def check_booking_limits(user, profiles: dict, upcoming: dict) -> None:
    """Neither participant may go past their booking limit with one more session (profiles locked)."""
    for user_id, profile in profiles.items():
        limit = booking_limit(profile)
        if upcoming[user_id] >= limit:
            whose = "Your" if user_id == user.pk else "Your buddy's"
            raise Conflict(
                f"{whose} booking limit is reached: with a reliability of {profile.reliability_percent}% at most "
                f"{limit} upcoming session{'' if limit == 1 else 's'} at a time. Finishing sessions as agreed "
                "raises it (no no-shows, no late cancels or reschedules); a moderator can also lift it.",
                code="booking_limit",
                data={"user_id": user_id, "limit": limit, "reliability_percent": profile.reliability_percent},
            )


def check_session_time(scheduled_time: datetime, now: datetime) -> None:
    """A session's time (new or proposed) lies in the coming year."""
    if scheduled_time <= now:
        raise RuleViolation("The scheduled time must be in the future.", code="time_in_past")
    if scheduled_time > now + MAX_SCHEDULE_AHEAD:
        raise RuleViolation("Sessions can be scheduled at most a year ahead.", code="time_too_far")


def check_block(match: WingmanMatch, user, *, already_blocked: bool) -> None:
    """A member of a match blocks the other member, once."""
    if not match.has_member(user):
        raise NotParticipant("You are not part of this match.")
    if already_blocked:
        raise Conflict("You have already blocked this person.", code="already_blocked")


def ended_by_block_or_erasure(session: WingmanSession) -> bool:
    """Cancelled by the system because one participant blocked the other (match_block) or left (user_erase)."""
    return (session.status == SessionStatus.CANCELLED and session.cancelled_by_id is None
            and session.cancellation_reason in (BLOCKED_REASON, ERASED_REASON))


def withdrawn_by_system(session: WingmanSession) -> bool:
    """Cancelled by the system for nobody's doing: a block, an account erasure or a demo refresh."""
    return (session.status == SessionStatus.CANCELLED and session.cancelled_by_id is None
            and session.cancellation_reason in SYSTEM_WITHDRAWAL_REASONS)


def sees_neutral_cancellation(session: WingmanSession, viewer_id) -> bool:
    """Is ``viewer_id`` the participant a block cancelled this session against? They see a neutral
    cancellation (no reason, and nothing about the block) and hear nothing of the blocker."""
    return (session.blocked_by_id is not None and viewer_id != session.blocked_by_id
            and viewer_id in (session.user1_id, session.user2_id))


def cancellation_reason_for(session: WingmanSession, viewer_id) -> str:
    """The cancellation reason as this participant sees it."""
    if sees_neutral_cancellation(session, viewer_id):
        return NEUTRAL_CANCELLATION_REASON
    return session.cancellation_reason


def event_data_for(data: dict, viewer_id) -> dict:
    """An audit event's data as a participant sees it: a cancellation by a block is neutral to the blocked
    user (the event names them as "blocked"; one that does not is neutral to both participants)."""
    if data.get("by_block") and data.get("blocked", viewer_id) == viewer_id:
        return {"reason": NEUTRAL_CANCELLATION_REASON, "penalty": 0}
    return data


def _require_open(session: WingmanSession) -> None:
    if session.is_final:
        raise RuleViolation(
            f"This session is {session.get_status_display().lower()}; it can no longer change.",
            code="session_final",
        )


def check_in_opens_at(session: WingmanSession) -> datetime:
    return session.scheduled_time - CHECK_IN_OPENS_BEFORE


def _require_none_running_elsewhere(session: WingmanSession, role: str) -> None:
    """At most one session in progress per user: starting this one must not give either participant two.

    Reads each participant's running session from the profile (kept by the
    services under the profile lock, loaded with the session).
    """
    for other in (role, buddy_of(role)):
        running = session.running_session_id_of(other)
        if running is not None and running != session.pk:
            who = "You already have" if other == role else "Your buddy already has"
            raise Conflict(f"{who} another session in progress; it must end first.",
                           code="another_session_in_progress")


def check_check_in(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.checked_in_at(role):
        raise Conflict("You have already checked in.", code="already_checked_in")
    if now < check_in_opens_at(session):
        raise RuleViolation(
            f"Check-in opens {minutes(CHECK_IN_OPENS_BEFORE)} before the scheduled time.",
            code="check_in_not_open",
            data={"opens_at": check_in_opens_at(session).isoformat()},
        )
    if session.status == SessionStatus.SCHEDULED:  # this check-in starts the session
        _require_none_running_elsewhere(session, role)


def check_start(session: WingmanSession, role: str, now: datetime) -> None:
    _require_open(session)
    if session.status == SessionStatus.IN_PROGRESS:
        raise Conflict("The session has already started.", code="already_started")
    if now < check_in_opens_at(session):
        raise RuleViolation(
            f"The session can start at the earliest {minutes(CHECK_IN_OPENS_BEFORE)} before the scheduled time.",
            code="start_not_open",
            data={"opens_at": check_in_opens_at(session).isoformat()},
        )
    _require_none_running_elsewhere(session, role)


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


def check_confirm_target(session: WingmanSession, role: str, buddy_id: int | None) -> None:
    """A client that names whom it confirms must name the buddy; naming oneself is self-confirmation."""
    if buddy_id is None:
        return
    if buddy_id == session.user_id_for(role):
        raise RuleViolation("You cannot confirm your own challenge; your buddy does that.", code="self_confirmation")
    if buddy_id != session.user_id_for(buddy_of(role)):
        raise InvalidInput("buddy_id is not your buddy in this session.",
                           fields={"buddy_id": ["Not your buddy in this session."]})


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
    """Half the canceller's challenge points, rounded up, when cancelling late.

    A late reschedule costs the same: called with the time the proposal was made.
    """
    if now > session.scheduled_time - LATE_CANCEL_WINDOW:
        return math.ceil(session.challenge_snapshot(role)["points"] / 2)
    return 0


# --- rescheduling: one pending proposal, stored on the session row ----------------------------


def pending_reschedule(session: WingmanSession, now: datetime) -> bool:
    """Is a proposal waiting for an answer? It lapses when the session starts, ends or reaches its time."""
    return (session.has_reschedule_proposal and session.status == SessionStatus.SCHEDULED
            and now < session.scheduled_time)


def _require_not_started(session: WingmanSession, now: datetime) -> None:
    _require_open(session)
    if session.status != SessionStatus.SCHEDULED:
        raise RuleViolation("A session that has started can no longer be rescheduled.", code="already_started")
    if now >= session.scheduled_time:
        raise RuleViolation("The session's time has come; it can no longer be rescheduled.",
                            code="reschedule_too_late")


def check_reschedule(session: WingmanSession, role: str, now: datetime) -> None:
    """Either participant may propose a new time (replacing any pending proposal) until the session's time."""
    _require_not_started(session, now)


def check_reschedule_proposal(session: WingmanSession, scheduled_time: datetime, venue_name: str,
                              now: datetime) -> None:
    """The proposed time is a valid session time and the proposal changes something."""
    check_session_time(scheduled_time, now)
    if scheduled_time == session.scheduled_time and venue_name in ("", session.venue_name):
        raise RuleViolation("That is the session's current time and venue.", code="reschedule_no_change")


def _require_pending(session: WingmanSession, now: datetime) -> None:
    _require_not_started(session, now)
    if not pending_reschedule(session, now):
        raise Conflict("No new time has been proposed.", code="no_reschedule_pending")


def check_accept_reschedule(session: WingmanSession, role: str, now: datetime) -> None:
    """The buddy of the proposer accepts, while the proposed time is still ahead."""
    _require_pending(session, now)
    if session.reschedule_proposed_by_id == session.user_id_for(role):
        raise RuleViolation("Your buddy answers your proposal; you can withdraw it.", code="own_proposal")
    if now >= session.reschedule_time:
        raise RuleViolation("The proposed time has passed; propose another one.", code="proposed_time_passed")


def check_decline_reschedule(session: WingmanSession, role: str, now: datetime) -> None:
    """The buddy declines a pending proposal; the proposer withdraws it the same way."""
    _require_pending(session, now)


# --- disputes ----------------------------------------------------------------------------------


def dispute_closes_at(session: WingmanSession) -> datetime | None:
    return session.finished_at + DISPUTE_WINDOW if session.finished_at else None


def check_dispute(session: WingmanSession, role: str, now: datetime) -> None:
    """Each participant may contest a final outcome once, within 72 hours, while no other dispute is open.

    Sessions the system withdrew (a block, a closed account, a demo refresh) are nobody's doing and cannot
    be disputed (the message does not say which: the blocked user sees a neutral cancellation).
    """
    if not session.is_final:
        raise RuleViolation("Only a finished session's outcome can be disputed.", code="session_not_final")
    if withdrawn_by_system(session):
        raise RuleViolation("This cancellation cannot be disputed.", code="not_disputable")
    if session.has_disputed(role):
        raise Conflict("You have already disputed this session.", code="already_disputed")
    dispute = session.current_dispute
    if dispute is not None and dispute.status == DisputeStatus.OPEN:
        raise Conflict("Your buddy has already disputed this outcome; a moderator will decide.",
                       code="dispute_open")
    closes_at = dispute_closes_at(session)
    if closes_at is None or now > closes_at:
        raise RuleViolation(f"An outcome can be disputed within {DISPUTE_WINDOW.days * 24} hours only.",
                            code="dispute_window_closed")


def check_redecision(session: WingmanSession, new_status: str, *, overturning: bool) -> None:
    """A moderator may change a final outcome on their own initiative once, while nobody has re-decided it;
    overturning a dispute may always change it (each participant disputes once, so that is bounded too).

    The ledger keeps each outcome's rows apart (ReputationLedger.decision), so however often an outcome
    changes, each one's points are awarded and reversed exactly once.
    """
    if session.status == new_status:
        raise Conflict(f"The session is already {session.get_status_display().lower()}.", code="already_in_state")
    if session.redecisions and not overturning:
        raise Conflict("This session's outcome was already changed by a moderator once.", code="already_redecided")


def check_no_show_target(session: WingmanSession, role: str, absent_user_id: int | None) -> None:
    """A participant can report only the buddy absent (naming the buddy is optional)."""
    if absent_user_id is not None and absent_user_id != session.user_id_for(buddy_of(role)):
        raise RuleViolation("You can only report your buddy absent.", code="no_show_not_buddy")


def absent_role_named(session: WingmanSession, absent_user_id: int | None) -> str:
    """The role of the participant a moderator names absent."""
    for role in ("user1", "user2"):
        if absent_user_id is not None and absent_user_id == session.user_id_for(role):
            return role
    raise InvalidInput("Name the absent participant.",
                       fields={"absent_user_id": ["Must be one of the two participants."]})


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
            f"A no-show can be reported {minutes(NO_SHOW_GRACE)} after the scheduled time.",
            code="no_show_too_early",
            data={"opens_at": (session.scheduled_time + NO_SHOW_GRACE).isoformat()},
        )


def check_system_withdrawal(session: WingmanSession, reason: str) -> None:
    """The system withdraws an open session only for one of its own reasons."""
    if reason not in SYSTEM_WITHDRAWAL_REASONS:
        raise InvalidInput("Not a reason the system withdraws sessions for.",
                           fields={"reason": [f"One of {', '.join(SYSTEM_WITHDRAWAL_REASONS)}."]})
    _require_open(session)


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
    "reschedule": check_reschedule,
    "accept_reschedule": check_accept_reschedule,
    "decline_reschedule": check_decline_reschedule,
    "dispute": check_dispute,
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



# --- the viewer's next step ----------------------------------------------------------------------

# The actions that move a session on, most pressing first: the buddy waiting for an answer to a new
# time, then being there, carrying on after a pause, confirming the buddy, starting without a check-in.
NEXT_ACTIONS = ("accept_reschedule", "check_in", "resume", "confirm", "start")


@dataclass(frozen=True)
class NextStep:
    """What the viewer should do now: ``action`` is an allowed action (see NEXT_ACTIONS), or None while
    the viewer waits; ``kind`` names the step (the action, or what is awaited); ``at`` is when a wait
    ends, when that is known; ``reason`` is the rule's word on why the awaited action is not open yet."""

    kind: str
    action: str | None = None
    at: datetime | None = None
    reason: str | None = None


def next_action(session: WingmanSession, user, now: datetime, allowed: dict | None = None) -> NextStep | None:
    """The one step that moves this session on for ``user``, from the same checks as allowed_actions.

    None for a session that can no longer change, or for someone outside it. While nothing can be done,
    the step says what the viewer waits for: check-in to open, the buddy's answer to the viewer's new
    time, the buddy's confirmation, or (``wait``) an action refused for another reason, given.
    """
    role = session.role_of(user)
    if role is None or session.is_final:
        return None
    allowed = allowed or allowed_actions(session, user, now)
    confirmed_buddy = session.is_confirmed(buddy_of(role))
    confirming = confirmed_buddy or session.is_confirmed(role)
    for action in NEXT_ACTIONS:
        # Once either has confirmed the other, checking in or starting no longer moves anything on.
        if allowed[action]["allowed"] and not (confirming and action in ("check_in", "start")):
            return NextStep(kind=action, action=action)
    if pending_reschedule(session, now) and session.reschedule_proposed_by_id == user.pk:
        return NextStep(kind="wait_reschedule_answer")
    if allowed["check_in"]["code"] == "check_in_not_open":
        return NextStep(kind="wait_check_in", at=check_in_opens_at(session), reason=allowed["check_in"]["reason"])
    if confirmed_buddy:
        return NextStep(kind="wait_buddy_confirm")
    refused = allowed["confirm" if session.checked_in_at(role) else "check_in"]
    return NextStep(kind="wait", reason=refused["reason"])


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
