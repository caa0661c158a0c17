from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import services
from tests.conftest import web_client


def test_it_shows_the_next_session_and_stats(alice_web, alice, session, make_session,
                                             django_assert_max_num_queries):
    past = make_session(starts_in=-timedelta(days=3), venue_name="Old Cellar")
    services.session_check_in(session_id=past.pk, user=alice)
    with django_assert_max_num_queries(7):
        response = alice_web.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your session now" in html  # the in-progress one wins over the scheduled one
    assert f"/sessions/{past.pk}/" in html
    assert f"/sessions/{session.pk}/" in html  # upcoming
    assert "Reputation" in html and "Completion rate" in html


def test_it_shows_recent_history(alice_web, alice, bob, due_session):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    html = alice_web.get("/").content.decode()
    assert "No session planned" in html
    assert "Recent" in html and f"/sessions/{due_session.pk}/" in html
    assert '<strong data-testid="nav-reputation">10</strong>' in html


def test_it_shows_an_outsider_nothing_of_others(carol_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        response = carol_web.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The Blue Door" not in html
    assert str(session.pk) not in html
    assert "No session planned" in html


def test_it_counts_only_the_viewers_own_absences(alice_web, bob_web, alice, bob, make_session):
    from django.utils import timezone

    from sessions_app import services

    now = timezone.now()
    absent_bob = make_session(starts_in=-timedelta(minutes=30), status="in_progress", user1_checked_in_at=now,
                              started_at=now, running_since=now)
    services.session_report_no_show(session_id=absent_bob.pk, user=alice)

    def own_no_shows(client) -> str:
        page = client.get("/").content.decode()
        return page.split('data-testid="own-no-shows">', 1)[1].split("<", 1)[0]

    assert own_no_shows(alice_web) == "0"  # she reported bob; she was there
    assert own_no_shows(bob_web) == "1"


def needs_action(html: str) -> str:
    start = html.index('data-testid="needs-action"')
    return html[start:html.index("</section>", start)]


def test_the_current_card_leads_with_the_next_step(alice_web, alice, make_session):
    s = make_session(starts_in=-timedelta(minutes=5))
    services.session_check_in(session_id=s.pk, user=alice)
    html = alice_web.get("/").content.decode()
    card = html[html.index('aria-labelledby="current-h"'):html.index("</section>")]
    assert f'<form method="post" action="/sessions/{s.pk}/confirm/" data-testid="current-next-step">' in card
    assert '<button class="btn primary" type="submit" data-action="confirm">Confirm Bob completed their challenge' \
        in card
    assert f'<a href="/sessions/{s.pk}/">Open the session</a>' in card  # a plain link beside it
    assert card.count("btn primary") == 1 and "starts in" not in card
    response = alice_web.post(f"/sessions/{s.pk}/confirm/")  # without JavaScript: to the session page
    assert response["Location"] == f"/sessions/{s.pk}/"
    s.refresh_from_db()
    assert s.user2_completed_confirmed_by_user1


def test_the_current_card_says_when_check_in_opens(alice_web, session):
    html = alice_web.get("/").content.decode()
    assert 'data-testid="current-next-step">Check-in opens at' in html
    assert f'<a class="btn primary" href="/sessions/{session.pk}/">Open the session</a>' in html


def test_it_lists_the_sessions_that_need_the_viewer(alice_web, alice, bob, make_session):
    running = make_session(starts_in=-timedelta(minutes=15), venue_name="Corner Coffee House")
    services.session_check_in(session_id=running.pk, user=alice)
    due = make_session(starts_in=-timedelta(minutes=20), venue_name="The Book Nook")  # time passed: confirm
    moved = make_session(starts_in=timedelta(days=7), venue_name="Jazz Cellar")
    services.session_reschedule_propose(session_id=moved.pk, user=bob,
                                        scheduled_time=timezone.now() + timedelta(days=8))
    mine = make_session(starts_in=timedelta(days=5), venue_name="Own Proposal")
    services.session_reschedule_propose(session_id=mine.pk, user=alice,
                                        scheduled_time=timezone.now() + timedelta(days=6))
    make_session(starts_in=timedelta(days=2), venue_name="Later On")  # nothing to do yet
    listed = needs_action(alice_web.get("/").content.decode())
    assert listed.count('<li class="row">') == 2  # the running one leads the current card instead
    assert listed.index("The Book Nook") < listed.index("Jazz Cellar")  # soonest first
    assert '<span class="row-todo" data-step="confirm">Confirm Bob completed their challenge</span>' in listed
    assert '<span class="row-todo" data-step="accept_reschedule">Accept the new time</span>' in listed
    assert f'href="/sessions/{due.pk}/"' in listed and f'href="/sessions/{moved.pk}/"' in listed
    for quiet in ("Corner Coffee House", "Own Proposal", "Later On"):
        assert quiet not in listed
    # bob's side: he checks in to the running one, confirms the due one; alice's proposal is his to answer
    bobs = needs_action(web_client(bob).get("/").content.decode())
    assert "The Book Nook" in bobs and "Own Proposal" in bobs and "Jazz Cellar" not in bobs


def test_the_list_costs_the_same_queries_however_long(alice_web, alice, bob, make_session,
                                                     django_assert_num_queries):
    make_session(starts_in=-timedelta(minutes=20), venue_name="Due 0")
    with CaptureQueriesContext(connection) as one:
        alice_web.get("/")
    for i in range(1, 6):
        make_session(starts_in=-timedelta(minutes=20 + i), venue_name=f"Due {i}")
    with django_assert_num_queries(len(one.captured_queries)):
        html = alice_web.get("/").content.decode()
    assert needs_action(html).count('<li class="row">') == 5  # six due; the first leads the current card
    assert len(one.captured_queries) <= 8


def test_it_says_when_nothing_needs_the_viewer(alice_web, session):
    assert "Nothing waits for you." in needs_action(alice_web.get("/").content.decode())


def test_the_current_card_shows_the_new_time_it_would_accept(alice_web, bob, session):
    services.session_reschedule_propose(session_id=session.pk, user=bob, venue_name="Green Park",
                                        scheduled_time=timezone.now() + timedelta(days=2))
    html = alice_web.get("/").content.decode()
    card = html[html.index('aria-labelledby="current-h"'):html.index("</section>")]
    assert "Bob proposes a new time:" in card and "at Green Park." in card
    assert card.index("Bob proposes") < card.index('data-action="reschedule-accept">Accept the new time')
