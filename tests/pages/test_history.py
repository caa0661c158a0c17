from datetime import timedelta

from sessions_app import services
from tests.pages.conftest import HTMX


def test_it_lists_the_users_sessions(alice_web, make_session, django_assert_max_num_queries):
    sessions = [make_session(starts_in=timedelta(days=i), venue_name=f"Venue {i}") for i in range(1, 4)]
    with django_assert_max_num_queries(5):
        response = alice_web.get("/sessions/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 sessions" in html
    for s in sessions:
        assert f"/sessions/{s.pk}/" in html
    assert "<html" in html


def test_it_filters_by_status(alice_web, alice, make_session):
    open_one = make_session(venue_name="Still Open")
    cancelled = make_session(venue_name="Called Off")
    services.session_cancel(session_id=cancelled.pk, user=alice, reason="rain")
    html = alice_web.get("/sessions/?status=cancelled").content.decode()
    assert "Called Off" in html and "Still Open" not in html
    html = alice_web.get("/sessions/?completed=false").content.decode()
    assert "Called Off" in html and "Still Open" in html
    assert open_one.pk


def test_it_filters_by_dates_in_the_users_time_zone(alice_web, make_session):
    make_session(starts_in=timedelta(days=10), venue_name="Far Away")
    make_session(starts_in=timedelta(hours=3), venue_name="Soon")
    later = (make_session(starts_in=timedelta(days=9)).scheduled_time).date().isoformat()
    html = alice_web.get(f"/sessions/?date_from={later}").content.decode()
    assert "Far Away" in html and "Soon" not in html


def test_it_shows_invalid_filters(alice_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = alice_web.get("/sessions/?status=bogus&date_from=yesterday")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Some filters are not valid" in html
    assert "Must be a date, YYYY-MM-DD." in html
    assert "The Blue Door" not in html
    fragment = alice_web.get("/sessions/?date_to=2027-02-30", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 422  # htmx swaps 422 in (static/js/wingman.js)
    assert "Some filters are not valid" in fragment.content.decode()


def test_it_paginates(alice_web, make_session):
    for i in range(23):
        make_session(starts_in=timedelta(days=i + 1), venue_name=f"Bar {i:02d}")
    first = alice_web.get("/sessions/").content.decode()
    assert "Page 1 of 2" in first and "Bar 22" in first and "Bar 00" not in first
    second = alice_web.get("/sessions/?page=2").content.decode()
    assert "Bar 00" in second and "Bar 22" not in second


def test_it_answers_htmx_with_the_results_only(alice_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = alice_web.get("/sessions/?status=scheduled", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="history-results"')
    assert "The Blue Door" in html
    assert "HX-Request" in response["Vary"]


def test_it_shows_an_outsider_none_of_alices_sessions(carol_web, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = carol_web.get(f"/sessions/?match={session.match_id}")
    html = response.content.decode()
    assert "0 sessions" in html
    assert "The Blue Door" not in html and str(session.pk) not in html


def test_it_answers_an_outsiders_htmx_filter_with_their_own_sessions_only(carol_web, session, carol_match,
                                                                          django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = carol_web.get("/sessions/?status=scheduled", **HTMX)
    html = response.content.decode()
    assert "0 sessions" in html and "The Blue Door" not in html
