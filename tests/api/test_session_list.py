from datetime import timedelta

from django.utils import timezone

from .conftest import assert_problem


def test_it_lists_the_callers_sessions_as_summaries(alice_api, session, due_session):
    response = alice_api.get("/api/sessions/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(session.pk), str(due_session.pk)]
    assert "notes" not in body["results"][0]
    assert body["results"][0]["participants"]["user2"]["name"] == "Bob"


def test_it_shows_an_outsider_nothing(carol_api, session, due_session):
    body = carol_api.get("/api/sessions/").json()
    assert body["count"] == 0 and body["results"] == []
    assert carol_api.get(f"/api/sessions/?match={session.match_id}").json()["results"] == []


def test_it_filters_by_status_and_completed(alice_api, make_session):
    done = make_session(starts_in=-timedelta(days=2), status="completed", completed_at=timezone.now())
    make_session()
    assert [s["id"] for s in alice_api.get("/api/sessions/?status=completed").json()["results"]] == [str(done.pk)]
    assert [s["id"] for s in alice_api.get("/api/sessions/?completed=true").json()["results"]] == [str(done.pk)]
    assert alice_api.get("/api/sessions/?completed=false").json()["count"] == 1


def test_it_filters_by_date_and_match(alice_api, make_session, carol_match):
    old = make_session(starts_in=-timedelta(days=10))
    make_session(starts_in=timedelta(days=3))
    day = (old.scheduled_time - timedelta(days=1)).date().isoformat()
    later = (old.scheduled_time + timedelta(days=1)).date().isoformat()
    body = alice_api.get(f"/api/sessions/?date_from={day}&date_to={later}").json()
    assert [s["id"] for s in body["results"]] == [str(old.pk)]
    assert alice_api.get(f"/api/sessions/?match={old.match_id}").json()["count"] == 2
    assert alice_api.get(f"/api/sessions/?match={carol_match.pk}").json()["count"] == 0


def test_it_sorts(alice_api, make_session):
    first = make_session(starts_in=timedelta(days=1))
    second = make_session(starts_in=timedelta(days=2))
    ids = [s["id"] for s in alice_api.get("/api/sessions/?ordering=scheduled_time").json()["results"]]
    assert ids == [str(first.pk), str(second.pk)]
    ids = [s["id"] for s in alice_api.get("/api/sessions/?ordering=-scheduled_time").json()["results"]]
    assert ids == [str(second.pk), str(first.pk)]


def test_it_paginates_with_limit_and_offset(alice_api, make_session):
    for days in range(5):
        make_session(starts_in=timedelta(days=days + 1))
    body = alice_api.get("/api/sessions/?limit=2&offset=2").json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "offset=4" in body["next"] and "limit=2" in body["next"]
    assert body["previous"] is not None


def test_it_refuses_malformed_filters(alice_api, db):
    body = assert_problem(alice_api.get("/api/sessions/?status=bogus&date_from=yesterday&match=nope"), 422,
                          "invalid_input")
    assert set(body["errors"]) == {"status", "date_from", "match"}
    assert_problem(alice_api.get("/api/sessions/?limit=abc"), 422, "invalid_input")
    assert_problem(alice_api.get("/api/sessions/?offset=-1"), 422, "invalid_input")
    assert_problem(alice_api.get("/api/sessions/?ordering=venue_name"), 422, "invalid_input")
    assert "match" in assert_problem(alice_api.get("/api/sessions/?match="), 422, "invalid_input")["errors"]


def test_it_lists_a_page_within_4_queries_whatever_its_size(alice_api, make_session, django_assert_max_num_queries):
    for days in range(30):
        make_session(starts_in=timedelta(days=days + 1))
    with django_assert_max_num_queries(4):
        assert len(alice_api.get("/api/sessions/?limit=25").json()["results"]) == 25
    with django_assert_max_num_queries(4):
        assert alice_api.get("/api/sessions/?date_from=2020-01-01&status=scheduled").json()["count"] == 30


def test_it_lists_within_4_queries_with_the_session_cookie(client, alice, make_session, go_cold,
                                                           django_assert_max_num_queries):
    for days in range(10):
        make_session(starts_in=timedelta(days=days + 1))
    client.force_login(alice)
    go_cold()
    with django_assert_max_num_queries(4):
        assert client.get("/api/sessions/").json()["count"] == 10


def test_it_requires_authentication(anon, db):
    assert_problem(anon.get("/api/sessions/"), 401)


def test_it_refuses_an_empty_offset_or_limit(alice, client):
    client.force_login(alice)
    for query in ("offset=", "limit="):
        response = client.get(f"/api/sessions/?{query}")
        assert response.status_code == 422, query
        assert response["Content-Type"].startswith("application/problem+json")
