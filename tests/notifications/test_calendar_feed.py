"""/calendar/{token}.ics: no login, the token stored hashed, rotation retires the old URL, ETag."""

from datetime import timedelta

from icalendar import Calendar

from notifications.models import CalendarToken
from sessions_app import services
from tests.conftest import api_client

ROTATE = "/api/me/calendar-token/"


def test_it_serves_the_users_sessions_from_30_days_back_without_login(make_session, alice, bob, client, mod):
    recent = make_session(starts_in=-timedelta(days=29))
    make_session(starts_in=-timedelta(days=31))  # too old for the feed
    upcoming = make_session(starts_in=timedelta(days=2))
    services.session_cancel_by_moderator(session_id=upcoming.pk, moderator=mod, reason="Venue closed")
    answer = api_client(alice).post(ROTATE)
    assert answer.status_code == 201
    url, token = answer.json()["url"], answer.json()["token"]
    assert len(token) >= 40 and url.endswith(f"/calendar/{token}.ics")
    assert CalendarToken.objects.get(user=alice).digest != token  # only the hash is kept
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert set(events) == {f"session-{recent.pk}@sessions.wingmanmatch", f"session-{upcoming.pk}@sessions.wingmanmatch"}
    assert str(events[f"session-{upcoming.pk}@sessions.wingmanmatch"]["STATUS"]) == "CANCELLED"
    again = client.get(f"/calendar/{token}.ics", HTTP_IF_NONE_MATCH=feed["ETag"])
    assert again.status_code == 304
    services.session_complete_by_moderator(session_id=recent.pk, moderator=mod)
    changed = client.get(f"/calendar/{token}.ics", HTTP_IF_NONE_MATCH=feed["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != feed["ETag"]


def test_a_rotated_token_retires_the_old_url(session, alice, client):
    old = api_client(alice).post(ROTATE).json()["token"]
    new = api_client(alice).post(ROTATE).json()["token"]
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert CalendarToken.objects.count() == 1


def test_an_unknown_token_is_404_and_changes_nothing(client, alice, unchanged):
    with unchanged():
        assert client.get("/calendar/not-a-real-token-at-all.ics").status_code == 404
    assert not CalendarToken.objects.exists()
