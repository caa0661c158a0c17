"""The session page's HTMX poll answered early (sessions_app/session_reads.py).

The early 304 must be the view's own 304, and anything that changes the
panel, signs the user out or is not the panel's poll must reach the view.
Real commits and the shared Redis, as in tests/services/test_freshness.py.
"""

import pytest

from sessions_app import services, session_reads, views

from ..conftest import comparable_headers, web_client
from .conftest import HTMX

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("early_reads")]

@pytest.fixture
def view_calls(monkeypatch):
    """The paths whose session the view looked up (every answer of the session page's view does)."""
    calls = []
    original = views._participant_session

    def counting(request, session_id):
        calls.append(request.path)
        return original(request, session_id)

    monkeypatch.setattr(views, "_participant_session", counting)
    return calls


def warm(client, path: str) -> str:
    """The view answers the poll until the copy is stored and its 304 is known."""
    first = client.get(path, **HTMX)
    assert first.status_code == 200
    for _ in range(3):
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"], **HTMX).status_code == 304
    return first["ETag"]


def test_the_poll_is_answered_early_with_the_views_own_304(session, alice, view_calls,
                                                           django_assert_num_queries):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    session_reads._answered.clear()
    full = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)  # the view again, to compare with
    reached = len(view_calls)

    with django_assert_num_queries(0):
        early = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert len(view_calls) == reached
    assert early.status_code == 304 and early.content == b""
    assert comparable_headers(early) == comparable_headers(full)
    assert "HX-Request" in early["Vary"] and "Cookie" in early["Vary"]


def test_a_buddys_edit_shows_on_the_next_poll(session, alice, bob):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    services.notes_update(session_id=session.pk, user=bob, notes="Bring the blue scarf.")
    response = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200 and response["ETag"] != etag
    assert "Bring the blue scarf." in response.content.decode()


def test_a_new_notification_changes_the_panel(session, alice):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    profile = alice.profile
    profile.notifications_unread += 1
    profile.save()
    response = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200 and response["ETag"] != etag


def test_a_logged_out_browser_is_sent_to_log_in(session, alice):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    client.post("/accounts/logout/")
    response = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_new_password_signs_other_browsers_out(session, alice):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    alice.set_password("a brand new secret 456")
    alice.save()
    response = client.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_gets_the_403_page(session, alice, carol, view_calls):
    path = f"/sessions/{session.pk}/"
    etag = warm(web_client(alice), path)
    outsider = web_client(carol)
    for _ in range(3):
        assert outsider.get(path, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 403


def test_the_full_page_is_always_the_views(session, alice, view_calls):
    client = web_client(alice)
    path = f"/sessions/{session.pk}/"
    etag = warm(client, path)
    reached = len(view_calls)
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)  # no HX-Request: the whole page
    assert response.status_code == 200 and len(view_calls) == reached + 1
