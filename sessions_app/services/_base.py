"""What every service is built from: input cleaning, locking in a fixed order, saving with a new
version, audit events, the moves of counters and reputation, and the shared steps of completing,
cancelling and recording a no-show. Private to the services package."""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, router
from django.db.models import F, signals

import notifications.services as notify

from .. import freshness, rules
from ..errors import Conflict, InvalidInput, NotFound, NotParticipant
from ..models import (
    LEDGER_COUNTER_EFFECTS,
    EventKind,
    LedgerReason,
    ReputationLedger,
    SessionEvent,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)
from ..reliability import reliability_refresh
from ..text import without_script_markup

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
    if conditions or not _WRITTEN.usable():
        session = next(iter(  # one row by its key: no ORDER BY to compile
            WingmanSession.objects.select_for_update(of=("self",), skip_locked=skip_locked)
            .select_related("user1", "user2")
            .filter(pk=session_id, **conditions).order_by()[:1]
        ), None)
    else:
        session = _WRITTEN.lock_session(session_id, skip_locked=skip_locked)
    if session is None:
        if skip_locked:
            return None
        raise NotFound("No such session.")
    session._as_locked = _state(session)
    return session


class _WrittenQueries:
    """The queries of every write, written once per process from the models' own column lists: the session
    lock by key (the session row locked, both users joined, as the ORM's select_related query), the
    participants' profiles, the session's UPDATE of the fields that changed and the audit event's INSERT.
    Compiling them anew for every write took the ORM about 1.5 ms for the first two, a third of a write's
    time, and ~0.9 ms for the last two. Used only on a database that locks rows (PostgreSQL) and while no
    column of these models needs a conversion from the database value (none does there); otherwise the
    ORM's queries.
    """

    def __init__(self):
        self._sql = {}  # (database alias, what) -> SQL
        self._usable = {}  # database alias -> may these queries be used there

    def usable(self) -> bool:
        connection = connections[router.db_for_write(WingmanSession)]
        if connection.alias not in self._usable:
            features = connection.features
            self._usable[connection.alias] = (
                features.has_select_for_update_of and features.has_select_for_update_skip_locked
                and not any(field.get_db_converters(connection)
                            or connection.ops.get_db_converters(field.get_col(model._meta.db_table))
                            for model in (WingmanSession, get_user_model(), UserProfile)
                            for field in model._meta.concrete_fields))
        return self._usable[connection.alias]

    def lock_session(self, session_id, *, skip_locked: bool) -> WingmanSession | None:
        key_field = WingmanSession._meta.pk
        rows = self._run("lock skipping" if skip_locked else "lock",
                         lambda connection: key_field.get_db_prep_value(key_field.to_python(session_id), connection))
        if not rows:
            return None
        alias, row = router.db_for_write(WingmanSession), rows[0]
        user_model = get_user_model()
        first, width = len(WingmanSession._meta.concrete_fields), len(user_model._meta.concrete_fields)
        session = WingmanSession.from_db(alias, None, row[:first])
        session.user1 = user_model.from_db(alias, None, row[first:first + width])
        session.user2 = user_model.from_db(alias, None, row[first + width:])
        return session

    def profiles(self, user_ids) -> dict:
        """user id -> UserProfile, for those that have one."""
        alias = router.db_for_write(WingmanSession)
        rows = self._run("profiles", lambda connection: [int(pk) for pk in user_ids])
        return {profile.pk: profile for profile in (UserProfile.from_db(alias, None, row) for row in rows)}

    def update(self, instance, fields: list[str]) -> None:
        """``instance.save(update_fields=fields)`` with an UPDATE written once per process for each set of
        fields: the same pre_save and post_save signals (the Redis copies stop before the write), the same
        auto_now values; the ORM compiled that UPDATE anew each time, ~0.5 ms of a write's CPU."""
        model, meta = type(instance), instance._meta
        connection = connections[router.db_for_write(model)]
        names = frozenset(fields)
        targets = [meta.get_field(name) for name in fields]
        signals.pre_save.send(sender=model, instance=instance, raw=False, using=connection.alias, update_fields=names)
        values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in targets]
        sql = self._statement(connection, ("update", model, tuple(field.column for field in targets)), lambda name: (
            f"UPDATE {name(meta.db_table)} SET "  # noqa: S608 (names from the model)
            + ", ".join(f"{name(field.column)} = %s" for field in targets)
            + f" WHERE {name(meta.pk.column)} = %s"))
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, meta.pk.get_db_prep_value(instance.pk, connection)])
            if cursor.rowcount != 1:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        instance._state.adding, instance._state.db = False, connection.alias
        signals.post_save.send(sender=model, instance=instance, created=False, update_fields=names, raw=False,
                               using=connection.alias)

    def insert(self, instance) -> None:
        """``instance.save()`` of a new row whose key the database assigns, with an INSERT written once per
        process: the same signals and auto_now_add values, the key read back (RETURNING)."""
        model, meta = type(instance), instance._meta
        connection = connections[router.db_for_write(model)]
        targets = [field for field in meta.concrete_fields if field is not meta.auto_field]
        signals.pre_save.send(sender=model, instance=instance, raw=False, using=connection.alias, update_fields=None)
        values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in targets]
        sql = self._statement(connection, ("insert", model), lambda name: (
            f"INSERT INTO {name(meta.db_table)} "  # noqa: S608 (names from the model)
            f"({', '.join(name(field.column) for field in targets)}) "
            f"VALUES ({', '.join(['%s'] * len(targets))}) "
            f"RETURNING {name(meta.auto_field.column)}"))
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            (instance.pk,) = cursor.fetchone()
        instance._state.adding, instance._state.db = False, connection.alias
        signals.post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False,
                               using=connection.alias)

    def _statement(self, connection, what: tuple, write) -> str:
        """The SQL of ``what`` on this connection's database, written by ``write(quote_name)`` the first time."""
        key = (connection.alias, *what)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = write(connection.ops.quote_name)
        return sql

    def _run(self, what: str, parameter) -> list:
        connection = connections[router.db_for_write(WingmanSession)]
        sql = self._statement(connection, (what,), lambda name: self._write(name, what))
        with connection.cursor() as cursor:
            cursor.execute(sql, [parameter(connection)])
            return cursor.fetchall()

    @staticmethod
    def _write(name, what: str) -> str:
        # Only quoted table and column names (``name`` quotes them) from the models' metadata go into the text;
        # values are parameters.
        sessions, users, profiles = WingmanSession._meta, get_user_model()._meta, UserProfile._meta

        def columns(alias, meta):
            return ", ".join(f"{alias}.{name(field.column)}" for field in meta.concrete_fields)

        if what == "profiles":
            return f"SELECT {columns('p', profiles)} FROM {name(profiles.db_table)} p " \
                   f"WHERE p.{name(profiles.pk.column)} = ANY(%s)"  # noqa: S608

        def joined(alias, field):
            return f"INNER JOIN {name(users.db_table)} {alias} ON {alias}.{name(users.pk.column)} = " \
                   f"s.{name(sessions.get_field(field).column)}"

        return (f"SELECT {columns('s', sessions)}, {columns('u1', users)}, {columns('u2', users)} "  # noqa: S608
                f"FROM {name(sessions.db_table)} s {joined('u1', 'user1')} {joined('u2', 'user2')} "
                f"WHERE s.{name(sessions.pk.column)} = %s "
                f"FOR UPDATE OF s{' SKIP LOCKED' if what == 'lock skipping' else ''}")


_WRITTEN = _WrittenQueries()


def _save(session: WingmanSession) -> None:
    """Write the fields changed since the lock with a new version (its Redis copy stops first: signals.py)."""
    changed = [name for name, value in _state(session).items() if session._as_locked[name] != value]
    session.version += 1
    if _WRITTEN.usable():
        _WRITTEN.update(session, [*changed, "version", "updated_at"])
    else:
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
        ids = [user.pk for user in users]
        profiles = _WRITTEN.profiles(ids) if _WRITTEN.usable() else UserProfile.objects.in_bulk(ids)
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
    event = SessionEvent(session=session, actor=actor, kind=kind, data=data)
    if _WRITTEN.usable():
        _WRITTEN.insert(event)
    else:
        event.save()
    return event


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


def _reliability_refresh(session: WingmanSession) -> None:
    """After a session became final: both participants' reliability (the caller holds the profile locks)."""
    reliability_refresh(user_ids=_participant_ids(session))


def _reason(reason: str) -> str:
    return clean_text(rules.check_reason(reason), field="reason", max_length=rules.REASON_MAX_LENGTH, required=True)


# --- profiles, matches and reputation ------------------------------------------------------------


def _audit(*, actor, kind: str, match: WingmanMatch | None = None, subject_user=None, **data) -> SessionEvent:
    """An audit event for a write that has no session."""
    return SessionEvent.objects.create(actor=actor, kind=kind, match=match, subject_user=subject_user, data=data)
