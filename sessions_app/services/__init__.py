"""Every state change of WingmanMatch Sessions.

Each service is keyword-only and transactional: it locks the session row it
changes (then the participants' profiles, always in primary-key order, so two
services never wait on each other in a circle), checks the rules from
rules.py, writes its audit event in the same transaction, bumps the session's
version, and marks the session's Redis copy stale before the transaction
commits (sessions_app/freshness.py).

Pages, API, admin and management commands all call these functions, by the
names this package gives them (``services.session_confirm``). By concern:

- lifecycle.py   a session as its two participants live it, and the sweep of stale ones
- moderation.py  moderators' decisions, disputes, reports
- accounts.py    profiles, blocks, reputation rebuilds, erasure, tokens
- _base.py       what they are built from (locking, saving, events, counters)
"""

from ._base import (
    MODERATE_PERMISSION,
    clean_text,
    reputation_award,
)
from .accounts import (
    ERASED_DISPLAY_NAME,
    match_block,
    profile_unread_move,
    profile_unread_set,
    profile_update,
    reputation_rebuild,
    user_erase,
    user_tokens_revoke,
)
from .lifecycle import (
    ConfirmResult,
    notes_digest,
    notes_update,
    session_cancel,
    session_check_in,
    session_confirm,
    session_dispute,
    session_expire,
    session_pause,
    session_report_no_show,
    session_reschedule_accept,
    session_reschedule_decline,
    session_reschedule_propose,
    session_resume,
    session_schedule,
    session_start,
    session_withdraw,
    stale_sessions_close,
)
from .moderation import (
    DISPUTE_DECISIONS,
    dispute_resolve,
    match_set_status,
    profile_waive_booking_limit,
    report_review,
    session_cancel_by_moderator,
    session_complete_by_moderator,
    session_mark_no_show,
)

__all__ = [
    "ConfirmResult",
    "DISPUTE_DECISIONS",
    "ERASED_DISPLAY_NAME",
    "MODERATE_PERMISSION",
    "clean_text",
    "dispute_resolve",
    "match_block",
    "match_set_status",
    "notes_digest",
    "notes_update",
    "profile_unread_move",
    "profile_unread_set",
    "profile_update",
    "profile_waive_booking_limit",
    "report_review",
    "reputation_award",
    "reputation_rebuild",
    "session_cancel",
    "session_cancel_by_moderator",
    "session_check_in",
    "session_complete_by_moderator",
    "session_confirm",
    "session_dispute",
    "session_expire",
    "session_mark_no_show",
    "session_pause",
    "session_report_no_show",
    "session_reschedule_accept",
    "session_reschedule_decline",
    "session_reschedule_propose",
    "session_resume",
    "session_schedule",
    "session_start",
    "session_withdraw",
    "stale_sessions_close",
    "user_erase",
    "user_tokens_revoke",
]
