"""Every kind of page under the Content-Security-Policy in a real browser: the product's
pages, the admin, the browsable API and Swagger UI all work, and none of them makes the
browser refuse anything (the `new_page` fixture fails a test on any violation)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from sessions_app.models import WingmanMatch, WingmanSession
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.ops.test_security_headers import STRICT, parse_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def headers_of(response) -> dict:
    return {name.lower(): value for name, value in response.all_headers().items()}


def policy_of(response) -> dict:
    return parse_policy(headers_of(response)["content-security-policy"])


def test_it_catches_a_violation(live_server, new_page, policy_violations, alice):
    """The watcher itself: an inline script and an inline style are refused and reported."""
    page = new_page()
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert policy_of(response) == STRICT
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
    }""")
    assert page.evaluate("window.__ran === undefined")  # the inline script did not run
    found = "\n".join(policy_violations.take())
    assert "script-src-elem refused inline" in found
    assert "style-src-attr refused inline" in found


def test_it_shows_the_participant_pages_without_violations(live_server, new_page, alice, bob, make_session):
    session = make_session(starts_in=-timedelta(minutes=5), venue_name="Café Luna")
    make_session(starts_in=-timedelta(days=8), venue_name="Old Pier", status="cancelled", cancellation_reason="rain")
    page = new_page()
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "permissions-policy" in headers_of(response)
    expect(page.locator("h1")).to_have_text("Log in")
    log_in(page, live_server, "alice")
    expect(page.locator("h1").first).to_be_visible()

    page.click("nav >> text=History")
    expect(page.locator("#history-results .row")).to_have_count(2)
    page.select_option("#id_status", "cancelled")  # an HTMX swap
    expect(page.locator("#history-results .row")).to_have_count(1)

    page.click("nav >> text=Schedule")
    expect(page.locator("#id_venue_name")).to_be_visible()
    page.click("nav >> text=Progress")
    expect(page.locator("figure.chart svg")).to_be_visible()

    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.click("button[data-action=check-in]")  # HTMX swaps the panel
    expect(page.get_by_test_id("status")).to_have_text("In progress")
    page.locator("#id_notes").press_sequentially("Window seats.", delay=5)  # autosave, an HTMX post
    expect(page.locator("#notes-feedback")).to_have_text("Saved", timeout=5_000)
    assert WingmanSession.objects.get(pk=session.pk).notes == "Window seats."

    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    assert policy_of(response) == STRICT
    expect(page.locator("h1")).to_have_text("Nothing here")


def test_it_shows_the_admin_without_violations(live_server, new_page, session):
    User.objects.create_superuser("root", "root@example.com", PASSWORD)  # (the Moderators group is flushed here)
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(f"{live_server.url}/admin/sessions_app/wingmansession/")
    expect(page.locator("#result_list")).to_contain_text(session.venue_name)
    page.locator("#result_list input.action-select").first.check()  # the admin's own scripts at work
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    response = page.goto(f"{live_server.url}/admin/sessions_app/wingmansession/{session.pk}/change/")
    assert policy_of(response) == STRICT  # the admin needs no exception
    expect(page.locator("form.moderation-button button").first).to_be_visible()
    display = page.locator("form.moderation-button").first.evaluate("form => getComputedStyle(form).display")
    assert display == "inline"  # the moderation styles came from their static file

    page.click("form.moderation-button button:has-text('Cancel')")  # the action's own form page
    page.fill("textarea[name=reason], input[name=reason]", "venue closed")
    page.click("input[name=apply]")
    expect(page.locator(".messagelist")).to_be_visible()
    assert WingmanSession.objects.get(pk=session.pk).status == "cancelled"

    # An edit that goes through a service (match_set_status), now that the match has no open session.
    page.goto(f"{live_server.url}/admin/sessions_app/wingmanmatch/{session.match_id}/change/")
    page.select_option("#id_status", "ended")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    assert WingmanMatch.objects.get(pk=session.match_id).status == "ended"


def test_it_shows_the_browsable_api_without_violations(live_server, new_page, alice, session):
    page = new_page()
    log_in(page, live_server, "alice")
    for path in ("/api/me/", f"/api/sessions/{session.pk}/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200 and headers_of(response)["content-type"].startswith("text/html"), path
        assert policy_of(response) == {**STRICT, "style-src-attr": ["'unsafe-inline'"]}, path
        expect(page.locator(".response-info")).to_contain_text('"id"')
    expect(page.locator(".response-info")).to_contain_text(session.venue_name)


def test_it_shows_swagger_ui_without_violations(live_server, new_page, alice):
    page = new_page()
    response = page.goto(f"{live_server.url}/api/docs/")
    assert policy_of(response) == {**STRICT, "img-src": ["'self'", "data:"]}
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/api/sessions/{id}/confirm/")).to_have_count(1)
    page.locator(".opblock-summary-path", has_text="/api/me/stats/").click()  # expand one operation
    expect(page.locator(".opblock.is-open .responses-wrapper")).to_be_visible()
