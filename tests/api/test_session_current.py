from datetime import timedelta

from sessions_app import services

from .conftest import assert_problem


def test_it_returns_the_session_in_progress_first(alice_api, alice, make_session):
    make_session(starts_in=timedelta(hours=2))
    running = make_session(starts_in=-timedelta(minutes=5))
    services.session_start(session_id=running.pk, user=alice)
    response = alice_api.get("/api/sessions/current/")
    assert response.status_code == 200
    assert response.json()["id"] == str(running.pk)
    assert response.json()["status"] == "in_progress"
    assert response["ETag"]


def test_it_returns_the_next_scheduled_one(bob_api, make_session):
    later = make_session(starts_in=timedelta(days=2))
    sooner = make_session(starts_in=timedelta(hours=2))
    assert bob_api.get("/api/sessions/current/").json()["id"] == str(sooner.pk) != str(later.pk)


def test_it_answers_404_when_there_is_none(alice_api, carol_api, session):
    assert_problem(carol_api.get("/api/sessions/current/"), 404, "no_current_session")
    session.status = "cancelled"
    session.save()
    assert_problem(alice_api.get("/api/sessions/current/"), 404, "no_current_session")


def test_it_reads_within_4_queries(alice_api, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert alice_api.get("/api/sessions/current/").status_code == 200
