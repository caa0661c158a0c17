"""axe-core on every page, with JavaScript on and off: no WCAG 2.0/2.1/2.2 A or AA violation.

Gated: the rules tagged wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa, on the product's own pages
(login, dashboard, history, schedule, progress, settings, notifications, the session page in
every state, the error pages). Reported, not gated: axe's best-practice rules. The Django admin,
the browsable API and Swagger UI are third-party pages: their WCAG violations are held to the
baseline in axe_baseline.json (rule id -> elements, per page) and may only shrink
(WINGMAN_AXE_RECORD_BASELINE=1 writes the file anew from a run).

Every run writes test-artifacts/axe-report.json and axe-report.md: the figures per page.
"""

import json
import os
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from notifications.emails import unsubscribe_token
from sessions_app import services
from tests.browser.axe import block_own_scripts, counts, describe, run_axe, split
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASELINE = os.path.join(os.path.dirname(__file__), "axe_baseline.json")


@dataclass
class Page:
    path: str
    viewer: str | None  # who is logged in (None: nobody)
    status: int = 200


def build_world(alice, bob, make_session, carol_match) -> dict[str, Page]:
    """The demo in miniature: the session page in each state, lists with every kind of row.

    Sessions are moved through the services, as people would; each Page says who looks at it."""
    carol, dave = carol_match.user1, carol_match.user2
    now = timezone.now()
    ids = {}

    def make(name, **options):
        ids[name] = make_session(**options).pk
        return ids[name]

    make("scheduled", starts_in=timedelta(days=3), venue_name="Harbour Lights")
    make("check_in_open", starts_in=timedelta(minutes=20), venue_name="Corner Coffee House")

    # bob checks in, alice never comes: bob reports her (finished before alice's session runs)
    make("no_show", starts_in=-timedelta(minutes=40), venue_name="The Lantern")
    services.session_check_in(session_id=ids["no_show"], user=bob)
    services.session_report_no_show(session_id=ids["no_show"], user=bob)

    make("completed", starts_in=-timedelta(hours=3), venue_name="Old Pier")
    services.session_confirm(session_id=ids["completed"], user=alice)
    services.session_confirm(session_id=ids["completed"], user=bob)

    make("cancelled", starts_in=timedelta(days=4), venue_name="Rooftop Bar")
    services.session_cancel(session_id=ids["cancelled"], user=alice, reason="Rain all evening")

    make("disputed", starts_in=timedelta(days=5), venue_name="The Book Nook")
    services.session_cancel(session_id=ids["disputed"], user=alice, reason="Feeling unwell")
    services.session_dispute(session_id=ids["disputed"], user=bob, reason="Third cancellation in a row")

    make("reschedule", starts_in=timedelta(days=2), venue_name="Café Luna")
    services.session_reschedule_propose(session_id=ids["reschedule"], user=bob,
                                        scheduled_time=now + timedelta(days=3, hours=2), venue_name="Green Park")

    make("in_progress", starts_in=-timedelta(minutes=5), venue_name="Market Hall")
    services.session_check_in(session_id=ids["in_progress"], user=alice)
    services.notes_update(session_id=ids["in_progress"], user=alice, notes="Window seats; I open with the menu.")

    # carol and dave are both in, carol has confirmed dave: dave's turn
    make("awaiting_confirmation", of_match=carol_match, starts_in=-timedelta(minutes=50), venue_name="Night Owl")
    services.session_check_in(session_id=ids["awaiting_confirmation"], user=carol)
    services.session_check_in(session_id=ids["awaiting_confirmation"], user=dave)
    services.session_confirm(session_id=ids["awaiting_confirmation"], user=carol)

    pages = {
        "login": Page("/accounts/login/", None),
        "dashboard": Page("/", "alice"),
        "history": Page("/sessions/", "alice"),
        "schedule": Page("/sessions/new/", "alice"),
        "progress": Page("/progress/", "alice"),
        "settings": Page("/settings/", "alice"),
        "notifications": Page("/notifications/", "bob"),
        "notification-settings": Page("/notifications/settings/", "alice"),
        "unsubscribe": Page(f"/notifications/unsubscribe/{unsubscribe_token(user_id=alice.pk, kind='reminder_1h')}/",
                            None),
        "403": Page(f"/sessions/{ids['scheduled']}/", "carol", 403),
        "404": Page("/no-such-page/", "alice", 404),
        "500": Page(f"/sessions/{ids['scheduled']}/", "alice", 500),
        "503": Page(f"/sessions/{ids['scheduled']}/", "alice", 503),
    }
    viewers = {"awaiting_confirmation": "dave", "no_show": "alice"}
    for state, pk in ids.items():
        pages[f"session-{state.replace('_', '-')}"] = Page(f"/sessions/{pk}/", viewers.get(state, "alice"))
    return pages


PAGES = ["login", "dashboard", "history", "schedule", "progress", "settings", "notifications",
         "notification-settings", "unsubscribe", "session-scheduled", "session-check-in-open",
         "session-in-progress", "session-awaiting-confirmation", "session-completed", "session-cancelled",
         "session-no-show", "session-reschedule", "session-disputed", "403", "404", "500", "503"]


@pytest.fixture(scope="module")
def axe_report():
    """Every page's figures, written to test-artifacts/ when the module is done."""
    figures: dict[str, dict] = {}
    yield figures
    if not figures:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    lines = ["| page | WCAG violations | best-practice (reported) | rules |", "|---|---|---|---|"]
    for name, page in sorted(figures.items()):
        rules = ", ".join(f"{rule} {n}" for rule, n in {**page["wcag"], **page["best_practice"]}.items())
        lines.append(f"| {name} | {sum(page['wcag'].values())} | {sum(page['best_practice'].values())} "
                     f"| {rules or '—'} |")
    (ARTIFACTS / "axe-report.md").write_text("\n".join(lines) + "\n")


def log_in_by_cookie(context, live_server, username: str) -> None:
    """A logged-in browser without the login form (the login page has a test of its own)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.fixture
def world(alice, bob, carol_match, make_session):
    return build_world(alice, bob, make_session, carol_match)


def _failing(error):
    return lambda: mock.patch("sessions_app.selectors.session_get_for_participant", side_effect=error)


# How each page's status comes about: the 500 and 503 pages from a failing read of the session.
FAULTS = {
    200: nullcontext, 403: nullcontext, 404: nullcontext,
    500: _failing(RuntimeError("a bug")),
    503: _failing(OperationalError("server closed the connection unexpectedly")),
}


@pytest.mark.parametrize("javascript", ["js-on", "js-off"])
@pytest.mark.parametrize("name", PAGES)
def test_it_has_no_wcag_violations(live_server, new_page, world, axe_report, name, javascript):
    target = world[name]
    page = new_page()
    if target.viewer:
        log_in_by_cookie(page.context, live_server, target.viewer)
    if javascript == "js-off":
        block_own_scripts(page, live_server.url)
    with FAULTS[target.status]():
        response = page.goto(live_server.url + target.path)
    assert response.status == target.status, (name, response.status)
    expect(page.locator("h1").first).to_be_visible()
    scripts_ran = page.evaluate("typeof window.htmx !== 'undefined'")
    assert scripts_ran == (javascript == "js-on" and target.status < 500)  # (the 500 and 503 pages have none)

    wcag, best_practice = split(run_axe(page))
    axe_report[f"{name} ({javascript})"] = {"wcag": counts(wcag), "best_practice": counts(best_practice)}
    if wcag:
        pytest.fail(f"{name} with JavaScript {javascript[3:]}: axe found WCAG violations:\n{describe(wcag)}",
                    pytrace=False)


# --- third-party pages: held to the recorded baseline -------------------------------------------------

def third_party_pages(session_id) -> dict[str, str]:
    return {
        "admin-login": "/admin/login/",
        "admin-index": "/admin/",
        "admin-sessions": "/admin/sessions_app/wingmansession/",
        "admin-session": f"/admin/sessions_app/wingmansession/{session_id}/change/",
        "admin-disputes": "/admin/sessions_app/dispute/",
        "api-me": "/api/me/",
        "api-session": f"/api/sessions/{session_id}/",
        "api-sessions": "/api/sessions/",
        "swagger": "/api/docs/",
    }


def test_third_party_pages_stay_within_the_axe_baseline(live_server, new_page, world, axe_report, alice):
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    session_id = world["session-in-progress"].path.split("/")[2]
    found = {}
    for name, path in third_party_pages(session_id).items():
        viewer = "alice" if path.startswith("/api/") else "root"
        page = new_page()
        if name != "admin-login":
            log_in_by_cookie(page.context, live_server, viewer)
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, response.status)
        if name == "swagger":
            expect(page.locator(".opblock").first).to_be_visible()
        wcag, best_practice = split(run_axe(page, cssom=False))
        found[name] = counts(wcag)
        axe_report[f"{name} (baseline)"] = {"wcag": counts(wcag), "best_practice": counts(best_practice)}
        page.context.close()

    if os.environ.get("WINGMAN_AXE_RECORD_BASELINE") == "1":
        with open(BASELINE, "w") as file:
            file.write(json.dumps(found, indent=2, sort_keys=True) + "\n")
    with open(BASELINE) as file:
        baseline = json.load(file)
    grown = [f"{page}: {rule} {n} (baseline {baseline.get(page, {}).get(rule, 0)})"
             for page, rules in found.items() for rule, n in rules.items()
             if n > baseline.get(page, {}).get(rule, 0)]
    assert not grown, "axe finds more than the recorded baseline on third-party pages:\n" + "\n".join(grown)


def test_axe_finds_what_it_should(live_server, new_page, db):
    """The gate itself, on a real page under the CSP: the old green on light green (4.43:1) is a WCAG
    failure, a heading that skips levels a best-practice one."""
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("""() => {
        const low = document.createElement("p");
        low.textContent = "Completed";
        low.style.color = "#1b7f3b";  // (CSSOM, which the CSP allows; a style="" attribute it would refuse)
        low.style.background = "#e3f4e8";
        const skipped = document.createElement("h4");
        skipped.textContent = "A heading three levels down";
        document.querySelector("main").append(low, skipped);
    }""")
    wcag, best_practice = split(run_axe(page))
    assert counts(wcag) == {"color-contrast": 1}
    assert "4.43" in wcag[0]["nodes"][0]["summary"]
    assert counts(best_practice) == {"heading-order": 1}


def test_no_page_asks_for_its_icon_in_vain(live_server, new_page, alice):
    """Every icon a page names loads, and /favicon.ico (asked for where a page names none, as the
    admin's) gives the icon. (Chromium keeps icons across contexts, so its own fetches are not counted
    on: each is fetched here.)"""
    page = new_page()
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(f"{live_server.url}/accounts/login/")
    named = page.eval_on_selector_all("link[rel=icon]", "links => links.map((link) => link.href)")
    assert [href.removeprefix(live_server.url) for href in named] == ["/static/img/favicon.svg",
                                                                     "/static/img/favicon.ico"]
    for href in named:
        assert page.request.get(href).status == 200, href
    page.goto(f"{live_server.url}/admin/login/")
    assert not failed
    root_icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert root_icon.status == 200 and root_icon.url.endswith("/static/img/favicon.ico")
    assert root_icon.body()[:4] == b"\x00\x00\x01\x00"
