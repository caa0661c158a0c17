"""GET of one session answered before DRF (sessions_app/session_reads.py).

Each test compares the early answer with the view's own answer to the same
request, and shows that a write, a revoked token or an outsider still gets
what the view would give. Real commits (a writer's marks are released when
its transaction commits) and the shared Redis, as in test_freshness.py.
"""

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from sessions_app import services, session_reads
from sessions_app.api.views import SessionViewSet
from sessions_app.models import WingmanSession

from ..conftest import api_client, comparable_headers, requests_reaching, web_client

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("early_reads")]

@pytest.fixture
def view_calls(monkeypatch):
    """The requests that reached the view."""
    return requests_reaching(monkeypatch, SessionViewSet)


def warm(client, path: str):
    """The view answers until the copy is stored and its headers are known: a 200, then 304s."""
    first = client.get(path)
    assert first.status_code == 200
    for _ in range(2):
        client.get(path)
        client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    return first


@pytest.mark.parametrize(("path", "credential"), [
    ("/api/sessions/{id}/", api_client),
    ("/api/session/{id}", api_client),
    ("/api/sessions/{id}/", web_client),  # a browser with the session cookie
], ids=["bearer", "bearer-original-path", "cookie"])
def test_a_repeated_read_is_answered_before_the_view_with_the_views_own_answer(
        session, alice, view_calls, django_assert_num_queries, path, credential):
    client = credential(alice)
    path = path.format(id=session.pk)
    full = warm(client, path)
    full_304 = client.get(path, HTTP_IF_NONE_MATCH=full["ETag"])
    reached = len(view_calls)

    with django_assert_num_queries(0):
        early = client.get(path)
        early_304 = client.get(path, HTTP_IF_NONE_MATCH=full["ETag"])

    assert len(view_calls) == reached  # neither reached the view
    assert early.status_code == 200 and early.content == full.content
    assert comparable_headers(early) == comparable_headers(full)
    assert early_304.status_code == 304 and early_304.content == b""
    assert comparable_headers(early_304) == comparable_headers(full_304)
    assert early["X-Request-ID"] and early["Content-Length"] == str(len(full.content))
    if credential is web_client:
        assert "Cookie" in early["Vary"]


def test_a_committed_write_shows_on_the_very_next_read(session, alice, bob, view_calls):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)

    services.notes_update(session_id=session.pk, user=bob, notes="Meet at the north door.")

    after = client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["notes"] == "Meet at the north door."
    assert WingmanSession.objects.get(pk=session.pk).notes == "Meet at the north door."


def test_a_buddy_renamed_changes_the_answer(session, alice, bob):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    bob.profile.display_name = "Robert"
    bob.profile.save()
    after = client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json()["participants"]["user2"]["name"] == "Robert"


def test_a_new_password_ends_the_token_here_too(session, alice, view_calls):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    alice.set_password("another secret 123")
    alice.save()
    response = client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 401 and response.json()["code"] == "password_changed"
    assert view_calls[-1] == path  # the view gave the refusal


def test_a_deactivated_user_is_refused_here_too(session, alice):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    alice.is_active = False
    alice.save()
    assert client.get(path, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 401
    assert client.get(path).status_code == 401


def test_an_outsider_gets_the_views_403_even_with_the_etag(session, alice, carol, view_calls):
    path = f"/api/sessions/{session.pk}/"
    before = warm(api_client(alice), path)
    outsider = api_client(carol)
    for _ in range(3):
        response = outsider.get(path, HTTP_IF_NONE_MATCH=before["ETag"])
        assert response.status_code == 403
    assert view_calls[-3:] == [path] * 3


def test_an_expired_token_gets_the_views_401(session, alice, view_calls):
    token = AccessToken.for_user(alice)
    client = api_client(alice)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    from datetime import timedelta

    from django.utils import timezone

    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
    expired = api_client(alice)
    expired.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert expired.get(path, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 401


@pytest.mark.parametrize("extra", [
    {"HTTP_ACCEPT": "text/html"},  # the browsable API
    {"QUERY_STRING": "x=1"},
])
def test_other_requests_go_to_the_view(session, alice, view_calls, extra):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    reached = len(view_calls)
    client.get(path, HTTP_IF_NONE_MATCH=before["ETag"], **extra)
    assert len(view_calls) == reached + 1


def test_nothing_is_answered_before_the_view_has_answered_once(session, alice, view_calls):
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    warm(client, path)
    session_reads._answered.clear()  # a worker that has not served this route yet
    reached = len(view_calls)
    assert client.get(path).status_code == 200
    assert len(view_calls) == reached + 1


def test_a_logged_out_cookie_gets_the_views_403(session, alice, view_calls):
    client = web_client(alice)
    path = f"/api/sessions/{session.pk}/"
    full = warm(client, path)
    client.post("/accounts/logout/")
    response = client.get(path, HTTP_IF_NONE_MATCH=full["ETag"])
    assert response.status_code == 401 and view_calls[-1] == path


def test_with_redis_not_answering_a_read_asks_it_once(session, alice, view_calls, redis_hanging):
    """A Redis that hangs costs each command its timeout: the early answer gives up after its one call, and
    the view then reads the database without asking Redis again (session_reads.EarlyRead.handover)."""
    client = api_client(alice)
    path = f"/api/sessions/{session.pk}/"
    before = warm(client, path)
    calls = redis_hanging()
    response = client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 304 and view_calls[-1] == path
    assert len(calls) == 1  # the early answer's prefetch; not the view's prefetch, user or session lookup
