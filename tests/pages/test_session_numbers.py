"""Numbers and words on the pages that agree with each other and mean what they say."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from sessions_app import services
from sessions_app.models import UserProfile
from sessions_app.templatetags.wingman import duration
from tests.pages.conftest import HTMX
from tests.pages.test_schedule import form_data


def page(client, session, **headers) -> str:
    return client.get(f"/sessions/{session.pk}/", **headers).content.decode()


def clock(html: str) -> str:
    """The head card's clock, as text."""
    match = re.search(r'data-testid="clock">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_after_check_in_the_clock_says_in_progress_too(alice_web, alice, make_session):
    s = make_session(starts_in=timedelta(minutes=11))
    services.session_check_in(session_id=s.pk, user=alice)
    html = page(alice_web, s)
    assert 'data-testid="status">In progress' in html
    assert clock(html) == "started 0\xa0minutes ago"
    assert "starts in" not in html


def test_before_the_start_the_clock_counts_down(alice_web, make_session):
    html = page(alice_web, make_session(starts_in=timedelta(minutes=40, seconds=30)))
    assert 'data-testid="status">Scheduled' in html
    assert clock(html) == "starts in 40\xa0minutes"


def test_the_appointment_and_the_booking_are_worded_apart(alice_web, make_session):
    s = make_session(starts_in=-timedelta(minutes=15, seconds=30))
    services.notes_update(session_id=s.pk, user=s.user1, notes="x")  # any event
    html = page(alice_web, s)
    assert clock(html) == "was due 15\xa0minutes ago"
    assert "scheduled 15" not in html


def test_the_timeline_says_when_the_session_was_booked(alice_web, alice, match, easy_challenge, hard_challenge):
    alice_web.post("/sessions/new/", form_data(match, easy_challenge, hard_challenge))
    s = alice.sessions_as_user1.get()
    html = page(alice_web, s)
    assert "<strong>Alice</strong> booked the session" in html
    assert "<strong>Alice</strong> scheduled" not in html


def test_the_completing_confirm_updates_the_header_reputation(bob_web, alice, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    assert '<strong data-testid="nav-reputation">0</strong>' in page(bob_web, due_session)
    answer = bob_web.post(f"/sessions/{due_session.pk}/confirm/", **HTMX).content.decode()
    assert '<strong data-testid="reputation">25</strong>' in answer
    # the header's reputation comes along out of band, with the new figure
    assert re.search(r'<span id="nav-reputation" class="rep" title="Your reputation" hx-swap-oob="true">'
                     r'Bob · <strong data-testid="nav-reputation">25</strong> rep</span>', answer)
    # and a full reload shows it too
    assert '<strong data-testid="nav-reputation">25</strong>' in page(bob_web, due_session)


def test_the_buddys_poll_carries_the_new_header_reputation(alice_web, alice, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    poll = page(alice_web, due_session, **HTMX)
    assert 'hx-swap-oob="true">Alice · <strong data-testid="nav-reputation">10</strong>' in poll
    assert UserProfile.objects.get(user=alice).reputation == 10


def test_averages_under_a_minute_are_said_so(alice_web, alice):
    UserProfile.objects.filter(user=alice).update(completed_sessions=2, total_active_seconds=70)
    html = alice_web.get("/progress/").content.decode()
    assert "<dt>Average duration</dt><dd>under a minute</dd>" in html
    assert [duration(s) for s in (0, 1, 59, 60, 3725)] == ["0 min", "under a minute", "under a minute",
                                                            "1 min", "1 h 02 min"]


def test_the_banner_goes_with_the_next_action(alice_web, match, easy_challenge, hard_challenge):
    when = timezone.now() + timedelta(minutes=20)
    data = form_data(match, easy_challenge, hard_challenge,
                     scheduled_time=when.astimezone(timezone.get_fixed_timezone(60)).strftime("%Y-%m-%dT%H:%M"))
    scheduled = alice_web.post("/sessions/new/", data, follow=True).content.decode()
    assert '<div id="messages">' in scheduled and "Session scheduled." in scheduled
    s = match.sessions.get()
    answer = alice_web.post(f"/sessions/{s.pk}/check-in/", **HTMX).content.decode()
    assert "You checked in." in answer
    assert '<div id="messages" hx-swap-oob="true"></div>' in answer  # the old banner is emptied
    poll = page(alice_web, s, **HTMX)
    assert 'id="messages"' not in poll  # a poll leaves the page's messages alone
    assert "Session scheduled." not in page(alice_web, s)  # shown once


def test_the_breadcrumb_ends_in_the_session(alice_web, session):
    html = page(alice_web, session)
    crumbs = html[html.index('<nav class="crumbs"'):html.index("</nav>", html.index('<nav class="crumbs"'))]
    local = session.scheduled_time.astimezone(ZoneInfo("Europe/Berlin"))  # alice's zone
    current = f'<span aria-current="page" data-testid="crumb-current">The Blue Door, {local:%a} {local.day} {local:%b}'
    assert crumbs.rstrip().endswith(current + "</span>")
    assert "Refresh" not in crumbs
    assert f'<a id="poller" class="refresh" href="/sessions/{session.pk}/"' in html  # still there, after it


def test_the_dashboard_counts_the_viewers_own_absences_as_such(alice_web, alice, make_session):
    UserProfile.objects.filter(user=alice).update(no_show_count=2, no_show_sessions=3)
    html = alice_web.get("/").content.decode()
    assert "<dt>Times you didn't show up</dt><dd data-testid=\"own-no-shows\">2</dd>" in html
