"""Reads served from Redis copies are never older than a committed write (sessions_app/freshness.py).

These run with real commits (transaction=True), since a writer's marks are
released only when its transaction commits, and need the shared Redis.
"""

import pytest
from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app import freshness, selectors, services
from sessions_app.freshness import CacheUnavailable
from sessions_app.models import UserProfile, WingmanSession

from ..conftest import api_client, redis_round_trips, require_or_skip

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _needs_redis():
    require_or_skip(settings.FRESHNESS_MARKERS, "the copies live only in a shared Redis (REDIS_URL)",
                    "WINGMAN_REQUIRE_REDIS")


def read(session, user):
    return selectors.session_get_for_participant(session_id=session.pk, user=user)


def warm(session, user):
    """Read until the copy is stored: the first read records the participants, the second stores it."""
    read(session, user)
    read(session, user)


def test_a_current_copy_answers_without_a_query(session, alice, django_assert_num_queries):
    with django_assert_num_queries(1):
        read(session, alice)  # records the participants and their generations
    with django_assert_num_queries(1):
        read(session, alice)  # stores the copy
    with django_assert_num_queries(0):
        copy = read(session, alice)
    assert copy.pk == session.pk and copy.user1.profile.display_name == "Alice"


def test_the_copy_still_answers_only_participants(session, alice, carol, django_assert_num_queries):
    warm(session, alice)
    from sessions_app.errors import NotParticipant

    with django_assert_num_queries(0), pytest.raises(NotParticipant):
        read(session, carol)


def test_a_write_stops_the_copy_before_it_commits(session, alice, bob):
    warm(session, alice)
    assert freshness.lookup_session(session.pk).value is not None
    with transaction.atomic():
        services.notes_update(session_id=session.pk, user=bob, notes="new plan")
        # Not committed yet: another process reading now must not use the copy (it would go to the database).
        assert freshness.lookup_session(session.pk).value is None
    assert read(session, alice).notes == "new plan"


def test_a_copy_read_before_a_commit_is_never_served_after_it(session, alice, bob):
    warm(session, alice)
    lookup = freshness.lookup_session(session.pk)  # a slow reader saw current generations...
    old = WingmanSession.objects.get(pk=session.pk)  # ...and read the row before the write committed
    services.notes_update(session_id=session.pk, user=bob, notes="new plan")
    lookup.store(old)  # ...then stores what it read, after the commit
    assert read(session, alice).notes == "new plan"
    assert read(session, alice).notes == "new plan"


def test_if_the_release_after_commit_fails_reads_use_the_database(session, alice, bob, monkeypatch,
                                                                   django_assert_num_queries):
    warm(session, alice)
    monkeypatch.setattr(freshness, "_release", lambda keys, token: None)
    services.notes_update(session_id=session.pk, user=bob, notes="new plan")
    for _ in range(3):
        with django_assert_num_queries(1):  # no copy is stored or used while the writing mark stands
            assert read(session, alice).notes == "new plan"


def test_a_write_redis_cannot_be_told_about_is_refused(session, alice, bob, monkeypatch):
    warm(session, alice)

    def broken():
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(freshness, "_client", broken)
    with pytest.raises(CacheUnavailable):
        services.notes_update(session_id=session.pk, user=bob, notes="new plan")
    row = WingmanSession.objects.get(pk=session.pk)
    assert (row.notes, row.version) == (session.notes, session.version)
    monkeypatch.undo()
    assert read(session, alice).notes == session.notes


def test_a_renamed_buddy_shows_at_once(session, alice, bob):
    warm(session, alice)
    services.profile_update(user=bob, display_name="Robert")
    assert read(session, alice).user2.profile.display_name == "Robert"


def test_a_profile_changed_outside_the_services_shows_at_once(session, alice, bob):
    warm(session, alice)
    profile = UserProfile.objects.get(pk=bob.pk)
    profile.display_name = "Bobby"
    profile.save()  # autocommit: marked before the save, released after it
    assert read(session, alice).user2.profile.display_name == "Bobby"


def test_the_signed_in_user_comes_from_the_copy(alice, django_assert_num_queries):
    selectors.user_with_profile(alice.pk)
    selectors.user_with_profile(alice.pk)
    with django_assert_num_queries(0):
        assert selectors.user_with_profile(alice.pk).profile.display_name == "Alice"


def test_a_new_password_ends_access_tokens_despite_the_copy(alice, session):
    client = api_client(alice)
    for _ in range(3):
        assert client.get(f"/api/sessions/{session.pk}/").status_code == 200
    alice.set_password("another secret 123")
    alice.save()
    response = client.get(f"/api/sessions/{session.pk}/")
    assert response.status_code == 401 and response.json()["code"] == "password_changed"


def test_a_deactivated_user_is_refused_despite_the_copy(alice, session):
    token = str(AccessToken.for_user(alice))
    client = api_client(alice)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for _ in range(3):
        assert client.get(f"/api/sessions/{session.pk}/").status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get(f"/api/sessions/{session.pk}/").status_code == 401


def test_without_a_shared_cache_nothing_is_served_from_a_copy(session, alice, settings,
                                                                django_assert_num_queries):
    settings.FRESHNESS_MARKERS = False
    for _ in range(3):
        with django_assert_num_queries(1):
            read(session, alice)


def test_the_lookup_needs_one_redis_round_trip(session, alice, monkeypatch):
    warm(session, alice)
    calls = redis_round_trips(monkeypatch)
    assert freshness.lookup_session(session.pk).value is not None
    assert calls == ["evalsha"]


def test_a_prefetch_answers_the_session_and_its_reader_in_one_round_trip_once(session, alice, bob, monkeypatch):
    warm(session, alice)
    selectors.user_with_profile(alice.pk)
    selectors.user_with_profile(alice.pk)
    client = freshness._client()
    client.set(freshness._key("bench:extra"), b"the login session")
    calls = redis_round_trips(monkeypatch)
    with freshness.prefetch(session_id=session.pk, also=[freshness._key("bench:extra")]) as fetched:
        assert fetched == {freshness._key("bench:extra"): b"the login session"}
        assert selectors.user_with_profile(alice.pk).pk == alice.pk
        assert freshness.lookup_session(session.pk).value.pk == session.pk
        assert calls == ["evalsha"]
        freshness.lookup_session(session.pk)  # a second lookup asks Redis again
        assert calls == ["evalsha", "evalsha"]
    client.delete(freshness._key("bench:extra"))


def test_a_script_redis_has_lost_is_loaded_again(session, alice):
    """Scripts run by their SHA1; one Redis does not know (after a restart, say) is loaded and run."""
    from sessions_app import redis_calls

    warm(session, alice)
    client = freshness._client()
    redis_calls._shas[freshness._SESSION_LOOKUP] = "0" * 40  # a SHA1 Redis has never seen
    assert freshness.lookup_session(session.pk).value.pk == session.pk
    sha = redis_calls._shas[freshness._SESSION_LOOKUP]
    assert sha != "0" * 40 and client.script_exists(sha) == [True]
