"""Two queries of every service's write (services/_base.py): the session lock and the participants' profiles.
On PostgreSQL they are written once per process from the models' column lists, and must load what the ORM's
queries load (and the lock must lock the row)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from sessions_app.errors import NotFound
from sessions_app.models import UserProfile
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
