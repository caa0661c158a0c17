"""The session page with the keyboard alone: log in, check in, write and save notes, confirm the buddy.

Only page.keyboard (Tab, Shift+Tab, Enter, Space, typing). Every stop of the Tab key must show a focus
ring, and after each HTMX swap focus must land on the next thing to do (else the panel's heading),
never be dropped on <body>.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import WingmanSession
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 60

_FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, action: el.dataset.action || "",
    text: (el.textContent || el.value || "").trim().slice(0, 60),
    ring: el.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(_FOCUSED)


def assert_ring(page) -> dict:
    now = focused(page)
    assert now["tag"] != "body", "focus was dropped on <body>"
    assert now["ring"], f"no visible focus ring on {now}"
    return now


def tab_to(page, selector: str, *, backwards: bool = False) -> list[dict]:
    """Press Tab (or Shift+Tab) until `selector` has focus; every stop on the way shows its ring."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        stops.append(assert_ring(page))
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return stops
    raise AssertionError(f"{selector} never took focus; the stops were {stops}")


def test_it_can_be_used_with_the_keyboard_alone(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5), venue_name="Café Luna")
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")

    # the login form: the username field has focus; type, Tab, type, Enter
    assert focused(page)["id"] == "id_username"
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # the first Tab stop is the skip link, shown when focused
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.keyboard.press("Tab")
    assert assert_ring(page)["text"] == "Skip to the content"
    expect(page.locator(".skip-link")).to_be_in_viewport()

    # check in: Enter on the button; the panel is swapped and focus goes to the next thing to do
    tab_to(page, "button[data-action=check-in]")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("status")).to_have_text("In progress")
    expect(page.locator("button[data-action=confirm]")).to_be_focused()
    assert_ring(page)
    expect(page.locator("#announcer")).to_contain_text("You checked in.")
    assert WingmanSession.objects.get(pk=session.pk).user1_checked_in_at is not None

    # notes: type, the autosave says Saved; then Space on "Save notes" saves again, focus stays put
    tab_to(page, "#id_notes")
    page.keyboard.type("Corner table.")
    expect(page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    expect(page.locator("#announcer")).to_have_text("Notes saved.")
    page.keyboard.type(" Bob joins later.")
    tab_to(page, "#notes-form button[type=submit]")
    page.keyboard.press("Space")
    expect(page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    expect(page.locator("#notes-form button[type=submit]")).to_be_focused()
    assert WingmanSession.objects.get(pk=session.pk).notes == "Corner table. Bob joins later."

    # confirm the buddy: back up with Shift+Tab, Enter; nothing is left to do, so the heading takes focus
    tab_to(page, "button[data-action=confirm]", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("participant-buddy").get_by_test_id("confirmed")).to_contain_text(
        "Completion confirmed by Alice")
    expect(page.locator("#session-panel h1")).to_be_focused()
    assert_ring(page)
    assert WingmanSession.objects.get(pk=session.pk).user2_completed_confirmed_by_user1

    # bob confirms too: the poll brings Completed, says so, and focus stays on the heading
    services.session_confirm(session_id=session.pk, user=bob)
    expect(page.get_by_test_id("status")).to_have_text("Completed", timeout=15_000)
    expect(page.locator("#announcer")).to_contain_text("Status: Completed.")
    expect(page.locator("#session-panel h1")).to_be_focused()


def test_a_poll_keeps_focus_and_what_was_typed(live_server, new_page, alice, bob, make_session):
    """The buddy's change swaps the panel while the viewer is typing a cancellation reason: the fold stays
    open, the field keeps its text and the focus, and the viewer goes on typing."""
    session = make_session(starts_in=timedelta(days=2))
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.evaluate("window.__notReloaded = true")

    tab_to(page, "[data-testid=cancel-fold] > summary")
    page.keyboard.press("Enter")  # opens the fold with the cancel form
    tab_to(page, "[data-testid=cancel-fold] input[name=reason]")
    page.keyboard.type("Rain all")
    services.session_reschedule_propose(session_id=session.pk, user=bob,
                                        scheduled_time=session.scheduled_time + timedelta(days=1))
    expect(page.get_by_test_id("reschedule-proposal")).to_contain_text("proposes", timeout=15_000)
    expect(page.locator("#announcer")).to_contain_text("proposes")
    reason = page.locator("[data-testid=cancel-fold] input[name=reason]")
    expect(reason).to_be_focused()  # the fold is still open, the field still has focus and its text
    page.keyboard.type(" evening")
    expect(reason).to_have_value("Rain all evening")
    assert page.evaluate("window.__notReloaded") is True
