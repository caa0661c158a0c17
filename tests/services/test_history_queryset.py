"""The index-backed slicing of a user's history gives exactly the plain query's rows."""

import random
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.models import MatchStatus, UserProfile, WingmanMatch, WingmanSession
from sessions_app.selectors import SessionFilters, session_list_for_user, sessions_of_user


def _history(make_session, alice, bob, dave):
    """alice is user1 with bob and user2 with dave, sessions interleaved in time."""
    with_dave = WingmanMatch.objects.create(user1=dave, user2=alice, status=MatchStatus.ACCEPTED)
    rng = random.Random(7)

    def status():
        value = rng.choice(["completed", "cancelled", "scheduled"])
        return {"status": value, "completed_at": timezone.now() if value == "completed" else None}

    for i in range(30):
        make_session(starts_in=-timedelta(hours=rng.randint(1, 500), minutes=i), **status())
        make_session(of_match=with_dave, starts_in=-timedelta(hours=rng.randint(1, 500), minutes=i), **status())
    # make_session stores rows directly; session_schedule would have counted them on the profile.
    UserProfile.objects.filter(pk=alice.pk).update(total_sessions=60)
    alice.profile.refresh_from_db()
    return with_dave


def _plain(user, **conditions):
    return list(
        sessions_of_user(user).filter(**conditions).order_by("-scheduled_time", "-id").values_list("pk", flat=True)
    )


def test_it_slices_exactly_like_the_plain_query(make_session, alice, bob, dave, django_assert_num_queries):
    _history(make_session, alice, bob, dave)
    expected = _plain(alice)
    history = session_list_for_user(user=alice)
    with django_assert_num_queries(0):  # the profile's counter, not a COUNT over every session
        assert history.count() == 60 == len(expected)
    for start, stop in [(0, 20), (20, 40), (40, 60), (55, 80), (0, 1), (59, 60), (100, 120)]:
        assert [s.pk for s in history[start:stop]] == expected[start:stop], (start, stop)


def test_it_slices_filtered_history_exactly(make_session, alice, bob, dave):
    _history(make_session, alice, bob, dave)
    expected = _plain(alice, status="completed")
    history = session_list_for_user(user=alice, filters=SessionFilters(status="completed"))
    assert history.count() == len(expected)  # filtered: counted by a query
    assert [s.pk for s in history[0:7]] == expected[0:7]
    assert [s.pk for s in history[7:14]] == expected[7:14]


def test_it_falls_back_when_filtered_further(make_session, alice, bob, dave):
    with_dave = _history(make_session, alice, bob, dave)
    expected = _plain(alice, match=with_dave)
    narrowed = session_list_for_user(user=alice).filter(match=with_dave)
    assert [s.pk for s in narrowed[0:10]] == expected[0:10]
    assert list(session_list_for_user(user=alice).none()[0:10]) == []


def test_it_reads_each_side_by_index_with_a_limit(make_session, alice, bob, dave):
    _history(make_session, alice, bob, dave)
    with CaptureQueriesContext(connection) as queries:
        list(session_list_for_user(user=alice)[0:20])
    assert len(queries) == 2  # the page, then its participants (_attach_people)
    sql = queries[0]["sql"]
    assert "UNION ALL" in sql and sql.count("LIMIT 20") == 3
    assert "wingman_sessions" not in queries[1]["sql"] and "auth_user" in queries[1]["sql"]
    assert WingmanSession.objects.count() == 60
