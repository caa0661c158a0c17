"""The active session page in a real browser: two participants, live updates, notes, both confirm."""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from sessions_app.models import UserProfile, WingmanSession
from tests.browser.conftest import ARTIFACTS, PHONE, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_UPDATE = 15_000  # the buddy's changes must show within 15 s, without a reload
NOTES = "Meet by the window seats.\nAlice opens with the menu question; Bob joins the group at the bar."


def buddy_card(page):
    return page.get_by_test_id("participant-buddy")


def me_card(page):
    return page.get_by_test_id("participant-me")


@pytest.mark.slow
def test_it_shows_the_buddys_changes_live_and_completes(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5), venue_name="Café Luna")
    url = f"{live_server.url}/sessions/{session.pk}/"
    started = time.monotonic()

    alice_page, bob_page = new_page(), new_page()
    log_in(alice_page, live_server, "alice")
    log_in(bob_page, live_server, "bob")
    bob_page.goto(url)
    bob_page.evaluate("window.__notReloaded = true")
    alice_page.goto(url)
    expect(alice_page.get_by_test_id("status")).to_have_text("Scheduled")

    # alice checks in (HTMX swaps the panel in place)
    alice_page.click("button[data-action=check-in]")
    expect(me_card(alice_page).get_by_test_id("checkin")).to_contain_text("Checked in at")
    expect(alice_page.get_by_test_id("status")).to_have_text("In progress")

    # alice writes notes; they autosave about a second after she stops typing
    alice_page.locator("#id_notes").press_sequentially(NOTES, delay=5)
    expect(alice_page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    assert WingmanSession.objects.get(pk=session.pk).notes == NOTES

    # bob sees both without reloading
    expect(buddy_card(bob_page).get_by_test_id("checkin")).to_contain_text("Checked in at", timeout=LIVE_UPDATE)
    expect(bob_page.get_by_test_id("status")).to_have_text("In progress", timeout=LIVE_UPDATE)
    expect(bob_page.locator("#id_notes")).to_have_value(NOTES, timeout=LIVE_UPDATE)
    assert bob_page.evaluate("window.__notReloaded") is True

    # (the README's picture comes from the demo: docs/screenshot.py)
    screenshot(alice_page, "desktop-active-session-alice")
    screenshot(bob_page, "desktop-active-session-bob")

    # both confirm
    alice_page.click("button[data-action=confirm]")
    expect(buddy_card(alice_page).get_by_test_id("confirmed")).to_contain_text("Completion confirmed by Alice")
    bob_page.click("button[data-action=confirm]")
    expect(bob_page.get_by_test_id("status")).to_have_text("Completed")
    expect(bob_page.get_by_test_id("reputation")).to_have_text("25")

    # alice's page follows on its own, with her new reputation
    expect(alice_page.get_by_test_id("status")).to_have_text("Completed", timeout=LIVE_UPDATE)
    expect(alice_page.get_by_test_id("reputation")).to_have_text("10")
    assert bob_page.evaluate("window.__notReloaded") is True
    screenshot(alice_page, "desktop-completed-alice")

    session.refresh_from_db()
    assert session.status == "completed"
    assert UserProfile.objects.get(user=alice).reputation == 10
    assert UserProfile.objects.get(user=bob).reputation == 25
    print(f"\nlive flow took {time.monotonic() - started:.1f} s")


def test_it_works_with_javascript_off(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5), venue_name="The Blue Door")
    url = f"{live_server.url}/sessions/{session.pk}/"
    alice_page = new_page(java_script_enabled=False)
    bob_page = new_page(java_script_enabled=False)
    log_in(alice_page, live_server, "alice")
    log_in(bob_page, live_server, "bob")

    alice_page.goto(url)
    alice_page.click("button[data-action=check-in]")
    expect(alice_page.locator(".messages")).to_contain_text("You checked in.")
    expect(me_card(alice_page).get_by_test_id("checkin")).to_contain_text("Checked in at")

    alice_page.fill("#id_notes", "Plain form post, no JavaScript.")
    alice_page.click("#notes-form button[type=submit]")
    expect(alice_page.locator(".messages")).to_contain_text("Notes saved.")
    assert WingmanSession.objects.get(pk=session.pk).notes == "Plain form post, no JavaScript."

    bob_page.goto(url)
    expect(bob_page.locator("#id_notes")).to_have_value("Plain form post, no JavaScript.")
    expect(buddy_card(bob_page).get_by_test_id("checkin")).to_contain_text("Checked in at")
    bob_page.click("button[data-action=confirm]")
    expect(bob_page.locator(".messages")).to_contain_text("You confirmed your buddy's challenge.")

    alice_page.click("text=Refresh")
    alice_page.click("button[data-action=confirm]")
    expect(alice_page.locator(".messages")).to_contain_text("Session completed. You earned +10 reputation.")
    expect(alice_page.get_by_test_id("status")).to_have_text("Completed")
    expect(alice_page.get_by_test_id("reputation")).to_have_text("10")
    screenshot(alice_page, "nojs-completed-alice")
    assert WingmanSession.objects.get(pk=session.pk).status == "completed"


def test_it_fits_a_phone(live_server, new_page, alice, make_session):
    session = make_session(starts_in=-timedelta(minutes=5), venue_name="A venue with a rather long name, by the river")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, live_server, "alice")
    screenshot(page, "phone-dashboard")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.click("button[data-action=check-in]")
    expect(me_card(page).get_by_test_id("checkin")).to_contain_text("Checked in at")
    page.locator("#id_notes").press_sequentially("On the phone.", delay=5)
    expect(page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} px"
    box = page.locator("button[data-action=confirm]").bounding_box()
    assert box["width"] > 300 and box["height"] >= 44  # full-width, thumb-sized buttons
    screenshot(page, "phone-active-session")
    for path in ("/sessions/", "/progress/", "/sessions/new/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        screenshot(page, "phone-" + path.strip("/").replace("/", "-"))
    assert (ARTIFACTS / "phone-active-session.png").exists()
