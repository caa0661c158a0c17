"""reliability_percent (SPEC "Reliability"), written once, in SQL, for any set of users.

A user's score is the share of their last RELIABILITY_WINDOW finished
sessions (completed, cancelled, no_show; newest first by when they finished)
that were neither their no-show, nor their late cancel (a cancellation that
cost them a penalty), nor their late reschedule (a late_reschedule ledger
row), in whole percent rounded half up; null until RELIABILITY_MINIMUM
sessions have finished. Cancellations that are nobody's doing (by the system:
expired, blocked, erased; no canceller) do not count.

One statement scores any number of users in one pass over their sessions:
the services refresh the two participants of a session that became final,
rebuild_reputation compares, and migration 0014 fills the column for every
user. It names tables and columns only, no models, so the migration can run
it; a change of those tables must leave that migration a copy of this SQL.
"""

from django.db import connection as default_connection

from . import rules
from .models import LedgerReason, SessionStatus

_FINISHED = (
    f"status IN ('{SessionStatus.COMPLETED}', '{SessionStatus.CANCELLED}', '{SessionStatus.NO_SHOW}') "
    f"AND (status <> '{SessionStatus.CANCELLED}' OR cancelled_by_id IS NOT NULL)"
)

# (user_id, score) of every user with a finished session; {side1}/{side2} narrow each side to some users.
# Only constants are formatted in; user ids are always query parameters (S608).
_SCORES = f"""
WITH sides AS (
    SELECT id, user1_id AS user_id, finished_at, no_show_user_id, cancelled_by_id, cancellation_penalty
    FROM wingman_sessions WHERE {{side1}} {_FINISHED}
    UNION ALL
    SELECT id, user2_id AS user_id, finished_at, no_show_user_id, cancelled_by_id, cancellation_penalty
    FROM wingman_sessions WHERE {{side2}} {_FINISHED}
), latest AS (
    SELECT sides.*, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY finished_at DESC, id DESC) AS n
    FROM sides
), counted AS (
    SELECT user_id, COUNT(*) AS finished,
        SUM(CASE WHEN no_show_user_id = user_id OR (cancelled_by_id = user_id AND cancellation_penalty > 0)
                      OR EXISTS (SELECT 1 FROM reputation_ledger ledger
                                 WHERE ledger.user_id = latest.user_id AND ledger.session_id = latest.id
                                   AND ledger.reason = '{LedgerReason.LATE_RESCHEDULE}')
                 THEN 0 ELSE 1 END) AS kept
    FROM latest WHERE n <= {rules.RELIABILITY_WINDOW}
    GROUP BY user_id
)
SELECT user_id, CASE WHEN finished >= {rules.RELIABILITY_MINIMUM}
                     THEN (200 * kept + finished) / (2 * finished) END AS score
FROM counted
"""  # noqa: S608


def _narrowed(sql: str, user_ids) -> tuple[str, list]:
    """The statement for these users (all users when None), with its parameters: each of its {side1},
    {side2} and {profiles} filters takes the ids once, in that order."""
    if user_ids is None:
        return sql.format(side1="", side2="", profiles=""), []
    ids = list(user_ids)
    marks = ", ".join(["%s"] * len(ids))
    filters = {"side1": f"user1_id IN ({marks}) AND", "side2": f"user2_id IN ({marks}) AND",
               "profiles": f"AND profile.user_id IN ({marks})"}
    used = [name for name in filters if "{" + name + "}" in sql]
    return sql.format(**filters), ids * len(used)


def reliability_scores(*, user_ids, connection=default_connection) -> dict:
    """{user_id: score} of these users; a user with no finished session is left out (their score is null)."""
    sql, params = _narrowed(_SCORES, user_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


_REFRESH = f"""
UPDATE user_profiles SET reliability_percent = fresh.score
FROM (
    SELECT profile.user_id, scores.score
    FROM user_profiles profile LEFT JOIN ({_SCORES}) scores ON scores.user_id = profile.user_id
    WHERE (profile.reliability_percent <> scores.score
           OR (profile.reliability_percent IS NULL) <> (scores.score IS NULL)) {{profiles}}
) fresh
WHERE user_profiles.user_id = fresh.user_id
"""  # noqa: S608


def reliability_refresh(*, user_ids=None, connection=default_connection) -> int:
    """Store the score of these users (every user when None) where it changed; returns how many changed.

    One statement whatever the number of users. The services call it for a session's two participants
    while they hold their profile locks.
    """
    sql, params = _narrowed(_REFRESH, user_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
