"""The caller's statistics answered before Django (sessions_app/session_reads.py), from the caller's current
copy in Redis, by the view's own function (serializers.stats_of).

The early answer must be the view's own answer to the same request, for that caller only, and never older
than the last committed change to the caller's counters; anything else (a cookie, a refused token, a query
string, no current copy) reaches the view.
"""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app import session_reads
from sessions_app.api.views import MeViewSet
from sessions_app.models import UserProfile

from ..conftest import api_client, comparable_headers, requests_reaching, web_client

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("early_reads")]

PATH = "/api/me/stats/"


@pytest.fixture
def view_calls(monkeypatch):
    """The requests that reached the view."""
    return requests_reaching(monkeypatch, MeViewSet)


@pytest.fixture
def counted(alice):
    """Alice with counters that are not all zero, so the statistics show something of hers."""
    UserProfile.objects.filter(user=alice).update(total_sessions=7, completed_sessions=4, cancelled_sessions=1,
                                                  total_active_seconds=4 * 3600, reputation=55)
    alice.refresh_from_db()
    return alice


def learnt(client, path=PATH):
    """Read until the caller's copy is kept and Django's answer is learnt; then Django's answer to the same
    request once more, to compare with."""
    for _ in range(2):
        assert client.get(path).status_code == 200
    session_reads._answered.clear()
    return client.get(path)


def test_the_statistics_are_answered_before_django_with_the_views_own_answer(counted, view_calls,
                                                                            django_assert_num_queries):
    client = api_client(counted)
    full = learnt(client)
    reached = len(view_calls)

    with django_assert_num_queries(0):
        early = client.get(PATH)

    assert len(view_calls) == reached
    assert early.status_code == 200 and early.content == full.content
    assert early.json()["completed_sessions"] == 4 and early.json()["reputation"] == 55
    assert comparable_headers(early) == comparable_headers(full)
    assert early["Content-Length"] == str(len(full.content)) and early["X-Request-ID"]


def test_each_caller_gets_their_own_statistics(counted, bob, view_calls):
    alices, bobs = api_client(counted), api_client(bob)
    learnt(alices)
    bobs_stats = learnt(bobs).json()
    reached = len(view_calls)
    assert alices.get(PATH).json()["reputation"] == 55 and len(view_calls) == reached
    assert bobs.get(PATH).json() == bobs_stats and len(view_calls) == reached
    assert bobs_stats["reputation"] != 55


def test_a_change_to_the_counters_is_shown_on_the_very_next_read(counted, view_calls):
    """A save of the profile stops the caller's copy before it commits: the next read goes to the view,
    which shows the change and keeps a new copy; the read after that is early again, and current."""
    client = api_client(counted)
    learnt(client)
    client.get(PATH)
    profile = UserProfile.objects.get(user=counted)
    profile.reputation, profile.completed_sessions = 80, 5
    profile.save()
    reached = len(view_calls)

    after = client.get(PATH).json()
    assert (after["reputation"], after["completed_sessions"]) == (80, 5)
    assert len(view_calls) == reached + 1
    again = client.get(PATH).json()
    assert again == after and len(view_calls) == reached + 1


def test_other_requests_and_refusals_reach_the_view(counted, view_calls):
    client = api_client(counted)
    learnt(client)
    reached = len(view_calls)
    cookie = web_client(counted)  # a browser: the session cookie, answered by the view
    assert cookie.get(PATH).status_code == 200 and len(view_calls) == reached + 1
    assert client.get(PATH + "?x=1").status_code == 200 and len(view_calls) == reached + 2
    assert client.get(PATH, HTTP_ACCEPT="text/html").status_code == 200 and len(view_calls) == reached + 3
    expired = AccessToken.for_user(counted)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert client.get(PATH).status_code == 401 and len(view_calls) == reached + 4


def test_a_deactivated_caller_is_refused_by_the_view(counted, view_calls):
    client = api_client(counted)
    learnt(client)
    counted.is_active = False
    counted.save()
    reached = len(view_calls)
    assert client.get(PATH).status_code == 401 and len(view_calls) == reached + 1
    assert client.get(PATH).status_code == 401


def test_with_redis_not_answering_the_request_asks_it_once(counted, view_calls, redis_hanging):
    """A Redis that hangs costs each command its timeout: after the early answer's one failed call, the view
    reads the database without asking Redis again."""
    client = api_client(counted)
    before = learnt(client).json()
    calls = redis_hanging()
    reached = len(view_calls)
    response = client.get(PATH)
    assert response.status_code == 200 and response.json() == before and len(view_calls) == reached + 1
    assert len(calls) == 1
