"""GET /api/notifications/, POST /api/notifications/read/, the settings endpoint, the bell and the page."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from notifications.models import Kind, Notification, Preference
from sessions_app import services
from sessions_app.models import UserProfile
from tests.conftest import api_client

LIST = "/api/notifications/"
READ = "/api/notifications/read/"
SETTINGS = "/api/me/notification-settings/"


@pytest.fixture
def bobs_inbox(schedule, alice, bob, mod):
    """bob was told of two sessions scheduled and one check-in; reminders are planned but not shown yet."""
    first = schedule()
    schedule(starts_in=timedelta(days=4))
    services.session_check_in(session_id=schedule(starts_in=timedelta(minutes=10)).pk, user=alice)
    return first


def unread(user) -> int:
    return UserProfile.objects.get(pk=user.pk).notifications_unread


def test_it_lists_the_callers_shown_notifications_newest_first(bobs_inbox, bob, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        answer = api_client(bob).get(LIST)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["count"], body["unread"]) == (4, 4)
    assert [n["kind"] for n in body["results"]] == [Kind.BUDDY_CHECKED_IN] + [Kind.SESSION_SCHEDULED] * 3
    assert all(n["read"] is False for n in body["results"])
    page = api_client(bob).get(LIST, {"limit": 1, "offset": 1}).json()
    assert [n["id"] for n in page["results"]] == [body["results"][1]["id"]]


def test_an_outsider_sees_nothing(bobs_inbox, carol):
    body = api_client(carol).get(LIST).json()
    assert (body["count"], body["unread"], body["results"]) == (0, 0, [])


def test_it_marks_some_read(bobs_inbox, bob):
    ids = [n["id"] for n in api_client(bob).get(LIST).json()["results"][:2]]
    answer = api_client(bob).post(READ, {"ids": ids}, format="json")
    assert (answer.status_code, answer.json()) == (200, {"unread": 2})
    assert set(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True)) == set(ids)
    assert unread(bob) == 2


def test_it_marks_all_read(bobs_inbox, bob):
    answer = api_client(bob).post(READ, {"all": True}, format="json")
    assert answer.json() == {"unread": 0} and unread(bob) == 0
    assert not Notification.objects.filter(recipient=bob, shown_at__isnull=False, read_at__isnull=True).exists()


def test_nobody_marks_anothers_notifications(bobs_inbox, bob, carol, unchanged):
    ids = list(Notification.objects.filter(recipient=bob).values_list("pk", flat=True))
    before = list(Notification.objects.order_by("pk").values("pk", "read_at"))
    answer = api_client(carol).post(READ, {"ids": ids}, format="json")
    assert answer.json() == {"unread": 0}
    assert list(Notification.objects.order_by("pk").values("pk", "read_at")) == before and unread(bob) == 4


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["x"]}, {"all": "maybe"}, {"ids": [0]}])
def test_a_malformed_body_is_a_problem_and_changes_nothing(bobs_inbox, bob, body, unchanged):
    before = list(Notification.objects.order_by("pk").values("pk", "read_at"))
    with unchanged():
        answer = api_client(bob).post(READ, body, format="json")
    assert answer.status_code in (400, 422) and answer["Content-Type"] == "application/problem+json"
    assert "code" in answer.json()
    assert list(Notification.objects.order_by("pk").values("pk", "read_at")) == before


def test_anonymous_callers_are_refused(bobs_inbox):
    anon = APIClient()
    assert anon.get(LIST).status_code == 401
    assert anon.post(READ, {"all": True}, format="json").status_code == 401


def test_settings_list_every_kind_and_patch_switches_channels(bob, schedule):
    body = api_client(bob).get(SETTINGS).json()
    assert {row["kind"] for row in body} == set(Kind.values) and all(r["email"] and r["in_app"] for r in body)
    answer = api_client(bob).patch(SETTINGS, [{"kind": "reminder_1h", "email": False}], format="json")
    assert answer.status_code == 200
    assert [r for r in answer.json() if r["kind"] == "reminder_1h"][0] == {
        "kind": "reminder_1h", "label": "Reminder an hour before", "email": False, "in_app": True}
    assert list(Preference.objects.values_list("user", "kind", "email", "in_app")) == [
        (bob.pk, "reminder_1h", False, True)]
    schedule()
    assert Notification.objects.get(recipient=bob, kind=Kind.REMINDER_1H).email is False


def test_settings_refuse_an_unknown_kind(bob, unchanged):
    answer = api_client(bob).patch(SETTINGS, [{"kind": "spam", "email": False}], format="json")
    assert answer.status_code in (400, 422) and answer["Content-Type"] == "application/problem+json"
    assert not Preference.objects.exists()


def test_the_bell_shows_the_unread_count_and_the_page_marks_all_read(bobs_inbox, bob, client):
    client.force_login(bob)
    page = client.get("/")
    assert b'data-testid="bell-count">4<' in page.content
    inbox = client.get("/notifications/")
    assert inbox.content.count(b'data-testid="notification"') == 4
    client.post("/notifications/")
    assert unread(bob) == 0
    assert b'data-testid="bell-count">0<' in client.get("/").content


@pytest.mark.parametrize("page", ["/", "/sessions/", "/sessions/new/", "/progress/", "/settings/",
                                  "/notifications/settings/", "session"])
def test_every_page_shows_the_bell_and_only_the_session_page_polls(page, bobs_inbox, bob, client):
    """The bell is live where the page already polls (the session page, tested below); no other page
    polls, so there the count is as fresh as the page and no request is added for it."""
    client.force_login(bob)
    url = f"/sessions/{bobs_inbox.pk}/" if page == "session" else page
    content = client.get(url).content.decode()
    assert 'data-testid="bell-count">4<' in content
    assert ('hx-trigger="every' in content) == (page == "session")


def test_the_settings_page_saves_every_switch(bob, client):
    client.force_login(bob)
    page = client.get("/notifications/settings/")
    assert page.status_code == 200 and b'name="reminder_1h:email"' in page.content
    boxes = {f"{kind}:{channel}": "on" for kind in Kind.values for channel in ("email", "in_app")}
    del boxes["reminder_24h:email"]
    answer = client.post("/notifications/settings/", boxes)
    assert answer.status_code == 302
    off = list(Preference.objects.filter(email=False).values_list("user", "kind"))
    assert off == [(bob.pk, "reminder_24h")] and not Preference.objects.filter(in_app=False).exists()
    shown = client.get("/notifications/settings/").content.decode()
    assert 'aria-label="Reminder a day before by e-mail" >' in shown  # unticked
    assert 'aria-label="Reminder an hour before by e-mail" checked>' in shown


def test_the_settings_page_needs_a_login(client, unchanged):
    with unchanged():
        answer = client.post("/notifications/settings/", {})
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    assert not Preference.objects.exists()


def test_the_session_poll_brings_the_bell_and_its_etag_moves_with_the_count(session, bob, client,
                                                                          django_assert_max_num_queries):
    client.force_login(bob)
    htmx = {"HTTP_HX_REQUEST": "true"}
    first = client.get(f"/sessions/{session.pk}/", **htmx)
    assert 'id="bell"' in first.content.decode() and 'hx-swap-oob="true"' in first.content.decode()
    assert 'data-testid="bell-count">0<' in first.content.decode()
    with django_assert_max_num_queries(3):
        unchanged = client.get(f"/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=first["ETag"], **htmx)
    assert unchanged.status_code == 304
    from notifications import services as notify

    # Something new for bob while the session itself stays as it is.
    notify.notify_reschedule_proposed(session=session, actor=session.user1, proposed_time=session.scheduled_time)
    moved = client.get(f"/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=first["ETag"], **htmx)
    assert moved.status_code == 200 and moved["ETag"] != first["ETag"]
    assert 'data-testid="bell-count">1<' in moved.content.decode()
