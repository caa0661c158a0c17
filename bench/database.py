"""The bench's throwaway PostgreSQL database: created, filled and dropped by the bench alone.

A database is created under a fresh random name and labelled with a comment
naming the run that made it; `drop_database` refuses any database without
that exact label, so the bench can never drop a database it did not create,
and `create_database` refuses a name that already exists.
"""

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

HEAVY_USER = 1  # 5,000 sessions (match 1 with user 2)
LIGHT_USER = 3  # 10 sessions (match 2 with user 4)
USERS = 100_000
MATCHES = USERS // 2
SESSIONS = 1_000_000
HEAVY_SESSIONS = 5_000
LIGHT_SESSIONS = 10
LIVE_SESSION = "live"  # md5 seed of the heavy user's in-progress session
NOTES_POOL = 1_000  # scheduled sessions whose notes the load edits, one per match 3..
CONFIRM_MATCHES = 2_000  # matches whose user1 confirms; sessions spread over them
CONFIRM_FIRST_MATCH = 3 + NOTES_POOL


class BenchDatabaseError(RuntimeError):
    pass


def new_name() -> str:
    return f"wingman_bench_{secrets.token_hex(4)}"


def url_for(server_url: str, dbname: str) -> str:
    """The server of DATABASE_URL with another database name."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))


def _marker(name: str, run_id: str) -> str:
    return f"wingman bench database {name}, run {run_id}"


def _maintenance(server_url: str) -> psycopg.Connection:
    return psycopg.connect(url_for(server_url, "postgres"), autocommit=True)


def create_database(server_url: str, name: str, run_id: str) -> str:
    """Create `name` (which must not exist) and label it with this run; returns its URL."""
    if not name.startswith("wingman_bench_"):
        raise BenchDatabaseError(f"refusing a database name the bench does not use: {name!r}")
    with _maintenance(server_url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            raise BenchDatabaseError(f"database {name} already exists; the bench only uses databases it creates")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(_marker(name, run_id))))
    return url_for(server_url, name)


def drop_database(server_url: str, name: str, run_id: str) -> None:
    """Drop `name` only if this run created it (its label says so)."""
    with _maintenance(server_url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            return
        if row[0] != _marker(name, run_id):
            raise BenchDatabaseError(f"refusing to drop {name}: this bench run did not create it")
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# -- filling -------------------------------------------------------------------------
#
# Everything is generated inside PostgreSQL (INSERT ... SELECT generate_series), so
# no row crosses the wire. Ids are md5-derived UUIDs of a seed ('s' || n for session
# n), so later statements can name rows without looking them up. The secondary
# indexes of the big tables are dropped while filling and rebuilt afterwards, a
# few at once.

SESSION_COLUMNS = """
    id, match_id, user1_id, user2_id, user1_challenge_id, user2_challenge_id, venue_name,
    scheduled_time, status, completed_at, user1_completed_confirmed_by_user2,
    user2_completed_confirmed_by_user1, notes, created_at, updated_at, version,
    user1_challenge_title, user1_challenge_description, user1_challenge_difficulty, user1_challenge_points,
    user2_challenge_title, user2_challenge_description, user2_challenge_difficulty, user2_challenge_points,
    user1_checked_in_at, user2_checked_in_at, started_at, running_since, paused_at, active_seconds,
    cancelled_at, cancelled_by_id, cancellation_reason, cancellation_penalty, no_show_user_id,
    reschedule_venue_name, user1_disputed, user2_disputed, finished_at, redecisions
"""

# g: session number; m: match number (users 2m-1 and 2m); t: scheduled time; s: status.
HISTORY_SESSIONS = f"""
WITH numbered AS MATERIALIZED (  -- materialized: each column below is computed once per row, not per use
    SELECT g,
        CASE WHEN g <= {HEAVY_SESSIONS} THEN 1
             WHEN g <= {HEAVY_SESSIONS + LIGHT_SESSIONS} THEN 2
             ELSE 3 + g % ({MATCHES} - 2) END AS m,
        -- spread over the last two years and the next two weeks
        date_trunc('minute', now()) - interval '730 days'
            + interval '1 second' * ((g::bigint * 7919) % 1000003) * (744 * 86400 / 1000003.0)::float8 AS t,
        md5('c' || (g % 4))::uuid AS c1, md5('c' || ((g + 1) % 4))::uuid AS c2
    FROM generate_series(1, {SESSIONS}) AS g
), planned AS MATERIALIZED (
    SELECT g, m, t, c1, c2, md5('s' || g)::uuid AS sid, md5('m' || m)::uuid AS mid,
        CASE WHEN t > now() THEN 'scheduled'
             WHEN g % 20 < 12 THEN 'completed'
             WHEN g % 20 < 17 THEN 'cancelled'
             ELSE 'no_show' END AS s
    FROM numbered
)
INSERT INTO wingman_sessions ({SESSION_COLUMNS})
SELECT sid, mid, 2 * m - 1, 2 * m,
    c1.id, c2.id, 'Venue ' || (g % 5000), t, s,
    CASE WHEN s = 'completed' THEN t + interval '1 hour' END,
    s = 'completed', s = 'completed', CASE WHEN g % 7 = 0 THEN 'Notes of session ' || g ELSE '' END,
    t - interval '3 days', t + interval '1 hour', CASE WHEN s = 'scheduled' THEN 1 ELSE 4 END,
    c1.title, c1.description, c1.difficulty, c1.points, c2.title, c2.description, c2.difficulty, c2.points,
    CASE WHEN s IN ('completed', 'no_show') THEN t END, CASE WHEN s = 'completed' THEN t END,
    CASE WHEN s = 'completed' THEN t END, NULL, NULL, CASE WHEN s = 'completed' THEN 3600 ELSE 0 END,
    CASE WHEN s = 'cancelled' THEN t - interval '1 day' END, CASE WHEN s = 'cancelled' THEN 2 * m - 1 END,
    CASE WHEN s = 'cancelled' THEN 'Plans changed' ELSE '' END,
    CASE WHEN s = 'cancelled' AND g % 5 = 0 THEN (c1.points + 1) / 2 ELSE 0 END,
    CASE WHEN s = 'no_show' THEN 2 * m END,
    '', false, false, CASE WHEN s IN ('completed', 'cancelled', 'no_show') THEN t + interval '1 hour' END, 0
FROM planned
JOIN approach_challenges c1 ON c1.id = planned.c1
JOIN approach_challenges c2 ON c2.id = planned.c2
"""

# Sessions the load acts on: the heavy user's running session, a pool whose
# notes are edited, and a pool of past, unconfirmed sessions to confirm.
LOAD_SESSIONS = f"""
INSERT INTO wingman_sessions ({SESSION_COLUMNS})
SELECT md5(seed)::uuid, md5('m' || m)::uuid, 2 * m - 1, 2 * m,
    c1.id, c2.id, venue, t, s, NULL, false, false, '', t - interval '1 day', now(), 2,
    c1.title, c1.description, c1.difficulty, c1.points, c2.title, c2.description, c2.difficulty, c2.points,
    CASE WHEN s = 'in_progress' THEN t END, NULL, CASE WHEN s = 'in_progress' THEN t END,
    CASE WHEN s = 'in_progress' THEN t END, NULL, 0, NULL, NULL, '', 0, NULL, '', false, false, NULL, 0
FROM (
    SELECT '{LIVE_SESSION}' AS seed, 1 AS m, now() - interval '5 minutes' AS t, 'in_progress' AS s,
        'Corner Coffee House' AS venue
    UNION ALL
    SELECT 'notes' || k, 3 + k, now() + interval '3 days', 'scheduled', 'Notes pool ' || k
    FROM generate_series(0, {NOTES_POOL - 1}) AS k
    UNION ALL
    SELECT 'confirm' || k, {CONFIRM_FIRST_MATCH} + k % {CONFIRM_MATCHES}, now() - interval '1 hour', 'scheduled',
        'Confirm pool ' || k
    FROM generate_series(0, {{confirms}} - 1) AS k
) AS load
JOIN approach_challenges c1 ON c1.id = md5('c1')::uuid
JOIN approach_challenges c2 ON c2.id = md5('c2')::uuid
"""

FILL = [
    ("users", f"""
        INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                               is_staff, is_active, date_joined)
        SELECT u, {{password}}, false, 'bench' || u, '', '', 'bench' || u || '@example.com', false, true,
               now() - interval '800 days'
        FROM generate_series(1, {USERS}) AS u;
        SELECT setval(pg_get_serial_sequence('auth_user', 'id'), {USERS});
        INSERT INTO user_profiles (user_id, display_name, timezone, reputation, completed_sessions,
            no_show_count, total_sessions, cancelled_sessions, no_show_sessions, total_active_seconds,
            streak_weeks, streak_last_week, notifications_unread, booking_limit_waived)
        SELECT u, 'Bench user ' || u, (ARRAY['UTC', 'Europe/Berlin', 'America/New_York'])[1 + u % 3],
               0, 0, 0, 0, 0, 0, 0, 0, NULL, 0, false
        FROM generate_series(1, {USERS}) AS u;
    """),
    ("challenges and matches", f"""
        INSERT INTO approach_challenges (id, title, description, difficulty, points, is_active)
        SELECT md5('c' || k)::uuid, (ARRAY['Ask for a recommendation', 'Start a conversation',
               'Give a genuine compliment', 'Ask for a phone number'])[k + 1],
               'Bench challenge ' || k, (ARRAY['beginner', 'beginner', 'intermediate', 'advanced'])[k + 1],
               (ARRAY[10, 15, 25, 50])[k + 1], true
        FROM generate_series(0, 3) AS k;
        INSERT INTO wingman_matches (id, user1_id, user2_id, status, created_at)
        SELECT md5('m' || m)::uuid, 2 * m - 1, 2 * m, 'accepted', now() - interval '790 days'
        FROM generate_series(1, {MATCHES}) AS m;
    """),
    ("sessions", HISTORY_SESSIONS + ";" + LOAD_SESSIONS),
    # One pass over the sessions each: a LATERAL list of the rows each session gets.
    ("events", """
        INSERT INTO session_events (session_id, actor_id, kind, data, created_at)
        SELECT s.id, e.actor, e.kind, '{}'::jsonb, e.at
        FROM wingman_sessions s CROSS JOIN LATERAL (VALUES
            (s.user1_id, 'scheduled', s.created_at),
            (CASE WHEN s.status = 'completed' THEN s.user2_id ELSE s.user1_id END, s.status,
             coalesce(s.completed_at, s.cancelled_at, s.scheduled_time + interval '20 minutes'))
        ) AS e(actor, kind, at)
        WHERE e.kind = 'scheduled' OR s.status IN ('completed', 'cancelled', 'no_show');
    """),
    ("ledger", """
        INSERT INTO reputation_ledger (user_id, session_id, reason, points, decision, created_at)
        SELECT l.user_id, s.id, l.reason, l.points, 0, l.at
        FROM wingman_sessions s CROSS JOIN LATERAL (VALUES
            (s.user1_id, 'completion', s.user1_challenge_points::int, s.completed_at, s.status = 'completed'),
            (s.user2_id, 'completion', s.user2_challenge_points::int, s.completed_at, s.status = 'completed'),
            (s.no_show_user_id, 'no_show', -s.user2_challenge_points::int,
             s.scheduled_time + interval '20 minutes', s.status = 'no_show'),
            (s.cancelled_by_id, 'late_cancel', -s.cancellation_penalty::int, s.cancelled_at,
             s.status = 'cancelled' AND s.cancellation_penalty > 0)
        ) AS l(user_id, reason, points, at, applies)
        WHERE s.status IN ('completed', 'no_show', 'cancelled') AND l.applies;
    """),
    ("profile counters", """
        UPDATE user_profiles p SET reputation = l.reputation, completed_sessions = l.completed,
            no_show_count = l.no_shows
        FROM (SELECT user_id, sum(points) AS reputation,
                     count(*) FILTER (WHERE reason = 'completion') AS completed,
                     count(*) FILTER (WHERE reason = 'no_show') AS no_shows
              FROM reputation_ledger GROUP BY user_id) AS l
        WHERE p.user_id = l.user_id;
        UPDATE user_profiles p SET total_sessions = s.total, cancelled_sessions = s.cancelled,
            no_show_sessions = s.no_show, total_active_seconds = s.active
        FROM (SELECT u, count(*) AS total, count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                     count(*) FILTER (WHERE status = 'no_show') AS no_show, sum(active_seconds) AS active
              FROM wingman_sessions CROSS JOIN LATERAL (VALUES (user1_id), (user2_id)) AS sides(u)
              GROUP BY u) AS s
        WHERE p.user_id = s.u;
    """),
]

BIG_TABLES = ("wingman_sessions", "session_events", "reputation_ledger", "wingman_matches", "user_profiles")


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the big tables' indexes that back no constraint."""
    return conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(BIG_TABLES)],
    ).fetchall()


@dataclass
class FillReport:
    seconds: float
    steps: list[tuple[str, float]]
    counts: dict[str, int]


def _build_indexes(url: str, definitions: list[str], parallel: int = 3) -> None:
    """CREATE INDEX statements, a few at once on connections of their own."""
    from concurrent.futures import ThreadPoolExecutor

    def build(share: list[str]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            for definition in share:
                conn.execute(definition)

    shares = [definitions[i::parallel] for i in range(parallel)]
    with ThreadPoolExecutor(parallel) as pool:
        for done in [pool.submit(build, share) for share in shares if share]:
            done.result()


def fill(url: str, *, password_hash: str, confirms: int, say=print) -> FillReport:
    """Fill a freshly migrated bench database; returns how long each step took.

    Needs a superuser connection: foreign keys are not checked while filling
    (session_replication_role = replica; every id is derived from the same
    numbering, so the rows are consistent by construction), since checking
    them row by row at COMMIT would take longer than everything else.
    """
    started = time.perf_counter()
    steps = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        try:
            conn.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege as error:
            raise BenchDatabaseError("the bench fills its database as a PostgreSQL superuser") from error
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for label, statement in FILL:
            step = time.perf_counter()
            # Our own integers and one quoted literal: no parameters, so several statements may go at once.
            statement = statement.replace("{password}", sql.Literal(password_hash).as_string(conn))
            with conn.transaction():
                conn.execute(statement.replace("{confirms}", str(int(confirms))))
            steps.append((label, time.perf_counter() - step))
            say(f"  {label}: {steps[-1][1]:.1f} s")
        conn.execute("SET session_replication_role = DEFAULT")
        step = time.perf_counter()
        _build_indexes(url, [definition for _, definition in indexes])
        steps.append((f"{len(indexes)} indexes", time.perf_counter() - step))
        say(f"  {steps[-1][0]}: {steps[-1][1]:.1f} s")
        step = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        steps.append(("vacuum analyze", time.perf_counter() - step))
        say(f"  vacuum analyze: {steps[-1][1]:.1f} s")
        counts = {
            table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in ("auth_user", "wingman_matches", "wingman_sessions", "session_events", "reputation_ledger")
        }
    return FillReport(seconds=time.perf_counter() - started, steps=steps, counts=counts)
