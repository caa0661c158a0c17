"""Notes in a real browser: both editing at once, a failed save, and the quiet poll (304)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import WingmanSession
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_both_texts_when_the_buddy_saved_first(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5))
    url = f"{live_server.url}/sessions/{session.pk}/"
    page = new_page()
    log_in(page, live_server, "alice")
    page.goto(url)
    # alice types; her autosave is held on the way, and bob's save gets in first
    held = []
    page.route("**/notes/", lambda route: held.append(route))
    page.locator("#id_notes").press_sequentially("Alice: corner table", delay=5)
    page.locator("#id_notes").press("Enter")
    page.locator("#id_notes").press_sequentially("by the window", delay=5)
    expect(page.locator("#notes-feedback")).to_have_text("Saving…")
    services.notes_update(session_id=session.pk, user=bob, notes="Bob: bar stools")
    page.wait_for_timeout(6_000)  # a poll brings bob's version; alice's unsaved text must stay
    expect(page.locator("#id_notes")).to_have_value("Alice: corner table\nby the window")
    held[0].continue_()
    page.unroute("**/notes/")

    conflict = page.locator("#notes-feedback .conflict")
    expect(conflict).to_contain_text("Bob changed the notes while you were writing.")
    expect(conflict.get_by_test_id("theirs")).to_have_text("Bob: bar stools")
    expect(conflict.get_by_test_id("yours")).to_have_text("Alice: corner table\nby the window")
    screenshot(page, "desktop-notes-conflict")
    assert WingmanSession.objects.get(pk=session.pk).notes == "Bob: bar stools"

    conflict.get_by_role("button", name="Keep mine").click()
    expect(page.locator("#notes-feedback")).to_have_text("Saved")
    assert WingmanSession.objects.get(pk=session.pk).notes == "Alice: corner table\nby the window"

    # her editor is clean again, so bob's next edit flows in by itself
    services.notes_update(session_id=session.pk, user=bob, notes="Bob: corner table it is")
    expect(page.locator("#id_notes")).to_have_value("Bob: corner table it is", timeout=15_000)


def test_it_can_take_the_buddys_text(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5))
    page = new_page()
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    held = []
    page.route("**/notes/", lambda route: held.append(route))
    page.locator("#id_notes").press_sequentially("mine", delay=5)
    expect(page.locator("#notes-feedback")).to_have_text("Saving…")
    services.notes_update(session_id=session.pk, user=bob, notes="theirs")
    held[0].continue_()
    page.unroute("**/notes/")
    page.locator("#notes-feedback").get_by_role("button", name="Use theirs").click()
    expect(page.locator("#notes-feedback")).to_have_text("Saved")
    expect(page.locator("#id_notes")).to_have_value("theirs")
    # the editor is clean again, so the buddy's next edit flows in by itself
    services.notes_update(session_id=session.pk, user=bob, notes="theirs, later")
    expect(page.locator("#id_notes")).to_have_value("theirs, later", timeout=15_000)


def test_it_says_when_saving_failed(live_server, new_page, alice, make_session):
    session = make_session(starts_in=-timedelta(minutes=5))
    page = new_page()
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.route("**/notes/", lambda route: route.abort())
    page.locator("#id_notes").press_sequentially("lost in the tunnel", delay=5)
    expect(page.locator("#notes-feedback")).to_contain_text("Failed to save", timeout=5_000)
    assert WingmanSession.objects.get(pk=session.pk).notes == ""
    page.unroute("**/notes/")
    page.click("#notes-form button[type=submit]")
    expect(page.locator("#notes-feedback")).to_have_text("Saved")
    assert WingmanSession.objects.get(pk=session.pk).notes == "lost in the tunnel"


def test_it_polls_quietly_with_304_and_ticks_the_countdown(live_server, new_page, alice, make_session):
    session = make_session(starts_in=timedelta(minutes=45))
    page = new_page()
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith(f"/sessions/{session.pk}/")
            and r.request.headers.get("hx-request") else None)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    first = page.locator("[data-countdown]").text_content()
    page.wait_for_timeout(6_500)  # one poll at 5 s
    assert page.locator("[data-countdown]").text_content() != first
    assert statuses and set(statuses) == {304}, statuses
