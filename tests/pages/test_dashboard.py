from datetime import timedelta

from sessions_app import services


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
