"""What a screen reader hears and what moves: each change of the buddy is said once (not on every
poll), a save once; the progress chart has its figures as a table; reduced motion stops transitions."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import WingmanSession
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Everything the live region says, in order (installed after the page has loaded).
_LISTEN = """() => {
  const region = document.getElementById("announcer");
  window.__said = [];
  new MutationObserver(() => { if (region.textContent) window.__said.push(region.textContent); })
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


def test_it_says_each_change_once(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5))
    page = new_page()
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    region = page.locator("#announcer")
    assert region.get_attribute("role") == "status" and region.get_attribute("aria-live") == "polite"
    page.evaluate(_LISTEN)

    # alice's own save: "Notes saved." once, not "Unsaved changes…" or "Saving…" on the way
    page.locator("#id_notes").press_sequentially("Window seats.", delay=5)
    expect(page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    # bob checks in, then edits the notes: each reaches alice's page with a poll, and is said once
    services.session_check_in(session_id=session.pk, user=bob)
    expect(page.get_by_test_id("participant-buddy").get_by_test_id("checkin")).to_contain_text(
        "Checked in at", timeout=15_000)
    services.notes_update(session_id=session.pk, user=bob, notes="Bar stools instead.")
    expect(page.locator("#id_notes")).to_have_value("Bar stools instead.", timeout=15_000)
    page.wait_for_timeout(6_000)  # another poll: nothing changed (304), nothing said

    at = WingmanSession.objects.get(pk=session.pk).user2_checked_in_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert page.evaluate("window.__said") == [
        "Notes saved.",
        f"Status: In progress. Bob: Checked in at {at:%H:%M}.",
        "Bob changed the shared notes.",
    ]
    # the visible save state is no live region of its own (it would speak every keystroke's state)
    assert page.locator("#notes-feedback").get_attribute("aria-live") is None


def test_the_chart_has_its_figures_as_a_table(live_server, new_page, alice, bob, make_session):
    done = make_session(starts_in=-timedelta(minutes=30))
    services.session_confirm(session_id=done.pk, user=alice)
    services.session_confirm(session_id=done.pk, user=bob)
    page = new_page()
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/progress/")

    chart = page.locator("figure.chart svg")
    assert chart.get_attribute("role") == "img"
    assert chart.get_attribute("aria-details") == "chart-data"
    description = page.locator(f"#{chart.get_attribute('aria-describedby')}")
    expect(description).to_contain_text("The table of the figures follows the chart.")
    table = page.locator("#chart-data table")
    expect(table.locator("caption")).to_have_text("Sessions and reputation per week")
    expect(table).to_be_hidden()  # until asked for, with the keyboard too
    page.locator("#chart-data summary").focus()
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    assert rows.count() >= 2
    expect(rows.last.locator("td").nth(1)).to_have_text("1")  # this week's completed session
    expect(rows.last.locator("td").nth(3)).to_have_text("10")  # and alice's reputation after it


@pytest.mark.parametrize(("motion", "duration", "scrolling"), [("reduce", "0s", "auto"),
                                                               ("no-preference", "0.2s", "auto")])
def test_it_keeps_still_when_asked_to(live_server, new_page, alice, motion, duration, scrolling):
    page = new_page(reduced_motion=motion)
    log_in(page, live_server, "alice")
    shown = page.evaluate("""() => {
        const indicator = document.createElement("span");
        indicator.className = "htmx-indicator htmx-request";  // htmx's request indicator, fading in
        document.body.append(indicator);
        const page = getComputedStyle(document.documentElement);
        return [getComputedStyle(indicator).transitionDuration, page.scrollBehavior];
    }""")
    assert shown == [duration, scrolling]
