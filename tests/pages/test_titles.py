"""Page titles name the page (and, on the session page, the session) before the product's name."""

import re
from zoneinfo import ZoneInfo

import pytest


def title(client, path: str) -> str:
    return re.search(r"<title>(.*?)</title>", client.get(path).content.decode(), re.S).group(1)


def test_the_session_page_names_the_buddy_and_the_time_in_the_viewers_zone(alice_web, bob_web, session):
    for client, zone, buddy in ((alice_web, "Europe/Berlin", "Bob"), (bob_web, "America/New_York", "Alice")):
        local = session.scheduled_time.astimezone(ZoneInfo(zone))
        expected = f"Session with {buddy} · {local:%a} {local.day} {local:%b %H:%M} — WingmanMatch"
        assert title(client, f"/sessions/{session.pk}/") == expected


@pytest.mark.parametrize(("path", "name"), [
    ("/", "Dashboard"), ("/sessions/", "History"), ("/sessions/new/", "Schedule a session"),
    ("/progress/", "Progress"), ("/settings/", "Settings"), ("/notifications/", "Notifications"),
])
def test_each_page_names_itself(alice_web, path, name):
    assert title(alice_web, path) == f"{name} — WingmanMatch"


def test_the_login_page_names_itself(client, db):
    assert title(client, "/accounts/login/") == "Log in — WingmanMatch"


def test_the_settings_page_shows_the_close_account_form_in_the_page(alice_web):
    html = alice_web.get("/settings/").content.decode()
    head, body = html.split("</head>", 1)
    assert "Close your account" not in head
    assert 'data-action="close-account"' in body
