"""Scheduling through the form, and the history filters swapped in by HTMX."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import WingmanSession
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_schedules_a_session_and_finds_it_in_the_history(live_server, new_page, alice, match, easy_challenge,
                                                            hard_challenge, make_session):
    make_session(starts_in=-timedelta(days=2), venue_name="Rainy Terrace", status="cancelled",
                             cancellation_reason="rain")
    page = new_page()
    log_in(page, live_server, "alice")
    page.click("text=Schedule")

    # a time in the past: the service refuses, the form says why and keeps the input
    page.fill("#id_venue_name", "Harbour <b>Bar</b>")
    page.fill("#id_scheduled_time", (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_buddy_challenge", str(hard_challenge.pk))
    page.click("button[type=submit]")
    expect(page.locator(".errors")).to_contain_text("The scheduled time must be in the future.")
    expect(page.locator("#id_venue_name")).to_have_value("Harbour <b>Bar</b>")
    screenshot(page, "desktop-schedule-error")

    page.fill("#id_scheduled_time", (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Session scheduled.")
    session = WingmanSession.objects.get(venue_name="Harbour <b>Bar</b>")
    assert page.url.endswith(f"/sessions/{session.pk}/")
    assert session.user1_challenge_id == easy_challenge.pk and session.user2_challenge_id == hard_challenge.pk

    page.click("nav >> text=History")
    rows = page.locator("#history-results .row")
    expect(rows).to_have_count(2)
    page.select_option("#id_status", "cancelled")  # HTMX swaps the results and keeps the URL in step
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rainy Terrace")
    expect(page).to_have_url(re.compile(r"/sessions/\?status=cancelled&"))
    screenshot(page, "desktop-history-filtered")
    page.reload()  # the pushed URL is a real page
    expect(rows).to_have_count(1)
    expect(page.locator("#id_status")).to_have_value("cancelled")
