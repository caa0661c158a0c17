from sessions_app import services

from .conftest import assert_problem


def test_it_returns_the_timeline(as_alice, alice, bob, due_session):
    services.session_check_in(session_id=due_session.pk, user=alice)
    services.notes_update(session_id=due_session.pk, user=bob, notes="hi")
    response = as_alice.get(f"/api/sessions/{due_session.pk}/events/")
    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["results"]] == ["checked_in", "started", "notes_updated"]
    assert body["results"][0]["actor_id"] == alice.pk
    assert body["results"][2]["actor_name"] == "Bob"


def test_it_refuses_an_outsider(as_carol, alice, due_session):
    services.session_check_in(session_id=due_session.pk, user=alice)
    assert_problem(as_carol.get(f"/api/sessions/{due_session.pk}/events/"), 403, "not_participant")


def test_it_answers_404_and_422(as_alice, db):
    assert_problem(as_alice.get("/api/sessions/2b3c1f9e-0000-4000-8000-000000000000/events/"), 404)
    assert_problem(as_alice.get("/api/sessions/nope/events/"), 422, "invalid_id")


def test_it_reads_within_the_query_budget(as_alice, alice, due_session, django_assert_max_num_queries):
    for text in ("a", "b", "c", "d"):
        services.notes_update(session_id=due_session.pk, user=alice, notes=text)
    with django_assert_max_num_queries(4):
        assert as_alice.get(f"/api/sessions/{due_session.pk}/events/").json()["count"] == 4
