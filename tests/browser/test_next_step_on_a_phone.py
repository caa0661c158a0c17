"""On a 375 × 812 phone the session page's next step is on the first screen, without scrolling, in each
state a session passes through; after an HTMX action the new step is there too, and the old banner gone."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app import services
from tests.browser.conftest import PHONE, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone(new_page, live_server, username="alice"):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, live_server, username)
    return page


def assert_on_first_screen(page, locator) -> None:
    """Wholly inside the viewport with the page scrolled to the top."""
    expect(locator).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    box = locator.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (box, PHONE)
    assert box["width"] > 250  # a thumb-sized, full-width button, not a link in a corner


def primary(page):
    return page.locator("[data-testid=next-step] .btn.primary")


def states(make_session, alice, bob) -> list:
    """(name, make the session as alice will see it, her expected primary action or None for a wait said in
    words), made one after the other: once alice runs a session, she cannot check in to another."""

    def running():
        s = make_session(starts_in=-timedelta(minutes=5), venue_name="The Blue Door")
        services.session_check_in(session_id=s.pk, user=alice)
        return s

    def awaiting():
        s = make_session(starts_in=-timedelta(minutes=30), venue_name="Harbour Pub")
        services.session_confirm(session_id=s.pk, user=bob)  # bob confirmed alice: hers to confirm now
        return s

    def moved():
        s = make_session(starts_in=timedelta(days=2), venue_name="Green Park Kiosk")
        services.session_reschedule_propose(session_id=s.pk, user=bob,
                                            scheduled_time=timezone.now() + timedelta(days=3))
        return s

    return [
        ("before-check-in", lambda: make_session(starts_in=timedelta(hours=3),
                                                 venue_name="A venue with a rather long name, by the river"), None),
        ("check-in-open", lambda: make_session(starts_in=timedelta(minutes=12), venue_name="Café Luna"), "check-in"),
        ("in-progress", running, "confirm"),
        ("awaiting-your-confirmation", awaiting, "confirm"),
        ("reschedule-from-buddy", moved, "reschedule-accept"),
    ]


def test_the_next_step_is_on_the_first_screen_in_each_state(live_server, new_page, alice, bob, make_session):
    page = phone(new_page, live_server)
    for name, make, action in states(make_session, alice, bob):
        session = make()
        page.goto(f"{live_server.url}/sessions/{session.pk}/")
        assert_on_first_screen(page, page.get_by_test_id("next-step").locator("h2"))
        if action is None:
            prompt = page.get_by_test_id("next-prompt")
            expect(prompt).to_contain_text("Check-in opens at")
            box = prompt.bounding_box()
            assert box["y"] + box["height"] <= PHONE["height"], name
            expect(primary(page)).to_have_count(0)
        else:
            expect(page.locator(".btn.primary")).to_have_count(1)  # one primary action on the page
            expect(primary(page)).to_have_attribute("data-action", action)
            assert_on_first_screen(page, primary(page))
        # what cannot be done is folded away, its reasons one click off
        others = page.get_by_test_id("other-actions")
        expect(others.locator("ul")).to_be_hidden()
        others.locator("summary").click()
        expect(others.locator("li").first).to_be_visible()
        expect(page.locator("#session-panel button[disabled]")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        screenshot(page, f"phone-next-step-{name}")


def test_after_an_action_the_new_step_is_on_the_first_screen(live_server, new_page, alice, match,
                                                            easy_challenge, hard_challenge):
    page = phone(new_page, live_server)
    page.goto(f"{live_server.url}/sessions/new/")
    soon = (timezone.now() + timedelta(minutes=20)).astimezone(ZoneInfo("Europe/Berlin"))
    page.fill("#id_venue_name", "Café Luna")
    page.fill("#id_scheduled_time", soon.strftime("%Y-%m-%dT%H:%M"))
    page.click("button[type=submit]")
    expect(page.locator("#messages")).to_contain_text("Session scheduled.")
    expect(page).to_have_title(f"Session with Bob · {soon:%a} {soon.day} {soon:%b %H:%M} — WingmanMatch")
    expect(page.get_by_test_id("crumb-current")).to_have_text(f"Café Luna, {soon:%a} {soon.day} {soon:%b}")
    assert_on_first_screen(page, primary(page))
    page.evaluate("window.__notReloaded = true")

    primary(page).click()  # check in: HTMX swaps the panel
    expect(page.locator("#session-panel .msg")).to_have_text("You checked in.")
    expect(page.locator("#messages")).to_be_empty()  # the scheduling banner went with the action
    expect(page.get_by_test_id("status")).to_have_text("In progress")
    expect(page.get_by_test_id("clock")).to_contain_text("started")
    expect(primary(page)).to_have_attribute("data-action", "confirm")
    page.evaluate("window.scrollTo(0, 0)")
    assert_on_first_screen(page, primary(page))
    assert page.evaluate("window.__notReloaded") is True
