"""Pages of the history list answered before Django (sessions_app/session_reads.py), from the JSON the list
view keeps in Redis (freshness.lookup_list; tests/api/test_list_copies.py shows when a kept page is current).

The early answer must be the view's own answer to the same request, for that reader and that page only;
anything else (a cookie, a refused token, no kept page) reaches the view.
"""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app import session_reads
from sessions_app.api.views import SessionViewSet

from ..conftest import api_client, comparable_headers, requests_reaching, web_client

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("early_reads")]

PATH = "/api/sessions/?limit=2"


@pytest.fixture
def view_calls(monkeypatch):
    """The requests that reached the view."""
    return requests_reaching(monkeypatch, SessionViewSet)


@pytest.fixture
def three(make_session):
    return [make_session(starts_in=timedelta(days=days)) for days in (1, 2, 3)]


def kept(client, path=PATH):
    """Read until the page is kept (the first read records who is on it, the second stores it) and Django's
    answer is learnt; then Django's answer to the same request once more, to compare with."""
    for _ in range(3):
        assert client.get(path).status_code == 200
    session_reads._answered.clear()
    return client.get(path)


@pytest.mark.parametrize("path", [PATH, "/api/sessions/?limit=2&offset=2", "/api/sessions/"])
def test_a_kept_page_is_answered_before_django_with_its_own_answer(three, alice, view_calls,
                                                                   django_assert_num_queries, path):
    client = api_client(alice)
    full = kept(client, path)
    reached = len(view_calls)

    with django_assert_num_queries(0):
        early = client.get(path)

    assert len(view_calls) == reached
    assert early.status_code == 200 and early.content == full.content
    assert comparable_headers(early) == comparable_headers(full)
    assert early["Content-Length"] == str(len(full.content)) and early["X-Request-ID"]


def test_each_reader_gets_their_own_page(three, alice, bob, carol, view_calls):
    alices, bobs, carols = api_client(alice), api_client(bob), api_client(carol)
    kept(alices)
    bobs_page = kept(bobs).json()
    reached = len(view_calls)
    assert bobs.get(PATH).json() == bobs_page and len(view_calls) == reached  # bob's own, early
    assert carols.get(PATH).json()["count"] == 0 and len(view_calls) == reached + 1  # nothing kept: the view


def test_a_write_to_one_of_the_readers_sessions_reaches_the_view(three, alice, bob, view_calls):
    from sessions_app import services

    client = api_client(alice)
    before = kept(client).json()
    services.notes_update(session_id=three[-1].pk, user=bob, notes="Meet at the north door.")
    reached = len(view_calls)
    after = client.get(PATH).json()
    assert len(view_calls) == reached + 1
    versions = {item["id"]: item["version"] for item in after["results"]}
    assert versions[str(three[-1].pk)] == {i["id"]: i["version"] for i in before["results"]}[str(three[-1].pk)] + 1


def test_other_readers_and_refusals_reach_the_view(three, alice, view_calls):
    client = api_client(alice)
    kept(client)
    reached = len(view_calls)
    cookie = web_client(alice)  # a browser: the session cookie, answered by the view
    assert cookie.get(PATH).status_code == 200 and len(view_calls) == reached + 1
    expired = AccessToken.for_user(alice)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert client.get(PATH).status_code == 401 and len(view_calls) == reached + 2
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    assert client.get(PATH, HTTP_ACCEPT="text/html").status_code == 200 and len(view_calls) == reached + 3


def test_with_redis_not_answering_the_request_asks_it_once(three, alice, view_calls, redis_hanging):
    """A Redis that hangs costs each command its timeout: after the early answer's one failed call, the view
    reads the database without asking Redis again."""
    client = api_client(alice)
    before = kept(client).json()
    client.get(PATH)  # learnt again
    calls = redis_hanging()
    reached = len(view_calls)
    response = client.get(PATH)
    assert response.status_code == 200 and response.json() == before and len(view_calls) == reached + 1
    assert len(calls) == 1
