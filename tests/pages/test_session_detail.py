from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from sessions_app import services
from sessions_app.cache import session_cache_key
from tests.pages.conftest import HTMX


def url(session):
    return f"/sessions/{session.pk}/"


def test_it_shows_the_session_to_a_participant(alice_web, session, django_assert_max_num_queries):
    cache.delete(session_cache_key(session.pk))
    with django_assert_max_num_queries(5):
        response = alice_web.get(url(session))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The Blue Door" in html
    assert "Ask for a recommendation" in html and "Start a group conversation" in html
    assert "Alice <span class=\"muted\">(you)</span>" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in html
    assert response["Cache-Control"] == "private, no-cache"
    assert "HX-Request" in response["Vary"]


def test_it_reads_a_cached_session_with_fewer_queries(alice_web, session, django_assert_max_num_queries):
    alice_web.get(url(session))
    with django_assert_max_num_queries(4):
        assert alice_web.get(url(session)).status_code == 200


def test_it_shows_the_time_in_the_viewers_time_zone(alice_web, bob_web, make_session):
    s = make_session(starts_in=timedelta(days=3))
    for client, zone in ((alice_web, "Europe/Berlin"), (bob_web, "America/New_York")):
        local = s.scheduled_time.astimezone(ZoneInfo(zone))
        html = client.get(url(s)).content.decode()
        assert local.strftime("%H:%M") in html
        assert f'datetime="{local.isoformat()}"' in html


def test_it_gives_refused_actions_with_the_reason(alice_web, session):
    html = alice_web.get(url(session)).content.decode()
    assert 'data-action="check-in"' not in html  # no disabled button: a line under "Other actions"
    assert "Check-in opens 30 minutes before the scheduled time." in html
    assert 'data-action="cancel">' in html  # cancelling is allowed


def test_it_escapes_venue_and_notes(alice_web, make_session):
    s = make_session(venue_name="<script>alert(1)</script>", notes="<img src=x onerror=alert(2)>")
    html = alice_web.get(url(s)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_it_refuses_an_outsider_with_the_403_page(carol_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = carol_web.get(url(session))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can't open this" in html
    for secret in ("The Blue Door", "Ask for a recommendation", "Alice", "Bob", "Europe/Berlin"):
        assert secret not in html


def test_it_refuses_an_outsiders_fragment_and_poll(carol_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert carol_web.get(url(session), **HTMX).status_code == 403
    response = carol_web.get(url(session), HTTP_IF_NONE_MATCH="*", **HTMX)
    assert response.status_code == 403
    assert "ETag" not in response


def test_it_shows_the_404_page_for_an_unknown_session(alice_web, db, settings):
    settings.DEBUG = False
    response = alice_web.get("/sessions/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_it_answers_htmx_with_the_panel_only(alice_web, session, django_assert_max_num_queries):
    alice_web.get(url(session))
    with django_assert_max_num_queries(4):
        response = alice_web.get(url(session), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="session-panel"')
    assert "<html" not in html and 'id="notes-form"' not in html
    assert response["ETag"].startswith('"p1-')


def test_it_answers_an_unchanged_poll_with_304(alice_web, session, django_assert_max_num_queries):
    etag = alice_web.get(url(session), **HTMX)["ETag"]
    with django_assert_max_num_queries(2):
        response = alice_web.get(url(session), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_it_answers_a_poll_with_the_buddys_change(alice_web, bob, make_session):
    s = make_session(starts_in=timedelta(minutes=10))
    etag = alice_web.get(url(s), **HTMX)["ETag"]
    services.session_check_in(session_id=s.pk, user=bob)
    response = alice_web.get(url(s), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert response["ETag"] != etag
    html = response.content.decode()
    assert "Checked in at" in html and "In progress" in html


def test_it_changes_the_etag_when_an_action_opens(alice_web, make_session):
    s = make_session(starts_in=timedelta(minutes=40))
    before = alice_web.get(url(s), **HTMX)["ETag"]
    s.scheduled_time -= timedelta(minutes=15)  # check-in is now open, with no write through a service
    s.save(update_fields=["scheduled_time"])
    cache.delete(session_cache_key(s.pk))
    assert alice_web.get(url(s), **HTMX)["ETag"] != before


def test_it_never_answers_304_to_the_full_page(alice_web, session):
    etag = alice_web.get(url(session), **HTMX)["ETag"]
    response = alice_web.get(url(session), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "ETag" not in response  # the page and its panel are different representations


def test_it_shows_completion_and_the_new_reputation(alice_web, alice, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    html = alice_web.get(url(due_session)).content.decode()
    assert 'data-testid="status">Completed' in html
    assert '<strong data-testid="reputation">10</strong>' in html
    assert "nothing can change any more" in html
    assert "readonly" in html  # the notes can no longer be edited


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_refuses_other_methods_on_the_page(alice_web, session, method, unchanged):
    with unchanged():
        assert getattr(alice_web, method)(url(session)).status_code == 405


def test_it_shows_the_timeline(alice_web, alice, bob, due_session):
    services.session_check_in(session_id=due_session.pk, user=alice)
    for text in ("a", "ab", "abc"):
        services.notes_update(session_id=due_session.pk, user=bob, notes=text)
    html = alice_web.get(url(due_session)).content.decode()
    assert "<strong>Alice</strong> checked in" in html
    assert "<strong>Alice</strong> started" in html
    assert "<strong>Bob</strong> notes updated ×3" in html
