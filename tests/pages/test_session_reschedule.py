"""The reschedule card on the session page: propose in the viewer's zone, answer with one click, no JS needed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from sessions_app.models import WingmanSession

from .conftest import HTMX


def _local(hours: int, zone: str) -> tuple[str, datetime]:
    """A wall-clock time string as the datetime-local picker sends it, and the instant it means in ``zone``."""
    local = (timezone.now() + timedelta(hours=hours)).astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    return local.strftime("%Y-%m-%dT%H:%M"), local


def test_it_proposes_in_the_viewers_time_zone_without_javascript(alice_web, session):
    picked, meant = _local(30, "Europe/Berlin")  # alice's zone
    response = alice_web.post(f"/sessions/{session.pk}/reschedule/", {"scheduled_time": picked,
                                                                         "venue_name": "Green Park"})
    assert response.status_code == 302
    row = WingmanSession.objects.get()
    assert row.reschedule_time == meant
    assert row.reschedule_venue_name == "Green Park"
    page = alice_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "You proposed" in page and "Withdraw your proposal" in page


def test_the_buddy_sees_it_in_the_polled_panel_and_accepts_with_one_click(alice_web, bob_web, session):
    picked, meant = _local(30, "Europe/Berlin")
    alice_web.post(f"/sessions/{session.pk}/reschedule/", {"scheduled_time": picked})
    panel = bob_web.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    assert "Alice proposes" in panel and "Accept the new time" in panel
    assert meant.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") in panel  # bob's zone
    answered = bob_web.post(f"/sessions/{session.pk}/reschedule-accept/", **HTMX)
    assert answered.status_code == 200
    assert "the session has moved" in answered.content.decode()
    assert WingmanSession.objects.get().scheduled_time == meant


def test_a_refused_proposal_shows_a_message_and_changes_nothing(alice_web, session, unchanged):
    with unchanged():
        response = alice_web.post(f"/sessions/{session.pk}/reschedule/", {"scheduled_time": "not a time"},
                                     **HTMX)
    assert response.status_code == 200
    assert "Enter a valid date/time" in response.content.decode()
    with unchanged():
        response = alice_web.post(f"/sessions/{session.pk}/reschedule/",
                                     {"scheduled_time": _local(-3, "Europe/Berlin")[0]}, follow=True)
    assert "The scheduled time must be in the future." in response.content.decode()


def test_the_buddy_declines(alice_web, bob_web, session):
    alice_web.post(f"/sessions/{session.pk}/reschedule/", {"scheduled_time": _local(30, "Europe/Berlin")[0]})
    response = bob_web.post(f"/sessions/{session.pk}/reschedule-decline/", follow=True)
    assert "off the table" in response.content.decode()
    assert WingmanSession.objects.get().reschedule_proposed_by_id is None


def test_outsiders_get_the_403_page(carol_web, session, unchanged):
    with unchanged():
        response = carol_web.post(f"/sessions/{session.pk}/reschedule/",
                                     {"scheduled_time": _local(30, "UTC")[0]})
    assert response.status_code == 403
