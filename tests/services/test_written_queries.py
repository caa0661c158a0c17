"""The queries of every service's write (services/_base.py): the session lock, the participants' profiles,
the session's UPDATE and the audit event's INSERT. On PostgreSQL they are written once per process from the
models' column lists, and must load and write what the ORM's queries do (the lock must lock the row; the
writes send the same signals, which stop the Redis copies)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from sessions_app.errors import NotFound
from sessions_app.models import SessionEvent, UserProfile, WingmanSession
from sessions_app.services import _base
from tests.conftest import on_postgres, require_or_skip

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


@pytest.fixture
def postgres():
    require_or_skip(on_postgres(), "the written lock query is PostgreSQL's", "WINGMAN_REQUIRE_POSTGRES")


def test_it_loads_what_the_orms_query_loads(postgres, session, django_assert_num_queries):
    assert _base._WRITTEN.usable()
    with transaction.atomic():
        with django_assert_num_queries(1) as captured:
            written = _base._lock_session(session.pk)
        by_orm = _base._lock_session(session.pk, version=session.version)  # with conditions: the ORM's query
    assert "FOR UPDATE OF s" in captured.captured_queries[0]["sql"]
    assert values(written) == values(by_orm) and written._as_locked == by_orm._as_locked
    for name in ("user1", "user2"):
        user, expected = getattr(written, name), getattr(by_orm, name)
        assert type(user) is type(expected) and values(user) == values(expected)
        assert not user._state.adding and user._state.db == "default"
    assert not written._state.adding and written._state.db == "default"


def test_a_missing_or_malformed_id_is_refused_as_before(postgres, session):
    with transaction.atomic():
        with pytest.raises(NotFound):
            _base._lock_session("00000000-0000-0000-0000-000000000000")
        with pytest.raises(ValidationError):  # as the ORM's filter(pk=...) refuses it
            _base._lock_session("not-a-uuid")


def test_it_locks_the_row_until_the_transaction_ends(postgres, session):
    """A second writer waits for the first (the lock is the rule that serialises writes to one session)."""
    order = []
    first_locked, second_started = threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                _base._lock_session(session.pk)
                first_locked.set()
                second_started.wait(5)
                # The second writer is now waiting on the row, if it is locked; give it time to (wrongly) get in.
                threading.Event().wait(0.3)
                order.append("first done")
        finally:
            connection.close()

    def second():
        try:
            first_locked.wait(5)
            with transaction.atomic():
                second_started.set()
                _base._lock_session(session.pk)
                order.append("second locked")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second locked"]


def test_the_profiles_are_those_the_orm_loads(postgres, session, alice, bob, carol, django_assert_num_queries):
    UserProfile.objects.filter(pk=alice.pk).update(reputation=17, display_name="Ali")
    with django_assert_num_queries(1):
        written = _base._WRITTEN.profiles([alice.pk, bob.pk, carol.pk, 987654])
    by_orm = UserProfile.objects.in_bulk([alice.pk, bob.pk, carol.pk, 987654])
    assert set(written) == set(by_orm) and 987654 not in written
    assert all(values(written[pk]) == values(by_orm[pk]) and not written[pk]._state.adding for pk in written)
    assert written[alice.pk].reputation == 17


@pytest.fixture
def saves():
    """(signal, model name, update_fields, created) of every pre_save and post_save sent meanwhile."""
    seen = []

    def pre(sender, instance, update_fields=None, **kwargs):
        seen.append(("pre", sender.__name__, update_fields, instance._state.adding))

    def post(sender, instance, created, update_fields=None, **kwargs):
        seen.append(("post", sender.__name__, update_fields, created))

    pre_save.connect(pre, dispatch_uid="test-written-pre")
    post_save.connect(post, dispatch_uid="test-written-post")
    yield seen
    pre_save.disconnect(dispatch_uid="test-written-pre")
    post_save.disconnect(dispatch_uid="test-written-post")


def test_the_update_writes_what_the_orms_save_writes(postgres, session, saves, django_assert_num_queries):
    before = timezone.now()
    with transaction.atomic():
        locked = _base._lock_session(session.pk)
        locked.notes, locked.venue_name = "a<b and c>d", "The Crown"
        with django_assert_num_queries(2) as captured:  # and the profiles, for the answer
            _base._save(locked)
    sql = captured.captured_queries[0]["sql"]
    assert sql.startswith('UPDATE "wingman_sessions" SET') and '"status"' not in sql  # only what changed
    stored = WingmanSession.objects.get(pk=session.pk)
    assert (stored.notes, stored.venue_name, stored.version) == ("a<b and c>d", "The Crown", session.version + 1)
    assert stored.updated_at == locked.updated_at and stored.updated_at >= before  # auto_now, as save() sets it
    assert values(stored) == values(locked)
    fields = frozenset({"notes", "venue_name", "version", "updated_at"})
    assert saves == [("pre", "WingmanSession", fields, False), ("post", "WingmanSession", fields, False)]


def test_the_update_refuses_a_row_that_is_gone(postgres, session):
    ghost = WingmanSession.objects.get(pk=session.pk)
    ghost.pk = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(Exception, match="did not affect any rows"), transaction.atomic():
        _base._WRITTEN.update(ghost, ["notes"])


def test_the_insert_writes_what_the_orms_create_writes(postgres, session, alice, saves, django_assert_num_queries):
    before = timezone.now()
    with django_assert_num_queries(1) as captured:
        event = _base._event(session, alice, "notes_updated", length=3, text="<3 \u00e9")
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "session_events"')
    assert event.pk and not event._state.adding and event._state.db == "default"
    stored = SessionEvent.objects.get(pk=event.pk)
    assert values(stored) == values(event)
    assert (stored.session_id, stored.actor_id, stored.kind) == (session.pk, alice.pk, "notes_updated")
    assert stored.data == {"length": 3, "text": "<3 \u00e9"} and stored.created_at >= before
    assert saves == [("pre", "SessionEvent", None, True), ("post", "SessionEvent", None, True)]
