"""Reschedule and dispute between two browser contexts: alice proposes a new time in her zone, bob sees it
without reloading and accepts with one click; alice cancels, bob disputes, alice sees the dispute live."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import Dispute, WingmanSession
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_UPDATE = 15_000


@pytest.mark.slow
def test_two_participants_reschedule_then_dispute(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=timedelta(days=2), venue_name="Café Luna")
    url = f"{live_server.url}/sessions/{session.pk}/"
    alice_page, bob_page = new_page(), new_page()
    log_in(alice_page, live_server, "alice")
    log_in(bob_page, live_server, "bob")
    bob_page.goto(url)
    bob_page.evaluate("window.__notReloaded = true")
    alice_page.goto(url)

    # alice proposes three days ahead, 19:30 on her wall clock (Europe/Berlin)
    wanted = (timezone.now() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Berlin")).replace(
        hour=19, minute=30, second=0, microsecond=0)
    alice_page.fill("#id_scheduled_time", wanted.strftime("%Y-%m-%dT%H:%M"))
    alice_page.fill("input[name=venue_name]", "Green Park Kiosk")
    alice_page.click("button[data-action=reschedule]")
    expect(alice_page.get_by_test_id("reschedule-proposal")).to_contain_text("You proposed")

    # bob sees it live, in his zone (America/New_York), and accepts with one click
    proposal = bob_page.get_by_test_id("reschedule-proposal")
    expect(proposal).to_contain_text("Alice proposes", timeout=LIVE_UPDATE)
    expect(proposal).to_contain_text(wanted.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M"))
    expect(proposal).to_contain_text("Green Park Kiosk")
    bob_page.click("button[data-action=reschedule-accept]")
    expect(bob_page.locator("h1.venue")).to_have_text("Green Park Kiosk")
    row = WingmanSession.objects.get(pk=session.pk)
    assert (row.scheduled_time, row.venue_name) == (wanted, "Green Park Kiosk")
    expect(alice_page.locator("h1.venue")).to_have_text("Green Park Kiosk", timeout=LIVE_UPDATE)

    # alice cancels; bob disputes the outcome from his page
    alice_page.get_by_test_id("cancel-fold").locator("summary").click()  # cancelling unfolds on demand
    alice_page.fill("input[name=reason]", "Something came up")
    alice_page.click("button[data-action=cancel]")
    expect(alice_page.get_by_test_id("status")).to_have_text("Cancelled")
    expect(bob_page.get_by_test_id("status")).to_have_text("Cancelled", timeout=LIVE_UPDATE)
    bob_page.get_by_test_id("dispute").locator("input[name=reason]").fill("Third cancellation in a row")
    bob_page.click("button[data-action=dispute]")
    expect(bob_page.get_by_test_id("dispute-state")).to_contain_text("You disputed this outcome")
    assert Dispute.objects.get().reason == "Third cancellation in a row"
    expect(alice_page.get_by_test_id("dispute-state")).to_contain_text("Bob disputed this outcome",
                                                                       timeout=LIVE_UPDATE)
    assert bob_page.evaluate("window.__notReloaded") is True
