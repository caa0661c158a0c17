from sessions_app import services

from .conftest import assert_problem


def test_it_returns_the_timeline(alice_api, alice, bob, due_session):
    services.session_check_in(session_id=due_session.pk, user=alice)
    services.notes_update(session_id=due_session.pk, user=bob, notes="hi")
    response = alice_api.get(f"/api/sessions/{due_session.pk}/events/")
    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["results"]] == ["checked_in", "started", "notes_updated"]
    assert body["results"][0]["actor_id"] == alice.pk
    assert body["results"][2]["actor_name"] == "Bob"


def test_it_refuses_an_outsider(carol_api, alice, due_session):
    services.session_check_in(session_id=due_session.pk, user=alice)
    assert_problem(carol_api.get(f"/api/sessions/{due_session.pk}/events/"), 403, "not_participant")


def test_it_answers_404_and_422(alice_api, db):
    assert_problem(alice_api.get("/api/sessions/2b3c1f9e-0000-4000-8000-000000000000/events/"), 404)
    assert_problem(alice_api.get("/api/sessions/nope/events/"), 422, "invalid_id")


def test_it_reads_within_the_query_budget(alice_api, alice, due_session, django_assert_max_num_queries):
    for text in ("a", "b", "c", "d"):
        services.notes_update(session_id=due_session.pk, user=alice, notes=text)
    with django_assert_max_num_queries(4):
        assert alice_api.get(f"/api/sessions/{due_session.pk}/events/").json()["count"] == 4
