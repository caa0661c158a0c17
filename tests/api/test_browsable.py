"""The browsable API: every GET that answers JSON also renders as an HTML page
for a logged-in browser (issue 8, defect 1: lists answered 500)."""

import pytest
from django.test import Client

from sessions_app import services


@pytest.fixture
def browser(alice):
    client = Client()
    client.force_login(alice)
    return client


def html_page(client, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.parametrize("path, shows", [
    ("/api/sessions/", lambda s, m: [str(s.pk), "The Blue Door"]),
    ("/api/sessions/current/", lambda s, m: [str(s.pk), "Bring cards"]),
    ("/api/sessions/{session}/", lambda s, m: [str(s.pk), "Bring cards"]),
    ("/api/session/{session}", lambda s, m: [str(s.pk), "Bring cards"]),
    ("/api/sessions/{session}/events/", lambda s, m: ["notes_updated"]),
    ("/api/matches/", lambda s, m: [str(m.pk)]),
    ("/api/matches/{match}/", lambda s, m: [str(m.pk)]),
    ("/api/challenges/", lambda s, m: ["Ask for a recommendation", "Start a group conversation"]),
    ("/api/me/", lambda s, m: ["Alice", "Europe/Berlin"]),
    ("/api/me/stats/", lambda s, m: ["total_sessions"]),
])
def test_it_renders_every_get_in_the_browser(browser, alice, session, match, path, shows):
    services.notes_update(session_id=session.pk, user=alice, notes="Bring cards")
    page = html_page(browser, path.format(session=session.pk, match=match.pk))
    for text in shows(session, match):
        assert text in page, (path, text)


def test_it_scopes_the_browsable_lists_to_the_caller(carol, session, match):
    client = Client()
    client.force_login(carol)
    for path in ("/api/sessions/", "/api/matches/"):
        page = html_page(client, path)
        assert str(session.pk) not in page and str(match.pk) not in page
        assert "&quot;count&quot;: 0" in page or '"count": 0' in page


def test_it_answers_problems_in_the_browser_for_an_outsider(carol, session):
    client = Client()
    client.force_login(carol)
    for path in (f"/api/sessions/{session.pk}/", f"/api/sessions/{session.pk}/events/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 403
        assert str(session.pk) not in response.content.decode().replace(path, "")
